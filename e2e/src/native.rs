//! The native server (`rendezvous`, built by `make test`) on 127.0.0.1, its state in a folder so
//! that a restart keeps it. Settings go in as environment variables of their `[vars]` names,
//! which is how a container or a systemd unit would set them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::Group;
use crate::wrangler::root;

pub struct Native {
    pub port: u16,
    pub state: PathBuf,
    vars: Vec<(String, String)>,
    group: Option<Group>,
    starts: u32,
}

/// The binary: `RENDEZVOUS_BIN`, or the workspace's debug build.
pub fn binary() -> PathBuf {
    std::env::var_os("RENDEZVOUS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/debug/rendezvous"))
}

impl Native {
    /// Starts the server on 127.0.0.1:`port` with its store under `state` and extra settings.
    pub fn start(port: u16, state: &Path, vars: &[(&str, &str)]) -> Native {
        let bin = binary();
        assert!(
            bin.exists(),
            "{} is missing: build it first (cargo build -p rendezvous)",
            bin.display()
        );
        let mut n = Native {
            port,
            state: state.to_path_buf(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            group: None,
            starts: 0,
        };
        n.launch();
        n
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        self.starts += 1;
        let mut cmd = Command::new(binary());
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(&self.state)
            .arg("--assets")
            .arg(root().join("frontend/dist"));
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        let log = self
            .state
            .with_extension(format!("native-{}.log", self.starts));
        let mut group = Group::spawn(cmd, &log, "rendezvous");
        group.wait_until_serving(&format!("{}/health", self.base()), Duration::from_secs(30));
        self.group = Some(group);
    }

    /// SIGTERM (the server answers parked waits, stores what is queued and exits 0); returns
    /// its exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        self.group.take().map(|mut g| g.stop())
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut g) = self.group.take() {
            g.kill();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.group.as_ref().map(|g| g.pid())
    }

    /// What the server wrote to its log so far.
    pub fn log(&self) -> String {
        self.group
            .as_ref()
            .map(|g| g.log_text())
            .unwrap_or_default()
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        self.stop();
    }
}
