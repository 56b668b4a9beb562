//! Talking to discovery services from the page: minting here, reading any registry (this
//! service sends CORS headers; others may not, and are then read through this one's `/relay`).

use gloo_net::http::Request;
use shared::explain::catalog::Topic;
use shared::explain::line::Level;
use shared::explain::{Discovery, Explanation, Finding, Member};
use shared::inspect::timeline::{registrations, timeline};
use shared::inspect::{diagnose, size_from, SizeInfo};
use shared::migrate::{Entry, Fate, Migration};

use crate::check::state::{Answer, BuilderLink};
use crate::inspector::state::{Shown, Via};
use crate::page;

/// What a GET answered: status, `X-Etcd-Index`, body.
pub struct Fetched {
    pub status: u16,
    pub etcd_index: Option<u64>,
    /// Whether the relay says this is the upstream's own answer (`X-Relay-Upstream`).
    pub from_upstream: bool,
    pub body: String,
}

/// A GET from the page. The error is the browser's: no answer, or one it would not hand over
/// (CORS).
pub async fn get(url: &str) -> Result<Fetched, String> {
    let resp = Request::get(url)
        .send()
        .await
        .map_err(|e| format!("could not reach {url}: {e}"))?;
    let etcd_index = resp
        .headers()
        .get("X-Etcd-Index")
        .and_then(|v| v.parse().ok());
    let from_upstream = resp.headers().get(shared::relay::UPSTREAM_HEADER).is_some();
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    Ok(Fetched {
        status,
        etcd_index,
        from_upstream,
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

/// A registry as a page reads it: the listing's status and `X-Etcd-Index`, and what it shows.
pub struct Registry {
    pub status: u16,
    pub etcd_index: Option<u64>,
    pub shown: Shown,
}

pub enum ReadError {
    /// No answer, directly or through the relay: worth trying again.
    Unreachable(String),
    /// The relay would not read it (a host it does not serve, too many reads), or the answer is
    /// not etcd's JSON: trying again will not help.
    Refused(String),
}

/// A GET of `url`, through the relay when `via` says so.
async fn read(url: &str, via: Via) -> Result<Fetched, String> {
    match via {
        Via::Relay => get(&format!("/relay?url={}", shared::form::encode(url))).await,
        _ => get(url).await,
    }
}

/// Reads a token's size and listing (directly, or through the relay if the page may not) and
/// diagnoses them at `now_ms`. `via` is how the last read went; `None` tries directly first.
pub async fn read_registry(
    url: &str,
    via: Option<Via>,
    now_ms: u64,
) -> Result<Registry, ReadError> {
    let size_url = format!("{url}/_config/size");
    let (via, size) = match via {
        Some(v) => (v, read(&size_url, v).await),
        None => match get(&size_url).await {
            Ok(a) => (Via::Direct, Ok(a)),
            Err(_) => (Via::Relay, read(&size_url, Via::Relay).await),
        },
    };
    let size = size.map_err(ReadError::Unreachable)?;
    if via == Via::Relay && relay_refused(&size) {
        return Err(ReadError::Refused(format!(
            "{url} cannot be read from a page (the service sends no CORS headers), and this service's relay refused it: {}",
            size.body
        )));
    }
    let listing = read(url, via).await.map_err(ReadError::Unreachable)?;
    let value: serde_json::Value = serde_json::from_str(&listing.body).map_err(|_| {
        ReadError::Refused(format!(
            "{url} did not answer etcd's JSON: {}",
            clip(&listing.body)
        ))
    })?;
    // Only a size that was read, or is missing, says something; trouble reading it does not.
    let size = match size.status {
        200 | 404 => size_from(size.status, &size.body),
        _ => SizeInfo::Unknown,
    };
    let report = diagnose(&value, size, Some(url), now_ms);
    let known = match ledger_url(url) {
        Some(ledger) => match get(&ledger).await {
            Ok(a) if a.status == 200 => registrations(&a.body),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let timeline = timeline(&report, &known);
    Ok(Registry {
        status: listing.status,
        etcd_index: listing.etcd_index,
        shown: Shown {
            report,
            timeline,
            via,
        },
    })
}

/// A relay answer that is the relay's own refusal, not the upstream's (it names no upstream).
fn relay_refused(a: &Fetched) -> bool {
    a.status >= 400 && !a.from_upstream
}

/// This service's ledger for a token URL of this service (only this one keeps times).
fn ledger_url(url: &str) -> Option<String> {
    let origin = page::origin();
    let token = url.strip_prefix(&origin)?.strip_prefix('/')?;
    shared::Token::from_segment(token).ok()?;
    Some(format!("{origin}/ledger/{token}"))
}

fn clip(text: &str) -> String {
    text.chars().take(120).collect()
}

/// Brings a legacy config forward on this service (`POST /butane/migrate`); the error is the
/// service's own (a config it cannot read) or why it could not be asked.
pub async fn migrate(text: &str, platform: &str) -> Result<Answer, String> {
    let url = format!(
        "/butane/migrate?platform={}",
        shared::form::encode(platform)
    );
    let (status, value) = post_json(&url, text).await?;
    let entry = |e: &serde_json::Value| Entry {
        line: e["line"].as_u64().unwrap_or(0) as usize,
        key: e["key"].as_str().unwrap_or_default().to_string(),
        fate: match e["fate"].as_str() {
            Some("dropped") => Fate::Dropped,
            _ => Fate::Changed,
        },
        reason: e["reason"].as_str().unwrap_or_default().to_string(),
    };
    let builder = value["builder"]["query"].as_str().map(|query| BuilderLink {
        query: query.to_string(),
        differences: strings(&value["builder"]["differences"]),
    });
    match value["butane"].as_str() {
        Some(butane) => Ok(Answer {
            migration: Migration {
                butane: butane.to_string(),
                report: value["report"]
                    .as_array()
                    .map(|a| a.iter().map(entry).collect())
                    .unwrap_or_default(),
            },
            builder,
        }),
        None => Err(format!("the service answered {status} without Butane")),
    }
}

/// A pasted etcd log explained by this service (`POST /explain`: it keeps nothing of it).
pub async fn explain(text: &str) -> Result<Explanation, String> {
    let (_, v) = post_json("/explain", text).await?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let finding = |f: &serde_json::Value| Finding {
        line: f["line"].as_u64().unwrap_or(0) as usize,
        time: text(&f["time"]),
        until: text(&f["until"]),
        times: f["times"].as_u64().unwrap_or(1) as usize,
        level: Level::from_name(f["level"].as_str().unwrap_or("info")),
        topic: f["topic"].as_str().and_then(Topic::from_name),
        says: text(&f["says"]).unwrap_or_default(),
        cause: text(&f["cause"]).unwrap_or_default(),
        action: text(&f["action"]).unwrap_or_default(),
        versions: "",
        raw: text(&f["raw"]).unwrap_or_default(),
    };
    Ok(Explanation {
        member: Member {
            name: text(&v["member"]["name"]),
            id: text(&v["member"]["id"]),
            peer_urls: strings(&v["member"]["peer_urls"]),
            version: text(&v["member"]["version"]),
            cluster_token: text(&v["member"]["cluster_token"]),
        },
        discovery: Discovery {
            url: text(&v["discovery"]["url"]),
            token: text(&v["discovery"]["token"]),
            endpoints: strings(&v["discovery"]["endpoints"]),
            proxy: text(&v["discovery"]["proxy"]),
        },
        findings: v["findings"]
            .as_array()
            .map(|a| a.iter().map(finding).collect())
            .unwrap_or_default(),
        verdict: text(&v["verdict"]).unwrap_or_default(),
        read: v["read"].as_u64().unwrap_or(0) as usize,
        skipped: v["skipped"].as_u64().unwrap_or(0) as usize,
        restarts: v["restarts"].as_u64().map(|n| n as u32),
    })
}

/// POSTs `text` to this service as a JSON client: the status and the JSON it answered, or the
/// refusal it gave (`{"error"}`, or etcd's `{"message"}` for a body too large) as the error.
async fn post_json(url: &str, text: &str) -> Result<(u16, serde_json::Value), String> {
    let resp = Request::post(url)
        .header("Accept", "application/json")
        .body(text.to_string())
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|e| format!("this service could not be reached: {e}"))?;
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    let value: serde_json::Value = serde_json::from_str(&body)
        .map_err(|_| format!("the service answered {status}: {}", clip(&body)))?;
    if let Some(error) = value["error"].as_str().or(value["message"].as_str()) {
        return Err(error.to_string());
    }
    Ok((status, value))
}

/// The strings of a JSON list (none when it is not one).
fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
