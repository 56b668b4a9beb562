//! Butane to Ignition (`base/v0_{4,5}/translate.go`): fields copied to their Ignition names,
//! `inline`/`local` contents made data URLs, `*_local` files read from the files directory,
//! a mount unit written for each `with_mount_unit` filesystem and merged under the config's
//! own units. Beside the Ignition comes where each part of it came from, so a finding on the
//! Ignition side is reported at the YAML that caused it.

use std::collections::BTreeMap;

use crate::config as bu;
use crate::dataurl;
use crate::ignition::types as ign;
use crate::path::{snake, Path, Step, Tree};
use crate::report::Report;
use crate::systemd::escape_path;

pub const ERR_NO_FILES_DIR: &str =
    "local file paths are relative to a files directory that must be specified with -d/--files-dir";
pub const ERR_FILES_DIR_ESCAPE: &str = "local file path traverses outside the files directory";

/// The files `local:` and the `*_local` fields name, by their path relative to the files
/// directory (butane's `-d`); `None` when there is no files directory.
#[derive(Debug, Clone, Default)]
pub struct FilesDir {
    /// How the directory is named in messages (`open <name>/<path>: ...`).
    pub name: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

impl FilesDir {
    /// butane's `ReadLocalFile`: the path joined under the directory must stay in it.
    pub fn read(&self, path: &str) -> Result<&[u8], String> {
        let mut parts: Vec<&str> = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(ERR_FILES_DIR_ESCAPE.into());
                    }
                }
                part => parts.push(part),
            }
        }
        let clean = parts.join("/");
        self.files.get(&clean).map(Vec::as_slice).ok_or_else(|| {
            if clean.is_empty() {
                format!("read {}: is a directory", self.name)
            } else {
                format!("open {}/{clean}: no such file or directory", self.name)
            }
        })
    }
}

/// Where parts of the Ignition came from: a JSON path and the YAML path it maps to. A path
/// with no entry maps by its nearest ancestor that has one, the rest snake_cased.
#[derive(Debug, Clone, Default)]
pub struct Translations {
    entries: Vec<(Vec<Step>, Path, Scope)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The JSON path's descendants map below the YAML path.
    Below,
    /// The JSON path and all its descendants map to the YAML path itself (a generated unit
    /// comes from its filesystem's `with_mount_unit`).
    Whole,
}

impl Translations {
    pub fn add(&mut self, json: &Path, yaml: &Path) {
        self.entries
            .push((json.steps.clone(), yaml.clone(), Scope::Below));
    }

    fn add_whole(&mut self, json: &Path, yaml: &Path) {
        self.entries
            .push((json.steps.clone(), yaml.clone(), Scope::Whole));
    }

    /// The YAML path a JSON path maps to.
    pub fn to_yaml(&self, json: &Path) -> Path {
        if json.tree == Tree::Yaml {
            return json.clone();
        }
        // The longest matching entry; of equally long ones, the last added.
        let mut best: Option<&(Vec<Step>, Path, Scope)> = None;
        for entry in self.entries.iter().rev() {
            if json.steps.starts_with(&entry.0) && best.is_none_or(|b| entry.0.len() > b.0.len()) {
                best = Some(entry);
            }
        }
        match best {
            Some((_, yaml, Scope::Whole)) => yaml.clone(),
            Some((steps, yaml, Scope::Below)) => {
                let mut out = yaml.clone();
                out.steps
                    .extend(json.steps[steps.len()..].iter().map(snake_step));
                out
            }
            None => Path {
                tree: Tree::Json,
                steps: json.steps.iter().map(snake_step).collect(),
            },
        }
    }
}

fn snake_step(step: &Step) -> Step {
    match step {
        Step::Field(name) => Step::Field(snake(name)),
        other => other.clone(),
    }
}

/// What translating gives: the Ignition, where its parts came from, and what went wrong.
pub struct Translated {
    pub config: ign::Config,
    pub translations: Translations,
    pub report: Report,
}

