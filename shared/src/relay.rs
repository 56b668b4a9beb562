//! `GET /relay?url=<token URL>`: reads another discovery service's token for the inspector,
//! which a browser cannot do itself when that service sends no CORS headers (discovery.etcd.io
//! sends none). Only hosts named in `RELAY_HOSTS`, only a token's listing or its size key, only
//! GET, answers capped and timed. The rules and every answer are here; a shell only opens the
//! connection, and tells [`Relay`] what came back.

use std::fmt;

use crate::http::{Response, Value};
use crate::Token;

/// Bytes of an upstream answer relayed; a token's listing is far smaller.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Time the upstream has to answer, redirects included.
pub const TIMEOUT_MS: u64 = 5_000;
/// Redirects followed, each within the host first asked.
pub const MAX_REDIRECTS: usize = 3;
/// What `RELAY_HOSTS` is when not set.
pub const DEFAULT_HOSTS: &str = "discovery.etcd.io";
/// Set on every answer that is the upstream's own, naming where it came from. Answers without
/// it are the relay's own refusals.
pub const UPSTREAM_HEADER: &str = "X-Relay-Upstream";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One entry of `RELAY_HOSTS`: a host (and port) and the scheme it is read over.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Allowed {
    scheme: Scheme,
    host: String,
    port: u16,
}

/// `RELAY_HOSTS`: hosts the relay reads from, separated by commas or spaces. A bare host is read
/// over https only; `http://host:port` allows plain http to that one host and port (for tests
/// and services inside a private network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayHosts(Vec<Allowed>);

impl Default for RelayHosts {
    fn default() -> Self {
        RelayHosts::parse(DEFAULT_HOSTS).unwrap_or(RelayHosts(Vec::new()))
    }
}

impl RelayHosts {
    pub fn parse(text: &str) -> Result<RelayHosts, String> {
        let mut hosts = Vec::new();
        for entry in text.split([',', ' ', '\n', '\t']).filter(|e| !e.is_empty()) {
            let bad = |why: &str| format!("RELAY_HOSTS entry {entry:?} {why}");
            let (scheme, rest) = match entry.split_once("://") {
                Some(("http", rest)) => (Scheme::Http, rest),
                Some(("https", rest)) => (Scheme::Https, rest),
                Some(_) => return Err(bad("must be a host, https://host or http://host:port")),
                None => (Scheme::Https, entry),
            };
            let rest = rest.trim_end_matches('/');
            let (host, port) = authority(rest, scheme).map_err(|why| bad(&why))?;
            hosts.push(Allowed { scheme, host, port });
        }
        Ok(RelayHosts(hosts))
    }

    fn allows(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        self.0
            .iter()
            .any(|a| a.scheme == scheme && a.host == host && a.port == port)
    }

    fn lists_over_https(&self, host: &str) -> bool {
        self.0
            .iter()
            .any(|a| a.host == host && a.scheme == Scheme::Https)
    }

    /// How the list reads in an answer: `discovery.etcd.io, http://127.0.0.1:2000`.
    pub fn describe(&self) -> String {
        if self.0.is_empty() {
            return "none (RELAY_HOSTS is empty)".to_string();
        }
        self.0
            .iter()
            .map(|a| match a.scheme {
                Scheme::Https if a.port == 443 => a.host.clone(),
                s => format!("{}://{}:{}", s.as_str(), a.host, a.port),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `host[:port]` lower-cased, with the scheme's port when none is given. No user info: a URL
/// with one hides which host it names from people reading it.
fn authority(text: &str, scheme: Scheme) -> Result<(String, u16), String> {
    if text.contains(['@', '/', '?', '#', '\\', '%']) || text.is_empty() {
        return Err("is not a host[:port]".to_string());
    }
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let (inner, after) = v6.split_once(']').ok_or("has an unclosed [")?;
        (format!("[{inner}]"), after.strip_prefix(':'))
    } else {
        match text.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (text.to_string(), None),
        }
    };
    let port = match port {
        None => scheme.default_port(),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("has a bad port {p:?}"))?,
    };
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || host == "[]" || !host.chars().all(ok) {
        return Err("is not a host[:port]".to_string());
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// What the relay reads: a token's listing, or its size key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Token,
    Size,
}

/// One upstream URL the relay may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub scheme: Scheme,
    /// Lower-cased; an IPv6 address keeps its brackets.
    pub host: String,
    pub port: u16,
    /// `[/prefix]/<token>` or `[/prefix]/<token>/_config/size`.
    pub path: String,
    pub token: Token,
    pub read: Read,
}

impl Upstream {
    /// `host` or `host:port` as the `Host` header names it.
    pub fn authority(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The host as a socket address wants it (no brackets).
    pub fn connect_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.path
        )
    }
}

