//! etcd's options across its generations, as today's etcd flags: etcd 2's `coreos.etcd2` (and
//! ct's `etcd:`) use today's names; etcd 0.4's `coreos.etcd` has its own (`addr`,
//! `peer-addr`, ...). What today's etcd lacks is reported, not carried.

use super::{Entry, Fate};

/// One option as written, with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Option_ {
    pub line: usize,
    pub key: String,
    pub value: String,
}

impl Option_ {
    /// A report entry about this option, under the section `prefix`.
    fn entry(&self, prefix: &str, fate: Fate, reason: String) -> Entry {
        Entry {
            line: self.line,
            key: format!("{prefix}.{}", self.key),
            fate,
            reason,
        }
    }
}

/// The flags today's etcd takes for a set of options, and the report for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--name=value` pairs in the order given.
    pub flags: Vec<(String, String)>,
    /// `ETCD_NAME`: the unit sets `%m`; a name given keeps its member's identity.
    pub name: Option<String>,
    /// `ETCD_IMAGE_TAG`: the etcd release to run, when the config names one.
    pub image_tag: Option<String>,
    pub report: Vec<Entry>,
}

/// Options etcd 2 had that today's etcd (3.5) still takes under the same name.
impl Flags {
    /// Sets a flag once: an option that names a flag already set (`ca-file` beside
    /// `trusted-ca-file`) replaces its value, as etcd would take the later one.
    fn set(&mut self, name: &str, value: &str) {
        match self.flags.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => *v = value.to_string(),
            None => self.flags.push((name.to_string(), value.to_string())),
        }
    }
}

const SAME: &[&str] = &[
    "advertise-client-urls",
    "initial-advertise-peer-urls",
    "listen-client-urls",
    "listen-peer-urls",
    "discovery",
    "discovery-srv",
    "discovery-fallback",
    "discovery-proxy",
    "initial-cluster",
    "initial-cluster-state",
    "initial-cluster-token",
    "heartbeat-interval",
    "election-timeout",
    "snapshot-count",
    "max-snapshots",
    "max-wals",
    "cors",
    "cert-file",
    "key-file",
    "client-cert-auth",
    "trusted-ca-file",
    "auto-tls",
    "peer-cert-file",
    "peer-key-file",
    "peer-client-cert-auth",
    "peer-trusted-ca-file",
    "peer-auto-tls",
    "strict-reconfig-check",
    "enable-pprof",
    "quota-backend-bytes",
    "auto-compaction-retention",
    "auto-compaction-mode",
    "auth-token",
    "client-crl-file",
    "peer-crl-file",
    "peer-cert-allowed-cn",
    "enable-v2",
    "experimental-corrupt-check-time",
    "experimental-enable-v2v3",
    "experimental-initial-corrupt-check",
    "grpc-keepalive-interval",
    "grpc-keepalive-min-time",
    "grpc-keepalive-timeout",
    "listen-metrics-urls",
    "max-request-bytes",
    "max-txn-ops",
    "metrics",
    "log-level",
    "log-outputs",
    "logger",
];

