//! Which part of the service a request path is for. Pure, so the Worker's router is tested here.

use crate::http::Method;
use crate::Token;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/`: what this service is.
    Home,
    /// `/health`: answers `OK` (the process is up).
    Health,
    /// `/ready`: whether the store takes writes now (a load balancer's check).
    Ready,
    /// `/robots.txt`: tokens are secrets; keep crawlers out.
    Robots,
    /// `/new?size=N`: mint a token.
    New,
    /// `/butane?<config>`: the Butane YAML for a config (the query the page keeps in its URL).
    Butane,
    /// `/ignition?<config>`: the Ignition JSON Butane makes of it.
    Ignition,
    /// `/butane/migrate`: a legacy config (cloud-config, Container Linux Config) as Butane.
    Migrate,
    /// `/explain`: an etcd member's log, its discovery lines explained.
    Explain,
    /// `/relay?url=<token URL>`: another service's token, read for the inspector.
    Relay,
    /// `/ledger/<token>`: the KV ledger's record of a token (size, mint time, expiry).
    Ledger(Token),
    /// `/<token>[/<key>]`: the etcd v2 keys of one token; `key` is the rest of the path.
    Keys { token: Token, key: &'a str },
    /// Anything else; etcd members get etcd's "Key not found" for it.
    NotFound,
}

/// Routes `path` (the URL path, still percent-encoded). `prefix` is the path part of a configured
/// public URL (`/discovery` for `https://example.com/discovery`), stripped first when present.
pub fn route<'a>(path: &'a str, prefix: &str) -> Route<'a> {
    let prefix = prefix.trim_end_matches('/');
    let path = match path.strip_prefix(prefix) {
        Some(rest) if !prefix.is_empty() && (rest.is_empty() || rest.starts_with('/')) => rest,
        _ => path,
    };
    let rest = path.strip_prefix('/').unwrap_or(path);
    let (first, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    match (first, tail) {
        ("", "") => Route::Home,
        ("health", "") => Route::Health,
        ("ready", "") => Route::Ready,
        ("robots.txt", "") => Route::Robots,
        ("new", "" | "/") => Route::New,
        ("butane", "") => Route::Butane,
        ("butane", "/migrate") => Route::Migrate,
        ("ignition", "") => Route::Ignition,
        ("explain", "") => Route::Explain,
        ("relay", "") => Route::Relay,
        ("ledger", t) => match Token::from_segment(t.trim_matches('/')) {
            Ok(token) => Route::Ledger(token),
            Err(_) => Route::NotFound,
        },
        (segment, key) => match Token::from_segment(segment) {
            Ok(token) => Route::Keys { token, key },
            Err(_) => Route::NotFound,
        },
    }
}

/// The path (still percent-encoded) and query of an absolute URL as the runtime hands it over:
/// already normalised, so splitting is enough and no URL parser runs per request.
pub fn split_url(url: &str) -> (&str, Option<&str>) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let rest = &rest[rest.find(['/', '?', '#']).unwrap_or(rest.len())..];
    let rest = rest.split('#').next().unwrap_or_default();
    match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    }
}

