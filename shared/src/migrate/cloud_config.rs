//! A `#cloud-config` (coreos-cloudinit's format) read and written as Butane: `coreos.etcd2`
//! and `coreos.etcd` become the etcd-member drop-in, `coreos.units` units, `write_files` and
//! `hostname` files, `ssh_authorized_keys` and `users` users, update and reboot settings
//! Flatcar's `/etc/flatcar/update.conf`; `$private_ipv4` and `$public_ipv4` the platform's
//! metadata variables. What has no place is reported.

use butane::yaml::{Node, Value};

use super::doc::{File, Owner, Unit, User};
use super::etcd;
use super::read::{
    child, field, key_line, mappings, options, scalar, strings, text_of, top_entries, truthy,
    Gathered, Place, Reader,
};
use super::{Entry, Fate, Migration};
use crate::config::Platform;

/// cloud-config's update and locksmith keys, as Flatcar's update.conf settings.
const UPDATE_CONF: &[(&str, &str)] = &[
    ("coreos.update.reboot-strategy", "REBOOT_STRATEGY"),
    ("coreos.update.group", "GROUP"),
    ("coreos.update.server", "SERVER"),
    (
        "coreos.locksmith.window-start",
        "LOCKSMITHD_REBOOT_WINDOW_START",
    ),
    (
        "coreos.locksmith.window-length",
        "LOCKSMITHD_REBOOT_WINDOW_LENGTH",
    ),
    ("coreos.locksmith.group", "LOCKSMITHD_GROUP"),
    ("coreos.locksmith.endpoint", "LOCKSMITHD_ENDPOINT"),
];

pub fn migrate(text: &str, platform: &Platform) -> Result<Migration, String> {
    let top = top_entries(text, "cloud-config")?;
    let mut r = Reader::new(platform);
    let mut g = Gathered::default();
    for (k, v) in &top {
        let key = text_of(k);
        match key.as_str() {
            "coreos" => {
                let Value::Mapping(coreos) = &v.value else { continue };
                for (ck, cv) in coreos {
                    let ckey = text_of(ck);
                    let at = format!("coreos.{ckey}");
                    match ckey.as_str() {
                        "etcd2" => g.etcd = Some((etcd::from_etcd2(&options(cv), &at), ck.line, at)),
                        "etcd" => g.etcd = Some((etcd::from_etcd04(&options(cv), &at), ck.line, at)),
                        "units" => g.doc.units.extend(r.units(cv)),
                        "update" | "locksmith" => g.update.extend(r.update_conf(cv, &at, UPDATE_CONF)),
                        "fleet" => r.drop(ck, &at, "fleet no longer exists: CoreOS retired it in 2018 (run the workloads with systemd units, or Kubernetes)"),
                        "flannel" => r.drop(ck, &at, "Flatcar no longer configures flannel from the config: run it as a container or as Kubernetes' CNI"),
                        _ => r.drop(ck, &at, &format!("cloud-config's coreos.{ckey} has no place in Ignition")),
                    }
                }
            }
            "ssh_authorized_keys" => g.core_keys.extend(strings(v)),
            "hostname" => g.doc.files.push(File::inline(
                "/etc/hostname".into(),
                Some(0o644),
                Owner::default(),
                format!("{}\n", scalar(v)),
            )),
            "write_files" => g.doc.files.extend(r.write_files(v)),
            "users" => g.doc.users.extend(r.users(v)),
            "manage_etc_hosts" => r.drop(k, &key, "Flatcar resolves the host name itself; to pin /etc/hosts, write it with storage.files"),
            _ => r.drop(k, &key, &format!("cloud-config's {key} has no place in Ignition")),
        }
    }
    Ok(r.finish(g))
}

