//! Which of a token's keys a v3 key or range names. etcd 3.6+ members keep everything under
//! `/_etcd/registry/<token>`: the size at `_config/size`, each member at `members/<id>`. A
//! request must stay inside one minted token; anything wider is refused before any registry is
//! touched, so no request ever reaches another token.

use super::{Code, Refusal};
use crate::registry::Key;
use crate::Token;

/// Where every token's keys live.
pub const REGISTRY_PREFIX: &str = "/_etcd/registry/";

/// What a key or range names inside one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `_config/size`.
    Size,
    /// `members/<id>`: one member.
    Member(String),
    /// The `members` prefix (with or without its trailing slash): every member.
    Members,
    /// The token's whole prefix: the size and every member.
    All,
    /// A single key under the token that can hold nothing (`foo`, `members`, `_config`).
    Nothing,
}

impl Target {
    /// Whether the registry key `name` (`_config/size` or a member's name) is in this target.
    pub fn holds(&self, name: &str) -> bool {
        let size = Key::Size.stored_name();
        match self {
            Target::Size => name == size,
            Target::Member(id) => name == id,
            Target::Members => name != size,
            Target::All => true,
            Target::Nothing => false,
        }
    }
}

/// A key or range inside one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub token: Token,
    pub target: Target,
}

/// The v3 key of a registry key name (`_config/size`, or a member's name).
pub fn v3_key(token: Token, name: &str) -> Vec<u8> {
    let size = Key::Size.stored_name();
    if name == size {
        format!("{REGISTRY_PREFIX}{token}/{size}").into_bytes()
    } else {
        format!("{REGISTRY_PREFIX}{token}/members/{name}").into_bytes()
    }
}

/// etcd's prefix end: the key with its last byte below 0xff incremented, and what follows cut.
pub fn prefix_end(key: &[u8]) -> Vec<u8> {
    let mut end = key.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // All 0xff: etcd's "every key after" marker.
    vec![0]
}

fn outside(what: &str) -> Refusal {
    Refusal::new(
        Code::PermissionDenied,
        format!("{what}: this discovery service holds only the keys of minted tokens, {REGISTRY_PREFIX}<token>/_config/size and {REGISTRY_PREFIX}<token>/members/<id>"),
    )
}

/// Reads `key` and `range_end` (empty: the one key) as a scope inside one token.
pub fn scope(key: &[u8], range_end: &[u8]) -> Result<Scope, Refusal> {
    let text = std::str::from_utf8(key)
        .map_err(|_| Refusal::new(Code::InvalidArgument, "the key is not UTF-8"))?;
    let shown: String = text.chars().take(120).collect();
    let rest = text
        .strip_prefix(REGISTRY_PREFIX)
        .ok_or_else(|| outside(&format!("{shown:?} is not a registry key")))?;
    let (segment, below) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let token = Token::from_segment(segment)
        .map_err(|_| outside(&format!("{shown:?} names no token of 32 hex digits")))?;
    if range_end.is_empty() {
        let target = match below {
            "/_config/size" => Target::Size,
            other => match other.strip_prefix("/members/") {
                Some(id) if Key::parse(id).is_ok_and(|k| matches!(k, Key::Member(_))) => {
                    Target::Member(id.to_string())
                }
                _ => Target::Nothing,
            },
        };
        return Ok(Scope { token, target });
    }
    // A range: only the prefix of the token or of its members, as clients write them.
    if range_end != prefix_end(key).as_slice() {
        return Err(outside(&format!(
            "a range from {shown:?} that is not a prefix of one token"
        )));
    }
    let target = match below {
        "" | "/" => Target::All,
        "/members" | "/members/" => Target::Members,
        "/_config" | "/_config/" | "/_config/size" => Target::Size,
        _ => Target::Nothing,
    };
    Ok(Scope { token, target })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "0123456789abcdef0123456789abcdef";

    fn key(rest: &str) -> Vec<u8> {
        format!("{REGISTRY_PREFIX}{T}{rest}").into_bytes()
    }

    fn target(rest: &str, prefix: bool) -> Result<Target, Code> {
        let k = key(rest);
        let end = if prefix { prefix_end(&k) } else { Vec::new() };
        scope(&k, &end).map(|s| s.target).map_err(|r| r.code)
    }

    #[test]
    fn keys_and_prefixes_inside_a_token() {
        assert_eq!(target("/_config/size", false), Ok(Target::Size));
        assert_eq!(
            target("/members/8e9e05c52164694d", false),
            Ok(Target::Member("8e9e05c52164694d".into()))
        );
        assert_eq!(target("/members", true), Ok(Target::Members));
        assert_eq!(target("/members/", true), Ok(Target::Members));
        assert_eq!(target("", true), Ok(Target::All));
        assert_eq!(target("/", true), Ok(Target::All));
        assert_eq!(target("/elsewhere", false), Ok(Target::Nothing));
        assert_eq!(target("/members/a/b", false), Ok(Target::Nothing));
        assert_eq!(target("/members/_x", false), Ok(Target::Nothing));
        let s = scope(&key("/_config/size"), &[]).unwrap();
        assert_eq!(s.token.to_string(), T);
    }

    #[test]
    fn anything_wider_than_one_token_is_refused() {
        for (k, end) in [
            (b"/".to_vec(), vec![0]),
            (b"\0".to_vec(), vec![0]),
            (
                REGISTRY_PREFIX.as_bytes().to_vec(),
                prefix_end(REGISTRY_PREFIX.as_bytes()),
            ),
            (b"/_etcd/registry/notatoken/_config/size".to_vec(), vec![]),
            (b"/other".to_vec(), vec![]),
            (key("/members/"), vec![0]),
            (key("/members/a"), key("/members/z")),
        ] {
            let r = scope(&k, &end).unwrap_err();
            assert_eq!(r.code, Code::PermissionDenied, "{k:?}");
            assert!(r.message.contains("minted tokens"), "{}", r.message);
        }
        assert_eq!(
            scope(&[0xff, 0xfe], &[]).unwrap_err().code,
            Code::InvalidArgument
        );
    }

    #[test]
    fn prefix_ends_are_etcds() {
        assert_eq!(prefix_end(b"abc"), b"abd");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
        assert_eq!(
            v3_key(Token::from_segment(T).unwrap(), "_config/size"),
            key("/_config/size")
        );
        assert_eq!(
            v3_key(Token::from_segment(T).unwrap(), "m1"),
            key("/members/m1")
        );
    }
}