pub fn translate(from: &bu::Config, spec: ign::Spec, files: Option<&FilesDir>) -> Translated {
    let mut t = Translator {
        files,
        report: Report::default(),
        translations: Translations::default(),
    };
    let mut config = ign::Config {
        ignition: t.ignition(&from.ignition, spec),
        kernel_arguments: ign::KernelArguments {
            should_exist: from.kernel_arguments.should_exist.clone(),
            should_not_exist: from.kernel_arguments.should_not_exist.clone(),
        },
        passwd: t.passwd(&from.passwd),
        storage: t.storage(&from.storage),
        systemd: t.systemd(&from.systemd),
    };
    t.translations.add(
        &Path::json().field("ignition").field("version"),
        &Path::yaml().field("version"),
    );
    t.mount_units(from, &mut config);
    t.trees(from, &mut config);
    Translated {
        config,
        translations: t.translations,
        report: t.report,
    }
}

struct Translator<'a> {
    files: Option<&'a FilesDir>,
    report: Report,
    translations: Translations,
}

impl<'a> Translator<'a> {
    fn ignition(&mut self, from: &bu::Ignition, spec: ign::Spec) -> ign::Ignition {
        let json = Path::json().field("ignition");
        let yaml = Path::yaml().field("ignition");
        let config = json.field("config");
        let yconfig = yaml.field("config");
        ign::Ignition {
            config: ign::IgnitionConfig {
                merge: from
                    .config
                    .merge
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        self.resource(
                            r,
                            &config.field("merge").index(i),
                            &yconfig.field("merge").index(i),
                        )
                    })
                    .collect(),
                replace: self.resource(
                    &from.config.replace,
                    &config.field("replace"),
                    &yconfig.field("replace"),
                ),
            },
            proxy: ign::Proxy {
                http_proxy: from.proxy.http_proxy.clone(),
                https_proxy: from.proxy.https_proxy.clone(),
                no_proxy: from.proxy.no_proxy.clone(),
            },
            security: ign::Security {
                tls: ign::Tls {
                    certificate_authorities: from
                        .security
                        .tls
                        .certificate_authorities
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            let at = |p: &Path| {
                                p.field("security")
                                    .field("tls")
                                    .field("certificate_authorities")
                            };
                            self.resource(
                                r,
                                &json
                                    .field("security")
                                    .field("tls")
                                    .field("certificateAuthorities")
                                    .index(i),
                                &at(&yaml).index(i),
                            )
                        })
                        .collect(),
                },
            },
            timeouts: ign::Timeouts {
                http_response_headers: from.timeouts.http_response_headers,
                http_total: from.timeouts.http_total,
            },
            version: spec.version().to_string(),
        }
    }

    /// `translateResource`: `local` then `inline` become `source` (and `compression`).
    fn resource(&mut self, from: &bu::Resource, json: &Path, yaml: &Path) -> ign::Resource {
        let mut to = ign::Resource {
            compression: from.compression.clone(),
            http_headers: from
                .http_headers
                .iter()
                .map(|h| ign::HttpHeader {
                    name: h.name.clone(),
                    value: h.value.clone(),
                })
                .collect(),
            source: from.source.clone(),
            verification: ign::Verification {
                hash: from.verification.hash.clone(),
            },
        };
        if let Some(local) = &from.local {
            let at = yaml.field("local");
            match self.read(local) {
                Ok(contents) => {
                    let contents = contents.to_vec();
                    self.embed(&mut to, &contents, json, &at);
                }
                Err(message) => {
                    self.report.error(at, message);
                    return to;
                }
            }
        }
        if let Some(inline) = &from.inline {
            self.embed(&mut to, inline.as_bytes(), json, &yaml.field("inline"));
        }
        to
    }

    fn embed(&mut self, to: &mut ign::Resource, contents: &[u8], json: &Path, yaml: &Path) {
        let url = dataurl::make(contents, to.compression.as_deref());
        to.source = Some(url.source);
        self.translations.add(&json.field("source"), yaml);
        if let Some(compression) = url.compression {
            to.compression = Some(compression);
            self.translations.add(&json.field("compression"), yaml);
        }
    }

    fn read(&self, path: &str) -> Result<&'a [u8], String> {
        match self.files {
            None => Err(ERR_NO_FILES_DIR.into()),
            Some(files) => files.read(path),
        }
    }

    fn passwd(&mut self, from: &bu::Passwd) -> ign::Passwd {
        ign::Passwd {
            groups: from
                .groups
                .iter()
                .map(|g| ign::PasswdGroup {
                    gid: g.gid,
                    name: g.name.clone(),
                    password_hash: g.password_hash.clone(),
                    should_exist: g.should_exist,
                    system: g.system,
                })
                .collect(),
            users: from
                .users
                .iter()
                .enumerate()
                .map(|(i, u)| self.user(u, i))
                .collect(),
        }
    }

    fn user(&mut self, from: &bu::PasswdUser, i: usize) -> ign::PasswdUser {
        let mut to = ign::PasswdUser {
            gecos: from.gecos.clone(),
            groups: from.groups.clone(),
            home_dir: from.home_dir.clone(),
            name: from.name.clone(),
            no_create_home: from.no_create_home,
            no_log_init: from.no_log_init,
            no_user_group: from.no_user_group,
            password_hash: from.password_hash.clone(),
            primary_group: from.primary_group.clone(),
            ssh_authorized_keys: from.ssh_authorized_keys.clone(),
            shell: from.shell.clone(),
            should_exist: from.should_exist,
            system: from.system,
            uid: from.uid,
        };
        if from.ssh_authorized_keys_local.is_empty() {
            return to;
        }
        let yaml = Path::yaml()
            .field("passwd")
            .field("users")
            .index(i)
            .field("ssh_authorized_keys_local");
        let json = Path::json()
            .field("passwd")
            .field("users")
            .index(i)
            .field("sshAuthorizedKeys");
        self.translations.add(&json, &yaml);
        if self.files.is_none() {
            self.report.error(yaml, ERR_NO_FILES_DIR);
            return to;
        }
        for (k, name) in from.ssh_authorized_keys_local.iter().enumerate() {
            match self.read(name) {
                Err(message) => self.report.error(yaml.index(k), message),
                Ok(keys) => {
                    let keys = String::from_utf8_lossy(keys).into_owned();
                    for line in keys.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
                        if line.is_empty() {
                            continue;
                        }
                        self.translations
                            .add(&json.index(to.ssh_authorized_keys.len()), &yaml.index(k));
                        to.ssh_authorized_keys.push(line.to_string());
                    }
                }
            }
        }
        to
    }

    fn storage(&mut self, from: &bu::Storage) -> ign::Storage {
        let json = Path::json().field("storage");
        let yaml = Path::yaml().field("storage");
        ign::Storage {
            directories: from
                .directories
                .iter()
                .map(|d| ign::Directory {
                    group: node_group(&d.group),
                    overwrite: d.overwrite,
                    path: d.path.clone(),
                    user: node_user(&d.user),
                    mode: d.mode,
                })
                .collect(),
            disks: from
                .disks
                .iter()
                .map(|d| ign::Disk {
                    device: d.device.clone(),
                    partitions: d
                        .partitions
                        .iter()
                        .map(|p| ign::Partition {
                            guid: p.guid.clone(),
                            label: p.label.clone(),
                            number: p.number,
                            resize: p.resize,
                            should_exist: p.should_exist,
                            size_mib: p.size_mib,
                            start_mib: p.start_mib,
                            type_guid: p.type_guid.clone(),
                            wipe_partition_entry: p.wipe_partition_entry,
                        })
                        .collect(),
                    wipe_table: d.wipe_table,
                })
                .collect(),
            files: from
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let (json, yaml) = (json.field("files").index(i), yaml.field("files").index(i));
                    ign::File {
                        group: node_group(&f.group),
                        overwrite: f.overwrite,
                        path: f.path.clone(),
                        user: node_user(&f.user),
                        append: f
                            .append
                            .iter()
                            .enumerate()
                            .map(|(k, r)| {
                                self.resource(
                                    r,
                                    &json.field("append").index(k),
                                    &yaml.field("append").index(k),
                                )
                            })
                            .collect(),
                        contents: self.resource(
                            &f.contents,
                            &json.field("contents"),
                            &yaml.field("contents"),
                        ),
                        mode: f.mode,
                    }
                })
                .collect(),
            filesystems: from
                .filesystems
                .iter()
                .map(|f| ign::Filesystem {
                    device: f.device.clone(),
                    format: f.format.clone(),
                    label: f.label.clone(),
                    mount_options: f.mount_options.clone(),
                    options: f.options.clone(),
                    path: f.path.clone(),
                    uuid: f.uuid.clone(),
                    wipe_filesystem: f.wipe_filesystem,
                })
                .collect(),
            links: from
                .links
                .iter()
                .map(|l| ign::Link {
                    group: node_group(&l.group),
                    overwrite: l.overwrite,
                    path: l.path.clone(),
                    user: node_user(&l.user),
                    hard: l.hard,
                    target: l.target.clone(),
                })
                .collect(),
            luks: from
                .luks
                .iter()
                .enumerate()
                .map(|(i, l)| ign::Luks {
                    clevis: ign::Clevis {
                        custom: ign::ClevisCustom {
                            config: l.clevis.custom.config.clone(),
                            needs_network: l.clevis.custom.needs_network,
                            pin: l.clevis.custom.pin.clone(),
                        },
                        tang: l
                            .clevis
                            .tang
                            .iter()
                            .map(|t| ign::Tang {
                                advertisement: t.advertisement.clone(),
                                thumbprint: t.thumbprint.clone(),
                                url: t.url.clone(),
                            })
                            .collect(),
                        threshold: l.clevis.threshold,
                        tpm2: l.clevis.tpm2,
                    },
                    device: l.device.clone(),
                    discard: l.discard,
                    key_file: self.resource(
                        &l.key_file,
                        &json.field("luks").index(i).field("keyFile"),
                        &yaml.field("luks").index(i).field("key_file"),
                    ),
                    label: l.label.clone(),
                    name: l.name.clone(),
                    open_options: l.open_options.clone(),
                    options: l.options.clone(),
                    uuid: l.uuid.clone(),
                    wipe_volume: l.wipe_volume,
                })
                .collect(),
            raid: from
                .raid
                .iter()
                .map(|r| ign::Raid {
                    devices: r.devices.clone(),
                    level: r.level.clone(),
                    name: r.name.clone(),
                    options: r.options.clone(),
                    spares: r.spares,
                })
                .collect(),
        }
    }

    fn systemd(&mut self, from: &bu::Systemd) -> ign::Systemd {
        let units = from
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let yaml = Path::yaml().field("systemd").field("units").index(i);
                let json = Path::json().field("systemd").field("units").index(i);
                // butane reads the dropins' files before the unit's own.
                let dropins = u
                    .dropins
                    .iter()
                    .enumerate()
                    .map(|(k, d)| ign::Dropin {
                        contents: self.local_contents(
                            &d.contents,
                            &d.contents_local,
                            &json.field("dropins").index(k),
                            &yaml.field("dropins").index(k),
                        ),
                        name: d.name.clone(),
                    })
                    .collect();
                let contents = self.local_contents(&u.contents, &u.contents_local, &json, &yaml);
                ign::Unit {
                    contents,
                    dropins,
                    enabled: u.enabled,
                    mask: u.mask,
                    name: u.name.clone(),
                }
            })
            .collect();
        ign::Systemd { units }
    }

    /// A unit's or dropin's `contents`, or the file its `contents_local` names.
    fn local_contents(
        &mut self,
        contents: &Option<String>,
        local: &Option<String>,
        json: &Path,
        yaml: &Path,
    ) -> Option<String> {
        let Some(local) = local.as_deref().filter(|l| !l.is_empty()) else {
            return contents.clone();
        };
        let at = yaml.field("contents_local");
        match self.read(local) {
            Ok(text) => {
                self.translations.add(&json.field("contents"), &at);
                Some(String::from_utf8_lossy(text).into_owned())
            }
            Err(message) => {
                self.report.error(at, message);
                contents.clone()
            }
        }
    }

    /// `addMountUnits`: a unit per `with_mount_unit` filesystem, as the parent the config's
    /// own units merge into (a unit of the same name overrides field by field).
    fn mount_units(&mut self, from: &bu::Config, config: &mut ign::Config) {
        let mut generated: Vec<(ign::Unit, Path)> = Vec::new();
        for (i, fs) in from.storage.filesystems.iter().enumerate() {
            if fs.with_mount_unit != Some(true) {
                continue;
            }
            let remote = (fs.device.starts_with("/dev/mapper/")
                || fs.device.starts_with("/dev/disk/by-id/dm-name-"))
                && from.storage.luks.iter().any(|l| {
                    (fs.device == format!("/dev/mapper/{}", l.name)
                        || fs.device == format!("/dev/disk/by-id/dm-name-{}", l.name))
                        && !l.clevis.tang.is_empty()
                });
            let at = Path::yaml()
                .field("storage")
                .field("filesystems")
                .index(i)
                .field("with_mount_unit");
            generated.push((mount_unit(fs, remote), at));
        }
        if generated.is_empty() {
            return;
        }
        let own = std::mem::take(&mut config.systemd.units);
        let own_at = |j: usize| Path::yaml().field("systemd").field("units").index(j);
        let units_json = Path::json().field("systemd").field("units");
        let mut merged_own = vec![false; own.len()];
        let mut units = Vec::new();
        let mut moves = Translations::default();
        for (unit, at) in generated {
            let k = units.len();
            let json = units_json.index(k);
            match own.iter().rposition(|u| u.name == unit.name) {
                Some(j) => {
                    merged_own[j] = true;
                    let child = &own[j];
                    moves.add_whole(&json, &at);
                    for (field, set) in [
                        ("contents", child.contents.is_some()),
                        ("enabled", child.enabled.is_some()),
                        ("mask", child.mask.is_some()),
                    ] {
                        if set {
                            moves.add(&json.field(field), &own_at(j).field(field));
                        } else {
                            moves.add_whole(&json.field(field), &at);
                        }
                    }
                    moves.add(&json.field("name"), &own_at(j).field("name"));
                    moves.add(&json.field("dropins"), &own_at(j).field("dropins"));
                    units.push(merge_unit(unit, child));
                }
                None => {
                    moves.add_whole(&json, &at);
                    units.push(unit);
                }
            }
        }
        for (j, unit) in own.into_iter().enumerate() {
            if merged_own[j] {
                continue;
            }
            moves.add(&units_json.index(units.len()), &own_at(j));
            units.push(unit);
        }
        config.systemd.units = units;
        // The moves come last, so they win over the entries the config's own units made.
        self.translations.entries.extend(moves.entries);
    }

    /// `storage.trees`: every file under a tree's `local` directory becomes a file at the same
    /// place under its `path` (the files directory here has no modes or links: each is 0644).
    fn trees(&mut self, from: &bu::Config, config: &mut ign::Config) {
        for (i, tree) in from.storage.trees.iter().enumerate() {
            let at = Path::yaml().field("storage").field("trees").index(i);
            let Some(files) = self.files else {
                self.report.error(at, ERR_NO_FILES_DIR);
                return;
            };
            let local = tree.local.trim_matches('/');
            let base = tree
                .path
                .as_deref()
                .filter(|p| !p.is_empty())
                .unwrap_or("/");
            let under: Vec<(&String, &Vec<u8>)> = files
                .files
                .iter()
                .filter(|(name, _)| local.is_empty() || name.starts_with(&format!("{local}/")))
                .collect();
            if under.is_empty() {
                self.report.error(
                    at,
                    format!("stat {}/{local}: no such file or directory", files.name),
                );
                continue;
            }
            for (name, contents) in under {
                let rel = if local.is_empty() {
                    name.as_str()
                } else {
                    &name[local.len() + 1..]
                };
                let dest = format!("{}/{rel}", base.trim_end_matches('/'));
                let storage = &mut config.storage;
                let index = storage.files.iter().position(|f| f.path == dest);
                let exists = storage.directories.iter().any(|d| d.path == dest)
                    || storage.links.iter().any(|l| l.path == dest);
                let k = match index {
                    Some(k)
                        if storage.files[k]
                            .contents
                            .source
                            .as_deref()
                            .is_some_and(|s| !s.is_empty()) =>
                    {
                        self.report.error(
                            at.clone(),
                            "matching filesystem node has existing contents or different type",
                        );
                        continue;
                    }
                    Some(k) => k,
                    None if exists => {
                        self.report.error(
                            at.clone(),
                            "matching filesystem node has existing contents or different type",
                        );
                        continue;
                    }
                    None => {
                        storage.files.push(ign::File {
                            path: dest.clone(),
                            ..Default::default()
                        });
                        self.translations.add_whole(
                            &Path::json()
                                .field("storage")
                                .field("files")
                                .index(storage.files.len() - 1),
                            &at,
                        );
                        storage.files.len() - 1
                    }
                };
                let file = &mut storage.files[k];
                let url = dataurl::make(contents, file.contents.compression.as_deref());
                file.contents.source = Some(url.source);
                if let Some(c) = url.compression {
                    file.contents.compression = Some(c);
                }
                if file.mode.is_none() {
                    file.mode = Some(0o644);
                }
            }
        }
    }
}

