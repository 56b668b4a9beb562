//! etcd's `Watch` stream as a state machine with no I/O: one per client stream, several
//! watches on it. Requests go in (create, cancel, progress), answers come out as plain
//! `WatchResponse`s; ids are given and refused as etcd 3.5 gives them. Each watch replays the
//! token's history after its start revision (nothing is ever compacted) and then parks a wait
//! on the token's registry (`park`), the registry's own way of hearing of the next change; the
//! shell looks again (`Stream::poll`) whenever that wait ends.

use std::collections::BTreeMap;

use super::key::{scope, Scope, Target};
use super::{kv, revision, Code, Kv, Refusal};
use crate::registry::{Key, Parked, Registry};
use crate::v2::Action;
use crate::Token;

/// How long a watch refused at creation waits for its answer. etcd's discovery creates its
/// watch again as soon as one ends (`waitPeers` has no back-off), so a member refused at once
/// would ask again in a tight loop; this makes it ask once a second.
pub const WATCH_REFUSAL_PAUSE_MS: u64 = 1_000;

/// How long a watch whose registry could not be read (storage trouble) waits before the shell
/// looks again.
pub const RETRY_AFTER_TROUBLE_MS: u64 = 1_000;

/// The id a client sends to have the stream choose one (etcd's `AutoWatchID`).
pub const AUTO_WATCH_ID: i64 = 0;

/// The id of a watch that was never made, and of progress answers (etcd's `InvalidWatchID`).
pub const INVALID_WATCH_ID: i64 = -1;

/// etcd's reason for a create naming an id the stream already has.
pub const DUPLICATE_ID: &str = "mvcc: duplicate watch ID provided on the WatchStream";

/// One change as a watch sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    pub delete: bool,
    pub kv: Kv,
    pub prev_kv: Option<Kv>,
}

/// `WatchCreateRequest`, as far as this service reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateRequest {
    pub key: Vec<u8>,
    pub range_end: Vec<u8>,
    pub start_revision: i64,
    /// `AUTO_WATCH_ID`, or the id the client chose.
    pub watch_id: i64,
    pub no_put: bool,
    pub no_delete: bool,
    pub prev_kv: bool,
}

/// `WatchResponse`, as plain data: the shell copies it field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchResponse {
    pub watch_id: i64,
    /// The header's revision.
    pub revision: i64,
    pub created: bool,
    pub canceled: bool,
    pub cancel_reason: String,
    pub events: Vec<WatchEvent>,
}

/// What one watch asked for (`WatchCreateRequest`): where it starts, which kinds of events
/// (etcd's NOPUT and NODELETE filters), and whether previous values come with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watch {
    /// The revision after which events are sent: `start_revision - 1`, or the revision now
    /// when it gave none.
    pub after: u64,
    pub puts: bool,
    pub deletes: bool,
    pub prev_kv: bool,
}

impl Watch {
    /// A watch from `start_revision` (0 or less: from now, the registry being at `now`).
    pub fn new(
        start_revision: i64,
        now: u64,
        no_put: bool,
        no_delete: bool,
        prev_kv: bool,
    ) -> Watch {
        let after = u64::try_from(start_revision)
            .ok()
            .filter(|r| *r > 0)
            .map_or(now, |r| r - 1);
        Watch {
            after,
            puts: !no_put,
            deletes: !no_delete,
            prev_kv,
        }
    }

    /// The changes to `target` this watch has not sent yet, as it asked for them, and moves it
    /// past them (to the registry's revision now, unless it starts later than that).
    pub fn next(&mut self, reg: &Registry, target: &Target) -> Vec<WatchEvent> {
        let events = events_after(reg, target, self.after)
            .into_iter()
            .filter(|e| if e.delete { self.deletes } else { self.puts })
            .map(|e| WatchEvent {
                prev_kv: e.prev_kv.filter(|_| self.prev_kv),
                ..e
            })
            .collect();
        self.after = self.after.max(reg.index());
        events
    }
}

