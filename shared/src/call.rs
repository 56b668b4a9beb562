//! What the Worker asks of a token's Durable Object: one typed call, encoded into the request
//! the object's `fetch` receives and decoded there, so both ends read it by the same rules.
//! Keys requests keep their own shape (method, path, query, form body), since the object
//! answers them as they came; the others have their own paths.

use crate::http::Method;
use crate::route::split_url;
use crate::v2::RawRequest;
use crate::Token;

/// The origin every call's URL is written under: it never leaves the Worker.
const ORIGIN: &str = "https://registry";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// A keys request, as the client sent it.
    Keys(Keys),
    /// Mint the token with this size.
    Mint { size: u64 },
    /// `GET /ledger/<token>`.
    Ledger,
    /// The storage hooks of the tests (`TEST_STORAGE_HOOKS`): the keys stored.
    Stored,
    /// Removes one stored entry, as a lost write would, and forgets the token in memory.
    Lose { key: String },
    /// Stores one entry as it is (a lost one put back).
    Restore { key: String, value: String },
}

/// A keys request as the Worker received it; `key` is the path below the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub method: Method,
    pub key: String,
    pub query: String,
    pub content_type: Option<String>,
    pub body: String,
}

impl Keys {
    /// The request as the core reads it.
    pub fn raw(&self) -> RawRequest<'_> {
        RawRequest {
            method: self.method,
            key: &self.key,
            query: &self.query,
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }
}

/// A call as a request: method, URL, content type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub method: Method,
    pub url: String,
    pub content_type: Option<String>,
    pub body: Option<String>,
}

impl Call {
    pub fn encode(&self, token: Token) -> Encoded {
        let at = |path: String| format!("{ORIGIN}/{token}/{path}");
        let plain = |method: Method, url: String| Encoded {
            method,
            url,
            content_type: None,
            body: None,
        };
        match self {
            Call::Keys(k) => {
                let mut url = at(format!("keys{}", k.key));
                if !k.query.is_empty() {
                    url.push('?');
                    url.push_str(&k.query);
                }
                Encoded {
                    method: k.method,
                    url,
                    content_type: k.content_type.clone(),
                    body: k.method.has_body().then(|| k.body.clone()),
                }
            }
            Call::Mint { size } => plain(Method::Post, at(format!("mint?size={size}"))),
            Call::Ledger => plain(Method::Get, at("ledger".into())),
            Call::Stored => plain(Method::Get, at("stored".into())),
            Call::Lose { key } => plain(
                Method::Post,
                at(format!("lose?key={}", crate::form::encode(key))),
            ),
            Call::Restore { key, value } => Encoded {
                method: Method::Post,
                url: at(format!("restore?key={}", crate::form::encode(key))),
                content_type: None,
                body: Some(value.clone()),
            },
        }
    }

    /// Reads a call back from its request: the token it is for, and the call. The error says
    /// what did not read (a request this module did not write).
    pub fn decode(
        method: Method,
        url: &str,
        content_type: Option<String>,
        body: String,
    ) -> Result<(Token, Call), String> {
        let (path, query) = split_url(url);
        let rest = path.strip_prefix('/').ok_or("no path")?;
        let (segment, what) = rest.split_once('/').ok_or("no call after the token")?;
        let token = Token::from_segment(segment).map_err(|e| e.to_string())?;
        let query = query.unwrap_or("");
        let arg = |name: &str| {
            crate::form::lossy_value(query, name).ok_or_else(|| format!("{what} without {name}"))
        };
        let call = match (method, what) {
            (_, keys) if keys == "keys" || keys.starts_with("keys/") => Call::Keys(Keys {
                method,
                key: keys["keys".len()..].to_string(),
                query: query.to_string(),
                content_type,
                body,
            }),
            (Method::Post, "mint") => Call::Mint {
                size: arg("size")?
                    .parse()
                    .map_err(|_| "mint with a size that is not a number")?,
            },
            (Method::Get, "ledger") => Call::Ledger,
            (Method::Get, "stored") => Call::Stored,
            (Method::Post, "lose") => Call::Lose { key: arg("key")? },
            (Method::Post, "restore") => Call::Restore {
                key: arg("key")?,
                value: body,
            },
            _ => return Err(format!("no call {} {what}", method.as_str())),
        };
        Ok((token, call))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(call: Call) {
        let token = Token::from_random([3; 16]);
        let e = call.encode(token);
        let back = Call::decode(
            e.method,
            &e.url,
            e.content_type.clone(),
            e.body.clone().unwrap_or_default(),
        );
        assert_eq!(back, Ok((token, call)), "{e:?}");
    }

    #[test]
    fn every_call_reads_back_as_it_was_written() {
        round_trip(Call::Keys(Keys {
            method: Method::Put,
            key: "/8e9e05c52164694d".into(),
            query: "prevExist=false".into(),
            content_type: Some("application/x-www-form-urlencoded".into()),
            body: "value=m1%3Dhttp%3A%2F%2F10.0.0.1%3A2380".into(),
        }));
        for (key, query) in [
            ("", "recursive=true&wait=true&waitIndex=7"),
            ("/_config/size", ""),
        ] {
            round_trip(Call::Keys(Keys {
                method: Method::Get,
                key: key.into(),
                query: query.into(),
                content_type: None,
                body: String::new(),
            }));
        }
        round_trip(Call::Mint { size: 5 });
        round_trip(Call::Ledger);
        round_trip(Call::Stored);
        round_trip(Call::Lose {
            key: "e/00000000000000000002".into(),
        });
        round_trip(Call::Restore {
            key: "e/00000000000000000002".into(),
            value: "{\"index\":2}".into(),
        });
    }

    #[test]
    fn a_keys_request_keeps_its_shape() {
        let token = Token::from_random([3; 16]);
        let e = Call::Keys(Keys {
            method: Method::Get,
            key: "/a".into(),
            query: "wait=true".into(),
            content_type: None,
            body: "ignored".into(),
        })
        .encode(token);
        assert_eq!(e.url, format!("https://registry/{token}/keys/a?wait=true"));
        assert_eq!((e.method, e.body), (Method::Get, None), "a GET has no body");
    }

    #[test]
    fn requests_it_did_not_write_are_refused() {
        let t = "03030303030303030303030303030303";
        for (method, url) in [
            (Method::Get, "https://registry/".to_string()),
            (Method::Get, format!("https://registry/{t}")),
            (Method::Get, "https://registry/nottoken/ledger".into()),
            (Method::Post, format!("https://registry/{t}/mint")),
            (Method::Post, format!("https://registry/{t}/mint?size=x")),
            (Method::Get, format!("https://registry/{t}/mint?size=3")),
            (Method::Delete, format!("https://registry/{t}/stored")),
            (Method::Get, format!("https://registry/{t}/keysx")),
        ] {
            assert!(
                Call::decode(method, &url, None, String::new()).is_err(),
                "{method:?} {url}"
            );
        }
    }
}
