//! The ledger of minted tokens: what `GET /ledger/<token>` shows of a token (size, mint time,
//! expiry, and when each member registered), and how the Worker keys its record in Workers KV.

use serde::Serialize;

use crate::http::Response;
use crate::lifecycle::Meta;
use crate::registry::Event;
use crate::time::rfc3339;
use crate::Token;

/// Workers KV refuses expirations under 60 seconds.
const KV_MIN_TTL_SECS: u64 = 60;

/// The KV key of a token's ledger entry.
pub fn kv_key(token: &str) -> String {
    format!("token/{token}")
}

/// Seconds a ledger entry lives: as long as its token, and at least what KV accepts.
pub fn kv_ttl_secs(meta: &Meta) -> u64 {
    (meta.expires_at.saturating_sub(meta.minted_at) / 1000).max(KV_MIN_TTL_SECS)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown<'a> {
    token: &'a str,
    size: u64,
    minted_at: String,
    expires_at: String,
    registrations: Vec<Registration<'a>>,
}

/// A member key coming into being: etcd's nodes carry no time, the registry's events do.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registration<'a> {
    key: &'a str,
    created_index: u64,
    /// RFC 3339 with milliseconds.
    at: String,
    /// The same, as Unix milliseconds, for arithmetic.
    at_ms: u64,
}

/// Every member key created, in index order (still there or not since).
fn registrations(history: &[Event]) -> Vec<Registration<'_>> {
    history
        .iter()
        .filter(|e| {
            e.key != crate::registry::Key::Size.stored_name()
                && e.prev.is_none()
                && e.node.is_some()
        })
        .map(|e| Registration {
            key: &e.key,
            created_index: e.index,
            at: rfc3339(e.at),
            at_ms: e.at,
        })
        .collect()
}

/// The answer to `GET /ledger/<token>`: the entry with the registry's registrations, or etcd's
/// 404 for a token never minted (or past its life).
pub fn response(token: Token, meta: Option<&Meta>, history: &[Event]) -> Response {
    match meta {
        Some(m) => Response::json(
            200,
            serde_json::to_string(&Shown {
                token: &m.token,
                size: m.size,
                minted_at: rfc3339(m.minted_at),
                expires_at: rfc3339(m.expires_at),
                registrations: registrations(history),
            })
            .unwrap_or_default(),
        ),
        None => Response::not_found(&format!("/ledger/{token}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Limits;

    #[test]
    fn shows_a_minted_token_with_rfc3339_times() {
        let t = Token::from_segment("0123456789abcdef0123456789abcdef").unwrap();
        let meta = Meta::new(t, 5, 0, &Limits::default());
        let r = response(t, Some(&meta), &[]);
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body,
            r#"{"token":"0123456789abcdef0123456789abcdef","size":5,"mintedAt":"1970-01-01T00:00:00Z","expiresAt":"1970-01-08T00:00:00Z","registrations":[]}"#
        );
        assert_eq!(kv_ttl_secs(&meta), 7 * 24 * 3600);
        assert_eq!(
            kv_key(&meta.token),
            "token/0123456789abcdef0123456789abcdef"
        );
        let gone = response(t, None, &[]);
        assert_eq!(gone.status, 404);
        assert!(gone.body.contains("/ledger/0123456789abcdef"));
    }

    #[test]
    fn registrations_are_the_member_keys_created_with_their_times() {
        use crate::registry::Registry;
        let t = Token::from_segment("0123456789abcdef0123456789abcdef").unwrap();
        let mut reg = Registry::new(t, Limits::default());
        reg.mint(3, 1_000).unwrap();
        let put = |reg: &mut Registry, key: &str, at: u64| {
            let raw = crate::v2::RawRequest {
                method: crate::http::Method::Put,
                key,
                query: "prevExist=false",
                content_type: Some("application/x-www-form-urlencoded"),
                body: "value=x",
            };
            reg.handle(&raw.parse(0).unwrap(), at);
        };
        put(&mut reg, "/m1", 2_000);
        put(&mut reg, "/m1", 2_500); // refused: already there
        put(&mut reg, "/m2", 4_100);
        let meta = Meta::new(t, 3, 1_000, &Limits::default());
        let r = response(t, Some(&meta), reg.history());
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            v["registrations"],
            serde_json::json!([
                {"key": "m1", "createdIndex": 2, "at": "1970-01-01T00:00:02Z", "atMs": 2000},
                {"key": "m2", "createdIndex": 3, "at": "1970-01-01T00:00:04.1Z", "atMs": 4100},
            ])
        );
    }

    #[test]
    fn short_lives_still_satisfy_kv() {
        let t = Token::from_segment("0123456789abcdef0123456789abcdef").unwrap();
        let limits = Limits {
            token_lifetime_secs: 8,
            ..Limits::default()
        };
        assert_eq!(kv_ttl_secs(&Meta::new(t, 3, 0, &limits)), 60);
    }
}
