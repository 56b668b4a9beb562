//! The README's plot, as SVG: real bootstrap medians (with min-max whiskers), simulated
//! bootstraps per second (v2, and v3 over gRPC), and request rates. The v2 rates span two
//! orders of magnitude between the shells, so those two panels use a log scale.

use serde_json::Value;

const KINDS: [(&str, &str, &str); 6] = [
    ("static", "static", "#6e7781"),
    ("classic", "classic stack", "#bf8700"),
    ("raw_etcd", "raw etcd v2", "#8250df"),
    ("wrangler", "Worker, wrangler dev", "#0969da"),
    ("workerd", "Worker, plain workerd", "#54aeff"),
    ("native", "native server", "#1a7f37"),
];

fn med(v: &Value) -> (f64, f64, f64) {
    let mut s: Vec<f64> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    (s[(s.len() - 1) / 2], s[0], s[s.len() - 1])
}

/// Height on a log scale from 1 to `max`, of `ph` pixels.
fn log_height(v: f64, max: f64, ph: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    (v.log10() / max.log10() * ph).max(1.0)
}

pub fn svg(r: &Value) -> String {
    let (w, h) = (1100.0, 960.0);
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    s += &bootstrap(&r["bootstrap_seconds"]);
    s += &load(&r["load"]);
    for (i, (_, label, color)) in KINDS.iter().enumerate() {
        let x = 40.0 + i as f64 * 170.0;
        s += &format!("<rect x=\"{x}\" y=\"360\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{}\" y=\"370\">{label}</text>\n", x + 16.0);
    }
    s += &rates(&r["requests_per_second"]);
    s += &v3(&r["v3_load"]);
    s += "</svg>\n";
    s
}

/// Left: seconds until real etcd members are healthy, for 3 and 5 members.
fn bootstrap(boot: &Value) -> String {
    let mut s = String::from("<text x=\"20\" y=\"24\" font-size=\"14\" font-weight=\"bold\">Real etcd members healthy (s, median, min-max)</text>\n");
    let max = KINDS
        .iter()
        .flat_map(|(k, _, _)| [3, 5].map(|n| med(&boot[format!("{k}_{n}")]).2))
        .fold(0.1, f64::max);
    let (x0, y0, ph) = (30.0, 320.0, 250.0);
    for (g, n) in [3, 5].iter().enumerate() {
        for (i, (k, _, color)) in KINDS.iter().enumerate() {
            let (m, lo, hi) = med(&boot[format!("{k}_{n}")]);
            let x = x0 + g as f64 * 265.0 + i as f64 * 40.0;
            let bh = m / max * ph;
            s += &format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"32\" height=\"{bh}\" fill=\"{color}\"/>\n",
                y0 - bh
            );
            let (ylo, yhi) = (y0 - lo / max * ph, y0 - hi / max * ph);
            s += &format!(
                "<line x1=\"{}\" x2=\"{}\" y1=\"{ylo}\" y2=\"{yhi}\" stroke=\"black\"/>\n",
                x + 16.0,
                x + 16.0
            );
            s += &format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{m:.2}</text>\n",
                x + 16.0,
                yhi - 4.0
            );
        }
        s += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{n} members</text>\n",
            x0 + g as f64 * 265.0 + 116.0,
            y0 + 18.0
        );
    }
    s
}

/// Right: simulated bootstraps per second at each number of tokens at once (log scale).
fn load(l: &Value) -> String {
    let mut s = String::from("<text x=\"580\" y=\"24\" font-size=\"14\" font-weight=\"bold\">Simulated bootstraps per second, size 3 (log scale)</text>\n");
    let rate = |k: &str, t: usize| -> f64 {
        let v = &l[format!("{k}_{t}")];
        v["tokens"].as_f64().unwrap_or(0.0) / v["wall_s"].as_f64().unwrap_or(f64::INFINITY)
    };
    let loads = [10usize, 50, 200];
    let max = KINDS
        .iter()
        .skip(1)
        .flat_map(|(k, _, _)| loads.map(|t| rate(k, t)))
        .fold(10.0, f64::max);
    let layout = Groups {
        left: 580.0,
        group: 170.0,
        step: 32.0,
        width: 28.0,
        base: 320.0,
    };
    s += &layout.draw(&loads.map(|t| {
        let bars = KINDS.iter().skip(1).map(|(k, _, color)| {
            let v = rate(k, t);
            (v, log_height(v, max, 250.0), *color)
        });
        (t, bars.collect())
    }));
    s
}

/// One bar: its value, its height in pixels, its colour.
type Bar<'a> = (f64, f64, &'a str);

