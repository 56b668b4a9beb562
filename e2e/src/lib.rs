//! The harness of the end-to-end tests: the service in both shells (the real Worker under
//! `wrangler dev`, the native server), real etcd members, plain HTTP. Every suite runs each of
//! its cases against every shell (`service::Shell`). Every process started here is stopped by
//! its process group when dropped.
//!
//! The tests run only with `RENDEZVOUS_E2E=1` (as `make test` sets, after building the Worker);
//! plain `cargo test` lists them as ignored.

pub mod etcd;
pub mod explain;
pub mod grpc;
pub mod ha;
pub mod http;
pub mod metrics;
pub mod process;
pub mod service;
pub mod sim;
pub mod sim_v3;
pub mod storage;
pub mod upstream;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use service::{Service, Shell};

/// The repository root (where wrangler.toml is).
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

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

/// Runs `trials` with libtest-mimic, one at a time (they share ports and services); without
/// `RENDEZVOUS_E2E=1` they are listed as ignored.
pub fn run(trials: Vec<libtest_mimic::Trial>) -> libtest_mimic::Conclusion {
    let mut args = libtest_mimic::Arguments::from_args();
    args.test_threads = Some(1);
    let on = enabled();
    let trials = trials
        .into_iter()
        .map(|t| {
            let ignored = t.has_ignored_flag() || !on;
            t.with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials)
}

/// A service a suite's cases share, started only when the tests are on.
pub type Shared = Arc<Mutex<Option<Service>>>;

/// The shared service, even after a case panicked while holding it.
pub fn lock(shared: &Shared) -> MutexGuard<'_, Option<Service>> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared service's base URL (`http://127.0.0.1:<port>`).
pub fn base(w: &Shared) -> String {
    lock(w).as_ref().expect("started").base()
}

/// Mints a token of `size` on the shared service: its discovery URL.
pub fn mint(w: &Shared, size: u64) -> String {
    lock(w).as_ref().expect("started").mint(size)
}

/// The shell the shared service runs in.
pub fn shell(w: &Shared) -> Shell {
    lock(w).as_ref().expect("started").shell()
}

/// A fresh scratch folder for `case` on the shared service's shell.
pub fn scratch_for(w: &Shared, case: &str) -> std::path::PathBuf {
    scratch(&format!("{case}-{}", shell(w).name()))
}

/// `/new?size=N` of the service at `base`.
pub fn new_url(base: &str, size: u64) -> String {
    format!("{base}/new?size={size}")
}

/// One shared service per chosen shell (on `port` plus the shell's offset, state in a scratch
/// folder named `name` and the shell), started if the tests are on.
pub fn per_shell(port: u16, name: &str, vars: &[(&str, &str)]) -> Vec<(Shell, Shared)> {
    Shell::chosen()
        .into_iter()
        .map(|shell| {
            let service = enabled().then(|| {
                let state = scratch(&format!("{name}-{}", shell.name())).join("state");
                Service::start(shell, port, &state, vars)
            });
            (shell, Arc::new(Mutex::new(service)))
        })
        .collect()
}

/// A suite's case: run against one shell's shared service.
pub type Case = fn(&Shared) -> Result<(), libtest_mimic::Failed>;

/// Every case against every shell's service, named `<shell>::<case>`, run one at a time; the
/// services stop afterwards. Ends the process with the suite's outcome.
pub fn run_per_shell(services: &[(Shell, Shared)], cases: &[(&str, Case)]) -> ! {
    let mut trials = Vec::new();
    for (shell, service) in services {
        for (name, case) in cases {
            let (service, case) = (service.clone(), *case);
            trials.push(libtest_mimic::Trial::test(
                format!("{}::{name}", shell.name()),
                move || case(&service),
            ));
        }
    }
    let conclusion = run(trials);
    stop_all(services);
    conclusion.exit()
}

/// A case of a native-only suite: it starts its own server.
pub type NativeCase = fn() -> Result<(), libtest_mimic::Failed>;

/// Runs a suite of what only the native server has, named `native::<case>`; listed as ignored
/// when the native shell is not chosen. Ends the process with the suite's outcome.
pub fn run_native(cases: &[(&str, NativeCase)]) -> ! {
    let on = Shell::chosen().contains(&Shell::Native);
    let trials = cases
        .iter()
        .map(|(name, case)| {
            let case = *case;
            libtest_mimic::Trial::test(format!("native::{name}"), case).with_ignored_flag(!on)
        })
        .collect();
    run(trials).exit()
}

/// Stops every shared service.
pub fn stop_all(services: &[(Shell, Shared)]) {
    for (_, s) in services {
        drop(lock(s).take());
    }
}
