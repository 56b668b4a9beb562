//! One connection: requests read one after another (pipelined ones too), each answered before
//! the next is read. A client has the header timeout to send a request's line and headers (and
//! no longer to sit idle between requests), and the body timeout to send its body. A request
//! the server cannot read to its end (refused, too large, too slow, broken) is answered if it
//! can be, and the connection closes.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use shared::body::{DRAIN_BYTES, MAX_BODY_BYTES};
use shared::http::{Method, Response};
use shared::http1::chunked::Chunked;
use shared::http1::{self, Framing, Head, Malformed, MAX_HEADERS, MAX_HEAD_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::{reason, Body, Outgoing, Request};

/// How long a client may take.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To send a request's line and headers, counted from the end of the previous answer.
    pub header: Duration,
    /// To send a request's body.
    pub body: Duration,
}

/// What waiting for the next request came to.
enum Next {
    Head(Head),
    /// The client closed, sat idle too long, or the server is stopping: close quietly.
    Stop,
    /// Answer this and close.
    Refuse(Response),
}

struct Connection {
    stream: TcpStream,
    buf: BytesMut,
}

/// Serves requests on `stream` with `handle` until the client closes, a request cannot be read
/// whole, or `shutdown` turns true (a connection idle then closes at once; one busy closes
/// after its answer).
pub async fn serve<F, Fut>(
    stream: TcpStream,
    peer: SocketAddr,
    timeouts: Timeouts,
    mut shutdown: watch::Receiver<bool>,
    handle: F,
) where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Outgoing>,
{
    let mut conn = Connection {
        stream,
        buf: BytesMut::with_capacity(4096),
    };
    loop {
        let head = match conn.head(timeouts.header, &mut shutdown).await {
            Next::Head(head) => head,
            Next::Stop => return,
            Next::Refuse(refusal) => {
                let _ = conn.write(&refusal.into(), false, true).await;
                return;
            }
        };
        let body = match conn.body(&head, timeouts.body).await {
            Ok(body) => body,
            Err(refusal) => {
                let _ = conn.write(&refusal.into(), false, true).await;
                return;
            }
        };
        let (keep_alive, head_only) = (head.keep_alive, head.method == Method::Head);
        let out = handle(Request { head, body, peer }).await;
        let close = !keep_alive || out.close || *shutdown.borrow();
        if conn.write(&out, head_only, close).await.is_err() || close {
            return;
        }
    }
}

impl Connection {
    /// Reads bytes into the buffer: how many (0 at the connection's end).
    async fn fill(&mut self) -> std::io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4096);
        }
        self.stream.read_buf(&mut self.buf).await
    }

    /// The next request's head, within `timeout` of asking.
    async fn head(&mut self, timeout: Duration, shutdown: &mut watch::Receiver<bool>) -> Next {
        let read = async {
            loop {
                match split(&self.buf) {
                    Ok(Some((head, used))) => {
                        self.buf.advance(used);
                        return Next::Head(head);
                    }
                    Ok(None) => {}
                    Err(refusal) => return Next::Refuse(refusal),
                }
                let idle = self.buf.is_empty();
                let read = if idle {
                    // Between requests the connection is idle: a stopping server closes it.
                    tokio::select! {
                        r = self.fill() => r,
                        _ = shutdown.wait_for(|stop| *stop) => return Next::Stop,
                    }
                } else {
                    self.fill().await
                };
                match read {
                    Ok(0) | Err(_) => return Next::Stop,
                    Ok(_) => {}
                }
            }
        };
        match tokio::time::timeout(timeout, read).await {
            Ok(next) => next,
            Err(_) if self.buf.is_empty() => Next::Stop,
            Err(_) => Next::Refuse(http1::refusal(
                408,
                format!(
                    "the request's line and headers did not arrive within {} s",
                    timeout.as_secs()
                ),
            )),
        }
    }

    /// The body `head` announces, read within `timeout`; beyond `MAX_BODY_BYTES` it is read on
    /// and dropped (up to `DRAIN_BYTES`, so the client reads the answer, not a reset).
    async fn body(&mut self, head: &Head, timeout: Duration) -> Result<Body, Response> {
        if let Framing::Length(n) = head.framing {
            if shared::body::declared_past_draining(Some(n)) {
                return Err(shared::body::too_large());
            }
        }
        if head.expect_continue && head.framing != Framing::None {
            let go = b"HTTP/1.1 100 Continue\r\n\r\n";
            self.stream
                .write_all(go)
                .await
                .map_err(|e| shared::body::broken(&e.to_string()))?;
        }
        let read = async {
            let mut sink = Sink::default();
            match head.framing {
                Framing::None => {}
                Framing::Length(n) => {
                    let mut left = usize::try_from(n).unwrap_or(usize::MAX);
                    while left > 0 {
                        if self.buf.is_empty() && self.fill().await? == 0 {
                            return Err(Unread::Broken(CLOSED_IN_BODY.into()));
                        }
                        let take = left.min(self.buf.len());
                        sink.take(&self.buf[..take]);
                        self.buf.advance(take);
                        left -= take;
                    }
                }
                Framing::Chunked => {
                    let mut chunked = Chunked::default();
                    while !chunked.done() {
                        if self.buf.is_empty() && self.fill().await? == 0 {
                            return Err(Unread::Broken(CLOSED_IN_BODY.into()));
                        }
                        let used = chunked
                            .feed(&self.buf, |b| sink.take(b))
                            .map_err(Unread::Broken)?;
                        self.buf.advance(used);
                        if sink.seen > DRAIN_BYTES {
                            return Err(Unread::TooLarge);
                        }
                    }
                }
            }
            Ok(sink.body())
        };
        match tokio::time::timeout(timeout, read).await {
            Err(_) => Err(shared::body::timed_out(timeout.as_secs())),
            Ok(Err(Unread::TooLarge)) => Err(shared::body::too_large()),
            Ok(Err(Unread::Broken(why))) => Err(shared::body::broken(&why)),
            Ok(Ok(body)) => Ok(body),
        }
    }

    /// Writes an answer (only its head, for a HEAD request), closing the connection after it
    /// when `close`.
    async fn write(&mut self, out: &Outgoing, head_only: bool, close: bool) -> std::io::Result<()> {
        use std::fmt::Write;
        let bodiless = out.status == 204 || out.status == 304 || out.status < 200;
        let mut head = String::with_capacity(256);
        let _ = write!(head, "HTTP/1.1 {} {}\r\n", out.status, reason(out.status));
        for (name, value) in &out.headers {
            // Written below from `close`, and only there.
            if name.eq_ignore_ascii_case("connection") {
                continue;
            }
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if !bodiless {
            let _ = write!(head, "Content-Length: {}\r\n", out.body.len());
        }
        let _ = write!(head, "Date: {}\r\n", date());
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let send_body = !head_only && !bodiless && !out.body.is_empty();
        // Small answers go out in one write; a large file's body follows its head.
        if send_body && out.body.len() <= 16 * 1024 {
            let mut all = head.into_bytes();
            all.extend_from_slice(&out.body);
            self.stream.write_all(&all).await?;
        } else {
            self.stream.write_all(head.as_bytes()).await?;
            if send_body {
                self.stream.write_all(&out.body).await?;
            }
        }
        if close {
            let _ = self.stream.shutdown().await;
        }
        Ok(())
    }
}

