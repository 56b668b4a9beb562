//! The token inspector's core: reads what a person pastes (a token, a discovery URL, or a
//! registry dump) and says in plain words who is in the registry and what is wrong with it.

pub mod loose_json;
pub mod report;

pub use report::{diagnose, Finding, Level, MemberRow, Report, Role, SizeInfo};

use crate::Token;

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
