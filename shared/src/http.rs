//! Every answer of the service as plain data: status, headers and body. Both shells write these
//! out as they are, so CORS, etcd's index headers, `Retry-After` and the security headers are
//! decided here once.

use std::borrow::Cow;

use crate::v2::{ErrorCode, EtcdError, Reply};

/// Methods this service answers on keys; anything else is a 405 naming them.
pub const KEY_METHODS: &str = "GET, HEAD, PUT, DELETE, OPTIONS";

/// Methods a browser may use across origins: the keys' and `POST /ignition`.
const CORS_METHODS: &str = "GET, HEAD, POST, PUT, DELETE, OPTIONS";

/// A request's method. Names are case-sensitive (RFC 9110 9.1): `get` is a method this service
/// does not know, not `GET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Connect,
    Trace,
    /// Any other token.
    Other,
}

impl Method {
    pub fn parse(name: &str) -> Method {
        match name {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            "CONNECT" => Method::Connect,
            "TRACE" => Method::Trace,
            _ => Method::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
            Method::Connect => "CONNECT",
            Method::Trace => "TRACE",
            Method::Other => "a method this service does not know",
        }
    }

    /// Whether the keys API answers it at all.
    pub fn is_keys(self) -> bool {
        matches!(
            self,
            Method::Get | Method::Head | Method::Put | Method::Delete
        )
    }

    /// Whether a request with it reads (GET, HEAD): no state changes.
    pub fn is_read(self) -> bool {
        matches!(self, Method::Get | Method::Head)
    }

    /// Whether its body is the request's to read (a keys PUT's form); the one rule both shells
    /// and the keys parser go by.
    pub fn has_body(self) -> bool {
        matches!(self, Method::Put | Method::Post | Method::Patch)
    }
}

/// Headers a browser tool on another origin may read.
const EXPOSE: &str = "X-Etcd-Index, X-Raft-Index, X-Raft-Term, X-Butane-Warnings, X-Butane-Report";

/// What `/` says when no browser app is served.
pub const HOME: &str = "Rendezvous: etcd v2 cluster discovery.\n\n\
curl -w \"\\n\" '<this host>/new?size=3' mints a discovery URL; start every etcd member with\n\
--discovery=<that URL>. GET <URL> lists the members that registered; /ledger/<token> shows\n\
when the token was minted and when it expires. /health answers OK.\n";

pub const ROBOTS: &str = "User-agent: *\nDisallow: /\n";

/// A header's value: most are constants, which a shell may write out without copying.
pub type Value = Cow<'static, str>;

/// An HTTP response as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// In the order they are set; names are unique.
    pub headers: Vec<(&'static str, Value)>,
    pub body: String,
}

