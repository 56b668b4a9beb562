//! Every token in use, in memory: its `TokenState` (rebuilt from the store on first use), its
//! parked waits and its output gate. Tokens are spread over shards, each behind its own lock, so
//! one token's requests are applied one at a time while other tokens go on beside them; a lock
//! is held only while the core answers (microseconds), never across a read or a sync.
//!
//! A request's changes are applied in memory at once (so two racing creates of one key cannot
//! both succeed), handed to the store while the lock is held (so they are stored in the order
//! they were applied), and answered once stored. Tokens idle for a while are dropped from memory
//! and read again when next asked for.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use shared::http::Response;
use shared::lifecycle::{event_entries, Alarm, TokenState};
use shared::registry::{Answer, Event, Registry, WaitId, Written};
use shared::v2::{RawRequest, Reply};
use shared::{Limits, Token};
use tokio::sync::oneshot;

use crate::alarms::AlarmClock;
use crate::clock::now_ms;
use crate::gate::{Failure, OutputGate};
use crate::store::{Job, Op, Store};

const SHARDS: usize = 64;

/// A token left alone this long (no request, no parked wait, nothing unstored) leaves memory.
pub const IDLE_MS: u64 = 30_000;

pub struct Tokens {
    shards: Box<[Mutex<Shard>]>,
    hasher: std::collections::hash_map::RandomState,
    store: Arc<Store>,
    limits: Limits,
    alarms: Arc<AlarmClock>,
    /// Set at shutdown: parked waits are answered idle, and none parks any more.
    stopping: AtomicBool,
}

#[derive(Default)]
struct Shard {
    slots: HashMap<Token, Slot>,
    /// Counts tokens taken out of memory, so that a read from the store that raced one can tell.
    removals: u64,
}

struct Slot {
    state: TokenState,
    waiters: HashMap<WaitId, Waiter>,
    gate: Arc<OutputGate>,
    /// Writes handed to the store (the last one's sequence number).
    submitted: u64,
    /// The alarm time last stored, to skip storing it again.
    alarm_at: Option<u64>,
    used_at: u64,
}

/// A parked wait's way back to its request, and when it ends idle (Unix ms).
struct Waiter {
    tx: oneshot::Sender<Reply>,
    until: u64,
}

/// What a request found, decided under the lock.
enum Found {
    Run(Run),
    /// The token's life is over: delete it, then answer as for a token never minted.
    Expired,
}

/// A request's answer, to be sent once everything it shows is stored.
struct Run {
    answer: Answer,
    woken: Vec<(WaitId, Reply)>,
    parked: Option<oneshot::Receiver<Reply>>,
    gate: Arc<OutputGate>,
    /// The write this answer must wait for (0: none).
    after: u64,
    /// An earlier alarm this request stored, for the alarm clock.
    alarm: Option<u64>,
}

impl Tokens {
    pub fn new(store: Arc<Store>, limits: Limits, alarms: Arc<AlarmClock>) -> Tokens {
        Tokens {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: Default::default(),
            store,
            limits,
            alarms,
            stopping: AtomicBool::new(false),
        }
    }

