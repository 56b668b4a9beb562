//! A deployment's settings, read from named text values: `[vars]` in `wrangler.toml` for the
//! Worker, flags or environment variables of the same names for the native server.

use crate::relay::RelayHosts;
use crate::Limits;

/// Every setting's name, as `[vars]`, environment variables and (lower-case, dashed) flags
/// spell it.
pub const NAMES: [&str; 12] = [
    "PUBLIC_URL",
    "MAX_SIZE",
    "MAX_MEMBERS",
    "MAX_VALUE_BYTES",
    "MAX_EVENTS",
    "TOKEN_LIFETIME_SECONDS",
    "WAIT_TIMEOUT_SECONDS",
    "MAX_WAITS",
    "MINTS_PER_MINUTE",
    "RELAYS_PER_MINUTE",
    "RELAY_HOSTS",
    "TEST_STORAGE_HOOKS",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub limits: Limits,
    /// `PUBLIC_URL` without a trailing slash, if set: the origin (and path prefix) of token URLs.
    pub public_url: Option<String>,
    /// The path part of `PUBLIC_URL` (`/etcd`), stripped from request paths; empty if none.
    pub prefix: String,
    /// `RELAY_HOSTS`: where `/relay` may read other services' tokens.
    pub relay_hosts: RelayHosts,
    /// `TEST_STORAGE_HOOKS`: the end-to-end tests' window on each shell's storage
    /// (`/_test/storage/<token>`), through which they stage a lost write. Never on in a
    /// deployment: anyone could damage any token with it.
    pub test_storage_hooks: bool,
}

impl Settings {
    /// Reads every setting; `lookup` returns a setting's text if it is set. A bad one is an
    /// error naming it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let limits = Limits::from_settings(&lookup)?;
        let public_url = lookup("PUBLIC_URL")
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        let prefix = match &public_url {
            Some(u) => url_path(u)?,
            None => String::new(),
        };
        let relay_hosts = match lookup("RELAY_HOSTS") {
            Some(text) => RelayHosts::parse(&text)?,
            None => RelayHosts::default(),
        };
        let test_storage_hooks = match lookup("TEST_STORAGE_HOOKS").as_deref().map(str::trim) {
            None | Some("" | "0" | "false") => false,
            Some("1" | "true") => true,
            Some(other) => {
                return Err(format!(
                    "TEST_STORAGE_HOOKS {other:?} is not a switch: give true or false"
                ))
            }
        };
        Ok(Settings {
            limits,
            public_url,
            prefix,
            relay_hosts,
            test_storage_hooks,
        })
    }

    /// Where minted token URLs point: `PUBLIC_URL`, or else the origin the request came to.
    pub fn origin<'a>(&'a self, request_origin: &'a str) -> &'a str {
        self.public_url.as_deref().unwrap_or(request_origin)
    }
}

/// The path of an `http(s)://host[:port][/path]` URL without its trailing slash.
fn url_path(url: &str) -> Result<String, String> {
    let bad = |why: &str| format!("PUBLIC_URL {url:?} is not a URL: {why}");
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("it must start with http:// or https://"))?;
    if rest.contains(['?', '#', ' ', '\\']) {
        return Err(bad("only an origin and a path may be given"));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.is_empty() || authority.starts_with(':') {
        return Err(bad("it names no host"));
    }
    Ok(path.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        assert_eq!(read(&[]).unwrap(), Settings::default());
        assert_eq!(read(&[("PUBLIC_URL", "  ")]).unwrap().public_url, None);
    }

    #[test]
    fn a_public_url_gives_the_origin_and_the_prefix() {
        let s = read(&[("PUBLIC_URL", "https://discovery.example.com/etcd/")]).unwrap();
        assert_eq!(
            s.public_url.as_deref(),
            Some("https://discovery.example.com/etcd")
        );
        assert_eq!(s.prefix, "/etcd");
        assert_eq!(
            s.origin("http://127.0.0.1:8787"),
            "https://discovery.example.com/etcd"
        );
        let s = read(&[("PUBLIC_URL", "http://10.0.0.1:8787")]).unwrap();
        assert_eq!(s.prefix, "");
        assert_eq!(Settings::default().origin("http://h:1"), "http://h:1");
    }

    #[test]
    fn bad_settings_are_named() {
        for bad in [
            "ftp://x",
            "discovery.example.com",
            "https://",
            "https://h/p?q=1",
        ] {
            let e = read(&[("PUBLIC_URL", bad)]).unwrap_err();
            assert!(e.contains("PUBLIC_URL"), "{bad}: {e}");
        }
        let e = read(&[("MAX_WAITS", "-1")]).unwrap_err();
        assert!(e.contains("MAX_WAITS"), "{e}");
        let e = read(&[("RELAY_HOSTS", "ftp://x")]).unwrap_err();
        assert!(e.contains("RELAY_HOSTS"), "{e}");
        let s = read(&[("RELAY_HOSTS", "http://127.0.0.1:2000")]).unwrap();
        assert_eq!(s.relay_hosts.describe(), "http://127.0.0.1:2000");
        assert_eq!(
            read(&[("RELAY_HOSTS", "")]).unwrap().relay_hosts.describe(),
            "none (RELAY_HOSTS is empty)"
        );
    }
}
