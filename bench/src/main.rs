//! `make bench`: this service in both shells (the Worker under wrangler dev and under plain
//! workerd, the native server) against static bootstrapping, the classic discovery stack and a
//! raw etcd v2 backend, all on this machine. Prints tables with ratios against the references
//! measured in the same run; writes the raw samples to bench/results/<time>.json and
//! latest.json, and a plot to bench/results/latest.svg. BENCH_RUNS (default 5) sets the
//! bootstrap runs per service and size; BENCH_STEPS (a comma list of bootstrap, load, rates,
//! wakeup, ha, memory, sizes, render, butane, scale) runs only those and writes nothing.

mod cpu;
mod ha;
mod load;
mod load_v3;
mod measure;
mod plot;
mod services;
mod steps;
mod workerd;

use serde_json::{json, Value};
use services::Services;

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
    let root = rendezvous_e2e::root();
    let results = root.join("bench/results");
    if std::env::args().any(|a| a == "--plot") {
        // Redraw the plot from the last results, measuring nothing.
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
                .expect("--probe <base URL of a running service>"),
        );
        return;
    }
    let runs: u16 = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    // The native server as `make serve` builds it.
    if std::env::var_os("RENDEZVOUS_BIN").is_none() {
        std::env::set_var("RENDEZVOUS_BIN", root.join("target/native/rendezvous"));
    }
    let dir = rendezvous_e2e::scratch("bench");
    // Millions of request log lines would exhaust wrangler's memory under load.
    std::env::set_var("RENDEZVOUS_WRANGLER_LOG", "warn");
    println!(
        "starting the services (etcd backend, etcd-discovery, wrangler dev, workerd, native)..."
    );
    let s = Services::start(&dir);
    let rt = &s.rt;
    let steps = std::env::var("BENCH_STEPS").unwrap_or_default();
    let chosen = |step: &str| steps.is_empty() || steps.split(',').any(|s| s.trim() == step);
    let mut out = serde_json::Map::new();
    type Step<'a> = Box<dyn Fn() -> Value + 'a>;
    let all: [(&str, &str, Step); 11] = [
        (
            "bootstrap",
            "bootstrap_seconds",
            Box::new(|| steps::bootstrap(&s, runs, &dir)),
        ),
        ("load", "load", Box::new(|| steps::load(&s, rt))),
        ("v3", "v3_load", Box::new(|| steps::v3(&s, rt, &root, &dir))),
        (
            "rates",
            "requests_per_second",
            Box::new(|| steps::rates(&s)),
        ),
        (
            "wakeup",
            "wakeup_seconds",
            Box::new(|| steps::wakeup(&s, rt)),
        ),
        ("ha", "ha", Box::new(|| ha::run(&s, rt, &dir))),
        ("memory", "memory", Box::new(|| steps::memory(&dir, rt))),
        ("sizes", "sizes", Box::new(|| steps::sizes(&root))),
        (
            "render",
            "first_render_ms",
            Box::new(|| steps::first_render(&s, runs)),
        ),
        (
            "butane",
            "butane_translate",
            Box::new(|| steps::translate(&s, &dir)),
        ),
        // Last: under wrangler dev it does not finish, and its members go on retrying.
        ("scale", "scale", Box::new(|| steps::scale(&s))),
    ];
    for (step, key, run) in &all {
        if chosen(step) {
            out.insert(key.to_string(), run());
        }
    }
    if !steps.is_empty() {
        println!("\n(BENCH_STEPS={steps}: a partial run, results not written)");
        return;
    }

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

/// `bench --probe <base> [--wakeup]`: only the protocol load (or only the wake-up of 500
/// waits), against a service already running, for profiling its hot path.
fn probe(base: &str) {
    let rt = load::runtime();
    let new = rendezvous_e2e::new_url(base, 3);
    if std::env::args().any(|a| a == "--wakeup") {
        for _ in 0..3 {
            let url = load::many(&rt, 1, 1, {
                let new = new.clone();
                move |_| ("GET", new.clone(), None)
            })
            .remove(0);
            let w = load::wakeup(&rt, url.trim(), 500);
            println!(
                "500 waits: all answered after {:.1} ms (first {:.1}, median {:.1})",
                pct(&w, 1.0) * 1000.0,
                pct(&w, 0.0) * 1000.0,
                pct(&w, 0.5) * 1000.0
            );
        }
        return;
    }
    for at_once in [10usize, 50, 200] {
        let mut rates = Vec::new();
        let mut p99s = Vec::new();
        for _ in 0..3 {
            let new = new.clone();
            let urls: Vec<String> =
                load::many(&rt, 4 * at_once, 16, move |_| ("GET", new.clone(), None))
                    .into_iter()
                    .map(|u| u.trim().to_string())
                    .collect();
            let l = load::bootstraps(&rt, urls, 3, at_once);
            assert_eq!(l.failed, 0, "{:?}", l.first_error);
            rates.push(l.rate());
            p99s.push(pct(&l.latencies, 0.99) * 1000.0);
        }
        let (m, lo, hi) = stats(&rates);
        println!(
            "{at_once:>4} at once: {m:>8.1} bootstraps/s (min {lo:.1}, max {hi:.1}); p99 join {:.1} ms",
            stats(&p99s).0
        );
    }
}
