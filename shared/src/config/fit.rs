//! Where a pasted config fits the builder's choices: the builder's form that writes the same
//! etcd (bootstrap, discovery, platform and address, legacy ports, image, core's SSH keys), and
//! every part of the config the builder would not write the same way, named, so that opening a
//! config in the builder never loses anything silently.

use butane::ignition::types::Config;

use super::butane::Butane;
use super::dropin::ETCD_UNIT;
use super::found::{settings, EtcdFound};
use super::platform::{CUSTOM_PRIVATE_VAR, CUSTOM_PUBLIC_VAR};
use super::query::{Mode, Query};
use super::{params, ButaneVersion, Platform, PLATFORMS};

/// The builder's form for a config, and what of the config it leaves out or writes otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fit {
    pub query: Query,
    /// One sentence per difference; empty when the builder writes the config's etcd exactly.
    pub differences: Vec<String>,
}

/// The builder's form for `config`, whose etcd unit says `found`. `platform` is the one to use
/// where the addresses do not name one (a static cluster, or the builder's own address unit).
pub fn fit(config: &Config, found: &EtcdFound, platform: Platform, version: ButaneVersion) -> Fit {
    let mut q = Query {
        butane: version,
        ..Query::default()
    };
    (q.platform, q.public_address) = address(found, platform);
    q.etcd_tag = found.image_tag.clone().unwrap_or_default();
    if let Some(url) = &found.discovery {
        q.mode = Mode::Discovery;
        q.discovery = url.clone();
    } else if let Some(token) = &found.discovery_token {
        // The builder takes the token's URL and writes its last segment; a bare token is kept
        // for the user to complete (the differences say so).
        q.mode = Mode::V3Discovery;
        q.discovery = token.clone();
        q.endpoints = found.discovery_endpoints.clone().unwrap_or_default();
    } else if let Some(cluster) = &found.initial_cluster {
        q.mode = Mode::Static;
        q.members = members(cluster).join("\n");
        q.this = found.name.clone().unwrap_or_default();
        q.cluster_token = found.initial_cluster_token.clone().unwrap_or_default();
    }
    let etcd_texts = unit_texts(config, &found.unit);
    q.legacy_ports = etcd_texts
        .iter()
        .any(|t| t.contains(":4001") || t.contains(":7001"));
    q.ssh_keys = config
        .passwd
        .users
        .iter()
        .filter(|u| u.name == "core")
        .flat_map(|u| u.ssh_authorized_keys.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n");
    let differences = differences(config, found, &q, &etcd_texts);
    Fit {
        query: q,
        differences,
    }
}

/// The platform whose metadata variable the flags use (the given one first), and whether it
/// is the public address.
fn address(found: &EtcdFound, given: Platform) -> (Platform, bool) {
    for var in &found.address_vars {
        if var == CUSTOM_PRIVATE_VAR || var == CUSTOM_PUBLIC_VAR {
            let unit_platform = if given.needs_address_unit() {
                given
            } else {
                Platform::by_id(super::query::DEFAULT_PLATFORM).unwrap_or(PLATFORMS[0])
            };
            return (unit_platform, var == CUSTOM_PUBLIC_VAR);
        }
        let names = |p: &Platform| p.private_var == Some(var) || p.public_var == Some(var);
        let platform = Some(given)
            .filter(names)
            .or_else(|| PLATFORMS.iter().copied().find(names));
        if let Some(p) = platform {
            return (p, p.public_var == Some(var.as_str()));
        }
    }
    (given, false)
}

/// `--initial-cluster`'s `name=http://host:2380` entries as the builder's `name=host` lines.
fn members(cluster: &str) -> Vec<String> {
    cluster
        .split(',')
        .filter_map(|m| {
            let (name, url) = m.trim().split_once('=')?;
            let host = url.split_once("://").map_or(url, |(_, rest)| rest);
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            Some(format!("{name}={host}"))
        })
        .collect()
}

/// A unit's own text and its drop-ins' texts.
fn unit_texts(config: &Config, name: &str) -> Vec<String> {
    config
        .systemd
        .units
        .iter()
        .filter(|u| u.name == name)
        .flat_map(|u| {
            u.contents
                .iter()
                .chain(u.dropins.iter().filter_map(|d| d.contents.as_ref()))
                .cloned()
        })
        .collect()
}

fn differences(
    config: &Config,
    found: &EtcdFound,
    q: &Query,
    etcd_texts: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    let (built, problems) = params::parse(&q.to_query());
    for p in problems
        .iter()
        .filter(|p| p.severity == super::Severity::Error)
    {
        if q.mode == Mode::V3Discovery && p.field == "discovery" {
            out.push(format!("--discovery-token={}: the builder takes the token's URL (https://host/<token>); give it there", q.discovery));
        } else {
            out.push(format!(
                "the builder refuses its {}: {}",
                p.field, p.message
            ));
        }
    }
    let doc = Butane::from_config(&built);
    if found.unit != ETCD_UNIT {
        out.push(format!(
            "etcd runs as {} here; the builder writes {ETCD_UNIT}'s drop-in",
            found.unit
        ));
    }
    // etcd's settings, compared by name and value (the platform's address variables included).
    let ours: Vec<(String, String)> = etcd_texts.iter().flat_map(|t| settings(t)).collect();
    let builders: Vec<(String, String)> = doc
        .units
        .iter()
        .filter(|u| u.name == ETCD_UNIT)
        .flat_map(|u| u.dropins.iter().flat_map(|d| settings(&d.contents)))
        .collect();
    for (name, value) in &ours {
        match builders.iter().find(|(n, _)| n == name) {
            None => out.push(format!(
                "{}={value}: the builder does not set it",
                flag(name)
            )),
            Some((_, theirs)) if theirs != value => out.push(format!(
                "{}={value}: the builder writes {theirs}",
                flag(name)
            )),
            Some(_) => {}
        }
    }
    for (name, value) in &builders {
        if !ours.iter().any(|(n, _)| n == name) {
            out.push(format!("{}: the builder adds it ({value})", flag(name)));
        }
    }
    // Everything else the config holds that the builder does not write.
    let builder_units: Vec<&str> = doc.units.iter().map(|u| u.name.as_str()).collect();
    for unit in &config.systemd.units {
        if unit.name == found.unit {
            continue;
        }
        if !builder_units.contains(&unit.name.as_str()) {
            out.push(format!("the unit {}", unit.name));
        }
    }
    let storage = &config.storage;
    out.extend(storage.files.iter().map(|f| format!("the file {}", f.path)));
    out.extend(
        storage
            .directories
            .iter()
            .map(|d| format!("the directory {}", d.path)),
    );
    out.extend(storage.links.iter().map(|l| format!("the link {}", l.path)));
    for (count, what) in [
        (storage.disks.len(), "disks"),
        (storage.raid.len(), "RAID arrays"),
        (storage.filesystems.len(), "filesystems"),
        (storage.luks.len(), "LUKS volumes"),
        (config.passwd.groups.len(), "groups"),
    ] {
        if count > 0 {
            out.push(format!("{count} {what}"));
        }
    }
    for user in &config.passwd.users {
        let bare = butane::ignition::types::PasswdUser {
            name: user.name.clone(),
            ssh_authorized_keys: user.ssh_authorized_keys.clone(),
            ..Default::default()
        };
        if user.name != "core" {
            out.push(format!("the user {}", user.name));
        } else if *user != bare {
            out.push("core's settings other than its SSH keys".to_string());
        }
    }
    out
}

/// A setting's name as a reader knows it: `--discovery`, or the variable for the wrapper's own.
fn flag(name: &str) -> String {
    match name {
        "etcd-image-tag" | "etcd-name" => name.to_ascii_uppercase().replace('-', "_"),
        _ => format!("--{}", name.trim_start_matches("etcd-")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::found::find_etcd;
    use butane::ignition::types::Spec;

    fn read(json: &str) -> Config {
        butane::ignition::inline::read_config(json.as_bytes(), Spec::V3_4)
            .unwrap()
            .0
    }

    fn ignition(butane: &str) -> Config {
        let outcome = ::butane::translate(butane, &::butane::Options::default());
        read(&outcome.ignition.expect("translates"))
    }

    #[test]
    fn the_builders_own_config_fits_itself_exactly() {
        for query in [
            "discovery=https%3A%2F%2Fd.example%2F0123456789abcdef&platform=ec2&address=public&legacy_ports=true&etcd_tag=v3.5.16&ssh_key=ssh-ed25519+AAAAC3NzaC1lZDI1NTE5AAAAIGm7mRZ2+me&butane=1.1.0",
            "bootstrap=static&member=a%3D10.0.0.1&member=b%3D10.0.0.2&member=c%3D10.0.0.3&this=b&cluster_token=prod&platform=gce&butane=1.1.0",
        ] {
            let (g, problems) = crate::config::generate(query);
            let config = read(&g.unwrap_or_else(|| panic!("{problems:?}")).ignition_json);
            let found = find_etcd(&config).unwrap();
            let (want, _) = Query::read(query);
            // A static cluster's flags name no platform: the caller's is kept.
            let given = if want.mode == Mode::Static { want.platform } else { Platform::by_id("metal").unwrap() };
            let fit = fit(&config, &found, given, ButaneVersion::V1_1_0);
            assert_eq!(fit.differences, Vec::<String>::new(), "{query}");
            assert_eq!(fit.query, want, "{query}");
        }
    }

    #[test]
    fn what_the_builder_would_not_write_is_named() {
        let config = ignition(concat!(
            "variant: flatcar\nversion: 1.1.0\npasswd:\n  users:\n    - name: app\n",
            "storage:\n  files:\n    - path: /etc/motd\n",
            "systemd:\n  units:\n    - name: fleet.service\n      mask: true\n    - name: etcd-member.service\n      enabled: true\n      dropins:\n        - name: 20-etcd.conf\n          contents: |\n",
            "            [Service]\n            EnvironmentFile=/run/metadata/flatcar\n            Environment=\"ETCD_NAME=%H\"\n",
            "            ExecStart=\n            ExecStart=/usr/lib/flatcar/etcd-wrapper $ETCD_OPTS \\\n              --discovery=\"https://d.example/t\" \\\n              --heartbeat-interval=200 \\\n",
            "              --listen-peer-urls=\"http://${COREOS_GCE_IP_LOCAL_0}:2380\" --initial-advertise-peer-urls=\"http://${COREOS_GCE_IP_LOCAL_0}:2380\"\n",
        ));
        let found = find_etcd(&config).unwrap();
        let fit = fit(
            &config,
            &found,
            Platform::by_id("metal").unwrap(),
            ButaneVersion::V1_1_0,
        );
        assert_eq!(fit.query.platform.id, "gce");
        assert_eq!(fit.query.discovery, "https://d.example/t");
        let all = fit.differences.join("\n");
        for want in [
            "ETCD_NAME=%H: the builder does not set it",
            "--heartbeat-interval=200: the builder does not set it",
            "--listen-client-urls: the builder adds it (http://0.0.0.0:2379)",
            "the unit fleet.service",
            "the file /etc/motd",
            "the user app",
        ] {
            assert!(all.contains(want), "{want:?} not in\n{all}");
        }
        assert!(!all.contains("--listen-peer-urls"), "{all}");
    }

    #[test]
    fn a_v3_token_asks_for_its_url() {
        let query = "bootstrap=v3&discovery=https%3A%2F%2Fd.example%2F0123456789abcdef&discovery_endpoints=10.0.0.9%3A2379&etcd_tag=v3.6.0&platform=metal&butane=1.1.0";
        let (g, _) = crate::config::generate(query);
        let config = read(&g.unwrap().ignition_json);
        let found = find_etcd(&config).unwrap();
        let fit = fit(
            &config,
            &found,
            Platform::by_id("metal").unwrap(),
            ButaneVersion::V1_1_0,
        );
        assert_eq!(fit.query.mode, Mode::V3Discovery);
        assert_eq!(fit.query.endpoints, "10.0.0.9:2379");
        assert_eq!(fit.differences.len(), 1, "{:?}", fit.differences);
        assert!(
            fit.differences[0].starts_with(
                "--discovery-token=0123456789abcdef: the builder takes the token's URL"
            ),
            "{:?}",
            fit.differences
        );
    }
}
