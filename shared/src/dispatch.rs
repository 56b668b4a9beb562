//! The service's one entry: which handler a request goes to, with the method rules and every
//! answer that needs no storage decided here. Both shells call `dispatch` first and then only
//! carry out what it leaves them: minting, the ledger, and keys requests on a token's registry.

use crate::config::{generate, Severity};
use crate::http::{Response, HOME, ROBOTS};
use crate::relay::Upstream;
use crate::route::{route, Route};
use crate::settings::Settings;
use crate::size::parse_size;
use crate::v2::ErrorCode;
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
    /// `/relay?url=...`: read this upstream URL (count the client first).
    Relay(Upstream),
    /// A keys request on one token's registry (`key` is the path below the token); its method
    /// is one the keys API answers.
    Keys { token: Token, key: &'a str },
}

/// Routes a request by its method, its path (still percent-encoded) and its query.
pub fn dispatch<'a>(
    method: &str,
    path: &'a str,
    query: Option<&str>,
    settings: &Settings,
) -> Dispatch<'a> {
    if method == "OPTIONS" {
        return Dispatch::Done(Response::preflight());
    }
    let service = match route(path, &settings.prefix) {
        Route::Keys { token, key } if crate::http::is_keys_method(method) => {
            return Dispatch::Keys { token, key }
        }
        Route::Keys { .. } => return Dispatch::Done(Response::keys_method_not_allowed()),
        Route::NotFound => return Dispatch::Done(Response::not_found(path)),
        service => service,
    };
    if !matches!(method, "GET" | "HEAD") {
        return Dispatch::Done(Response::method_not_allowed("GET, HEAD, OPTIONS"));
    }
    let query = query.unwrap_or("");
    Dispatch::Done(match service {
        Route::Home => Response::text(200, HOME),
        Route::Health => Response::text(200, "OK"),
        Route::Robots => Response::text(200, ROBOTS),
        // Minting changes state, so a HEAD (a prefetcher, a link checker) must not.
        Route::New if method == "HEAD" => Response::method_not_allowed("GET, OPTIONS"),
        Route::New => {
            let raw = crate::form::lossy_value(query, "size");
            return match parse_size(raw.as_deref(), settings.limits.max_size) {
                Ok(size) => Dispatch::Mint(size),
                Err(why) => Dispatch::Done(Response::text(400, why)),
            };
        }
        Route::Ledger(token) => return Dispatch::Ledger(token),
        // Reading has no side effect here, but a HEAD would still spend an upstream request.
        Route::Relay if method == "HEAD" => Response::method_not_allowed("GET, OPTIONS"),
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
        Route::Keys { .. } | Route::NotFound => Response::not_found(path),
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

/// Largest keys request body read; values are capped far below this (`MAX_VALUE_BYTES`).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether a declared `Content-Length` already rules the body out, before reading it.
pub fn declared_too_large(content_length: Option<&str>) -> bool {
    content_length
        .and_then(|l| l.trim().parse::<usize>().ok())
        .is_some_and(|l| l > MAX_BODY_BYTES)
}

/// A keys request's body as text: within `MAX_BODY_BYTES` (413) and UTF-8 (400, code 210).
pub fn body_text(body: Vec<u8>) -> Result<String, Response> {
    if body.len() > MAX_BODY_BYTES {
        return Err(body_too_large());
    }
    String::from_utf8(body).map_err(|_| {
        Response::etcd_error(ErrorCode::InvalidForm, "the request body is not UTF-8", 400)
    })
}

pub fn body_too_large() -> Response {
    Response::etcd_error(
        ErrorCode::InvalidField,
        format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        413,
    )
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
        assert_eq!(done(dispatch("GET", "/health", None, &s)).body, "OK");
        assert!(done(dispatch("GET", "/robots.txt", None, &s))
            .body
            .contains("Disallow: /"));
        assert!(done(dispatch("HEAD", "/", None, &s))
            .body
            .contains("/new?size=3"));
        assert_eq!(done(dispatch("OPTIONS", "/anything", None, &s)).status, 204);
        assert_eq!(done(dispatch("GET", "/nope", None, &s)).status, 404);
    }

    #[test]
    fn minting_reads_the_size_and_refuses_a_head() {
        let s = Settings::default();
        assert_eq!(dispatch("GET", "/new", None, &s), Dispatch::Mint(3));
        assert_eq!(
            dispatch("GET", "/new", Some("size=5"), &s),
            Dispatch::Mint(5)
        );
        let r = done(dispatch("GET", "/new", Some("size=%zz"), &s));
        assert_eq!(r.status, 400);
        assert!(
            r.body.contains("\"%zz\" is not a whole number"),
            "{}",
            r.body
        );
        let r = done(dispatch("GET", "/new", Some("size=10"), &s));
        assert!(r.body.contains("too large"), "{}", r.body);
        assert_eq!(done(dispatch("HEAD", "/new", None, &s)).status, 405);
        let r = done(dispatch("POST", "/new", None, &s));
        assert_eq!(r.header("Allow"), Some("GET, HEAD, OPTIONS"));
    }

    #[test]
    fn keys_requests_go_to_their_token_with_a_keys_method() {
        let s = Settings::default();
        let t = Token::from_segment(HEX).unwrap();
        let path = format!("/{HEX}/m1");
        for m in ["GET", "HEAD", "PUT", "DELETE"] {
            assert_eq!(
                dispatch(m, &path, None, &s),
                Dispatch::Keys {
                    token: t,
                    key: "/m1"
                }
            );
        }
        let r = done(dispatch("POST", &path, None, &s));
        assert_eq!((r.status, r.header("Allow").is_some()), (405, true));
        assert_eq!(
            dispatch("GET", &format!("/ledger/{HEX}"), None, &s),
            Dispatch::Ledger(t)
        );
    }

    #[test]
    fn relay_reads_are_checked_before_any_upstream_request() {
        let s = Settings::default();
        let url = format!("https%3A%2F%2Fdiscovery.etcd.io%2F{HEX}");
        let Dispatch::Relay(u) = dispatch("GET", "/relay", Some(&format!("url={url}")), &s) else {
            panic!("not relayed")
        };
        assert_eq!(u.to_string(), format!("https://discovery.etcd.io/{HEX}"));
        let r = done(dispatch("GET", "/relay", None, &s));
        assert!(
            (r.status, r.body.contains("/relay?url=")) == (400, true),
            "{}",
            r.body
        );
        let r = done(dispatch(
            "GET",
            "/relay",
            Some("url=https://example.com/x"),
            &s,
        ));
        assert_eq!(r.status, 403);
        for method in ["HEAD", "POST", "PUT", "DELETE"] {
            let r = done(dispatch(method, "/relay", Some(&format!("url={url}")), &s));
            assert_eq!(r.status, 405, "{method}");
        }
    }

    #[test]
    fn config_texts_or_their_mistakes() {
        let s = Settings::default();
        let q = "bootstrap=static&member=a%3D10.0.0.1&cluster_token=t";
        let r = done(dispatch("GET", "/butane", Some(q), &s));
        assert_eq!(r.status, 200);
        assert!(r.header("Content-Type").unwrap().contains("yaml"));
        let r = done(dispatch("GET", "/ignition", Some("platform=mars"), &s));
        assert_eq!(r.status, 400);
        assert!(r.body.contains("\"field\":\"platform\""), "{}", r.body);
    }

    #[test]
    fn bodies_must_be_small_utf8_text() {
        assert!(declared_too_large(Some("70000")));
        assert!(!declared_too_large(Some(" 10 ")));
        assert!(!declared_too_large(Some("-1")));
        assert_eq!(body_text(b"value=x".to_vec()), Ok("value=x".to_string()));
        assert_eq!(
            body_text(vec![b'a'; MAX_BODY_BYTES + 1])
                .unwrap_err()
                .status,
            413
        );
        let r = body_text(vec![0xff, 0xfe]).unwrap_err();
        assert_eq!((r.status, r.body.contains("210")), (400, true));
    }
}
