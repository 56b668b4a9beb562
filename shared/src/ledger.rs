//! The ledger of minted tokens: what `GET /ledger/<token>` shows of a token's meta (size, mint
//! time, expiry), and how the Worker keys it in Workers KV.

use serde::Serialize;

use crate::http::Response;
use crate::lifecycle::Meta;
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
}

/// The answer to `GET /ledger/<token>`: the entry, or etcd's 404 for a token never minted.
pub fn response(token: Token, meta: Option<&Meta>) -> Response {
    match meta {
        Some(m) => Response::json(
            200,
            serde_json::to_string(&Shown {
                token: &m.token,
                size: m.size,
                minted_at: rfc3339(m.minted_at),
                expires_at: rfc3339(m.expires_at),
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
        let r = response(t, Some(&meta));
        assert_eq!(r.status, 200);
        assert_eq!(
            r.body,
            r#"{"token":"0123456789abcdef0123456789abcdef","size":5,"mintedAt":"1970-01-01T00:00:00Z","expiresAt":"1970-01-08T00:00:00Z"}"#
        );
        assert_eq!(kv_ttl_secs(&meta), 7 * 24 * 3600);
        assert_eq!(
            kv_key(&meta.token),
            "token/0123456789abcdef0123456789abcdef"
        );
        let gone = response(t, None);
        assert_eq!(gone.status, 404);
        assert!(gone.body.contains("/ledger/0123456789abcdef"));
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