/// etcd 2 options, by what became of them.
fn etcd2(o: &Option_, out: &mut Flags, prefix: &str) {
    let key = o.key.as_str();
    let mut report = |fate, reason: String| out.report.push(o.entry(prefix, fate, reason));
    match key {
        "name" => out.name = Some(o.value.clone()),
        k if SAME.contains(&k) => {
            if k == "discovery" {
                report(Fate::Changed, "v2 discovery (--discovery) works with etcd 3.4 and 3.5, is deprecated in 3.6 and removed in 3.7: mint a token here and use v3 discovery (--discovery-token, --discovery-endpoints) for etcd 3.6 and later".into());
            }
            out.set(k, &o.value);
        }
        "proxy" if o.value == "off" => report(Fate::Dropped, "proxy: off is what etcd does anyway (proxy mode was removed in etcd 3.6)".into()),
        "proxy" | "proxy-failure-wait" | "proxy-refresh-interval" | "proxy-dial-timeout" | "proxy-write-timeout" | "proxy-read-timeout" => {
            report(Fate::Dropped, format!("etcd's proxy mode ({key}) was removed in etcd 3.6; a member past the cluster size now refuses to join, so size the discovery token to the members (or run `etcd grpc-proxy`)"));
        }
        "data-dir" | "wal-dir" => report(Fate::Dropped, format!("Flatcar's etcd-member keeps its data in /var/lib/etcd, mounted by the wrapper; {key} would point inside the container")),
        "debug" => {
            report(Fate::Changed, "--debug became --log-level=debug in etcd 3.5".into());
            out.set("log-level", "debug");
        }
        "log-output" => {
            report(Fate::Changed, "--log-output became --log-outputs in etcd 3.5".into());
            out.set("log-outputs", &o.value);
        }
        "force-new-cluster" => report(Fate::Dropped, "--force-new-cluster is a one-time recovery step: in the unit it would reset the cluster to this one member at every start".into()),
        "log-package-levels" => report(Fate::Dropped, "etcd 3.5 removed per-package log levels; --log-level sets one level".into()),
        "ca-file" | "peer-ca-file" => {
            let new = if key == "ca-file" { "trusted-ca-file" } else { "peer-trusted-ca-file" };
            report(Fate::Changed, format!("--{key} became --{new} (and client certificate checking became --client-cert-auth)"));
            out.set(new, &o.value);
        }
        _ => report(Fate::Dropped, format!("etcd 3.5 has no --{key}")),
    }
}

/// etcd 0.4 options, mapped to today's flags where they have one.
fn etcd04(o: &Option_, out: &mut Flags, prefix: &str) {
    let key = o.key.as_str();
    let mut report = |fate, reason: String| out.report.push(o.entry(prefix, fate, reason));
    let url = |v: &str| {
        if v.contains("://") {
            v.to_string()
        } else {
            format!("http://{v}")
        }
    };
    match key {
        "name" => out.name = Some(o.value.clone()),
        "discovery" => {
            report(Fate::Changed, "the etcd 0.4 discovery URL kept as --discovery (v2 discovery: etcd 3.4 and 3.5; removed in 3.7); etcd 0.4's discovery tokens do not work with etcd 2+, mint a fresh one".into());
            out.flags.push(("discovery".into(), o.value.clone()));
        }
        "addr" => {
            report(Fate::Changed, format!("etcd 0.4's client address (host:port, port 4001) became --advertise-client-urls={}", url(&o.value)));
            out.flags.push(("advertise-client-urls".into(), url(&o.value)));
        }
        "peer-addr" => {
            report(Fate::Changed, format!("etcd 0.4's peer address (port 7001) became --initial-advertise-peer-urls and --listen-peer-urls={}; etcd 2+ peers use port 2380 (7001 is the legacy port)", url(&o.value)));
            out.flags.push(("initial-advertise-peer-urls".into(), url(&o.value)));
            // A peer bind address, given before or after, is where it listens.
            if !out.flags.iter().any(|(k, _)| k == "listen-peer-urls") {
                out.flags.push(("listen-peer-urls".into(), url(&o.value)));
            }
        }
        "bind-addr" => {
            report(Fate::Changed, format!("etcd 0.4's bind address became --listen-client-urls={}", url(&o.value)));
            out.flags.push(("listen-client-urls".into(), url(&o.value)));
        }
        "peer-bind-addr" => {
            report(Fate::Changed, format!("etcd 0.4's peer bind address became --listen-peer-urls={}", url(&o.value)));
            out.flags.retain(|(k, _)| k != "listen-peer-urls");
            out.flags.push(("listen-peer-urls".into(), url(&o.value)));
        }
        "peers" | "peers-file" => report(Fate::Dropped, "etcd 0.4's peer list names no members; etcd 2+ needs --initial-cluster name=url pairs (the builder writes them for static clusters)".into()),
        "cluster-active-size" | "cluster-remove-delay" | "cluster-sync-interval" => report(Fate::Dropped, format!("etcd 0.4's standby cluster settings ({key}) have no equivalent since etcd 2")),
        "snapshot" => report(Fate::Dropped, "etcd 0.4's snapshot switch: etcd 3 always snapshots, every --snapshot-count entries".into()),
        "snapshot-count" | "cors" | "cert-file" | "key-file" | "peer-cert-file" | "peer-key-file" => out.set(key, &o.value),
        "ca-file" | "peer-ca-file" => {
            let (trusted, auth) = if key == "ca-file" {
                ("trusted-ca-file", "client-cert-auth")
            } else {
                ("peer-trusted-ca-file", "peer-client-cert-auth")
            };
            report(Fate::Changed, format!("etcd 0.4's --{key} checked certificates against it: that is --{trusted} with --{auth} in etcd 3"));
            out.set(trusted, &o.value);
            out.set(auth, "true");
        }
        "peer-election-timeout" | "peer-heartbeat-interval" => {
            let new = if key == "peer-election-timeout" { "election-timeout" } else { "heartbeat-interval" };
            report(Fate::Changed, format!("--{key} became --{new} (milliseconds, as before)"));
            out.set(new, &o.value);
        }
        "verbose" | "very-verbose" => {
            report(Fate::Changed, format!("--{key} became --log-level=debug"));
            out.set("log-level", "debug");
        }
        "data-dir" => report(Fate::Dropped, "Flatcar's etcd-member keeps its data in /var/lib/etcd, mounted by the wrapper".into()),
        _ => report(Fate::Dropped, format!("etcd 0.4's {key} has no equivalent in etcd 3")),
    }
}

