//! What every legacy reader shares: the report it writes, the platform's address variables
//! for the old address placeholders (`$private_ipv4`, `{PRIVATE_IPV4}`), the etcd drop-in in
//! the builder's form, and small readers of YAML nodes.

use butane::yaml::{Node, Value};

use super::doc::{Doc, File, Owner, User};
use super::etcd::{self, Option_};
use super::{Entry, Fate, Migration};
use crate::config::dropin::{address_source, ETCD_UNIT, WRAPPER};
use crate::config::platform::{CUSTOM_PRIVATE_VAR, CUSTOM_PUBLIC_VAR};
use crate::config::Platform;

pub(super) struct Reader<'a> {
    pub(super) platform: &'a Platform,
    pub(super) report: Vec<Entry>,
    /// Whether an address variable from the metadata was used.
    pub(super) addresses: bool,
    /// Units (other than etcd's) whose texts use the address variables: each gets a drop-in
    /// that loads them.
    pub(super) units_with_addresses: Vec<String>,
}

/// Where an address placeholder was found: systemd expands variables in a unit's texts (its
/// `Exec*=` lines), nothing expands them in a file.
#[derive(Clone, Copy)]
pub(super) enum Place<'a> {
    Unit(&'a str),
    File,
}

/// The drop-in that gives a unit the address variables.
pub(super) const METADATA_DROPIN: &str = "10-metadata.conf";

