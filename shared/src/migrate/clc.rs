//! A Container Linux Config (ct's YAML) read and written as Butane: its `etcd:` section
//! becomes the etcd-member drop-in (`version` the image tag, `{PRIVATE_IPV4}` and the other
//! placeholders the platform's metadata variables, `{HOSTNAME}` systemd's `%H`), `systemd`,
//! `passwd` and most of `storage` carry over (ct's forms made Butane's), `networkd` units become
//! files, `docker.flags` a drop-in, `update` and `locksmith` Flatcar's update.conf. The rest is
//! reported.

use butane::yaml::{Node, Value};

use super::doc::{Contents, Directory, File, Link, Owner, Unit, User};
use super::etcd::{self, Option_};
use super::read::{
    child, field, mappings, scalar, strings, text_of, top_entries, truthy, Gathered, Reader,
};
use super::{Entry, Fate, Migration};
use crate::config::Platform;

/// ct's update and locksmith keys, as Flatcar's update.conf settings.
const UPDATE_CONF: &[(&str, &str)] = &[
    ("update.group", "GROUP"),
    ("update.server", "SERVER"),
    ("locksmith.reboot_strategy", "REBOOT_STRATEGY"),
    ("locksmith.window_start", "LOCKSMITHD_REBOOT_WINDOW_START"),
    ("locksmith.window_length", "LOCKSMITHD_REBOOT_WINDOW_LENGTH"),
    ("locksmith.group", "LOCKSMITHD_GROUP"),
    ("locksmith.etcd_endpoints", "LOCKSMITHD_ENDPOINT"),
    ("locksmith.etcd_cafile", "LOCKSMITHD_ETCD_CAFILE"),
    ("locksmith.etcd_certfile", "LOCKSMITHD_ETCD_CERTFILE"),
    ("locksmith.etcd_keyfile", "LOCKSMITHD_ETCD_KEYFILE"),
];

pub fn migrate(text: &str, platform: &Platform) -> Result<Migration, String> {
    let top = top_entries(text, "Container Linux Config")?;
    let mut r = Reader::new(platform);
    let mut g = Gathered::default();
    for (k, v) in &top {
        let key = text_of(k);
        match key.as_str() {
            "etcd" => g.etcd = Some((r.ct_etcd(v), k.line, "etcd".into())),
            "systemd" => {
                if let Some(units) = child(v, "units") {
                    g.doc.units.extend(r.ct_units(units, "systemd.units"));
                }
            }
            "networkd" => {
                for (i, _, fields) in child(v, "units").map(mappings).into_iter().flatten() {
                    let name = value_of(fields, "name");
                    r.change(k.line, &format!("networkd.units.{i}"), format!("networkd units are files in Butane: {name} became /etc/systemd/network/{name}"));
                    g.doc.files.push(File {
                        path: format!("/etc/systemd/network/{name}"),
                        mode: Some(0o644),
                        owner: Owner::default(),
                        contents: Contents::Inline(value_of(fields, "contents")),
                    });
                }
            }
            "passwd" => {
                if let Some(users) = child(v, "users") {
                    g.doc.users.extend(r.ct_users(users));
                }
                if child(v, "groups").is_some() {
                    r.drop(k, "passwd.groups", "groups are not carried over by this tool yet: copy them to Butane's passwd.groups (the same fields)");
                }
            }
            "storage" => r.ct_storage(v, &mut g),
            "update" | "locksmith" => g.update.extend(r.update_conf(v, &key, UPDATE_CONF)),
            "docker" => {
                let flags = child(v, "flags").map(strings).unwrap_or_default();
                if !flags.is_empty() {
                    r.change(k.line, "docker.flags", "docker's flags became a drop-in for docker.service setting DOCKER_OPTS, as ct wrote it".into());
                    let mut docker = Unit::named("docker.service".into());
                    docker.dropins.push(("20-clct-docker.conf".into(), format!("[Service]\nEnvironment=\"DOCKER_OPTS={}\"\n", flags.join(" "))));
                    g.doc.units.push(docker);
                }
            }
            "flannel" => r.drop(k, "flannel", "Flatcar no longer configures flannel from the config: run it as a container or as Kubernetes' CNI"),
            "ignition" => r.drop(k, "ignition", "ct's ignition.config.append/replace: move them to Butane's ignition.config.merge/replace by hand (the same sources)"),
            _ => r.drop(k, &key, &format!("a Container Linux Config's {key} has no equivalent in Butane")),
        }
    }
    Ok(r.finish(g))
}

