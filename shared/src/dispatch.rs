//! The service's one entry: which handler a request goes to, with the method rules and every
//! answer that needs no storage decided here. Both shells call `dispatch` first and then only
//! carry out what it leaves them: minting, the ledger, the relay, and keys requests on a
//! token's registry.

use crate::config::{generate, Severity};
use crate::http::{Method, Response, HOME, ROBOTS};
use crate::mint::size::parse_size;
use crate::relay::Upstream;
use crate::route::{route, Route};
use crate::settings::Settings;
use crate::Token;

/// What a request needs from its shell.
#[derive(Debug, PartialEq, Eq)]
pub enum Dispatch<'a> {
    /// Answered already: write it out.
    Done(Response),
    /// `/new`: mint a token of this size.
    Mint(u64),
    /// `/ledger/<token>`: show the token's meta.
    Ledger(Token),
    /// `/ready`: answer `ready()` if the store takes writes now, else `unready(why)`.
    Ready,
    /// `/relay?url=...`: read this upstream URL (count the client first).
    Relay(Upstream),
    /// A keys request on one token's registry (`key` is the path below the token); its method
    /// is one the keys API answers.
    Keys { token: Token, key: &'a str },
    /// `POST /ignition` or `POST /butane/migrate`: convert the body, a config
    /// (`shared::translate::answer`).
    Translate(crate::translate::Conversion),
    /// The tests' storage hooks (`TEST_STORAGE_HOOKS` on): a look at, or a change to, what the
    /// shell's storage holds for a token, through the shell's own storage.
    Hook { token: Token, hook: Hook },
}

/// What the tests' storage hooks do (`/_test/storage/<token>[/lose|/restore]?key=K`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// `GET`: the keys stored for the token, as `{"keys":[...]}`.
    Stored,
    /// `POST .../lose?key=K`: removes the entry, as a lost write would; answers its value. The
    /// token leaves memory, as after a restart.
    Lose { key: String },
    /// `POST .../restore?key=K` with the value as the body: stores it as it is.
    Restore { key: String },
}

impl Hook {
    /// `Stored`'s answer: the keys stored for the token.
    pub fn stored(keys: &[String]) -> Response {
        Response::json(200, serde_json::json!({ "keys": keys }).to_string())
    }

    /// `Lose`'s answer: the entry's value, or that there was none.
    pub fn lost(token: Token, key: &str, value: Option<String>) -> Response {
        match value {
            Some(value) => Response::text(200, value),
            None => Response::text(404, format!("{key} is not stored for {token}")),
        }
    }

    /// `Restore`'s answer.
    pub fn restored() -> Response {
        Response::text(200, "restored")
    }
}

/// `/ready`'s answer when the store takes writes.
pub fn ready() -> Response {
    Response::text(200, "ready")
}

/// `/ready`'s answer when it does not: 503, so a load balancer sends requests elsewhere.
pub fn unready(why: &str) -> Response {
    Response::unavailable(&format!("not ready: {why}"))
}

/// Where the storage hooks live.
const HOOKS: &str = "/_test/storage/";

fn hook<'a>(method: Method, path: &str, query: Option<&str>) -> Option<Dispatch<'a>> {
    let rest = path.strip_prefix(HOOKS)?;
    let (segment, what) = rest.split_once('/').unwrap_or((rest, ""));
    let token = Token::from_segment(segment).ok()?;
    let key = || crate::form::lossy_value(query.unwrap_or(""), "key");
    let hook = match (method, what) {
        (Method::Get, "") => Hook::Stored,
        (Method::Post, "lose") => Hook::Lose { key: key()? },
        (Method::Post, "restore") => Hook::Restore { key: key()? },
        _ => return None,
    };
    Some(Dispatch::Hook { token, hook })
}