impl<'a> Reader<'a> {
    pub(super) fn new(platform: &'a Platform) -> Reader<'a> {
        Reader {
            platform,
            report: Vec::new(),
            addresses: false,
            units_with_addresses: Vec::new(),
        }
    }

    pub(super) fn drop(&mut self, key: &Node, at: &str, reason: &str) {
        self.report.push(Entry {
            line: key.line,
            key: at.into(),
            fate: Fate::Dropped,
            reason: reason.into(),
        });
    }

    pub(super) fn change(&mut self, line: usize, at: &str, reason: String) {
        self.report.push(Entry {
            line,
            key: at.into(),
            fate: Fate::Changed,
            reason,
        });
    }

    /// The variables for the private and the public address: the platform's metadata
    /// service's (the private one standing in where it gives no public one), or the builder's
    /// address unit's.
    pub(super) fn vars(&self) -> (&'static str, &'static str) {
        match self.platform.private_var {
            Some(private) if !self.platform.needs_address_unit() => {
                (private, self.platform.public_var.unwrap_or(private))
            }
            _ => (CUSTOM_PRIVATE_VAR, CUSTOM_PUBLIC_VAR),
        }
    }

    pub(super) fn substitute(&self, text: &str) -> String {
        let (private, public) = self.vars();
        let (private, public) = (format!("${{{private}}}"), format!("${{{public}}}"));
        text.replace("$private_ipv4", &private)
            .replace("{PRIVATE_IPV4}", &private)
            .replace("$public_ipv4", &public)
            .replace("{PUBLIC_IPV4}", &public)
    }

    /// `$private_ipv4` and `$public_ipv4` (and ct's `{PRIVATE_IPV4}`) as the platform's
    /// variables, reported once for the line they are on, with what they mean where they are.
    pub(super) fn addresses(&mut self, text: &str, line: usize, at: &str, place: Place) -> String {
        let (private, public) = self.vars();
        if !PLACEHOLDERS.iter().any(|p| text.contains(p)) {
            return text.to_string();
        }
        let (unit, file) = address_source(self.platform);
        let has = |forms: [&str; 2]| forms.iter().any(|p| text.contains(p));
        let (has_private, has_public) = (
            has(["$private_ipv4", "{PRIVATE_IPV4}"]),
            has(["$public_ipv4", "{PUBLIC_IPV4}"]),
        );
        let mut became = match (has_private, has_public) {
            (true, true) => {
                format!("the address placeholders became ${{{private}}} and ${{{public}}}")
            }
            (true, false) => format!("the private address placeholder became ${{{private}}}"),
            _ => format!("the public address placeholder became ${{{public}}}"),
        };
        if has_public && private == public {
            became.push_str(&format!(
                " ({} gives no public address: the private one stands in)",
                self.platform.label
            ));
        }
        let reason = match place {
            Place::Unit(name) => {
                self.addresses = true;
                if name != ETCD_UNIT && !self.units_with_addresses.iter().any(|u| u == name) {
                    self.units_with_addresses.push(name.to_string());
                }
                let loads = if name == ETCD_UNIT { "its drop-in" } else { METADATA_DROPIN };
                format!("{became}, which systemd fills in Exec*= and Environment= lines from {file} (written by {unit}; {loads} loads it); anywhere else in the unit they stay as written")
            }
            Place::File => format!("{became} as text: cloudinit wrote the address into the file, Ignition writes it as it is; a unit with EnvironmentFile={file} that writes the file at boot would fill it in"),
        };
        self.change(line, at, reason);
        self.substitute(text)
    }

    /// The migration from what a reader gathered: etcd's drop-in, update.conf, core's keys,
    /// and the report in source order.
    pub(super) fn finish(mut self, mut g: Gathered) -> Migration {
        if let Some((mut flags, line, at)) = g.etcd.take() {
            self.report.append(&mut flags.report);
            g.doc.etcd = Some(self.dropin(&flags, line, &at));
        }
        for name in &self.units_with_addresses {
            if let Some(u) = g.doc.units.iter_mut().find(|u| &u.name == name) {
                u.dropins
                    .push((METADATA_DROPIN.into(), loads_addresses(self.platform)));
            }
        }
        g.doc.address_unit = self.addresses && self.platform.needs_address_unit();
        if !g.update.is_empty() {
            let body: String = g.update.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            g.doc.files.push(File::inline(
                "/etc/flatcar/update.conf".into(),
                Some(0o644),
                Owner::default(),
                body,
            ));
        }
        if !g.core_keys.is_empty() {
            // The top-level keys are core's, before any the users list gives it.
            let mut keys = std::mem::take(&mut g.core_keys);
            match g.doc.users.iter_mut().find(|u| u.name == "core") {
                Some(core) => {
                    keys.append(&mut core.keys);
                    core.keys = keys;
                }
                None => g.doc.users.insert(
                    0,
                    User {
                        name: "core".into(),
                        keys,
                        ..User::default()
                    },
                ),
            }
        }
        g.doc.merge_units();
        self.report.sort_by_key(|e| e.line);
        Migration {
            butane: g.doc.to_yaml(),
            report: self.report,
        }
    }

    /// Update and reboot settings as lines of Flatcar's `/etc/flatcar/update.conf`: `table`
    /// maps each source key (dotted, from `at`) to its setting.
    pub(super) fn update_conf(
        &mut self,
        node: &Node,
        at: &str,
        table: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let Value::Mapping(fields) = &node.value else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in fields {
            let key = format!("{at}.{}", text_of(k));
            let Some((_, var)) = table.iter().find(|(source, _)| *source == key) else {
                self.drop(
                    k,
                    &key,
                    &format!("{key} has no setting in Flatcar's update.conf"),
                );
                continue;
            };
            let mut value = scalar(v);
            if *var == "REBOOT_STRATEGY" && value == "best-effort" {
                value = "etcd-lock".into();
                self.change(k.line, &key, "reboot strategy best-effort is gone: Flatcar's locksmithd takes etcd-lock, reboot or off; best-effort behaved as etcd-lock where etcd ran".into());
            }
            self.change(
                k.line,
                &key,
                format!("became {var} in /etc/flatcar/update.conf"),
            );
            out.push((var.to_string(), value));
        }
        out
    }

    /// The etcd-member drop-in for these flags, in the builder's form.
    pub(super) fn dropin(&mut self, flags: &etcd::Flags, line: usize, at: &str) -> String {
        let mut body = String::new();
        let all: String = flags
            .flags
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        // One report entry for the section's addresses.
        self.addresses(&all, line, at, Place::Unit(ETCD_UNIT));
        let mut lines = Vec::new();
        for (name, value) in &flags.flags {
            let value = self.substitute(value);
            lines.push(format!("--{name}=\"{value}\""));
        }
        if PLACEHOLDERS.iter().any(|p| all.contains(p)) {
            body.push_str(&loads_addresses(self.platform));
        } else {
            body.push_str("[Service]\n");
        }
        if let Some(name) = &flags.name {
            body.push_str(&format!("Environment=\"ETCD_NAME={name}\"\n"));
        }
        if let Some(tag) = &flags.image_tag {
            body.push_str(&format!("Environment=\"ETCD_IMAGE_TAG={tag}\"\n"));
        }
        body.push_str("ExecStart=\n");
        body.push_str(&format!("ExecStart={WRAPPER} $ETCD_OPTS"));
        for line in lines {
            body.push_str(" \\\n  ");
            body.push_str(&line);
        }
        body.push('\n');
        body
    }
}

/// A unit's start that loads the address variables: after the unit that writes them, from the
/// file it writes them to.
fn loads_addresses(platform: &Platform) -> String {
    let (unit, file) = address_source(platform);
    format!("[Unit]\nRequires={unit}\nAfter={unit}\n\n[Service]\nEnvironmentFile={file}\n")
}

/// The entries of a legacy config's top mapping, or why it has none (`what` names the format).
pub(super) fn top_entries(text: &str, what: &str) -> Result<Vec<(Node, Node)>, String> {
    let root = butane::yaml::parse(text).map_err(|e| e.to_string())?;
    match root.map(|r| r.value) {
        Some(Value::Mapping(entries)) => Ok(entries),
        Some(_) => Err(format!("a {what} is a YAML mapping")),
        None => Err(format!("an empty {what}")),
    }
}

/// The old address placeholders: cloud-config's and ct's.
const PLACEHOLDERS: [&str; 4] = [
    "$private_ipv4",
    "$public_ipv4",
    "{PRIVATE_IPV4}",
    "{PUBLIC_IPV4}",
];

/// What a legacy reader gathers before the migration is written.
#[derive(Default)]
pub(super) struct Gathered {
    pub(super) doc: Doc,
    /// The etcd options' flags, with the section's line and key.
    pub(super) etcd: Option<(etcd::Flags, usize, String)>,
    /// `/etc/flatcar/update.conf`'s settings.
    pub(super) update: Vec<(String, String)>,
    /// Keys for the core user.
    pub(super) core_keys: Vec<String>,
}

/// The mappings of a sequence node, with their index.
pub(super) fn mappings(node: &Node) -> impl Iterator<Item = (usize, &Node, &[(Node, Node)])> {
    let items: &[Node] = match &node.value {
        Value::Sequence(items) => items,
        _ => &[],
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| match &item.value {
            Value::Mapping(fields) => Some((i, item, fields.as_slice())),
            _ => None,
        })
}

/// The line of `key` in a mapping node.
pub(super) fn key_line(node: &Node, key: &str) -> Option<usize> {
    match &node.value {
        Value::Mapping(entries) => entries
            .iter()
            .find(|(k, _)| text_of(k) == key)
            .map(|(k, _)| k.line),
        _ => None,
    }
}

pub(super) fn text_of(node: &Node) -> String {
    scalar(node)
}

pub(super) fn scalar(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) => s.text.clone(),
        _ => String::new(),
    }
}

pub(super) fn truthy(node: &Node) -> bool {
    matches!(
        scalar(node).as_str(),
        "true" | "True" | "TRUE" | "yes" | "on" | "1"
    )
}

pub(super) fn strings(node: &Node) -> Vec<String> {
    match &node.value {
        Value::Sequence(items) => items.iter().map(scalar).collect(),
        Value::Scalar(s) if !s.text.is_empty() => vec![s.text.clone()],
        _ => Vec::new(),
    }
}

pub(super) fn child<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    butane::shape::child(Some(node), key)
}

pub(super) fn field(node: &Node, key: &str) -> String {
    child(node, key).map(scalar).unwrap_or_default()
}

/// The options of an etcd section, in order, each with its line.
pub(super) fn options(node: &Node) -> Vec<Option_> {
    match &node.value {
        Value::Mapping(entries) => entries
            .iter()
            .map(|(k, v)| Option_ {
                line: k.line,
                key: scalar(k),
                value: scalar(v),
            })
            .collect(),
        _ => Vec::new(),
    }
}
