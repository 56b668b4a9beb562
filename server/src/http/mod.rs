//! HTTP/1.1 as the native server speaks it (as etcd members and browsers do): requests read
//! off a connection by `shared::http1`'s rules, answers written out whole. Kept small and
//! strict instead of a general server: every refusal says why in text, a body's length must be
//! unambiguous, and a connection closes after any request it could not read to its end.

pub mod connection;

use std::borrow::Cow;
use std::net::SocketAddr;

use bytes::Bytes;
use shared::http::Response;
use shared::http1::Head;

/// One request, read whole.
pub struct Request {
    pub head: Head,
    pub body: Body,
    pub peer: SocketAddr,
}

/// A request's body as the connection read it.
pub enum Body {
    /// All of it (empty if none).
    Whole(Vec<u8>),
    /// Larger than `shared::body::MAX_BODY_BYTES`: read and dropped.
    TooLarge,
}

/// An answer ready to write: a status, its headers, its body's bytes.
pub struct Outgoing {
    pub status: u16,
    /// Its headers; a `Connection` among them is not written (`close` decides it).
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub body: Bytes,
    /// Whether the connection closes after it (`shared::http::Response::closes`).
    pub close: bool,
}

impl From<Response> for Outgoing {
    fn from(r: Response) -> Outgoing {
        let close = r.closes();
        Outgoing {
            status: r.status,
            headers: r
                .headers
                .into_iter()
                .map(|(n, v)| (Cow::Borrowed(n), v))
                .collect(),
            body: Bytes::from(r.body),
            close,
        }
    }
}

/// The reason phrase of a status, for the status line.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        417 => "Expectation Failed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
