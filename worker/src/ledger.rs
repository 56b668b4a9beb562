//! The ledger of minted tokens in Workers KV: each token's meta, expiring with the token, so an
//! operator can list what was minted (`wrangler kv key list`). KV suits it: written once, never
//! compared-and-swapped. The registry itself cannot live in KV (no compare-and-swap, eventual
//! consistency), and `GET /ledger/<token>` is answered by the token's object, which holds the
//! registration times too. Keys and lifetimes are `shared::ledger`'s.

use shared::lifecycle::Meta;
use worker::{Env, Result};

pub async fn record(env: &Env, meta: &Meta) -> Result<()> {
    env.kv("LEDGER")?
        .put(&shared::ledger::kv_key(&meta.token), meta.to_json())?
        .expiration_ttl(shared::ledger::kv_ttl_secs(meta))
        .execute()
        .await?;
    Ok(())
}
