//! The Worker under plain `workerd serve`, its production runtime, without wrangler's proxy and
//! devtools layers: a config this file writes (the built Worker's modules, `[vars]` as text
//! bindings, Durable Object storage on local disk), and the KV binding forwarded to a small
//! service (`bench/workerd/kv.js`), as plain workerd requires.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rendezvous_e2e::process::Group;
use rendezvous_e2e::root;

pub struct Workerd {
    pub port: u16,
    group: Group,
}

impl Workerd {
    /// Serves the built Worker on 127.0.0.1:`port`, its state under `dir`, with `vars`.
    pub fn start(port: u16, dir: &Path, vars: &[(&str, &str)]) -> Workerd {
        let build = root().join("worker/build");
        std::fs::create_dir_all(dir.join("do")).expect("state dir");
        for file in ["index.js", "index_bg.wasm"] {
            let link = dir.join(file);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(build.join(file), &link).expect("module link");
        }
        std::fs::write(dir.join("kv.js"), include_str!("../workerd/kv.js")).expect("kv.js");
        std::fs::write(dir.join("config.capnp"), config(port, dir, vars)).expect("config");
        let mut cmd = Command::new(root().join("node_modules/.bin/workerd"));
        cmd.current_dir(dir)
            .args(["serve", "config.capnp", "--experimental"]);
        let mut group = Group::spawn(cmd, &dir.join("workerd.log"), "workerd");
        group.wait_until_serving(
            &format!("http://127.0.0.1:{port}/health"),
            Duration::from_secs(60),
        );
        Workerd { port, group }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.group.pid()
    }
}

fn config(port: u16, dir: &Path, vars: &[(&str, &str)]) -> String {
    let bindings: String = vars
        .iter()
        .map(|(k, v)| format!("    (name = \"{k}\", text = \"{v}\"),\n"))
        .collect();
    let compat = "2026-04-01";
    format!(
        r#"# Written by make bench (bench/src/workerd.rs): the Worker under plain workerd.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .rendezvous),
    (name = "ledger", worker = .ledger),
    (name = "disk", disk = (path = "{disk}", writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:{port}", http = (), service = "main")],
);

const rendezvous :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  compatibilityDate = "{compat}",
  bindings = [
    (name = "LEDGER", kvNamespace = "ledger"),
    (name = "REGISTRY", durableObjectNamespace = "TokenRegistry"),
    (name = "RATE_LIMITER", durableObjectNamespace = "RateLimiter"),
{bindings}  ],
  durableObjectNamespaces = [
    (className = "TokenRegistry", uniqueKey = "rendezvous-TokenRegistry", enableSql = true),
    (className = "RateLimiter", uniqueKey = "rendezvous-RateLimiter", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "disk"),
);

const ledger :Workerd.Worker = (
  modules = [(name = "kv.js", esModule = embed "kv.js")],
  compatibilityDate = "{compat}",
  bindings = [(name = "LEDGER", durableObjectNamespace = "Ledger")],
  durableObjectNamespaces = [(className = "Ledger", uniqueKey = "rendezvous-Ledger", enableSql = true)],
  durableObjectStorage = (localDisk = "disk"),
);
"#,
        disk = dir.join("do").display(),
    )
}
