//! Nodes and event bodies in etcd's JSON, field for field (etcd's `NodeExtern` and `Event`).

use serde::{Deserialize, Serialize};

/// What happened to a key; etcd writes these names in `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Get,
    Create,
    Set,
    Update,
    Delete,
    CompareAndSwap,
    CompareAndDelete,
    Expire,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Get => "get",
            Action::Create => "create",
            Action::Set => "set",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::CompareAndSwap => "compareAndSwap",
            Action::CompareAndDelete => "compareAndDelete",
            Action::Expire => "expire",
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

/// A node as etcd shows it. Empty fields are left out, exactly as Go's `omitempty` does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub dir: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub ttl: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<Node>,
    #[serde(rename = "modifiedIndex", default, skip_serializing_if = "is_zero_u64")]
    pub modified_index: u64,
    #[serde(rename = "createdIndex", default, skip_serializing_if = "is_zero_u64")]
    pub created_index: u64,
}

/// The body of every successful keys response and of every watch event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBody {
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Node>,
    #[serde(rename = "prevNode", default, skip_serializing_if = "Option::is_none")]
    pub prev_node: Option<Node>,
}

impl EventBody {
    /// The body etcd writes: JSON and a newline (Go's `json.Encoder`).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_node_matches_etcds_field_names_and_order() {
        let body = EventBody {
            action: Action::Create,
            node: Some(Node {
                key: "/tok/8e9e05c52164694d".into(),
                value: Some("m1=http://127.0.0.1:2380".into()),
                modified_index: 5,
                created_index: 5,
                ..Node::default()
            }),
            prev_node: None,
        };
        assert_eq!(
            body.to_json(),
            "{\"action\":\"create\",\"node\":{\"key\":\"/tok/8e9e05c52164694d\",\"value\":\"m1=http://127.0.0.1:2380\",\"modifiedIndex\":5,\"createdIndex\":5}}\n"
        );
    }

    #[test]
    fn directories_expirations_and_prev_nodes() {
        let body = EventBody {
            action: Action::CompareAndSwap,
            node: Some(Node {
                key: "/tok".into(),
                dir: true,
                expiration: Some("2026-01-01T00:00:00Z".into()),
                ttl: 30,
                nodes: vec![Node {
                    key: "/tok/a".into(),
                    value: Some(String::new()),
                    modified_index: 2,
                    created_index: 2,
                    ..Node::default()
                }],
                modified_index: 1,
                created_index: 1,
                ..Node::default()
            }),
            prev_node: Some(Node {
                key: "/tok".into(),
                dir: true,
                modified_index: 1,
                created_index: 1,
                ..Node::default()
            }),
        };
        let json = body.to_json();
        assert!(json.starts_with("{\"action\":\"compareAndSwap\",\"node\":{\"key\":\"/tok\",\"dir\":true,\"expiration\":\"2026-01-01T00:00:00Z\",\"ttl\":30,\"nodes\":[{\"key\":\"/tok/a\",\"value\":\"\",\"modifiedIndex\":2,\"createdIndex\":2}],\"modifiedIndex\":1,\"createdIndex\":1},\"prevNode\":"), "{json}");
        let back: EventBody = serde_json::from_str(&json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn action_names() {
        for (a, s) in [
            (Action::Get, "get"),
            (Action::Create, "create"),
            (Action::Set, "set"),
            (Action::Update, "update"),
            (Action::Delete, "delete"),
            (Action::CompareAndSwap, "compareAndSwap"),
            (Action::CompareAndDelete, "compareAndDelete"),
            (Action::Expire, "expire"),
        ] {
            assert_eq!(a.as_str(), s);
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{s}\""));
        }
    }
}
