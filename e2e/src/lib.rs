//! The harness of the end-to-end tests: the real Worker under `wrangler dev`, real etcd members,
//! plain HTTP. Every process started here is stopped by its process group when dropped.
//!
//! The tests run only with `RENDEZVOUS_E2E=1` (as `make test` sets, after building the Worker);
//! plain `cargo test` lists them as ignored.

pub mod etcd;
pub mod http;
pub mod process;
pub mod sim;
pub mod storage;
pub mod wrangler;

use std::time::{Duration, Instant};

/// Whether the end-to-end tests are asked for.
pub fn enabled() -> bool {
    std::env::var("RENDEZVOUS_E2E").is_ok_and(|v| v == "1")
}

/// Polls `check` until it gives `Some`, or fails with `what` after `limit`.
pub fn eventually<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        if start.elapsed() > limit {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A fresh scratch directory (under `$TMPDIR/rendezvous-e2e`), emptied first.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("rendezvous-e2e").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs `trials` with libtest-mimic, one at a time (they share ports and a Worker); without
/// `RENDEZVOUS_E2E=1` they are listed as ignored.
pub fn run(trials: Vec<libtest_mimic::Trial>) -> libtest_mimic::Conclusion {
    let mut args = libtest_mimic::Arguments::from_args();
    args.test_threads = Some(1);
    let on = enabled();
    let trials = trials
        .into_iter()
        .map(|t| t.with_ignored_flag(!on))
        .collect();
    libtest_mimic::run(&args, trials)
}
