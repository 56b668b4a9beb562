//! The services compared, all on loopback: static bootstrapping (no service), the classic stack
//! (Debian's etcd-discovery in front of an etcd 3.4 with --enable-v2), that etcd used directly as
//! a v2 discovery backend, and this project's Worker under wrangler: once as `wrangler dev` runs
//! it, once without wrangler's devtools inspector, whose session costs the runtime's own time.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rendezvous_e2e::http::{get, put};
use rendezvous_e2e::process::Group;
use rendezvous_e2e::wrangler::Wrangler;

pub const BACKEND: &str = "http://127.0.0.1:29379";
pub const CLASSIC: &str = "http://127.0.0.1:29087";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Static,
    Classic,
    RawEtcd,
    /// Under `wrangler dev`, as `make dev` serves it.
    Rendezvous,
    /// The same runtime with wrangler's devtools inspector off (`scripts/serve.mjs`).
    RendezvousQuiet,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Static => "static --initial-cluster",
            Kind::Classic => "classic stack (etcd-discovery + etcd v2)",
            Kind::RawEtcd => "raw etcd v2 backend",
            Kind::Rendezvous => "rendezvous under wrangler dev (make dev)",
            Kind::RendezvousQuiet => "rendezvous, wrangler's devtools off",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Kind::Static => "static",
            Kind::Classic => "classic",
            Kind::RawEtcd => "raw_etcd",
            Kind::Rendezvous => "rendezvous",
            Kind::RendezvousQuiet => "rendezvous_quiet",
        }
    }
}

/// The running references; dropping stops them.
pub struct Services {
    pub worker: Wrangler,
    pub quiet: Wrangler,
    _backend: Group,
    _classic: Group,
    minted: std::cell::Cell<u64>,
}

impl Services {
    pub fn start(dir: &Path) -> Services {
        let mut cmd = Command::new("etcd");
        cmd.args(["--name", "backend", "--enable-v2", "--data-dir"])
            .arg(dir.join("backend.etcd"))
            .args([
                "--listen-client-urls",
                BACKEND,
                "--advertise-client-urls",
                BACKEND,
            ])
            .args(["--listen-peer-urls", "http://127.0.0.1:29380"])
            .args(["--initial-advertise-peer-urls", "http://127.0.0.1:29380"])
            .args(["--initial-cluster", "backend=http://127.0.0.1:29380"]);
        let backend = Group::spawn(cmd, &dir.join("backend.log"), "etcd backend");
        let mut cmd = Command::new("/usr/bin/discovery.etcd.io");
        cmd.args([
            "--etcd",
            BACKEND,
            "--host",
            CLASSIC,
            "--addr",
            "127.0.0.1:29087",
        ]);
        let classic = Group::spawn(cmd, &dir.join("classic.log"), "etcd-discovery");
        let vars = [("MINTS_PER_MINUTE", "100000"), ("MAX_WAITS", "4096")];
        let worker = Wrangler::start(18798, &dir.join("state"), &vars);
        let quiet = Wrangler::start_without_devtools(18799, &dir.join("state-quiet"), &vars);
        rendezvous_e2e::eventually("the classic stack", Duration::from_secs(30), || {
            rendezvous_e2e::http::try_send("GET", &format!("{CLASSIC}/new?size=3"), None, None)
                .ok()
                .filter(|r| r.status == 200)
        });
        Services {
            worker,
            quiet,
            _backend: backend,
            _classic: classic,
            minted: Default::default(),
        }
    }

    /// A fresh discovery URL of `size` on a service.
    pub fn mint(&self, kind: Kind, size: usize) -> String {
        match kind {
            Kind::Rendezvous => self.worker.mint(size as u64),
            Kind::RendezvousQuiet => self.quiet.mint(size as u64),
            Kind::Classic => {
                let r = get(&format!("{CLASSIC}/new?size={size}"));
                assert_eq!(r.status, 200, "{r:?}");
                r.body.trim().to_string()
            }
            Kind::RawEtcd => {
                self.minted.set(self.minted.get() + 1);
                let url = format!(
                    "{BACKEND}/v2/keys/discovery/bench-{}-{}",
                    std::process::id(),
                    self.minted.get()
                );
                let r = put(&format!("{url}/_config/size"), &format!("value={size}"));
                assert!(r.status == 201 || r.status == 200, "{r:?}");
                url
            }
            Kind::Static => String::new(),
        }
    }
}
