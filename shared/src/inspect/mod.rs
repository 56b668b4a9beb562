//! The token inspector's core: reads what a person pastes (a token, a discovery URL, or a
//! registry dump) and says in plain words who is in the registry and what is wrong with it.

pub mod address;
pub mod loose_json;
pub mod report;
pub mod timeline;

pub use report::{diagnose, Check, Finding, Level, MemberRow, Report, Role, SizeInfo};

use crate::Token;

/// What a GET of `<token>/_config/size` said about the size.
pub fn size_from(status: u16, body: &str) -> SizeInfo {
    if status == 404 {
        return SizeInfo::Missing;
    }
    let value: Option<String> = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["node"]["value"].as_str().map(str::to_string));
    match value {
        Some(v) => match v.parse::<u64>() {
            Ok(n) => SizeInfo::Known(n),
            Err(_) => SizeInfo::Bad(v),
        },
        None => SizeInfo::Bad(body.chars().take(80).collect()),
    }
}

/// What the builder says of a discovery URL whose token already has members: reusing a token
/// for a new cluster is a classic mistake. `None` for a fresh token.
pub fn in_use(report: &Report) -> Option<String> {
    match report.members.len() {
        0 => None,
        n if report.complete => Some(format!("this token is used: its cluster is complete ({n} members registered). A new cluster needs a fresh token: mint one.")),
        n => Some(format!("this token already has {n} member(s) registered: fine for machines of that cluster, wrong for a new one (mint a fresh token).")),
    }
}

/// What the check page says of the discovery token a pasted config names: whether a machine
/// booted with that config would still find a place in it.
pub fn joinable(report: &Report) -> String {
    let n = report.members.len();
    match (&report.size, report.complete) {
        (_, true) => {
            let size = match report.size {
                SizeInfo::Known(s) => s.to_string(),
                _ => n.to_string(),
            };
            format!("this token already has {} of {size} members: a machine booted with this config would not join (etcd falls back to a proxy, or stops); a new cluster needs a fresh token", report.joined)
        }
        (SizeInfo::Known(size), false) if n == 0 => {
            format!("this token is fresh: {size} machines booted with this config form the cluster")
        }
        (SizeInfo::Known(size), false) => format!(
            "this token has {} of {size} members: {} more machine(s) booted with this config can join",
            report.joined,
            size.saturating_sub(report.joined as u64)
        ),
        _ => report
            .findings
            .first()
            .map(|f| f.message.clone())
            .unwrap_or_else(|| "this token cannot be read".to_string()),
    }
}

/// What was pasted.
#[derive(Debug, Clone, PartialEq)]
pub enum Pasted {
    /// A bare token of this service.
    Token(Token),
    /// A discovery URL, of this service or any other.
    Url(String),
    /// A registry listing, as JSON or as the docs print it.
    Registry(serde_json::Value),
}

/// Tells a token, a URL and a registry dump apart. The error is a sentence for the page.
pub fn read_pasted(text: &str) -> Result<Pasted, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("paste a token, a discovery URL or a registry's JSON".into());
    }
    if t.starts_with("http://") || t.starts_with("https://") {
        crate::config::params::check_discovery_url(t)?;
        return Ok(Pasted::Url(t.trim_end_matches('/').to_string()));
    }
    if t.len() == crate::token::TOKEN_LEN && !t.contains(char::is_whitespace) {
        return Token::parse(t)
            .map(Pasted::Token)
            .map_err(|e| e.to_string());
    }
    let value = loose_json::parse(t)
        .map_err(|e| format!("this is not a token, a URL or registry JSON: {e}"))?;
    if value.get("node").is_none() && value.get("errorCode").is_none() {
        return Err("this JSON has no \"node\": paste what the discovery URL answers".into());
    }
    Ok(Pasted::Registry(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_with_members_is_in_use() {
        let listing = |n: usize| {
            let nodes: Vec<serde_json::Value> = (0..n)
                .map(|i| serde_json::json!({"key": format!("/t/{i:016x}"), "value": format!("m{i}=http://10.0.0.{i}:2380"), "createdIndex": i + 2}))
                .collect();
            diagnose(
                &serde_json::json!({"node": {"key": "/t", "nodes": nodes}}),
                SizeInfo::Known(3),
                None,
                0,
            )
        };
        assert_eq!(in_use(&listing(0)), None);
        assert!(in_use(&listing(1))
            .unwrap()
            .contains("already has 1 member(s)"));
        assert!(in_use(&listing(3)).unwrap().contains("complete (3 members"));
    }

    #[test]
    fn sizes_as_the_size_key_answers_them() {
        assert_eq!(
            size_from(200, r#"{"action":"get","node":{"value":"3"}}"#),
            SizeInfo::Known(3)
        );
        assert_eq!(size_from(404, r#"{"errorCode":100}"#), SizeInfo::Missing);
        assert_eq!(
            size_from(200, r#"{"action":"get","node":{"value":"x"}}"#),
            SizeInfo::Bad("x".into())
        );
        assert_eq!(size_from(200, "<html>"), SizeInfo::Bad("<html>".into()));
    }

    #[test]
    fn tells_pastes_apart() {
        let hex = "6a28e078895c5ec737174db2419bb2f3";
        assert_eq!(
            read_pasted(hex),
            Ok(Pasted::Token(Token::parse(hex).unwrap()))
        );
        assert_eq!(
            read_pasted(&format!(" https://discovery.etcd.io/{hex}/ ")),
            Ok(Pasted::Url(format!("https://discovery.etcd.io/{hex}")))
        );
        assert!(matches!(
            read_pasted("{\"action\":\"get\",\"node\":{}}"),
            Ok(Pasted::Registry(_))
        ));
        assert!(matches!(
            read_pasted("{ action: \"get\", node: { key: \"/x\" } }"),
            Ok(Pasted::Registry(_))
        ));
        for bad in [
            "",
            "hello",
            "{\"a\":1}",
            "https://x/a\"b",
            "6A28E078895C5EC737174DB2419BB2F3",
        ] {
            assert!(read_pasted(bad).is_err(), "{bad:?}");
        }
    }
}
