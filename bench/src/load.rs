//! The load generator: simulated etcd members (`rendezvous_e2e::sim`, etcd's exact request
//! sequence) driven over async HTTP/1.1, one keep-alive connection per member as etcd keeps
//! one, thousands at once on two threads. Its own ceiling is measured against the cheapest
//! answer there is, so that a figure it caps is seen as capped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rendezvous_e2e::http::Resp;
use rendezvous_e2e::sim::{Member, Outcome, Request, Step};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// The runtime the generator runs on: two threads, as many as the machine has cores.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// One client's keep-alive connection, opened again when it breaks.
pub struct Conn {
    authority: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

/// `http://host:port/rest` as (`host:port`, `/rest`).
fn split(url: &str) -> (&str, &str) {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let at = rest.find('/').unwrap_or(rest.len());
    let path = &rest[at..];
    (&rest[..at], if path.is_empty() { "/" } else { path })
}

impl Conn {
    pub fn new(url: &str) -> Conn {
        Conn {
            authority: split(url).0.to_string(),
            sender: None,
        }
    }

    async fn sender(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = TcpStream::connect(&self.authority)
                .await
                .map_err(|e| format!("connect {}: {e}", self.authority))?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(conn);
            self.sender = Some(sender);
        }
        Ok(self.sender.as_mut().expect("just set"))
    }

    /// Sends one request; a broken connection is an `Err` (and is opened again next time).
    pub async fn send(
        &mut self,
        method: &str,
        url: &str,
        form: Option<&str>,
    ) -> Result<Resp, String> {
        let (authority, path) = split(url);
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("Host", authority);
        if form.is_some() {
            req = req.header("Content-Type", "application/x-www-form-urlencoded");
        }
        let body = Full::new(Bytes::from(form.unwrap_or("").to_string()));
        let req = req.body(body).map_err(|e| e.to_string())?;
        let result = async {
            let sender = self.sender().await?;
            sender.ready().await.map_err(|e| e.to_string())?;
            let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .filter(|(n, _)| n.as_str() == "x-etcd-index")
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok(Resp {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            })
        }
        .await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }
}

/// Drives one member through its sequence; returns its outcome and the requests it sent.
pub async fn member(url: &str, id: &str, peer: &str) -> (Result<Outcome, String>, u64) {
    let mut m = Member::new(url, id, peer);
    let mut conn = Conn::new(url);
    let mut sent = 0;
    let mut step = Step::Send(m.request());
    loop {
        step = match step {
            Step::Send(Request { method, url, body }) => {
                sent += 1;
                let reply = conn.send(method, &url, body.as_deref()).await;
                m.on_reply(reply)
            }
            Step::Pause(d) => {
                tokio::time::sleep(d).await;
                Step::Send(m.request())
            }
            Step::Done(result) => return (result, sent),
        };
    }
}

pub struct Load {
    pub tokens: usize,
    pub members: usize,
    pub wall: f64,
    /// Per member, seconds from its start to its answer.
    pub latencies: Vec<f64>,
    pub failed: usize,
    pub first_error: Option<String>,
    /// Requests sent in all.
    pub requests: u64,
}

impl Load {
    pub fn rate(&self) -> f64 {
        self.tokens as f64 / self.wall
    }
}

/// Bootstraps every token of `urls` with `size` simulated members each (all of a token's
/// members start together), at most `at_once` tokens at a time.
pub fn bootstraps(
    rt: &tokio::runtime::Runtime,
    urls: Vec<String>,
    size: usize,
    at_once: usize,
) -> Load {
    run_tokens(rt, urls, size, at_once, |t, m, url| async move {
        let peer = format!("http://10.{}.{}.{}:2380", t / 250 % 250, t % 250, m);
        let (r, sent) = member(&url, &format!("t{t}m{m}"), &peer).await;
        (r.map(|_| ()), sent)
    })
}

