//! `/relay`: reads another service's token with the runtime's `fetch` for the inspector.
//! `shared::relay` decides what may be read and what every outcome answers; this counts the
//! client, fetches without following redirects itself, reads at most `MAX_ANSWER_BYTES`, and
//! gives up after `TIMEOUT_MS`.

use std::time::Duration;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use shared::http::Response;
use shared::relay::{Failure, Fetched, Next, Relay, Upstream, MAX_ANSWER_BYTES, TIMEOUT_MS};
use shared::Settings;
use worker::{
    AbortController, AbortSignal, Delay, Env, Fetch, Headers, Method, Request, RequestInit,
    RequestRedirect,
};

use crate::rate_limiter::{self, Counted};

pub async fn read(req: &Request, env: &Env, settings: &Settings, first: Upstream) -> Response {
    let client = rate_limiter::client(req);
    let per_minute = settings.limits.relays_per_minute;
    match rate_limiter::check(env, Counted::Relays, &client, per_minute).await {
        Ok(None) => {}
        Ok(Some(secs)) => return shared::relay::refused(&client, per_minute, secs),
        Err(e) => return Response::unavailable(&format!("rate limiter: {e}")),
    }
    let controller = AbortController::default();
    let timer = Delay::from(Duration::from_millis(TIMEOUT_MS));
    let mut relay = Relay::new(first);
    let signal = controller.signal();
    let answered = match select(Box::pin(follow(&mut relay, &signal)), timer).await {
        Either::Left((answer, _)) => Some(answer),
        Either::Right(_) => None,
    };
    answered.unwrap_or_else(|| {
        controller.abort();
        relay.timed_out()
    })
}

/// Reads the upstream, and each redirect `relay` allows, until it gives an answer.
async fn follow(relay: &mut Relay, signal: &AbortSignal) -> Response {
    loop {
        let read = get(relay.upstream(), signal).await;
        match relay.read(read) {
            Next::Done(r) => return r,
            Next::Follow(_) => continue,
        }
    }
}

async fn get(upstream: &Upstream, signal: &AbortSignal) -> Result<Fetched, Failure> {
    let failed = |e: worker::Error| Failure::Unreachable(e.to_string());
    let headers = Headers::new();
    headers.set("Accept", "application/json").map_err(failed)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(&upstream.to_string(), &init).map_err(failed)?;
    let mut resp = Fetch::Request(req)
        .send_with_signal(signal)
        .await
        .map_err(failed)?;
    let header = |name: &str| resp.headers().get(name).ok().flatten();
    let (etcd_index, location, content_type) = (
        header("X-Etcd-Index"),
        header("Location"),
        header("Content-Type"),
    );
    let status = resp.status_code();
    let mut body = Vec::new();
    // A redirect's body is not read (the runtime may give none for an opaque redirect).
    if !(300..400).contains(&status) {
        let mut stream = resp.stream().map_err(failed)?;
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk.map_err(failed)?);
            if body.len() > MAX_ANSWER_BYTES {
                return Err(Failure::TooLarge);
            }
        }
    }
    Ok(Fetched {
        status,
        etcd_index,
        location,
        content_type,
        body,
    })
}