/// The scalar value of `key` among a mapping's entries.
fn value_of(fields: &[(Node, Node)], key: &str) -> String {
    fields
        .iter()
        .find(|(k, _)| text_of(k) == key)
        .map(|(_, v)| scalar(v))
        .unwrap_or_default()
}

impl Reader<'_> {
    /// ct's `etcd:` options (snake_case) as today's flags; `version` the image tag, `name`'s
    /// `{HOSTNAME}` systemd's host name specifier.
    fn ct_etcd(&mut self, node: &Node) -> etcd::Flags {
        let mut options = Vec::new();
        let mut version = None;
        if let Value::Mapping(entries) = &node.value {
            for (k, v) in entries {
                let key = text_of(k);
                if key == "version" {
                    version = Some((scalar(v), k.line));
                    continue;
                }
                options.push(Option_ {
                    line: k.line,
                    key: key.replace('_', "-"),
                    value: scalar(v),
                });
            }
        }
        let mut flags = etcd::from_etcd2(&options, "etcd");
        if let Some(name) = &mut flags.name {
            if name.contains("{HOSTNAME}") {
                *name = name.replace("{HOSTNAME}", "%H");
                let line = options
                    .iter()
                    .find(|o| o.key == "name")
                    .map_or(0, |o| o.line);
                flags.report.push(Entry {
                    line,
                    key: "etcd.name".into(),
                    fate: Fate::Changed,
                    reason: "{HOSTNAME} became systemd's %H in ETCD_NAME".into(),
                });
            }
        }
        if let Some((version, line)) = version {
            let tag = format!("v{}", version.trim_start_matches('v'));
            flags.report.push(Entry { line, key: "etcd.version".into(), fate: Fate::Changed, reason: format!("the etcd version became ETCD_IMAGE_TAG={tag} (Flatcar's etcd-wrapper runs that image); etcd before 3.4 is no longer published for it") });
            flags.image_tag = Some(tag);
        }
        flags
    }

    fn ct_units(&mut self, node: &Node, at: &str) -> Vec<Unit> {
        let mut out = Vec::new();
        for (i, _, fields) in mappings(node) {
            let mut unit = Unit::named(String::new());
            for (k, v) in fields {
                let key = text_of(k);
                match key.as_str() {
                    "name" => unit.name = scalar(v),
                    "enabled" | "enable" => unit.enabled = Some(truthy(v)),
                    "mask" => unit.mask = Some(truthy(v)),
                    "contents" => {
                        unit.contents =
                            Some(self.addresses(&scalar(v), v.line, &format!("{at}.{i}.contents")))
                    }
                    "dropins" => {
                        for (_, d, _) in mappings(v) {
                            let contents = self.addresses(
                                &field(d, "contents"),
                                d.line,
                                &format!("{at}.{i}.dropins"),
                            );
                            unit.dropins.push((field(d, "name"), contents));
                        }
                    }
                    _ => self.drop(
                        k,
                        &format!("{at}.{i}.{key}"),
                        &format!("a unit's {key} has no equivalent in Butane"),
                    ),
                }
            }
            out.push(unit);
        }
        out
    }

    fn ct_users(&mut self, node: &Node) -> Vec<User> {
        let mut out = Vec::new();
        for (i, _, fields) in mappings(node) {
            let mut user = User::default();
            for (k, v) in fields {
                let key = text_of(k);
                match key.as_str() {
                    "name" => user.name = scalar(v),
                    "password_hash" => user.password_hash = Some(scalar(v)),
                    "ssh_authorized_keys" => user.keys = strings(v),
                    "groups" => user.groups = strings(v),
                    "gecos" => user.gecos = Some(scalar(v)),
                    "home_dir" => user.home_dir = Some(scalar(v)),
                    "shell" => user.shell = Some(scalar(v)),
                    "primary_group" => user.primary_group = Some(scalar(v)),
                    "uid" => user.uid = scalar(v).parse().ok(),
                    "no_create_home" => user.switches.push(("no_create_home", truthy(v))),
                    "no_user_group" => user.switches.push(("no_user_group", truthy(v))),
                    "no_log_init" => user.switches.push(("no_log_init", truthy(v))),
                    "system" => user.switches.push(("system", truthy(v))),
                    "create" => self.drop(k, &format!("passwd.users.{i}.create"), "ct's deprecated create section: its fields (uid, home_dir, groups, ...) go on the user itself in Butane"),
                    _ => self.drop(k, &format!("passwd.users.{i}.{key}"), &format!("a user's {key} has no equivalent in Butane")),
                }
            }
            out.push(user);
        }
        out
    }

    fn ct_storage(&mut self, node: &Node, g: &mut Gathered) {
        let Value::Mapping(entries) = &node.value else {
            return;
        };
        for (k, v) in entries {
            let key = text_of(k);
            let at = format!("storage.{key}");
            match key.as_str() {
                "files" => {
                    for (i, item, fields) in mappings(v) {
                        self.on_root(fields, &format!("{at}.{i}"));
                        let contents = match child(item, "contents") {
                            Some(c) => match (child(c, "inline"), child(c, "remote")) {
                                (Some(text), _) => Contents::Inline(self.addresses(&scalar(text), text.line, &format!("{at}.{i}.contents.inline"))),
                                (None, Some(remote)) => {
                                    self.change(remote.line, &format!("{at}.{i}.contents.remote"), "contents.remote.url became contents.source (its compression and verification are not carried over yet: add them by hand)".into());
                                    Contents::Source(field(remote, "url"))
                                }
                                _ => Contents::Inline(String::new()),
                            },
                            None => Contents::Inline(String::new()),
                        };
                        if child(item, "append").is_some_and(truthy) {
                            self.drop(child(item, "append").expect("checked"), &format!("{at}.{i}.append"), "ct's append: true: in Butane appended contents are a list (append: [{inline: ...}]); move the contents there by hand");
                        }
                        g.doc.files.push(File { path: field(item, "path"), mode: mode(item), owner: owner(item), contents });
                    }
                }
                "directories" => {
                    for (i, item, fields) in mappings(v) {
                        self.on_root(fields, &format!("{at}.{i}"));
                        g.doc.directories.push(Directory { path: field(item, "path"), mode: mode(item), owner: owner(item) });
                    }
                }
                "links" => {
                    for (i, item, fields) in mappings(v) {
                        self.on_root(fields, &format!("{at}.{i}"));
                        g.doc.links.push(Link { path: field(item, "path"), target: field(item, "target"), hard: child(item, "hard").is_some_and(truthy) });
                    }
                }
                _ => self.drop(k, &at, &format!("ct's storage.{key} is not carried over by this tool: its Butane form differs (sizes in MiB, mounts as filesystems' path); write it by hand")),
            }
        }
    }

    /// ct names each node's filesystem; Butane's paths are all on the root filesystem.
    fn on_root(&mut self, fields: &[(Node, Node)], at: &str) {
        if let Some((k, v)) = fields.iter().find(|(k, _)| text_of(k) == "filesystem") {
            if scalar(v) != "root" {
                self.drop(k, &format!("{at}.filesystem"), &format!("a node on the filesystem named {}: Butane places nodes by path; put the path under that filesystem's mount point", scalar(v)));
            }
        }
    }
}

