//! Minting (`/new?size=N`): the size asked for, the token tried with the shell's random bytes
//! until one is free, the origin the minted URL is written under, and what the answers say. The
//! shell supplies randomness, the client's address, the request's Host and storage.

pub mod size;

use crate::http::Response;
use crate::token::TOKEN_BYTES;
use crate::{Limits, Settings, Token};

/// Random tokens tried before minting gives up. 128 random bits do not collide; the retry only
/// keeps minting total.
pub const ATTEMPTS: usize = 3;

/// One `/new`: each attempt takes a token made of the shell's random bytes; the shell stores it
/// and says whether it was free.
#[derive(Debug, Default)]
pub struct Minting {
    tried: usize,
}

impl Minting {
    /// The token to try next, from `random`.
    pub fn token(&mut self, random: [u8; TOKEN_BYTES]) -> Token {
        self.tried = self.tried.saturating_add(1);
        Token::from_random(random)
    }

    /// The token tried was taken: `None` to try another, or the answer that gives up.
    pub fn taken(&self) -> Option<Response> {
        (self.tried >= ATTEMPTS).then(no_free_token)
    }
}

/// The origin a request came to, for minted URLs when `PUBLIC_URL` is not set: `scheme` and
/// the request's `Host`, if that is a plain host name or address (`name`, `name:port`,
/// `[v6]:port`). Anything else is never written into a URL: `fallback` (this server's own
/// address) is used instead.
pub fn origin(scheme: &str, host: Option<&str>, fallback: &str) -> String {
    let plain = |h: &&str| {
        !h.is_empty()
            && h.len() <= 255
            && !h.starts_with(':')
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    };
    match host.filter(plain) {
        Some(h) => format!("{scheme}://{h}"),
        None => format!("{scheme}://{fallback}"),
    }
}

/// A client over its limit, with when to try again.
pub fn refused(client: &str, limits: &Limits, retry_after: u64) -> Response {
    Response::too_many(
        &format!(
            "too many tokens minted from {client}: at most {} a minute; try again in {retry_after} s",
            limits.mints_per_minute
        ),
        retry_after,
    )
}

/// The minted token's discovery URL, under `PUBLIC_URL` or else `origin`. No trailing newline:
/// `curl -w "\n"` adds it, as every guide shows.
pub fn minted(settings: &Settings, origin: &str, token: Token) -> Response {
    Response::text(200, format!("{}/{token}", settings.origin(origin)))
}

/// Every attempt found its token taken.
pub fn no_free_token() -> Response {
    Response::unavailable("could not find a free token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minting_tries_fresh_tokens_then_gives_up() {
        let mut m = Minting::default();
        let t = m.token([0x11; TOKEN_BYTES]);
        assert_eq!(t.to_string(), "11".repeat(16));
        assert_eq!(m.taken(), None, "try another");
        m.token([0x22; TOKEN_BYTES]);
        assert_eq!(m.taken(), None);
        m.token([0x33; TOKEN_BYTES]);
        assert_eq!(
            m.taken().map(|r| r.status),
            Some(503),
            "three taken: give up"
        );
    }

    #[test]
    fn only_a_plain_host_becomes_a_minted_urls_origin() {
        let o = |host| origin("http", host, "127.0.0.1:8787");
        assert_eq!(
            o(Some("discovery.example.com")),
            "http://discovery.example.com"
        );
        assert_eq!(o(Some("10.0.0.1:8787")), "http://10.0.0.1:8787");
        assert_eq!(o(Some("[::1]:8787")), "http://[::1]:8787");
        for bad in [
            "",
            ":80",
            "evil.example/path",
            "a b",
            "x\"><script>",
            "user@host",
            "host?q",
            "h%41st",
        ] {
            assert_eq!(o(Some(bad)), "http://127.0.0.1:8787", "{bad:?}");
        }
        assert_eq!(o(None), "http://127.0.0.1:8787");
        assert_eq!(o(Some(&"a".repeat(300))), "http://127.0.0.1:8787");
    }

    #[test]
    fn answers_say_what_happened() {
        let t = Token::from_segment("0123456789abcdef0123456789abcdef").unwrap();
        let ok = minted(&Settings::default(), "https://d.example", t);
        assert_eq!(
            (ok.status, ok.body.as_str()),
            (200, "https://d.example/0123456789abcdef0123456789abcdef")
        );
        let public = Settings {
            public_url: Some("https://p.example/etcd".into()),
            ..Settings::default()
        };
        assert_eq!(
            minted(&public, "http://ignored", t).body,
            "https://p.example/etcd/0123456789abcdef0123456789abcdef"
        );
        let no = refused("10.0.0.1", &Limits::default(), 12);
        assert_eq!((no.status, no.header("Retry-After")), (429, Some("12")));
        assert!(no.body.contains("at most 60 a minute"), "{}", no.body);
        assert_eq!(no_free_token().status, 503);
    }
}
