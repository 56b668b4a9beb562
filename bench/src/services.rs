//! The services compared, all on loopback: static bootstrapping (no service), the classic stack
//! (Debian's etcd-discovery in front of an etcd 3.4 with --enable-v2), that etcd used directly as
//! a v2 discovery backend, and this project in both shells: the Worker under `wrangler dev` (as
//! `make dev` serves it) and under plain `workerd serve` (its production runtime), and the
//! native server (as `make serve` runs it).

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rendezvous_e2e::process::Group;
use rendezvous_e2e::service::{Service, Shell};

use crate::load;
use crate::workerd::Workerd;

pub const BACKEND: &str = "http://127.0.0.1:29379";
pub const CLASSIC: &str = "http://127.0.0.1:29087";

/// Settings of this project's services under load: minting and waits are not what is measured.
pub const VARS: [(&str, &str); 2] = [("MINTS_PER_MINUTE", "10000000"), ("MAX_WAITS", "4096")];
/// The native server's gRPC listener (etcd's v3 API), for the v3 load table.
pub const NATIVE_GRPC: &str = "127.0.0.1:18804";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Static,
    Classic,
    RawEtcd,
    /// The Worker under `wrangler dev`, as `make dev` serves it.
    Wrangler,
    /// The Worker under plain `workerd serve`.
    Workerd,
    /// The native server, as `make serve` runs it.
    Native,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Static => "static --initial-cluster",
            Kind::Classic => "classic stack (etcd-discovery + etcd v2)",
            Kind::RawEtcd => "raw etcd v2 backend",
            Kind::Wrangler => "Worker under wrangler dev (make dev)",
            Kind::Workerd => "Worker under plain workerd serve",
            Kind::Native => "native server (make serve)",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Kind::Static => "static",
            Kind::Classic => "classic",
            Kind::RawEtcd => "raw_etcd",
            Kind::Wrangler => "wrangler",
            Kind::Workerd => "workerd",
            Kind::Native => "native",
        }
    }
}

/// The running services; dropping stops them.
pub struct Services {
    pub wrangler: Service,
    pub workerd: Workerd,
    pub native: Service,
    /// The load generator's runtime, for every request the bench makes.
    pub rt: tokio::runtime::Runtime,
    _backend: Group,
    _classic: Group,
    minted: AtomicU64,
}

/// An etcd 3.4 with the v2 API on `client`, its data under `dir`.
pub fn etcd_v2(name: &str, dir: &Path, client: &str, peer: &str) -> Group {
    let mut cmd = Command::new("etcd");
    cmd.args(["--name", name, "--enable-v2", "--data-dir"])
        .arg(dir.join(format!("{name}.etcd")))
        .args([
            "--listen-client-urls",
            client,
            "--advertise-client-urls",
            client,
        ])
        .args([
            "--listen-peer-urls",
            peer,
            "--initial-advertise-peer-urls",
            peer,
        ])
        .arg("--initial-cluster")
        .arg(format!("{name}={peer}"));
    Group::spawn(cmd, &dir.join(format!("{name}.log")), name)
}

impl Services {
    pub fn start(dir: &Path) -> Services {
        let backend = etcd_v2("backend", dir, BACKEND, "http://127.0.0.1:29380");
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
        let wrangler = Service::start_at(Shell::Worker, 18798, &dir.join("wrangler"), &VARS);
        let workerd = Workerd::start(18799, &dir.join("workerd"), &VARS);
        let native_vars = [VARS[0], VARS[1], ("GRPC_LISTEN", NATIVE_GRPC)];
        let native = Service::start_at(Shell::Native, 18800, &dir.join("native"), &native_vars);
        rendezvous_e2e::eventually("the classic stack", Duration::from_secs(30), || {
            rendezvous_e2e::http::try_send("GET", &rendezvous_e2e::new_url(CLASSIC, 3), None, None)
                .ok()
                .filter(|r| r.status == 200)
        });
        Services {
            wrangler,
            workerd,
            native,
            rt: load::runtime(),
            _backend: backend,
            _classic: classic,
            minted: AtomicU64::new(0),
        }
    }

    /// The service's base URL (none for static bootstrapping).
    pub fn base(&self, kind: Kind) -> String {
        match kind {
            Kind::Static => String::new(),
            Kind::Classic => CLASSIC.to_string(),
            Kind::RawEtcd => BACKEND.to_string(),
            Kind::Wrangler => self.wrangler.base(),
            Kind::Workerd => self.workerd.base(),
            Kind::Native => self.native.base(),
        }
    }

    /// A fresh discovery URL of `size` on a service.
    pub fn mint(&self, kind: Kind, size: usize) -> String {
        self.mint_many(kind, 1, size).pop().unwrap_or_default()
    }

    /// `n` fresh discovery URLs of `size`, minted by 16 clients at once.
    pub fn mint_many(&self, kind: Kind, n: usize, size: usize) -> Vec<String> {
        let rt = &self.rt;
        match kind {
            Kind::Static => vec![String::new(); n],
            Kind::RawEtcd => {
                // A raw etcd "token" is a directory with its size key, as the classic stack
                // writes it.
                let first = self.minted.fetch_add(n as u64, Ordering::Relaxed);
                let url = move |i: usize| {
                    format!(
                        "{BACKEND}/v2/keys/discovery/bench-{}-{}",
                        std::process::id(),
                        first + i as u64
                    )
                };
                let urls: Vec<String> = (0..n).map(url).collect();
                load::many(rt, n, 16, move |i| {
                    (
                        "PUT",
                        format!("{}/_config/size", url(i)),
                        Some(format!("value={size}")),
                    )
                });
                urls
            }
            _ => {
                let new = rendezvous_e2e::new_url(&self.base(kind), size as u64);
                let urls: Vec<String> = load::many(rt, n, 16, move |_| ("GET", new.clone(), None))
                    .into_iter()
                    .map(|u| u.trim().to_string())
                    .collect();
                // A service that mints for another origin would not be measured here.
                assert!(
                    urls.iter().all(|u| u.starts_with("http://127.0.0.1")),
                    "{urls:?}"
                );
                urls
            }
        }
    }
}

/// Resident memory of a process, in bytes (`VmRSS`).
pub fn rss(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Bytes of every file below `dir`.
pub fn disk(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => pending.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
