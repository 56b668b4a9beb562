//! The Worker: one fetch entry that asks `shared::dispatch::dispatch` what a request needs, and
//! small handlers for what only a shell can do (mint, read the ledger, reach a token's Durable
//! Object). The protocol lives in `shared`; this crate only moves bytes between HTTP, KV and
//! the Durable Object.

mod bindings;
mod config;
mod http;
mod ledger;
mod mint;
mod rate_limiter;
mod registry_object;
mod relay;

use shared::dispatch::{dispatch, Dispatch};
use shared::http::{Method, Response};
use shared::route::split_url;
use worker::worker_sys::web_sys;
use worker::{event, Context, Env, Request, Result};

pub use rate_limiter::RateLimiter;
pub use registry_object::TokenRegistry;

/// The raw request and response: the keys path (nearly every request) only hands the request to
/// its token's object, so it skips `worker::Request`'s eager reads (`cf`, a parsed URL).
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let settings = match config::settings(&env) {
        Ok(s) => s,
        Err(why) => return http::to_raw(Response::unavailable(&why)),
    };
    let url = req.url();
    let (path, query) = split_url(&url);
    // The raw method: the worker crate reads methods it does not know as GET.
    let method = Method::parse(&req.method());
    match dispatch(method, path, query, &settings) {
        Dispatch::Done(answer) => http::to_raw(answer),
        // Durable Object storage is Cloudflare's to keep available.
        Dispatch::Ready => http::to_raw(shared::dispatch::ready()),
        Dispatch::Keys { token, key } => {
            registry_object::forward(req, query, &env, token, key).await
        }
        Dispatch::Mint(size) => {
            let req = Request::from(req);
            http::to_raw(mint::new_token(&req, &env, &settings, size).await?)
        }
        Dispatch::Ledger(token) => http::to_raw(registry_object::ledger(&env, token).await),
        Dispatch::Relay(upstream) => {
            let req = Request::from(req);
            http::to_raw(relay::read(&req, &env, &settings, upstream).await)
        }
        Dispatch::Translate(conversion) => {
            let accept = req.headers().get("Accept").ok().flatten();
            let mut req = Request::from(req);
            let body = req.bytes().await.unwrap_or_default();
            if body.len() > shared::body::MAX_BODY_BYTES {
                return http::to_raw(shared::translate::too_large(conversion));
            }
            http::to_raw(shared::translate::answer(
                conversion,
                &body,
                accept.as_deref(),
            ))
        }
        Dispatch::Hook { token, hook } => {
            let mut req = Request::from(req);
            let body = req.text().await.unwrap_or_default();
            http::to_raw(registry_object::hook(&env, token, hook, body).await)
        }
    }
}
