//! Timers for member TTLs and token ends, as the Worker's Durable Object alarms: each token has
//! one alarm time, stored beside its entries (the core says when), and this loop fires the due
//! ones. It sleeps until the soonest stored alarm; a write that stores a sooner one nudges it
//! awake. Tokens need not be in memory for their alarm to fire, and alarms survive restarts
//! with the store. What firing does is the token's (`Fire`), so this knows nothing of tokens.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use shared::Token;
use tokio::sync::{watch, Notify};

use crate::now::Clock;
use crate::store::Store;

/// Due tokens taken at once.
const BATCH: usize = 256;
/// The longest the loop sleeps without looking again.
pub const MAX_SLEEP_MS: u64 = 60_000;
/// How often a replica that does not fire alarms looks whether it was elected to.
const FOLLOWER_LOOK_MS: u64 = 1_000;
/// How long a token whose alarm failed (its storage unreadable) is left before trying again.
const RETRY_MS: u64 = 10_000;

/// Fires one token's alarm: what the token does when its stored alarm comes due.
pub trait Fire: Send + Sync + 'static {
    fn fire(&self, token: Token) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

#[derive(Default)]
pub struct Alarms {
    wake: Notify,
    /// When the loop means to wake next; `u64::MAX` while it is firing alarms.
    target: AtomicU64,
}

impl Alarms {
    /// A token's alarm was stored for `at`: wake the loop if that is sooner than it planned.
    pub fn nudge(&self, at: u64) {
        if at < self.target.load(Ordering::Acquire) {
            self.wake.notify_one();
        }
    }

    /// Fires due alarms until shutdown.
    pub async fn run(
        self: Arc<Self>,
        fire: Arc<dyn Fire>,
        store: Arc<dyn Store>,
        clock: Clock,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut failing: HashMap<Token, u64> = HashMap::new();
        loop {
            // Any nudge from here on wakes the next sleep at once.
            self.target.store(u64::MAX, Ordering::Release);
            if !store.fires_alarms() {
                // Another replica sharing the store fires them; look again in a while in case
                // this one is elected meanwhile.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(FOLLOWER_LOOK_MS)) => continue,
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
            let now = clock();
            failing.retain(|_, until| *until > now);
            let due = store.due(now, BATCH).await.unwrap_or_default();
            let ready: Vec<Token> = due
                .iter()
                .filter(|t| !failing.contains_key(t))
                .copied()
                .collect();
            for token in &ready {
                if let Err(why) = fire.fire(*token).await {
                    tracing::warn!(%token, "alarm failed: {why}");
                    failing.insert(*token, now.saturating_add(RETRY_MS));
                }
            }
            if due.len() == BATCH && !ready.is_empty() {
                continue;
            }
            let soon = now.saturating_add(1_000);
            let next = match store.next_alarm().await {
                // A due alarm left is one that failed: look again when it may work.
                Ok(Some(at)) if at <= now => failing.values().min().copied().unwrap_or(soon),
                Ok(Some(at)) => at,
                Ok(None) => now.saturating_add(MAX_SLEEP_MS),
                Err(_) => soon,
            };
            let target = next.min(now.saturating_add(store.longest_alarm_sleep_ms()));
            self.target.store(target, Ordering::Release);
            let sleep = Duration::from_millis(target.saturating_sub(clock()));
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }
}
