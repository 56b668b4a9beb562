//! HTTP/1.1 requests as the native server reads them off a socket (RFC 9112): which heads it
//! takes, how their bodies are framed, and the words of every refusal. The shell splits the
//! bytes into a method, a target, a version and headers; the rules are here, tested without a
//! socket. A refused head's answer closes the connection: after it, nothing on the connection
//! can be trusted to start where the server thinks it does.

pub mod chunked;

use crate::http::{Method, Response};

/// Largest request head (request line and headers) read.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Most headers one request may have.
pub const MAX_HEADERS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// How the body that follows a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A request head the server takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: Method,
    /// The path as sent, still percent-encoded (`*` for a server-wide `OPTIONS`).
    pub path: String,
    pub query: Option<String>,
    pub version: Version,
    /// The authority the request names: its `Host`, or an absolute target's.
    pub host: Option<String>,
    pub content_type: Option<String>,
    pub framing: Framing,
    /// Whether the client keeps the connection after the answer.
    pub keep_alive: bool,
    /// `Expect: 100-continue`: the client waits for a go-ahead before it sends its body.
    pub expect_continue: bool,
    /// Every header as sent (values read lossily as text), for those a deployment names.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The value of the first header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the splitter found wrong before there was a head to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// The request line is not `METHOD target HTTP/1.x`.
    RequestLine(String),
    /// A header line is not `name: value` with a name of token characters.
    Header(String),
    /// A version other than HTTP/1.0 and HTTP/1.1.
    Version,
    /// More than `MAX_HEAD_BYTES` without the head's end.
    TooLarge,
    /// More than `MAX_HEADERS` headers.
    TooManyHeaders,
}

/// A refusal, in plain text saying why; the connection closes after it.
pub fn refusal(status: u16, why: impl Into<String>) -> Response {
    Response::text(status, why.into()).closing()
}

/// The answer to a head that could not be split.
pub fn malformed(m: &Malformed) -> Response {
    match m {
        Malformed::RequestLine(why) => refusal(
            400,
            format!("the request line is not \"METHOD /path HTTP/1.1\": {why}"),
        ),
        Malformed::Header(why) => refusal(
            400,
            format!("a header is not \"Name: value\" with a name of letters, digits and !#$%&'*+-.^_`|~: {why}"),
        ),
        // RFC 9110 has 505 for this; a 5xx reads as this server's trouble on every dashboard,
        // and the mistake is the client's.
        Malformed::Version => refusal(400, "this server speaks HTTP/1.0 and HTTP/1.1 only"),
        Malformed::TooLarge => refusal(
            431,
            format!("the request's line and headers are longer than {MAX_HEAD_BYTES} bytes"),
        ),
        Malformed::TooManyHeaders => {
            refusal(431, format!("the request has more than {MAX_HEADERS} headers"))
        }
    }
}

impl Head {
    /// Reads a split head: `method` and `target` as sent, `minor` the HTTP/1 minor version,
    /// `headers` as sent. The error is the answer refusing it.
    pub fn read(
        method: &str,
        target: &str,
        minor: u8,
        headers: &[(&str, &[u8])],
    ) -> Result<Head, Response> {
        let version = match minor {
            0 => Version::Http10,
            1 => Version::Http11,
            _ => return Err(malformed(&Malformed::Version)),
        };
        let method = Method::parse(method);
        let text = |v: &[u8]| String::from_utf8_lossy(v).trim().to_string();
        let all = |name: &str| -> Vec<String> {
            headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| text(v))
                .collect()
        };
        let (path, query, absolute_host) = read_target(target);

        // RFC 9112 3.2: exactly one Host in HTTP/1.1, and a valid one.
        let hosts = all("host");
        if hosts.len() > 1 {
            return Err(refusal(
                400,
                format!("the request has {} Host headers: send one", hosts.len()),
            ));
        }
        let host = hosts.into_iter().next();
        if host.is_none() && absolute_host.is_none() && version == Version::Http11 {
            return Err(refusal(400, "an HTTP/1.1 request must name its Host"));
        }
        if let Some(h) = &host {
            if !h.bytes().all(is_host_byte) {
                return Err(refusal(
                    400,
                    format!("Host {h:?} is not a host name or address"),
                ));
            }
        }

        let framing = framing(&all("transfer-encoding"), &all("content-length"), version)?;

        let connection: Vec<String> = all("connection")
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        let keep_alive = match version {
            Version::Http11 => !connection.iter().any(|t| t == "close"),
            Version::Http10 => connection.iter().any(|t| t == "keep-alive"),
        };

        let mut expect_continue = false;
        for e in all("expect") {
            if e.eq_ignore_ascii_case("100-continue") {
                expect_continue = true;
            } else {
                return Err(refusal(
                    417,
                    format!("Expect: {e} is not met here: only 100-continue is"),
                ));
            }
        }

