//! The Worker: one fetch entry, a router (`shared::route`), and small handlers. The protocol
//! lives in `shared`; this crate only moves bytes between HTTP, KV and the Durable Object.

mod bindings;
mod config;
mod generate;
mod http;
mod ledger;
mod mint;
mod mint_gate;
mod registry_object;

use shared::route::{route, split_url, Route};
use worker::worker_sys::web_sys;
use worker::{event, Context, Env, Request, Result};

pub use mint_gate::MintGate;
pub use registry_object::TokenRegistry;

use crate::config::Config;

/// The raw request and response: the keys path (nearly every request) only hands the request to
/// its token's object, so it skips `worker::Request`'s eager reads (`cf`, a parsed URL).
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<web_sys::Response> {
    let config = match Config::shared(&env) {
        Ok(c) => c,
        Err(why) => return raw(http::unavailable(&why)),
    };
    let url = req.url();
    let (path, query) = split_url(&url);
    // The raw method: the worker crate reads methods it does not know as GET.
    let method = req.method();
    if method == "OPTIONS" {
        return raw(http::preflight());
    }
    match route(path, &config.prefix) {
        Route::Keys { token, key } => registry_object::forward(req, query, &env, token, key).await,
        Route::NotFound => raw(http::not_found(path)),
        service => {
            if !matches!(method.as_str(), "GET" | "HEAD") {
                return raw(http::method_not_allowed("GET, HEAD, OPTIONS"));
            }
            let req = Request::from(req);
            raw(match service {
                Route::Home => http::text(200, HOME),
                Route::Health => http::text(200, "OK"),
                Route::Robots => http::text(200, "User-agent: *\nDisallow: /\n"),
                // Minting changes state, so a HEAD (a prefetcher, a link checker) must not.
                Route::New if method == "HEAD" => http::method_not_allowed("GET, OPTIONS"),
                Route::New => mint::new_token(&req, &env, &config).await,
                Route::Ledger(token) => ledger::show(&env, token).await,
                Route::Butane => generate::config(&req, generate::Format::Butane),
                Route::Ignition => generate::config(&req, generate::Format::Ignition),
                Route::Keys { .. } | Route::NotFound => http::not_found(path),
            })
        }
    }
}

fn raw(resp: Result<worker::Response>) -> Result<web_sys::Response> {
    resp.map(web_sys::Response::from)
}

const HOME: &str = "Rendezvous: etcd v2 cluster discovery.\n\n\
curl -w \"\\n\" '<this host>/new?size=3' mints a discovery URL; start every etcd member with\n\
--discovery=<that URL>. GET <URL> lists the members that registered; /ledger/<token> shows\n\
when the token was minted and when it expires. /health answers OK.\n";
