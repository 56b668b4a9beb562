//! One request: `shared::service::dispatch` decides where it goes and answers what needs no
//! storage; this file carries out the rest (the app's files, minting, the ledger, keys) and
//! writes `shared::http::Response` out as hyper's.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Request, StatusCode};
use shared::http::Response;
use shared::lifecycle::TokenState;
use shared::service::{body_text, body_too_large, declared_too_large, dispatch, Dispatch};
use shared::token::TOKEN_BYTES;
use shared::v2::{ErrorCode, RawRequest};
use shared::{Settings, Token};

use crate::assets::Assets;
use crate::clock::now_ms;
use crate::relay::Relayer;
use crate::store::Store;
use crate::tokens::Tokens;

pub type Answer = hyper::Response<Full<Bytes>>;

/// What every request handler shares.
pub struct App {
    pub settings: Settings,
    pub tokens: Arc<Tokens>,
    pub store: Arc<Store>,
    pub assets: Assets,
    pub mint_gate: Mutex<shared::mint::Gate>,
    pub relay_gate: Mutex<shared::mint::Gate>,
    pub relayer: Relayer,
    pub trusted_proxy_header: Option<HeaderName>,
    pub body_timeout: Duration,
    /// This server's own address, for minted URLs when a request names no usable host.
    pub listen: SocketAddr,
}

pub async fn handle(app: &App, req: Request<Incoming>, peer: SocketAddr) -> Answer {
    let path = req.uri().path();
    let method = req.method().as_str();
    // Raw paths reach this shell: refuse what URL rules would rewrite onto another path.
    if let Err(why) = shared::route::check_raw_path(method, path) {
        return write(Response::etcd_error(ErrorCode::InvalidField, why, 400));
    }
    if matches!(method, "GET" | "HEAD") {
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
            match hit(&app.relay_gate, &client) {
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
    };
    write(answer)
}

/// A keys request: a PUT's body is read here (within its size and time), the rest is the
/// token's.
async fn keys(app: &App, req: Request<Incoming>, token: Token, key: &str) -> Answer {
    let method = req.method().as_str().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(CONTENT_TYPE);
    let mut body = String::new();
    if method == "PUT" {
        let declared = header(CONTENT_LENGTH);
        let read = read_body(req.into_body(), declared.as_deref());
        let bytes = match tokio::time::timeout(app.body_timeout, read).await {
            Err(_) => {
                return closing(Response::etcd_error(
                    ErrorCode::InvalidForm,
                    format!(
                        "the request body did not arrive within {} s",
                        app.body_timeout.as_secs()
                    ),
                    408,
                ))
            }
            Ok(BodyRead::TooLarge) => return closing(body_too_large()),
            Ok(BodyRead::Broken(e)) => {
                return closing(Response::etcd_error(
                    ErrorCode::InvalidForm,
                    format!("the request body could not be read: {e}"),
                    400,
                ))
            }
            Ok(BodyRead::Body(bytes)) => bytes,
        };
        body = match body_text(Vec::from(bytes)) {
            Ok(text) => text,
            Err(refused) => return write(refused),
        };
    }
    let request = RawRequest {
        method: &method,
        key,
        query: &query,
        content_type: content_type.as_deref(),
        body: &body,
    };
    let answer = app.tokens.keys(token, request).await;
    write(answer)
}

/// Who a request counts as for the per-client limits: the trusted proxy's header, else the
/// socket's address.
fn client(app: &App, req: &Request<Incoming>, peer: SocketAddr) -> String {
    app.trusted_proxy_header
        .as_ref()
        .and_then(|h| req.headers().get(h))
        .and_then(|v| v.to_str().ok())
        .and_then(shared::mint::client_from_header)
        .unwrap_or_else(|| peer.ip().to_string())
}

fn hit(gate: &Mutex<shared::mint::Gate>, client: &str) -> Result<(), u64> {
    gate.lock()
        .unwrap_or_else(|e| e.into_inner())
        .hit(client, now_ms())
}

/// Bytes of an oversized body read and dropped before its 413 is sent. A client is often still
/// sending when the answer is ready; closing with its data unread makes the kernel reset the
/// connection, and the client sees a broken pipe instead of the 413. Past this, it does.
const DRAIN_BYTES: usize = 1024 * 1024;

enum BodyRead {
    Body(Bytes),
    TooLarge,
    Broken(String),
}

/// A PUT's body, at most `MAX_BODY_BYTES` of it. A larger one (declared, or found so) is read
/// on and dropped up to `DRAIN_BYTES`, then refused.
async fn read_body(mut body: Incoming, declared: Option<&str>) -> BodyRead {
    let declared_len = declared.and_then(|l| l.trim().parse::<usize>().ok());
    if declared_too_large(declared) && declared_len.is_none_or(|l| l > DRAIN_BYTES) {
        return BodyRead::TooLarge;
    }
    let keep = shared::service::MAX_BODY_BYTES;
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
        if seen > DRAIN_BYTES {
            return BodyRead::TooLarge;
        }
        if seen <= keep {
            kept.extend_from_slice(&data);
        }
    }
    if seen > keep || declared_too_large(declared) {
        return BodyRead::TooLarge;
    }
    BodyRead::Body(Bytes::from(kept))
}

