//! The etcd v2 keys API as etcd writes it on the wire: nodes, events, errors, requests.

pub mod error;
pub mod node;
pub mod render;
pub mod reply;
pub mod request;

pub use error::{ErrorCode, EtcdError};
pub use node::{Action, EventBody, Node};
pub use reply::Reply;
pub use request::{KeysRequest, Op, RawRequest};
