//! A token's life: minted with a size, filled by its members, deleted when it expires. What the
//! shells store for it (the key layout of its meta and events), the one place that rebuilds it
//! from what was stored, and every rule of its life as an effect the shells carry out: what to
//! store, when to delete it all, when its one stored alarm fires, which parked waits to answer.

use serde::{Deserialize, Serialize};

use crate::http::Response;
use crate::registry::{Answer, Event, Parked, Registry, WaitId, Written};
use crate::v2::{RawRequest, Reply};
use crate::v3::Refusal;
use crate::{Limits, Token};

/// The storage key of a token's meta.
pub const META_KEY: &str = "meta";
/// Storage keys of events start with this, then the zero-padded index (`Event::storage_key`).
pub const EVENT_PREFIX: &str = "e/";

/// What a token knows beyond its events: its size, and when it was minted and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub token: String,
    pub size: u64,
    /// Unix milliseconds.
    pub minted_at: u64,
    /// Unix milliseconds; from then on the token and its registry are deleted.
    pub expires_at: u64,
}

impl Meta {
    pub fn new(token: Token, size: u64, now: u64, limits: &Limits) -> Meta {
        Meta {
            token: token.to_string(),
            size,
            minted_at: now,
            expires_at: now.saturating_add(limits.token_lifetime_secs.saturating_mul(1000)),
        }
    }

    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A (storage key, JSON text) pair, as both shells store them.
pub type Entry = (String, String);

/// The stored entries of some events.
pub fn event_entries(events: &[Event]) -> Vec<Entry> {
    events
        .iter()
        .map(|e| {
            (
                e.storage_key(),
                serde_json::to_string(e).unwrap_or_default(),
            )
        })
        .collect()
}

/// What the shell must carry out for the core, in this order: store `store` (or delete
/// everything, `purge`) and move the alarm, all or nothing; only then send `woken`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// New entries, stored together; an entry stored already is a failure (events are never
    /// rewritten).
    pub store: Vec<Entry>,
    /// The token's life is over: delete everything stored for it, its alarm too, and drop it
    /// from memory.
    pub purge: bool,
    /// The token's stored alarm moves to this time (`Some(None)`: no alarm). `None`: unchanged.
    pub alarm: Option<Option<u64>>,
    /// Parked waits answered: send once the rest is stored.
    pub woken: Vec<(WaitId, Reply)>,
}

impl Effects {
    /// Whether anything must be written.
    pub fn writes(&self) -> bool {
        !self.store.is_empty() || self.purge || self.alarm.is_some()
    }
}

/// What was stored for a token, read back.
#[derive(Debug)]
pub enum Restored {
    Minted(Box<TokenState>),
    /// Nothing stored: never minted, or deleted.
    Nothing,
    /// Events with no meta: no size and no end, so nothing would ever delete it. The shell
    /// deletes them (and says so in its log), then answers as for a token never minted.
    Orphaned {
        events: usize,
    },
}

/// Why what was stored cannot be read; the shell answers 503 and writes nothing over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreError(pub String);

/// A minted token as a shell keeps it in memory: its registry, its meta, and the alarm time the
/// shell has stored for it.
#[derive(Debug, Clone)]
pub struct TokenState {
    registry: Registry,
    meta: Meta,
    /// The alarm last handed to the shell; `None` after a restore or once the alarm fired.
    armed: Option<u64>,
}

impl TokenState {
    /// Mints `token` with `size`: the token, and what to store for it (its meta, its first
    /// event, its alarm at its end).
    pub fn mint(token: Token, size: u64, now: u64, limits: &Limits) -> (TokenState, Effects) {
        let mut registry = Registry::new(token, limits.clone());
        let mut store = Vec::new();
        let meta = Meta::new(token, size, now, limits);
        store.push((META_KEY.to_string(), meta.to_json()));
        if let Ok(event) = registry.mint(size, now) {
            store.extend(event_entries(&[event]));
        }
        let mut state = TokenState {
            registry,
            meta,
            armed: None,
        };
        let alarm = state.rearm();
        let effects = Effects {
            store,
            alarm,
            ..Effects::default()
        };
        (state, effects)
    }

