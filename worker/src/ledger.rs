//! The ledger of minted tokens in Workers KV: size, mint time and expiry per token, expiring
//! with the token. KV suits it: written once, read rarely, never compared-and-swapped. The
//! registry itself cannot live in KV (no compare-and-swap, eventual consistency).

use serde::Serialize;
use shared::time::rfc3339;
use shared::Token;
use worker::{Env, Response, Result};

use crate::http;
use crate::registry_object::Meta;

/// KV refuses expirations under 60 seconds.
const KV_MIN_TTL_SECS: u64 = 60;

fn key(token: &str) -> String {
    format!("token/{token}")
}

pub async fn record(env: &Env, meta: &Meta) -> Result<()> {
    let ttl = (meta.expires_at.saturating_sub(meta.minted_at) / 1000).max(KV_MIN_TTL_SECS);
    env.kv("LEDGER")?
        .put(&key(&meta.token), serde_json::to_string(meta)?)?
        .expiration_ttl(ttl)
        .execute()
        .await?;
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown<'a> {
    token: &'a str,
    size: u64,
    minted_at: String,
    expires_at: String,
}

/// `GET /ledger/<token>`. KV is eventually consistent: a token minted a moment ago elsewhere
/// may not show yet, which is why nothing on the discovery path reads it.
pub async fn show(env: &Env, token: Token) -> Result<Response> {
    let name = token.to_string();
    let meta: Option<Meta> = match env.kv("LEDGER")?.get(&key(&name)).json().await {
        Ok(m) => m,
        Err(e) => return http::unavailable(&format!("ledger: {e}")),
    };
    match meta {
        Some(m) => http::json(
            200,
            serde_json::to_string(&Shown {
                token: &m.token,
                size: m.size,
                minted_at: rfc3339(m.minted_at),
                expires_at: rfc3339(m.expires_at),
            })?,
        ),
        None => http::not_found(&format!("/ledger/{name}")),
    }
}
