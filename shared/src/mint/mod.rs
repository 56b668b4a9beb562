//! Minting (`/new?size=N`): how a client is counted against `MINTS_PER_MINUTE`, and what the
//! answers say. The shell supplies randomness, the client's address and storage.

use std::collections::HashMap;

use crate::http::Response;
use crate::rate::Window;
use crate::{Limits, Token};

/// Random tokens tried before minting gives up. 128 random bits do not collide; the retry only
/// keeps minting total.
pub const ATTEMPTS: usize = 3;

/// The window `MINTS_PER_MINUTE` is counted in.
pub const MINUTE_MS: u64 = 60_000;

/// One client's window of `per_minute` requests (mints, or relayed reads).
pub fn window(per_minute: u64) -> Window {
    Window::new(usize::try_from(per_minute).unwrap_or(usize::MAX), MINUTE_MS)
}

/// The client named by a header a trusted proxy sets (`X-Forwarded-For`, `X-Real-IP`, ...):
/// its last entry, the one the nearest proxy added; entries before it are the client's to forge.
pub fn client_from_header(value: &str) -> Option<String> {
    let last = value.rsplit(',').next()?.trim();
    (!last.is_empty()).then(|| last.to_string())
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

/// The minted token's discovery URL, under `origin`. No trailing newline: `curl -w "\n"` adds
/// it, as every guide shows.
pub fn minted(origin: &str, token: Token) -> Response {
    Response::text(200, format!("{origin}/{token}"))
}

/// Every attempt found its token taken.
pub fn no_free_token() -> Response {
    Response::unavailable("could not find a free token")
}

/// Every client's window, for a shell that counts all clients in one place (the native server;
/// the Worker keeps one window per client in its own Durable Object).
#[derive(Debug)]
pub struct Gate {
    per_minute: u64,
    windows: HashMap<String, Window>,
    pruned_at: u64,
}

impl Gate {
    /// A gate letting each client through `per_minute` times a minute.
    pub fn new(per_minute: u64) -> Gate {
        Gate {
            per_minute,
            windows: HashMap::new(),
            pruned_at: 0,
        }
    }

    /// Counts one mint by `client` at `now`, or refuses it with the seconds to wait.
    pub fn hit(&mut self, client: &str, now: u64) -> Result<(), u64> {
        // Clients quiet for a whole window are forgotten, so the map stays as small as the
        // last minute's clients.
        if now.saturating_sub(self.pruned_at) >= MINUTE_MS {
            self.windows.retain(|_, w| !w.is_empty_at(now));
            self.pruned_at = now;
        }
        match self.windows.get_mut(client) {
            Some(w) => w.hit(now),
            None => {
                let mut w = window(self.per_minute);
                let r = w.hit(now);
                self.windows.insert(client.to_string(), w);
                r
            }
        }
    }

    /// Clients remembered now.
    pub fn clients(&self) -> usize {
        self.windows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_forwarded_entry_is_the_client() {
        assert_eq!(
            client_from_header("203.0.113.9, 10.0.0.2").as_deref(),
            Some("10.0.0.2")
        );
        assert_eq!(
            client_from_header(" 2001:db8::1 ").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(client_from_header("a, "), None);
        assert_eq!(client_from_header(""), None);
    }

    #[test]
    fn answers_say_what_happened() {
        let t = Token::from_segment("0123456789abcdef0123456789abcdef").unwrap();
        let ok = minted("https://d.example/etcd", t);
        assert_eq!(
            (ok.status, ok.body.as_str()),
            (
                200,
                "https://d.example/etcd/0123456789abcdef0123456789abcdef"
            )
        );
        let no = refused("10.0.0.1", &Limits::default(), 12);
        assert_eq!((no.status, no.header("Retry-After")), (429, Some("12")));
        assert!(no.body.contains("at most 60 a minute"), "{}", no.body);
        assert_eq!(no_free_token().status, 503);
    }

    #[test]
    fn the_gate_counts_each_client_apart_and_forgets_quiet_ones() {
        let mut g = Gate::new(2);
        assert_eq!(g.hit("a", 0), Ok(()));
        assert_eq!(g.hit("a", 1_000), Ok(()));
        assert_eq!(g.hit("a", 2_000), Err(58));
        assert_eq!(g.hit("b", 2_000), Ok(()), "another client");
        assert_eq!(g.clients(), 2);
        assert_eq!(g.hit("c", 70_000), Ok(()));
        assert_eq!(g.clients(), 1, "a and b were quiet for a minute");
        assert_eq!(g.hit("a", 70_001), Ok(()));
    }
}
