//! The service under test in each shell: the Worker under `wrangler dev --local` (real
//! workerd, KV and Durable Objects), the native server (`rendezvous`, built by `make test`), or
//! three native replicas on an etcd cluster behind HAProxy (`crate::ha`). Each runs on
//! 127.0.0.1 with its state in a folder, so that a restart keeps it. Every suite runs its cases
//! once per shell named in `RENDEZVOUS_SHELLS` (a comma list of `worker`, `native` and `ha`;
//! all by default), each shell on ports of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::process::Group;
use crate::root;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shell {
    /// The Cloudflare Worker, under `wrangler dev` (workerd, local KV and Durable Objects).
    Worker,
    /// The native server, `rendezvous`.
    Native,
    /// Three replicas of the native server sharing an etcd cluster, behind HAProxy.
    Ha,
}

impl Shell {
    /// The shells asked for by `RENDEZVOUS_SHELLS`, all when it is not set.
    pub fn chosen() -> Vec<Shell> {
        let wanted = std::env::var("RENDEZVOUS_SHELLS").unwrap_or_default();
        let all = [Shell::Worker, Shell::Native, Shell::Ha];
        if wanted.trim().is_empty() {
            return all.to_vec();
        }
        all.into_iter()
            .filter(|s| wanted.split(',').any(|w| w.trim() == s.name()))
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            Shell::Worker => "worker",
            Shell::Native => "native",
            Shell::Ha => "ha",
        }
    }

    /// Added to every port a test picks, so the two shells never share one.
    pub fn port_offset(self) -> u16 {
        match self {
            Shell::Worker => 0,
            Shell::Native => 1000,
            Shell::Ha => 2000,
        }
    }
}

/// The native server's binary: `RENDEZVOUS_BIN`, or the workspace's debug build.
pub fn native_binary() -> PathBuf {
    std::env::var_os("RENDEZVOUS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/rendezvous"))
}

/// One running service of either shell; dropping it stops it.
pub struct Service {
    shell: Shell,
    port: u16,
    state: PathBuf,
    vars: Vec<(String, String)>,
    group: Option<Group>,
    /// The replicas, their store and HAProxy (`Shell::Ha`).
    ha: Option<crate::ha::Topology>,
    starts: u32,
}

impl Service {
    /// Starts `shell` on 127.0.0.1:`port` (plus the shell's offset) with its state under
    /// `state` and extra `[vars]` settings.
    pub fn start(shell: Shell, port: u16, state: &Path, vars: &[(&str, &str)]) -> Service {
        Service::start_at(shell, port + shell.port_offset(), state, vars)
    }

    /// The same on exactly `port`.
    pub fn start_at(shell: Shell, port: u16, state: &Path, vars: &[(&str, &str)]) -> Service {
        let (needed, how) = match shell {
            Shell::Worker => (
                root().join("worker/build/worker/shim.mjs"),
                "build the Worker first (make build)",
            ),
            Shell::Native | Shell::Ha => (
                native_binary(),
                "build it first (cargo build -p rendezvous)",
            ),
        };
        assert!(needed.exists(), "{} is missing: {how}", needed.display());
        let mut s = Service {
            shell,
            port,
            state: state.to_path_buf(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            group: None,
            ha: None,
            starts: 0,
        };
        s.launch();
        s
    }

    /// The shell's command line. The Worker takes settings as `--var`s; the native server as
    /// environment variables of the same names, as a container or a systemd unit sets them.
    fn command(&self) -> Command {
        let port = self.port.to_string();
        match self.shell {
            Shell::Worker => {
                let mut cmd = Command::new(root().join("node_modules/.bin/wrangler"));
                cmd.args(["dev", "--local", "--ip", "127.0.0.1"])
                    .arg("--show-interactive-dev-session=false")
                    .current_dir(root())
                    .args(["--port", &port])
                    .arg("--persist-to")
                    .arg(&self.state)
                    // Request logs by default; `warn` for load (millions of lines exhaust
                    // node's memory).
                    .arg("--log-level")
                    .arg(std::env::var("RENDEZVOUS_WRANGLER_LOG").unwrap_or_else(|_| "info".into()))
                    .env("WRANGLER_SEND_METRICS", "false")
                    .env("WRANGLER_SEND_ERROR_REPORTS", "false")
                    .env("WRANGLER_HIDE_BANNER", "true")
                    .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
                    .env("NO_COLOR", "1");
                for (k, v) in &self.vars {
                    cmd.arg("--var").arg(format!("{k}:{v}"));
                }
                cmd
            }
            Shell::Native | Shell::Ha => {
                let mut cmd = Command::new(native_binary());
                cmd.arg("--listen")
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("--data-dir")
                    .arg(&self.state)
                    .arg("--assets")
                    .arg(root().join("frontend/dist"))
                    .envs(self.vars.iter().map(|(k, v)| (k, v)));
                cmd
            }
        }
    }

    fn launch(&mut self) {
        self.starts += 1;
        if self.shell == Shell::Ha {
            let topology = self.ha.get_or_insert_with(|| {
                crate::ha::Topology::new(&self.state.with_extension("ha"), self.port, &self.vars)
            });
            topology.start();
            return;
        }
        let log = self
            .state
            .with_extension(format!("{}-{}.log", self.shell.name(), self.starts));
        let mut group = Group::spawn(self.command(), &log, self.shell.name());
        // wrangler takes its time to bundle and start workerd.
        let within = match self.shell {
            Shell::Worker => Duration::from_secs(90),
            Shell::Native | Shell::Ha => Duration::from_secs(30),
        };
        group.wait_until_serving(&format!("{}/health", self.base()), within);
        self.group = Some(group);
    }

    /// The replicas, their store and HAProxy (`Shell::Ha` only).
    pub fn topology(&mut self) -> Option<&mut crate::ha::Topology> {
        self.ha.as_mut()
    }

    pub fn shell(&self) -> Shell {
        self.shell
    }

    /// Where its state lives.
    pub fn state(&self) -> &Path {
        &self.state
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Its process (wrangler's, for the Worker; a replica's, for HA), while it runs.
    pub fn pid(&self) -> Option<u32> {
        match &self.ha {
            Some(t) => t.pid(),
            None => self.group.as_ref().map(Group::pid),
        }
    }

    /// SIGTERM to its process group (its state stays on disk); how it ended. The native server
    /// answers parked waits, stores what is queued and exits 0. For HA: every replica, HAProxy
    /// and the store's etcd, in that order (how the last replica ended).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(t) = &mut self.ha {
            return t.stop();
        }
        self.group.take().map(|mut g| g.stop())
    }

    /// SIGKILL, as a crash would (for HA: every process at once, as a power cut).
    pub fn kill(&mut self) {
        if let Some(t) = &mut self.ha {
            t.kill();
            return;
        }
        if let Some(mut g) = self.group.take() {
            g.kill();
        }
    }

    /// Starts it again on the same port with the same state.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// Mints a token of `size` and returns its discovery URL.
    pub fn mint(&self, size: u64) -> String {
        let r = crate::http::get(&crate::new_url(&self.base(), size));
        assert_eq!(r.status, 200, "minting: {r:?}");
        r.body
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}
