//! What the v3 tests share: a minted registry of one token, its keys and scopes, and writes
//! made as a v3 member and as a v2 client make them.

use super::key::{prefix_end, scope, Scope, REGISTRY_PREFIX};
use super::{put, PutRequest, PutResponse, Refusal};
use crate::http::Method;
use crate::registry::Registry;
use crate::v2::RawRequest;
use crate::{Limits, Token};

pub const T: &str = "0123456789abcdef0123456789abcdef";

/// Token `T`, minted with `size` at 1 s.
pub fn minted(size: u64, limits: Limits) -> Registry {
    let mut r = Registry::new(Token::from_segment(T).unwrap(), limits);
    r.mint(size, 1_000).unwrap();
    r
}

/// A key of token `T`: `/_etcd/registry/<T><rest>`.
pub fn key(rest: &str) -> Vec<u8> {
    format!("{REGISTRY_PREFIX}{T}{rest}").into_bytes()
}

/// The scope of one key of token `T`.
pub fn one(rest: &str) -> Scope {
    scope(&key(rest), &[]).unwrap()
}

/// The scope of token `T`'s members prefix.
pub fn members() -> Scope {
    let k = key("/members");
    scope(&k, &prefix_end(&k)).unwrap()
}

/// A member's put over v3, at 2 s.
pub fn put_member(
    reg: &mut Registry,
    id: &str,
    value: &str,
    prev_kv: bool,
) -> Result<PutResponse, Refusal> {
    let req = PutRequest {
        value: value.as_bytes().to_vec(),
        prev_kv,
        ..PutRequest::default()
    };
    put(Some(reg), &one(&format!("/members/{id}")), &req, 2_000).response
}

/// A v2 member's key deleted, as a v2 client would, at 5 s.
pub fn delete_over_v2(reg: &mut Registry, member: &str) {
    let key = format!("/{member}");
    let raw = RawRequest {
        method: Method::Delete,
        key: &key,
        ..RawRequest::default()
    };
    reg.handle(&raw.parse(0).unwrap(), 5_000);
}
