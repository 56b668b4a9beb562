//! `POST /explain`: a log in, its explanation out: for a terminal, the verdict, the member and
//! its discovery, then each finding with its cause and what to do; for a JSON client, the same
//! as an object. Nothing of the log is kept or logged.

use serde_json::json;

use super::{explain, Explanation, Finding};
use crate::http::Response;

pub fn answer(body: &[u8], json_wanted: bool) -> Response {
    let Ok(text) = std::str::from_utf8(body) else {
        return crate::translate::refused("the log is not UTF-8 text", json_wanted);
    };
    let x = explain(text);
    if json_wanted {
        Response::json(200, to_json(&x).to_string())
    } else {
        Response::text(200, to_text(&x))
    }
}

pub fn to_json(x: &Explanation) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = x
        .findings
        .iter()
        .map(|f| {
            json!({
                "line": f.line, "time": f.time, "until": f.until, "times": f.times,
                "level": f.level.as_str(), "topic": f.topic.map(|t| t.as_str()),
                "says": f.says, "cause": f.cause, "action": f.action,
                "versions": f.versions, "raw": f.raw,
            })
        })
        .collect();
    json!({
        "verdict": x.verdict,
        "member": {
            "name": x.member.name, "id": x.member.id,
            "peer_urls": x.member.peer_urls, "version": x.member.version,
            "cluster_token": x.member.cluster_token,
        },
        "discovery": {
            "url": x.discovery.url, "token": x.discovery.token,
            "endpoints": x.discovery.endpoints, "proxy": x.discovery.proxy,
        },
        "findings": findings,
        "read": x.read,
        "skipped": x.skipped,
        "restarts": x.restarts,
    })
}

pub fn to_text(x: &Explanation) -> String {
    let mut out = format!("{}\n\n", x.verdict);
    let m = &x.member;
    let mut about = Vec::new();
    if let Some(name) = &m.name {
        about.push(match &m.id {
            Some(id) => format!("member {name} ({id})"),
            None => format!("member {name}"),
        });
    }
    if let Some(v) = &m.version {
        about.push(format!("etcd {v}"));
    }
    if !m.peer_urls.is_empty() {
        about.push(format!("peer URLs {}", m.peer_urls.join(",")));
    }
    if !about.is_empty() {
        out.push_str(&format!("{}\n", about.join(", ")));
    }
    let d = &x.discovery;
    if let Some(url) = &d.url {
        out.push_str(&format!("discovery {url}\n"));
    }
    if let Some(token) = &d.token {
        out.push_str(&format!(
            "v3 discovery token {token}, endpoints {}\n",
            d.endpoints.join(",")
        ));
    }
    out.push('\n');
    for f in &x.findings {
        finding(&mut out, f);
    }
    out.push_str(&format!(
        "({} etcd lines read, {} other lines skipped)\n",
        x.read, x.skipped
    ));
    out
}

fn finding(out: &mut String, f: &Finding) {
    let when = f
        .time
        .as_deref()
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    let repeated = match (f.times, &f.until) {
        (1, _) => String::new(),
        (n, Some(until)) => format!(" (and {} more times, until {until})", n - 1),
        (n, None) => format!(" (and {} more times)", n - 1),
    };
    let known = if f.topic.is_none() {
        " [not known to this explainer: etcd's own words]"
    } else {
        ""
    };
    out.push_str(&format!(
        "line {}{when} {}{repeated}{known}: {}\n",
        f.line,
        f.level.as_str(),
        f.says
    ));
    if !f.cause.is_empty() {
        out.push_str(&format!("  why: {}\n", f.cause));
    }
    if !f.action.is_empty() {
        out.push_str(&format!("  do: {}\n", f.action));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = concat!(
        "Dec 04 04:09:01 node-2 etcd-wrapper[77]: {\"level\":\"info\",\"ts\":\"2026-12-04T04:09:01.100Z\",\"msg\":\"starting an etcd server\",\"etcd-version\":\"3.5.1\",\"name\":\"node-2\",\"initial-advertise-peer-urls\":[\"http://10.0.0.2:2380\"],\"discovery-url\":\"https://d.example/0123456789abcdef\"}\n",
        "Dec 04 04:09:01 node-2 etcd-wrapper[77]: {\"level\":\"warn\",\"ts\":\"2026-12-04T04:09:01.200Z\",\"msg\":\"failed to bootstrap; discovery token was already used\",\"discovery-token\":\"https://d.example/0123456789abcdef\"}\n",
        "Dec 04 04:09:01 node-2 systemd[1]: etcd-member.service: Main process exited, code=exited, status=1/FAILURE\n",
    );

    #[test]
    fn text_for_a_terminal_and_json_for_a_client() {
        let r = answer(LOG.as_bytes(), false);
        assert_eq!(r.status, 200);
        assert!(
            r.body
                .starts_with("node-2 did not join: the token was already full.\n\nmember node-2 ("),
            "{}",
            r.body
        );
        assert!(
            r.body.contains(
                "line 2 2026-12-04T04:09:01.200Z warn: The token already has its full size"
            ),
            "{}",
            r.body
        );
        assert!(r.body.contains("  do: Mint a new token"), "{}", r.body);
        assert!(
            r.body
                .ends_with("(2 etcd lines read, 1 other lines skipped)\n"),
            "{}",
            r.body
        );
        let r = answer(LOG.as_bytes(), true);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["findings"][1]["topic"], "token-used");
        assert_eq!(v["member"]["peer_urls"][0], "http://10.0.0.2:2380");
        assert_eq!(v["discovery"]["url"], "https://d.example/0123456789abcdef");
        assert_eq!(answer(&[0xff, 0xfe], true).status, 400);
    }
}
