//! `make bench`: this service against static bootstrapping, the classic discovery stack and a raw
//! etcd v2 backend, all on this machine. Prints a table with ratios; writes the raw samples to
//! bench/results/<time>.json and latest.json, and a plot to bench/results/latest.svg.
//! BENCH_RUNS (default 5) sets the bootstrap runs per service and size.

mod measure;
mod plot;
mod services;

use serde_json::{json, Value};
use services::{Kind, Services};

fn stats(samples: &[f64]) -> (f64, f64, f64) {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (q(0.5), v[0], v[v.len() - 1])
}

fn pct(samples: &[f64], p: f64) -> f64 {
    let mut v = samples.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let root = rendezvous_e2e::wrangler::root();
    if std::env::args().any(|a| a == "--plot") {
        // Redraw the plot from the last results, measuring nothing.
        let results = root.join("bench/results");
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(results.join("latest.json")).unwrap())
                .unwrap();
        std::fs::write(results.join("latest.svg"), plot::svg(&v)).unwrap();
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--probe") {
        probe(
            args.get(i + 1)
                .expect("--probe <base URL of a running Worker>"),
        );
        return;
    }
    let runs: u16 = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = rendezvous_e2e::scratch("bench");
    // Millions of request log lines would exhaust wrangler's memory under load.
    std::env::set_var("RENDEZVOUS_WRANGLER_LOG", "warn");
    println!("starting the references (etcd backend, etcd-discovery, wrangler)...");
    let s = Services::start(&dir);
    let mut out = serde_json::Map::new();
    let kinds = [
        Kind::Static,
        Kind::Classic,
        Kind::RawEtcd,
        Kind::Rendezvous,
        Kind::RendezvousQuiet,
    ];
    let services = [
        Kind::Classic,
        Kind::RawEtcd,
        Kind::Rendezvous,
        Kind::RendezvousQuiet,
    ];

    println!(
        "\n## Bootstrap: real etcd 3.4 members started at once until all healthy ({runs} runs)"
    );
    println!(
        "{:<42} {:>4} {:>9} {:>9} {:>9} {:>10}",
        "", "n", "median s", "min s", "max s", "vs static"
    );
    let mut boot = serde_json::Map::new();
    for n in [3u16, 5] {
        let mut static_median = f64::NAN;
        for kind in kinds {
            // Interleave runs so that machine noise spreads over every service alike.
            let samples: Vec<f64> = (0..runs)
                .map(|r| measure::bootstrap(&s, kind, n, r, &dir))
                .collect();
            let (m, lo, hi) = stats(&samples);
            if kind == Kind::Static {
                static_median = m;
            }
            println!(
                "{:<42} {n:>4} {m:>9.3} {lo:>9.3} {hi:>9.3} {:>9.2}x",
                kind.label(),
                m / static_median
            );
            boot.insert(format!("{}_{n}", kind.key()), json!(samples));
        }
    }
    out.insert("bootstrap_seconds".into(), Value::Object(boot));

    println!("\n## Protocol load: simulated members (etcd's request sequence), size-3 tokens, all at once");
    println!(
        "{:<42} {:>6} {:>12} {:>9} {:>9} {:>7}",
        "", "tokens", "bootstraps/s", "p50 ms", "p99 ms", "failed"
    );
    let mut load = serde_json::Map::new();
    for tokens in [10usize, 50, 100] {
        let mut classic_rate = f64::NAN;
        for kind in services {
            let l = measure::load(&s, kind, tokens, 3);
            let rate = l.tokens as f64 / l.wall;
            if kind == Kind::Classic {
                classic_rate = rate;
            }
            println!(
                "{:<42} {tokens:>6} {rate:>12.1} {:>9.1} {:>9.1} {:>7}   ({:.2}x classic)",
                kind.label(),
                pct(&l.latencies, 0.5) * 1000.0,
                pct(&l.latencies, 0.99) * 1000.0,
                l.failed,
                rate / classic_rate
            );
            load.insert(
                format!("{}_{tokens}", kind.key()),
                json!({"wall_s": l.wall, "failed": l.failed, "latencies_s": l.latencies}),
            );
        }
    }
    out.insert("load".into(), Value::Object(load));

    println!("\n## Wake-up: 100 parked waits on one token, one registration");
    let mut wake = serde_json::Map::new();
    for kind in services {
        let w = measure::wakeup(&s, kind, 100);
        println!(
            "{:<42} all answered after {:>7.1} ms (median {:.1} ms)",
            kind.label(),
            pct(&w, 1.0) * 1000.0,
            pct(&w, 0.5) * 1000.0
        );
        wake.insert(kind.key().into(), json!(w));
    }
    out.insert("wakeup_seconds".into(), Value::Object(wake));

    println!("\n## Sizes (budgets: Worker 300 KiB gzip, UI 250 KiB gzip)");
    let worker = measure::size(&root.join("worker/build/index_bg.wasm"));
    let ui = measure::size(&root.join("frontend/dist/rendezvous-frontend_bg.wasm"));
    println!(
        "Worker wasm {:>8} bytes, {:>7} gzip ({:.0}% of budget)",
        worker.0,
        worker.1,
        worker.1 as f64 / 3072.0
    );
    println!(
        "UI wasm     {:>8} bytes, {:>7} gzip ({:.0}% of budget)",
        ui.0,
        ui.1,
        ui.1 as f64 / 2560.0
    );
    out.insert(
        "sizes".into(),
        json!({"worker": {"raw": worker.0, "gzip": worker.1}, "ui": {"raw": ui.0, "gzip": ui.1}}),
    );

    println!("\n## UI: first render of the builder in headless Chromium ({runs} runs)");
    let fr = measure::first_render(&s.worker.base(), runs as usize);
    let (m, lo, hi) = stats(&fr);
    println!("median {m:.0} ms (min {lo:.0}, max {hi:.0})");
    out.insert("first_render_ms".into(), json!(fr));

    println!("\n## Scale: 3,000 members registering at once across 600 tokens (size 5)");
    let mut scale = serde_json::Map::new();
    // wrangler dev last: its devtools session may not survive this.
    for kind in [
        Kind::Classic,
        Kind::RawEtcd,
        Kind::RendezvousQuiet,
        Kind::Rendezvous,
    ] {
        // A watchdog: a service that cannot take this many at once must not stall the report.
        let urls: Vec<String> = (0..600).map(|_| s.mint(kind, 5)).collect();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(measure::load_urls(urls, 5));
        });
        let Ok(l) = rx.recv_timeout(std::time::Duration::from_secs(180)) else {
            println!("{:<42} did not finish within 180 s", kind.label());
            scale.insert(
                kind.key().into(),
                json!({"members": 3000, "finished": false}),
            );
            continue;
        };
        println!(
            "{:<42} {:>5} of {} members failed in {:.1} s{}",
            kind.label(),
            l.failed,
            l.members,
            l.wall,
            l.first_error
                .as_deref()
                .map(|e| format!(" (first: {})", e.chars().take(110).collect::<String>()))
                .unwrap_or_default()
        );
        scale.insert(kind.key().into(), json!({"members": l.members, "failed": l.failed, "wall_s": l.wall, "first_error": l.first_error}));
    }
    out.insert("scale".into(), Value::Object(scale));

    let results = root.join("bench/results");
    std::fs::create_dir_all(&results).unwrap();
    let stamp = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y%m%dT%H%M%SZ")
        .output()
        .unwrap();
    let stamp = String::from_utf8_lossy(&stamp.stdout).trim().to_string();
    out.insert("when".into(), json!(stamp));
    let doc = serde_json::to_string_pretty(&Value::Object(out)).unwrap();
    std::fs::write(results.join(format!("{stamp}.json")), &doc).unwrap();
    std::fs::write(results.join("latest.json"), &doc).unwrap();
    let v: Value = serde_json::from_str(&doc).unwrap();
    std::fs::write(results.join("latest.svg"), plot::svg(&v)).unwrap();
    println!("\nwrote bench/results/{stamp}.json, latest.json and latest.svg");
}

/// `bench --probe <base>`: only the protocol load, against a Worker already running (for
/// profiling its hot path: `wrangler dev` at its own port or at workerd's entry socket).
fn probe(base: &str) {
    let mint = |size: usize| {
        let r = rendezvous_e2e::http::get(&format!("{base}/new?size={size}"));
        assert_eq!(r.status, 200, "minting: {r:?}");
        r.body.trim().to_string()
    };
    if std::env::args().any(|a| a == "--scale") {
        let l = measure::load_urls((0..600).map(|_| mint(5)).collect(), 5);
        println!(
            "scale: {} of {} failed in {:.1} s ({:?})",
            l.failed, l.members, l.wall, l.first_error
        );
        return;
    }
    for tokens in [10usize, 50, 100] {
        let mut rates = Vec::new();
        for _ in 0..3 {
            let urls = (0..tokens).map(|_| mint(3)).collect();
            let l = measure::load_urls(urls, 3);
            assert_eq!(l.failed, 0, "{:?}", l.first_error);
            rates.push(l.tokens as f64 / l.wall);
        }
        let (m, lo, hi) = stats(&rates);
        println!("{tokens:>4} tokens: {m:>7.1} bootstraps/s (min {lo:.1}, max {hi:.1})");
    }
}
