//! A `#cloud-config` (coreos-cloudinit's format) read and written as Butane: `coreos.etcd2`
//! and `coreos.etcd` become the etcd-member drop-in, `coreos.units` units, `write_files` and
//! `hostname` files, `ssh_authorized_keys` and `users` users, update and reboot settings
//! Flatcar's `/etc/flatcar/update.conf`; `$private_ipv4` and `$public_ipv4` the platform's
//! metadata variables. What has no place is reported.

use butane::yaml::{self, Node, Value};

use super::etcd::{self, Option_};
use super::{Entry, Fate, Migration};
use crate::config::butane::{block, quoted};
use crate::config::dropin::{
    address_unit, ADDRESS_FILE, ADDRESS_UNIT, DROPIN_NAME, ETCD_UNIT, WRAPPER,
};
use crate::config::platform::{CUSTOM_PRIVATE_VAR, CUSTOM_PUBLIC_VAR};
use crate::config::Platform;

struct Unit {
    name: String,
    enabled: Option<bool>,
    mask: Option<bool>,
    contents: Option<String>,
    dropins: Vec<(String, String)>,
}

struct File {
    path: String,
    mode: Option<u32>,
    owner: Option<(String, Option<String>)>,
    contents: String,
}

#[derive(Default)]
struct User {
    name: String,
    password_hash: Option<String>,
    keys: Vec<String>,
    groups: Vec<String>,
    gecos: Option<String>,
    home_dir: Option<String>,
    shell: Option<String>,
}

struct Reader<'a> {
    platform: &'a Platform,
    report: Vec<Entry>,
    /// Whether an address variable from the metadata was used.
    addresses: bool,
}

pub fn migrate(text: &str, platform: &Platform) -> Result<Migration, String> {
    let root = yaml::parse(text)
        .map_err(|e| e.to_string())?
        .ok_or("an empty cloud-config")?;
    let Value::Mapping(top) = &root.value else {
        return Err("a cloud-config is a YAML mapping".into());
    };
    let mut r = Reader {
        platform,
        report: Vec::new(),
        addresses: false,
    };
    let (mut units, mut files, mut users, mut core_keys) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut etcd_flags: Option<(etcd::Flags, usize)> = None;
    let mut update: Vec<(String, String)> = Vec::new();
    for (k, v) in top {
        let key = text_of(k);
        match key.as_str() {
            "coreos" => {
                let Value::Mapping(coreos) = &v.value else { continue };
                for (ck, cv) in coreos {
                    let ckey = text_of(ck);
                    let at = format!("coreos.{ckey}");
                    match ckey.as_str() {
                        "etcd2" => etcd_flags = Some((etcd::from_etcd2(&options(cv), &at), ck.line)),
                        "etcd" => etcd_flags = Some((etcd::from_etcd04(&options(cv), &at), ck.line)),
                        "units" => units.extend(r.units(cv)),
                        "update" | "locksmith" => update.extend(r.update(cv, &at)),
                        "fleet" => r.drop(ck, &at, "fleet no longer exists: CoreOS retired it in 2018 (run the workloads with systemd units, or Kubernetes)"),
                        "flannel" => r.drop(ck, &at, "Flatcar no longer configures flannel from the config: run it as a container or as Kubernetes' CNI"),
                        _ => r.drop(ck, &at, &format!("cloud-config's coreos.{ckey} has no place in Ignition")),
                    }
                }
            }
            "ssh_authorized_keys" => core_keys.extend(strings(v)),
            "hostname" => files.push(File { path: "/etc/hostname".into(), mode: Some(0o644), owner: None, contents: format!("{}\n", scalar(v)) }),
            "write_files" => files.extend(r.write_files(v)),
            "users" => users.extend(r.users(v)),
            "manage_etc_hosts" => r.drop(k, &key, "Flatcar resolves the host name itself; to pin /etc/hosts, write it with storage.files"),
            _ => r.drop(k, &key, &format!("cloud-config's {key} has no place in Ignition")),
        }
    }
    if let Some((flags, _)) = &mut etcd_flags {
        r.report.append(&mut flags.report);
    }
    let etcd_dropin = etcd_flags.as_ref().map(|(f, line)| r.dropin(f, *line));
    if !update.is_empty() {
        let body: String = update.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        files.push(File {
            path: "/etc/flatcar/update.conf".into(),
            mode: Some(0o644),
            owner: None,
            contents: body,
        });
    }
    if !core_keys.is_empty() {
        // The top-level keys are core's, before any the users list gives it.
        match users.iter_mut().find(|u| u.name == "core") {
            Some(core) => {
                core_keys.append(&mut core.keys);
                core.keys = core_keys;
            }
            None => users.insert(
                0,
                User {
                    name: "core".into(),
                    keys: core_keys,
                    ..User::default()
                },
            ),
        }
    }
    r.report.sort_by_key(|e| e.line);
    let butane = write(
        &users,
        &files,
        etcd_dropin.as_deref(),
        r.addresses && r.platform.needs_address_unit(),
        &units,
    );
    Ok(Migration {
        butane,
        report: r.report,
    })
}

