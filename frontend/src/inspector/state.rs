//! Turning a paste into what to fetch or diagnose, with no browser in sight.

use shared::inspect::{read_pasted, Pasted, SizeInfo};

/// What the inspector works from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A registry to follow live at this URL.
    Live(String),
    /// A pasted listing, diagnosed once.
    Listing(serde_json::Value),
}

/// Reads a paste; a bare token is a token of the service the page came from (`origin`).
pub fn source(text: &str, origin: &str) -> Result<Source, String> {
    Ok(match read_pasted(text)? {
        Pasted::Token(t) => Source::Live(format!("{origin}/{t}")),
        Pasted::Url(u) => Source::Live(u),
        Pasted::Registry(v) => Source::Listing(v),
    })
}

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

/// The size typed for a pasted listing.
pub fn size_typed(text: &str) -> SizeInfo {
    match text.trim().parse::<u64>() {
        Ok(n) => SizeInfo::Known(n),
        Err(_) if text.trim().is_empty() => SizeInfo::Unknown,
        Err(_) => SizeInfo::Bad(text.trim().to_string()),
    }
}

/// The long poll that returns at the next change after `index` (etcd's recursive wait).
pub fn wait_url(url: &str, index: u64) -> String {
    format!("{url}?recursive=true&wait=true&waitIndex={}", index + 1)
}

/// The key etcd registers a member under, for the peer URLs a user types.
pub fn member_key(peer_urls: &str, discovery_url: &str) -> Result<String, String> {
    let urls: Vec<&str> = peer_urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Err("type the member's peer URL(s), e.g. http://10.0.0.1:2380".into());
    }
    for u in &urls {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(format!("{u:?} is not an http(s) URL"));
        }
    }
    let url = discovery_url.trim().trim_end_matches('/');
    shared::config::params::check_discovery_url(url)?;
    Ok(shared::member_id::member_id(&urls, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "7629da32f09da6fd3e015b0d56356b02";

    #[test]
    fn tokens_urls_and_listings() {
        assert_eq!(
            source(HEX, "http://h:1"),
            Ok(Source::Live(format!("http://h:1/{HEX}")))
        );
        assert_eq!(
            source(&format!("https://discovery.etcd.io/{HEX}"), "http://h:1"),
            Ok(Source::Live(format!("https://discovery.etcd.io/{HEX}")))
        );
        assert!(matches!(
            source("{ action: \"get\", node: {} }", ""),
            Ok(Source::Listing(_))
        ));
        assert!(source("nonsense", "").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(
            size_from(200, r#"{"action":"get","node":{"value":"3"}}"#),
            SizeInfo::Known(3)
        );
        assert_eq!(size_from(404, r#"{"errorCode":100}"#), SizeInfo::Missing);
        assert_eq!(
            size_from(200, r#"{"action":"get","node":{"value":"x"}}"#),
            SizeInfo::Bad("x".into())
        );
        assert_eq!(size_typed(" 5 "), SizeInfo::Known(5));
        assert_eq!(size_typed(""), SizeInfo::Unknown);
    }

    #[test]
    fn the_member_key_is_etcds() {
        let url = format!("http://127.0.0.1:18787/{HEX}");
        assert_eq!(
            member_key("http://127.0.0.1:21380", &url),
            Ok("71c6d2b6be6ab36c".into())
        );
        assert!(member_key("", &url).is_err());
        assert!(member_key("10.0.0.1:2380", &url).is_err());
        assert_eq!(
            wait_url(&url, 4),
            format!("{url}?recursive=true&wait=true&waitIndex=5")
        );
    }
}