fn mode(item: &Node) -> Option<u32> {
    let text = scalar(child(item, "mode")?);
    // ct's modes are YAML integers: 0644 (octal, as YAML 1.1 reads it) or 420.
    match text.strip_prefix('0').filter(|rest| !rest.is_empty()) {
        Some(octal) => u32::from_str_radix(octal.trim_start_matches('o'), 8).ok(),
        None => text.parse().ok(),
    }
}

fn owner(item: &Node) -> Owner {
    let pick = |key: &str| {
        let node = child(item, key)?;
        child(node, "name")
            .map(scalar)
            .or_else(|| child(node, "id").map(scalar))
    };
    Owner {
        user: pick("user"),
        group: pick("group"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::testing::{assert_translates, platform};

    /// The seed's Container Linux Config (CoreOS's cluster discovery guide).
    const SEED: &str = "# This config is meant to be consumed by the config transpiler, which will\n# generate the corresponding Ignition config. Do not pass this config directly\n# to instances of Container Linux.\n\netcd:\n  # generate a new token for each unique cluster from https://discovery.etcd.io/new?size=3\n  # specify the initial size of your cluster with ?size=X\n  discovery: https://discovery.etcd.io/6a28e078895c5ec737174db2419bb2f3\n  # multi_region and multi_cloud deployments need to use {PUBLIC_IPV4}\n  advertise_client_urls: http://{PRIVATE_IPV4}:2379,http://{PRIVATE_IPV4}:4001\n  initial_advertise_peer_urls: http://{PRIVATE_IPV4}:2380\n  # listen on both the official ports and the legacy ports\n  # legacy ports can be omitted if your application doesn't depend on them\n  listen_client_urls: http://0.0.0.0:2379,http://0.0.0.0:4001\n  listen_peer_urls: http://{PRIVATE_IPV4}:2380\n";

    #[test]
    fn the_seeds_container_linux_config_becomes_the_drop_in_ct_wrote() {
        let ec2 = platform("ec2");
        let m = migrate(SEED, ec2).unwrap();
        assert_translates(&m, true);
        // ct's own output for it (in the seed) had these flags, on EC2.
        for flag in [
            "--listen-peer-urls=\"http://${COREOS_EC2_IPV4_LOCAL}:2380\"",
            "--listen-client-urls=\"http://0.0.0.0:2379,http://0.0.0.0:4001\"",
            "--initial-advertise-peer-urls=\"http://${COREOS_EC2_IPV4_LOCAL}:2380\"",
            "--advertise-client-urls=\"http://${COREOS_EC2_IPV4_LOCAL}:2379,http://${COREOS_EC2_IPV4_LOCAL}:4001\"",
            "--discovery=\"https://discovery.etcd.io/6a28e078895c5ec737174db2419bb2f3\"",
            "EnvironmentFile=/run/metadata/flatcar",
        ] {
            assert!(m.butane.contains(flag), "{flag} not in\n{}", m.butane);
        }
        let lines: Vec<usize> = m.report.iter().map(|e| e.line).collect();
        assert_eq!(lines, [5, 8], "{:?}", m.report);
    }

    #[test]
    fn every_section_is_carried_or_reported() {
        let text = "etcd:\n  version: 3.5.16\n  name: \"{HOSTNAME}\"\n  proxy: on\nsystemd:\n  units:\n    - name: app.service\n      enable: true\n      contents: |\n        [Service]\n        ExecStart=/usr/bin/echo {PRIVATE_IPV4}\n        [Install]\n        WantedBy=multi-user.target\npasswd:\n  users:\n    - name: core\n      ssh_authorized_keys: [ssh-ed25519 AAAA me]\n    - name: app\n      uid: 1001\n      system: true\nstorage:\n  files:\n    - path: /etc/motd\n      filesystem: root\n      mode: 0644\n      user: {name: app}\n      contents:\n        inline: hi\n  directories:\n    - path: /var/app\n      filesystem: root\n      mode: 0750\n  links:\n    - path: /etc/app\n      target: /var/app\n  disks:\n    - device: /dev/sdb\nnetworkd:\n  units:\n    - name: 00-eth0.network\n      contents: \"[Match]\\nName=eth0\\n\"\ndocker:\n  flags: [--debug]\nupdate:\n  group: beta\nlocksmith:\n  reboot_strategy: off\nflannel:\n  version: 0.10.0\n";
        let metal = platform("metal");
        let m = migrate(text, metal).unwrap();
        assert_translates(&m, false);
        for want in [
            "ETCD_IMAGE_TAG=v3.5.16",
            "ETCD_NAME=%H",
            "/etc/systemd/network/00-eth0.network",
            "DOCKER_OPTS=--debug",
            "GROUP=beta",
            "REBOOT_STRATEGY=off",
            "uid: 1001",
            "system: true",
            "mode: 0750",
            "target: \"/var/app\"",
        ] {
            assert!(m.butane.contains(want), "{want} not in\n{}", m.butane);
        }
        let dropped: Vec<&str> = m
            .report
            .iter()
            .filter(|e| e.fate == Fate::Dropped)
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(dropped, ["etcd.proxy", "storage.disks", "flannel"]);
    }
}
