//! etcd's v3 discovery, over the same registry as v2: what etcd 3.6+ members (and etcdctl) ask
//! with `KV.Range`, `KV.Put` and `Watch`, answered from one token's `Registry`. Revisions are
//! the registry's indexes, so a member registered over either protocol is seen by both, in one
//! order. Plain data in and out; the native server's gRPC shell moves the bytes.

pub mod key;

use crate::registry::{Event, Registry, Stored, Written};
use crate::v2::{Action, ErrorCode, EtcdError, KeysRequest, Op};
use key::{v3_key, Scope, Target};

/// The gRPC status a refusal is sent with (the shell maps these onto its library's codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    OutOfRange,
    Unimplemented,
    Unavailable,
}

/// A request this service will not carry out, and why, in words for the client's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub message: String,
}

impl Refusal {
    pub fn new(code: Code, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }

    /// A token that was never minted (or has ended): its keys do not exist.
    pub fn not_minted(scope: &Scope) -> Refusal {
        Refusal::new(
            Code::NotFound,
            format!(
                "token {} was never minted here (or has ended): mint one with /new?size=N",
                scope.token
            ),
        )
    }
}

/// A registry refusal as gRPC sees it: limits are `RESOURCE_EXHAUSTED`, the rest the caller's.
fn refused(e: &EtcdError) -> Refusal {
    let code = match e.code {
        ErrorCode::RaftInternal => Code::Unavailable,
        ErrorCode::KeyNotFound => Code::NotFound,
        ErrorCode::RootReadOnly | ErrorCode::Unauthorized => Code::PermissionDenied,
        ErrorCode::NoMorePeer | ErrorCode::EventIndexCleared => Code::ResourceExhausted,
        ErrorCode::TestFailed | ErrorCode::NodeExist | ErrorCode::DirNotEmpty => {
            Code::FailedPrecondition
        }
        _ => Code::InvalidArgument,
    };
    Refusal::new(code, format!("{}: {}", e.code.message(), e.cause))
}

/// A key as `mvccpb.KeyValue` carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kv {
    pub key: Vec<u8>,
    pub create_revision: i64,
    pub mod_revision: i64,
    /// Changes since creation, 1 at creation.
    pub version: i64,
    pub value: Vec<u8>,
}

/// A registry index as a v3 revision (etcd's are signed).
pub fn revision(index: u64) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

