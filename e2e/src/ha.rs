//! The high-availability topology as a shell of its own: a 3-member etcd cluster (Debian's
//! etcd 3.4, bootstrapped statically), three replicas of the native server sharing it
//! (`--store etcd://...`), and HAProxy in front (`deploy/ha/haproxy.cfg`, health checks on
//! `/ready`) on the service's port. The suites reach it through HAProxy, which spreads their
//! requests over the replicas; the fault tests reach into it to kill a replica or an etcd member.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::etcd::{Member, Release};
use crate::process::Group;
use crate::service::native_binary;
use crate::{eventually, http, root};

pub const REPLICAS: usize = 3;

/// The loopback ports behind one front port, in a range no suite uses (30000-32767).
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// etcd member `n`: client port `store + 10n`, peer port `store + 10n + 1`.
    pub store: u16,
    /// Replica `n`: HTTP on `replicas + n`, gRPC on `replicas + 10 + n`, metrics on
    /// `replicas + 20 + n`.
    pub replicas: u16,
}

impl Ports {
    pub fn behind(front: u16) -> Ports {
        // 25 blocks of 100 below Linux's ephemeral ports (32768 on): the suites' fronts are
        // consecutive ports, so they fall in different blocks.
        let base = 30_000 + (front % 25) * 100;
        Ports {
            store: base,
            replicas: base + 40,
        }
    }

    pub fn replica_http(self, n: usize) -> u16 {
        self.replicas + n as u16
    }

    pub fn replica_grpc(self, n: usize) -> u16 {
        self.replicas + 10 + n as u16
    }

    pub fn replica_metrics(self, n: usize) -> u16 {
        self.replicas + 20 + n as u16
    }
}

pub struct Topology {
    pub store: Vec<Member>,
    pub replicas: Vec<Option<Group>>,
    haproxy: Option<Group>,
    ports: Ports,
    front: u16,
    /// `host:port` of the gRPC front, when the service serves etcd's v3 API.
    grpc_front: Option<String>,
    vars: Vec<(String, String)>,
    /// HAProxy sends each request to the next replica (the tests: every path across
    /// replicas), rather than a token's requests to one replica (`make ha`, the benchmarks).
    spread: bool,
    dir: PathBuf,
    starts: u32,
}

impl Topology {
    /// Creates it (nothing runs until `start`): state and logs under `dir`, HAProxy on
    /// 127.0.0.1:`front`, the replicas with `vars` as their environment (`GRPC_LISTEN` becomes
    /// HAProxy's gRPC front).
    pub fn new(dir: &Path, front: u16, vars: &[(String, String)]) -> Topology {
        let ports = Ports::behind(front);
        std::fs::create_dir_all(dir).expect("the topology's folder");
        let cluster: Vec<String> = (0..3)
            .map(|n| format!("store{n}=http://127.0.0.1:{}", ports.store + 10 * n + 1))
            .collect();
        let store = (0..3)
            .map(|n| {
                Member::new(dir, &format!("store{n}"), Release::V34, ports.store, n, "")
                    .with_initial_cluster(&cluster.join(","), "rendezvous-store")
            })
            .collect();
        let grpc_front = vars
            .iter()
            .find(|(k, _)| k == "GRPC_LISTEN")
            .map(|(_, v)| v.clone());
        Topology {
            store,
            replicas: (0..REPLICAS).map(|_| None).collect(),
            haproxy: None,
            ports,
            front,
            grpc_front,
            vars: vars
                .iter()
                .filter(|(k, _)| k != "GRPC_LISTEN")
                .cloned()
                .collect(),
            spread: true,
            dir: dir.to_path_buf(),
            starts: 0,
        }
    }

    /// The store's members with etcd's v2 API on too (`--enable-v2`), so that the classic
    /// stack and a raw v2 backend can share the cluster in the benchmarks.
    pub fn with_v2_store(mut self) -> Topology {
        self.store = std::mem::take(&mut self.store)
            .into_iter()
            .map(|m| m.with_args(&["--enable-v2"]))
            .collect();
        self
    }

    /// HAProxy as `make ha` runs it: a token's requests go to one replica while it is up.
    pub fn with_token_affinity(mut self) -> Topology {
        self.spread = false;
        self
    }