/// Runs `size` members on every token (a token's members start together), at most `at_once`
/// tokens at a time. `member(t, m, token)` is member `m` of token `t`: its result and the
/// requests it sent. Only members that succeed count toward the latencies.
pub fn run_tokens<F, Fut>(
    rt: &tokio::runtime::Runtime,
    tokens: Vec<String>,
    size: usize,
    at_once: usize,
    member: F,
) -> Load
where
    F: Fn(usize, usize, String) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = (Result<(), String>, u64)> + Send + 'static,
{
    let count = tokens.len();
    rt.block_on(async move {
        let slots = Arc::new(Semaphore::new(at_once.max(1)));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for (t, token) in tokens.into_iter().enumerate() {
            let (slots, member) = (slots.clone(), member.clone());
            tasks.push(tokio::spawn(async move {
                let _slot = slots.acquire_owned().await.expect("open");
                let members: Vec<_> = (0..size)
                    .map(|m| {
                        let run = member(t, m, token.clone());
                        tokio::spawn(async move {
                            let begun = Instant::now();
                            let (r, sent) = run.await;
                            (begun.elapsed().as_secs_f64(), r, sent)
                        })
                    })
                    .collect();
                let mut out = Vec::new();
                for m in members {
                    out.push(m.await.expect("a member task"));
                }
                out
            }));
        }
        let mut load = Load {
            tokens: count,
            members: count * size,
            wall: 0.0,
            latencies: Vec::new(),
            failed: 0,
            first_error: None,
            requests: 0,
        };
        for task in tasks {
            for (latency, result, sent) in task.await.expect("a token task") {
                load.requests += sent;
                match result {
                    Ok(()) => load.latencies.push(latency),
                    Err(e) => {
                        load.failed += 1;
                        load.first_error.get_or_insert(e);
                    }
                }
            }
        }
        load.wall = start.elapsed().as_secs_f64();
        load
    })
}

