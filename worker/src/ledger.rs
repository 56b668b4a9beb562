//! The ledger of minted tokens in Workers KV: each token's meta, expiring with the token. KV
//! suits it: written once, read rarely, never compared-and-swapped. The registry itself cannot
//! live in KV (no compare-and-swap, eventual consistency). Keys, lifetimes and the shown JSON
//! are `shared::ledger`'s.

use shared::http::Response;
use shared::lifecycle::Meta;
use shared::Token;
use worker::{Env, Result};

pub async fn record(env: &Env, meta: &Meta) -> Result<()> {
    env.kv("LEDGER")?
        .put(&shared::ledger::kv_key(&meta.token), meta.to_json())?
        .expiration_ttl(shared::ledger::kv_ttl_secs(meta))
        .execute()
        .await?;
    Ok(())
}

/// `GET /ledger/<token>`. KV is eventually consistent: a token minted a moment ago elsewhere
/// may not show yet, which is why nothing on the discovery path reads it.
pub async fn show(env: &Env, token: Token) -> Response {
    let key = shared::ledger::kv_key(&token.to_string());
    let kv = match env.kv("LEDGER") {
        Ok(kv) => kv,
        Err(e) => return Response::unavailable(&format!("ledger: {e}")),
    };
    match kv.get(&key).json::<Meta>().await {
        Ok(meta) => shared::ledger::response(token, meta.as_ref()),
        Err(e) => Response::unavailable(&format!("ledger: {e}")),
    }
}
