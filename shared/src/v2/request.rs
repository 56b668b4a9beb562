//! A keys request read from method, query string and form body, with etcd's checks and errors.

use super::{ErrorCode, EtcdError};
use crate::form::Form;
use crate::http::{Method, KEY_METHODS};
use crate::registry::{Delete, Key, Put};

/// One request on a token's keys. `key` is the path below the token (`""`, `/<member>`,
/// `/_config/size`), checked by the registry, which knows what may live there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeysRequest {
    pub key: String,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Get {
        recursive: bool,
        sorted: bool,
        /// `Some(index)` for `wait=true`; `0` means "after the current index".
        wait: Option<u64>,
    },
    Put(Put),
    Delete(Delete),
}

/// A keys request as a shell receives it, before etcd's rules read it: the method, the path
/// below the token (`""`, `/<member>`, `/_config/size`), the query, and a PUT's content type
/// and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRequest<'a> {
    pub method: Method,
    pub key: &'a str,
    pub query: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a str,
}

impl Default for RawRequest<'_> {
    fn default() -> Self {
        RawRequest {
            method: Method::Get,
            key: "",
            query: "",
            content_type: None,
            body: "",
        }
    }
}

impl RawRequest<'_> {
    /// Reads it with etcd's rules; `index` goes into errors.
    pub fn parse(&self, index: u64) -> Result<KeysRequest, EtcdError> {
        KeysRequest::parse(
            self.method,
            self.key,
            self.query,
            self.content_type,
            self.body,
            index,
        )
    }

    /// Whether its answer shows the registry as it stands when the request comes (a member's
    /// value, a listing, a wait for the next change), rather than a change, events stored
    /// already, or the size (written once, at the mint). With replicas, only such an answer
    /// needs the token read fresh from the store.
    pub fn reads_current(&self) -> bool {
        let current = matches!(
            self.parse(0),
            Ok(KeysRequest {
                op: Op::Get {
                    wait: None | Some(0),
                    ..
                },
                ..
            })
        );
        current && Key::parse(self.key) != Ok(Key::Size)
    }
}

impl KeysRequest {
    /// Reads a request. `body` is only read as a form when `content_type` says it is one, as Go's
    /// `ParseForm` does; its values take precedence over the query's. The index goes into errors.
    pub fn parse(
        method: Method,
        key: &str,
        query: &str,
        content_type: Option<&str>,
        body: &str,
        index: u64,
    ) -> Result<KeysRequest, EtcdError> {
        let invalid_form = |e: crate::form::FormError| {
            EtcdError::new(ErrorCode::InvalidForm, e.to_string(), index)
        };
        let query = Form::parse(query).map_err(invalid_form)?;
        let is_form = content_type
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| {
                c.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let form = if is_form && method.has_body() {
            Form::parse(body).map_err(invalid_form)?.then(query)
        } else {
            query
        };
        let field = |cause: String| EtcdError::new(ErrorCode::InvalidField, cause, index);
        let flag = |name: &str| -> Result<bool, EtcdError> {
            match form.get(name) {
                None => Ok(false),
                Some(v) => go_bool(v).ok_or_else(|| field(format!("invalid value for {name:?}"))),
            }
        };
        let number = |name: &str, code: ErrorCode| -> Result<u64, EtcdError> {
            match form.get(name) {
                None => Ok(0),
                Some(v) => v.parse::<u64>().map_err(|_| {
                    EtcdError::new(code, format!("invalid value for {name:?}"), index)
                }),
            }
        };

        let recursive = flag("recursive")?;
        let sorted = flag("sorted")?;
        let wait = flag("wait")?;
        let dir = flag("dir")?;
        flag("quorum")?;
        let stream = flag("stream")?;
        let wait_index = number("waitIndex", ErrorCode::IndexNan)?;
        let prev_index = number("prevIndex", ErrorCode::IndexNan)?;
        if wait && !method.is_read() {
            return Err(field("\"wait\" can only be used with GET requests".into()));
        }
        if stream {
            return Err(field(
                "\"stream\" is not supported here: wait for one event at a time".into(),
            ));
        }
        let prev_value = form.get("prevValue").map(str::to_string);
        if prev_value.as_deref() == Some("") {
            return Err(EtcdError::new(
                ErrorCode::PrevValueRequired,
                "\"prevValue\" cannot be empty",
                index,
            ));
        }
        let ttl = match form.get("ttl") {
            None | Some("") => None,
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                EtcdError::new(ErrorCode::TtlNan, "invalid value for \"ttl\"", index)
            })?),
        };
        let prev_exist = match form.get("prevExist") {
            None => None,
            Some(v) => Some(go_bool(v).ok_or_else(|| field("invalid value for prevExist".into()))?),
        };
        if form.has("refresh") {
            return Err(field("\"refresh\" is not supported here".into()));
        }
        if dir {
            return Err(field(
                "directories cannot be made under a token: only member keys live there".into(),
            ));
        }

        let op = match method {
            Method::Get | Method::Head => Op::Get {
                recursive,
                sorted,
                wait: wait.then_some(wait_index),
            },
            Method::Put => Op::Put(Put {
                value: form.get("value").unwrap_or("").to_string(),
                prev_exist,
                prev_value,
                prev_index,
                ttl,
            }),
            Method::Delete => Op::Delete(Delete {
                prev_value,
                prev_index,
            }),
            other => {
                return Err(field(format!(
                    "method {} is not allowed on keys: use {KEY_METHODS}",
                    other.as_str()
                )))
            }
        };
        Ok(KeysRequest {
            key: key.to_string(),
            op,
        })
    }
}