/// The changes to `target` after revision `after`, oldest first: what a watch from
/// `after + 1` sends. The whole history is kept, so no watch ever meets a compaction.
pub fn events_after(reg: &Registry, target: &Target, after: u64) -> Vec<WatchEvent> {
    reg.history()
        .iter()
        .filter(|e| e.index > after && target.holds(&e.key))
        .map(|e| {
            let prev_kv = e.prev.as_ref().map(|p| kv(reg, &e.key, p, p.modified));
            let delete = matches!(
                e.action,
                Action::Delete | Action::CompareAndDelete | Action::Expire
            );
            let kv = match (&e.node, delete) {
                (Some(s), false) => kv(reg, &e.key, s, e.index),
                // etcd's delete event: the key, with the revision of the deletion.
                _ => Kv {
                    key: super::key::v3_key(reg.token(), &e.key),
                    create_revision: 0,
                    mod_revision: revision(e.index),
                    version: 0,
                    value: Vec::new(),
                },
            };
            WatchEvent {
                delete,
                kv,
                prev_kv,
            }
        })
        .collect()
}

/// The revision a progress answer (`RequestProgress`) reports for a stream whose watches have
/// each sent every event up to its own `sent`: the least of them, since every watch on the stream
/// must be past it. None with no watch: there is no revision to report.
pub fn progress(sent: impl IntoIterator<Item = u64>) -> Option<i64> {
    sent.into_iter().min().map(revision)
}

/// A watch refused (or ended) because the token holds as many waits and watches as it may.
pub fn too_many_watches(most: usize) -> Refusal {
    Refusal::new(
        Code::ResourceExhausted,
        format!("too many watches: this token already holds {most} waits and watches, the most this service keeps at once; try again later"),
    )
}

/// Where a watch that has sent everything up to `after` waits for the next change: a wait on
/// the token's registry (sharing the waits' limit with v2 members), `Ok(None)` when the
/// registry has moved past `after` already (look again at once), or refused.
pub fn park(reg: &mut Registry, after: u64, now: u64) -> Result<Option<Parked>, Refusal> {
    if reg.index() > after {
        return Ok(None);
    }
    reg.park(Key::Dir, true, after.saturating_add(1), now)
        .map(Some)
        .map_err(|_| too_many_watches(reg.limits().max_waits))
}

/// One watch of a stream: what it reads and how far it has sent.
#[derive(Debug, Clone)]
struct Watching {
    scope: Scope,
    watch: Watch,
}

/// A create's outcome.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    /// The watch `id` runs: send `answers` (created, then any events its start replays), then
    /// park it.
    Watching {
        id: i64,
        answers: Vec<WatchResponse>,
    },
    /// Refused: send this after `WATCH_REFUSAL_PAUSE_MS`.
    Refused(WatchResponse),
}

/// A look at one watch's registry.
#[derive(Debug, PartialEq, Eq)]
pub enum Polled {
    /// Still watching; send the events found, if any, then park it again.
    Watching(Option<WatchResponse>),
    /// Its token is gone: the watch ended with this answer.
    Ended(WatchResponse),
    /// No such watch on the stream (canceled meanwhile): nothing to do.
    Gone,
}

/// One client's watch stream.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    watches: BTreeMap<i64, Watching>,
    /// The next id to try for a create that lets the stream choose.
    next_id: i64,
}

impl Stream {
    /// The first step of a create, before any registry is read: the token and keys it names,
    /// or the answer refusing it (etcd's shape for a watch it may not make: created and
    /// canceled at once, under the id the client sent).
    pub fn scope(req: &CreateRequest) -> Result<Scope, WatchResponse> {
        scope(&req.key, &req.range_end).map_err(|r| refused(req.watch_id, 0, r.message))
    }

