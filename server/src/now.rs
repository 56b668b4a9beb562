//! The wall clock the core is fed: Unix milliseconds, as etcd's expirations and the Worker's
//! `Date.now()` count. A `Clock` is handed to what needs the time, so tests can set it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the time comes from.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The machine's clock.
pub fn system() -> Clock {
    Arc::new(now_ms)
}
