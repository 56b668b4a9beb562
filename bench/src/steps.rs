//! The measurements of `make bench`, one function per table: each prints its table and returns
//! its raw samples for the results file.

use std::path::Path;

use serde_json::{json, Value};

use crate::measure;
use crate::services::{Kind, Services};
use crate::{pct, stats};

/// Every kind compared in bootstraps; the services (all but static) elsewhere.
const KINDS: [Kind; 5] = [
    Kind::Static,
    Kind::Classic,
    Kind::RawEtcd,
    Kind::Rendezvous,
    Kind::RendezvousQuiet,
];
const SERVICES: [Kind; 4] = [
    Kind::Classic,
    Kind::RawEtcd,
    Kind::Rendezvous,
    Kind::RendezvousQuiet,
];

/// Real etcd members started at once, until all are healthy, through each service.
pub fn bootstrap(s: &Services, runs: u16, dir: &Path) -> Value {
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
        for kind in KINDS {
            // Interleave runs so that machine noise spreads over every service alike.
            let samples: Vec<f64> = (0..runs)
                .map(|r| measure::bootstrap(s, kind, n, r, dir))
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
    Value::Object(boot)
}

/// Simulated members on many tokens at once: bootstraps per second and join latency.
pub fn load(s: &Services) -> Value {
    println!("\n## Protocol load: simulated members (etcd's request sequence), size-3 tokens, all at once");
    println!(
        "{:<42} {:>6} {:>12} {:>9} {:>9} {:>7}",
        "", "tokens", "bootstraps/s", "p50 ms", "p99 ms", "failed"
    );
    let mut load = serde_json::Map::new();
    for tokens in [10usize, 50, 100] {
        let mut classic_rate = f64::NAN;
        for kind in SERVICES {
            let l = measure::load(s, kind, tokens, 3);
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
    Value::Object(load)
}

/// The cost of one request: keep-alive clients reading one listing, and the Worker's `/health`.
pub fn rates(s: &Services) -> Value {
    println!("\n## Request rate: 16 keep-alive clients reading one token's listing, 3 s each");
    let mut rates = serde_json::Map::new();
    let mut classic_rate = f64::NAN;
    for kind in SERVICES {
        let url = s.mint(kind, 3);
        let r = measure::rate(&url, 16, 3.0);
        if kind == Kind::Classic {
            classic_rate = r;
        }
        println!(
            "{:<42} {r:>8.0} requests/s   ({:.2}x classic)",
            kind.label(),
            r / classic_rate
        );
        rates.insert(kind.key().into(), json!(r));
    }
    // The same runtime answering without any work of ours: the floor under every keys request.
    for (kind, w, label) in [
        (
            Kind::Rendezvous,
            &s.worker,
            "/health under wrangler dev (no work)",
        ),
        (
            Kind::RendezvousQuiet,
            &s.quiet,
            "/health, devtools off (no work)",
        ),
    ] {
        let r = measure::rate(&format!("{}/health", w.base()), 16, 3.0);
        println!(
            "{label:<42} {r:>8.0} requests/s   ({:.2}x classic)",
            r / classic_rate
        );
        rates.insert(format!("{}_health", kind.key()), json!(r));
    }
    Value::Object(rates)
}

/// Parked waits answered after one registration.
pub fn wakeup(s: &Services) -> Value {
    println!("\n## Wake-up: 100 parked waits on one token, one registration");
    let mut wake = serde_json::Map::new();
    for kind in SERVICES {
        let w = measure::wakeup(s, kind, 100);
        println!(
            "{:<42} all answered after {:>7.1} ms (median {:.1} ms)",
            kind.label(),
            pct(&w, 1.0) * 1000.0,
            pct(&w, 0.5) * 1000.0
        );
        wake.insert(kind.key().into(), json!(w));
    }
    Value::Object(wake)
}

/// The two wasm files, raw and gzip, against the README's budgets.
pub fn sizes(root: &Path) -> Value {
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
    json!({"worker": {"raw": worker.0, "gzip": worker.1}, "ui": {"raw": ui.0, "gzip": ui.1}})
}

/// The builder's first render in headless Chromium.
pub fn first_render(s: &Services, runs: u16) -> Value {
    println!("\n## UI: first render of the builder in headless Chromium ({runs} runs)");
    let fr = measure::first_render(&s.worker.base(), runs as usize);
    let (m, lo, hi) = stats(&fr);
    println!("median {m:.0} ms (min {lo:.0}, max {hi:.0})");
    json!(fr)
}

/// 3,000 members at once on 600 tokens: who fails.
pub fn scale(s: &Services) -> Value {
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
    Value::Object(scale)
}