/// Where grouped bars go: the first group's left edge, each group's width, each bar's step
/// and width, and the baseline.
struct Groups {
    left: f64,
    group: f64,
    step: f64,
    width: f64,
    base: f64,
}

impl Groups {
    /// One group of bars per load (tokens at once), each bar with its value above it and the
    /// load below the group.
    fn draw(&self, groups: &[(usize, Vec<Bar>)]) -> String {
        let mut s = String::new();
        for (g, (t, bars)) in groups.iter().enumerate() {
            let left = self.left + g as f64 * self.group;
            for (i, (v, bh, color)) in bars.iter().enumerate() {
                let x = left + i as f64 * self.step;
                s += &format!(
                    "<rect x=\"{x}\" y=\"{}\" width=\"{}\" height=\"{bh}\" fill=\"{color}\"/>\n",
                    self.base - bh,
                    self.width
                );
                s += &format!(
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\">{v:.0}</text>\n",
                    x + self.width / 2.0,
                    self.base - bh - 4.0
                );
            }
            let span = (bars.len() as f64 - 1.0) * self.step + self.width;
            s += &format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{t} tokens at once</text>\n",
                left + span / 2.0,
                self.base + 18.0
            );
        }
        s
    }
}

/// Bottom: listing reads per second, beside each runtime's empty `/health` (log scale).
fn rates(r: &Value) -> String {
    let bars = [
        ("classic", "classic: listing reads", "#bf8700"),
        ("raw_etcd", "raw etcd v2: listing reads", "#8250df"),
        ("wrangler", "Worker, wrangler dev: listing reads", "#0969da"),
        ("workerd", "Worker, plain workerd: listing reads", "#54aeff"),
        ("native", "native server: listing reads", "#1a7f37"),
        ("wrangler_health", "wrangler dev: empty /health", "#9ec5fe"),
        ("workerd_health", "plain workerd: empty /health", "#b6e3ff"),
        ("native_health", "native server: empty /health", "#a6e3b5"),
    ];
    let max = bars
        .iter()
        .filter_map(|(k, _, _)| r[*k].as_f64())
        .fold(10.0, f64::max);
    let mut s = String::from("<text x=\"20\" y=\"410\" font-size=\"14\" font-weight=\"bold\">Requests per second, wrk with 16 keep-alive connections (log scale)</text>\n");
    for (i, (k, label, color)) in bars.iter().enumerate() {
        let Some(v) = r[*k].as_f64() else { continue };
        let y = 425.0 + i as f64 * 30.0;
        let bw = log_height(v, max, 700.0);
        s += &format!(
            "<text x=\"300\" y=\"{}\" text-anchor=\"end\">{label}</text>\n<rect x=\"310\" y=\"{y}\" width=\"{bw}\" height=\"22\" fill=\"{color}\"/>\n<text x=\"{}\" y=\"{}\">{v:.0}</text>\n",
            y + 15.0,
            316.0 + bw,
            y + 15.0
        );
    }
    s
}

/// Bottom: v3 bootstraps per second over gRPC, the native server beside an etcd 3.5 used as
/// the endpoint (linear: the two are within a small factor).
fn v3(l: &Value) -> String {
    let sides = [
        ("etcd", "etcd 3.5 as the v3 endpoint", "#cf222e"),
        ("native", "native server (gRPC)", "#1a7f37"),
    ];
    let rate = |side: &str, t: usize| -> f64 {
        let v = &l[format!("v3_{t}")];
        v["tokens"].as_f64().unwrap_or(0.0) / v[side]["wall_s"].as_f64().unwrap_or(f64::INFINITY)
    };
    let loads = [10usize, 50, 200];
    let max = sides
        .iter()
        .flat_map(|(k, _, _)| loads.map(|t| rate(k, t)))
        .fold(10.0, f64::max);
    let mut s = String::from("<text x=\"20\" y=\"700\" font-size=\"14\" font-weight=\"bold\">v3 discovery: simulated etcd 3.6+ bootstraps per second over gRPC, size 3</text>\n");
    let layout = Groups {
        left: 60.0,
        group: 150.0,
        step: 50.0,
        width: 44.0,
        base: 910.0,
    };
    s += &layout.draw(&loads.map(|t| {
        let bars = sides.iter().map(|(k, _, color)| {
            let v = rate(k, t);
            (v, (v / max * 170.0).max(1.0), *color)
        });
        (t, bars.collect())
    }));
    for (i, (_, label, color)) in sides.iter().enumerate() {
        let y = 740.0 + i as f64 * 24.0;
        s += &format!("<rect x=\"560\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"578\" y=\"{}\">{label}</text>\n", y + 10.0);
    }
    s
}
