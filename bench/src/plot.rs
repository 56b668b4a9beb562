//! The README's plot: bootstrap medians (with min-max whiskers) and protocol throughput, as SVG.

use serde_json::Value;

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

pub fn svg(r: &Value) -> String {
    let kinds = [
        ("static", "static", "#6e7781"),
        ("classic", "classic", "#bf8700"),
        ("raw_etcd", "raw etcd v2", "#8250df"),
        ("rendezvous", "rendezvous (wrangler dev)", "#0969da"),
        ("rendezvous_quiet", "rendezvous (devtools off)", "#1a7f37"),
    ];
    let (w, h) = (1050.0, 590.0);
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    // Left: bootstrap medians for 3 and 5 members.
    s += "<text x=\"20\" y=\"24\" font-size=\"14\" font-weight=\"bold\">Real etcd members healthy (s, median, min-max)</text>\n";
    let boot = &r["bootstrap_seconds"];
    let max = kinds
        .iter()
        .flat_map(|(k, _, _)| [3, 5].map(|n| med(&boot[format!("{k}_{n}")]).2))
        .fold(0.1, f64::max);
    let (x0, y0, ph) = (40.0, 320.0, 250.0);
    for (g, n) in [3, 5].iter().enumerate() {
        for (i, (k, _, color)) in kinds.iter().enumerate() {
            let (m, lo, hi) = med(&boot[format!("{k}_{n}")]);
            let x = x0 + g as f64 * 240.0 + i as f64 * 44.0;
            let bh = m / max * ph;
            s += &format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"36\" height=\"{bh}\" fill=\"{color}\"/>\n",
                y0 - bh
            );
            let (ylo, yhi) = (y0 - lo / max * ph, y0 - hi / max * ph);
            s += &format!(
                "<line x1=\"{}\" x2=\"{}\" y1=\"{ylo}\" y2=\"{yhi}\" stroke=\"black\"/>\n",
                x + 18.0,
                x + 18.0
            );
            s += &format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{m:.2}</text>\n",
                x + 18.0,
                yhi - 4.0
            );
        }
        s += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{n} members</text>\n",
            x0 + g as f64 * 240.0 + 106.0,
            y0 + 18.0
        );
    }
    // Right: bootstraps per second at each load.
    s += "<text x=\"540\" y=\"24\" font-size=\"14\" font-weight=\"bold\">Simulated bootstraps per second (size 3)</text>\n";
    let rate = |k: &str, t: usize| -> f64 {
        let l = &r["load"][format!("{k}_{t}")];
        t as f64 / l["wall_s"].as_f64().unwrap_or(f64::INFINITY)
    };
    let loads = [10usize, 50, 100];
    let rmax = kinds
        .iter()
        .skip(1)
        .flat_map(|(k, _, _)| loads.map(|t| rate(k, t)))
        .fold(1.0, f64::max);
    for (g, t) in loads.iter().enumerate() {
        for (i, (k, _, color)) in kinds.iter().skip(1).enumerate() {
            let v = rate(k, *t);
            let x = 540.0 + g as f64 * 165.0 + i as f64 * 38.0;
            let bh = v / rmax * ph;
            s += &format!(
                "<rect x=\"{x}\" y=\"{}\" width=\"32\" height=\"{bh}\" fill=\"{color}\"/>\n",
                y0 - bh
            );
            s += &format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{v:.0}</text>\n",
                x + 16.0,
                y0 - bh - 4.0
            );
        }
        s += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{t} tokens</text>\n",
            540.0 + g as f64 * 165.0 + 74.0,
            y0 + 18.0
        );
    }
    for (i, (_, label, color)) in kinds.iter().enumerate() {
        let x = 40.0 + i as f64 * 200.0;
        s += &format!("<rect x=\"{x}\" y=\"360\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{}\" y=\"370\">{label}</text>\n", x + 16.0);
    }
    s += &rates(&r["requests_per_second"]);
    s += "</svg>\n";
    s
}

/// Bottom: one request's cost, as listing reads per second, beside the runtime's empty `/health`.
fn rates(r: &Value) -> String {
    let bars = [
        ("classic", "classic: listing reads", "#bf8700"),
        ("raw_etcd", "raw etcd v2: listing reads", "#8250df"),
        (
            "rendezvous",
            "Worker (wrangler dev): listing reads",
            "#0969da",
        ),
        (
            "rendezvous_quiet",
            "Worker (devtools off): listing reads",
            "#1a7f37",
        ),
        (
            "rendezvous_health",
            "wrangler dev: empty /health",
            "#9ec5fe",
        ),
        (
            "rendezvous_quiet_health",
            "devtools off: empty /health",
            "#a6e3b5",
        ),
    ];
    let max = bars
        .iter()
        .filter_map(|(k, _, _)| r[*k].as_f64())
        .fold(1.0, f64::max);
    let mut s = String::from("<text x=\"20\" y=\"410\" font-size=\"14\" font-weight=\"bold\">Requests per second, 16 keep-alive clients</text>\n");
    for (i, (k, label, color)) in bars.iter().enumerate() {
        let Some(v) = r[*k].as_f64() else { continue };
        let y = 425.0 + i as f64 * 26.0;
        let bw = (v / max * 700.0).max(1.0);
        s += &format!(
            "<text x=\"270\" y=\"{}\" text-anchor=\"end\">{label}</text>\n<rect x=\"280\" y=\"{y}\" width=\"{bw}\" height=\"18\" fill=\"{color}\"/>\n<text x=\"{}\" y=\"{}\">{v:.0}</text>\n",
            y + 13.0,
            286.0 + bw,
            y + 13.0
        );
    }
    s
}
