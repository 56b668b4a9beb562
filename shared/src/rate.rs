//! Per-client limits (`MINTS_PER_MINUTE`, `RELAYS_PER_MINUTE`): a sliding window of at most
//! `limit` hits in any `period`, one per client address, and who a request counts as. Pure; the
//! shell supplies the time and the address.

use std::collections::{HashMap, VecDeque};

/// The window the per-minute limits are counted in.
pub const MINUTE_MS: u64 = 60_000;

/// One client's window of `per_minute` requests (mints, or relayed reads).
pub fn per_minute(per_minute: u64) -> Window {
    Window::new(usize::try_from(per_minute).unwrap_or(usize::MAX), MINUTE_MS)
}

/// The client named by a header a trusted proxy sets (`X-Forwarded-For`, `X-Real-IP`, ...):
/// its last entry, the one the nearest proxy added; entries before it are the client's to forge.
pub fn client_from_header(value: &str) -> Option<String> {
    let last = value.rsplit(',').next()?.trim();
    (!last.is_empty()).then(|| last.to_string())
}

/// Every client's window, for a shell that counts all clients in one place (the native server;
/// the Worker keeps one window per client in its own Durable Object).
#[derive(Debug)]
pub struct Limiter {
    per_minute: u64,
    windows: HashMap<String, Window>,
    pruned_at: u64,
}

impl Limiter {
    /// Lets each client through `per_minute` times a minute.
    pub fn new(per_minute: u64) -> Limiter {
        Limiter {
            per_minute,
            windows: HashMap::new(),
            pruned_at: 0,
        }
    }

    /// Counts one request by `client` at `now`, or refuses it with the seconds to wait.
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
                let mut w = per_minute(self.per_minute);
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

#[derive(Debug, Clone)]
pub struct Window {
    limit: usize,
    period_ms: u64,
    hits: VecDeque<u64>,
}

impl Window {
    pub fn new(limit: usize, period_ms: u64) -> Window {
        Window {
            limit,
            period_ms,
            hits: VecDeque::new(),
        }
    }

    /// Counts a hit at `now`, or refuses it with the whole seconds until one would be allowed.
    pub fn hit(&mut self, now: u64) -> Result<(), u64> {
        while self
            .hits
            .front()
            .is_some_and(|&t| t.saturating_add(self.period_ms) <= now)
        {
            self.hits.pop_front();
        }
        if self.hits.len() < self.limit {
            self.hits.push_back(now);
            return Ok(());
        }
        let oldest = self.hits.front().copied().unwrap_or(now);
        let free_at = oldest.saturating_add(self.period_ms);
        Err(free_at.saturating_sub(now).div_ceil(1000).max(1))
    }

    /// Whether every hit has left the window by `now`: the window may be forgotten.
    pub fn is_empty_at(&self, now: u64) -> bool {
        self.hits
            .back()
            .is_none_or(|&t| t.saturating_add(self.period_ms) <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_says_when_to_retry() {
        let mut w = Window::new(3, 60_000);
        assert_eq!(w.hit(0), Ok(()));
        assert_eq!(w.hit(10_000), Ok(()));
        assert_eq!(w.hit(20_000), Ok(()));
        assert_eq!(w.hit(30_000), Err(30));
        assert_eq!(w.hit(59_999), Err(1));
        assert_eq!(w.hit(60_000), Ok(()), "the first hit left the window");
        assert_eq!(w.hit(60_001), Err(10));
    }

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
    fn the_limiter_counts_each_client_apart_and_forgets_quiet_ones() {
        let mut g = Limiter::new(2);
        assert_eq!(g.hit("a", 0), Ok(()));
        assert_eq!(g.hit("a", 1_000), Ok(()));
        assert_eq!(g.hit("a", 2_000), Err(58));
        assert_eq!(g.hit("b", 2_000), Ok(()), "another client");
        assert_eq!(g.clients(), 2);
        assert_eq!(g.hit("c", 70_000), Ok(()));
        assert_eq!(g.clients(), 1, "a and b were quiet for a minute");
        assert_eq!(g.hit("a", 70_001), Ok(()));
    }

    #[test]
    fn refused_hits_do_not_count() {
        let mut w = Window::new(1, 1_000);
        assert_eq!(w.hit(0), Ok(()));
        for t in 1..100 {
            assert!(w.hit(t).is_err());
        }
        assert_eq!(w.hit(1_000), Ok(()));
    }
}
