//! A registry's keys and events as etcd v2 shows them: nodes with their paths, TTLs and
//! indexes, and event bodies with the node before and after.

use super::{EventBody, Node};
use crate::registry::{Event, Key, Stored};
use crate::time::{rfc3339, ttl_secs};
use crate::Token;

/// The index etcd shows on the token's directories: they exist from the first write.
pub const DIR_INDEX: u64 = 1;

/// A key as a node at `now` (its TTL counts down to its expiry).
pub fn node(key: &Key, token: &Token, s: &Stored, now: u64) -> Node {
    Node {
        key: key.path(token),
        value: Some(s.value.clone()),
        expiration: s.expires_at.map(rfc3339),
        ttl: s.expires_at.map_or(0, |t| ttl_secs(t, now)),
        modified_index: s.modified,
        created_index: s.created,
        ..Node::default()
    }
}

/// A directory node listing `nodes`.
pub fn dir(key: &Key, token: &Token, nodes: Vec<Node>) -> Node {
    Node {
        key: key.path(token),
        dir: true,
        nodes,
        modified_index: DIR_INDEX,
        created_index: DIR_INDEX,
        ..Node::default()
    }
}

/// An event on `key` as etcd answers the write or the wait it wakes: the node after it (a
/// deletion shows the key with the event's index) and the node before.
pub fn event(key: &Key, token: &Token, e: &Event) -> EventBody {
    let after = match (&e.node, &e.prev) {
        (Some(s), _) => node(key, token, s, e.at),
        (None, prev) => Node {
            key: key.path(token),
            modified_index: e.index,
            created_index: prev.as_ref().map_or(e.index, |p| p.created),
            ..Node::default()
        },
    };
    EventBody {
        action: e.action,
        node: Some(after),
        prev_node: e.prev.as_ref().map(|p| node(key, token, p, e.at)),
    }
}