    /// Rebuilds a token from its stored entries, in any order; keys it does not know are
    /// passed over.
    pub fn restore(
        token: Token,
        limits: Limits,
        entries: impl IntoIterator<Item = Entry>,
    ) -> Result<Restored, RestoreError> {
        let mut events = Vec::new();
        let mut meta = None;
        for (key, text) in entries {
            if key == META_KEY {
                let m = serde_json::from_str::<Meta>(&text)
                    .map_err(|e| RestoreError(format!("stored registry unreadable: meta: {e}")))?;
                meta = Some(m);
            } else if key.starts_with(EVENT_PREFIX) {
                let e = serde_json::from_str::<Event>(&text)
                    .map_err(|e| RestoreError(format!("stored registry unreadable: {key}: {e}")))?;
                events.push(e);
            }
        }
        let Some(meta) = meta else {
            return Ok(if events.is_empty() {
                Restored::Nothing
            } else {
                Restored::Orphaned {
                    events: events.len(),
                }
            });
        };
        if meta.token != token.to_string() {
            return Err(RestoreError(format!(
                "stored registry unreadable: its meta names token {}",
                meta.token
            )));
        }
        let registry = Registry::restore(token, limits, events).map_err(|e| RestoreError(e.0))?;
        if !registry.is_minted() {
            return Err(RestoreError(
                "stored registry unreadable: a meta without its size event".into(),
            ));
        }
        Ok(Restored::Minted(Box::new(TokenState {
            registry,
            meta,
            armed: None,
        })))
    }

