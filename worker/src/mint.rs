//! `GET /new?size=N`: count the client at its rate limiter, mint a token in its registry
//! object, record it in the ledger. The rules and answers are `shared::mint`'s.

use shared::http::Response;
use shared::mint::Minting;
use shared::token::TOKEN_BYTES;
use shared::Settings;
use worker::{Env, Request, Result};

use crate::rate_limiter::{self, Counted};
use crate::{ledger, registry_object};

pub async fn new_token(
    req: &Request,
    env: &Env,
    settings: &Settings,
    size: u64,
) -> Result<Response> {
    let url = req.url()?;
    let client = rate_limiter::client(req);
    let per_minute = settings.limits.mints_per_minute;
    match rate_limiter::check(env, Counted::Mints, &client, per_minute).await {
        Ok(None) => {}
        Ok(Some(secs)) => return Ok(shared::mint::refused(&client, &settings.limits, secs)),
        Err(e) => return Ok(Response::unavailable(&format!("rate limiter: {e}"))),
    }
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => Some(format!("{h}:{p}")),
        (Some(h), None) => Some(h.to_string()),
        (None, _) => None,
    };
    let origin = shared::mint::origin(url.scheme(), host.as_deref(), "localhost");
    let mut minting = Minting::default();
    loop {
        let mut random = [0u8; TOKEN_BYTES];
        if let Err(e) = getrandom::getrandom(&mut random) {
            return Ok(Response::unavailable(&format!("no randomness: {e}")));
        }
        let token = minting.token(random);
        match registry_object::mint(env, token, size).await {
            Ok(Some(meta)) => {
                if let Err(e) = ledger::record(env, &meta).await {
                    return Ok(Response::unavailable(&format!("ledger: {e}")));
                }
                return Ok(shared::mint::minted(settings, &origin, token));
            }
            Ok(None) => {
                if let Some(gave_up) = minting.taken() {
                    return Ok(gave_up);
                }
            }
            Err(e) => return Ok(Response::unavailable(&format!("minting: {e}"))),
        }
    }
}