impl Reader<'_> {
    fn drop(&mut self, key: &Node, at: &str, reason: &str) {
        self.report.push(Entry {
            line: key.line,
            key: at.into(),
            fate: Fate::Dropped,
            reason: reason.into(),
        });
    }

    fn change(&mut self, line: usize, at: &str, reason: String) {
        self.report.push(Entry {
            line,
            key: at.into(),
            fate: Fate::Changed,
            reason,
        });
    }

    /// The platform's metadata variables for the private and the public address.
    fn vars(&self) -> (&'static str, &'static str) {
        let metadata = !self.platform.needs_address_unit();
        (
            self.platform
                .private_var
                .filter(|_| metadata)
                .unwrap_or(CUSTOM_PRIVATE_VAR),
            self.platform
                .public_var
                .filter(|_| metadata)
                .unwrap_or(CUSTOM_PUBLIC_VAR),
        )
    }

    fn substitute(&self, text: &str) -> String {
        let (private, public) = self.vars();
        text.replace("$private_ipv4", &format!("${{{private}}}"))
            .replace("$public_ipv4", &format!("${{{public}}}"))
    }

    /// `$private_ipv4` and `$public_ipv4` as the platform's metadata variables, reported once
    /// for the line they are on.
    fn addresses(&mut self, text: &str, line: usize, at: &str) -> String {
        let (private, public) = self.vars();
        if !text.contains("$private_ipv4") && !text.contains("$public_ipv4") {
            return text.to_string();
        }
        self.addresses = true;
        self.change(line, at, format!(
            "$private_ipv4 and $public_ipv4 became ${{{private}}} and ${{{public}}} ({}); units that use them read them from an EnvironmentFile",
            if self.platform.needs_address_unit() { "written by etcd-address.service, as the builder does where no metadata service gives them" } else { "from Flatcar's metadata service" }
        ));
        self.substitute(text)
    }

    fn units(&mut self, node: &Node) -> Vec<Unit> {
        let mut out = Vec::new();
        for (i, item, fields) in mappings(node) {
            let at = format!("coreos.units.{i}");
            let mut unit = Unit {
                name: String::new(),
                enabled: None,
                mask: None,
                contents: None,
                dropins: Vec::new(),
            };
            for (k, v) in fields {
                let key = text_of(k);
                match key.as_str() {
                    "name" => unit.name = scalar(v),
                    "content" => unit.contents = Some(self.addresses(&scalar(v), v.line, &format!("{at}.content"))),
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
                                let content = self.addresses(&content, d.line, &format!("{at}.drop-ins"));
                                unit.dropins.push((name, content));
                            }
                        }
                    }
                    "runtime" => self.drop(k, &format!("{at}.runtime"), "Ignition writes units to /etc/systemd/system; units only in /run (runtime) have no place"),
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

    fn update(&mut self, node: &Node, at: &str) -> Vec<(String, String)> {
        let Value::Mapping(fields) = &node.value else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in fields {
            let key = text_of(k);
            let var = match (at, key.as_str()) {
                ("coreos.update", "reboot-strategy") => Some("REBOOT_STRATEGY"),
                ("coreos.update", "group") => Some("GROUP"),
                ("coreos.update", "server") => Some("SERVER"),
                ("coreos.locksmith", "window-start") => Some("LOCKSMITHD_REBOOT_WINDOW_START"),
                ("coreos.locksmith", "window-length") => Some("LOCKSMITHD_REBOOT_WINDOW_LENGTH"),
                ("coreos.locksmith", "group") => Some("LOCKSMITHD_GROUP"),
                ("coreos.locksmith", "endpoint") => Some("LOCKSMITHD_ENDPOINT"),
                _ => None,
            };
            match var {
                Some(var) => {
                    let mut value = scalar(v);
                    if var == "REBOOT_STRATEGY" && value == "best-effort" {
                        value = "etcd-lock".into();
                        self.change(k.line, &format!("{at}.{key}"), "reboot-strategy best-effort is gone: Flatcar's locksmithd takes etcd-lock, reboot or off; best-effort behaved as etcd-lock where etcd ran".into());
                    }
                    self.change(
                        k.line,
                        &format!("{at}.{key}"),
                        format!("{key} became {var} in /etc/flatcar/update.conf"),
                    );
                    out.push((var.to_string(), value));
                }
                None => self.drop(
                    k,
                    &format!("{at}.{key}"),
                    &format!("{at}'s {key} has no setting in Flatcar's update.conf"),
                ),
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
            let mut file = File {
                path: field(item, "path"),
                mode: None,
                owner: None,
                contents: field(item, "content"),
            };
            if let Some(p) = child(item, "permissions") {
                file.mode = u32::from_str_radix(scalar(p).trim_start_matches("0o"), 8).ok();
            }
            if let Some(o) = child(item, "owner") {
                let owner = scalar(o);
                let (user, group) = match owner.split_once(':') {
                    Some((u, g)) => (u.to_string(), Some(g.to_string())),
                    None => (owner, None),
                };
                file.owner = Some((user, group));
            }
            if let Some(e) = child(item, "encoding") {
                let encoding = scalar(e);
                match encoding.as_str() {
                    "b64" | "base64" => {
                        use base64::Engine;
                        match base64::engine::general_purpose::STANDARD.decode(file.contents.trim())
                        {
                            Ok(bytes) if std::str::from_utf8(&bytes).is_ok() => {
                                file.contents = String::from_utf8(bytes).unwrap_or_default();
                                self.change(e.line, &format!("{at}.encoding"), "base64 content decoded into inline text (butane encodes it again)".into());
                            }
                            _ => {
                                self.drop(e, &format!("{at}.encoding"), "base64 content that is not UTF-8 text: give it to butane with local: and -d");
                                continue;
                            }
                        }
                    }
                    _ => {
                        self.drop(e, &format!("{at}.encoding"), &format!("{encoding} content: decode it and give it inline, or with local: and -d (butane gzips on its own)"));
                        continue;
                    }
                }
            }
            file.contents = self.addresses(&file.contents, item.line, &format!("{at}.content"));
            out.push(file);
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
                    _ => self.drop(k, &format!("{at}.{key}"), &format!("a user's {key} is not carried over (Butane's passwd.users has no such field, or this tool does not map it yet)")),
                }
            }
            out.push(user);
        }
        out
    }

    /// The etcd-member drop-in for these flags, in the builder's form.
    fn dropin(&mut self, flags: &etcd::Flags, line: usize) -> String {
        let mut body = String::new();
        let all: String = flags
            .flags
            .iter()
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        // One report entry for the section's addresses.
        self.addresses(&all, line, "coreos.etcd");
        let mut lines = Vec::new();
        for (name, value) in &flags.flags {
            let value = self.substitute(value);
            lines.push(format!("--{name}=\"{value}\""));
        }
        if self.addresses {
            let (unit, file) = if self.platform.needs_address_unit() {
                (ADDRESS_UNIT, ADDRESS_FILE)
            } else {
                ("coreos-metadata.service", "/run/metadata/flatcar")
            };
            body.push_str(&format!(
                "[Unit]\nRequires={unit}\nAfter={unit}\n\n[Service]\nEnvironmentFile={file}\n"
            ));
        } else {
            body.push_str("[Service]\n");
        }
        if let Some(name) = &flags.name {
            body.push_str(&format!("Environment=\"ETCD_NAME={name}\"\n"));
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

fn write(
    users: &[User],
    files: &[File],
    etcd: Option<&str>,
    address_unit_needed: bool,
    units: &[Unit],
) -> String {
    let mut y = String::from("variant: flatcar\nversion: 1.1.0\n");
    if !users.is_empty() {
        y.push_str("passwd:\n  users:\n");
        for u in users {
            y.push_str(&format!("    - name: {}\n", quoted(&u.name)));
            for (k, v) in [
                ("password_hash", &u.password_hash),
                ("gecos", &u.gecos),
                ("home_dir", &u.home_dir),
                ("shell", &u.shell),
            ] {
                if let Some(v) = v {
                    y.push_str(&format!("      {k}: {}\n", quoted(v)));
                }
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
    }
    if !files.is_empty() {
        y.push_str("storage:\n  files:\n");
        for f in files {
            y.push_str(&format!("    - path: {}\n", quoted(&f.path)));
            if let Some(mode) = f.mode {
                y.push_str(&format!("      mode: 0{mode:o}\n"));
            }
            if let Some((user, group)) = &f.owner {
                y.push_str(&format!("      user:\n        name: {}\n", quoted(user)));
                if let Some(group) = group {
                    y.push_str(&format!("      group:\n        name: {}\n", quoted(group)));
                }
            }
            y.push_str("      contents:\n        inline: ");
            block(&mut y, &f.contents, 10);
        }
    }
    if etcd.is_some() || !units.is_empty() {
        y.push_str("systemd:\n  units:\n");
    }
    if let Some(dropin) = etcd {
        y.push_str(&format!("    - name: {}\n      enabled: true\n      dropins:\n        - name: {}\n          contents: ", quoted(ETCD_UNIT), quoted(DROPIN_NAME)));
        block(&mut y, dropin, 12);
        if address_unit_needed {
            y.push_str(&format!(
                "    - name: {}\n      enabled: true\n      contents: ",
                quoted(ADDRESS_UNIT)
            ));
            block(&mut y, &address_unit(), 8);
        }
    }
    for u in units {
        y.push_str(&format!("    - name: {}\n", quoted(&u.name)));
        if let Some(e) = u.enabled {
            y.push_str(&format!("      enabled: {e}\n"));
        }
        if let Some(m) = u.mask {
            y.push_str(&format!("      mask: {m}\n"));
        }
        if let Some(c) = &u.contents {
            y.push_str("      contents: ");
            block(&mut y, c, 8);
        }
        if !u.dropins.is_empty() {
            y.push_str("      dropins:\n");
            for (name, contents) in &u.dropins {
                y.push_str(&format!(
                    "        - name: {}\n          contents: ",
                    quoted(name)
                ));
                block(&mut y, contents, 12);
            }
        }
    }
    y
}

/// The mappings of a sequence node, with their index.
fn mappings(node: &Node) -> impl Iterator<Item = (usize, &Node, &[(Node, Node)])> {
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

fn text_of(node: &Node) -> String {
    scalar(node)
}

fn scalar(node: &Node) -> String {
    match &node.value {
        Value::Scalar(s) => s.text.clone(),
        _ => String::new(),
    }
}

fn truthy(node: &Node) -> bool {
    matches!(
        scalar(node).as_str(),
        "true" | "True" | "TRUE" | "yes" | "on" | "1"
    )
}

fn strings(node: &Node) -> Vec<String> {
    match &node.value {
        Value::Sequence(items) => items.iter().map(scalar).collect(),
        Value::Scalar(s) if !s.text.is_empty() => vec![s.text.clone()],
        _ => Vec::new(),
    }
}

fn child<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    butane::shape::child(Some(node), key)
}

fn field(node: &Node, key: &str) -> String {
    child(node, key).map(scalar).unwrap_or_default()
}

/// The options of an etcd section, in order, each with its line.
fn options(node: &Node) -> Vec<Option_> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's cloud-config (CoreOS's cluster discovery guide, etcd 0.4), grown with what
    /// cloud-configs of that time held.
    const SEED: &str = "#cloud-config\n\ncoreos:\n  etcd:\n    # generate a new token for each unique cluster from https://discovery.etcd.io/new\n    discovery: https://discovery.etcd.io/6a28e078895c5ec737174db2419bb2f3\n    # multi-region deployments, multi-cloud deployments, and droplets without\n    # private networking need to use $public_ipv4\n    addr: $private_ipv4:4001\n    peer-addr: $private_ipv4:7001\n  fleet:\n    public-ip: $private_ipv4\n  units:\n    - name: etcd.service\n      command: start\n    - name: fleet.service\n      command: start\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm7mRZ2 me@laptop\nhostname: node-1\n";

    #[test]
    fn the_seeds_cloud_config_becomes_butane_that_translates_cleanly() {
        let platform = crate::config::PLATFORMS
            .iter()
            .find(|p| p.id == "metal")
            .unwrap();
        let m = migrate(SEED, platform).unwrap();
        let outcome = ::butane::translate(&m.butane, &::butane::Options::default());
        assert!(
            outcome.succeeded(true),
            "{}\n{}",
            m.butane,
            outcome.stderr(&m.butane, true)
        );
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
        let ec2 = crate::config::PLATFORMS
            .iter()
            .find(|p| p.id == "ec2")
            .unwrap();
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