fn node_group(g: &bu::NodeGroup) -> ign::NodeGroup {
    ign::NodeGroup {
        id: g.id,
        name: g.name.clone(),
    }
}

fn node_user(u: &bu::NodeUser) -> ign::NodeUser {
    ign::NodeUser {
        id: u.id,
        name: u.name.clone(),
    }
}

/// butane's mount unit template, for a filesystem that passed its checks (format set, and
/// a path unless swap).
fn mount_unit(fs: &bu::Filesystem, remote: bool) -> ign::Unit {
    let format = fs.format.clone().unwrap_or_default();
    let swap = format == "swap";
    let mut options = fs.mount_options.join(",");
    if remote {
        if !options.is_empty() {
            options.push(',');
        }
        options.push_str("_netdev");
    }
    let options = if options.is_empty() {
        String::new()
    } else {
        format!("\nOptions={options}")
    };
    let (contents, name) = if swap {
        (
            format!("# Generated by Butane\n[Swap]\nWhat={}{options}\n\n[Install]\nRequiredBy=swap.target", fs.device),
            format!("{}.swap", escape_path(&fs.device)),
        )
    } else {
        let path = fs.path.clone().unwrap_or_default();
        let device = escape_path(&fs.device);
        let target = if remote {
            "remote-fs.target"
        } else {
            "local-fs.target"
        };
        (
            format!(
                "# Generated by Butane\n[Unit]\nRequires=systemd-fsck@{device}.service\nAfter=systemd-fsck@{device}.service\n\n[Mount]\nWhere={path}\nWhat={}\nType={format}{options}\n\n[Install]\nRequiredBy={target}",
                fs.device
            ),
            format!("{}.mount", escape_path(&path)),
        )
    };
    ign::Unit {
        contents: Some(contents),
        dropins: Vec::new(),
        enabled: Some(true),
        mask: None,
        name,
    }
}

/// Ignition's merge of a child unit into a parent of the same name: a field the child sets
/// wins, dropins merge by name.
fn merge_unit(parent: ign::Unit, child: &ign::Unit) -> ign::Unit {
    let mut dropins = parent.dropins;
    for d in &child.dropins {
        match dropins.iter_mut().find(|p| p.name == d.name) {
            Some(p) => {
                if d.contents.is_some() {
                    p.contents = d.contents.clone();
                }
            }
            None => dropins.push(d.clone()),
        }
    }
    ign::Unit {
        contents: child.contents.clone().or(parent.contents),
        dropins,
        enabled: child.enabled.or(parent.enabled),
        mask: child.mask.or(parent.mask),
        name: child.name.clone(),
    }
}
