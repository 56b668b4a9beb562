//! Events: every change to a token's keys, kept whole for the token's life. They are what the
//! Durable Object stores; replaying them rebuilds the registry exactly.

use serde::{Deserialize, Serialize};

use crate::v2::Action;

/// A key's value as stored: what etcd shows of it, in Unix milliseconds for the expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub value: String,
    pub created: u64,
    pub modified: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// One change. `node` is the key's state after it (`None` once deleted or expired), `prev` before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub index: u64,
    pub action: Action,
    /// The key below the token (`_config/size` or a member name).
    pub key: String,
    /// When it happened, Unix milliseconds: a node's `ttl` in the event is counted from here.
    pub at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Stored>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<Stored>,
}

impl Event {
    /// The storage key of this event: zero-padded so that storage lists events in index order.
    pub fn storage_key(&self) -> String {
        Event::key_of(self.index)
    }

    /// The storage key of the event at `index`.
    pub fn key_of(index: u64) -> String {
        format!("e/{index:020}")
    }

    /// The first storage key after the event at `index` (where a read of later events starts).
    pub fn key_after(index: u64) -> String {
        Event::key_of(index.saturating_add(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keys_sort_in_index_order() {
        let key = |index| {
            Event {
                index,
                action: Action::Create,
                key: "a".into(),
                at: 0,
                node: None,
                prev: None,
            }
            .storage_key()
        };
        assert!(key(9) < key(10));
        assert!(key(99) < key(100_000));
        assert_eq!(key(7), "e/00000000000000000007");
    }

    #[test]
    fn round_trips_through_json() {
        let e = Event {
            index: 3,
            action: Action::CompareAndSwap,
            key: "m".into(),
            at: 1_000,
            node: Some(Stored {
                value: "x".into(),
                created: 2,
                modified: 3,
                expires_at: Some(5_000),
            }),
            prev: Some(Stored {
                value: "w".into(),
                created: 2,
                modified: 2,
                expires_at: None,
            }),
        };
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e);
    }
}