/// `/new`: count the client, then store a fresh token.
async fn mint(app: &App, req: &Request<Incoming>, peer: SocketAddr, size: u64) -> Response {
    let client = client(app, req, peer);
    if let Err(secs) = hit(&app.mint_gate, &client) {
        return shared::mint::refused(&client, &app.settings.limits, secs);
    }
    let origin = request_origin(req, app.listen);
    for _ in 0..shared::mint::ATTEMPTS {
        let mut bytes = [0u8; TOKEN_BYTES];
        if let Err(e) = getrandom::getrandom(&mut bytes) {
            return Response::unavailable(&format!("no randomness: {e}"));
        }
        let token = Token::from_random(bytes);
        match app.tokens.mint(token, size).await {
            Ok(true) => return shared::mint::minted(app.settings.origin(&origin), token),
            Ok(false) => continue,
            Err(why) => return Response::unavailable(&format!("minting: {why}")),
        }
    }
    shared::mint::no_free_token()
}

/// The origin a request came to (`http://<Host>`); a Host that is not a plain host name or
/// address is not written into a URL: this server's own address is used instead.
fn request_origin(req: &Request<Incoming>, listen: SocketAddr) -> String {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        });
    match host {
        Some(h) => format!("http://{h}"),
        None => format!("http://{listen}"),
    }
}

/// `/ledger/<token>`: the token's meta, read from the store.
async fn ledger(app: &App, token: Token) -> Response {
    let entries = match app.store.entries(token).await {
        Ok(e) => e,
        Err(why) => return Response::unavailable(&format!("ledger: {why}")),
    };
    match TokenState::restore(token, app.settings.limits.clone(), entries) {
        Ok(t) => {
            let live = t.meta.as_ref().filter(|m| !m.expired(now_ms()));
            shared::ledger::response(token, live, t.registry.history())
        }
        Err(why) => Response::unavailable(&format!("ledger: {why}")),
    }
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
        "X-Etcd-Index" => HeaderName::from_static("x-etcd-index"),
        "X-Raft-Index" => HeaderName::from_static("x-raft-index"),
        "X-Raft-Term" => HeaderName::from_static("x-raft-term"),
        other => HeaderName::from_bytes(other.as_bytes())
            .unwrap_or(HeaderName::from_static("x-invalid-header-name")),
    }
}

/// An answer after which the connection closes: the request cannot be read on (too large,
/// too slow, or broken).
fn closing(r: Response) -> Answer {
    let mut resp = write(r);
    resp.headers_mut()
        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    resp
}
