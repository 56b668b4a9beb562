//! One request: `shared::dispatch::dispatch` decides where it goes and answers what needs no
//! storage; this file carries out the rest (the app's files, minting, the ledger, the relay,
//! keys, the tests' storage hooks).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared::dispatch::{dispatch, Dispatch, Hook};
use shared::http::{Method, Response};
use shared::http1::Head;
use shared::mint::Minting;
use shared::rate::Limiter;
use shared::token::TOKEN_BYTES;
use shared::v2::{ErrorCode, RawRequest};
use shared::{body, Settings, Token};

use crate::assets::Assets;
use crate::http::{Body, Outgoing, Request};
use crate::metrics::{self, RefusalLabels, RelayLabels, RequestLabels, RouteLabels};
use crate::now::now_ms;
use crate::relay::Relayer;
use crate::tokens::{Minted, Tokens};

/// What every request handler shares.
pub struct App {
    pub settings: Settings,
    pub tokens: Arc<Tokens>,
    pub assets: Assets,
    pub mint_limiter: Mutex<Limiter>,
    pub relay_limiter: Mutex<Limiter>,
    pub relayer: Relayer,
    /// The header a trusted proxy sets to the client's address (`--trusted-proxy-header`).
    pub trusted_proxy_header: Option<String>,
    /// This server's own address, for minted URLs when a request names no usable host.
    pub listen: SocketAddr,
}

pub async fn handle(app: &App, req: Request) -> Outgoing {
    let started = Instant::now();
    let (route, out) = answer(app, req).await;
    count(route, &out, started.elapsed());
    out
}

/// One request's answer, and the route it took (the metrics' label).
async fn answer(app: &App, req: Request) -> (&'static str, Outgoing) {
    let Request { head, body, peer } = req;
    let (method, path) = (head.method, head.path.as_str());
    // Raw paths reach this shell: refuse what URL rules would rewrite onto another path.
    if let Err(why) = shared::route::check_raw_path(method, path) {
        return (
            "refused",
            Response::etcd_error(ErrorCode::InvalidField, why, 400).into(),
        );
    }
    if method.is_read() {
        if let Some(asset) = app.assets.get(path) {
            return ("app", asset.outgoing());
        }
    }
    let (route, answer) = match dispatch(method, path, head.query.as_deref(), &app.settings) {
        Dispatch::Done(answer) => ("other", answer),
        Dispatch::Mint(size) => ("mint", mint(app, &head, peer, size).await),
        Dispatch::Ledger(token) => ("ledger", app.tokens.ledger(token).await),
        Dispatch::Ready => (
            "ready",
            match app.tokens.ready().await {
                Ok(()) => shared::dispatch::ready(),
                Err(why) => shared::dispatch::unready(&why),
            },
        ),
        Dispatch::Relay(upstream) => {
            let client = client(app, &head, peer);
            let answer = match hit(&app.relay_limiter, &client) {
                Ok(()) => app.relayer.read(upstream).await,
                Err(secs) => {
                    let per_minute = app.settings.limits.relays_per_minute;
                    shared::relay::refused(&client, per_minute, secs)
                }
            };
            metrics::get()
                .relay_reads
                .get_or_create(&RelayLabels {
                    status: answer.status,
                })
                .inc();
            ("relay", answer)
        }
        Dispatch::Keys { token, key } => {
            let put = head.method == Method::Put;
            let answer = keys(app, &head, body, token, key).await;
            if put && answer.status == 201 {
                metrics::get().registrations.inc();
            }
            ("keys", answer)
        }
        Dispatch::Hook { token, hook } => ("hook", storage_hook(app, token, hook, body).await),
        Dispatch::Translate(conversion) => (
            "convert",
            match body {
                Body::TooLarge => shared::translate::too_large(conversion),
                Body::Whole(bytes) => {
                    shared::translate::answer(conversion, &bytes, head.header("Accept"))
                }
            },
        ),
    };
    (route, answer.into())
}

