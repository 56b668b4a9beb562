//! A small blocking HTTP client that returns every status as a value.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn etcd_index(&self) -> u64 {
        self.header("X-Etcd-Index")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no X-Etcd-Index on {self:?}"))
    }

    /// The `errorCode` of an etcd error body.
    pub fn error_code(&self) -> u64 {
        self.json()["errorCode"]
            .as_u64()
            .unwrap_or_else(|| panic!("not an etcd error: {:?}", self.body))
    }
}

thread_local! {
    /// One agent per thread, so a client keeps its connection alive across requests as etcd's
    /// does, instead of opening a socket per request.
    static AGENT: ureq::Agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(120))
        .redirects(0)
        .max_idle_connections_per_host(4)
        .build();
}

fn agent() -> ureq::Agent {
    AGENT.with(|a| a.clone())
}

/// Sends a request; `body` is sent as a form when it is `Some`. Panics if there is no answer.
pub fn send(method: &str, url: &str, body: Option<&[u8]>, content_type: Option<&str>) -> Resp {
    try_send(method, url, body, content_type).unwrap_or_else(|e| panic!("{e}"))
}

/// Like `send`, but a broken connection is an `Err` (for clients that retry, as etcd does).
pub fn try_send(
    method: &str,
    url: &str,
    body: Option<&[u8]>,
    content_type: Option<&str>,
) -> Result<Resp, String> {
    let mut req = agent().request(method, url);
    if let Some(ct) = content_type {
        req = req.set("Content-Type", ct);
    }
    let result = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(format!("{method} {url}: {e}")),
    };
    let status = resp.status();
    let headers = resp
        .headers_names()
        .into_iter()
        .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
        .collect();
    let body = resp
        .into_string()
        .map_err(|e| format!("{method} {url}: reading the body: {e}"))?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}

pub fn get(url: &str) -> Resp {
    send("GET", url, None, None)
}

/// A PUT with a form body, as etcd's client sends it.
pub fn put(url: &str, form: &str) -> Resp {
    send(
        "PUT",
        url,
        Some(form.as_bytes()),
        Some("application/x-www-form-urlencoded"),
    )
}

pub fn delete(url: &str) -> Resp {
    send("DELETE", url, None, None)
}

/// Whether anything answers on `url` at all.
pub fn answers(url: &str) -> bool {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build()
        .get(url)
        .call()
        .is_ok()
}
