//! How many requests one client address may make of a counted kind per minute (mints, relayed
//! reads): a Durable Object per address and kind holds its window (`shared::rate::per_minute`)
//! in memory. An evicted object forgets its count, which only ever errs toward allowing: this
//! limits abuse, it does not meter.

use std::cell::RefCell;

use shared::rate::Window;
use worker::{durable_object, Date, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct RateLimiter {
    /// The window, made at the first hit with the limit that hit names.
    window: RefCell<Option<Window>>,
}

impl DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        RateLimiter {
            window: RefCell::new(None),
        }
    }

    /// Counts one request (`/hit?per_minute=N`): 204 if allowed, 429 with the seconds to wait
    /// in the body if not.
    async fn fetch(&self, req: Request) -> Result<Response> {
        let per_minute = req
            .url()?
            .query_pairs()
            .find(|(k, _)| k == "per_minute")
            .and_then(|(_, v)| v.parse::<u64>().ok())
            .ok_or("the rate limiter needs ?per_minute=N")?;
        let mut window = self.window.borrow_mut();
        let w = window.get_or_insert_with(|| shared::rate::per_minute(per_minute));
        match w.hit(Date::now().as_millis()) {
            Ok(()) => Ok(Response::empty()?.with_status(204)),
            Err(secs) => Ok(Response::ok(secs.to_string())?.with_status(429)),
        }
    }
}

/// What a limiter counts; each kind has its own object per client.
#[derive(Clone, Copy)]
pub enum Counted {
    Mints,
    Relays,
}

/// Asks the limiter of `client` (its address) for one request of `kind`, allowed `per_minute`;
/// `Ok(Some(secs))` means refused for `secs` seconds.
pub async fn check(env: &Env, kind: Counted, client: &str, per_minute: u64) -> Result<Option<u64>> {
    // Mints keep the names their objects had before relays were counted.
    let name = match kind {
        Counted::Mints => client.to_string(),
        Counted::Relays => format!("relay/{client}"),
    };
    let stub = crate::bindings::rate_limiter(env)?
        .id_from_name(&name)?
        .get_stub()?;
    let url = format!("https://limiter/hit?per_minute={per_minute}");
    let mut resp = stub.fetch_with_str(&url).await?;
    match resp.status_code() {
        204 => Ok(None),
        429 => Ok(Some(resp.text().await?.trim().parse().unwrap_or(60))),
        other => Err(format!("the rate limiter answered {other}").into()),
    }
}

/// The client a request counts as: Cloudflare names it; locally (wrangler dev) every caller is
/// one client.
pub fn client(req: &worker::Request) -> String {
    req.headers()
        .get("CF-Connecting-IP")
        .ok()
        .flatten()
        .unwrap_or_else(|| "local".to_string())
}
