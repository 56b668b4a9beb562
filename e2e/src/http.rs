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

/// A POST with the given `Accept` (a JSON client, or none as curl sends `*/*`).
pub fn post_accepting(url: &str, body: &[u8], accept: Option<&str>) -> Resp {
    let mut req = agent().request("POST", url);
    if let Some(accept) = accept {
        req = req.set("Accept", accept);
    }
    answer("POST", url, req.send_bytes(body)).unwrap_or_else(|e| panic!("{e}"))
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
    answer(method, url, result)
}

/// The answer a request got, whatever its status; `Err` if none arrived whole.
fn answer(
    method: &str,
    url: &str,
    result: Result<ureq::Response, ureq::Error>,
) -> Result<Resp, String> {
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

/// A GET, sent again on a broken connection (a keep-alive connection to a server killed since,
/// say), as etcd's client does: a read can be repeated safely.
pub fn get(url: &str) -> Resp {
    let mut tries = 0;
    loop {
        match try_send("GET", url, None, None) {
            Ok(r) => return r,
            Err(e) if tries >= 20 => panic!("{e} (after {tries} more tries)"),
            Err(_) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// A PUT with a form body, as etcd's client sends it.
pub fn put(url: &str, form: &str) -> Resp {
    try_put(url, form).unwrap_or_else(|e| panic!("{e}"))
}

/// Like `put`, but a broken connection is an `Err` (for clients that retry through faults).
pub fn try_put(url: &str, form: &str) -> Result<Resp, String> {
    try_send(
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

/// A plain TCP connection for requests no HTTP client library would send.
pub struct Raw {
    stream: std::net::TcpStream,
}

impl Raw {
    pub fn connect(base: &str) -> Raw {
        let addr = base.trim_start_matches("http://");
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Raw { stream }
    }

    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.stream.write_all(bytes)
    }

    /// Reads one answer: its status line's code (`None` if the server closed without one) and
    /// all the text that came until the answer's end or the connection's.
    pub fn answer(&mut self, within: Duration) -> (Option<u16>, String) {
        use std::io::Read;
        self.stream.set_read_timeout(Some(within)).expect("timeout");
        let mut got = Vec::new();
        let mut buf = [0u8; 8192];
        let mut status = None;
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
            if let Some(answer) = complete(&got) {
                status = Some(answer.status);
                got.truncate(answer.end);
                break;
            }
        }
        let text = String::from_utf8_lossy(&got).to_string();
        let status = status.or_else(|| {
            text.strip_prefix("HTTP/1.1 ")
                .and_then(|r| r.get(..3))
                .and_then(|c| c.parse().ok())
        });
        (status, text)
    }

    /// Whether the server has closed the connection (a read sees its end within `within`).
    pub fn closed(&mut self, within: Duration) -> bool {
        use std::io::Read;
        self.stream.set_read_timeout(Some(within)).expect("timeout");
        let mut buf = [0u8; 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) => {
                    return !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    )
                }
            }
        }
    }
}

/// A whole HTTP/1.1 answer found at the start of some bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed {
    pub status: u16,
    /// Where its body starts and where the answer ends.
    pub body_start: usize,
    pub end: usize,
}

impl Framed {
    /// Its body as sent (chunk sizes and all, when chunked), of the bytes it was found in.
    pub fn body<'a>(&self, got: &'a [u8]) -> &'a [u8] {
        &got[self.body_start..self.end]
    }
}

/// The answer at the start of `got` if all of it has arrived: the one framing reader of the
/// tests' and the benchmark's raw clients. A body is delimited by its `Content-Length`, or, when
/// chunked (etcd flushes a wait's headers before its event), by its last chunk; an answer with
/// neither ends with its head.
pub fn complete(got: &[u8]) -> Option<Framed> {
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&got[..head_end])
        .ok()?
        .to_ascii_lowercase();
    let status = head.get(9..12)?.parse().ok()?;
    let body_start = head_end + 4;
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == "content-length").then(|| v.trim().parse::<usize>().ok())?
    });
    let end = match length {
        Some(len) => body_start + len,
        None if head.contains("transfer-encoding: chunked") => {
            let mut chunked = shared::http1::chunked::Chunked::default();
            let used = chunked.feed(&got[body_start..], |_| {}).ok()?;
            if !chunked.done() {
                return None;
            }
            body_start + used
        }
        None => body_start,
    };
    (got.len() >= end).then_some(Framed {
        status,
        body_start,
        end,
    })
}

/// One request on a fresh connection: the status the server answered, if any, and its text.
pub fn raw(base: &str, request: &[u8]) -> (Option<u16>, String) {
    let mut c = Raw::connect(base);
    if c.send(request).is_err() {
        return (None, String::new());
    }
    c.answer(Duration::from_secs(10))
}
