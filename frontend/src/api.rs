//! Talking to a discovery service from the page: minting here, reading any registry (this
//! service sends CORS headers; others may not).

use gloo_net::http::Request;
use shared::inspect::{diagnose, Report, SizeInfo};

use crate::inspector::state::size_from;

/// What a GET answered: status, `X-Etcd-Index`, body.
pub struct Answer {
    pub status: u16,
    pub etcd_index: Option<u64>,
    pub body: String,
}

pub async fn get(url: &str) -> Result<Answer, String> {
    let resp = Request::get(url)
        .send()
        .await
        .map_err(|e| format!("could not reach {url}: {e} (a service without CORS headers, like discovery.etcd.io, cannot be read from a page: paste its JSON instead)"))?;
    let etcd_index = resp
        .headers()
        .get("X-Etcd-Index")
        .and_then(|v| v.parse().ok());
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    Ok(Answer {
        status,
        etcd_index,
        body,
    })
}

/// Mints a token of `size` on this service; the URL it answers.
pub async fn mint(size: &str) -> Result<String, String> {
    let size = size.trim();
    let url = if size.is_empty() {
        "/new".to_string()
    } else {
        format!("/new?size={}", shared::form::encode(size))
    };
    let a = get(&url).await?;
    if a.status == 200 {
        Ok(a.body)
    } else {
        Err(a.body)
    }
}

/// A registry as a page reads it: the listing's status and `X-Etcd-Index`, and its diagnosis.
pub struct Registry {
    pub status: u16,
    pub etcd_index: Option<u64>,
    pub report: Report,
}

pub enum ReadError {
    /// No answer (network, CORS): worth trying again.
    Unreachable(String),
    /// An answer that is not etcd's JSON: this is no discovery service.
    NotEtcd(String),
}

/// Reads a token's size and listing and diagnoses them at `now_ms`.
pub async fn read_registry(url: &str, now_ms: u64) -> Result<Registry, ReadError> {
    let size = get(&format!("{url}/_config/size"))
        .await
        .map_err(ReadError::Unreachable)?;
    let listing = get(url).await.map_err(ReadError::Unreachable)?;
    let value: serde_json::Value = serde_json::from_str(&listing.body)
        .map_err(|_| ReadError::NotEtcd(format!("{url} did not answer etcd's JSON")))?;
    // Only a size that was read, or is missing, says something; trouble reading it does not.
    let size = match size.status {
        200 | 404 => size_from(size.status, &size.body),
        _ => SizeInfo::Unknown,
    };
    Ok(Registry {
        status: listing.status,
        etcd_index: listing.etcd_index,
        report: diagnose(&value, size, Some(url), now_ms),
    })
}