    /// Store member `n`'s client URL.
    pub fn store_client_url(&self, n: usize) -> String {
        self.store[n].client_url()
    }

    /// The store's URL, as the replicas are given it.
    pub fn store_url(&self) -> String {
        let hosts: Vec<String> = self
            .store
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.client_port))
            .collect();
        format!("etcd://{}", hosts.join(","))
    }

    /// Starts whatever is not running, and waits until HAProxy serves a ready replica.
    pub fn start(&mut self) {
        self.starts += 1;
        for m in self.store.iter_mut() {
            if !m.running() {
                m.start();
            }
        }
        for n in 0..REPLICAS {
            if self.replicas[n].is_none() {
                self.start_replica(n);
            }
        }
        if self.haproxy.is_none() {
            self.start_haproxy();
        }
        let ready = format!("http://127.0.0.1:{}/ready", self.front);
        eventually(
            "HAProxy serving a ready replica",
            Duration::from_secs(60),
            || http::answers(&ready).then_some(()),
        );
        for n in 0..REPLICAS {
            self.wait_ready(n);
        }
    }

    pub fn replica_url(&self, n: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports.replica_http(n))
    }

    /// Starts replica `n` (and returns once it is up, ready or not).
    pub fn start_replica(&mut self, n: usize) {
        let mut cmd = Command::new(native_binary());
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{}", self.ports.replica_http(n)))
            .arg("--store")
            .arg(self.store_url())
            .arg("--assets")
            .arg(root().join("frontend/dist"))
            // Mints answer with HAProxy's address, where clients reach the service, and count
            // the client HAProxy names.
            .env("PUBLIC_URL", format!("http://127.0.0.1:{}", self.front))
            .env("TRUSTED_PROXY_HEADER", "X-Forwarded-For")
            .envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd.arg("--metrics-listen")
            .arg(format!("127.0.0.1:{}", self.ports.replica_metrics(n)));
        if self.grpc_front.is_some() {
            cmd.arg("--grpc-listen")
                .arg(format!("127.0.0.1:{}", self.ports.replica_grpc(n)));
        }
        let log = self.dir.join(format!("replica{n}-{}.log", self.starts));
        let mut group = Group::spawn(cmd, &log, &format!("replica {n}"));
        group.wait_until_serving(
            &format!("{}/health", self.replica_url(n)),
            Duration::from_secs(30),
        );
        self.replicas[n] = Some(group);
    }

    /// Replica `n`'s metrics: each sample's name with its labels, and its value.
    pub fn metrics(&self, n: usize) -> Vec<(String, f64)> {
        let url = format!("http://127.0.0.1:{}/metrics", self.ports.replica_metrics(n));
        crate::metrics::parse(&http::get(&url).body)
    }

    /// Waits until replica `n` says its store takes writes.
    pub fn wait_ready(&self, n: usize) {
        let url = format!("{}/ready", self.replica_url(n));
        eventually(
            &format!("replica {n} ready"),
            Duration::from_secs(60),
            || http::answers(&url).then_some(()),
        );
    }

    fn start_haproxy(&mut self) {
        let haproxy = ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("haproxy");
        let mut cmd = Command::new(haproxy);
        cmd.args(["-W", "-db", "-f"])
            .arg(root().join("deploy/ha/haproxy.cfg"))
            .env("FRONT", format!("127.0.0.1:{}", self.front));
        for n in 0..REPLICAS {
            let i = n + 1;
            cmd.env(
                format!("REPLICA_{i}"),
                format!("127.0.0.1:{}", self.ports.replica_http(n)),
            )
            .env(
                format!("REPLICA_{i}_PORT"),
                self.ports.replica_http(n).to_string(),
            )
            .env(
                format!("GRPC_{i}"),
                format!("127.0.0.1:{}", self.ports.replica_grpc(n)),
            );
        }
        if let Some(g) = &self.grpc_front {
            cmd.env("GRPC_FRONT", g);
        }
        if self.spread {
            cmd.env("SPREAD_EVERY_REQUEST", "1");
        }
        let log = self.dir.join(format!("haproxy-{}.log", self.starts));
        self.haproxy = Some(Group::spawn(cmd, &log, "haproxy"));
    }

    /// SIGKILL to replica `n`.
    pub fn kill_replica(&mut self, n: usize) {
        if let Some(mut g) = self.replicas[n].take() {
            g.kill();
        }
    }

    /// SIGTERM to everything (the replicas first, as they answer parked waits and store what
    /// is queued); the store's data stays on disk. How the last replica ended.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut ended = None;
        for r in self.replicas.iter_mut() {
            if let Some(mut g) = r.take() {
                ended = Some(g.stop());
            }
        }
        if let Some(mut g) = self.haproxy.take() {
            g.stop();
        }
        for m in self.store.iter_mut() {
            m.stop();
        }
        ended
    }

    /// SIGKILL to every replica and every etcd member at once, as a power cut would.
    pub fn kill(&mut self) {
        for r in self.replicas.iter_mut() {
            if let Some(mut g) = r.take() {
                g.kill();
            }
        }
        for m in self.store.iter_mut() {
            m.kill();
        }
        if let Some(mut g) = self.haproxy.take() {
            g.kill();
        }
    }

    /// The store member replica `n`'s watch is on now, as its log last said.
    pub fn watch_member(&self, n: usize) -> Option<usize> {
        let log = self.replicas[n].as_ref()?.log_text();
        let line = log
            .lines()
            .rev()
            .find(|l| l.contains("watching the store's changes through"))?;
        let port: u16 = line.rsplit(':').next()?.trim().parse().ok()?;
        self.store.iter().position(|m| m.client_port == port)
    }

    /// SIGKILL to etcd member `n` of the store.
    pub fn kill_store(&mut self, n: usize) {
        self.store[n].kill();
    }

    /// Starts etcd member `n` of the store again (its data kept).
    pub fn start_store(&mut self, n: usize) {
        if !self.store[n].running() {
            self.store[n].start();
        }
    }

    /// Sends `signal` (SIGSTOP, SIGCONT) to etcd member `n` of the store.
    pub fn signal_store(&self, n: usize, signal: libc::c_int) {
        if let Some(pid) = self.store[n].pid() {
            // SAFETY: kill(2) on a child's pid.
            unsafe {
                libc::kill(pid as libc::pid_t, signal);
            }
        }
    }

    /// The store's etcd leader, as a member that answers says.
    pub fn store_leader(&mut self) -> Option<usize> {
        for n in 0..self.store.len() {
            let Some(status) = self.gateway(n, "maintenance/status", "{}") else {
                continue;
            };
            let leader = status["leader"].as_str().map(str::to_string);
            for m in 0..self.store.len() {
                let id = self
                    .gateway(m, "maintenance/status", "{}")
                    .and_then(|s| s["header"]["member_id"].as_str().map(str::to_string));
                if id.is_some() && id == leader {
                    return Some(m);
                }
            }
        }
        None
    }

    /// Compacts the store's history up to its current revision (physically): watchers that
    /// resume from before it are told their history is gone.
    pub fn compact_store(&self) -> i64 {
        let range = (0..self.store.len())
            .find_map(|n| self.gateway(n, "kv/range", r#"{"key":"AA=="}"#))
            .expect("a store member answers");
        let revision: i64 = range["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .expect("a revision");
        let body = format!(r#"{{"revision":"{revision}","physical":true}}"#);
        let done = (0..self.store.len()).find_map(|n| self.gateway(n, "kv/compaction", &body));
        assert!(done.is_some(), "the store compacted");
        revision
    }

    /// etcd member `n`'s JSON gateway (`/v3/<path>`), if it answers.
    fn gateway(&self, n: usize, path: &str, body: &str) -> Option<serde_json::Value> {
        let url = format!("{}/v3/{path}", self.store[n].client_url());
        let r = http::try_send(
            "POST",
            &url,
            Some(body.as_bytes()),
            Some("application/json"),
        )
        .ok()?;
        (r.status == 200).then(|| r.json())
    }

    /// The first replica still running (for its pid).
    pub fn pid(&self) -> Option<u32> {
        self.replicas.iter().flatten().next().map(Group::pid)
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
