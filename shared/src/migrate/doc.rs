//! The Butane a migrated config becomes: users, files, directories, links and units, the
//! etcd-member drop-in, written as Butane 1.1.0 YAML (the builder's quoting and block scalars).

use crate::config::butane::{block, quoted};
use crate::config::dropin::{address_unit, ADDRESS_UNIT, DROPIN_NAME, ETCD_UNIT};

pub(super) struct Unit {
    pub(super) name: String,
    pub(super) enabled: Option<bool>,
    pub(super) mask: Option<bool>,
    pub(super) contents: Option<String>,
    pub(super) dropins: Vec<(String, String)>,
}

impl Unit {
    pub(super) fn named(name: String) -> Unit {
        Unit {
            name,
            enabled: None,
            mask: None,
            contents: None,
            dropins: Vec::new(),
        }
    }
}

/// A user and group name (or id) owning a node.
#[derive(Default)]
pub(super) struct Owner {
    pub(super) user: Option<String>,
    pub(super) group: Option<String>,
}

pub(super) struct File {
    pub(super) path: String,
    pub(super) mode: Option<u32>,
    pub(super) owner: Owner,
    pub(super) overwrite: Option<bool>,
    /// Whether the contents are appended to the file rather than replace it.
    pub(super) append: bool,
    pub(super) contents: Contents,
}

impl File {
    /// A file of text, mode and owner as given, overwrite left to Ignition's default.
    pub(super) fn inline(path: String, mode: Option<u32>, owner: Owner, text: String) -> File {
        File {
            path,
            mode,
            owner,
            overwrite: None,
            append: false,
            contents: Contents::Inline(text),
        }
    }
}

pub(super) enum Contents {
    Inline(String),
    /// A URL Ignition fetches, with its compression (`gzip`) and `<function>-<sum>` hash.
    Source {
        url: String,
        compression: Option<String>,
        hash: Option<String>,
    },
    /// A file in butane's `-d` files directory.
    Local(String),
}

pub(super) struct Directory {
    pub(super) path: String,
    pub(super) mode: Option<u32>,
    pub(super) owner: Owner,
    pub(super) overwrite: Option<bool>,
}

pub(super) struct Link {
    pub(super) path: String,
    pub(super) target: String,
    pub(super) hard: bool,
    pub(super) owner: Owner,
    pub(super) overwrite: Option<bool>,
}

pub(super) struct Group {
    pub(super) name: String,
    pub(super) gid: Option<i64>,
    pub(super) password_hash: Option<String>,
    pub(super) system: bool,
}

pub(super) struct Disk {
    pub(super) device: String,
    pub(super) wipe_table: bool,
    pub(super) partitions: Vec<Partition>,
}

#[derive(Default)]
pub(super) struct Partition {
    pub(super) label: Option<String>,
    pub(super) number: Option<i64>,
    pub(super) size_mib: Option<i64>,
    pub(super) start_mib: Option<i64>,
    pub(super) guid: Option<String>,
    pub(super) type_guid: Option<String>,
}

pub(super) struct Raid {
    pub(super) name: String,
    pub(super) level: String,
    pub(super) devices: Vec<String>,
    pub(super) spares: Option<i64>,
    pub(super) options: Vec<String>,
}

#[derive(Default)]
pub(super) struct Filesystem {
    pub(super) device: String,
    pub(super) format: Option<String>,
    pub(super) wipe_filesystem: bool,
    pub(super) label: Option<String>,
    pub(super) uuid: Option<String>,
    /// mkfs's options.
    pub(super) options: Vec<String>,
}

#[derive(Default)]
pub(super) struct User {
    pub(super) name: String,
    pub(super) password_hash: Option<String>,
    pub(super) keys: Vec<String>,
    pub(super) groups: Vec<String>,
    pub(super) gecos: Option<String>,
    pub(super) home_dir: Option<String>,
    pub(super) shell: Option<String>,
    pub(super) primary_group: Option<String>,
    pub(super) uid: Option<i64>,
    /// `no_create_home`, `system`, ... as given.
    pub(super) switches: Vec<(&'static str, bool)>,
}

/// The whole Butane config.
#[derive(Default)]
pub(super) struct Doc {
    pub(super) users: Vec<User>,
    pub(super) groups: Vec<Group>,
    pub(super) disks: Vec<Disk>,
    pub(super) raid: Vec<Raid>,
    pub(super) filesystems: Vec<Filesystem>,
    pub(super) files: Vec<File>,
    pub(super) directories: Vec<Directory>,
    pub(super) links: Vec<Link>,
    /// The etcd-member drop-in.
    pub(super) etcd: Option<String>,
    /// Whether the builder's address unit goes with it (units read the addresses it writes).
    pub(super) address_unit: bool,
    pub(super) units: Vec<Unit>,
}

impl Doc {
    /// One entry per unit name, as Ignition requires: a unit named twice (ct's docker flags
    /// beside a docker.service of the config's own) keeps the first one's settings, and the
    /// later ones' drop-ins and any setting the first left unset.
    pub(super) fn merge_units(&mut self) {
        let mut merged: Vec<Unit> = Vec::new();
        for u in self.units.drain(..) {
            match merged.iter_mut().find(|m| m.name == u.name) {
                Some(m) => {
                    m.enabled = m.enabled.or(u.enabled);
                    m.mask = m.mask.or(u.mask);
                    m.contents = m.contents.take().or(u.contents);
                    m.dropins.extend(u.dropins);
                }
                None => merged.push(u),
            }
        }
        self.units = merged;
    }