/// Go's `strconv.ParseBool`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    fn parse(method: &str, query: &str, body: &str) -> Result<Op, EtcdError> {
        KeysRequest::parse(Method::parse(method), "/k", query, FORM, body, 9).map(|r| r.op)
    }

    #[test]
    fn reads_the_requests_etcd_members_send() {
        assert_eq!(
            parse("GET", "quorum=false&recursive=false&sorted=false", ""),
            Ok(Op::Get {
                recursive: false,
                sorted: false,
                wait: None
            })
        );
        assert_eq!(
            parse("GET", "recursive=true&wait=true&waitIndex=12", ""),
            Ok(Op::Get {
                recursive: true,
                sorted: false,
                wait: Some(12)
            })
        );
        assert_eq!(
            parse(
                "PUT",
                "prevExist=false",
                "value=m1%3Dhttp%3A%2F%2F127.0.0.1%3A2380"
            ),
            Ok(Op::Put(Put {
                value: "m1=http://127.0.0.1:2380".into(),
                prev_exist: Some(false),
                prev_value: None,
                prev_index: 0,
                ttl: None
            }))
        );
        assert_eq!(
            parse("DELETE", "prevIndex=4", ""),
            Ok(Op::Delete(Delete {
                prev_value: None,
                prev_index: 4
            }))
        );
    }

    #[test]
    fn body_wins_over_query_and_other_bodies_are_ignored() {
        let op = parse("PUT", "value=q&ttl=5", "value=b").unwrap();
        assert!(matches!(op, Op::Put(Put { ref value, ttl: Some(5), .. }) if value == "b"));
        let op = KeysRequest::parse(
            Method::Put,
            "/k",
            "value=q",
            Some("text/plain"),
            "value=b",
            0,
        )
        .unwrap()
        .op;
        assert!(matches!(op, Op::Put(Put { ref value, .. }) if value == "q"));
        let op = KeysRequest::parse(Method::Put, "/k", "", None, "value=b", 0)
            .unwrap()
            .op;
        assert!(matches!(op, Op::Put(Put { ref value, .. }) if value.is_empty()));
    }

    #[test]
    fn bad_fields_get_etcds_codes() {
        let code = |m: &str, q: &str, b: &str| parse(m, q, b).unwrap_err().code;
        assert_eq!(code("GET", "recursive=yes", ""), ErrorCode::InvalidField);
        assert_eq!(
            code("GET", "wait=true&waitIndex=-1", ""),
            ErrorCode::IndexNan
        );
        assert_eq!(
            code("GET", "wait=true&waitIndex=abc", ""),
            ErrorCode::IndexNan
        );
        assert_eq!(code("PUT", "ttl=soon", ""), ErrorCode::TtlNan);
        assert_eq!(code("PUT", "", "ttl=-5"), ErrorCode::TtlNan);
        assert_eq!(code("PUT", "prevExist=maybe", ""), ErrorCode::InvalidField);
        assert_eq!(code("PUT", "prevValue=", ""), ErrorCode::PrevValueRequired);
        assert_eq!(code("PUT", "wait=true", ""), ErrorCode::InvalidField);
        assert_eq!(code("PUT", "dir=true", ""), ErrorCode::InvalidField);
        assert_eq!(
            code("GET", "wait=true&stream=true", ""),
            ErrorCode::InvalidField
        );
        assert_eq!(code("POST", "", "value=x"), ErrorCode::InvalidField);
        assert_eq!(code("PUT", "", "value=%zz"), ErrorCode::InvalidForm);
        assert_eq!(code("GET", "a=%ff", ""), ErrorCode::InvalidForm);
        let e = parse("GET", "recursive=yes", "").unwrap_err();
        assert_eq!(
            (e.index, e.cause.as_str()),
            (9, "invalid value for \"recursive\"")
        );
    }

    #[test]
    fn empty_ttl_means_none_and_go_bools_are_accepted() {
        assert!(matches!(
            parse("PUT", "ttl=", "").unwrap(),
            Op::Put(Put { ttl: None, .. })
        ));
        for (t, expected) in [
            ("1", true),
            ("T", true),
            ("True", true),
            ("0", false),
            ("F", false),
        ] {
            let op = parse("GET", &format!("recursive={t}"), "").unwrap();
            assert_eq!(
                op,
                Op::Get {
                    recursive: expected,
                    sorted: false,
                    wait: None
                }
            );
        }
        assert_eq!(
            parse("GET", "wait=true", ""),
            Ok(Op::Get {
                recursive: false,
                sorted: false,
                wait: Some(0)
            })
        );
    }

    #[test]
    fn only_values_listings_and_waits_for_the_next_change_read_the_current_registry() {
        let raw = |method: &str, query: &'static str| RawRequest {
            method: Method::parse(method),
            key: "",
            query,
            content_type: FORM,
            body: "",
        };
        assert!(raw("GET", "").reads_current());
        assert!(raw("GET", "recursive=true").reads_current());
        assert!(raw("GET", "wait=true").reads_current());
        let size = RawRequest {
            key: "/_config/size",
            ..raw("GET", "")
        };
        assert!(!size.reads_current(), "the size never changes");
        // A wait from an index is answered by events stored already, or by one to come.
        assert!(!raw("GET", "wait=true&waitIndex=4").reads_current());
        assert!(!raw("PUT", "prevExist=false").reads_current());
        assert!(!raw("DELETE", "").reads_current());
        // Its error is about the request, whatever is stored.
        assert!(!raw("GET", "wait=maybe").reads_current());
    }
}
