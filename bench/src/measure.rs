//! Each measurement, returning raw samples in seconds.

use std::time::{Duration, Instant};

use rendezvous_e2e::etcd::Member;
use rendezvous_e2e::etcd::Release;
use rendezvous_e2e::http::{put, try_send};
use rendezvous_e2e::sim::member;

use crate::services::{Kind, Services};

/// Seconds from starting `n` real etcd members at once until all answer healthy.
pub fn bootstrap(s: &Services, kind: Kind, n: u16, run: u16, dir: &std::path::Path) -> f64 {
    let url = s.mint(kind, n as usize);
    let base = 21_000 + 1000 * (run % 6);
    let run_dir = dir.join(format!("{}-{n}-{run}", kind.key()));
    let _ = std::fs::remove_dir_all(&run_dir);
    std::fs::create_dir_all(&run_dir).unwrap();
    let mut ms: Vec<Member> = (1..=n)
        .map(|i| Member::new(&run_dir, &format!("m{i}"), Release::V34, base, i, &url))
        .collect();
    if kind == Kind::Static {
        let cluster: Vec<String> = ms
            .iter()
            .map(|m| format!("{}={}", m.name, m.peer_url()))
            .collect();
        let token = format!("bench-{run}-{n}");
        ms = ms
            .into_iter()
            .map(|m| m.with_initial_cluster(&cluster.join(","), &token))
            .collect();
    }
    let start = Instant::now();
    ms.iter_mut().for_each(Member::start);
    loop {
        if ms.iter().all(Member::healthy) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{} n={n}: not healthy",
            kind.key()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = start.elapsed().as_secs_f64();
    drop(ms);
    let _ = std::fs::remove_dir_all(&run_dir);
    t
}

fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("a thread")
}

pub struct Load {
    pub tokens: usize,
    pub members: usize,
    pub wall: f64,
    /// Per member, seconds from its start to its answer.
    pub latencies: Vec<f64>,
    pub failed: usize,
    pub first_error: Option<String>,
}

/// `tokens` tokens of `size`, each with `size` simulated members, all started at once.
pub fn load(s: &Services, kind: Kind, tokens: usize, size: usize) -> Load {
    load_urls((0..tokens).map(|_| s.mint(kind, size)).collect(), size)
}

/// The same on tokens minted already.
pub fn load_urls(urls: Vec<String>, size: usize) -> Load {
    let tokens = urls.len();
    let start = Instant::now();
    let mut handles = Vec::new();
    for (t, url) in urls.into_iter().enumerate() {
        for m in 0..size {
            let url = url.clone();
            handles.push(spawn(move || {
                let begun = Instant::now();
                let peer = format!("http://10.{}.{}.{}:2380", t / 250, t % 250, m);
                let r = member(&url, &format!("t{t}m{m}"), &peer);
                (begun.elapsed().as_secs_f64(), r)
            }));
        }
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    let mut first_error = None;
    for h in handles {
        let (t, r) = h.join().expect("member thread");
        match r {
            Ok(_) => latencies.push(t),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    Load {
        tokens,
        members: tokens * size,
        wall: start.elapsed().as_secs_f64(),
        latencies,
        failed,
        first_error,
    }
}

/// `waiters` recursive waits parked on one token, then one registration: seconds from the
/// registration until each wait is answered.
pub fn wakeup(s: &Services, kind: Kind, waiters: usize) -> Vec<f64> {
    let url = s.mint(kind, 3);
    let list = try_send("GET", &url, None, None).expect("list");
    let index: u64 = list.header("X-Etcd-Index").unwrap().parse().unwrap();
    let go = std::sync::Arc::new(std::sync::OnceLock::<Instant>::new());
    let handles: Vec<_> = (0..waiters)
        .map(|_| {
            let (url, go) = (url.clone(), go.clone());
            spawn(move || {
                let r = try_send(
                    "GET",
                    &format!("{url}?recursive=true&wait=true&waitIndex={}", index + 1),
                    None,
                    None,
                );
                let at = Instant::now();
                assert!(
                    r.is_ok_and(|r| r.status == 200 && !r.body.is_empty()),
                    "a wait failed"
                );
                at.duration_since(*go.get().expect("answered after the write"))
                    .as_secs_f64()
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    go.set(Instant::now()).unwrap();
    let r = put(
        &format!("{url}/waker"),
        "value=w%3Dhttp%3A%2F%2F10.0.0.1%3A2380",
    );
    assert!(r.status == 201, "{r:?}");
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// (raw, gzip -9) bytes of a file.
pub fn size(path: &std::path::Path) -> (u64, u64) {
    let raw = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -9c '{}' | wc -c", path.display()))
        .output()
        .expect("gzip");
    (
        raw,
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0),
    )
}

/// Milliseconds from navigation to the builder's first rendered config, in headless Chromium.
pub fn first_render(base: &str, runs: usize) -> Vec<f64> {
    let script = rendezvous_e2e::wrangler::root().join("bench/first_render.mjs");
    let out = std::process::Command::new("node")
        .arg(script)
        .arg(base)
        .arg(runs.to_string())
        .output()
        .expect("node");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str::<Vec<f64>>(text.trim()).unwrap_or_else(|e| {
        panic!(
            "first render: {e}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Requests per second from `clients` keep-alive clients each sending GETs to `url` for
/// `seconds`: the cost of one request, apart from the protocol's sequence and waits.
pub fn rate(url: &str, clients: usize, seconds: f64) -> f64 {
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let url = url.to_string();
            spawn(move || {
                let mut n = 0u64;
                while Instant::now() < until {
                    let r = try_send("GET", &url, None, None).expect("a GET");
                    assert!(r.status == 200, "{url}: {}", r.status);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / start.elapsed().as_secs_f64()
}
