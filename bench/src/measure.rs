//! Measurements that are not the load generator's: real etcd members bootstrapping, wrk's
//! request rates, file sizes, the app's first render.

use std::time::{Duration, Instant};

use rendezvous_e2e::etcd::Member;
use rendezvous_e2e::etcd::Release;

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
    node_samples(
        "first render",
        "bench/first_render.mjs",
        &[base, &runs.to_string()],
    )
}

/// Milliseconds the check page took to translate `config` in headless Chromium, `runs` times.
pub fn translate_in_chromium(base: &str, config: &std::path::Path, runs: usize) -> Vec<f64> {
    let config = config.display().to_string();
    node_samples(
        "translate",
        "bench/translate.mjs",
        &[base, &config, &runs.to_string()],
    )
}

/// The JSON array of samples a Node script prints.
fn node_samples(what: &str, script: &str, args: &[&str]) -> Vec<f64> {
    let out = std::process::Command::new("node")
        .arg(rendezvous_e2e::root().join(script))
        .args(args)
        .output()
        .expect("node");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str::<Vec<f64>>(text.trim()).unwrap_or_else(|e| {
        panic!(
            "{what}: {e}: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Requests per second `wrk` gets from `url` with 16 keep-alive connections on 2 threads for
/// `seconds`; answers that are not 2xx or 3xx are counted and reported as an error.
pub fn wrk(url: &str, seconds: u32) -> f64 {
    let out = std::process::Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{seconds}s"), url])
        .output()
        .expect("wrk (Debian's package; make bench installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("Non-2xx or 3xx responses"),
        "{url} answered errors under load:\n{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate from wrk for {url}:\n{text}"))
}
