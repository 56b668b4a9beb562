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
    /// Inline text, or a URL to fetch.
    pub(super) contents: Contents,
}

pub(super) enum Contents {
    Inline(String),
    Source(String),
}

pub(super) struct Directory {
    pub(super) path: String,
    pub(super) mode: Option<u32>,
    pub(super) owner: Owner,
}

pub(super) struct Link {
    pub(super) path: String,
    pub(super) target: String,
    pub(super) hard: bool,
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
    pub(super) files: Vec<File>,
    pub(super) directories: Vec<Directory>,
    pub(super) links: Vec<Link>,
    /// The etcd-member drop-in, and whether the builder's address unit goes with it.
    pub(super) etcd: Option<(String, bool)>,
    pub(super) units: Vec<Unit>,
}

impl Doc {
    pub(super) fn to_yaml(&self) -> String {
        let mut y = String::from("variant: flatcar\nversion: 1.1.0\n");
        if !self.users.is_empty() {
            y.push_str("passwd:\n  users:\n");
            for u in &self.users {
                user(&mut y, u);
            }
        }
        if !(self.files.is_empty() && self.directories.is_empty() && self.links.is_empty()) {
            y.push_str("storage:\n");
        }
        if !self.directories.is_empty() {
            y.push_str("  directories:\n");
            for d in &self.directories {
                y.push_str(&format!("    - path: {}\n", quoted(&d.path)));
                node_attributes(&mut y, d.mode, &d.owner);
            }
        }
        if !self.files.is_empty() {
            y.push_str("  files:\n");
            for f in &self.files {
                y.push_str(&format!("    - path: {}\n", quoted(&f.path)));
                node_attributes(&mut y, f.mode, &f.owner);
                match &f.contents {
                    Contents::Inline(text) => {
                        y.push_str("      contents:\n        inline: ");
                        block(&mut y, text, 10);
                    }
                    Contents::Source(url) => y.push_str(&format!(
                        "      contents:\n        source: {}\n",
                        quoted(url)
                    )),
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
            }
        }
        if self.etcd.is_some() || !self.units.is_empty() {
            y.push_str("systemd:\n  units:\n");
        }
        if let Some((dropin, address)) = &self.etcd {
            let mut etcd = Unit::named(ETCD_UNIT.into());
            etcd.enabled = Some(true);
            etcd.dropins.push((DROPIN_NAME.into(), dropin.clone()));
            unit(&mut y, &etcd);
            if *address {
                let mut finder = Unit::named(ADDRESS_UNIT.into());
                finder.enabled = Some(true);
                finder.contents = Some(address_unit());
                unit(&mut y, &finder);
            }
        }
        for u in &self.units {
            unit(&mut y, u);
        }
        y
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
    for (k, list) in [("groups", &u.groups), ("ssh_authorized_keys", &u.keys)] {
        if !list.is_empty() {
            y.push_str(&format!("      {k}:\n"));
            for item in list {
                y.push_str(&format!("        - {}\n", quoted(item)));
            }
        }
    }
}

fn node_attributes(y: &mut String, mode: Option<u32>, owner: &Owner) {
    if let Some(mode) = mode {
        y.push_str(&format!("      mode: 0{mode:o}\n"));
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
