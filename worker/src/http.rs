//! Building responses: etcd's headers on every keys answer, CORS on everything.

use shared::v2::{ErrorCode, EtcdError, Reply};
use worker::{Headers, Response, Result};

/// Headers a browser tool on another origin may read.
const EXPOSE: &str = "X-Etcd-Index, X-Raft-Index, X-Raft-Term";

fn cors(headers: &Headers) -> Result<()> {
    headers.set("Access-Control-Allow-Origin", "*")?;
    headers.set("Access-Control-Expose-Headers", EXPOSE)?;
    Ok(())
}

/// An etcd keys answer with `X-Etcd-Index` (and `X-Raft-*`, as etcd sends).
pub fn reply(r: &Reply) -> Result<Response> {
    let resp = respond(r.status, "application/json", r.body.clone())?;
    let headers = resp.headers();
    headers.set("X-Etcd-Index", &r.etcd_index.to_string())?;
    headers.set("X-Raft-Index", &r.etcd_index.to_string())?;
    headers.set("X-Raft-Term", "1")?;
    if let Some(secs) = r.retry_after {
        headers.set("Retry-After", &secs.to_string())?;
    }
    Ok(resp)
}

pub fn etcd_error(code: ErrorCode, cause: impl Into<String>, status: u16) -> Result<Response> {
    let mut r = Reply::error(&EtcdError::new(code, cause, 0));
    r.status = status;
    reply(&r)
}

/// Transient trouble: etcd members retry a 5xx with backoff, so never answer 4xx for it.
pub fn unavailable(why: &str) -> Result<Response> {
    etcd_error(
        ErrorCode::RaftInternal,
        format!("temporarily unavailable: {why}"),
        503,
    )
}

pub fn not_found(path: &str) -> Result<Response> {
    etcd_error(ErrorCode::KeyNotFound, path, 404)
}

pub fn method_not_allowed(allow: &str) -> Result<Response> {
    let resp = etcd_error(
        ErrorCode::InvalidField,
        format!("method not allowed here: use {allow}"),
        405,
    )?;
    resp.headers().set("Allow", allow)?;
    Ok(resp)
}

pub fn keys_method_not_allowed() -> Result<Response> {
    method_not_allowed(shared::v2::request::KEY_METHODS)
}

/// A 429 for a plain-text endpoint (minting), with when to try again.
pub fn too_many(why: &str, retry_after: u64) -> Result<Response> {
    let resp = text(429, why)?;
    resp.headers()
        .set("Retry-After", &retry_after.to_string())?;
    Ok(resp)
}

pub fn text(status: u16, body: &str) -> Result<Response> {
    respond(status, "text/plain; charset=utf-8", body.to_string())
}

pub fn json(status: u16, body: String) -> Result<Response> {
    respond(status, "application/json", body)
}

/// Every answer of this service: never cached (registries change), readable from any origin.
pub fn respond(status: u16, content_type: &str, body: String) -> Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", content_type)?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    cors(&headers)?;
    Ok(Response::ok(body)?
        .with_status(status)
        .with_headers(headers))
}

/// The CORS preflight: browser tools may mint, read, register and delete.
pub fn preflight() -> Result<Response> {
    let headers = Headers::new();
    cors(&headers)?;
    headers.set(
        "Access-Control-Allow-Methods",
        shared::v2::request::KEY_METHODS,
    )?;
    headers.set("Access-Control-Allow-Headers", "Content-Type")?;
    headers.set("Access-Control-Max-Age", "86400")?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

/// Whether a method is one the keys API answers at all.
pub fn is_keys_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "PUT" | "DELETE")
}