/// Why a URL is not one the relay reads, as the 4xx that says so.
fn refuse(status: u16, why: String) -> Response {
    Response::text(status, why)
}

/// Parses `url` (already percent-decoded from the query) into an upstream the list allows.
pub fn upstream(url: &str, hosts: &RelayHosts) -> Result<Upstream, Response> {
    let shape =
        "give a token URL, as https://discovery.etcd.io/<token> or .../<token>/_config/size";
    let (scheme, rest) = match url.split_once("://") {
        Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
        Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
        _ => {
            return Err(refuse(
                400,
                format!("{url:?} is not an http(s) URL: {shape}"),
            ))
        }
    };
    let (authority_text, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let (host, port) = authority(authority_text, scheme)
        .map_err(|why| refuse(400, format!("{url:?}: its host {why}")))?;
    if !hosts.allows(scheme, &host, port) {
        let listed = hosts.describe();
        let why = if scheme == Scheme::Http && hosts.lists_over_https(&host) {
            format!("{host} is relayed over https only (the relay reads from: {listed})")
        } else {
            format!("the relay does not read from {authority_text}; it reads from: {listed}")
        };
        return Err(refuse(403, why));
    }
    let (path, token, read) = token_path(path).map_err(|why| {
        refuse(
            400,
            format!("{url:?} is not a token URL ({why}); the relay reads only a token or its size key: {shape}"),
        )
    })?;
    Ok(Upstream {
        scheme,
        host,
        port,
        path: path.to_string(),
        token,
        read,
    })
}

/// Checks a path is `[/prefix]/<token>` or `.../<token>/_config/size`, nothing more.
fn token_path(path: &str) -> Result<(&str, Token, Read), String> {
    if path.contains(['?', '#']) {
        return Err("it has a query or fragment".to_string());
    }
    let path = path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let (token_at, read) = match segments.as_slice() {
        [.., "_config", "size"] => (segments.len().wrapping_sub(3), Read::Size),
        _ => (segments.len().wrapping_sub(1), Read::Token),
    };
    let token = segments
        .get(token_at)
        .and_then(|s| Token::from_segment(s).ok())
        .ok_or("no token of 32 hex digits where one belongs")?;
    let plain = |s: &&str| {
        !s.is_empty()
            && !s.chars().all(|c| c == '.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
    };
    if !segments[..token_at].iter().all(plain) {
        return Err("its path has segments a token URL does not".to_string());
    }
    Ok((path, token, read))
}

/// What the upstream answered, as the shell read it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fetched {
    pub status: u16,
    pub etcd_index: Option<String>,
    pub location: Option<String>,
    pub content_type: Option<String>,
    /// At most [`MAX_ANSWER_BYTES`]; a longer answer is [`Failure::TooLarge`] instead.
    pub body: Vec<u8>,
}

/// A read that came to no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// More than [`MAX_ANSWER_BYTES`].
    TooLarge,
    /// The connection failed (name lookup, refused, TLS, a broken answer).
    Unreachable(String),
}

/// What the shell does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Write this answer to the client.
    Done(Response),
    /// Read this URL instead (a redirect within the same host).
    Follow(Upstream),
}

