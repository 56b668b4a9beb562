//! The Butane config (variant `flatcar`) as a document, and a YAML emitter for it. The emitter
//! only writes the shapes this document has: block scalars for unit texts, double-quoted strings
//! (JSON escaping, valid YAML) for every user-supplied value.

use super::dropin::{self, ADDRESS_UNIT, DROPIN_NAME, ETCD_UNIT};
use super::{ButaneVersion, ClusterConfig};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Butane {
    pub version: ButaneVersion,
    pub users: Vec<User>,
    pub units: Vec<Unit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub ssh_authorized_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    pub enabled: Option<bool>,
    pub contents: Option<String>,
    pub dropins: Vec<Dropin>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropin {
    pub name: String,
    pub contents: String,
}

impl Butane {
    pub fn from_config(c: &ClusterConfig) -> Butane {
        let mut units = vec![Unit {
            name: ETCD_UNIT.to_string(),
            enabled: Some(true),
            contents: None,
            dropins: vec![Dropin {
                name: DROPIN_NAME.to_string(),
                contents: dropin::etcd_member_dropin(c),
            }],
        }];
        let static_addresses = matches!(c.bootstrap, super::Bootstrap::Static { .. });
        if c.platform.needs_address_unit() && !static_addresses {
            units.push(Unit {
                name: ADDRESS_UNIT.to_string(),
                enabled: Some(true),
                contents: Some(dropin::address_unit()),
                dropins: Vec::new(),
            });
        }
        let users = if c.ssh_keys.is_empty() {
            Vec::new()
        } else {
            vec![User {
                name: "core".to_string(),
                ssh_authorized_keys: c.ssh_keys.clone(),
            }]
        };
        Butane {
            version: c.butane,
            users,
            units,
        }
    }

    pub fn to_yaml(&self) -> String {
        let mut y = String::new();
        y.push_str("variant: flatcar\n");
        y.push_str(&format!("version: {}\n", self.version.as_str()));
        if !self.users.is_empty() {
            y.push_str("passwd:\n  users:\n");
            for u in &self.users {
                y.push_str(&format!("    - name: {}\n", quoted(&u.name)));
                if !u.ssh_authorized_keys.is_empty() {
                    y.push_str("      ssh_authorized_keys:\n");
                    for k in &u.ssh_authorized_keys {
                        y.push_str(&format!("        - {}\n", quoted(k)));
                    }
                }
            }
        }
        y.push_str("systemd:\n  units:\n");
        for unit in &self.units {
            y.push_str(&format!("    - name: {}\n", quoted(&unit.name)));
            if let Some(e) = unit.enabled {
                y.push_str(&format!("      enabled: {e}\n"));
            }
            if let Some(c) = &unit.contents {
                y.push_str("      contents: ");
                block(&mut y, c, 8);
            }
            if !unit.dropins.is_empty() {
                y.push_str("      dropins:\n");
                for d in &unit.dropins {
                    y.push_str(&format!("        - name: {}\n", quoted(&d.name)));
                    y.push_str("          contents: ");
                    block(&mut y, &d.contents, 12);
                }
            }
        }
        y
    }
}

/// A YAML double-quoted scalar; JSON's escaping is a subset of YAML's.
pub(crate) fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A literal block scalar (`|`) indented by `indent`, with the chomping and indentation
/// indicators the text needs so that it reads back byte for byte.
pub(crate) fn block(y: &mut String, text: &str, indent: usize) {
    let chomp = if text.ends_with("\n\n") {
        "+"
    } else if text.ends_with('\n') {
        ""
    } else {
        "-"
    };
    let lead = if text.starts_with(' ') { "2" } else { "" };
    y.push('|');
    y.push_str(lead);
    y.push_str(chomp);
    y.push('\n');
    let pad = " ".repeat(indent);
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        if !line.is_empty() {
            y.push_str(&pad);
            y.push_str(line);
        }
        y.push('\n');
    }
}
