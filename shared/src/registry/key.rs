//! The keys that live under one token, and the names a member may register under.

use crate::Token;

/// A key below a token. etcd members only ever touch `Dir`, `Size` and their own `Member`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// `/<token>`: the directory that lists members.
    Dir,
    /// `/<token>/_config`: hidden from listings and from recursive waits on the token.
    ConfigDir,
    /// `/<token>/_config/size`: the cluster size, written once when the token is minted.
    Size,
    /// `/<token>/<name>`: one member; etcd names it by its member id in hex.
    Member(String),
}

/// Longest member key name accepted; etcd's ids are at most 16 hex digits.
pub const MAX_NAME_LEN: usize = 64;

impl Key {
    /// Reads the path below a token (`""`, `/`, `/name`, `/_config/size`, with etcd's path
    /// cleaning of repeated and trailing slashes). The error is a sentence for a 4xx cause.
    pub fn parse(rest: &str) -> Result<Key, String> {
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Ok(Key::Dir),
            ["_config"] => Ok(Key::ConfigDir),
            ["_config", "size"] => Ok(Key::Size),
            [name] => {
                check_name(name)?;
                Ok(Key::Member((*name).to_string()))
            }
            _ => Err(format!(
                "{rest:?} is too deep: a token holds only member keys and _config/size"
            )),
        }
    }

    /// The key's full path as etcd shows it in `key` and `cause`.
    pub fn path(&self, token: &Token) -> String {
        match self {
            Key::Dir => format!("/{token}"),
            Key::ConfigDir => format!("/{token}/_config"),
            Key::Size => format!("/{token}/_config/size"),
            Key::Member(n) => format!("/{token}/{n}"),
        }
    }

    /// The key's path below the token without the leading slash, as stored in events.
    pub fn stored_name(&self) -> &str {
        match self {
            Key::Dir => "",
            Key::ConfigDir => "_config",
            Key::Size => "_config/size",
            Key::Member(n) => n,
        }
    }

    /// Whether an event on `event_key` answers a wait on `self`. A recursive wait on the token is
    /// woken by its members but not by the hidden `_config` keys, as etcd's watcher hub decides.
    pub fn woken_by(&self, recursive: bool, event_key: &Key) -> bool {
        if self == event_key {
            return true;
        }
        recursive
            && matches!(
                (self, event_key),
                (Key::Dir, Key::Member(_)) | (Key::ConfigDir, Key::Size)
            )
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "member key is {} bytes long: at most {MAX_NAME_LEN} are allowed",
            name.len()
        ));
    }
    if !first_ok || !name.chars().all(ok_char) {
        return Err(format!(
            "member key {name:?} is not allowed: use letters, digits, '.', '_' and '-', starting with a letter or digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_keys_of_a_token() {
        assert_eq!(Key::parse(""), Ok(Key::Dir));
        assert_eq!(Key::parse("/"), Ok(Key::Dir));
        assert_eq!(Key::parse("/_config"), Ok(Key::ConfigDir));
        assert_eq!(Key::parse("/_config/size"), Ok(Key::Size));
        assert_eq!(Key::parse("//_config//size/"), Ok(Key::Size));
        assert_eq!(
            Key::parse("/8e9e05c52164694d"),
            Ok(Key::Member("8e9e05c52164694d".into()))
        );
        assert_eq!(
            Key::parse("/node-1.example_a"),
            Ok(Key::Member("node-1.example_a".into()))
        );
    }

    #[test]
    fn refuses_names_that_cannot_be_members() {
        for bad in [
            "/..",
            "/.",
            "/_hidden",
            "/-x",
            "/a b",
            "/a%2Fb",
            "/é",
            "/a/b",
            "/_config/other",
            "/_config/size/x",
        ] {
            assert!(Key::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("/{}", "a".repeat(MAX_NAME_LEN + 1));
        assert!(Key::parse(&long).unwrap_err().contains("at most 64"));
        assert!(Key::parse(&format!("/{}", "a".repeat(MAX_NAME_LEN))).is_ok());
    }

    #[test]
    fn paths_and_stored_names() {
        let t = Token::from_random([0x11; 16]);
        let hex = "11".repeat(16);
        assert_eq!(Key::Dir.path(&t), format!("/{hex}"));
        assert_eq!(Key::Size.path(&t), format!("/{hex}/_config/size"));
        assert_eq!(Key::Member("a".into()).path(&t), format!("/{hex}/a"));
        for k in [Key::Size, Key::Member("m".into()), Key::ConfigDir] {
            assert_eq!(Key::parse(&format!("/{}", k.stored_name())), Ok(k));
        }
    }

    #[test]
    fn which_events_wake_which_waits() {
        let m = Key::Member("a".into());
        assert!(Key::Dir.woken_by(true, &m));
        assert!(!Key::Dir.woken_by(false, &m));
        assert!(!Key::Dir.woken_by(true, &Key::Size));
        assert!(Key::ConfigDir.woken_by(true, &Key::Size));
        assert!(Key::Size.woken_by(false, &Key::Size));
        assert!(m.woken_by(false, &m));
        assert!(!m.woken_by(true, &Key::Member("b".into())));
    }
}
