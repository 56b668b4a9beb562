//! A sliding-window limit: at most `limit` hits in any `period`. Pure; the shell keeps one per
//! client address and supplies the time.

use std::collections::VecDeque;

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
            .is_some_and(|&t| t + self.period_ms <= now)
        {
            self.hits.pop_front();
        }
        if self.hits.len() < self.limit {
            self.hits.push_back(now);
            return Ok(());
        }
        let oldest = self.hits.front().copied().unwrap_or(now);
        Err((oldest + self.period_ms - now).div_ceil(1000).max(1))
    }

    /// Whether every hit has left the window by `now`: the window may be forgotten.
    pub fn is_empty_at(&self, now: u64) -> bool {
        self.hits.back().is_none_or(|&t| t + self.period_ms <= now)
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
    fn refused_hits_do_not_count() {
        let mut w = Window::new(1, 1_000);
        assert_eq!(w.hit(0), Ok(()));
        for t in 1..100 {
            assert!(w.hit(t).is_err());
        }
        assert_eq!(w.hit(1_000), Ok(()));
    }
}