    pub fn token(&self) -> Token {
        self.registry.token()
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The registry as it stands, whatever the time (for tests and the inspector's views).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Whether the token's life is over at `now`.
    pub fn expired(&self, now: u64) -> bool {
        self.meta.expired(now)
    }

    /// The registry to read at `now`: `None` once the token's life is over, as if nothing were
    /// stored (its alarm, or the next request, deletes it).
    pub fn live(&self, now: u64) -> Option<&Registry> {
        (!self.expired(now)).then_some(&self.registry)
    }

    /// When the token's stored alarm must fire: the next member TTL or the token's end,
    /// whichever comes first.
    pub fn alarm_at(&self) -> u64 {
        let ttl = self.registry.next_expiry();
        ttl.map_or(self.meta.expires_at, |t| t.min(self.meta.expires_at))
    }

    /// The soonest of the token's deadlines: its alarm, or a parked wait's end. A shell with
    /// one timer per token sleeps until this and then calls `on_alarm` or `end_idle_waits`.
    pub fn next_deadline(&self) -> u64 {
        let wait = self.registry.next_wait_deadline().unwrap_or(u64::MAX);
        self.alarm_at().min(wait)
    }

    /// One keys request at `now`. A token past its end is deleted (`purge`) and answers as one
    /// never minted.
    pub fn handle(&mut self, request: RawRequest, now: u64) -> (Answer, Effects) {
        if self.expired(now) {
            let limits = self.registry.limits().clone();
            let answer = unminted(self.token(), &limits, request, now);
            return (Answer::Reply(answer), self.end());
        }
        let outcome = match request.parse(self.registry.index()) {
            Ok(request) => self.registry.handle(&request, now),
            Err(e) => crate::registry::Outcome::reply(Reply::error(&e)),
        };
        let effects = self.effects(&outcome.events, outcome.woken, false);
        (outcome.answer, effects)
    }

    /// A change made for v3 at `now` (`f` is given the registry, or `None` past the token's
    /// end, when the token is deleted as for any request).
    pub fn write<T>(
        &mut self,
        now: u64,
        f: impl FnOnce(Option<&mut Registry>, u64) -> (Written, T),
    ) -> (T, Effects) {
        if self.expired(now) {
            let (_, answer) = f(None, now);
            return (answer, self.end());
        }
        let (written, answer) = f(Some(&mut self.registry), now);
        let effects = self.effects(&written.events, written.woken, false);
        (answer, effects)
    }

    /// Parks a v3 watch that has sent everything up to `after` (`shared::v3::watch::park`):
    /// `Ok(None)` to look again at once (the registry moved on, or the token ended).
    pub fn park_watch(&mut self, after: u64, now: u64) -> Result<Option<Parked>, Refusal> {
        if self.expired(now) {
            return Ok(None);
        }
        crate::v3::watch::park(&mut self.registry, after, now)
    }

    /// The stored alarm fired at `now`: member TTLs expire, or the token ends. The next alarm
    /// is always stored again, so a stale one cannot fire twice.
    pub fn on_alarm(&mut self, now: u64) -> Effects {
        self.armed = None;
        if self.expired(now) {
            return self.end();
        }
        let (events, woken) = self.registry.tick(now);
        self.effects(&events, woken, true)
    }

    /// Events of this token stored by another replica (the shared store's watch saw them):
    /// taken in, and the parked waits they answer woken. Nothing is stored again. An `Err`
    /// means the token must be read again (events were missed).
    pub fn absorb(
        &mut self,
        entries: impl IntoIterator<Item = Entry>,
    ) -> Result<Vec<(WaitId, Reply)>, RestoreError> {
        let mut events = Vec::new();
        for (key, text) in entries {
            if key.starts_with(EVENT_PREFIX) {
                let e = serde_json::from_str::<Event>(&text)
                    .map_err(|e| RestoreError(format!("event written elsewhere: {key}: {e}")))?;
                events.push(e);
            }
        }
        let woken = self
            .registry
            .absorb(events)
            .map_err(|e| RestoreError(e.0))?;
        // The alarm the other replica stored is not known here: store it again when next asked.
        self.armed = None;
        Ok(woken)
    }

    /// Ends the parked waits whose deadline has come by `now`, with the idle answer.
    pub fn end_idle_waits(&mut self, now: u64) -> Vec<(WaitId, Reply)> {
        self.registry.end_idle_waits(now)
    }

    /// Ends every parked wait with the idle answer: the token leaves memory (a write failed,
    /// the server stops) and members send their waits again.
    pub fn end_waits(&mut self) -> Vec<(WaitId, Reply)> {
        self.registry.end_all_waits()
    }

    /// Forgets a wait whose client left; the idle answer that ends it.
    pub fn cancel_wait(&mut self, id: WaitId) -> Reply {
        self.registry.cancel_wait(id)
    }

    /// `GET /ledger/<token>` at `now`.
    pub fn ledger(&self, now: u64) -> Response {
        let live = (!self.expired(now)).then_some(&self.meta);
        crate::ledger::response(self.token(), live, self.registry.history())
    }

    /// The token's end: delete everything, end its waits.
    fn end(&mut self) -> Effects {
        Effects {
            purge: true,
            woken: self.registry.end_all_waits(),
            ..Effects::default()
        }
    }

    /// What a change asks of the shell: its events stored, the alarm moved if it did (or
    /// always, once it fired), then the waits answered.
    fn effects(&mut self, events: &[Event], woken: Vec<(WaitId, Reply)>, fired: bool) -> Effects {
        let alarm = if !events.is_empty() || fired {
            self.rearm()
        } else {
            None
        };
        Effects {
            store: event_entries(events),
            purge: false,
            alarm,
            woken,
        }
    }

    /// The alarm to store, if it is not the one stored already.
    fn rearm(&mut self) -> Option<Option<u64>> {
        let at = self.alarm_at();
        if self.armed == Some(at) {
            return None;
        }
        self.armed = Some(at);
        Some(Some(at))
    }
}

/// The answer to a keys request on a token with nothing stored (never minted, or deleted).
pub fn unminted(token: Token, limits: &Limits, request: RawRequest, now: u64) -> Reply {
    let mut registry = Registry::new(token, limits.clone());
    let outcome = match request.parse(0) {
        Ok(request) => registry.handle(&request, now),
        Err(e) => return Reply::error(&e),
    };
    match outcome.answer {
        Answer::Reply(reply) => reply,
        // A registry nobody minted parks nothing; should it, the wait ends at once.
        Answer::Parked(_) => Reply::idle(0),
    }
}

/// The answer to a parked wait whose token left memory before answering it: a write of the
/// token failed, and what the wait would have shown was never stored. etcd asks again after a
/// 5xx.
pub fn wait_lost() -> Response {
    Response::unavailable("the token's storage failed; ask again")
}

/// `GET /ledger/<token>` for a token with nothing stored.
pub fn ledger_unminted(token: Token) -> Response {
    crate::ledger::response(token, None, &[])
}

#[cfg(test)]
mod tests;
