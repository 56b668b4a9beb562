//! The Worker under `wrangler dev --local`: real workerd, real KV and Durable Objects, with
//! state persisted in a directory so that a restart keeps it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::Group;

pub struct Wrangler {
    pub port: u16,
    pub persist: PathBuf,
    vars: Vec<(String, String)>,
    group: Option<Group>,
    starts: u32,
}

/// The repository root (where wrangler.toml is).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

impl Wrangler {
    /// Starts `wrangler dev` on 127.0.0.1:`port` with state under `persist` and extra `[vars]`.
    pub fn start(port: u16, persist: &Path, vars: &[(&str, &str)]) -> Wrangler {
        let shim = root().join("worker/build/worker/shim.mjs");
        assert!(
            shim.exists(),
            "{} is missing: build the Worker first (make build)",
            shim.display()
        );
        let mut w = Wrangler {
            port,
            persist: persist.to_path_buf(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            group: None,
            starts: 0,
        };
        w.launch();
        w
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn launch(&mut self) {
        self.starts += 1;
        let mut cmd = Command::new(root().join("node_modules/.bin/wrangler"));
        cmd.args(["dev", "--local", "--ip", "127.0.0.1"])
            .arg("--show-interactive-dev-session=false")
            .current_dir(root())
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--persist-to")
            .arg(&self.persist)
            // Request logs by default; `warn` for load (millions of lines exhaust node's memory).
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
        let log = self
            .persist
            .with_extension(format!("wrangler-{}.log", self.starts));
        let mut group = Group::spawn(cmd, &log, "wrangler dev");
        group.wait_until_serving(&format!("{}/health", self.base()), Duration::from_secs(90));
        self.group = Some(group);
    }

    /// Stops it gracefully (its state stays on disk).
    pub fn stop(&mut self) {
        if let Some(mut g) = self.group.take() {
            g.stop();
        }
    }

    /// SIGKILLs wrangler and workerd at once, as a crash would.
    pub fn kill(&mut self) {
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
        let r = crate::http::get(&format!("{}/new?size={size}", self.base()));
        assert_eq!(r.status, 200, "minting: {r:?}");
        r.body
    }
}

impl Drop for Wrangler {
    fn drop(&mut self) {
        self.stop();
    }
}