    fn shard(&self, token: Token) -> MutexGuard<'_, Shard> {
        self.shards[self.hasher.hash_one(token) as usize % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the token's slot under its shard's lock, reading the token from the store
    /// first if it is not in memory. `Ok(None)`: nothing is stored for it (never minted, or
    /// deleted). `Err`: the store could not be read.
    async fn with_slot<T>(
        &self,
        token: Token,
        f: impl FnOnce(&mut Slot) -> T,
    ) -> Result<Option<T>, String> {
        let mut f = Some(f);
        loop {
            let removals = {
                let mut shard = self.shard(token);
                if let Some(slot) = shard.slots.get_mut(&token) {
                    if !slot.gate.failed() {
                        slot.used_at = now_ms();
                        let f = f.take().expect("called once");
                        return Ok(Some(f(slot)));
                    }
                    // Its memory holds changes the store refused: read it again.
                    shard.slots.remove(&token);
                    shard.removals += 1;
                }
                shard.removals
            };
            let entries = self.store.entries(token).await?;
            if entries.is_empty() {
                return Ok(None);
            }
            let state = TokenState::restore(token, self.limits.clone(), entries)?;
            let mut shard = self.shard(token);
            if shard.removals != removals && !shard.slots.contains_key(&token) {
                continue; // a deletion raced this read: read again
            }
            shard.slots.entry(token).or_insert_with(|| Slot {
                state,
                waiters: HashMap::new(),
                gate: Arc::default(),
                submitted: 0,
                alarm_at: None,
                used_at: now_ms(),
            });
        }
    }

    /// One keys request on `token`.
    pub async fn keys(&self, token: Token, request: RawRequest<'_>) -> Response {
        let now = now_ms();
        let found = self.with_slot(token, |slot| {
            if slot.state.expired(now) {
                return Found::Expired;
            }
            let mut outcome = slot.state.handle(request, now);
            // Parked before anything else can happen, so no event can slip past it; at shutdown
            // it ends at once instead, as the parked ones did.
            let parked = match outcome.answer {
                Answer::Parked(id) if self.stopping.load(Ordering::Acquire) => {
                    outcome.answer = Answer::Reply(slot.state.registry.cancel_wait(id));
                    None
                }
                Answer::Parked(id) => {
                    let (tx, rx) = oneshot::channel();
                    let until = now.saturating_add(self.limits.wait_timeout_secs * 1000);
                    slot.waiters.insert(id, Waiter { tx, until });
                    Some(rx)
                }
                Answer::Reply(_) => None,
            };
            let alarm = self.write(token, slot, &outcome.events, false);
            Found::Run(Run {
                answer: outcome.answer,
                woken: outcome.woken,
                parked,
                gate: slot.gate.clone(),
                after: slot.submitted,
                alarm,
            })
        });
        let run = match found.await {
            Err(why) => return Response::unavailable(&why),
            Ok(Some(Found::Run(run))) => run,
            Ok(Some(Found::Expired)) => {
                if let Err(why) = self.purge(token).await {
                    return Response::unavailable(&why);
                }
                return self.unminted(token, request, now);
            }
            Ok(None) => return self.unminted(token, request, now),
        };
        let id = match run.answer {
            Answer::Parked(id) => Some(id),
            Answer::Reply(_) => None,
        };
        // Forgets the wait if this request goes away (its client left) before it is answered.
        let mut guard = id.map(|id| CancelOnDrop {
            tokens: self,
            token,
            id: Some(id),
        });
        if let Err(why) = self
            .settle(token, &run.gate, run.after, run.woken, run.alarm)
            .await
        {
            return Response::unavailable(&why);
        }
        let reply = match (run.answer, run.parked) {
            (Answer::Reply(reply), _) => reply,
            (Answer::Parked(_), Some(rx)) => self.wait(rx).await,
            (Answer::Parked(_), None) => Reply::idle(0),
        };
        // Answered: whoever answered it took it out.
        if let Some(g) = guard.as_mut() {
            g.id = None;
        }
        Response::keys(&reply)
    }

    /// Waits until the write `after` is stored, then wakes the waits it answers. On a failed
    /// write the token leaves memory (it holds what the store refused) and the caller answers
    /// 503; its parked waits end idle, and etcd sends them again.
    async fn settle(
        &self,
        token: Token,
        gate: &Arc<OutputGate>,
        after: u64,
        woken: Vec<(WaitId, Reply)>,
        alarm: Option<u64>,
    ) -> Result<(), String> {
        if after > 0 && !gate.stored(after) {
            if let Err(f) = gate.wait(after).await {
                self.forget(token, gate);
                return Err(match f {
                    Failure::Storage(why) => why,
                    Failure::Taken => "the token was taken".into(),
                });
            }
        }
        if !woken.is_empty() {
            // Taken out under the lock, sent after it: each send wakes a request, which must
            // not find the lock still held.
            let senders: Vec<_> = {
                let mut shard = self.shard(token);
                match shard.slots.get_mut(&token) {
                    Some(slot) => woken
                        .into_iter()
                        .filter_map(|(id, reply)| Some((slot.waiters.remove(&id)?.tx, reply)))
                        .collect(),
                    None => Vec::new(),
                }
            };
            for (tx, reply) in senders {
                // The client may have gone; nothing to do then.
                let _ = tx.send(reply);
            }
        }
        if let Some(at) = alarm {
            self.alarms.nudge(at);
        }
        Ok(())
    }

    /// The limits every token of this server holds to.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Runs `f` on the token's registry (a v3 read). `Ok(None)`: never minted, or ended.
    pub async fn read<T>(
        &self,
        token: Token,
        f: impl FnOnce(&Registry) -> T,
    ) -> Result<Option<T>, String> {
        let now = now_ms();
        let found = self
            .with_slot(token, |slot| {
                (!slot.state.expired(now)).then(|| f(&slot.state.registry))
            })
            .await?;
        Ok(found.flatten())
    }

    /// Runs `f`, a write that gives `Written` (a v3 put), on the token's registry, and returns
    /// its answer once its events are stored and the v2 waits they answer are woken: an answer
    /// that shows a write leaves only after the sync, as on the v2 path. `Ok(None)`: never
    /// minted, or ended (the write is not made).
    pub async fn write_with<T>(
        &self,
        token: Token,
        f: impl FnOnce(&mut Registry, u64) -> (Written, T),
    ) -> Result<Option<T>, String> {
        let now = now_ms();
        let found = self
            .with_slot(token, |slot| {
                if slot.state.expired(now) {
                    return None;
                }
                let (written, answer) = f(&mut slot.state.registry, now);
                let alarm = self.write(token, slot, &written.events, false);
                Some((
                    answer,
                    written.woken,
                    slot.gate.clone(),
                    slot.submitted,
                    alarm,
                ))
            })
            .await?;
        let Some((answer, woken, gate, after, alarm)) = found.flatten() else {
            return Ok(None);
        };
        self.settle(token, &gate, after, woken, alarm).await?;
        Ok(Some(answer))
    }

    /// Hands the slot's new events (and its alarm, if that moved) to the store; returns the
    /// alarm time if it moved. A request that changed nothing stores nothing; a fired alarm
    /// (`alarm_fired`) stores its next time even then, so a stale stored one cannot fire again.
    /// Called under the shard lock, so writes keep their order.
    fn write(
        &self,
        token: Token,
        slot: &mut Slot,
        events: &[Event],
        alarm_fired: bool,
    ) -> Option<u64> {
        let alarm = slot.state.alarm_at();
        let moved = alarm != slot.alarm_at;
        if events.is_empty() && !(alarm_fired && moved) {
            return None;
        }
        let mut ops = Vec::new();
        if !events.is_empty() {
            ops.push(Op::Insert(event_entries(events)));
        }
        if moved {
            ops.push(Op::Alarm(alarm));
            slot.alarm_at = alarm;
        }
        slot.submitted += 1;
        self.store.submit(Job {
            token,
            ops,
            mint: false,
            gate: slot.gate.clone(),
            seq: slot.submitted,
        });
        alarm.filter(|_| moved)
    }

    /// A parked wait: answered by a write, idle after `WAIT_TIMEOUT_SECONDS`
    /// (`end_idle_waits`), or idle at shutdown (`end_waits`). Its timeout is no timer of its
    /// own: hundreds parked on one token are woken at once, and each timer taken off the wheel
    /// then would cost them all.
    async fn wait(&self, rx: oneshot::Receiver<Reply>) -> Reply {
        // Dropped: the token left memory (a failed write, or its end). End idle.
        rx.await.unwrap_or_else(|_| Reply::idle(0))
    }

    /// Ends every wait parked until `now` or longer ago with etcd's empty 200 (members send it
    /// again); called a few times a second.
    pub fn end_idle_waits(&self, now: u64) {
        self.end(|w| w.until <= now);
    }

    /// Shutdown: answers every parked wait with etcd's empty 200 (members send it again, to
    /// the server that comes next), and parks no more.
    pub fn end_waits(&self) {
        self.stopping.store(true, Ordering::Release);
        self.end(|_| true);
    }

    /// Ends the parked waits `which` picks, with the idle answer.
    fn end(&self, which: impl Fn(&Waiter) -> bool) {
        for shard in self.shards.iter() {
            let ended: Vec<_> = {
                let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
                let mut ended = Vec::new();
                for slot in shard.slots.values_mut().filter(|s| !s.waiters.is_empty()) {
                    let ids: Vec<WaitId> = slot
                        .waiters
                        .iter()
                        .filter(|(_, w)| which(w))
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        if let Some(w) = slot.waiters.remove(&id) {
                            ended.push((w.tx, slot.state.registry.cancel_wait(id)));
                        }
                    }
                }
                ended
            };
            for (tx, reply) in ended {
                let _ = tx.send(reply);
            }
        }
    }