/// The flags for `coreos.etcd2` (or ct's `etcd:`) options.
pub fn from_etcd2(options: &[Option_], prefix: &str) -> Flags {
    let mut out = Flags::default();
    for o in options {
        etcd2(o, &mut out, prefix);
    }
    out
}

/// The flags for `coreos.etcd` (etcd 0.4) options. Without an explicit client URL, etcd 3
/// listens on localhost only: the legacy default was all interfaces on 4001.
pub fn from_etcd04(options: &[Option_], prefix: &str) -> Flags {
    let mut out = Flags::default();
    for o in options {
        etcd04(o, &mut out, prefix);
    }
    if !out.flags.iter().any(|(k, _)| k == "listen-client-urls") {
        out.flags.push((
            "listen-client-urls".into(),
            "http://0.0.0.0:2379,http://0.0.0.0:4001".into(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(line: usize, key: &str, value: &str) -> Option_ {
        Option_ {
            line,
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn etcd2_options_keep_their_names_and_proxy_mode_is_reported() {
        let f = from_etcd2(
            &[
                opt(4, "name", "node1"),
                opt(5, "discovery", "https://d/t"),
                opt(6, "proxy", "on"),
                opt(7, "data-dir", "/x"),
            ],
            "coreos.etcd2",
        );
        assert_eq!(f.name.as_deref(), Some("node1"));
        assert_eq!(
            f.flags,
            [("discovery".to_string(), "https://d/t".to_string())]
        );
        let fates: Vec<(usize, Fate)> = f.report.iter().map(|e| (e.line, e.fate)).collect();
        assert_eq!(
            fates,
            [(5, Fate::Changed), (6, Fate::Dropped), (7, Fate::Dropped)]
        );
        assert!(f.report[1].reason.contains("removed in etcd 3.6"));
    }

    #[test]
    fn etcd_0_4_addresses_become_urls() {
        let f = from_etcd04(
            &[
                opt(3, "addr", "$public_ipv4:4001"),
                opt(4, "peer-addr", "$private_ipv4:7001"),
            ],
            "coreos.etcd",
        );
        assert_eq!(
            f.flags,
            [
                (
                    "advertise-client-urls".to_string(),
                    "http://$public_ipv4:4001".to_string()
                ),
                (
                    "initial-advertise-peer-urls".to_string(),
                    "http://$private_ipv4:7001".to_string()
                ),
                (
                    "listen-peer-urls".to_string(),
                    "http://$private_ipv4:7001".to_string()
                ),
                (
                    "listen-client-urls".to_string(),
                    "http://0.0.0.0:2379,http://0.0.0.0:4001".to_string()
                ),
            ]
        );
        assert!(f.report.iter().all(|e| e.fate == Fate::Changed));
    }
}