/// Requests per second `clients` keep-alive clients get from `url` for `seconds`: with the
/// cheapest answer there is, the generator's own ceiling.
pub fn request_rate(rt: &tokio::runtime::Runtime, url: &str, clients: usize, seconds: f64) -> f64 {
    rt.block_on(async {
        let done = Arc::new(AtomicU64::new(0));
        let until = Instant::now() + Duration::from_secs_f64(seconds);
        let start = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (url, done) = (url.to_string(), done.clone());
                tokio::spawn(async move {
                    let mut conn = Conn::new(&url);
                    while Instant::now() < until {
                        if conn
                            .send("GET", &url, None)
                            .await
                            .is_ok_and(|r| r.status == 200)
                        {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
        done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
    })
}

/// A bare HTTP/1.1 GET on its own connection, for measurements where hundreds of answers
/// arrive at once and a full client's work per answer would be what is measured: the request
/// is written whole, and the answer is read until its `Content-Length` or its last chunk.
pub struct RawGet {
    stream: TcpStream,
    request: Vec<u8>,
}

impl RawGet {
    pub async fn connect(url: &str) -> std::io::Result<RawGet> {
        let (authority, path) = split(url);
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\n\r\n").into_bytes();
        Ok(RawGet { stream, request })
    }

    pub async fn send(&mut self) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        self.stream.write_all(&self.request).await
    }

    /// Reads one answer: its status and body.
    pub async fn answer(&mut self) -> std::io::Result<(u16, Vec<u8>)> {
        use tokio::io::AsyncReadExt;
        let mut got = Vec::with_capacity(1024);
        let mut buf = [0u8; 4096];
        loop {
            let n = self.stream.read(&mut buf).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            got.extend_from_slice(&buf[..n]);
            if let Some(answer) = rendezvous_e2e::http::complete(&got) {
                return Ok((answer.status, answer.body(&got).to_vec()));
            }
        }
    }
}

/// `waiters` recursive waits parked on the token at `url`, then one registration: seconds from
/// just before the registration was sent until each wait was answered.
pub fn wakeup(rt: &tokio::runtime::Runtime, url: &str, waiters: usize) -> Vec<f64> {
    wakeup_across(rt, url, url, waiters)
}

/// `wakeup` with the waits parked at `url` and the registration sent to `write_url` (the same
/// token through another replica).
pub fn wakeup_across(
    rt: &tokio::runtime::Runtime,
    url: &str,
    write_url: &str,
    waiters: usize,
) -> Vec<f64> {
    rt.block_on(async {
        let mut writer = Conn::new(write_url);
        let mut probe = Conn::new(url);
        let list = probe.send("GET", url, None).await.expect("a listing");
        let index: u64 = list
            .header("X-Etcd-Index")
            .and_then(|v| v.parse().ok())
            .expect("an index");
        let wait = format!("{url}?recursive=true&wait=true&waitIndex={}", index + 1);
        let mut parked = Vec::with_capacity(waiters);
        for _ in 0..waiters {
            let mut w = RawGet::connect(&wait).await.expect("a connection");
            w.send().await.expect("a wait");
            parked.push(w);
        }
        let go = Arc::new(std::sync::OnceLock::<Instant>::new());
        let tasks: Vec<_> = parked
            .into_iter()
            .map(|mut w| {
                let go = go.clone();
                tokio::spawn(async move {
                    let (status, body) = w.answer().await.expect("an answer");
                    let at = Instant::now();
                    assert!(status == 200 && !body.is_empty(), "a wait failed: {status}");
                    at.duration_since(*go.get().expect("answered after the write"))
                        .as_secs_f64()
                })
            })
            .collect();
        // Give every wait time to arrive and park.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        go.set(Instant::now()).expect("set once");
        let r = writer
            .send(
                "PUT",
                &format!("{write_url}/waker"),
                Some("value=w%3Dhttp%3A%2F%2F10.0.0.1%3A2380"),
            )
            .await
            .expect("a registration");
        assert_eq!(r.status, 201, "{r:?}");
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("a waiter"));
        }
        out
    })
}

/// The floor under `wakeup`: `n` connections, each with a GET of `url` (an empty answer)
/// released at the same instant; seconds until each is answered.
pub fn burst(rt: &tokio::runtime::Runtime, url: &str, n: usize) -> Vec<f64> {
    rt.block_on(async {
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let mut c = RawGet::connect(url).await.expect("a connection");
            c.send().await.expect("a warm-up");
            c.answer().await.expect("a warm-up answer");
            conns.push(c);
        }
        let start = Instant::now();
        for c in &mut conns {
            c.send().await.expect("a request");
        }
        let tasks: Vec<_> = conns
            .into_iter()
            .map(|mut c| {
                tokio::spawn(async move {
                    c.answer().await.expect("an answer");
                    start.elapsed().as_secs_f64()
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("a client"));
        }
        out
    })
}

/// Sends `count` GETs of `url_of(i)` with `clients` keep-alive clients (minting, or writing
/// the size key of raw etcd tokens); returns the answers' bodies in order of `i`.
pub fn many(
    rt: &tokio::runtime::Runtime,
    count: usize,
    clients: usize,
    request: impl Fn(usize) -> (&'static str, String, Option<String>) + Send + Sync + 'static,
) -> Vec<String> {
    rt.block_on(async move {
        let request = Arc::new(request);
        let next = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (request, next) = (request.clone(), next.clone());
                tokio::spawn(async move {
                    let mut out = Vec::new();
                    let mut conn: Option<Conn> = None;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        if i >= count {
                            return out;
                        }
                        let (method, url, form) = request(i);
                        let conn = conn.get_or_insert_with(|| Conn::new(&url));
                        // A keep-alive connection the server closed is opened again (a mint
                        // sent twice mints one more token; a size key is written alike).
                        let mut tries = 0;
                        let r = loop {
                            match conn.send(method, &url, form.as_deref()).await {
                                Ok(r) => break r,
                                Err(_) if tries < 5 => {
                                    tries += 1;
                                    tokio::time::sleep(Duration::from_millis(50)).await;
                                }
                                Err(e) => panic!("{method} {url}: {e}"),
                            }
                        };
                        assert!(r.status < 300, "{method} {url}: {r:?}");
                        out.push((i, r.body));
                    }
                })
            })
            .collect();
        let mut all = Vec::with_capacity(count);
        for t in tasks {
            all.extend(t.await.expect("a client"));
        }
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, b)| b).collect()
    })
}
