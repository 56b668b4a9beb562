//! A Container Linux Config (ct's YAML) read and written as Butane: its `etcd:` section
//! becomes the etcd-member drop-in (`version` the image tag, `{PRIVATE_IPV4}` and the other
//! placeholders the platform's metadata variables, `{HOSTNAME}` systemd's `%H`), `systemd`,
//! `passwd` and most of `storage` carry over (ct's forms made Butane's), `networkd` units become
//! files, `docker.flags` a drop-in, `update` and `locksmith` Flatcar's update.conf. The rest is
//! reported.

use butane::yaml::{Node, Value};

use super::doc::{
    Contents, Directory, Disk, File, Filesystem, Group, Link, Owner, Partition, Raid, Unit, User,
};
use super::etcd::{self, Option_};
use super::read::{
    child, field, key_line, mappings, scalar, strings, text_of, top_entries, truthy, Gathered,
    Place, Reader,
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
                for (i, item, fields) in child(v, "units").map(mappings).into_iter().flatten() {
                    let name = value_of(fields, "name");
                    r.change(item.line, &format!("networkd.units.{i}"), format!("networkd units are files in Butane: {name} became /etc/systemd/network/{name}"));
                    g.doc.files.push(File::inline(
                        format!("/etc/systemd/network/{name}"),
                        Some(0o644),
                        Owner::default(),
                        value_of(fields, "contents"),
                    ));
                }
            }
            "passwd" => {
                if let Some(users) = child(v, "users") {
                    g.doc.users.extend(r.ct_users(users));
                }
                if let Some(groups) = child(v, "groups") {
                    g.doc.groups.extend(r.ct_groups(groups));
                }
            }
            "storage" => r.ct_storage(v, &mut g),
            "update" | "locksmith" => g.update.extend(r.update_conf(v, &key, UPDATE_CONF)),
            "docker" => {
                let flags = child(v, "flags").map(strings).unwrap_or_default();
                if !flags.is_empty() {
                    r.change(key_line(v, "flags").unwrap_or(k.line), "docker.flags", "docker's flags became a drop-in for docker.service setting DOCKER_OPTS, as ct wrote it".into());
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
        // The report names ct's keys as written (snake_case).
        for e in &mut flags.report {
            e.key = e.key.replace('-', "_");
        }
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
        for (i, item, fields) in mappings(node) {
            // The name first: the unit's texts are read knowing whose they are.
            let name = field(item, "name");
            let mut unit = Unit::named(String::new());
            for (k, v) in fields {
                let key = text_of(k);
                match key.as_str() {
                    "name" => unit.name = scalar(v),
                    "enabled" | "enable" => unit.enabled = Some(truthy(v)),
                    "mask" => unit.mask = Some(truthy(v)),
                    "contents" => {
                        unit.contents = Some(self.addresses(
                            &scalar(v),
                            v.line,
                            &format!("{at}.{i}.contents"),
                            Place::Unit(&name),
                        ))
                    }
                    "dropins" => {
                        for (_, d, _) in mappings(v) {
                            let contents = self.addresses(
                                &field(d, "contents"),
                                d.line,
                                &format!("{at}.{i}.dropins"),
                                Place::Unit(&name),
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
                let at = format!("passwd.users.{i}.{key}");
                match key.as_str() {
                    "name" => user.name = scalar(v),
                    "password_hash" => user.password_hash = Some(scalar(v)),
                    "ssh_authorized_keys" => user.keys = strings(v),
                    // ct's deprecated create section holds the same fields.
                    "create" => {
                        if let Value::Mapping(create) = &v.value {
                            for (ck, cv) in create {
                                let ckey = text_of(ck);
                                if !user_field(&mut user, &ckey, cv) {
                                    self.drop(
                                        ck,
                                        &format!("{at}.{ckey}"),
                                        &format!("a user's {ckey} has no equivalent in Butane"),
                                    );
                                }
                            }
                        }
                        self.change(k.line, &at, "ct's deprecated create section: its fields became the user's own, as Butane has them".into());
                    }
                    _ => {
                        if !user_field(&mut user, &key, v) {
                            self.drop(
                                k,
                                &at,
                                &format!("a user's {key} has no equivalent in Butane"),
                            );
                        }
                    }
                }
            }
            out.push(user);
        }
        out
    }

    fn ct_groups(&mut self, node: &Node) -> Vec<Group> {
        let mut out = Vec::new();
        for (i, _, fields) in mappings(node) {
            let mut group = Group {
                name: String::new(),
                gid: None,
                password_hash: None,
                system: false,
            };
            for (k, v) in fields {
                match text_of(k).as_str() {
                    "name" => group.name = scalar(v),
                    "gid" => group.gid = scalar(v).parse().ok(),
                    "password_hash" => group.password_hash = Some(scalar(v)),
                    "system" => group.system = truthy(v),
                    key => self.drop(
                        k,
                        &format!("passwd.groups.{i}.{key}"),
                        &format!("a group's {key} has no equivalent in Butane"),
                    ),
                }
            }
            out.push(group);
        }
        out
    }

    fn ct_storage(&mut self, node: &Node, g: &mut Gathered) {
        let Value::Mapping(entries) = &node.value else {
            return;
        };
        // Filesystems given by `path` (already mounted there): their nodes' paths go under it.
        let mut mounted = vec![("root".to_string(), String::new())];
        for (k, v) in entries.iter().filter(|(k, _)| text_of(k) == "filesystems") {
            for (i, item, _) in mappings(v) {
                let name = field(item, "name");
                if let Some(path) = child(item, "path") {
                    mounted.push((name, scalar(path).trim_end_matches('/').to_string()));
                } else if let Some(mount) = child(item, "mount") {
                    let fs = self.ct_filesystem(mount, &format!("storage.filesystems.{i}.mount"));
                    g.doc.filesystems.push(fs);
                } else {
                    self.drop(
                        k,
                        &format!("storage.filesystems.{i}"),
                        "a filesystem with neither mount nor path says nothing",
                    );
                }
            }
        }
        for (k, v) in entries {
            let key = text_of(k);
            let at = format!("storage.{key}");
            match key.as_str() {
                "files" => {
                    for (i, item, fields) in mappings(v) {
                        let Some(path) =
                            self.on_filesystem(item, fields, &mounted, &format!("{at}.{i}"))
                        else {
                            continue;
                        };
                        let contents = match child(item, "contents") {
                            Some(c) => self.ct_contents(c, &format!("{at}.{i}.contents")),
                            None => Contents::Inline(String::new()),
                        };
                        let append = child(item, "append").is_some_and(truthy);
                        if append {
                            self.change(key_line(item, "append").unwrap_or(item.line), &format!("{at}.{i}.append"), "append: true became Butane's append list: the contents are added to the file, as before".into());
                        }
                        g.doc.files.push(File {
                            path,
                            mode: mode(item),
                            owner: owner(item),
                            overwrite: overwrite(item),
                            append,
                            contents,
                        });
                    }
                }
                "directories" => {
                    for (i, item, fields) in mappings(v) {
                        let Some(path) =
                            self.on_filesystem(item, fields, &mounted, &format!("{at}.{i}"))
                        else {
                            continue;
                        };
                        g.doc.directories.push(Directory {
                            path,
                            mode: mode(item),
                            owner: owner(item),
                            overwrite: overwrite(item),
                        });
                    }
                }
                "links" => {
                    for (i, item, fields) in mappings(v) {
                        let Some(path) =
                            self.on_filesystem(item, fields, &mounted, &format!("{at}.{i}"))
                        else {
                            continue;
                        };
                        g.doc.links.push(Link {
                            path,
                            target: field(item, "target"),
                            hard: child(item, "hard").is_some_and(truthy),
                            owner: owner(item),
                            overwrite: overwrite(item),
                        });
                    }
                }
                "disks" => {
                    for (i, item, _) in mappings(v) {
                        let partitions = child(item, "partitions")
                            .map(|ps| self.ct_partitions(ps, &format!("{at}.{i}.partitions")))
                            .unwrap_or_default();
                        g.doc.disks.push(Disk {
                            device: field(item, "device"),
                            wipe_table: child(item, "wipe_table").is_some_and(truthy),
                            partitions,
                        });
                    }
                }
                "raid" => {
                    for (_, item, _) in mappings(v) {
                        g.doc.raid.push(Raid {
                            name: field(item, "name"),
                            level: field(item, "level"),
                            devices: child(item, "devices").map(strings).unwrap_or_default(),
                            spares: child(item, "spares").and_then(|s| scalar(s).parse().ok()),
                            options: child(item, "options").map(strings).unwrap_or_default(),
                        });
                    }
                }
                "filesystems" => {}
                _ => self.drop(
                    k,
                    &at,
                    &format!(
                        "a Container Linux Config's storage.{key} has no equivalent in Butane"
                    ),
                ),
            }
        }
    }

    /// A file's contents: inline text (its addresses substituted), a remote URL with its
    /// compression and hash, or a local file (butane's `-d` as ct's `--files-dir`).
    fn ct_contents(&mut self, c: &Node, at: &str) -> Contents {
        if let Some(text) = child(c, "inline") {
            return Contents::Inline(self.addresses(
                &scalar(text),
                text.line,
                &format!("{at}.inline"),
                Place::File,
            ));
        }
        if let Some(local) = child(c, "local") {
            self.change(local.line, &format!("{at}.local"), "contents.local stays local: give butane the same files directory with -d (ct's --files-dir)".into());
            return Contents::Local(scalar(local));
        }
        let Some(remote) = child(c, "remote") else {
            return Contents::Inline(String::new());
        };
        let hash = child(remote, "verification")
            .and_then(|v| child(v, "hash"))
            .map(|h| format!("{}-{}", field(h, "function"), field(h, "sum")));
        let compression = child(remote, "compression")
            .map(scalar)
            .filter(|c| !c.is_empty());
        self.change(key_line(c, "remote").unwrap_or(remote.line), &format!("{at}.remote"), "contents.remote became contents.source, with its compression and verification.hash (function-sum)".into());
        Contents::Source {
            url: field(remote, "url"),
            compression,
            hash,
        }
    }

    /// ct's partition sizes and starts (`1GiB`, `512MiB`) as Butane's MiB; its type GUID
    /// aliases as the GUIDs ct wrote for them.
    fn ct_partitions(&mut self, node: &Node, at: &str) -> Vec<Partition> {
        let mut out = Vec::new();
        for (i, _, fields) in mappings(node) {
            let mut p = Partition::default();
            for (k, v) in fields {
                let key = text_of(k);
                match key.as_str() {
                    "label" => p.label = Some(scalar(v)),
                    "number" => p.number = scalar(v).parse().ok(),
                    "size" | "start" => match mebibytes(&scalar(v)) {
                        Ok(mib) => {
                            self.change(
                                k.line,
                                &format!("{at}.{i}.{key}"),
                                format!("{key}: {} became {key}_mib: {mib}", scalar(v)),
                            );
                            if key == "size" {
                                p.size_mib = Some(mib)
                            } else {
                                p.start_mib = Some(mib)
                            }
                        }
                        Err(why) => self.drop(
                            k,
                            &format!("{at}.{i}.{key}"),
                            &format!("{key}: {why}: write {key}_mib by hand"),
                        ),
                    },
                    "guid" => p.guid = Some(scalar(v)),
                    "type_guid" => {
                        let given = scalar(v);
                        let guid = TYPE_GUIDS
                            .iter()
                            .find(|(alias, _)| *alias == given)
                            .map(|(_, g)| g.to_string());
                        if guid.is_some() {
                            self.change(
                                k.line,
                                &format!("{at}.{i}.type_guid"),
                                format!("the type GUID alias {given} became its GUID"),
                            );
                        }
                        p.type_guid = Some(guid.unwrap_or(given));
                    }
                    _ => self.drop(
                        k,
                        &format!("{at}.{i}.{key}"),
                        &format!("a partition's {key} has no equivalent in Butane"),
                    ),
                }
            }
            out.push(p);
        }
        out
    }

    /// ct's `mount` section (Ignition 2's) as a Butane filesystem: `create` (deprecated) folds
    /// into `wipe_filesystem` and `options`, as Ignition 3 has them.
    fn ct_filesystem(&mut self, mount: &Node, at: &str) -> Filesystem {
        let mut fs = Filesystem::default();
        let Value::Mapping(fields) = &mount.value else {
            return fs;
        };
        for (k, v) in fields {
            let key = text_of(k);
            match key.as_str() {
                "device" => fs.device = scalar(v),
                "format" => fs.format = Some(scalar(v)),
                "wipe_filesystem" => fs.wipe_filesystem = truthy(v),
                "label" => fs.label = Some(scalar(v)),
                "uuid" => fs.uuid = Some(scalar(v)),
                "options" => fs.options.extend(strings(v)),
                "create" => {
                    fs.wipe_filesystem |= child(v, "force").is_some_and(truthy);
                    fs.options
                        .extend(child(v, "options").map(strings).unwrap_or_default());
                    self.change(k.line, &format!("{at}.create"), "the deprecated create section became wipe_filesystem (its force) and options (mkfs's)".into());
                }
                _ => self.drop(
                    k,
                    &format!("{at}.{key}"),
                    &format!("a filesystem's {key} has no equivalent in Butane"),
                ),
            }
        }
        fs
    }

    /// A node's path in Butane: as given on the root filesystem, under the mount point of a
    /// filesystem ct knew by `path`; `None` (reported) on one only Ignition 2 could mount.
    fn on_filesystem(
        &mut self,
        item: &Node,
        fields: &[(Node, Node)],
        mounted: &[(String, String)],
        at: &str,
    ) -> Option<String> {
        let path = field(item, "path");
        let Some((k, v)) = fields.iter().find(|(k, _)| text_of(k) == "filesystem") else {
            return Some(path);
        };
        let name = scalar(v);
        match mounted.iter().find(|(n, _)| *n == name) {
            Some((_, under)) if under.is_empty() => Some(path),
            Some((_, under)) => {
                self.change(k.line, &format!("{at}.filesystem"), format!("on the filesystem {name} mounted at {under}: the path became {under}{path}"));
                Some(format!("{under}{path}"))
            }
            None => {
                // The whole node stays behind: the entry is on its first line.
                self.report.push(Entry { line: item.line, key: at.to_string(), fate: Fate::Dropped, reason: format!("a node on the filesystem {name}, which Ignition 2 mounted itself: Butane places nodes by path; give that filesystem a path (its mount point) and put the node under it") });
                None
            }
        }
    }
}

/// Sets a user's field that ct and Butane share; false for a key that is not one.
fn user_field(user: &mut User, key: &str, v: &Node) -> bool {
    match key {
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
        _ => return false,
    }
    true
}

/// ct's type GUID aliases.
const TYPE_GUIDS: [(&str, &str); 4] = [
    (
        "raid_containing_root",
        "be9067b9-ea49-4f15-b4f6-f36f8c9e1818",
    ),
    (
        "linux_filesystem_data",
        "0fc63daf-8483-4772-8e79-3d69d8477de4",
    ),
    ("swap_partition", "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f"),
    ("raid_partition", "a19d880f-05fc-4d3b-a006-743f0f84911e"),
];

/// A size as ct read it (base-2 units: `512MiB`, `2GiB`, `1TB` meaning TiB, or bytes) in
/// whole MiB.
fn mebibytes(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: i64 = number.parse().map_err(|_| format!("{t:?} is not a size"))?;
    let scale: i64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "KB" | "K" => 1 << 10,
        "MiB" | "MB" | "M" => 1 << 20,
        "GiB" | "GB" | "G" => 1 << 30,
        "TiB" | "TB" | "T" => 1 << 40,
        other => return Err(format!("{other:?} is not a unit of size")),
    };
    let bytes = number
        .checked_mul(scale)
        .ok_or_else(|| format!("{t:?} is too large"))?;
    if bytes % (1 << 20) != 0 {
        return Err(format!("{t:?} is not a whole number of MiB"));
    }
    Ok(bytes >> 20)
}

fn overwrite(item: &Node) -> Option<bool> {
    child(item, "overwrite").map(truthy)
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
        assert_eq!(dropped, ["etcd.proxy", "flannel"]);
        assert!(
            m.butane.contains("  disks:\n    - device: \"/dev/sdb\"\n"),
            "{}",
            m.butane
        );
    }

    #[test]
    fn storage_and_groups_come_along_in_butanes_form() {
        let text = concat!(
            "passwd:\n  groups:\n    - name: app\n      gid: 1500\n      system: true\n",
            "storage:\n  disks:\n    - device: /dev/sdb\n      wipe_table: true\n      partitions:\n",
            "        - label: data\n          number: 1\n          size: 1GiB\n          start: 0\n          type_guid: raid_partition\n",
            "        - label: odd\n          size: 1500KiB\n",
            "  raid:\n    - name: md0\n      level: raid1\n      devices: [/dev/sdb1, /dev/sdc1]\n      spares: 1\n",
            "  filesystems:\n    - name: data\n      mount:\n        device: /dev/md/md0\n        format: ext4\n        label: DATA\n        create:\n          force: true\n          options: [-m, '0']\n",
            "    - name: oem\n      path: /usr/share/oem\n",
            "  files:\n    - path: /etc/app.tgz\n      filesystem: root\n      overwrite: true\n      contents:\n        remote:\n          url: https://example.com/app.gz\n          compression: gzip\n          verification:\n            hash:\n              function: sha512\n              sum: abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab\n",
            "    - path: /grub.cfg\n      filesystem: oem\n      mode: 0644\n      contents:\n        inline: set x=1\n",
            "    - path: /on-data\n      filesystem: data\n      contents:\n        inline: lost\n",
            "  links:\n    - path: /etc/app\n      target: /opt/app\n      user: {id: 500}\n      overwrite: false\n",
        );
        let m = migrate(text, platform("metal")).unwrap();
        assert_translates(&m, false);
        for want in [
            "  groups:\n    - name: \"app\"\n      gid: 1500\n      system: true\n",
            "      wipe_table: true\n      partitions:\n        - label: \"data\"\n          number: 1\n          size_mib: 1024\n          start_mib: 0\n          type_guid: \"a19d880f-05fc-4d3b-a006-743f0f84911e\"\n",
            "  raid:\n    - name: \"md0\"\n      level: \"raid1\"\n      devices:\n        - \"/dev/sdb1\"\n        - \"/dev/sdc1\"\n      spares: 1\n",
            "    - device: \"/dev/md/md0\"\n      format: \"ext4\"\n      wipe_filesystem: true\n      label: \"DATA\"\n      options:\n        - \"-m\"\n        - \"0\"\n",
            "      overwrite: true\n      contents:\n        source: \"https://example.com/app.gz\"\n        compression: \"gzip\"\n        verification:\n          hash: \"sha512-abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab\"\n",
            "    - path: \"/usr/share/oem/grub.cfg\"\n",
            "      target: \"/opt/app\"\n      overwrite: false\n      user:\n        id: 500\n",
        ] {
            assert!(m.butane.contains(want), "{want} not in\n{}", m.butane);
        }
        assert!(!m.butane.contains("on-data"), "{}", m.butane);
        let dropped: Vec<(&str, usize)> = m
            .report
            .iter()
            .filter(|e| e.fate == Fate::Dropped)
            .map(|e| (e.key.as_str(), e.line))
            .collect();
        assert_eq!(
            dropped,
            [
                ("storage.disks.0.partitions.1.size", 17),
                ("storage.files.2", 51)
            ]
        );
        assert!(m
            .report
            .iter()
            .any(|e| e.key == "storage.files.1.filesystem"
                && e.reason.contains("/usr/share/oem/grub.cfg")));
    }

    #[test]
    fn sizes_are_read_as_ct_read_them() {
        assert_eq!(mebibytes("512MiB"), Ok(512));
        assert_eq!(mebibytes("2GiB"), Ok(2048));
        assert_eq!(mebibytes("1TB"), Ok(1 << 20));
        assert_eq!(mebibytes("0"), Ok(0));
        assert!(mebibytes("1500KiB")
            .unwrap_err()
            .contains("whole number of MiB"));
        assert!(mebibytes("big").is_err());
    }
}