/// Writes to `name` from its creation up to `index`: etcd's version of the key then.
fn version(history: &[Event], name: &str, created: u64, index: u64) -> i64 {
    let n = history
        .iter()
        .filter(|e| e.key == name && e.index >= created && e.index <= index)
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn kv(reg: &Registry, name: &str, s: &Stored) -> Kv {
    Kv {
        key: v3_key(reg.token(), name),
        create_revision: revision(s.created),
        mod_revision: revision(s.modified),
        version: version(reg.history(), name, s.created, s.modified),
        value: s.value.clone().into_bytes(),
    }
}

/// The keys of `target` now, in key order (etcd's order for a range).
fn current(reg: &Registry, target: &Target) -> Vec<Kv> {
    let size = crate::registry::Key::Size.stored_name();
    let mut out: Vec<Kv> = reg
        .size_stored()
        .filter(|_| target.holds(size))
        .map(|s| kv(reg, size, s))
        .into_iter()
        .chain(
            reg.members()
                .filter(|(n, _)| target.holds(n))
                .map(|(n, s)| kv(reg, n, s)),
        )
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// `KV.Range` as members and etcdctl send it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeRequest {
    pub limit: i64,
    /// 0 or less: now. An earlier revision is answered by replaying the history up to it.
    pub revision: i64,
    pub keys_only: bool,
    pub count_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeResponse {
    /// The registry's revision now (etcd's `header.revision`).
    pub revision: i64,
    pub kvs: Vec<Kv>,
    pub more: bool,
    pub count: i64,
}

pub fn range(reg: &Registry, scope: &Scope, req: &RangeRequest) -> Result<RangeResponse, Refusal> {
    if !reg.is_minted() {
        return Err(Refusal::not_minted(scope));
    }
    let now = revision(reg.index());
    let mut kvs = if req.revision <= 0 || req.revision == now {
        current(reg, &scope.target)
    } else if req.revision > now {
        return Err(Refusal::new(
            Code::OutOfRange,
            format!(
                "etcdserver: mvcc: required revision is a future revision (asked {}, now {now})",
                req.revision
            ),
        ));
    } else {
        let upto = u64::try_from(req.revision).unwrap_or(0);
        let past: Vec<Event> = reg
            .history()
            .iter()
            .take_while(|e| e.index <= upto)
            .cloned()
            .collect();
        let then = Registry::restore(reg.token(), reg.limits().clone(), past)
            .map_err(|e| Refusal::new(Code::Unavailable, e.0))?;
        current(&then, &scope.target)
    };
    let count = i64::try_from(kvs.len()).unwrap_or(i64::MAX);
    let limit = usize::try_from(req.limit).unwrap_or(0);
    let more = limit > 0 && kvs.len() > limit;
    if more {
        kvs.truncate(limit);
    }
    if req.count_only {
        kvs.clear();
    } else if req.keys_only {
        kvs.iter_mut().for_each(|k| k.value.clear());
    }
    Ok(RangeResponse {
        revision: now,
        kvs,
        more,
        count,
    })
}

/// `KV.Put` of one key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PutRequest {
    pub value: Vec<u8>,
    pub lease: i64,
    pub prev_kv: bool,
    /// etcd's "keep the current value" and "keep the current lease": not served.
    pub ignore_value: bool,
    pub ignore_lease: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutResponse {
    pub revision: i64,
    pub prev_kv: Option<Kv>,
}

/// What a put leaves to the shell: store `written.events` (then wake `written.woken`) before
/// answering `response`.
#[derive(Debug)]
pub struct Put {
    pub written: Written,
    pub response: Result<PutResponse, Refusal>,
}

/// A member registering itself (`members/<id>`), as a plain put. Only member keys may be
/// written: the size is fixed at minting, and nothing else lives under a token.
pub fn put(reg: &mut Registry, scope: &Scope, req: &PutRequest, now: u64) -> Put {
    let refuse = |r: Refusal| Put {
        written: Written {
            events: Vec::new(),
            woken: Vec::new(),
            result: Ok(0),
        },
        response: Err(r),
    };
    if !reg.is_minted() {
        return refuse(Refusal::not_minted(scope));
    }
    let id = match &scope.target {
        Target::Member(id) => id.clone(),
        Target::Size => {
            return refuse(Refusal::new(
                Code::PermissionDenied,
                "the size is fixed when the token is minted",
            ))
        }
        _ => {
            return refuse(Refusal::new(
                Code::PermissionDenied,
                "only members/<id> keys can be written under a token",
            ))
        }
    };
    if req.ignore_value || req.ignore_lease {
        return refuse(Refusal::new(
            Code::InvalidArgument,
            "ignore_value and ignore_lease are not served here",
        ));
    }
    if req.lease != 0 {
        return refuse(Refusal::new(
            Code::InvalidArgument,
            "leases are not served here: discovery members put without one",
        ));
    }
    let max = reg.limits().max_value_bytes;
    if req.value.len() > max {
        return refuse(Refusal::new(
            Code::ResourceExhausted,
            format!(
                "the value is {} bytes: this service keeps at most {max} per member",
                req.value.len()
            ),
        ));
    }
    let Ok(value) = String::from_utf8(req.value.clone()) else {
        return refuse(Refusal::new(
            Code::InvalidArgument,
            "the value is not UTF-8",
        ));
    };
    let before = reg
        .members()
        .find(|(n, _)| *n == id)
        .map(|(n, s)| kv(reg, n, s));
    // v3 keeps a key's create revision across puts: v2's `set` would renew it, `update` keeps
    // it. The registry is held for the whole call, so what `before` saw still holds.
    let write = KeysRequest {
        key: format!("/{id}"),
        op: Op::Put {
            value,
            prev_exist: Some(before.is_some()),
            prev_value: None,
            prev_index: 0,
            ttl: None,
        },
    };
    let written = reg.write(&write, now);
    let response = match &written.result {
        Ok(index) => Ok(PutResponse {
            revision: revision(*index),
            prev_kv: before.filter(|_| req.prev_kv),
        }),
        Err(e) => Err(refused(e)),
    };
    Put { written, response }
}

/// One change as a watch sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    pub delete: bool,
    pub kv: Kv,
    pub prev_kv: Option<Kv>,
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

/// The revision a progress answer (`RequestProgress`) reports for a stream whose watches have
/// each sent every event up to its own `sent`: the least of them, since every watch on the stream
/// must be past it. None with no watch: there is no revision to report.
pub fn progress(sent: impl IntoIterator<Item = u64>) -> Option<i64> {
    sent.into_iter().min().map(revision)
}

/// How long a watch refused at creation waits for its answer. etcd's discovery creates its
/// watch again as soon as one ends (`waitPeers` has no back-off), so a member refused at once
/// would ask again in a tight loop; this makes it ask once a second.
pub const WATCH_REFUSAL_PAUSE_MS: u64 = 1_000;

/// Room for one more watch on the token: its watches park as waits, and share the waits'
/// limit with v2 members. The revision now, when there is room.
pub fn admit_watch(reg: &Registry) -> Result<u64, Refusal> {
    let most = reg.limits().max_waits;
    if reg.parked_waits() >= most {
        return Err(too_many_watches(most));
    }
    Ok(reg.index())
}

/// A watch refused (or ended) because the token holds as many waits and watches as it may.
pub fn too_many_watches(most: usize) -> Refusal {
    Refusal::new(
        Code::ResourceExhausted,
        format!("too many watches: this token already holds {most} waits and watches, the most this service keeps at once; try again later"),
    )
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
    let history = reg.history();
    let token = reg.token();
    history
        .iter()
        .filter(|e| e.index > after && target.holds(&e.key))
        .map(|e| {
            let key = v3_key(token, &e.key);
            let prev_kv = e.prev.as_ref().map(|p| Kv {
                key: key.clone(),
                create_revision: revision(p.created),
                mod_revision: revision(p.modified),
                version: version(history, &e.key, p.created, p.modified),
                value: p.value.clone().into_bytes(),
            });
            let delete = matches!(
                e.action,
                Action::Delete | Action::CompareAndDelete | Action::Expire
            );
            let kv = match (&e.node, delete) {
                (Some(s), false) => Kv {
                    key,
                    create_revision: revision(s.created),
                    mod_revision: revision(e.index),
                    version: version(history, &e.key, s.created, e.index),
                    value: s.value.clone().into_bytes(),
                },
                // etcd's delete event: the key, with the revision of the deletion.
                _ => Kv {
                    key,
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

#[cfg(test)]
mod tests;