    /// Forgets a parked wait; the empty 200 that ends it.
    fn cancel(&self, token: Token, id: WaitId) -> Reply {
        let mut shard = self.shard(token);
        match shard.slots.get_mut(&token) {
            Some(slot) => {
                slot.waiters.remove(&id);
                slot.state.registry.cancel_wait(id)
            }
            None => Reply::idle(0),
        }
    }

    /// Takes a token out of memory if it still has this gate (a failed write).
    fn forget(&self, token: Token, gate: &Arc<OutputGate>) {
        let mut shard = self.shard(token);
        if shard
            .slots
            .get(&token)
            .is_some_and(|s| Arc::ptr_eq(&s.gate, gate))
        {
            shard.slots.remove(&token);
            shard.removals += 1;
        }
    }

    /// A request on a token with nothing stored: the core's answer for a token never minted.
    fn unminted(&self, token: Token, request: RawRequest, now: u64) -> Response {
        let mut state = TokenState::unminted(token, self.limits.clone());
        match state.handle(request, now).answer {
            Answer::Reply(reply) => Response::keys(&reply),
            Answer::Parked(_) => Response::keys(&Reply::idle(0)),
        }
    }

    /// Deletes a token whose life is over: from memory at once (its parked waits end idle),
    /// from the store before this returns.
    async fn purge(&self, token: Token) -> Result<(), String> {
        let gate = {
            let mut shard = self.shard(token);
            let gate = match shard.slots.remove(&token) {
                Some(slot) => slot.gate,
                None => Arc::default(),
            };
            shard.removals += 1;
            gate
        };
        let seq = u64::MAX;
        self.store.submit(Job {
            token,
            ops: vec![Op::Delete],
            mint: false,
            gate: gate.clone(),
            seq,
        });
        gate.wait(seq).await.map_err(|f| match f {
            Failure::Storage(why) => why,
            Failure::Taken => "deleting the token failed".into(),
        })
    }

