//! `make bench`: this service against static bootstrapping, the classic discovery stack and a raw
//! etcd v2 backend, all on this machine. Prints a table with ratios; writes the raw samples to
//! bench/results/<time>.json and latest.json, and a plot to bench/results/latest.svg.
//! BENCH_RUNS (default 5) sets the bootstrap runs per service and size; BENCH_STEPS (a comma list
//! of bootstrap, load, rates, wakeup, sizes, render, scale) runs only those and writes nothing.

mod measure;
mod plot;
mod services;
mod steps;

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
    let steps = std::env::var("BENCH_STEPS").unwrap_or_default();
    let chosen = |step: &str| steps.is_empty() || steps.split(',').any(|s| s.trim() == step);
    let mut out = serde_json::Map::new();
    type Step<'a> = Box<dyn Fn() -> Value + 'a>;
    let all: [(&str, &str, Step); 7] = [
        (
            "bootstrap",
            "bootstrap_seconds",
            Box::new(|| steps::bootstrap(&s, runs, &dir)),
        ),
        ("load", "load", Box::new(|| steps::load(&s))),
        (
            "rates",
            "requests_per_second",
            Box::new(|| steps::rates(&s)),
        ),
        ("wakeup", "wakeup_seconds", Box::new(|| steps::wakeup(&s))),
        ("sizes", "sizes", Box::new(|| steps::sizes(&root))),
        (
            "render",
            "first_render_ms",
            Box::new(|| steps::first_render(&s, runs)),
        ),
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