/// One relayed read: the URL asked, the redirects followed so far, and every answer it gives.
#[derive(Debug, Clone)]
pub struct Relay {
    first: Upstream,
    current: Upstream,
    hops: usize,
}

impl Relay {
    pub fn new(first: Upstream) -> Relay {
        Relay {
            current: first.clone(),
            first,
            hops: 0,
        }
    }

    /// The URL to read now.
    pub fn upstream(&self) -> &Upstream {
        &self.current
    }

    /// Takes what one read came to: the upstream's answer relayed as it is, a redirect to
    /// follow, or a refusal.
    pub fn read(&mut self, read: Result<Fetched, Failure>) -> Next {
        match read {
            Ok(answer) => self.answer(answer),
            Err(Failure::TooLarge) => Next::Done(self.too_large()),
            Err(Failure::Unreachable(why)) => Next::Done(self.unreachable(&why)),
        }
    }

    fn answer(&mut self, a: Fetched) -> Next {
        if (300..400).contains(&a.status) {
            return self.redirect(a.status, a.location.as_deref());
        }
        let Ok(body) = std::str::from_utf8(&a.body) else {
            return Next::Done(self.bad_gateway("answered with a body that is not text".into()));
        };
        let json = a
            .content_type
            .as_deref()
            .is_some_and(|t| t.trim_start().starts_with("application/json"));
        let mut r = if json {
            Response::json(a.status, body.to_string())
        } else {
            Response::text(a.status, body.to_string())
        };
        if let Some(index) = a.etcd_index.filter(|i| i.parse::<u64>().is_ok()) {
            r = r.with("X-Etcd-Index", Value::Owned(index));
        }
        Next::Done(r.with(UPSTREAM_HEADER, Value::Owned(self.current.to_string())))
    }

    fn redirect(&mut self, status: u16, location: Option<&str>) -> Next {
        let Some(location) = location else {
            return Next::Done(self.bad_gateway(format!("answered {status} with no Location")));
        };
        let target = if location.starts_with('/') && !location.starts_with("//") {
            format!(
                "{}://{}{location}",
                self.current.scheme.as_str(),
                self.current.authority()
            )
        } else {
            location.to_string()
        };
        let same_host = RelayHosts(vec![Allowed {
            scheme: self.current.scheme,
            host: self.current.host.clone(),
            port: self.current.port,
        }]);
        match upstream(&target, &same_host) {
            Ok(next) if self.hops < MAX_REDIRECTS => {
                self.hops += 1;
                self.current = next.clone();
                Next::Follow(next)
            }
            Ok(_) => {
                Next::Done(self.bad_gateway(format!("redirected more than {MAX_REDIRECTS} times")))
            }
            Err(_) => Next::Done(self.bad_gateway(format!(
                "redirected to {location:?}; the relay follows redirects only to a token URL on {}",
                self.first.authority()
            ))),
        }
    }

    fn bad_gateway(&self, why: String) -> Response {
        refuse(502, format!("{} {why}", self.current))
    }

    fn too_large(&self) -> Response {
        self.bad_gateway(format!(
            "answered more than {} KiB, more than any token's listing",
            MAX_ANSWER_BYTES / 1024
        ))
    }

    /// No answer within [`TIMEOUT_MS`].
    pub fn timed_out(&self) -> Response {
        refuse(
            504,
            format!(
                "{} did not answer within {} s",
                self.current,
                TIMEOUT_MS / 1000
            ),
        )
    }

    fn unreachable(&self, why: &str) -> Response {
        self.bad_gateway(format!("could not be read: {why}"))
    }
}

/// A client over its relay limit, with when to try again.
pub fn refused(client: &str, per_minute: u64, retry_after: u64) -> Response {
    Response::too_many(
        &format!(
            "too many relayed reads from {client}: at most {per_minute} a minute; try again in {retry_after} s"
        ),
        retry_after,
    )
}

#[cfg(test)]
mod tests;