/// Routes a request by its method, its path (still percent-encoded) and its query.
pub fn dispatch<'a>(
    method: Method,
    path: &'a str,
    query: Option<&str>,
    settings: &Settings,
) -> Dispatch<'a> {
    if method == Method::Options {
        return Dispatch::Done(Response::preflight());
    }
    if settings.test_storage_hooks && path.starts_with(HOOKS) {
        return hook(method, path, query).unwrap_or_else(|| {
            Dispatch::Done(Response::text(400, "a storage hook: GET /_test/storage/<token>, POST .../lose?key=K, POST .../restore?key=K"))
        });
    }
    let service = match route(path, &settings.prefix) {
        Route::Keys { token, key } if method.is_keys() => return Dispatch::Keys { token, key },
        Route::Keys { .. } => return Dispatch::Done(Response::keys_method_not_allowed()),
        Route::NotFound => return Dispatch::Done(Response::not_found(path)),
        service => service,
    };
    let query = query.unwrap_or("");
    match (&service, method) {
        (Route::Ignition, Method::Post) => {
            let flags = crate::translate::Flags::parse(query);
            return Dispatch::Translate(crate::translate::Conversion::Ignition(flags));
        }
        (Route::Migrate, Method::Post) => {
            return match crate::translate::Conversion::migrate(query) {
                Ok(conversion) => Dispatch::Translate(conversion),
                Err(refusal) => Dispatch::Done(refusal),
            };
        }
        (Route::Explain, Method::Post) => {
            return Dispatch::Translate(crate::translate::Conversion::Explain)
        }
        (Route::Migrate | Route::Explain, _) => {
            return Dispatch::Done(Response::method_not_allowed("POST, OPTIONS"))
        }
        _ => {}
    }
    if !method.is_read() {
        let allow = match service {
            Route::Ignition => "GET, HEAD, POST, OPTIONS",
            _ => "GET, HEAD, OPTIONS",
        };
        return Dispatch::Done(Response::method_not_allowed(allow));
    }
    Dispatch::Done(match service {
        Route::Home => Response::text(200, HOME),
        Route::Health => Response::text(200, "OK"),
        Route::Robots => Response::text(200, ROBOTS),
        // Minting changes state, so a HEAD (a prefetcher, a link checker) must not.
        Route::New if method == Method::Head => Response::method_not_allowed("GET, OPTIONS"),
        Route::New => {
            let raw = crate::form::lossy_value(query, "size");
            return match parse_size(raw.as_deref(), settings.limits.max_size) {
                Ok(size) => Dispatch::Mint(size),
                Err(why) => Dispatch::Done(Response::text(400, why)),
            };
        }
        Route::Ledger(token) => return Dispatch::Ledger(token),
        Route::Ready => return Dispatch::Ready,
        // Reading has no side effect here, but a HEAD would still spend an upstream request.
        Route::Relay if method == Method::Head => Response::method_not_allowed("GET, OPTIONS"),
        Route::Relay => {
            let Some(url) = crate::form::lossy_value(query, "url") else {
                return Dispatch::Done(Response::text(
                    400,
                    "give the token URL to read: /relay?url=https://discovery.etcd.io/<token>",
                ));
            };
            return match crate::relay::upstream(&url, &settings.relay_hosts) {
                Ok(upstream) => Dispatch::Relay(upstream),
                Err(refusal) => Dispatch::Done(refusal),
            };
        }
        Route::Butane => config(query, Format::Butane),
        Route::Ignition => config(query, Format::Ignition),
        Route::Keys { .. } | Route::NotFound | Route::Migrate | Route::Explain => {
            Response::not_found(path)
        }
    })
}

enum Format {
    Butane,
    Ignition,
}