    /// Makes the watch `req` asks for on `scope`, with the token's registry (`None`: nothing
    /// stored for it).
    pub fn create(&mut self, req: &CreateRequest, scope: Scope, reg: Option<&Registry>) -> Created {
        let now = reg.map_or(0, Registry::index);
        if req.watch_id != AUTO_WATCH_ID && self.watches.contains_key(&req.watch_id) {
            return Created::Refused(refused(
                INVALID_WATCH_ID,
                revision(now),
                DUPLICATE_ID.to_string(),
            ));
        }
        let Some(reg) = reg else {
            let why = Refusal::not_minted(&scope).message;
            return Created::Refused(refused(INVALID_WATCH_ID, 0, why));
        };
        let most = reg.limits().max_waits;
        if reg.parked_waits() >= most {
            let why = too_many_watches(most).message;
            return Created::Refused(refused(INVALID_WATCH_ID, revision(now), why));
        }
        let id = self.assign(req.watch_id);
        let watch = Watch::new(
            req.start_revision,
            now,
            req.no_put,
            req.no_delete,
            req.prev_kv,
        );
        self.watches.insert(id, Watching { scope, watch });
        let mut answers = vec![WatchResponse {
            watch_id: id,
            revision: revision(now),
            created: true,
            ..WatchResponse::default()
        }];
        // Created goes first; then what the history holds after the watch's start.
        if let Polled::Watching(Some(events)) = self.poll(id, Some(reg)) {
            answers.push(events);
        }
        Created::Watching { id, answers }
    }

    /// etcd's ids: a client's own id as it is (unless in use, refused before this), else the
    /// stream's counter, passing over ids in use. The counter wraps as Go's int64 does.
    fn assign(&mut self, asked: i64) -> i64 {
        if asked != AUTO_WATCH_ID {
            return asked;
        }
        while self.watches.contains_key(&self.next_id) {
            self.next_id = self.next_id.wrapping_add(1);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Cancels watch `id`: its answer, or none for an id the stream does not have (as etcd).
    pub fn cancel(&mut self, id: i64) -> Option<WatchResponse> {
        let w = self.watches.remove(&id)?;
        Some(WatchResponse {
            watch_id: id,
            revision: revision(w.watch.after),
            canceled: true,
            ..WatchResponse::default()
        })
    }

    /// The answer to a progress request: the revision every watch on the stream has reached.
    pub fn progress(&self) -> WatchResponse {
        let sent = self.watches.values().map(|w| w.watch.after);
        WatchResponse {
            watch_id: INVALID_WATCH_ID,
            revision: progress(sent).unwrap_or(0),
            ..WatchResponse::default()
        }
    }

    /// The token whose registry watch `id` reads.
    pub fn token(&self, id: i64) -> Option<Token> {
        self.watches.get(&id).map(|w| w.scope.token)
    }

    /// The revision watch `id` has sent everything up to: where it parks.
    pub fn after(&self, id: i64) -> Option<u64> {
        self.watches.get(&id).map(|w| w.watch.after)
    }

    /// Looks at watch `id`'s registry (`None`: its token is gone) for events it has not sent.
    pub fn poll(&mut self, id: i64, reg: Option<&Registry>) -> Polled {
        let Some(w) = self.watches.get_mut(&id) else {
            return Polled::Gone;
        };
        let Some(reg) = reg else {
            return self.end(id, "the token has ended".to_string());
        };
        let events = w.watch.next(reg, &w.scope.target);
        Polled::Watching((!events.is_empty()).then(|| WatchResponse {
            watch_id: id,
            revision: revision(w.watch.after),
            events,
            ..WatchResponse::default()
        }))
    }

    /// Watch `id` could not park again (`park` refused it): it ends, with the reason.
    pub fn refused_park(&mut self, id: i64, refusal: Refusal) -> Polled {
        self.end(id, refusal.message)
    }

    fn end(&mut self, id: i64, reason: String) -> Polled {
        match self.watches.remove(&id) {
            Some(w) => Polled::Ended(WatchResponse {
                watch_id: id,
                revision: revision(w.watch.after),
                canceled: true,
                cancel_reason: reason,
                ..WatchResponse::default()
            }),
            None => Polled::Gone,
        }
    }

    /// The ids of the watches running, in order.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.watches.keys().copied()
    }
}

/// A create refused: created and canceled in one answer, with the reason.
fn refused(id: i64, revision: i64, reason: String) -> WatchResponse {
    WatchResponse {
        watch_id: id,
        revision,
        created: true,
        canceled: true,
        cancel_reason: reason,
        ..WatchResponse::default()
    }
}

#[cfg(test)]
mod tests;