    pub(super) fn to_yaml(&self) -> String {
        let mut y = String::from("variant: flatcar\nversion: 1.1.0\n");
        if !(self.users.is_empty() && self.groups.is_empty()) {
            y.push_str("passwd:\n");
        }
        if !self.users.is_empty() {
            y.push_str("  users:\n");
            for u in &self.users {
                user(&mut y, u);
            }
        }
        if !self.groups.is_empty() {
            y.push_str("  groups:\n");
            for g in &self.groups {
                y.push_str(&format!("    - name: {}\n", quoted(&g.name)));
                if let Some(gid) = g.gid {
                    y.push_str(&format!("      gid: {gid}\n"));
                }
                text_field(&mut y, 6, "password_hash", &g.password_hash);
                if g.system {
                    y.push_str("      system: true\n");
                }
            }
        }
        let storage = [
            self.disks.len(),
            self.raid.len(),
            self.filesystems.len(),
            self.directories.len(),
            self.files.len(),
            self.links.len(),
        ];
        if storage.iter().any(|n| *n > 0) {
            y.push_str("storage:\n");
        }
        self.storage_devices(&mut y);
        if !self.directories.is_empty() {
            y.push_str("  directories:\n");
            for d in &self.directories {
                y.push_str(&format!("    - path: {}\n", quoted(&d.path)));
                node_attributes(&mut y, d.mode, &d.owner, d.overwrite);
            }
        }
        if !self.files.is_empty() {
            y.push_str("  files:\n");
            for f in &self.files {
                y.push_str(&format!("    - path: {}\n", quoted(&f.path)));
                node_attributes(&mut y, f.mode, &f.owner, f.overwrite);
                if f.append {
                    y.push_str("      append:\n        - ");
                    resource(&mut y, &f.contents, 10);
                } else {
                    y.push_str("      contents:\n        ");
                    resource(&mut y, &f.contents, 8);
                }
            }
        }
        if !self.links.is_empty() {
            y.push_str("  links:\n");
            for l in &self.links {
                y.push_str(&format!(
                    "    - path: {}\n      target: {}\n",
                    quoted(&l.path),
                    quoted(&l.target)
                ));
                if l.hard {
                    y.push_str("      hard: true\n");
                }
                node_attributes(&mut y, None, &l.owner, l.overwrite);
            }
        }
        if self.etcd.is_some() || self.address_unit || !self.units.is_empty() {
            y.push_str("systemd:\n  units:\n");
        }
        if let Some(dropin) = &self.etcd {
            let mut etcd = Unit::named(ETCD_UNIT.into());
            etcd.enabled = Some(true);
            etcd.dropins.push((DROPIN_NAME.into(), dropin.clone()));
            unit(&mut y, &etcd);
        }
        if self.address_unit {
            let mut finder = Unit::named(ADDRESS_UNIT.into());
            finder.enabled = Some(true);
            finder.contents = Some(address_unit());
            unit(&mut y, &finder);
        }
        for u in &self.units {
            unit(&mut y, u);
        }
        y
    }
}

impl Doc {
    /// Disks and their partitions, RAID arrays, filesystems.
    fn storage_devices(&self, y: &mut String) {
        if !self.disks.is_empty() {
            y.push_str("  disks:\n");
            for d in &self.disks {
                y.push_str(&format!("    - device: {}\n", quoted(&d.device)));
                if d.wipe_table {
                    y.push_str("      wipe_table: true\n");
                }
                if !d.partitions.is_empty() {
                    y.push_str("      partitions:\n");
                }
                for p in &d.partitions {
                    // Each partition is a list item; its first field opens it.
                    let mut item = String::new();
                    text_field(&mut item, 10, "label", &p.label);
                    for (k, v) in [
                        ("number", p.number),
                        ("size_mib", p.size_mib),
                        ("start_mib", p.start_mib),
                    ] {
                        if let Some(v) = v {
                            item.push_str(&format!("          {k}: {v}\n"));
                        }
                    }
                    text_field(&mut item, 10, "guid", &p.guid);
                    text_field(&mut item, 10, "type_guid", &p.type_guid);
                    if item.is_empty() {
                        item.push_str("          number: 0\n");
                    }
                    y.push_str("        - ");
                    y.push_str(&item[10..]);
                }
            }
        }
        if !self.raid.is_empty() {
            y.push_str("  raid:\n");
            for r in &self.raid {
                y.push_str(&format!(
                    "    - name: {}\n      level: {}\n",
                    quoted(&r.name),
                    quoted(&r.level)
                ));
                list(y, 6, "devices", &r.devices);
                if let Some(spares) = r.spares {
                    y.push_str(&format!("      spares: {spares}\n"));
                }
                list(y, 6, "options", &r.options);
            }
        }
        if !self.filesystems.is_empty() {
            y.push_str("  filesystems:\n");
            for f in &self.filesystems {
                y.push_str(&format!("    - device: {}\n", quoted(&f.device)));
                text_field(y, 6, "format", &f.format);
                if f.wipe_filesystem {
                    y.push_str("      wipe_filesystem: true\n");
                }
                text_field(y, 6, "label", &f.label);
                text_field(y, 6, "uuid", &f.uuid);
                list(y, 6, "options", &f.options);
            }
        }
    }
}

/// A resource's fields (a file's `contents`, or an item of its `append` list): the first on
/// the current line, the rest at `indent`.
fn resource(y: &mut String, contents: &Contents, indent: usize) {
    match contents {
        Contents::Inline(text) => {
            y.push_str("inline: ");
            block(y, text, indent + 2);
        }
        Contents::Source {
            url,
            compression,
            hash,
        } => {
            y.push_str(&format!("source: {}\n", quoted(url)));
            text_field(y, indent, "compression", compression);
            if let Some(hash) = hash {
                let pad = " ".repeat(indent);
                y.push_str(&format!(
                    "{pad}verification:\n{pad}  hash: {}\n",
                    quoted(hash)
                ));
            }
        }
        Contents::Local(name) => y.push_str(&format!("local: {}\n", quoted(name))),
    }
}

/// `key: "value"` at `indent`, when there is a value.
fn text_field(y: &mut String, indent: usize, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        y.push_str(&format!("{:indent$}{key}: {}\n", "", quoted(v)));
    }
}

