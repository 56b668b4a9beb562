//! etcd's v3 discovery, over the same registry as v2: what etcd 3.6+ members (and etcdctl) ask
//! with `KV.Range`, `KV.Put` and `Watch`, answered from one token's `Registry`. Revisions are
//! the registry's indexes, so a member registered over either protocol is seen by both, in one
//! order. Plain data in and out; the native server's gRPC shell moves the bytes.
//!
//! Every call takes the token's registry as `Option`: `None` when nothing is stored for the
//! token (never minted, or its life is over), which v3 reads as `NOT_FOUND`.

pub mod key;
pub mod watch;

use crate::registry::{Event, Key, Put, Refused, Registry, Stored, Written};
use key::{v3_key, Scope, Target};

pub use watch::{progress, Watch, WatchEvent, WATCH_REFUSAL_PAUSE_MS};

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

    /// A registry rule, as gRPC sees it: limits are `RESOURCE_EXHAUSTED`, the size and the
    /// founders `PERMISSION_DENIED`, the rest the caller's mistake.
    pub fn from_registry(refused: &Refused, scope: &Scope) -> Refusal {
        let code = match refused {
            Refused::NotMinted { .. } => return Refusal::not_minted(scope),
            Refused::SizeFixed { .. } => {
                return Refusal::new(
                    Code::PermissionDenied,
                    "the size is fixed when the token is minted",
                )
            }
            Refused::ValueTooLarge { len, max } => {
                return Refusal::new(
                    Code::ResourceExhausted,
                    format!(
                        "the value is {len} bytes: this service keeps at most {max} per member"
                    ),
                )
            }
            Refused::NoSuchKey { .. } => Code::NotFound,
            Refused::Founder { .. } | Refused::NotAFile { .. } => Code::PermissionDenied,
            Refused::TooManyMembers { .. }
            | Refused::TooManyEvents { .. }
            | Refused::TooManyWaits { .. } => Code::ResourceExhausted,
            Refused::Exists { .. } | Refused::CompareFailed { .. } => Code::FailedPrecondition,
            Refused::BadKey { .. } => Code::InvalidArgument,
        };
        Refusal::new(
            code,
            format!("{}: {}", refused.code().message(), refused.cause()),
        )
    }
}

/// The calls of etcd's v3 API this service does not serve, each with why, for `UNIMPLEMENTED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unserved {
    DeleteRange,
    Txn,
    Compact,
}

impl Unserved {
    pub fn refusal(self) -> Refusal {
        let why = match self {
            Unserved::DeleteRange => "DeleteRange is not served: discovery members never delete",
            Unserved::Txn => "Txn is not served: discovery members put without transactions",
            Unserved::Compact => "Compact is not served: a token keeps its whole history",
        };
        Refusal::new(Code::Unimplemented, why)
    }
}

/// `Auth.Authenticate`: this service has no users, as an etcd with authentication off; the
/// member's error names the cause.
pub fn authenticate() -> Refusal {
    Refusal::new(
        Code::FailedPrecondition,
        "etcdserver: authentication is not enabled (this discovery service has no users: start members without --discovery-user)",
    )
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

/// The registry key `name` as `s` holds it, modified last at `modified`: the one place a v3
/// key-value is made, for ranges, previous values and watch events alike.
fn kv(reg: &Registry, name: &str, s: &Stored, modified: u64) -> Kv {
    Kv {
        key: v3_key(reg.token(), name),
        create_revision: revision(s.created),
        mod_revision: revision(modified),
        version: version(reg.history(), name, s.created, modified),
        value: s.value.clone().into_bytes(),
    }
}

/// The keys of `target` now, in key order (etcd's order for a range).
fn current(reg: &Registry, target: &Target) -> Vec<Kv> {
    let size = Key::Size.stored_name();
    let mut out: Vec<Kv> = reg
        .size_stored()
        .filter(|_| target.holds(size))
        .map(|s| kv(reg, size, s, s.modified))
        .into_iter()
        .chain(
            reg.members()
                .filter(|(n, _)| target.holds(n))
                .map(|(n, s)| kv(reg, n, s, s.modified)),
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

pub fn range(
    reg: Option<&Registry>,
    scope: &Scope,
    req: &RangeRequest,
) -> Result<RangeResponse, Refusal> {
    let reg = reg.ok_or_else(|| Refusal::not_minted(scope))?;
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
pub struct PutOutcome {
    pub written: Written,
    pub response: Result<PutResponse, Refusal>,
}

/// A member registering itself (`members/<id>`), as a plain put. What only v3 has (leases,
/// `ignore_*`, bytes that must be UTF-8 here) is checked here; the rest (minted, the size, the
/// value's size, the limits) is the registry's, as for a v2 PUT.
pub fn put(reg: Option<&mut Registry>, scope: &Scope, req: &PutRequest, now: u64) -> PutOutcome {
    let refuse = |r: Refusal| PutOutcome {
        written: Written {
            events: Vec::new(),
            woken: Vec::new(),
            result: Ok(0),
        },
        response: Err(r),
    };
    let key = match &scope.target {
        Target::Member(id) => Key::Member(id.clone()),
        Target::Size => Key::Size,
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
    let Some(reg) = reg else {
        return refuse(Refusal::not_minted(scope));
    };
    let Ok(value) = String::from_utf8(req.value.clone()) else {
        return refuse(Refusal::new(
            Code::InvalidArgument,
            "the value is not UTF-8",
        ));
    };
    let before = match &key {
        Key::Member(id) => reg.member(id).map(|s| kv(reg, id, s, s.modified)),
        _ => None,
    };
    // v3 keeps a key's create revision across puts: v2's `set` would renew it, `update` keeps
    // it. The registry is held for the whole call, so what `before` saw still holds.
    let write = Put {
        value,
        prev_exist: Some(before.is_some()),
        ..Put::default()
    };
    let written = reg.write(&key, &write, now);
    let response = match &written.result {
        Ok(index) => Ok(PutResponse {
            revision: revision(*index),
            prev_kv: before.filter(|_| req.prev_kv),
        }),
        Err(e) => Err(Refusal::from_registry(e, scope)),
    };
    PutOutcome { written, response }
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