impl Response {
    /// Every answer of this service: never cached (registries change), readable from any origin.
    pub fn new(status: u16, content_type: &'static str, body: String) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type", content_type.into()),
                ("Cache-Control", "no-store".into()),
                ("X-Content-Type-Options", "nosniff".into()),
                ("Access-Control-Allow-Origin", "*".into()),
                ("Access-Control-Expose-Headers", EXPOSE.into()),
            ],
            body,
        }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.into())
    }

    pub fn json(status: u16, body: String) -> Response {
        Response::new(status, "application/json", body)
    }

    /// An etcd keys answer with `X-Etcd-Index` (and `X-Raft-*`, as etcd sends).
    pub fn keys(r: &Reply) -> Response {
        let index = r.etcd_index.to_string();
        let resp = Response::json(r.status, r.body.clone())
            .with("X-Etcd-Index", index.clone().into())
            .with("X-Raft-Index", index.into())
            .with("X-Raft-Term", "1".into());
        match r.retry_after {
            Some(secs) => resp.with("Retry-After", secs.to_string().into()),
            None => resp,
        }
    }

    /// An error in etcd's JSON with the given status (which may differ from the code's own).
    pub fn etcd_error(code: ErrorCode, cause: impl Into<String>, status: u16) -> Response {
        let mut r = Reply::error(&EtcdError::new(code, cause, 0));
        r.status = status;
        Response::keys(&r)
    }

    /// Transient trouble: etcd members retry a 5xx with backoff, so never answer 4xx for it.
    pub fn unavailable(why: &str) -> Response {
        Response::etcd_error(
            ErrorCode::RaftInternal,
            format!("temporarily unavailable: {why}"),
            503,
        )
    }

    pub fn not_found(path: &str) -> Response {
        Response::etcd_error(ErrorCode::KeyNotFound, path, 404)
    }

    pub fn method_not_allowed(allow: &str) -> Response {
        Response::etcd_error(
            ErrorCode::InvalidField,
            format!("method not allowed here: use {allow}"),
            405,
        )
        .with("Allow", allow.to_string().into())
    }

    pub fn keys_method_not_allowed() -> Response {
        Response::method_not_allowed(KEY_METHODS)
    }

    /// A 429 for a plain-text endpoint (minting), with when to try again.
    pub fn too_many(why: &str, retry_after: u64) -> Response {
        Response::text(429, why.to_string()).with("Retry-After", retry_after.to_string().into())
    }

    /// The CORS preflight: browser tools may mint, read, register, delete and translate.
    pub fn preflight() -> Response {
        Response {
            status: 204,
            headers: vec![
                ("Access-Control-Allow-Origin", "*".into()),
                ("Access-Control-Expose-Headers", EXPOSE.into()),
                ("Access-Control-Allow-Methods", CORS_METHODS.into()),
                ("Access-Control-Allow-Headers", "Content-Type".into()),
                ("Access-Control-Max-Age", "86400".into()),
            ],
            body: String::new(),
        }
    }

    /// The same answer, after which the connection closes: the request could not be read to its
    /// end (too large, too slow, broken), so nothing after it on the connection can be trusted.
    pub fn closing(self) -> Response {
        self.with("Connection", "close".into())
    }

    /// Whether the connection closes after this answer.
    pub fn closes(&self) -> bool {
        self.header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    /// Sets a header, replacing one of the same name.
    pub fn with(mut self, name: &'static str, value: Value) -> Response {
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(h) => h.1 = value,
            None => self.headers.push((name, value)),
        }
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_has_cors_nosniff_and_no_store() {
        for r in [
            Response::text(200, "OK"),
            Response::json(400, "{}".into()),
            Response::not_found("/x"),
            Response::too_many("slow down", 7),
        ] {
            assert_eq!(r.header("access-control-allow-origin"), Some("*"));
            assert!(r
                .header("Access-Control-Expose-Headers")
                .unwrap()
                .contains("X-Etcd-Index"));
            assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
            assert_eq!(r.header("Cache-Control"), Some("no-store"));
        }
        assert_eq!(
            Response::text(200, "OK").header("Content-Type"),
            Some("text/plain; charset=utf-8")
        );
    }

    #[test]
    fn keys_answers_carry_etcds_indexes_and_retry_after() {
        let ok = Response::keys(&Reply::idle(7));
        assert_eq!((ok.status, ok.body.as_str()), (200, ""));
        assert_eq!(ok.header("X-Etcd-Index"), Some("7"));
        assert_eq!(ok.header("X-Raft-Index"), Some("7"));
        assert_eq!(ok.header("X-Raft-Term"), Some("1"));
        assert_eq!(ok.header("Retry-After"), None);
        let e = EtcdError::new(ErrorCode::NoMorePeer, "full", 3);
        let busy = Response::keys(&Reply::too_many(&e, 60));
        assert_eq!(busy.status, 429);
        assert_eq!(busy.header("Retry-After"), Some("60"));
        assert_eq!(EtcdError::from_json(&busy.body).unwrap().index, 3);
    }

    #[test]
    fn errors_are_etcds_json_with_the_status_asked_for() {
        let r = Response::unavailable("disk");
        assert_eq!(r.status, 503);
        let e = EtcdError::from_json(&r.body).unwrap();
        assert_eq!(e.code, ErrorCode::RaftInternal);
        assert_eq!(e.cause, "temporarily unavailable: disk");
        let r = Response::method_not_allowed("GET, OPTIONS");
        assert_eq!((r.status, r.header("Allow")), (405, Some("GET, OPTIONS")));
        assert_eq!(
            EtcdError::from_json(&r.body).unwrap().code,
            ErrorCode::InvalidField
        );
        let r = Response::keys_method_not_allowed();
        assert!(r.header("allow").unwrap().contains("PUT"));
    }

    #[test]
    fn the_preflight_allows_what_browser_tools_need() {
        let r = Response::preflight();
        assert_eq!(r.status, 204);
        assert!(r.body.is_empty());
        assert_eq!(
            r.header("Access-Control-Allow-Headers"),
            Some("Content-Type")
        );
        assert!(r
            .header("Access-Control-Allow-Methods")
            .unwrap()
            .contains("DELETE"));
        assert_eq!(r.header("Content-Type"), None);
    }

    #[test]
    fn methods_are_case_sensitive_tokens() {
        assert_eq!(Method::parse("GET"), Method::Get);
        assert_eq!(Method::parse("get"), Method::Other);
        assert_eq!(Method::parse("PROPFIND"), Method::Other);
        for m in [Method::Get, Method::Put, Method::Delete, Method::Head] {
            assert!(m.is_keys());
            assert_eq!(Method::parse(m.as_str()), m);
        }
        assert!(!Method::Post.is_keys() && !Method::Options.is_keys());
        assert!(Method::Head.is_read() && !Method::Put.is_read());
        assert!(Response::text(400, "x").closing().closes());
        assert!(!Response::text(400, "x").closes());
    }

    #[test]
    fn with_replaces_a_header_of_the_same_name() {
        let r = Response::text(200, "x").with("content-type", "text/html".into());
        assert_eq!(
            r.headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
                .count(),
            1
        );
        assert_eq!(r.header("Content-Type"), Some("text/html"));
    }
}