/// `GET /butane?...` and `GET /ignition?...`: the config builder's output for scripts, from the
/// same query the page keeps in its URL; mistakes as `{"errors":[...],"warnings":[...]}`.
fn config(query: &str, format: Format) -> Response {
    let (generated, problems) = generate(query);
    let Some(g) = generated else {
        let list = |severity: Severity| -> Vec<serde_json::Value> {
            problems
                .iter()
                .filter(|p| p.severity == severity)
                .map(|p| serde_json::json!({ "field": p.field, "message": p.message }))
                .collect()
        };
        let body = serde_json::json!({
            "errors": list(Severity::Error),
            "warnings": list(Severity::Warning),
        });
        return Response::json(400, body.to_string());
    };
    match format {
        Format::Butane => Response::new(200, "application/yaml; charset=utf-8", g.butane_yaml),
        Format::Ignition => Response::json(200, g.ignition_json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef";

    fn done(d: Dispatch) -> Response {
        match d {
            Dispatch::Done(r) => r,
            other => panic!("not answered: {other:?}"),
        }
    }

    #[test]
    fn service_paths_are_answered_here() {
        let s = Settings::default();
        assert_eq!(
            done(dispatch(Method::parse("GET"), "/health", None, &s)).body,
            "OK"
        );
        assert!(
            done(dispatch(Method::parse("GET"), "/robots.txt", None, &s))
                .body
                .contains("Disallow: /")
        );
        assert!(done(dispatch(Method::parse("HEAD"), "/", None, &s))
            .body
            .contains("/new?size=3"));
        assert_eq!(
            done(dispatch(Method::parse("OPTIONS"), "/anything", None, &s)).status,
            204
        );
        assert_eq!(
            done(dispatch(Method::parse("GET"), "/nope", None, &s)).status,
            404
        );
    }

    #[test]
    fn minting_reads_the_size_and_refuses_a_head() {
        let s = Settings::default();
        assert_eq!(
            dispatch(Method::parse("GET"), "/new", None, &s),
            Dispatch::Mint(3)
        );
        assert_eq!(
            dispatch(Method::parse("GET"), "/new", Some("size=5"), &s),
            Dispatch::Mint(5)
        );
        let r = done(dispatch(Method::parse("GET"), "/new", Some("size=%zz"), &s));
        assert_eq!(r.status, 400);
        assert!(
            r.body.contains("\"%zz\" is not a whole number"),
            "{}",
            r.body
        );
        let r = done(dispatch(Method::parse("GET"), "/new", Some("size=10"), &s));
        assert!(r.body.contains("too large"), "{}", r.body);
        assert_eq!(
            done(dispatch(Method::parse("HEAD"), "/new", None, &s)).status,
            405
        );
        let r = done(dispatch(Method::parse("POST"), "/new", None, &s));
        assert_eq!(r.header("Allow"), Some("GET, HEAD, OPTIONS"));
    }

    #[test]
    fn keys_requests_go_to_their_token_with_a_keys_method() {
        let s = Settings::default();
        let t = Token::from_segment(HEX).unwrap();
        let path = format!("/{HEX}/m1");
        for m in ["GET", "HEAD", "PUT", "DELETE"] {
            assert_eq!(
                dispatch(Method::parse(m), &path, None, &s),
                Dispatch::Keys {
                    token: t,
                    key: "/m1"
                }
            );
        }
        let r = done(dispatch(Method::parse("POST"), &path, None, &s));
        assert_eq!((r.status, r.header("Allow").is_some()), (405, true));
        assert_eq!(
            dispatch(Method::parse("GET"), &format!("/ledger/{HEX}"), None, &s),
            Dispatch::Ledger(t)
        );
    }

    #[test]
    fn relay_reads_are_checked_before_any_upstream_request() {
        let s = Settings::default();
        let url = format!("https%3A%2F%2Fdiscovery.etcd.io%2F{HEX}");
        let Dispatch::Relay(u) = dispatch(
            Method::parse("GET"),
            "/relay",
            Some(&format!("url={url}")),
            &s,
        ) else {
            panic!("not relayed")
        };
        assert_eq!(u.to_string(), format!("https://discovery.etcd.io/{HEX}"));
        let r = done(dispatch(Method::parse("GET"), "/relay", None, &s));
        assert!(
            (r.status, r.body.contains("/relay?url=")) == (400, true),
            "{}",
            r.body
        );
        let r = done(dispatch(
            Method::Get,
            "/relay",
            Some("url=https://example.com/x"),
            &s,
        ));
        assert_eq!(r.status, 403);
        for method in ["HEAD", "POST", "PUT", "DELETE"] {
            let r = done(dispatch(
                Method::parse(method),
                "/relay",
                Some(&format!("url={url}")),
                &s,
            ));
            assert_eq!(r.status, 405, "{method}");
        }
    }

    #[test]
    fn storage_hooks_are_there_only_when_switched_on() {
        let t = Token::from_segment(HEX).unwrap();
        let path = format!("/_test/storage/{HEX}");
        let off = Settings::default();
        assert_eq!(done(dispatch(Method::Get, &path, None, &off)).status, 404);
        let on = Settings {
            test_storage_hooks: true,
            ..Settings::default()
        };
        assert_eq!(
            dispatch(Method::Get, &path, None, &on),
            Dispatch::Hook {
                token: t,
                hook: Hook::Stored
            }
        );
        assert_eq!(
            dispatch(
                Method::Post,
                &format!("{path}/lose"),
                Some("key=e%2F1"),
                &on
            ),
            Dispatch::Hook {
                token: t,
                hook: Hook::Lose { key: "e/1".into() }
            }
        );
        assert_eq!(
            done(dispatch(Method::Post, &format!("{path}/lose"), None, &on)).status,
            400
        );
    }

    #[test]
    fn config_texts_or_their_mistakes() {
        let s = Settings::default();
        let q = "bootstrap=static&member=a%3D10.0.0.1&cluster_token=t";
        let r = done(dispatch(Method::parse("GET"), "/butane", Some(q), &s));
        assert_eq!(r.status, 200);
        assert!(r.header("Content-Type").unwrap().contains("yaml"));
        let r = done(dispatch(
            Method::parse("GET"),
            "/ignition",
            Some("platform=mars"),
            &s,
        ));
        assert_eq!(r.status, 400);
        assert!(r.body.contains("\"field\":\"platform\""), "{}", r.body);
    }
}