/// Refuses a raw request path that URL rules would rewrite before routing: dot segments (`.`,
/// `..`, also percent-encoded) resolve onto another path, perhaps another token's, and an
/// encoded slash makes one segment read as two. The Worker's runtime resolves such paths before
/// the Worker sees them; a shell that gets them raw answers 400 with this sentence instead of
/// guessing. The one path that is not one, `*`, asks an `OPTIONS` of the whole server.
pub fn check_raw_path(method: Method, path: &str) -> Result<(), String> {
    if method == Method::Options && path == "*" {
        return Ok(());
    }
    if !path.starts_with('/') {
        return Err(format!("{path:?} is not a path: it must start with /"));
    }
    for segment in path.split('/') {
        let lower = segment.to_ascii_lowercase();
        if lower.contains("%2f") || lower.contains("%5c") || segment.contains('\\') {
            return Err(format!(
                "{path:?} holds an encoded slash: name each key with plain / separators"
            ));
        }
        if matches!(lower.replace("%2e", ".").as_str(), "." | "..") {
            return Err(format!(
                "{path:?} holds a dot segment: send the path as it is meant, without . or .."
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls_into_path_and_query() {
        let cases = [
            (
                "http://127.0.0.1:8787/abc/def?wait=true&x=1",
                "/abc/def",
                Some("wait=true&x=1"),
            ),
            ("https://d.example/", "/", None),
            ("https://d.example", "", None),
            ("https://d.example?size=3", "", Some("size=3")),
            ("https://d.example/new?size=3#frag", "/new", Some("size=3")),
            ("https://d.example/a%2Fb?q=a/b?c", "/a%2Fb", Some("q=a/b?c")),
            ("https://d.example/p?", "/p", Some("")),
            ("https://user@d.example:8443/x", "/x", None),
        ];
        for (url, path, query) in cases {
            assert_eq!(split_url(url), (path, query), "{url}");
        }
        // Whatever the path, routing reads it as before: an empty one is the home page.
        assert_eq!(route(split_url("https://d.example").0, ""), Route::Home);
    }

    const HEX: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn routes_the_service_paths() {
        let t = Token::from_segment(HEX).unwrap();
        assert_eq!(route("/", ""), Route::Home);
        assert_eq!(route("", ""), Route::Home);
        assert_eq!(route("/health", ""), Route::Health);
        assert_eq!(route("/ready", ""), Route::Ready);
        assert_eq!(route("/robots.txt", ""), Route::Robots);
        assert_eq!(route("/new", ""), Route::New);
        assert_eq!(route("/new/", ""), Route::New);
        assert_eq!(route("/butane", ""), Route::Butane);
        assert_eq!(route("/ignition", ""), Route::Ignition);
        assert_eq!(route("/explain", ""), Route::Explain);
        assert_eq!(route(&format!("/ledger/{HEX}"), ""), Route::Ledger(t));
        assert_eq!(
            route(&format!("/{HEX}"), ""),
            Route::Keys { token: t, key: "" }
        );
        assert_eq!(
            route(&format!("/{HEX}/_config/size"), ""),
            Route::Keys {
                token: t,
                key: "/_config/size"
            }
        );
        assert_eq!(
            route(&format!("/{HEX}/abc"), ""),
            Route::Keys {
                token: t,
                key: "/abc"
            }
        );
    }

    #[test]
    fn anything_else_is_not_found() {
        for p in [
            "/favicon.ico",
            "/0123456789ABCDEF0123456789ABCDEF",
            "/0123456789abcdef0123456789abcde",
            "/ledger/xyz",
            "/ledger",
            "/health/x",
            "/v2/keys/foo",
            "/%30123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(route(p, ""), Route::NotFound, "{p}");
        }
    }

    #[test]
    fn raw_paths_with_dot_segments_or_encoded_slashes_are_refused() {
        for ok in [
            "/",
            "/new",
            &format!("/{HEX}/a.b"),
            &format!("/{HEX}/..a"),
            "/x/.../y",
        ] {
            assert_eq!(check_raw_path(Method::parse("PUT"), ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("/a/../b", "dot segment"),
            ("/a/./b", "dot segment"),
            ("/..", "dot segment"),
            ("/a/%2e%2E", "dot segment"),
            ("/a/.%2e/", "dot segment"),
            ("/a%2Fb", "encoded slash"),
            ("/a%2fb", "encoded slash"),
            ("/a%5Cb", "encoded slash"),
            ("/a\\b", "encoded slash"),
            ("*", "not a path"),
            ("example.com:443", "not a path"),
            ("", "not a path"),
        ] {
            let e = check_raw_path(Method::parse("GET"), bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert_eq!(check_raw_path(Method::parse("OPTIONS"), "*"), Ok(()));
    }

    #[test]
    fn a_public_url_prefix_is_stripped() {
        let t = Token::from_segment(HEX).unwrap();
        let p = format!("/discovery/{HEX}/m1");
        assert_eq!(
            route(&p, "/discovery/"),
            Route::Keys {
                token: t,
                key: "/m1"
            }
        );
        assert_eq!(route("/discovery/new", "/discovery"), Route::New);
        assert_eq!(route("/discovery", "/discovery"), Route::Home);
        assert_eq!(
            route("/new", "/discovery"),
            Route::New,
            "unprefixed paths still work"
        );
        assert_eq!(route("/discoveryx/new", "/discovery"), Route::NotFound);
    }
}
