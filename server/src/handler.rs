//! One request: `shared::dispatch::dispatch` decides where it goes and answers what needs no
//! storage; this file carries out the rest (the app's files, minting, the ledger, the relay,
//! keys) and writes `shared::http::Response` out as hyper's.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Request, StatusCode};
use shared::dispatch::{dispatch, Dispatch, Hook};
use shared::http::{Method, Response};
use shared::mint::Minting;
use shared::rate::Limiter;
use shared::token::TOKEN_BYTES;
use shared::v2::{ErrorCode, RawRequest};
use shared::{body, Settings, Token};

use crate::assets::Assets;
use crate::now::now_ms;
use crate::relay::Relayer;
use crate::tokens::{Minted, Tokens};

pub type Answer = hyper::Response<Full<Bytes>>;

/// What every request handler shares.
pub struct App {
    pub settings: Settings,
    pub tokens: Arc<Tokens>,
    pub assets: Assets,
    pub mint_limiter: Mutex<Limiter>,
    pub relay_limiter: Mutex<Limiter>,
    pub relayer: Relayer,
    pub trusted_proxy_header: Option<HeaderName>,
    pub body_timeout: Duration,
    /// This server's own address, for minted URLs when a request names no usable host.
    pub listen: SocketAddr,
}

pub async fn handle(app: &App, req: Request<Incoming>, peer: SocketAddr) -> Answer {
    let path = req.uri().path();
    let method = Method::parse(req.method().as_str());
    // Raw paths reach this shell: refuse what URL rules would rewrite onto another path.
    if let Err(why) = shared::route::check_raw_path(method, path) {
        return write(Response::etcd_error(ErrorCode::InvalidField, why, 400));
    }
    if method.is_read() {
        if let Some(asset) = app.assets.get(path) {
            let mut resp = hyper::Response::new(Full::new(asset.body.clone()));
            *resp.headers_mut() = asset.headers.clone();
            return resp;
        }
    }
    let answer = match dispatch(method, path, req.uri().query(), &app.settings) {
        Dispatch::Done(answer) => answer,
        Dispatch::Mint(size) => mint(app, &req, peer, size).await,
        Dispatch::Ledger(token) => ledger(app, token).await,
        Dispatch::Relay(upstream) => {
            let client = client(app, &req, peer);
            match hit(&app.relay_limiter, &client) {
                Ok(()) => app.relayer.read(upstream).await,
                Err(secs) => {
                    let per_minute = app.settings.limits.relays_per_minute;
                    shared::relay::refused(&client, per_minute, secs)
                }
            }
        }
        Dispatch::Keys { token, key } => {
            let key = key.to_string();
            return keys(app, req, token, &key).await;
        }
        Dispatch::Hook { token, hook } => return storage_hook(app, req, token, hook).await,
    };
    write(answer)
}

/// A keys request: a PUT's body is read here (within its size and time), the rest is the
/// token's.
async fn keys(app: &App, req: Request<Incoming>, token: Token, key: &str) -> Answer {
    let method = Method::parse(req.method().as_str());
    let query = req.uri().query().unwrap_or("").to_string();
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(CONTENT_TYPE);
    let mut body = String::new();
    if method == Method::Put {
        let declared = header(CONTENT_LENGTH).and_then(|l| l.trim().parse::<u64>().ok());
        let read = read_body(req.into_body(), declared);
        let bytes = match tokio::time::timeout(app.body_timeout, read).await {
            Err(_) => return write(body::timed_out(app.body_timeout.as_secs())),
            Ok(BodyRead::TooLarge) => return write(body::too_large()),
            Ok(BodyRead::Broken(e)) => return write(body::broken(&e)),
            Ok(BodyRead::Body(bytes)) => bytes,
        };
        body = match body::text(Vec::from(bytes)) {
            Ok(text) => text,
            Err(refused) => return write(refused),
        };
    }
    let request = RawRequest {
        method,
        key,
        query: &query,
        content_type: content_type.as_deref(),
        body: &body,
    };
    let answer = app.tokens.keys(token, request).await;
    write(answer)
}

