//! The inspector's page state as one reducer (pure, beside the view): what is being inspected,
//! what it showed last, and the line that says what is going on. Each inspection replaces the
//! last one whole: answers of an older one are dropped when they arrive.

use std::rc::Rc;

use shared::explain::Explanation;
use shared::inspect::timeline::Timeline;
use shared::inspect::{read_pasted, Pasted, Report, SizeInfo};
use yew::Reducible;

/// The hash that marks the inspector; what it inspects follows (`#inspect=<paste>&size=N`).
pub const HASH: &str = "#inspect";

/// The hash that reopens an inspection of `pasted` (with the size typed for a listing).
pub fn to_hash(pasted: &str, size: &str) -> String {
    let pasted = pasted.trim();
    let mut hash = HASH.to_string();
    if !pasted.is_empty() {
        hash.push_str(&format!("={}", shared::form::encode(pasted)));
        if !size.trim().is_empty() {
            hash.push_str(&format!("&size={}", shared::form::encode(size.trim())));
        }
    }
    hash
}

/// What a page URL's hash asks to inspect, and the size given with it.
pub fn from_hash(hash: &str) -> (String, String) {
    let Some(rest) = hash.strip_prefix(HASH).and_then(|r| r.strip_prefix('=')) else {
        return (String::new(), String::new());
    };
    let query = format!("paste={rest}");
    let pasted = shared::form::lossy_value(&query, "paste").unwrap_or_default();
    let size = shared::form::lossy_value(&query, "size").unwrap_or_default();
    (pasted, size)
}

/// What the inspector works from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A registry to follow live at this URL.
    Live(String),
    /// A pasted listing, diagnosed once.
    Listing(serde_json::Value),
    /// A member's etcd log: explained, then its token followed live.
    Log(String),
}

/// Reads a paste; a bare token is a token of the service the page came from (`origin`).
pub fn source(text: &str, origin: &str) -> Result<Source, String> {
    if shared::explain::is_log(text) {
        return Ok(Source::Log(text.to_string()));
    }
    Ok(match read_pasted(text)? {
        Pasted::Token(t) => Source::Live(format!("{origin}/{t}")),
        Pasted::Url(u) => Source::Live(u),
        Pasted::Registry(v) => Source::Listing(v),
    })
}

/// The part of a long log sent to be explained: this service reads bodies up to 64 KiB, and
/// the end of a log is where a failed bootstrap shows. Whole lines only; `true` when cut.
pub fn log_tail(text: &str) -> (&str, bool) {
    let limit = shared::body::MAX_BODY_BYTES;
    if text.len() <= limit {
        return (text, false);
    }
    let mut start = text.len() - limit;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let start = text[start..].find('\n').map_or(start, |i| start + i + 1);
    (&text[start..], true)
}

/// How the registry was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The page read it itself.
    Direct,
    /// The service refused the page (no CORS headers): read through this service's `/relay`.
    Relay,
    /// Pasted.
    Paste,
}

/// What one inspection shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub report: Report,
    pub timeline: Timeline,
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct InspectorState {
    /// Counts inspections; answers carry the number they belong to.
    pub inspection: u64,
    /// The URL followed, if any (the member key tool needs it).
    pub followed: Option<String>,
    pub shown: Option<Shown>,
    /// A pasted log, explained.
    pub explained: Option<Explanation>,
    pub status: String,
}

pub enum Action {
    /// A new inspection: what was shown goes.
    Start {
        followed: Option<String>,
    },
    Show {
        inspection: u64,
        shown: Shown,
    },
    /// A pasted log's explanation; its token (if it names one) is followed next.
    Explained {
        inspection: u64,
        explanation: Explanation,
    },
    Status {
        inspection: u64,
        text: String,
    },
    /// The inspection ends with nothing to show (an error).
    Fail {
        inspection: u64,
        text: String,
    },
}

impl Reducible for InspectorState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Start { followed } => {
                s.inspection += 1;
                s.followed = followed;
                s.shown = None;
                s.explained = None;
                s.status = String::new();
            }
            Action::Explained {
                inspection,
                explanation,
            } if inspection == s.inspection => {
                s.followed = explanation.discovery.url.clone();
                s.explained = Some(explanation);
            }
            Action::Show { inspection, shown } if inspection == s.inspection => {
                s.shown = Some(shown)
            }
            Action::Status { inspection, text } if inspection == s.inspection => s.status = text,
            Action::Fail { inspection, text } if inspection == s.inspection => {
                s.shown = None;
                s.status = text;
            }
            // An older inspection's answer: it no longer belongs on the page.
            _ => return self,
        }
        Rc::new(s)
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
    format!(
        "{url}?recursive=true&wait=true&waitIndex={}",
        index.saturating_add(1)
    )
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

    #[test]
    fn the_hash_reopens_an_inspection() {
        let url = "https://discovery.example.com/0123456789abcdef0123456789abcdef";
        assert_eq!(
            from_hash(&to_hash(url, "")),
            (url.to_string(), String::new())
        );
        let listing = "{\"node\": {\"key\": \"/_etcd/registry/x\", \"nodes\": []}} & more";
        assert_eq!(
            from_hash(&to_hash(listing, "3")),
            (listing.to_string(), "3".to_string())
        );
        assert_eq!(to_hash("  ", "3"), "#inspect");
        assert_eq!(from_hash("#inspect"), (String::new(), String::new()));
    }

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
        let log = "{\"level\":\"info\",\"msg\":\"starting an etcd server\"}";
        assert_eq!(source(log, ""), Ok(Source::Log(log.to_string())));
    }

    #[test]
    fn each_inspection_replaces_the_last() {
        let shown = || Shown {
            report: shared::inspect::diagnose(
                &serde_json::json!({"node": {"key": "/t", "nodes": []}}),
                SizeInfo::Known(3),
                None,
                0,
            ),
            timeline: Timeline::default(),
            via: Via::Paste,
        };
        let s = Rc::new(InspectorState::default());
        let s = s.reduce(Action::Start { followed: None });
        let s = s.reduce(Action::Show {
            inspection: 1,
            shown: shown(),
        });
        assert!(s.shown.is_some());
        // A new inspection clears the old one's findings and table at once.
        let s = s.reduce(Action::Start {
            followed: Some("https://d/x".into()),
        });
        assert_eq!((s.inspection, s.shown.is_none()), (2, true));
        // The first inspection's late answers are dropped.
        let s = s.reduce(Action::Show {
            inspection: 1,
            shown: shown(),
        });
        let s = s.reduce(Action::Status {
            inspection: 1,
            text: "old".into(),
        });
        assert!(s.shown.is_none() && s.status.is_empty());
        let s = s.reduce(Action::Fail {
            inspection: 2,
            text: "could not reach".into(),
        });
        assert_eq!(s.status, "could not reach");
    }

    #[test]
    fn a_long_log_is_cut_to_its_last_whole_lines() {
        let line = "{\"level\":\"info\",\"msg\":\"x\"}\n";
        let long = line.repeat(10_000);
        let (tail, cut) = log_tail(&long);
        assert!(cut && tail.len() <= shared::body::MAX_BODY_BYTES);
        assert!(tail.starts_with('{') && long.ends_with(tail));
        assert_eq!(log_tail(line), (line, false));
    }

    #[test]
    fn sizes_and_keys() {
        assert_eq!(size_typed(" 5 "), SizeInfo::Known(5));
        assert_eq!(size_typed(""), SizeInfo::Unknown);
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
        assert!(wait_url(&url, u64::MAX).ends_with("waitIndex=18446744073709551615"));
    }
}