impl Reader<'_> {
    fn units(&mut self, node: &Node) -> Vec<Unit> {
        let mut out = Vec::new();
        for (i, item, fields) in mappings(node) {
            let at = format!("coreos.units.{i}");
            let name = field(item, "name");
            let mut unit = Unit::named(String::new());
            for (k, v) in fields {
                let key = text_of(k);
                match key.as_str() {
                    "name" => unit.name = scalar(v),
                    "content" => unit.contents = Some(self.addresses(&scalar(v), v.line, &format!("{at}.content"), Place::Unit(&name))),
                    "enable" => unit.enabled = Some(truthy(v)),
                    "mask" => unit.mask = Some(truthy(v)),
                    "command" => match scalar(v).as_str() {
                        "start" | "restart" | "reload-or-restart" | "try-restart" => {
                            unit.enabled = Some(true);
                            self.change(k.line, &format!("{at}.command"), "command: start became enabled: true: Ignition enables a unit (its [Install] section) rather than starting it once; it must have an [Install] section".into());
                        }
                        c => self.drop(k, &format!("{at}.command"), &format!("command: {c} has no equivalent: Ignition only enables or masks units")),
                    },
                    "drop-ins" | "drop_ins" => {
                        if let Value::Sequence(ds) = &v.value {
                            for d in ds {
                                let (name, content) = (field(d, "name"), field(d, "content"));
                                let content = self.addresses(&content, d.line, &format!("{at}.drop-ins"), Place::Unit(&name));
                                unit.dropins.push((name, content));
                            }
                        }
                    }
                    "runtime" => self.change(k.line, &format!("{at}.runtime"), "Ignition writes units to /etc/systemd/system: this unit, in /run before (runtime), now stays across reboots".into()),
                    _ => self.drop(k, &format!("{at}.{key}"), &format!("a unit's {key} has no equivalent")),
                }
            }
            let retired = matches!(
                unit.name.as_str(),
                "etcd.service"
                    | "etcd2.service"
                    | "fleet.service"
                    | "fleet.socket"
                    | "flanneld.service"
            );
            if retired {
                // The unit's own lines go with it: one entry says why.
                let inside = format!("{at}.");
                self.report.retain(|e| !e.key.starts_with(&inside));
            }
            match unit.name.as_str() {
                "etcd.service" | "etcd2.service" => {
                    self.report.push(Entry { line: item.line, key: at, fate: Fate::Changed, reason: format!("{} is etcd-member.service on Flatcar: the etcd section becomes its drop-in, and it is enabled there", unit.name) });
                }
                "fleet.service" | "fleet.socket" => {
                    self.report.push(Entry {
                        line: item.line,
                        key: at,
                        fate: Fate::Dropped,
                        reason: "fleet no longer exists: CoreOS retired it in 2018".into(),
                    });
                }
                "flanneld.service" => {
                    self.report.push(Entry { line: item.line, key: at, fate: Fate::Dropped, reason: "Flatcar no longer ships flanneld.service: run flannel as a container or as Kubernetes' CNI".into() });
                }
                _ => out.push(unit),
            }
        }
        out
    }

    fn write_files(&mut self, node: &Node) -> Vec<File> {
        let Value::Sequence(items) = &node.value else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let at = format!("write_files.{i}");
            let mut text = field(item, "content");
            let mode = child(item, "permissions")
                .and_then(|p| u32::from_str_radix(scalar(p).trim_start_matches("0o"), 8).ok());
            let mut owner = Owner::default();
            if let Some(o) = child(item, "owner") {
                let given = scalar(o);
                match given.split_once(':') {
                    Some((u, g)) => {
                        (owner.user, owner.group) = (Some(u.to_string()), Some(g.to_string()))
                    }
                    None => owner.user = Some(given),
                }
            }
            if let Some(e) = child(item, "encoding") {
                let encoding = scalar(e);
                match decode(&text, &encoding) {
                    Ok(decoded) => {
                        text = decoded;
                        self.change(item.line, &at, format!("its {encoding} content was decoded into inline text (butane encodes, and compresses, it again)"));
                    }
                    Err(why) => {
                        // The whole file stays behind: the entry is on its first line.
                        self.report.push(Entry {
                            line: item.line,
                            key: at.clone(),
                            fate: Fate::Dropped,
                            reason: format!("its {encoding} content is {why}: give it to butane with contents.local and -d"),
                        });
                        continue;
                    }
                }
            }
            let line = key_line(item, "content").unwrap_or(item.line);
            let text = self.addresses(&text, line, &format!("{at}.content"), Place::File);
            out.push(File::inline(field(item, "path"), mode, owner, text));
        }
        out
    }

    fn users(&mut self, node: &Node) -> Vec<User> {
        let mut out = Vec::new();
        for (i, _, fields) in mappings(node) {
            let at = format!("users.{i}");
            let mut user = User::default();
            for (k, v) in fields {
                let key = text_of(k);
                match key.as_str() {
                    "name" => user.name = scalar(v),
                    "passwd" => user.password_hash = Some(scalar(v)),
                    "ssh-authorized-keys" | "ssh_authorized_keys" => user.keys = strings(v),
                    "groups" => user.groups = strings(v),
                    "gecos" => user.gecos = Some(scalar(v)),
                    "homedir" => user.home_dir = Some(scalar(v)),
                    "shell" => user.shell = Some(scalar(v)),
                    "primary-group" => user.primary_group = Some(scalar(v)),
                    "no-create-home" => user.switches.push(("no_create_home", truthy(v))),
                    "no-user-group" => user.switches.push(("no_user_group", truthy(v))),
                    "system" => user.switches.push(("system", truthy(v))),
                    "no-log-init" => user.switches.push(("no_log_init", truthy(v))),
                    "coreos-ssh-import-github" | "coreos-ssh-import-github-users" | "coreos-ssh-import-url" => self.drop(k, &format!("{at}.{key}"), "Ignition fetches no keys from GitHub or a URL at boot: paste the keys into ssh_authorized_keys"),
                    _ => self.drop(k, &format!("{at}.{key}"), &format!("a user's {key} is not carried over (Butane's passwd.users has no such field, or this tool does not map it yet)")),
                }
            }
            out.push(user);
        }
        out
    }
}

