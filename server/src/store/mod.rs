//! Where tokens are kept: the `Store` trait, what the rest of the server knows of storage. Each
//! token has its entries (the layout `shared::lifecycle` defines: `meta`, `e/<index>`, the keys
//! the Worker's Durable Objects store) and one alarm time. Writes are handed over without
//! waiting and acknowledged through the token's output gate once stored, in the order handed
//! over; reads are async. `sqlite` is the one-machine store, `etcd` the one replicas share;
//! tests drive `Tokens` through a store of their own that fails on command.

pub mod etcd;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use shared::lifecycle::{Effects, Entry};
use shared::Token;

use crate::gate::OutputGate;

/// What a store's read gives: the value, or why storage could not answer (the shells answer
/// 503 and etcd retries).
pub type Read<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// One change to one token's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// New entries; a key stored already fails the write (events are never rewritten).
    Insert(Vec<Entry>),
    /// The token's timer: when it fires next, or never.
    Alarm(Option<u64>),
    /// Everything stored for the token, alarm included.
    Delete,
    /// One entry, gone: a lost write staged by the storage hooks of the tests.
    Lose(String),
}

impl Op {
    /// The ops that carry out what the core asked of storage, in its order.
    pub fn from_effects(effects: &mut Effects) -> Vec<Op> {
        let mut ops = Vec::new();
        if effects.purge {
            ops.push(Op::Delete);
        }
        if !effects.store.is_empty() {
            ops.push(Op::Insert(std::mem::take(&mut effects.store)));
        }
        if let Some(at) = effects.alarm.take() {
            ops.push(Op::Alarm(at));
        }
        ops
    }
}

/// A write: one token's ops, stored together or not at all, reported to `gate` as `seq`.
pub struct Job {
    pub token: Token,
    pub ops: Vec<Op>,
    /// A mint: a key stored already means the token is taken, not a failure.
    pub mint: bool,
    pub gate: Arc<OutputGate>,
    pub seq: u64,
}

/// Hears of writes made by other processes sharing the store (replicas), by token.
pub trait Observer: Send + Sync + 'static {
    /// Entries another process stored for `token`, in the order stored.
    fn written_elsewhere(&self, token: Token, entries: Vec<Entry>);
    /// Another process deleted the token (its life ended) or changed it in a way its events
    /// do not tell: it must be read again.
    fn deleted_elsewhere(&self, token: Token);
    /// Changes were missed (the store forgot them before they were seen): whatever is held in
    /// memory must be read again.
    fn missed(&self);
}

pub trait Store: Send + Sync + 'static {
    /// Hands a write over; its gate hears when it is stored. Never blocks. Writes handed over
    /// one after another for one token are stored in that order, and none after a failed one.
    fn submit(&self, job: Job);

    /// Every entry stored for `token` (none: never minted, or deleted).
    fn entries(&self, token: Token) -> Read<'_, Vec<Entry>>;

    /// Tokens whose alarm is due at `now`, soonest first, at most `limit`.
    fn due(&self, now: u64, limit: usize) -> Read<'_, Vec<Token>>;

    /// The soonest alarm of any token.
    fn next_alarm(&self) -> Read<'_, Option<u64>>;

    /// Tokens with entries but no meta (`shared::lifecycle::Restored::Orphaned`).
    fn orphans(&self) -> Read<'_, Vec<Token>>;

    /// Whether other processes write this store too (replicas).
    fn shared(&self) -> bool {
        false
    }

    /// A store shared with other processes: the events of `token` stored after `index`, read
    /// now (the latest, as of a write acknowledged anywhere before this call). `None` from a
    /// store of one process, whose memory is never behind it.
    fn events_after(&self, token: Token, index: u64) -> Read<'_, Option<Vec<Entry>>> {
        let _ = (token, index);
        Box::pin(async { Ok(None) })
    }

    /// Whether the store can take writes now (`/ready`): the file is open, or the etcd
    /// cluster has a quorum.
    fn ready(&self) -> Read<'_, ()>;

    /// A store shared with other processes tells `observer` of their writes until `stop`. A
    /// store of one process has nobody else's writes to tell of.
    fn observe(&self, observer: Arc<dyn Observer>, stop: tokio::sync::watch::Receiver<bool>) {
        let _ = (observer, stop);
    }

    /// Whether this process fires due alarms: always, unless the store is shared and another
    /// process was elected to.
    fn fires_alarms(&self) -> bool {
        true
    }

    /// The longest the alarm loop may sleep: alarms stored by other processes do not wake it.
    fn longest_alarm_sleep_ms(&self) -> u64 {
        crate::alarms::MAX_SLEEP_MS
    }

    /// Where it keeps things, for the log.
    fn describe(&self) -> String;

    /// Stops taking writes, stores those taken, and closes.
    fn close(&self);
}
