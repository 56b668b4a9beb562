//! How many tokens one client address may mint per minute: a Durable Object per address holds
//! its window (`shared::mint::window`) in memory. An evicted object forgets its count, which
//! only ever errs toward allowing: this limits abuse, it does not meter.

use std::cell::RefCell;

use shared::rate::Window;
use worker::{durable_object, Date, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct MintGate {
    /// Window for this client address; `Err` holds a bad `[vars]` setting, answered as 503.
    window: RefCell<std::result::Result<Window, String>>,
}

impl DurableObject for MintGate {
    fn new(_state: State, env: Env) -> Self {
        let settings = crate::config::settings(&env);
        MintGate {
            window: RefCell::new(settings.map(|s| shared::mint::window(&s.limits))),
        }
    }

    /// Counts one mint: 204 if allowed, 429 with the seconds to wait in the body if not.
    async fn fetch(&self, _req: Request) -> Result<Response> {
        let mut window = self.window.borrow_mut();
        let w = window.as_mut().map_err(|e| e.clone())?;
        match w.hit(Date::now().as_millis()) {
            Ok(()) => Ok(Response::empty()?.with_status(204)),
            Err(secs) => Ok(Response::ok(secs.to_string())?.with_status(429)),
        }
    }
}

/// Asks the gate of `client` (its address); `Ok(Some(secs))` means refused for `secs` seconds.
pub async fn check(env: &Env, client: &str) -> Result<Option<u64>> {
    let stub = crate::bindings::mint_gate(env)?
        .id_from_name(client)?
        .get_stub()?;
    let mut resp = stub.fetch_with_str("https://gate/hit").await?;
    match resp.status_code() {
        204 => Ok(None),
        429 => Ok(Some(resp.text().await?.trim().parse().unwrap_or(60))),
        other => Err(format!("mint gate answered {other}").into()),
    }
}
