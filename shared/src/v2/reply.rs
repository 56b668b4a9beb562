//! What the core answers to one keys request: a status, the `X-Etcd-Index` and a body.

use super::{EtcdError, EventBody};

/// An answer ready to be written by the shell. Every answer is `application/json` and carries
/// `X-Etcd-Index` (and the same number as `X-Raft-Index`): etcd's client reads the index from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub etcd_index: u64,
    /// Empty only for a wait that ended idle; etcd members then re-send it.
    pub body: String,
    /// For a 429: seconds after which to try again (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn event(status: u16, etcd_index: u64, body: &EventBody) -> Reply {
        Reply {
            status,
            etcd_index,
            body: body.to_json(),
            retry_after: None,
        }
    }

    pub fn error(e: &EtcdError) -> Reply {
        Reply {
            status: e.status(),
            etcd_index: e.index,
            body: e.to_json(),
            retry_after: None,
        }
    }

    /// The empty 200 that ends an idle wait.
    pub fn idle(etcd_index: u64) -> Reply {
        Reply {
            status: 200,
            etcd_index,
            body: String::new(),
            retry_after: None,
        }
    }

    /// A 429 in etcd's error format, with when to try again.
    pub fn too_many(e: &EtcdError, retry_after: u64) -> Reply {
        Reply {
            status: 429,
            retry_after: Some(retry_after),
            ..Reply::error(e)
        }
    }
}

impl From<EtcdError> for Reply {
    fn from(e: EtcdError) -> Reply {
        Reply::error(&e)
    }
}
