//! `GET /new?size=N`: mint a token, store its size in its registry, record it in the ledger.

use shared::size::parse_size;
use shared::token::TOKEN_BYTES;
use shared::Token;
use worker::{Env, Request, Response, Result};

use crate::config::Config;
use crate::{http, ledger, mint_gate, registry_object};

pub async fn new_token(req: &Request, env: &Env, config: &Config) -> Result<Response> {
    let url = req.url()?;
    let raw = url.query_pairs().find(|(k, _)| k == "size").map(|(_, v)| v);
    let size = match parse_size(raw.as_deref(), config.limits.max_size) {
        Ok(n) => n,
        Err(why) => return http::text(400, &why),
    };
    // Cloudflare names the client; locally (wrangler dev) every caller is one client.
    let client = req
        .headers()
        .get("CF-Connecting-IP")?
        .unwrap_or_else(|| "local".to_string());
    match mint_gate::check(env, &client).await {
        Ok(None) => {}
        Ok(Some(secs)) => {
            return http::too_many(
                &format!(
                "too many tokens minted from {client}: at most {} a minute; try again in {secs} s",
                config.limits.mints_per_minute
            ),
                secs,
            )
        }
        Err(e) => return http::unavailable(&format!("mint gate: {e}")),
    }
    // A collision of 128 random bits will not happen; the retry only keeps minting total.
    for _ in 0..3 {
        let token = match random_token() {
            Ok(t) => t,
            Err(why) => return http::unavailable(&why),
        };
        match registry_object::mint(env, token, size).await {
            Ok(Some(meta)) => {
                if let Err(e) = ledger::record(env, &meta).await {
                    return http::unavailable(&format!("ledger: {e}"));
                }
                let origin = match &config.public_url {
                    Some(u) => u.clone(),
                    None => url.origin().ascii_serialization(),
                };
                // No trailing newline: `curl -w "\n"` adds it, as every guide shows.
                return http::text(200, &format!("{origin}/{token}"));
            }
            Ok(None) => continue,
            Err(e) => return http::unavailable(&format!("minting: {e}")),
        }
    }
    http::unavailable("could not find a free token")
}

fn random_token() -> std::result::Result<Token, String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(Token::from_random(bytes))
}
