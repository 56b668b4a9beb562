//! Timers for member TTLs and token ends, as the Worker's Durable Object alarms: each token has
//! one alarm time, stored beside its entries, and this clock fires the due ones. It sleeps until
//! the soonest stored alarm; a write that sets a sooner one nudges it awake. Tokens need not be
//! in memory for their alarm to fire, and alarms survive restarts with the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use shared::Token;
use tokio::sync::{watch, Notify};

use crate::clock::now_ms;
use crate::store::Store;
use crate::tokens::Tokens;

/// Due tokens taken at once.
const BATCH: usize = 256;
/// The longest the clock sleeps without looking again.
const MAX_SLEEP_MS: u64 = 60_000;
/// How long a token whose alarm failed (its storage unreadable) is left before trying again.
const RETRY_MS: u64 = 10_000;

#[derive(Default)]
pub struct AlarmClock {
    wake: Notify,
    /// When the clock means to wake next; `u64::MAX` while it is firing alarms.
    target: AtomicU64,
}

impl AlarmClock {
    /// A token's alarm was stored for `at`: wake the clock if that is sooner than it planned.
    pub fn nudge(&self, at: u64) {
        if at < self.target.load(Ordering::Acquire) {
            self.wake.notify_one();
        }
    }

    /// Fires due alarms until shutdown.
    pub async fn run(
        self: Arc<Self>,
        tokens: Arc<Tokens>,
        store: Arc<Store>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut failing: HashMap<Token, u64> = HashMap::new();
        loop {
            // Any nudge from here on wakes the next sleep at once.
            self.target.store(u64::MAX, Ordering::Release);
            let now = now_ms();
            failing.retain(|_, until| *until > now);
            let due = store.due(now, BATCH).await.unwrap_or_default();
            let ready: Vec<Token> = due
                .iter()
                .filter(|t| !failing.contains_key(t))
                .copied()
                .collect();
            let fired = ready.len();
            for token in &ready {
                if let Err(why) = tokens.alarm(*token).await {
                    eprintln!("rendezvous: alarm of {token}: {why}");
                    failing.insert(*token, now + RETRY_MS);
                }
            }
            if due.len() == BATCH && fired > 0 {
                continue;
            }
            let next = match store.next_alarm().await {
                // A due alarm left is one that failed: look again when it may work.
                Ok(Some(at)) if at <= now => failing.values().min().copied().unwrap_or(now + 1_000),
                Ok(Some(at)) => at,
                Ok(None) => now + MAX_SLEEP_MS,
                Err(_) => now + 1_000,
            };
            let target = next.min(now + MAX_SLEEP_MS);
            self.target.store(target, Ordering::Release);
            let sleep = Duration::from_millis(target.saturating_sub(now_ms()));
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }
}
