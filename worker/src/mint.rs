//! `GET /new?size=N`: count the client at its gate, mint a token in its registry object, record
//! it in the ledger. The rules and answers are `shared::mint`'s.

use shared::http::Response;
use shared::token::TOKEN_BYTES;
use shared::{Settings, Token};
use worker::{Env, Request, Result};

use crate::{ledger, mint_gate, registry_object};

pub async fn new_token(
    req: &Request,
    env: &Env,
    settings: &Settings,
    size: u64,
) -> Result<Response> {
    let url = req.url()?;
    let client = mint_gate::client(req);
    let per_minute = settings.limits.mints_per_minute;
    match mint_gate::check(env, mint_gate::Counted::Mints, &client, per_minute).await {
        Ok(None) => {}
        Ok(Some(secs)) => return Ok(shared::mint::refused(&client, &settings.limits, secs)),
        Err(e) => return Ok(Response::unavailable(&format!("mint gate: {e}"))),
    }
    for _ in 0..shared::mint::ATTEMPTS {
        let token = match random_token() {
            Ok(t) => t,
            Err(why) => return Ok(Response::unavailable(&why)),
        };
        match registry_object::mint(env, token, size).await {
            Ok(Some(meta)) => {
                if let Err(e) = ledger::record(env, &meta).await {
                    return Ok(Response::unavailable(&format!("ledger: {e}")));
                }
                let origin = url.origin().ascii_serialization();
                return Ok(shared::mint::minted(settings.origin(&origin), token));
            }
            Ok(None) => continue,
            Err(e) => return Ok(Response::unavailable(&format!("minting: {e}"))),
        }
    }
    Ok(shared::mint::no_free_token())
}

fn random_token() -> std::result::Result<Token, String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(Token::from_random(bytes))
}