        Ok(Head {
            method,
            path,
            query,
            version,
            host: absolute_host.or(host),
            content_type: all("content-type").into_iter().next(),
            framing,
            keep_alive,
            expect_continue: expect_continue && version == Version::Http11,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v).to_string()))
                .collect(),
        })
    }
}

/// The path, query and (for an absolute target) authority of a request target. Anything that
/// is not origin-form, absolute-form or `*` comes back as its path, for the router to refuse.
fn read_target(target: &str) -> (String, Option<String>, Option<String>) {
    let split = |rest: &str| match rest.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (rest.to_string(), None),
    };
    let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    let scheme_len = if lower.starts_with("http://") {
        7
    } else if lower.starts_with("https://") {
        8
    } else {
        let (p, q) = split(target);
        return (p, q, None);
    };
    let rest = &target[scheme_len..];
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let (p, q) = split(path);
    let p = if p.is_empty() { "/".to_string() } else { p };
    (p, q, Some(authority.to_string()))
}

/// How the body is framed, or the refusal: RFC 9112 6.1 and 6.3.
fn framing(te: &[String], cl: &[String], version: Version) -> Result<Framing, Response> {
    if !te.is_empty() {
        if version == Version::Http10 {
            return Err(refusal(
                400,
                "HTTP/1.0 has no Transfer-Encoding: send a Content-Length",
            ));
        }
        if !cl.is_empty() {
            // The shape of request smuggling: whoever forwarded this may have read it the other
            // way.
            return Err(refusal(
                400,
                "the request has both Transfer-Encoding and Content-Length: send one",
            ));
        }
        let codings: Vec<String> = te
            .iter()
            .flat_map(|v| v.split(','))
            .map(|c| c.trim().to_ascii_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        if codings.last().map(String::as_str) != Some("chunked") {
            return Err(refusal(
                400,
                format!(
                    "Transfer-Encoding {:?} does not end in chunked: the body's length cannot be known",
                    te.join(", ")
                ),
            ));
        }
        let before = &codings[..codings.len() - 1];
        if before.iter().any(|c| c == "chunked") {
            return Err(refusal(400, "the body is chunked more than once"));
        }
        if !before.is_empty() {
            let other: Vec<&str> = before.iter().map(String::as_str).collect();
            return Err(refusal(
                501,
                format!(
                    "transfer coding {} is not supported here: only chunked is",
                    other.join(", ")
                ),
            ));
        }
        return Ok(Framing::Chunked);
    }
    let mut length = None;
    for value in cl.iter().flat_map(|v| v.split(',')).map(str::trim) {
        let n = match value.parse::<u64>() {
            Ok(n) if !value.starts_with('+') => n,
            _ => {
                return Err(refusal(
                    400,
                    format!("Content-Length {value:?} is not a length in bytes"),
                ))
            }
        };
        if length.is_some_and(|l| l != n) {
            return Err(refusal(
                400,
                format!(
                    "the request has Content-Lengths {} and {n}: send one",
                    length.unwrap_or(0)
                ),
            ));
        }
        length = Some(n);
    }
    Ok(match length {
        Some(n) if n > 0 => Framing::Length(n),
        _ => Framing::None,
    })
}

/// A byte a Host may hold: a name, an IPv4 or bracketed IPv6 address, a port (RFC 3986
/// reg-name, IP-literal and port characters).
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'.' | b'-'
                | b'_'
                | b'~'
                | b':'
                | b'['
                | b']'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(target: &str, headers: &[(&str, &str)]) -> Result<Head, Response> {
        let headers: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect();
        Head::read("PUT", target, 1, &headers)
    }

    fn refused(target: &str, headers: &[(&str, &str)]) -> (u16, String) {
        let r = read(target, headers).unwrap_err();
        assert!(r.closes(), "a refusal closes: {r:?}");
        assert!(
            r.header("Content-Type").unwrap().starts_with("text/plain"),
            "{r:?}"
        );
        (r.status, r.body)
    }

    #[test]
    fn a_plain_request_reads_whole() {
        let h = read(
            "/t/m1?prevExist=false",
            &[
                ("Host", "d.example:8787"),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Content-Length", "7"),
                ("X-Forwarded-For", "10.0.0.1"),
            ],
        )
        .unwrap();
        assert_eq!(h.method, Method::Put);
        assert_eq!(
            (h.path.as_str(), h.query.as_deref()),
            ("/t/m1", Some("prevExist=false"))
        );
        assert_eq!(h.host.as_deref(), Some("d.example:8787"));
        assert_eq!(h.framing, Framing::Length(7));
        assert!(h.keep_alive && !h.expect_continue);
        assert_eq!(h.header("x-forwarded-for"), Some("10.0.0.1"));
        let h = read("/x", &[("Host", "h"), ("Transfer-Encoding", "Chunked")]).unwrap();
        assert_eq!(h.framing, Framing::Chunked);
        let h = read("/x", &[("Host", "h"), ("Content-Length", "0")]).unwrap();
        assert_eq!(h.framing, Framing::None);
    }

    #[test]
    fn the_host_is_one_and_plain() {
        let (status, why) = refused("/x", &[("Host", "a"), ("Host", "b")]);
        assert_eq!(status, 400);
        assert!(why.contains("2 Host headers"), "{why}");
        let (status, why) = refused("/x", &[]);
        assert_eq!((status, why.contains("must name its Host")), (400, true));
        let (status, _) = refused("/x", &[("Host", "a b")]);
        assert_eq!(status, 400);
        let (status, _) = refused("/x", &[("Host", "evil/path")]);
        assert_eq!(status, 400);
        // HTTP/1.0 may leave it out; an absolute target names its own.
        assert!(Head::read("GET", "/x", 0, &[]).is_ok());
        let h = read("http://d.example/t?q=1", &[]).unwrap();
        assert_eq!(
            (h.path.as_str(), h.query.as_deref(), h.host.as_deref()),
            ("/t", Some("q=1"), Some("d.example"))
        );
        assert_eq!(read("HTTP://d.example", &[]).unwrap().path, "/");
    }

    #[test]
    fn a_body_has_one_unambiguous_length() {
        // Both: the shape of request smuggling (RFC 9112 6.3).
        let (status, why) = refused(
            "/x",
            &[
                ("Host", "h"),
                ("Transfer-Encoding", "chunked"),
                ("Content-Length", "5"),
            ],
        );
        assert_eq!(status, 400);
        assert!(
            why.contains("both Transfer-Encoding and Content-Length"),
            "{why}"
        );
        // A coding this server does not know: 501 (RFC 9112 6.1); not ending in chunked: 400.
        let (status, why) = refused(
            "/x",
            &[("Host", "h"), ("Transfer-Encoding", "gzip, chunked")],
        );
        assert_eq!(status, 501);
        assert!(why.contains("gzip"), "{why}");
        let (status, why) = refused("/x", &[("Host", "h"), ("Transfer-Encoding", "gzip")]);
        assert_eq!(status, 400);
        assert!(why.contains("does not end in chunked"), "{why}");
        let (status, why) = refused(
            "/x",
            &[
                ("Host", "h"),
                ("Transfer-Encoding", "chunked"),
                ("Transfer-Encoding", "chunked"),
            ],
        );
        assert_eq!(
            (status, why.contains("more than once")),
            (400, true),
            "{why}"
        );
        for bad in ["-1", "+5", "1e3", "", "99999999999999999999999"] {
            let (status, why) = refused("/x", &[("Host", "h"), ("Content-Length", bad)]);
            assert_eq!(status, 400, "{bad:?}");
            assert!(why.contains("not a length"), "{why}");
        }
        let (status, why) = refused(
            "/x",
            &[
                ("Host", "h"),
                ("Content-Length", "5"),
                ("Content-Length", "6"),
            ],
        );
        assert_eq!((status, why.contains("5 and 6")), (400, true), "{why}");
        let h = read("/x", &[("Host", "h"), ("Content-Length", "5, 5")]).unwrap();
        assert_eq!(h.framing, Framing::Length(5));
        let r = Head::read(
            "POST",
            "/x",
            0,
            &[("Transfer-Encoding", b"chunked".as_slice())],
        );
        assert_eq!(r.unwrap_err().status, 400);
    }

    #[test]
    fn connections_close_as_asked_and_expectations_are_met_or_refused() {
        let h = read("/x", &[("Host", "h"), ("Connection", "keep-alive, Close")]).unwrap();
        assert!(!h.keep_alive);
        assert!(!Head::read("GET", "/", 0, &[]).unwrap().keep_alive);
        let h = Head::read("GET", "/", 0, &[("Connection", b"Keep-Alive".as_slice())]).unwrap();
        assert!(h.keep_alive);
        let h = read("/x", &[("Host", "h"), ("Expect", "100-Continue")]).unwrap();
        assert!(h.expect_continue);
        let (status, _) = refused("/x", &[("Host", "h"), ("Expect", "the-unexpected")]);
        assert_eq!(status, 417);
    }

    #[test]
    fn what_could_not_be_split_is_said_in_words() {
        for (m, status) in [
            (Malformed::RequestLine("a space too many".into()), 400),
            (Malformed::Header("no colon".into()), 400),
            (Malformed::Version, 400),
            (Malformed::TooLarge, 431),
            (Malformed::TooManyHeaders, 431),
        ] {
            let r = malformed(&m);
            assert_eq!(r.status, status);
            assert!(!r.body.is_empty() && r.closes(), "{m:?}");
        }
        assert_eq!(Head::read("GET", "/", 2, &[]).unwrap_err().status, 400);
    }
}
