//! Every token in use: each request runs the core (`shared::lifecycle::TokenState`) on the
//! token in memory (`cache`), hands what the core asks to store to the `Store` under the same
//! lock (so a token's writes are stored in the order they were applied), and answers once that
//! is stored (`pending`). Parked waits wait here for their answer; their deadlines, and every
//! other rule of a token's life, are the core's.

mod cache;
mod pending;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use shared::http::Response;
use shared::lifecycle::{self, Entry, RestoreError, Restored, TokenState};
use shared::registry::{Answer, Registry, WaitId, Written};
use shared::v2::{RawRequest, Reply};
use shared::v3::Refusal;
use shared::{Limits, Token};
use tokio::sync::oneshot;

use crate::alarms::{Alarms, Fire};
use crate::gate::{Failure, OutputGate};
use crate::now::Clock;
use crate::store::{Job, Observer, Op, Store};
use cache::{Cache, Lookup, Slot};
use pending::Pending;

#[cfg(test)]
use cache::IDLE_MS;

/// Times one request is applied while other replicas keep writing its token first.
const CONFLICT_TRIES: usize = 8;
const RACED: &str = "the token is being written through other replicas at the same time; ask again";

pub struct Tokens {
    cache: Cache,
    store: Arc<dyn Store>,
    limits: Limits,
    alarms: Arc<Alarms>,
    clock: Clock,
    /// Whether other processes write the store too (replicas): requests catch up first.
    shared_store: bool,
    /// Set at shutdown: parked waits are answered idle, and none parks any more.
    stopping: AtomicBool,
}

/// How current the token in memory must be for a request, with a store that other replicas
/// write too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    /// As stored when the request came (read from the store first): the answer comes from
    /// memory alone (a value, a listing, a refusal).
    Read,
    /// As held: a change adds its events at the next index, a place one write alone can take,
    /// so it is stored only if it followed everything stored before it; a wait from an index is
    /// answered by events stored already, or hears of other replicas' through the watch.
    Held,
}

/// A mint's outcome.
#[derive(Debug, PartialEq, Eq)]
pub enum Minted {
    Minted,
    /// The token is stored already (a collision of random tokens): try another.
    Taken,
}

/// Where a v3 watch waits for the token's next change.
pub enum WatchPark {
    /// Parked: resolves when the wait ends, whatever ended it (look again then).
    Wait(Waiting),
    /// Look again at once: the registry moved on, or the token is gone.
    Look,
    /// The token holds as many waits and watches as it may.
    TooMany(Refusal),
    /// The server is stopping.
    Stopping,
}

/// A parked wait of a v3 watch: awaited, it ends when the wait does; dropped, it forgets the
/// wait.
pub struct Waiting {
    rx: oneshot::Receiver<Reply>,
    cancel: CancelOnDrop<Arc<Tokens>>,
}

impl Waiting {
    pub async fn ended(mut self) {
        let _ = (&mut self.rx).await;
        // Ended: whoever ended it took it out.
        self.cancel.id = None;
    }
}

