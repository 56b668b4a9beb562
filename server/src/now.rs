//! The wall clock the core is fed: Unix milliseconds, as etcd's expirations and the Worker's
//! `Date.now()` count.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