const CLOSED_IN_BODY: &str = "the connection closed in the middle of the body";

/// Why a body was not read to its end.
enum Unread {
    /// Past `DRAIN_BYTES`: not worth reading on.
    TooLarge,
    Broken(String),
}

impl From<std::io::Error> for Unread {
    fn from(e: std::io::Error) -> Unread {
        Unread::Broken(e.to_string())
    }
}

/// A body's bytes as they come: the first `MAX_BODY_BYTES` and one more are kept, the rest
/// only counted.
#[derive(Default)]
struct Sink {
    kept: Vec<u8>,
    seen: usize,
}

impl Sink {
    fn take(&mut self, bytes: &[u8]) {
        self.seen = self.seen.saturating_add(bytes.len());
        let room = (MAX_BODY_BYTES + 1).saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn body(self) -> Body {
        if self.seen > MAX_BODY_BYTES {
            Body::TooLarge
        } else {
            Body::Whole(self.kept)
        }
    }
}

/// The head at the start of `buf`, with the bytes it took; `Ok(None)` if it has not all
/// arrived. The error is the answer refusing it.
fn split(buf: &[u8]) -> Result<Option<(Head, usize)>, Response> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let used = match req.parse(buf) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => {
            return Err(http1::malformed(&Malformed::TooLarge))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(http1::malformed(&malformed(e))),
    };
    if used > MAX_HEAD_BYTES {
        return Err(http1::malformed(&Malformed::TooLarge));
    }
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(http1::malformed(&Malformed::RequestLine(
            "it is incomplete".into(),
        )));
    };
    let fields: Vec<(&str, &[u8])> = req.headers.iter().map(|h| (h.name, h.value)).collect();
    Head::read(method, target, minor, &fields).map(|head| Some((head, used)))
}

/// What httparse found wrong, in this server's words.
fn malformed(e: httparse::Error) -> Malformed {
    use httparse::Error as E;
    match e {
        E::Version => Malformed::Version,
        E::TooManyHeaders => Malformed::TooManyHeaders,
        E::HeaderName => Malformed::Header("a header's name holds a character names cannot".into()),
        E::HeaderValue => Malformed::Header("a header's value holds a control character".into()),
        E::Token => {
            Malformed::RequestLine("the method or the target holds a character they cannot".into())
        }
        E::NewLine => Malformed::RequestLine("a line does not end in CRLF".into()),
        E::Status => Malformed::RequestLine("it has no method, target and version".into()),
    }
}

/// Now, as HTTP's `Date` writes it; formatted once a second.
fn date() -> String {
    use std::cell::RefCell;
    thread_local! {
        static CACHED: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = crate::now::now_ms();
    CACHED.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != now / 1000 {
            *c = (now / 1000, shared::time::http_date(now));
        }
        c.1.clone()
    })
}