    /// The token's alarm is due: expire member TTLs, or delete the token at its end.
    pub async fn alarm(&self, token: Token) -> Result<(), String> {
        let now = now_ms();
        let found = self
            .with_slot(token, |slot| match slot.state.alarm(now) {
                Alarm::Purge => None,
                Alarm::Expired { events, woken } => {
                    let alarm = self.write(token, slot, &events, true);
                    Some((slot.gate.clone(), slot.submitted, woken, alarm))
                }
            })
            .await?;
        match found {
            // Nothing stored for it any more: the alarm is all that is left.
            None => self.purge(token).await,
            Some(None) => self.purge(token).await,
            Some(Some((gate, after, woken, alarm))) => {
                self.settle(token, &gate, after, woken, alarm).await
            }
        }
    }

    /// Mints `token` with `size`: stores its meta, first event and alarm; `Ok(false)` if the
    /// token was taken. The token is not kept in memory: its members read it when they come.
    pub async fn mint(&self, token: Token, size: u64) -> Result<bool, String> {
        let mut state = TokenState::unminted(token, self.limits.clone());
        let Some((meta, entries)) = state.mint(size, now_ms(), &self.limits) else {
            return Ok(false);
        };
        let gate = Arc::new(OutputGate::default());
        self.store.submit(Job {
            token,
            ops: vec![Op::Insert(entries), Op::Alarm(Some(meta.expires_at))],
            mint: true,
            gate: gate.clone(),
            seq: 1,
        });
        match gate.wait(1).await {
            Ok(()) => {
                self.alarms.nudge(meta.expires_at);
                Ok(true)
            }
            Err(Failure::Taken) => Ok(false),
            Err(Failure::Storage(why)) => Err(why),
        }
    }

    /// Drops tokens idle since `IDLE_MS` from memory; they are read again when asked for.
    pub fn evict_idle(&self) {
        let now = now_ms();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let before = shard.slots.len();
            shard.slots.retain(|_, s| {
                let idle = s.waiters.is_empty()
                    && s.gate.stored(s.submitted)
                    && now.saturating_sub(s.used_at) >= IDLE_MS;
                !(idle || s.gate.failed())
            });
            if shard.slots.len() < before {
                shard.removals += 1;
            }
        }
    }
}

/// Forgets a parked wait whose request went away before it was answered.
struct CancelOnDrop<'a> {
    tokens: &'a Tokens,
    token: Token,
    /// `None` once the wait was answered.
    id: Option<WaitId>,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.tokens.cancel(self.token, id);
        }
    }
}