/// `key:` and its items at `indent`, when there are any.
fn list(y: &mut String, indent: usize, key: &str, items: &[String]) {
    if !items.is_empty() {
        y.push_str(&format!("{:indent$}{key}:\n", ""));
        for item in items {
            y.push_str(&format!("{:indent$}  - {}\n", "", quoted(item)));
        }
    }
}

fn user(y: &mut String, u: &User) {
    y.push_str(&format!("    - name: {}\n", quoted(&u.name)));
    if let Some(uid) = u.uid {
        y.push_str(&format!("      uid: {uid}\n"));
    }
    for (k, v) in [
        ("password_hash", &u.password_hash),
        ("gecos", &u.gecos),
        ("home_dir", &u.home_dir),
        ("shell", &u.shell),
        ("primary_group", &u.primary_group),
    ] {
        if let Some(v) = v {
            y.push_str(&format!("      {k}: {}\n", quoted(v)));
        }
    }
    for (k, on) in &u.switches {
        y.push_str(&format!("      {k}: {on}\n"));
    }
    list(y, 6, "groups", &u.groups);
    list(y, 6, "ssh_authorized_keys", &u.keys);
}

fn node_attributes(y: &mut String, mode: Option<u32>, owner: &Owner, overwrite: Option<bool>) {
    if let Some(mode) = mode {
        y.push_str(&format!("      mode: 0{mode:o}\n"));
    }
    if let Some(o) = overwrite {
        y.push_str(&format!("      overwrite: {o}\n"));
    }
    for (k, v) in [("user", &owner.user), ("group", &owner.group)] {
        if let Some(v) = v {
            match v.parse::<i64>() {
                Ok(id) => y.push_str(&format!("      {k}:\n        id: {id}\n")),
                Err(_) => y.push_str(&format!("      {k}:\n        name: {}\n", quoted(v))),
            }
        }
    }
}

fn unit(y: &mut String, u: &Unit) {
    y.push_str(&format!("    - name: {}\n", quoted(&u.name)));
    if let Some(e) = u.enabled {
        y.push_str(&format!("      enabled: {e}\n"));
    }
    if let Some(m) = u.mask {
        y.push_str(&format!("      mask: {m}\n"));
    }
    if let Some(c) = &u.contents {
        y.push_str("      contents: ");
        block(y, c, 8);
    }
    if !u.dropins.is_empty() {
        y.push_str("      dropins:\n");
        for (name, contents) in &u.dropins {
            y.push_str(&format!(
                "        - name: {}\n          contents: ",
                quoted(name)
            ));
            block(y, contents, 12);
        }
    }
}