impl Tokens {
    pub fn new(store: Arc<dyn Store>, limits: Limits, alarms: Arc<Alarms>, clock: Clock) -> Tokens {
        Tokens {
            cache: Cache::default(),
            shared_store: store.shared(),
            store,
            limits,
            alarms,
            clock,
            stopping: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Runs `f` on the token's slot (under its shard's lock), reading the token from the store
    /// first if it is not in memory, and its newest events if `fresh` asks and other replicas
    /// write the store too. `Ok(None)`: nothing is stored for it (never minted, or deleted).
    /// `Err`: the store could not be read.
    async fn with_slot<T>(
        &self,
        token: Token,
        fresh: Fresh,
        f: impl FnOnce(&mut Slot) -> T,
    ) -> Result<Option<T>, String> {
        if self.shared_store && fresh == Fresh::Read {
            self.catch_up(token).await?;
        }
        let mut f = Some(f);
        loop {
            let now = self.now();
            let mark = match self
                .cache
                .with(token, now, |slot| (f.take().expect("called once"))(slot))
            {
                Lookup::Found(t) => return Ok(Some(t)),
                Lookup::Missing(mark) => mark,
            };
            let entries = self.store.entries(token).await?;
            match TokenState::restore(token, self.limits.clone(), entries).map_err(|e| e.0)? {
                // In memory now, or, if a deletion raced this read, to be read again: the next
                // turn of the loop finds out which.
                Restored::Minted(state) => self.cache.insert(token, mark, *state, self.now()),
                Restored::Nothing => return Ok(None),
                Restored::Orphaned { events } => {
                    tracing::warn!(
                        "token {token} has {events} stored events and no meta (never minted, or its meta was lost): deleting them"
                    );
                    self.delete(token).await?;
                    return Ok(None);
                }
            }
        }
    }

    /// `with_slot` for a read: `f` runs once every write handed to the store for the token is
    /// stored, so that an answer never shows a change the store has not taken (another replica
    /// may yet win its place).
    async fn with_stored_slot<T>(
        &self,
        token: Token,
        fresh: Fresh,
        f: impl FnOnce(&mut Slot) -> T,
    ) -> Result<Option<T>, String> {
        let mut f = Some(f);
        loop {
            let found = self
                .with_slot(token, fresh, |slot| {
                    if slot.gate.stored(slot.submitted) {
                        Ok((f.take().expect("called once"))(slot))
                    } else {
                        Err((slot.gate.clone(), slot.submitted))
                    }
                })
                .await?;
            match found {
                None => return Ok(None),
                Some(Ok(t)) => return Ok(Some(t)),
                // A write that fails takes the token out of memory: the next turn reads it.
                Some(Err((gate, seq))) => {
                    let _ = gate.wait(seq).await;
                }
            }
        }
    }

    /// With a store shared by replicas, before a request answered from memory (`Fresh::Read`):
    /// takes in the token's events that other replicas stored and this one's watch has not
    /// delivered yet, so that the answer (a listing, a refusal) reflects every write
    /// acknowledged anywhere before the request began: a member's own registration, made
    /// through another replica a moment ago, included.
    async fn catch_up(&self, token: Token) -> Result<(), String> {
        let index = match self
            .cache
            .with(token, self.now(), |slot| slot.state.registry().index())
        {
            Lookup::Found(index) => index,
            // Not in memory: it is read whole from the store.
            Lookup::Missing(_) => return Ok(()),
        };
        match self.store.events_after(token, index).await? {
            Some(entries) if !entries.is_empty() => self.written_elsewhere(token, entries),
            _ => {}
        }
        Ok(())
    }

    /// Deletes everything stored for a token not in memory.
    async fn delete(&self, token: Token) -> Result<(), String> {
        self.cache.removed(token);
        self.write_alone(token, vec![Op::Delete], false)
            .await
            .map_err(|f| f.to_string())
    }

    /// A write of a token that is not in memory, waited for.
    async fn write_alone(&self, token: Token, ops: Vec<Op>, mint: bool) -> Result<(), Failure> {
        let gate = Arc::new(OutputGate::default());
        self.store.submit(Job {
            token,
            ops,
            mint,
            gate: gate.clone(),
            seq: 1,
        });
        gate.wait(1).await
    }

    /// Waits for a change to be stored and wakes what it answered; on a failed write the token
    /// leaves memory (it holds what the store refused) and the caller answers 503, or, when
    /// another replica wrote the token first (`Failure::Conflict`), applies its request again.
    async fn settle(&self, token: Token, pending: Pending) -> Result<(), Failure> {
        match pending.settle().await {
            Ok(alarm) => {
                if let Some(at) = alarm {
                    self.alarms.nudge(at);
                }
                Ok(())
            }
            Err((gate, failure)) => {
                if failure == Failure::Conflict {
                    crate::metrics::get().conflicts.inc();
                }
                self.cache.forget(token, &gate);
                Err(failure)
            }
        }
    }

    /// Parks the waiter of a wait the core parked, or, at shutdown, ends it at once.
    fn park(&self, slot: &mut Slot, id: WaitId) -> Option<oneshot::Receiver<Reply>> {
        if self.stopping.load(Ordering::Acquire) {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        slot.waiters.insert(id, tx);
        Some(rx)
    }

    /// One keys request on `token`.
    pub async fn keys(&self, token: Token, request: RawRequest<'_>) -> Response {
        for _ in 0..CONFLICT_TRIES {
            match self.keys_once(token, request).await {
                Some(response) => return response,
                // Another replica wrote the token first: apply the request to what it stored.
                None => continue,
            }
        }
        Response::unavailable(RACED)
    }

    /// A keys request applied once; `None` when it lost a race with another replica's write.
    async fn keys_once(&self, token: Token, request: RawRequest<'_>) -> Option<Response> {
        let now = self.now();
        let apply = |slot: &mut Slot| {
            let (mut answer, effects) = slot.state.handle(request, now);
            // Parked before anything else can happen, so no event can slip past it.
            let parked = match answer {
                Answer::Parked(p) => {
                    let rx = self.park(slot, p.id);
                    if rx.is_none() {
                        answer = Answer::Reply(slot.state.cancel_wait(p.id));
                    }
                    rx.map(|rx| (p.id, rx))
                }
                Answer::Reply(_) => None,
            };
            // A change that stores nothing was refused (a wait's answer is an event stored
            // already, whichever replica stored it).
            let refused = !request.method.is_read() && !effects.writes();
            let pending = Pending::submit(token, slot, effects, &*self.store);
            (answer, parked, pending, refused)
        };
        let mut fresh = if request.reads_current() {
            Fresh::Read
        } else {
            Fresh::Held
        };
        let found = loop {
            // A read (a listing, a wait) shows only what is stored; a write goes on beside the
            // writes before it, and its answer waits for them all.
            let found = if request.method.is_read() {
                self.with_stored_slot(token, fresh, apply).await
            } else {
                self.with_slot(token, fresh, apply).await
            };
            match found {
                // A change refused from a copy that may be behind the store (another replica
                // registered the member a moment ago): refused only after a fresh read.
                Ok(Some((_, _, _, true))) if self.shared_store && fresh == Fresh::Held => {
                    fresh = Fresh::Read;
                }
                found => break found,
            }
        };
        let (answer, parked, pending) = match found {
            Err(why) => return Some(Response::unavailable(&why)),
            Ok(None) => {
                let reply = lifecycle::unminted(token, &self.limits, request, now);
                return Some(Response::keys(&reply));
            }
            Ok(Some((answer, parked, pending, _))) => (answer, parked, pending),
        };
        // Forgets the wait if this request goes away (its client left) before it is answered.
        let guard = parked.as_ref().map(|(id, _)| CancelOnDrop {
            tokens: self,
            token,
            id: Some(*id),
        });
        match self.settle(token, pending).await {
            Ok(()) => {}
            Err(Failure::Conflict) => return None,
            Err(f) => return Some(Response::unavailable(&f.to_string())),
        }
        let reply = match (answer, parked) {
            (Answer::Reply(reply), _) => reply,
            (Answer::Parked(_), Some((_, rx))) => match rx.await {
                Ok(reply) => reply,
                // Its token left memory unanswered: a write of it failed.
                Err(_) => return Some(lifecycle::wait_lost()),
            },
            (Answer::Parked(_), None) => Reply::idle(0),
        };
        if let Some(mut g) = guard {
            // Answered: whoever answered it took it out.
            g.id = None;
        }
        Some(Response::keys(&reply))
    }

    /// Runs `f` on the token's registry as it stands (`None`: nothing stored for the token, or
    /// its life is over): a v3 read.
    pub async fn view<T>(
        &self,
        token: Token,
        f: impl FnOnce(Option<&Registry>) -> T,
    ) -> Result<T, String> {
        let now = self.now();
        let mut f = Some(f);
        let found = self
            .with_stored_slot(token, Fresh::Read, |slot| {
                (f.take().expect("called once"))(slot.state.live(now))
            })
            .await?;
        Ok(match found {
            Some(t) => t,
            None => (f.take().expect("not called yet"))(None),
        })
    }

    /// Runs `f`, a change that gives `Written` (a v3 put), on the token's registry (`None`:
    /// nothing stored for the token), and returns its answer once its events are stored and the
    /// waits they answer are woken: an answer that shows a write leaves only after the sync.
    /// When another replica wrote the token first, `f` runs again on what that one stored.
    pub async fn write<T>(
        &self,
        token: Token,
        f: impl Fn(Option<&mut Registry>, u64) -> (Written, T),
    ) -> Result<T, String> {
        let mut fresh = Fresh::Held;
        for _ in 0..CONFLICT_TRIES {
            let now = self.now();
            let found = self
                .with_slot(token, fresh, |slot| {
                    let (answer, effects) = slot.state.write(now, &f);
                    let refused = !effects.writes();
                    let pending = Pending::submit(token, slot, effects, &*self.store);
                    (answer, pending, refused)
                })
                .await?;
            let Some((answer, pending, refused)) = found else {
                return Ok(f(None, now).1);
            };
            if refused && self.shared_store && fresh == Fresh::Held {
                // Refused from a copy that may be behind the store: refused only after a fresh
                // read.
                fresh = Fresh::Read;
                continue;
            }
            match self.settle(token, pending).await {
                Ok(()) => return Ok(answer),
                Err(Failure::Conflict) => continue,
                Err(f) => return Err(f.to_string()),
            }
        }
        Err(RACED.into())
    }

    /// Parks a v3 watch that has sent everything up to `after` on the token.
    pub async fn park_watch(
        self: &Arc<Self>,
        token: Token,
        after: u64,
    ) -> Result<WatchPark, String> {
        let now = self.now();
        let found = self
            .with_slot(token, Fresh::Held, |slot| {
                match slot.state.park_watch(after, now) {
                    Ok(None) => WatchPark::Look,
                    Err(refused) => WatchPark::TooMany(refused),
                    Ok(Some(p)) => match self.park(slot, p.id) {
                        Some(rx) => WatchPark::Wait(Waiting {
                            rx,
                            cancel: CancelOnDrop {
                                tokens: self.clone(),
                                token,
                                id: Some(p.id),
                            },
                        }),
                        None => {
                            slot.state.cancel_wait(p.id);
                            WatchPark::Stopping
                        }
                    },
                }
            })
            .await?;
        Ok(found.unwrap_or(WatchPark::Look))
    }

    /// `/ready`: whether the store takes writes now.
    pub async fn ready(&self) -> Result<(), String> {
        self.store.ready().await
    }

    /// `GET /ledger/<token>`.
    pub async fn ledger(&self, token: Token) -> Response {
        let now = self.now();
        match self
            .with_stored_slot(token, Fresh::Read, |slot| slot.state.ledger(now))
            .await
        {
            Ok(Some(answer)) => answer,
            Ok(None) => lifecycle::ledger_unminted(token),
            Err(why) => Response::unavailable(&format!("ledger: {why}")),
        }
    }

    /// Mints `token` with `size`: stores its meta, first event and alarm. The token is not
    /// kept in memory: its members read it when they come.
    pub async fn mint(&self, token: Token, size: u64) -> Result<Minted, String> {
        let (_, mut effects) = TokenState::mint(token, size, self.now(), &self.limits);
        let alarm = effects.alarm.flatten();
        match self
            .write_alone(token, Op::from_effects(&mut effects), true)
            .await
        {
            Ok(()) => {
                if let Some(at) = alarm {
                    self.alarms.nudge(at);
                }
                Ok(Minted::Minted)
            }
            Err(Failure::Taken) => Ok(Minted::Taken),
            Err(f) => Err(f.to_string()),
        }
    }

    /// The token's stored alarm is due: member TTLs expire, or the token ends.
    pub async fn alarm(&self, token: Token) -> Result<(), String> {
        for _ in 0..CONFLICT_TRIES {
            let now = self.now();
            let found = self
                .with_slot(token, Fresh::Read, |slot| {
                    let effects = slot.state.on_alarm(now);
                    Pending::submit(token, slot, effects, &*self.store)
                })
                .await?;
            let settled = match found {
                Some(pending) => self.settle(token, pending).await,
                // Nothing stored for it any more: the alarm is all that is left.
                None => return self.delete(token).await,
            };
            match settled {
                Ok(()) => return Ok(()),
                Err(Failure::Conflict) => continue,
                Err(f) => return Err(f.to_string()),
            }
        }
        Err(RACED.into())
    }

    /// Ends every wait whose deadline (the core's) has come by now, with the idle answer.
    pub fn end_idle_waits(&self) {
        let now = self.now();
        let ended = self.cache.each_waiting(|slot| {
            let woken = slot.state.end_idle_waits(now);
            slot.take_senders(woken)
        });
        for (tx, reply) in ended {
            let _ = tx.send(reply);
        }
    }

    /// Shutdown: answers every parked wait with the idle answer (members send it again, to the
    /// server that comes next), and parks no more.
    pub fn end_waits(&self) {
        self.stopping.store(true, Ordering::Release);
        let ended = self.cache.each_waiting(|slot| {
            let woken = slot.state.end_waits();
            slot.take_senders(woken)
        });
        for (tx, reply) in ended {
            let _ = tx.send(reply);
        }
    }

    /// Drops tokens idle since `IDLE_MS` from memory; they are read again when asked for.
    pub fn evict_idle(&self) -> usize {
        self.cache.evict_idle(self.now())
    }

    /// Tokens in memory now, and the waits and watches parked on them (for the metrics).
    pub fn in_memory_and_waiting(&self) -> (usize, usize) {
        self.cache.counts()
    }

    /// Tokens in memory now.
    #[cfg(test)]
    pub fn in_memory(&self) -> usize {
        self.cache.len()
    }

    /// Deletes tokens with events and no meta (`Restored::Orphaned`), saying so: run at start.
    pub async fn purge_orphans(&self) -> Result<usize, String> {
        let orphans = self.store.orphans().await?;
        for token in &orphans {
            tracing::warn!(
                "token {token} has stored events and no meta (never minted, or its meta was lost): deleting them"
            );
            self.delete(*token).await?;
        }
        Ok(orphans.len())
    }

    /// The storage hooks of the tests: the keys stored for `token`.
    pub async fn stored(&self, token: Token) -> Result<Vec<String>, String> {
        let entries = self.store.entries(token).await?;
        Ok(entries.into_iter().map(|(k, _)| k).collect())
    }

    /// The storage hooks of the tests: removes one stored entry, as a lost write would (its
    /// value, if it was there), and takes the token out of memory, as a restart would.
    pub async fn lose(&self, token: Token, key: &str) -> Result<Option<String>, String> {
        let entries = self.store.entries(token).await?;
        let Some((_, value)) = entries.into_iter().find(|(k, _)| k == key) else {
            return Ok(None);
        };
        self.write_alone(token, vec![Op::Lose(key.to_string())], false)
            .await
            .map_err(|f| f.to_string())?;
        self.cache.removed(token);
        Ok(Some(value))
    }

    /// The storage hooks of the tests: stores one entry as it is (a lost one put back).
    pub async fn restore(&self, token: Token, key: &str, value: &str) -> Result<(), String> {
        let entry = (key.to_string(), value.to_string());
        self.write_alone(token, vec![Op::Insert(vec![entry])], false)
            .await
            .map_err(|f| f.to_string())?;
        self.cache.removed(token);
        Ok(())
    }

    /// Forgets a parked wait whose client left.
    fn cancel(&self, token: Token, id: WaitId) {
        let _ = self.cache.with(token, self.now(), |slot| {
            slot.waiters.remove(&id);
            slot.state.cancel_wait(id);
        });
    }
}

/// Writes through other replicas sharing the store: tokens in memory take their events in
/// (waking the waits they answer); one that cannot (events missed) leaves memory, its waits
/// answered idle so that members ask again, here or anywhere. For a token not in memory a read
/// of it may be under way that missed the write: the cache marks it to be read again.
impl Observer for Tokens {
    fn written_elsewhere(&self, token: Token, entries: Vec<Entry>) {
        let now = self.now();
        let woken = self
            .cache
            .with(token, now, |slot| match slot.state.absorb(entries) {
                Ok(woken) => Some(slot.take_senders(woken)),
                Err(RestoreError(why)) => {
                    tracing::warn!("token {token}: {why}; reading it again");
                    None
                }
            });
        match woken {
            Lookup::Found(Some(woken)) => {
                for (tx, reply) in woken {
                    let _ = tx.send(reply);
                }
            }
            Lookup::Found(None) => self.cache.retire(token),
            Lookup::Missing(_) => self.cache.removed(token),
        }
    }

    fn deleted_elsewhere(&self, token: Token) {
        self.cache.retire(token);
    }

    fn missed(&self) {
        self.cache.retire_all();
    }
}

impl Fire for Tokens {
    fn fire(&self, token: Token) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(self.alarm(token))
    }
}

/// Forgets a parked wait whose request went away before it was answered. A v3 watch's wait
/// outlives the call that parked it, so it holds the tokens by `Arc`.
struct CancelOnDrop<T: std::ops::Deref<Target = Tokens>> {
    tokens: T,
    token: Token,
    /// `None` once the wait was answered.
    id: Option<WaitId>,
}

impl<T: std::ops::Deref<Target = Tokens>> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.tokens.cancel(self.token, id);
        }
    }
}
