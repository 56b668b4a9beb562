//! Tokens in memory, spread over shards, each behind its own lock, so one token's requests are
//! applied one at a time while other tokens go on beside them; a lock is held only while the
//! core answers (microseconds), never across a read or a sync. A token not in memory is read
//! from the store on first use; one idle for a while leaves memory again.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard};

use shared::lifecycle::TokenState;
use shared::registry::WaitId;
use shared::v2::Reply;
use shared::Token;
use tokio::sync::oneshot;

use crate::gate::OutputGate;

const SHARDS: usize = 64;

/// A token left alone this long (no request, no parked wait, nothing unstored) leaves memory.
pub const IDLE_MS: u64 = 30_000;

/// One token in memory.
pub struct Slot {
    pub state: TokenState,
    /// Each parked wait's way back to its request.
    pub waiters: HashMap<WaitId, oneshot::Sender<Reply>>,
    pub gate: Arc<OutputGate>,
    /// Writes handed to the store (the last one's sequence number).
    pub submitted: u64,
    pub used_at: u64,
    /// Set when the core ended the token: it leaves memory as soon as the lock is let go.
    pub ended: bool,
}

impl Slot {
    pub fn new(state: TokenState, now: u64) -> Slot {
        Slot {
            state,
            waiters: HashMap::new(),
            gate: Arc::default(),
            submitted: 0,
            used_at: now,
            ended: false,
        }
    }

    /// The senders of the waits `woken` names, each with its answer; waits whose client left
    /// are passed over.
    pub fn take_senders(
        &mut self,
        woken: Vec<(WaitId, Reply)>,
    ) -> Vec<(oneshot::Sender<Reply>, Reply)> {
        woken
            .into_iter()
            .filter_map(|(id, reply)| Some((self.waiters.remove(&id)?, reply)))
            .collect()
    }
}

impl Slot {
    /// Answers every parked wait idle (members ask again) as the slot leaves memory.
    fn end_idle(&mut self) {
        let woken = self.state.end_waits();
        for (tx, reply) in self.take_senders(woken) {
            let _ = tx.send(reply);
        }
    }

    /// A slot whose write failed leaves memory. After a lost race with another replica its
    /// waits are answered idle; after a storage failure their senders go with it, and their
    /// requests answer 503.
    fn retire(mut self) {
        if self.gate.conflicted() {
            self.end_idle();
        }
    }
}

#[derive(Default)]
struct Shard {
    slots: HashMap<Token, Slot>,
    /// Counts tokens taken out of memory, so that a read from the store that raced one can tell.
    removals: u64,
}

/// What a look for a token in memory found.
pub enum Lookup<T> {
    /// In memory: what `f` gave.
    Found(T),
    /// Not in memory: read it from the store, then `insert` it with this mark.
    Missing(Mark),
}

/// The shard's count of removals when a token was found missing: a read from the store that
/// started then is stale if a removal came meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct Mark(u64);

pub struct Cache {
    shards: Box<[Mutex<Shard>]>,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
        }
    }
}

impl Cache {
    fn shard(&self, token: Token) -> MutexGuard<'_, Shard> {
        let i = usize::try_from(self.hasher.hash_one(token) % SHARDS as u64).unwrap_or(0);
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the token's slot under its shard's lock, if it is in memory. A slot whose
    /// memory holds writes the store refused is taken out first (its waits end: the senders go
    /// with it, and their requests answer 503). A slot `f` ended leaves memory.
    pub fn with<T>(&self, token: Token, now: u64, f: impl FnOnce(&mut Slot) -> T) -> Lookup<T> {
        let mut shard = self.shard(token);
        if shard.slots.get(&token).is_some_and(|s| s.gate.failed()) {
            if let Some(slot) = shard.slots.remove(&token) {
                slot.retire();
            }
            shard.removals += 1;
        }
        let Some(slot) = shard.slots.get_mut(&token) else {
            return Lookup::Missing(Mark(shard.removals));
        };
        slot.used_at = now;
        let found = f(slot);
        if slot.ended {
            shard.slots.remove(&token);
            shard.removals += 1;
        }
        Lookup::Found(found)
    }

    /// Puts a token read from the store into memory, unless a removal came since `mark` (the
    /// read may have seen entries deleted since: read again) or another read put it there
    /// first (that one stays).
    pub fn insert(&self, token: Token, mark: Mark, state: TokenState, now: u64) {
        let mut shard = self.shard(token);
        if shard.removals != mark.0 && !shard.slots.contains_key(&token) {
            return;
        }
        shard
            .slots
            .entry(token)
            .or_insert_with(|| Slot::new(state, now));
    }

    /// Takes a token out of memory if it still has this gate (its write failed). Its waits'
    /// senders go with it.
    pub fn forget(&self, token: Token, gate: &Arc<OutputGate>) {
        let mut shard = self.shard(token);
        if shard
            .slots
            .get(&token)
            .is_some_and(|s| Arc::ptr_eq(&s.gate, gate))
        {
            if let Some(slot) = shard.slots.remove(&token) {
                slot.retire();
            }
            shard.removals += 1;
        }
    }

    /// Takes a token out of memory because what is stored moved on without it (another
    /// replica deleted it, or its events could not be followed): its waits are answered idle,
    /// and members ask again. A read under way is marked stale.
    pub fn retire(&self, token: Token) {
        let mut shard = self.shard(token);
        if let Some(mut slot) = shard.slots.remove(&token) {
            slot.end_idle();
        }
        shard.removals += 1;
    }

    /// `retire` for every token in memory: changes to the store were missed.
    pub fn retire_all(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for (_, mut slot) in shard.slots.drain() {
                slot.end_idle();
            }
            shard.removals += 1;
        }
    }

    /// Marks a removal of a token not in memory (its stored entries deleted), so that a read
    /// that raced the deletion reads again.
    pub fn removed(&self, token: Token) {
        let mut shard = self.shard(token);
        shard.slots.remove(&token);
        shard.removals += 1;
    }

    /// Runs `f` on every slot with parked waits, shard by shard; collects what it gives.
    pub fn each_waiting<T>(&self, mut f: impl FnMut(&mut Slot) -> Vec<T>) -> Vec<T> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for slot in shard.slots.values_mut().filter(|s| !s.waiters.is_empty()) {
                out.extend(f(slot));
            }
        }
        out
    }

    /// Drops tokens idle since `IDLE_MS` from memory (no parked wait, every write stored), and
    /// those whose writes failed; they are read again when asked for. How many left.
    pub fn evict_idle(&self, now: u64) -> usize {
        let mut evicted = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let before = shard.slots.len();
            let mut failed = Vec::new();
            shard.slots.retain(|t, s| {
                let idle = s.waiters.is_empty()
                    && s.gate.stored(s.submitted)
                    && now.saturating_sub(s.used_at) >= IDLE_MS;
                if s.gate.failed() {
                    failed.push(*t);
                }
                !idle
            });
            for t in failed {
                if let Some(slot) = shard.slots.remove(&t) {
                    slot.retire();
                }
            }
            let gone = before - shard.slots.len();
            if gone > 0 {
                shard.removals += 1;
                evicted += gone;
            }
        }
        evicted
    }

    /// Tokens in memory, and the parked waits they hold.
    pub fn counts(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            counts.0 += shard.slots.len();
            counts.1 += shard.slots.values().map(|s| s.waiters.len()).sum::<usize>();
        }
        counts
    }

    /// Tokens in memory.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).slots.len())
            .sum()
    }
}