/// write_files content as coreos-cloudinit decoded it (`b64`, `gz`, `gz+b64` and their long
/// names), when the result is text.
fn decode(content: &str, encoding: &str) -> Result<String, String> {
    use base64::Engine;
    use std::io::Read;
    let (gzip, base64) = match encoding {
        "b64" | "base64" => (false, true),
        "gz" | "gzip" => (true, false),
        "gz+base64" | "gzip+base64" | "gz+b64" | "gzip+b64" => (true, true),
        other => {
            return Err(format!(
                "the encoding {other:?} is not one coreos-cloudinit knew"
            ))
        }
    };
    let mut bytes = content.as_bytes().to_vec();
    if base64 {
        bytes = base64::engine::general_purpose::STANDARD
            .decode(content.trim())
            .map_err(|e| format!("not base64 ({e})"))?;
    }
    if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("not gzip ({e})"))?;
        bytes = out;
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::testing::{assert_translates, platform};

    /// The seed's cloud-config (CoreOS's cluster discovery guide, etcd 0.4), grown with what
    /// cloud-configs of that time held.
    const SEED: &str = "#cloud-config\n\ncoreos:\n  etcd:\n    # generate a new token for each unique cluster from https://discovery.etcd.io/new\n    discovery: https://discovery.etcd.io/6a28e078895c5ec737174db2419bb2f3\n    # multi-region deployments, multi-cloud deployments, and droplets without\n    # private networking need to use $public_ipv4\n    addr: $private_ipv4:4001\n    peer-addr: $private_ipv4:7001\n  fleet:\n    public-ip: $private_ipv4\n  units:\n    - name: etcd.service\n      command: start\n    - name: fleet.service\n      command: start\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm7mRZ2 me@laptop\nhostname: node-1\n";

    #[test]
    fn the_seeds_cloud_config_becomes_butane_that_translates_cleanly() {
        let platform = platform("metal");
        let m = migrate(SEED, platform).unwrap();
        assert_translates(&m, true);
        assert!(
            m.butane.contains(
                "--discovery=\"https://discovery.etcd.io/6a28e078895c5ec737174db2419bb2f3\""
            ),
            "{}",
            m.butane
        );
        assert!(
            m.butane.contains(
                "--initial-advertise-peer-urls=\"http://${COREOS_CUSTOM_PRIVATE_IPV4}:7001\""
            ),
            "{}",
            m.butane
        );
        assert!(m.butane.contains("etcd-address.service"));
        assert!(m.butane.contains("path: \"/etc/hostname\""));
        let keys: Vec<&str> = m.report.iter().map(|e| e.key.as_str()).collect();
        for key in [
            "coreos.etcd.discovery",
            "coreos.etcd.addr",
            "coreos.etcd.peer-addr",
            "coreos.fleet",
            "coreos.units.0",
        ] {
            assert!(keys.contains(&key), "{key} not in {keys:?}");
        }
        let fleet = m.report.iter().find(|e| e.key == "coreos.fleet").unwrap();
        assert_eq!((fleet.line, fleet.fate), (11, Fate::Dropped));
    }

    #[test]
    fn a_cloud_platform_uses_its_metadata_variables() {
        let ec2 = platform("ec2");
        let text = "#cloud-config\ncoreos:\n  etcd2:\n    discovery: https://d.example/0123456789abcdef0123456789abcdef\n    advertise-client-urls: http://$public_ipv4:2379\n    initial-advertise-peer-urls: http://$private_ipv4:2380\n    listen-client-urls: http://0.0.0.0:2379\n    listen-peer-urls: http://$private_ipv4:2380\n    proxy: on\n  update:\n    reboot-strategy: etcd-lock\n";
        let m = migrate(text, ec2).unwrap();
        assert!(
            m.butane.contains("${COREOS_EC2_IPV4_PUBLIC}")
                && m.butane.contains("EnvironmentFile=/run/metadata/flatcar"),
            "{}",
            m.butane
        );
        assert!(!m.butane.contains("etcd-address.service"));
        assert!(m.butane.contains("REBOOT_STRATEGY=etcd-lock"));
        let proxy = m
            .report
            .iter()
            .find(|e| e.key == "coreos.etcd2.proxy")
            .unwrap();
        assert_eq!((proxy.line, proxy.fate), (9, Fate::Dropped));
        let outcome = ::butane::translate(&m.butane, &::butane::Options::default());
        assert!(
            outcome.succeeded(true),
            "{}",
            outcome.stderr(&m.butane, true)
        );
    }
}