/// The tests' storage hooks (`TEST_STORAGE_HOOKS`), through the server's own store.
async fn storage_hook(app: &App, req: Request<Incoming>, token: Token, hook: Hook) -> Answer {
    let answer = match hook {
        Hook::Stored => match app.tokens.stored(token).await {
            Ok(keys) => Response::json(200, serde_json::json!({ "keys": keys }).to_string()),
            Err(why) => Response::unavailable(&why),
        },
        Hook::Lose { key } => match app.tokens.lose(token, &key).await {
            Ok(Some(value)) => Response::text(200, value),
            Ok(None) => Response::text(404, format!("{key} is not stored for {token}")),
            Err(why) => Response::unavailable(&why),
        },
        Hook::Restore { key } => {
            let value = match req.into_body().collect().await {
                Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
                Err(e) => return write(body::broken(&e.to_string())),
            };
            match app.tokens.restore(token, &key, &value).await {
                Ok(()) => Response::text(200, "restored"),
                Err(why) => Response::unavailable(&why),
            }
        }
    };
    write(answer)
}

/// Who a request counts as for the per-client limits: the trusted proxy's header, else the
/// socket's address.
fn client(app: &App, req: &Request<Incoming>, peer: SocketAddr) -> String {
    app.trusted_proxy_header
        .as_ref()
        .and_then(|h| req.headers().get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(shared::rate::client_from_header)
        .unwrap_or_else(|| peer.ip().to_string())
}

fn hit(limiter: &Mutex<Limiter>, client: &str) -> Result<(), u64> {
    limiter
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .hit(client, now_ms())
}

enum BodyRead {
    Body(Bytes),
    TooLarge,
    Broken(String),
}

/// A PUT's body, at most `MAX_BODY_BYTES` of it. A larger one (declared, or found so) is read
/// on and dropped up to `DRAIN_BYTES`, then refused.
async fn read_body(mut body: Incoming, declared: Option<u64>) -> BodyRead {
    if body::declared_past_draining(declared) {
        return BodyRead::TooLarge;
    }
    let keep = body::MAX_BODY_BYTES;
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => return BodyRead::Broken(e.to_string()),
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len();
        if seen > body::DRAIN_BYTES {
            return BodyRead::TooLarge;
        }
        if seen <= keep {
            kept.extend_from_slice(&data);
        }
    }
    if seen > keep || body::declared_too_large(declared) {
        return BodyRead::TooLarge;
    }
    BodyRead::Body(Bytes::from(kept))
}

/// `/new`: count the client, then store a fresh token.
async fn mint(app: &App, req: &Request<Incoming>, peer: SocketAddr, size: u64) -> Response {
    let client = client(app, req, peer);
    if let Err(secs) = hit(&app.mint_limiter, &client) {
        return shared::mint::refused(&client, &app.settings.limits, secs);
    }
    let host = req.headers().get(HOST).and_then(|v| v.to_str().ok());
    let origin = shared::mint::origin("http", host, &app.listen.to_string());
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

/// `/ledger/<token>`: the token's meta and registrations.
async fn ledger(app: &App, token: Token) -> Response {
    app.tokens.ledger(token).await
}

/// Writes the core's answer out as hyper's. Constant header names and values are not copied:
/// a wait that a write wakes is one of hundreds answered at once.
pub fn write(r: Response) -> Answer {
    let mut resp = hyper::Response::new(Full::new(Bytes::from(r.body)));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.reserve(r.headers.len());
    for (name, value) in r.headers {
        let value = match value {
            Cow::Borrowed(v) => HeaderValue::from_static(v),
            Cow::Owned(v) => match HeaderValue::from_maybe_shared(Bytes::from(v)) {
                Ok(v) => v,
                Err(_) => continue,
            },
        };
        headers.insert(header_name(name), value);
    }
    resp
}

fn header_name(name: &'static str) -> HeaderName {
    use hyper::header::*;
    match name {
        "Content-Type" => CONTENT_TYPE,
        "Cache-Control" => CACHE_CONTROL,
        "X-Content-Type-Options" => X_CONTENT_TYPE_OPTIONS,
        "Access-Control-Allow-Origin" => ACCESS_CONTROL_ALLOW_ORIGIN,
        "Access-Control-Expose-Headers" => ACCESS_CONTROL_EXPOSE_HEADERS,
        "Access-Control-Allow-Methods" => ACCESS_CONTROL_ALLOW_METHODS,
        "Access-Control-Allow-Headers" => ACCESS_CONTROL_ALLOW_HEADERS,
        "Access-Control-Max-Age" => ACCESS_CONTROL_MAX_AGE,
        "Retry-After" => RETRY_AFTER,
        "Allow" => ALLOW,
        "Connection" => CONNECTION,
        "X-Etcd-Index" => HeaderName::from_static("x-etcd-index"),
        "X-Raft-Index" => HeaderName::from_static("x-raft-index"),
        "X-Raft-Term" => HeaderName::from_static("x-raft-term"),
        other => HeaderName::from_bytes(other.as_bytes())
            .unwrap_or(HeaderName::from_static("x-invalid-header-name")),
    }
}