/// Counts one answered request: its route and status, how long it took, and the refusal it was.
fn count(route: &'static str, out: &Outgoing, took: Duration) {
    let m = metrics::get();
    let status = out.status;
    m.requests
        .get_or_create(&RequestLabels { route, status })
        .inc();
    m.latency
        .get_or_create(&RouteLabels { route })
        .observe(took.as_secs_f64());
    if route == "mint" && status == 200 {
        m.mints.inc();
    }
    if route == "keys" && status >= 400 {
        if let Some(code) = error_code(&out.body) {
            m.refusals.get_or_create(&RefusalLabels { code }).inc();
        }
    }
}

/// The `errorCode` an etcd error answer starts with.
fn error_code(body: &[u8]) -> Option<u16> {
    let rest = body.strip_prefix(b"{\"errorCode\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

/// A keys request: its body as text (a PUT's form), then the token's.
async fn keys(app: &App, head: &Head, body: Body, token: Token, key: &str) -> Response {
    let text = match (head.method.has_body(), body) {
        (true, Body::TooLarge) => return body::too_large(),
        (true, Body::Whole(bytes)) => match body::text(bytes) {
            Ok(text) => text,
            Err(refused) => return refused,
        },
        (false, _) => String::new(),
    };
    let request = RawRequest {
        method: head.method,
        key,
        query: head.query.as_deref().unwrap_or(""),
        content_type: head.content_type.as_deref(),
        body: &text,
    };
    app.tokens.keys(token, request).await
}

/// The tests' storage hooks (`TEST_STORAGE_HOOKS`), through the server's own store.
async fn storage_hook(app: &App, token: Token, hook: Hook, body: Body) -> Response {
    match hook {
        Hook::Stored => match app.tokens.stored(token).await {
            Ok(keys) => Hook::stored(&keys),
            Err(why) => Response::unavailable(&why),
        },
        Hook::Lose { key } => match app.tokens.lose(token, &key).await {
            Ok(value) => Hook::lost(token, &key, value),
            Err(why) => Response::unavailable(&why),
        },
        Hook::Restore { key } => {
            let Body::Whole(bytes) = body else {
                return body::too_large();
            };
            let value = String::from_utf8_lossy(&bytes);
            match app.tokens.restore(token, &key, &value).await {
                Ok(()) => Hook::restored(),
                Err(why) => Response::unavailable(&why),
            }
        }
    }
}

/// Who a request counts as for the per-client limits: the trusted proxy's header, else the
/// socket's address.
fn client(app: &App, head: &Head, peer: SocketAddr) -> String {
    app.trusted_proxy_header
        .as_deref()
        .and_then(|h| head.header(h))
        .and_then(shared::rate::client_from_header)
        .unwrap_or_else(|| peer.ip().to_string())
}

fn hit(limiter: &Mutex<Limiter>, client: &str) -> Result<(), u64> {
    limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .hit(client, now_ms())
}

/// `/new`: count the client, then store a fresh token.
async fn mint(app: &App, head: &Head, peer: SocketAddr, size: u64) -> Response {
    let client = client(app, head, peer);
    if let Err(secs) = hit(&app.mint_limiter, &client) {
        return shared::mint::refused(&client, &app.settings.limits, secs);
    }
    let origin = shared::mint::origin("http", head.host.as_deref(), &app.listen.to_string());
    let mut minting = Minting::default();
    loop {
        let mut random = [0u8; TOKEN_BYTES];
        if let Err(e) = getrandom::getrandom(&mut random) {
            return Response::unavailable(&format!("no randomness: {e}"));
        }
        let token = minting.token(random);
        match app.tokens.mint(token, size).await {
            Ok(Minted::Minted) => return shared::mint::minted(&app.settings, &origin, token),
            Ok(Minted::Taken) => {
                if let Some(gave_up) = minting.taken() {
                    return gave_up;
                }
            }
            Err(why) => return Response::unavailable(&format!("minting: {why}")),
        }
    }
}
