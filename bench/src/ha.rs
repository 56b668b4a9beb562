//! The replicas under load (`BENCH_STEPS=ha`): three native replicas behind HAProxy on a
//! 3-member etcd 3.4 cluster, against the classic stack (Debian's etcd-discovery, also a
//! stateless front) on the same cluster and that cluster used directly as a raw v2 backend.
//! Bootstraps per second at 10, 50 and 200 tokens at once, and a wait parked on one replica
//! answered by a write through another, against the single server's wake-up in the same run.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rendezvous_e2e::ha::Topology;
use rendezvous_e2e::process::Group;
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use crate::services::{Kind, Services, VARS};
use crate::{cpu, load, steps};

/// HAProxy's front; the replicas and the store sit behind it (`Ports::behind`).
const FRONT: u16 = 18850;
const CLASSIC: &str = "127.0.0.1:29187";

struct Stack {
    topology: Topology,
    _classic: Group,
    raw: String,
    classic: String,
}

impl Stack {
    fn start(dir: &Path) -> Stack {
        let vars: Vec<(String, String)> = VARS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut topology = Topology::new(&dir.join("ha"), FRONT, &vars)
            .with_v2_store()
            .with_token_affinity();
        topology.start();
        let raw = topology.store_client_url(0);
        let classic = format!("http://{CLASSIC}");
        let mut cmd = Command::new("/usr/bin/discovery.etcd.io");
        cmd.args(["--etcd", &raw, "--host", &classic, "--addr", CLASSIC]);
        let group = Group::spawn(cmd, &dir.join("classic-ha.log"), "etcd-discovery (HA)");
        rendezvous_e2e::eventually(
            "the classic stack on the cluster",
            Duration::from_secs(30),
            || {
                rendezvous_e2e::http::try_send(
                    "GET",
                    &rendezvous_e2e::new_url(&classic, 3),
                    None,
                    None,
                )
                .ok()
                .filter(|r| r.status == 200)
            },
        );
        Stack {
            topology,
            _classic: group,
            raw,
            classic,
        }
    }

    fn front(&self) -> String {
        format!("http://127.0.0.1:{FRONT}")
    }

    /// `n` tokens of `size` on one of the three.
    fn mint(&self, rt: &Runtime, which: Which, n: usize, size: usize) -> Vec<String> {
        match which {
            Which::Raw => {
                let stamp = std::process::id();
                let raw = self.raw.clone();
                let base = rand_base();
                let url = move |i: usize| format!("{raw}/v2/keys/discovery/ha-{stamp}-{base}-{i}");
                let urls: Vec<String> = (0..n).map(url.clone()).collect();
                load::many(rt, n, 16, move |i| {
                    (
                        "PUT",
                        format!("{}/_config/size", url(i)),
                        Some(format!("value={size}")),
                    )
                });
                urls
            }
            Which::Classic | Which::Replicas => {
                let base = if which == Which::Classic {
                    self.classic.clone()
                } else {
                    self.front()
                };
                let new = rendezvous_e2e::new_url(&base, size as u64);
                load::many(rt, n, 16, move |_| ("GET", new.clone(), None))
                    .into_iter()
                    .map(|u| u.trim().to_string())
                    .collect()
            }
        }
    }
}

fn rand_base() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Classic,
    Raw,
    Replicas,
}

impl Which {
    fn label(self) -> &'static str {
        match self {
            Which::Classic => "classic stack on the 3-member etcd",
            Which::Raw => "raw etcd v2 on the 3-member etcd",
            Which::Replicas => "3 replicas behind HAProxy (make ha)",
        }
    }

    /// The processes it runs on (label, name in /proc), the load generator's included.
    fn processes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Which::Classic => &[
                ("etcd", "etcd"),
                ("etcd-discovery", "discovery.etcd."),
                ("load", "bench"),
            ],
            Which::Raw => &[("etcd", "etcd"), ("load", "bench")],
            Which::Replicas => &[
                ("etcd", "etcd"),
                ("HAProxy", "haproxy"),
                ("replicas", "rendezvous"),
                ("load", "bench"),
            ],
        }
    }

    fn key(self) -> &'static str {
        match self {
            Which::Classic => "classic",
            Which::Raw => "raw_etcd",
            Which::Replicas => "replicas",
        }
    }
}

pub fn run(s: &Services, rt: &Runtime, dir: &Path) -> Value {
    println!("\n## High availability: 3 replicas behind HAProxy on a 3-member etcd 3.4 cluster");
    let stack = Stack::start(dir);
    steps::load_header();
    let mut out = serde_json::Map::new();
    for at_once in [10usize, 50, 200] {
        let tokens = (4 * at_once).max(100);
        let mut seen: Vec<(Which, load::Load)> = Vec::new();
        for which in [Which::Classic, Which::Raw, Which::Replicas] {
            let urls = stack.mint(rt, which, tokens, 3);
            let before = cpu::Usage::now();
            let l = load::bootstraps(rt, urls, 3, at_once);
            let spent = cpu::Usage::now().since(&before);
            let of = |k: Which| seen.iter().find(|(x, _)| *x == k).map(|(_, l)| l.rate());
            let row = steps::load_row(
                which.label(),
                at_once,
                &l,
                of(Which::Classic),
                of(Which::Raw),
            );
            cpu::line(&spent, l.tokens, "bootstrap", which.processes());
            out.insert(format!("{}_{at_once}", which.key()), row);
            seen.push((which, l));
        }
        let of = |k: Which| &seen.iter().find(|(x, _)| *x == k).expect("measured").1;
        steps::load_targets(
            "replicas",
            at_once,
            of(Which::Replicas),
            of(Which::Classic),
            of(Which::Raw),
        );
    }

    // A wait parked on replica 0, answered by a registration through replica 1; the single
    // server's wake-up (waits and write on the one process) in the same run.
    const ROUNDS: usize = 5;
    let mut across = Vec::new();
    let mut single = Vec::new();
    for _ in 0..ROUNDS {
        let url = stack.mint(rt, Which::Replicas, 1, 3).remove(0);
        let path = url.rsplit('/').next().expect("a token").to_string();
        let on_0 = format!("{}/{path}", stack.topology.replica_url(0));
        let on_1 = format!("{}/{path}", stack.topology.replica_url(1));
        across.push(load::wakeup_across(rt, &on_0, &on_1, 500));
        single.push(load::wakeup(rt, &s.mint(Kind::Native, 3), 500));
    }
    let am = steps::wakeup_line("500 waits on replica 0, write on replica 1", &across);
    let sm = steps::wakeup_line("500 waits and the write on the single server", &single);
    println!(
        "    target: across replicas <= 2x the single server {} ({:.2}x, median of {ROUNDS} rounds)",
        steps::verdict(am <= 2.0 * sm),
        am / sm
    );
    out.insert("wakeup_across_s".into(), json!(across));
    out.insert("wakeup_single_s".into(), json!(single));
    Value::Object(out)
}
