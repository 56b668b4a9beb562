//! Ignition's own checks of a config (`ignition/config/v3_{3,4}/types`), walked in Go's
//! struct order as vcontext walks them, and its duplicate check (`ValidateDups`): paths,
//! modes, URLs, units, partitions, filesystems, LUKS, RAID, and entries defined twice.
//! Paths are JSON paths; butane maps them back to its YAML.

use std::collections::{HashMap, HashSet};

use super::types::*;
use crate::path::Path;
use crate::report::Report;
use crate::systemd::parse_unit;

/// Every finding of Ignition's `Validate` on `config`.
pub fn validate(config: &Config, spec: Spec) -> Report {
    let mut r = Report::default();
    let root = Path::json();
    config_paths(&mut r, config, &root);
    ignition(&mut r, &config.ignition, &root.field("ignition"), spec);
    storage(&mut r, &config.storage, &root.field("storage"), spec);
    systemd(&mut r, &config.systemd, &root.field("systemd"));
    r
}

/// `ValidateDups` over the whole config: an entry whose key an earlier one in the same list
/// (or a list sharing its keys) has.
pub fn duplicates(config: &Config) -> Report {
    let mut r = Report::default();
    let root = Path::json();
    let ign = root.field("ignition");
    let merge = ign.field("config").field("merge");
    dup_list(
        &mut r,
        &merge,
        config.ignition.config.merge.iter().map(resource_key),
        &mut HashSet::new(),
    );
    for (i, res) in config.ignition.config.merge.iter().enumerate() {
        resource_dups(&mut r, res, &merge.index(i));
    }
    resource_dups(
        &mut r,
        &config.ignition.config.replace,
        &ign.field("config").field("replace"),
    );
    let proxy = ign.field("proxy");
    dup_list(
        &mut r,
        &proxy.field("noProxy"),
        config.ignition.proxy.no_proxy.iter().cloned(),
        &mut HashSet::new(),
    );
    let cas = ign
        .field("security")
        .field("tls")
        .field("certificateAuthorities");
    let tls = &config.ignition.security.tls;
    dup_list(
        &mut r,
        &cas,
        tls.certificate_authorities.iter().map(resource_key),
        &mut HashSet::new(),
    );
    for (i, res) in tls.certificate_authorities.iter().enumerate() {
        resource_dups(&mut r, res, &cas.index(i));
    }
    let kargs = root.field("kernelArguments");
    let mut seen = HashSet::new();
    dup_list(
        &mut r,
        &kargs.field("shouldExist"),
        config.kernel_arguments.should_exist.iter().cloned(),
        &mut seen,
    );
    dup_list(
        &mut r,
        &kargs.field("shouldNotExist"),
        config.kernel_arguments.should_not_exist.iter().cloned(),
        &mut seen,
    );
    let passwd = root.field("passwd");
    dup_list(
        &mut r,
        &passwd.field("groups"),
        config.passwd.groups.iter().map(|g| g.name.clone()),
        &mut HashSet::new(),
    );
    dup_list(
        &mut r,
        &passwd.field("users"),
        config.passwd.users.iter().map(|u| u.name.clone()),
        &mut HashSet::new(),
    );
    for (i, u) in config.passwd.users.iter().enumerate() {
        let at = passwd.field("users").index(i);
        dup_list(
            &mut r,
            &at.field("groups"),
            u.groups.iter().cloned(),
            &mut HashSet::new(),
        );
        dup_list(
            &mut r,
            &at.field("sshAuthorizedKeys"),
            u.ssh_authorized_keys.iter().cloned(),
            &mut HashSet::new(),
        );
    }
    let s = &config.storage;
    let st = root.field("storage");
    let mut nodes = HashSet::new();
    dup_list(
        &mut r,
        &st.field("directories"),
        s.directories.iter().map(|d| d.path.clone()),
        &mut nodes,
    );
    dup_list(
        &mut r,
        &st.field("disks"),
        s.disks.iter().map(|d| d.device.clone()),
        &mut HashSet::new(),
    );
    dup_list(
        &mut r,
        &st.field("files"),
        s.files.iter().map(|f| f.path.clone()),
        &mut nodes,
    );
    dup_list(
        &mut r,
        &st.field("filesystems"),
        s.filesystems.iter().map(|f| f.device.clone()),
        &mut HashSet::new(),
    );
    dup_list(
        &mut r,
        &st.field("links"),
        s.links.iter().map(|l| l.path.clone()),
        &mut nodes,
    );
    dup_list(
        &mut r,
        &st.field("luks"),
        s.luks.iter().map(|l| l.name.clone()),
        &mut HashSet::new(),
    );
    dup_list(
        &mut r,
        &st.field("raid"),
        s.raid.iter().map(|a| a.name.clone()),
        &mut HashSet::new(),
    );
    for (i, d) in s.disks.iter().enumerate() {
        let keys = d.partitions.iter().map(|p| {
            if p.number != 0 {
                format!("number:{}", p.number)
            } else if let Some(label) = &p.label {
                format!("label:{label}")
            } else {
                String::new()
            }
        });
        dup_list(
            &mut r,
            &st.field("disks").index(i).field("partitions"),
            keys,
            &mut HashSet::new(),
        );
    }
    for (i, f) in s.files.iter().enumerate() {
        let at = st.field("files").index(i);
        for (k, res) in f.append.iter().enumerate() {
            resource_dups(&mut r, res, &at.field("append").index(k));
        }
        resource_dups(&mut r, &f.contents, &at.field("contents"));
    }
    for (i, l) in s.luks.iter().enumerate() {
        let at = st.field("luks").index(i);
        dup_list(
            &mut r,
            &at.field("openOptions"),
            l.open_options.iter().cloned(),
            &mut HashSet::new(),
        );
        dup_list(
            &mut r,
            &at.field("clevis").field("tang"),
            l.clevis.tang.iter().map(|t| t.url.clone()),
            &mut HashSet::new(),
        );
        resource_dups(&mut r, &l.key_file, &at.field("keyFile"));
    }
    for (i, a) in s.raid.iter().enumerate() {
        dup_list(
            &mut r,
            &st.field("raid").index(i).field("devices"),
            a.devices.iter().cloned(),
            &mut HashSet::new(),
        );
    }
    let units = root.field("systemd").field("units");
    dup_list(
        &mut r,
        &units,
        config.systemd.units.iter().map(|u| u.name.clone()),
        &mut HashSet::new(),
    );
    for (i, u) in config.systemd.units.iter().enumerate() {
        dup_list(
            &mut r,
            &units.index(i).field("dropins"),
            u.dropins.iter().map(|d| d.name.clone()),
            &mut HashSet::new(),
        );
    }
    r
}

fn resource_key(res: &Resource) -> String {
    res.source.clone().unwrap_or_default()
}

fn resource_dups(r: &mut Report, res: &Resource, at: &Path) {
    dup_list(
        r,
        &at.field("httpHeaders"),
        res.http_headers.iter().map(|h| h.name.clone()),
        &mut HashSet::new(),
    );
}

fn dup_list(
    r: &mut Report,
    at: &Path,
    keys: impl Iterator<Item = String>,
    seen: &mut HashSet<String>,
) {
    for (i, key) in keys.enumerate() {
        if !seen.insert(key) {
            r.error(at.index(i), "duplicate entry defined");
        }
    }
}

/// `Config.Validate`: a file, directory or link where a unit or dropin is written.
fn config_paths(r: &mut Report, config: &Config, root: &Path) {
    let mut unit_paths = HashSet::new();
    for unit in &config.systemd.units {
        if unit.contents.as_deref().is_some_and(|c| !c.is_empty()) {
            unit_paths.insert(format!("/etc/systemd/system/{}", unit.name));
        }
        for d in &unit.dropins {
            if d.contents.as_deref().is_some_and(|c| !c.is_empty()) {
                unit_paths.insert(format!("/etc/systemd/system/{}.d/{}", unit.name, d.name));
            }
        }
    }
    let st = root.field("storage");
    const CONFLICT: &str = "path conflicts with systemd unit or dropin";
    for (i, f) in config.storage.files.iter().enumerate() {
        if unit_paths.contains(&f.path) {
            r.error(st.field("files").index(i).field("path"), CONFLICT);
        }
    }
    for (i, d) in config.storage.directories.iter().enumerate() {
        if unit_paths.contains(&d.path) {
            r.error(st.field("directories").index(i).field("path"), CONFLICT);
        }
    }
    for (i, l) in config.storage.links.iter().enumerate() {
        if unit_paths.contains(&l.path) {
            r.error(st.field("links").index(i).field("path"), CONFLICT);
        }
    }
}

fn ignition(r: &mut Report, ign: &Ignition, at: &Path, spec: Spec) {
    version(r, &ign.version, &at.field("version"), spec);
    let config = at.field("config");
    for (i, res) in ign.config.merge.iter().enumerate() {
        if let Err(e) = required_source(res, spec) {
            r.error(config.field("merge").index(i), e);
        }
    }
    for (i, res) in ign.config.merge.iter().enumerate() {
        resource(r, res, &config.field("merge").index(i), spec);
    }
    resource(r, &ign.config.replace, &config.field("replace"), spec);
    let proxy = at.field("proxy");
    proxy_url(
        r,
        ign.proxy.http_proxy.as_deref(),
        &proxy.field("httpProxy"),
        true,
    );
    proxy_url(
        r,
        ign.proxy.https_proxy.as_deref(),
        &proxy.field("httpsProxy"),
        false,
    );
    let cas = at
        .field("security")
        .field("tls")
        .field("certificateAuthorities");
    for (i, res) in ign.security.tls.certificate_authorities.iter().enumerate() {
        if let Err(e) = required_source(res, spec) {
            r.error(cas.index(i), e);
        }
    }
    for (i, res) in ign.security.tls.certificate_authorities.iter().enumerate() {
        resource(r, res, &cas.index(i), spec);
    }
}

pub const ERR_INVALID_VERSION: &str = "invalid config version (couldn't parse)";
pub const ERR_UNKNOWN_VERSION: &str = "unsupported config version";

/// `Ignition.Validate`: the version must be this spec's.
pub fn version(r: &mut Report, version: &str, at: &Path, spec: Spec) {
    match parse_semver(version) {
        None => r.error(at.clone(), ERR_INVALID_VERSION),
        Some(v) if v != spec.version() => r.error(at.clone(), ERR_UNKNOWN_VERSION),
        Some(_) => {}
    }
}

/// go-semver's `NewVersion`, as the canonical `X.Y.Z[-pre][+meta]` it prints.
pub fn parse_semver(text: &str) -> Option<String> {
    let (rest, meta) = match text.split_once('+') {
        Some((rest, meta)) => (rest, Some(meta)),
        None => (text, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let parts: Vec<&str> = core.splitn(3, '.').collect();
    if parts.len() != 3 {
        return None;
    }
    let mut numbers = Vec::new();
    for p in parts {
        let digits = p.strip_prefix('+').unwrap_or(p);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        numbers.push(digits.parse::<i64>().ok()?);
    }
    let ident_ok = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|id| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    let mut out = format!("{}.{}.{}", numbers[0], numbers[1], numbers[2]);
    if let Some(pre) = pre {
        if !ident_ok(pre) {
            return None;
        }
        out.push('-');
        out.push_str(pre);
    }
    if let Some(meta) = meta {
        if !ident_ok(meta) {
            return None;
        }
        out.push('+');
        out.push_str(meta);
    }
    Some(out)
}

fn required_source(res: &Resource, spec: Spec) -> Result<(), String> {
    match res.source.as_deref() {
        None | Some("") => Err("source is required".into()),
        Some(s) => validate_url(s, spec),
    }
}

/// `Resource.Validate` and its headers' and verification's.
fn resource(r: &mut Report, res: &Resource, at: &Path, spec: Spec) {
    if let Some(c) = res.compression.as_deref() {
        if !c.is_empty() && c != "gzip" {
            r.error(at.field("compression"), "invalid compression method");
        }
    }
    if res.verification.hash.is_some() && res.source.is_none() {
        r.error(
            at.field("verification").field("hash"),
            "source must be specified if verification is specified",
        );
    }
    if let Some(s) = res.source.as_deref().filter(|s| !s.is_empty()) {
        if let Err(e) = validate_url(s, spec) {
            r.error(at.field("source"), e);
        }
    }
    if !res.http_headers.is_empty() {
        let scheme_error = match res.source.as_deref().filter(|s| !s.is_empty()) {
            None => Some("unable to parse url"),
            Some(s) => match parse_url(s) {
                Err(_) => Some("unable to parse url"),
                Ok(u) if u.scheme == "http" || u.scheme == "https" => None,
                Ok(_) => Some("cannot use HTTP headers with this source scheme"),
            },
        };
        if let Some(e) = scheme_error {
            r.error(at.field("httpHeaders"), e);
        }
    }
    for (i, h) in res.http_headers.iter().enumerate() {
        let hat = at.field("httpHeaders").index(i);
        if h.name.is_empty() {
            r.error(hat.field("name"), "HTTP header name can't be empty");
        }
        if h.value.as_deref() == Some("") {
            r.error(hat.field("value"), "unable to parse HTTP header");
        }
    }
    if let Some(hash) = &res.verification.hash {
        let hat = at.field("verification").field("hash");
        match hash.split_once('-') {
            None => r.error(hat, "malformed hash specifier"),
            Some((function, sum)) => {
                let size = match function {
                    "sha512" => Some(128),
                    "sha256" => Some(64),
                    _ => None,
                };
                match size {
                    None => r.error(hat, "unrecognized hash function"),
                    Some(n) if sum.len() != n => r.error(hat, "incorrect size for hash sum"),
                    Some(_) => {}
                }
            }
        }
    }
}

fn proxy_url(r: &mut Report, url: Option<&str>, at: &Path, http_ok: bool) {
    let Some(url) = url else { return };
    match parse_url(url) {
        Err(_) => r.error(at.clone(), "unable to parse url"),
        Ok(u) if u.scheme != "http" && u.scheme != "https" => {
            r.error(at.clone(), "proxies must be http(s)")
        }
        Ok(u) if u.scheme == "http" && !http_ok => r.warning(
            at.clone(),
            "insecure plaintext HTTP proxy specified for HTTPS resources",
        ),
        Ok(_) => {}
    }
}

/// The parts of Go's `url.Parse` Ignition looks at.
pub struct Url {
    pub scheme: String,
    pub opaque: String,
    pub query: String,
}

/// Go's `url.Parse` refused the URL.
#[derive(Debug)]
pub struct BadUrl;

/// Go's `url.Parse`, as far as it refuses a URL.
pub fn parse_url(s: &str) -> Result<Url, BadUrl> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(BadUrl);
    }
    let (without_fragment, _) = s.split_once('#').unwrap_or((s, ""));
    let mut scheme = String::new();
    let mut rest = without_fragment;
    for (i, c) in without_fragment.char_indices() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if i > 0 && (c.is_ascii_digit() || c == '+' || c == '-' || c == '.') {
            continue;
        }
        if c == ':' {
            if i == 0 {
                return Err(BadUrl);
            }
            scheme = without_fragment[..i].to_ascii_lowercase();
            rest = &without_fragment[i + 1..];
        }
        break;
    }
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    // Escapes must be well formed.
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if i + 2 >= b.len() || !b[i + 1].is_ascii_hexdigit() || !b[i + 2].is_ascii_hexdigit() {
                return Err(BadUrl);
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    let opaque = if !scheme.is_empty() && !rest.starts_with('/') {
        rest.to_string()
    } else {
        String::new()
    };
    if let Some(authority) = rest.strip_prefix("//") {
        let host = authority.split('/').next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        if let Some((_, port)) = host
            .rsplit_once(':')
            .filter(|_| !host.ends_with(']') && !host.starts_with('['))
        {
            if !port.bytes().all(|c| c.is_ascii_digit()) {
                return Err(BadUrl);
            }
        }
    }
    Ok(Url {
        scheme,
        opaque,
        query: query.to_string(),
    })
}

/// Ignition's `validateURL`: the schemes it can fetch.
pub fn validate_url(s: &str, spec: Spec) -> Result<(), String> {
    let u = parse_url(s).map_err(|_| "unable to parse url".to_string())?;
    let version_id_ok = |q: &str| {
        q.split('&')
            .filter(|kv| kv.split('=').next() == Some("versionId"))
            .all(|kv| kv.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
    };
    match u.scheme.as_str() {
        "http" | "https" | "tftp" | "gs" => Ok(()),
        "s3" => {
            if version_id_ok(&u.query) {
                Ok(())
            } else {
                Err("invalid S3 object VersionId".into())
            }
        }
        "arn" if spec == Spec::V3_4 => {
            let full = format!("arn:{}", u.opaque);
            let parts: Vec<&str> = full.splitn(6, ':').collect();
            if parts.len() < 6 || parts[2] != "s3" {
                return Err("invalid S3 ARN format".into());
            }
            let slashes = full.split('/').count();
            if parts[5].starts_with("accesspoint/") && slashes < 3 || slashes < 2 {
                return Err("invalid S3 ARN format".into());
            }
            if version_id_ok(&u.query) {
                Ok(())
            } else {
                Err("invalid S3 object VersionId".into())
            }
        }
        "data" => {
            if s.contains(',') {
                Ok(())
            } else {
                Err("missing comma".into())
            }
        }
        _ => Err("invalid url scheme".into()),
    }
}

fn validate_path(p: &str) -> Result<(), &'static str> {
    if p.is_empty() {
        return Err("path not specified");
    }
    if !p.starts_with('/') {
        return Err("path not absolute");
    }
    if clean_path(p) != p {
        return Err("path is not fully simplified");
    }
    Ok(())
}

/// Go's `path.Clean` for an absolute path.
pub fn clean_path(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

fn mode(r: &mut Report, mode: Option<i64>, at: &Path) {
    if let Some(m) = mode {
        if !(0..=0o7777).contains(&m) {
            r.error(at.field("mode"), "illegal file mode");
        }
        if (m as u32) & 0o7000 != 0 {
            r.warning(
                at.field("mode"),
                "setuid/setgid/sticky bits are not supported or functional in spec versions older than 3.6.0",
            );
        }
    }
}

fn owner(r: &mut Report, id: Option<i64>, name: &Option<String>, at: &Path) {
    if id.is_some() && name.as_deref().is_some_and(|n| !n.is_empty()) {
        r.error(at.clone(), "cannot set both id and name");
    }
}

fn storage(r: &mut Report, s: &Storage, at: &Path, spec: Spec) {
    storage_relations(r, s, at);
    for (i, d) in s.directories.iter().enumerate() {
        let dat = at.field("directories").index(i);
        if let Err(e) = validate_path(&d.path) {
            r.error(dat.field("path"), e);
        }
        mode(r, d.mode, &dat);
        owner(r, d.group.id, &d.group.name, &dat.field("group"));
        owner(r, d.user.id, &d.user.name, &dat.field("user"));
    }
    for (i, d) in s.disks.iter().enumerate() {
        disk(r, d, &at.field("disks").index(i));
    }
    for (i, f) in s.files.iter().enumerate() {
        let fat = at.field("files").index(i);
        if let Err(e) = validate_path(&f.path) {
            r.error(fat.field("path"), e);
        }
        mode(r, f.mode, &fat);
        if f.overwrite == Some(true) && f.contents.source.is_none() {
            r.error(
                fat.field("overwrite"),
                "overwrite must be false if source is unspecified",
            );
        }
        owner(r, f.group.id, &f.group.name, &fat.field("group"));
        owner(r, f.user.id, &f.user.name, &fat.field("user"));
        for (k, res) in f.append.iter().enumerate() {
            resource(r, res, &fat.field("append").index(k), spec);
        }
        resource(r, &f.contents, &fat.field("contents"), spec);
    }
    for (i, f) in s.filesystems.iter().enumerate() {
        filesystem(r, f, &at.field("filesystems").index(i));
    }
    for (i, l) in s.links.iter().enumerate() {
        let lat = at.field("links").index(i);
        if let Err(e) = validate_path(&l.path) {
            r.error(lat.field("path"), e);
        }
        owner(r, l.group.id, &l.group.name, &lat.field("group"));
        owner(r, l.user.id, &l.user.name, &lat.field("user"));
    }
    for (i, l) in s.luks.iter().enumerate() {
        luks(r, l, &at.field("luks").index(i), spec);
    }
    for (i, a) in s.raid.iter().enumerate() {
        let rat = at.field("raid").index(i);
        if let Err(e) = raid_level(a) {
            r.error(rat.field("level"), e);
        }
        if a.devices.is_empty() {
            r.error(rat.field("devices"), "raid devices required");
        }
        for (k, d) in a.devices.iter().enumerate() {
            if let Err(e) = validate_path(d) {
                r.error(rat.field("devices").index(k), e);
            }
        }
    }
}

/// `Storage.Validate`: nodes under links, link targets, hard links, filesystems over disks.
fn storage_relations(r: &mut Report, s: &Storage, at: &Path) {
    for (i, d) in s.directories.iter().enumerate() {
        for l in &s.links {
            if d.path.starts_with(&format!("{}/", l.path)) {
                r.error(
                    at.field("directories").index(i),
                    "directory path includes link in config",
                );
            }
        }
    }
    for (i, f) in s.files.iter().enumerate() {
        for l in &s.links {
            if f.path.starts_with(&format!("{}/", l.path)) {
                r.error(
                    at.field("files").index(i),
                    "file path includes link in config",
                );
            }
        }
    }
    for (i, l1) in s.links.iter().enumerate() {
        let lat = at.field("links").index(i);
        for l2 in &s.links {
            if l1.path.starts_with(&format!("{}/", l2.path)) {
                r.error(lat.clone(), "link path includes link in config");
            }
        }
        let Some(target) = l1.target.as_deref().filter(|t| !t.is_empty()) else {
            r.error(lat.field("target"), "link target is required");
            continue;
        };
        if l1.hard != Some(true) {
            continue;
        }
        let target = if target.starts_with('/') {
            clean_path(target)
        } else {
            clean_path(&format!("{}/{target}", l1.path))
        };
        for d in &s.directories {
            if target == d.path {
                r.error(lat.clone(), "hard link target is a directory");
            }
        }
        const OWNER: &str = "user/group ignored for hard link";
        if l1.user.id.is_some() {
            r.warning(lat.field("user").field("id"), OWNER);
        }
        if l1.user.name.is_some() {
            r.warning(lat.field("user").field("name"), OWNER);
        }
        if l1.group.id.is_some() {
            r.warning(lat.field("group").field("id"), OWNER);
        }
        if l1.group.name.is_some() {
            r.warning(lat.field("group").field("name"), OWNER);
        }
    }
    let disks: HashMap<&str, &Disk> = s.disks.iter().map(|d| (d.device.as_str(), d)).collect();
    for (i, f) in s.filesystems.iter().enumerate() {
        if let Some(disk) = disks.get(f.device.as_str()) {
            let dat = at.field("filesystems").index(i).field("device");
            if !disk.partitions.is_empty() {
                r.warning(dat, "filesystem overwrites partitioned device");
            } else if f.wipe_filesystem != Some(true) && disk.wipe_table == Some(true) {
                r.warning(
                    dat,
                    "device matches disk with wipeTable enabled; filesystem will be wiped",
                );
            }
        }
    }
}

fn disk(r: &mut Report, d: &Disk, at: &Path) {
    if d.device.is_empty() {
        r.error(at.field("device"), "disk device is required");
        return;
    }
    if let Err(e) = validate_path(&d.device) {
        r.error(at.field("device"), e);
    }
    let parts = at.field("partitions");
    // Numbers: the second of a colliding pair (Go's map order decides among several).
    let mut by_number: Vec<(i64, Vec<usize>)> = Vec::new();
    for (i, p) in d.partitions.iter().enumerate() {
        if p.number != 0 {
            match by_number.iter_mut().find(|(n, _)| *n == p.number) {
                Some((_, v)) => v.push(i),
                None => by_number.push((p.number, vec![i])),
            }
        }
    }
    if let Some((_, v)) = by_number.iter().find(|(_, v)| v.len() > 1) {
        r.error(parts.index(v[1]), "partition numbers collide");
    }
    if let Some(i) = overlap(&d.partitions) {
        r.error(parts.index(i), "partitions overlap");
    }
    let has_zero = d.partitions.iter().any(|p| p.number == 0);
    let has_absent = d.partitions.iter().any(|p| p.should_exist == Some(false));
    if has_zero && has_absent {
        r.error(
            parts.clone(),
            "shouldExist is false for a partition and other partition(s) has start or size 0",
        );
    }
    let mut labels = HashSet::new();
    for (i, p) in d.partitions.iter().enumerate() {
        if let Some(label) = &p.label {
            if !labels.insert(label) {
                r.error(parts.index(i), "cannot use the same partition label twice");
                break;
            }
        }
    }
    for (i, p) in d.partitions.iter().enumerate() {
        partition(r, p, &parts.index(i));
    }
}

fn overlap(parts: &[Partition]) -> Option<usize> {
    let end = |p: &Partition| {
        let (start, size) = (p.start_mib.unwrap_or(0), p.size_mib.unwrap_or(0));
        if size == 0 {
            start
        } else {
            start + size - 1
        }
    };
    for p in parts {
        let (Some(ps), Some(_)) = (p.start_mib, p.size_mib) else {
            continue;
        };
        if ps == 0 {
            continue;
        }
        for (i, o) in parts.iter().enumerate() {
            let (Some(os), Some(_)) = (o.start_mib, o.size_mib) else {
                continue;
            };
            if p == o || os == 0 {
                continue;
            }
            if ps >= os && ps <= end(o)
                || end(p) >= os && end(p) <= end(o)
                || ps < os && end(p) > end(o)
            {
                return Some(i);
            }
        }
    }
    None
}

fn is_guid(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn partition(r: &mut Report, p: &Partition, at: &Path) {
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    if p.should_exist == Some(false)
        && (p.label.is_some()
            || set(&p.type_guid)
            || set(&p.guid)
            || p.start_mib.is_some()
            || p.size_mib.is_some())
    {
        r.error(
            at.clone(),
            "shouldExist specified false with other options also specified",
        );
    }
    if p.number == 0 && p.label.is_none() {
        r.error(
            at.clone(),
            "a partition number >= 1 or a label must be specified",
        );
    }
    if let Some(label) = &p.label {
        if label.len() > 36 {
            r.error(
                at.field("label"),
                "partition labels may not exceed 36 characters",
            );
        } else if label.contains(':') {
            r.error(
                at.field("label"),
                "partition label will be truncated to text before the colon",
            );
        }
    }
    const GUID: &str = "doesn't match the form \"01234567-89AB-CDEF-EDCB-A98765432101\"";
    if p.guid.as_deref().is_some_and(|g| !is_guid(g)) {
        r.error(at.field("guid"), GUID);
    }
    if p.type_guid.as_deref().is_some_and(|g| !is_guid(g)) {
        r.error(at.field("typeGuid"), GUID);
    }
}

fn filesystem(r: &mut Report, f: &Filesystem, at: &Path) {
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    if let Some(p) = f.path.as_deref().filter(|p| !p.is_empty()) {
        if let Err(e) = validate_path(p) {
            r.error(at.field("path"), e);
        }
    }
    if let Err(e) = validate_path(&f.device) {
        r.error(at.field("device"), e);
    }
    let format = f.format.as_deref().filter(|s| !s.is_empty());
    match format {
        None => {
            if set(&f.path)
                || set(&f.label)
                || set(&f.uuid)
                || f.wipe_filesystem == Some(true)
                || !f.mount_options.is_empty()
                || !f.options.is_empty()
            {
                r.error(
                    at.field("format"),
                    "format cannot be empty when path, label, uuid, wipeFilesystem, options, or mountOptions is specified",
                );
            }
        }
        Some("ext4" | "btrfs" | "xfs" | "swap" | "vfat" | "none") => {}
        Some(_) => r.error(at.field("format"), "invalid filesystem format"),
    }
    if let Some(label) = f.label.as_deref().filter(|l| !l.is_empty()) {
        let too_long = |n: usize, fs: &str| {
            (label.len() > n).then(|| {
                format!("filesystem labels cannot be longer than {n} characters when using {fs}")
            })
        };
        let e = match format {
            None => Some("filesystem must specify format if label is specified".to_string()),
            Some("ext4") => too_long(16, "ext4"),
            Some("btrfs") => too_long(256, "btrfs"),
            Some("xfs") => too_long(12, "xfs"),
            Some("swap") => too_long(15, "swap"),
            Some("vfat") => too_long(11, "vfat"),
            Some(_) => None,
        };
        if let Some(e) = e {
            r.error(at.field("label"), e);
        }
    }
}

fn luks(r: &mut Report, l: &Luks, at: &Path, spec: Spec) {
    if l.name.contains('/') {
        r.error(at.field("name"), "device names cannot contain slashes");
    }
    if l.label.as_deref().is_some_and(|s| s.len() > 47) {
        r.error(
            at.field("label"),
            "luks device labels cannot be longer than 47 characters",
        );
    }
    match l.device.as_deref().filter(|d| !d.is_empty()) {
        None => r.error(at.field("device"), "disk device is required"),
        Some(d) => {
            if let Err(e) = validate_path(d) {
                r.error(at.field("device"), e);
            }
        }
    }
    let c = &l.clevis;
    if c.custom.pin.as_deref().is_some_and(|p| !p.is_empty())
        && (!c.tang.is_empty() || c.tpm2 == Some(true) || c.threshold.is_some_and(|t| t != 0))
    {
        r.error(
            at.field("clevis"),
            "cannot use custom clevis config with tpm2, tang, or threshold",
        );
    }
    if let Some(s) = l.key_file.source.as_deref().filter(|s| !s.is_empty()) {
        if validate_url(s, spec).is_err() {
            r.error(at.field("keys"), "invalid key-file source");
        }
    }
    let custom = at.field("clevis").field("custom");
    let cu = &c.custom;
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    if set(&cu.pin) || set(&cu.config) || cu.needs_network == Some(true) {
        match cu.pin.as_deref().filter(|p| !p.is_empty()) {
            Some("tpm2" | "tang" | "sss") => {}
            Some(_) => r.error(custom.field("pin"), "unsupported clevis pin"),
            None => r.error(custom.field("pin"), "missing required custom clevis pin"),
        }
        if !set(&cu.config) {
            r.error(
                custom.field("config"),
                "missing required custom clevis config",
            );
        }
    }
    for (i, t) in c.tang.iter().enumerate() {
        let tat = at.field("clevis").field("tang").index(i);
        match parse_url(&t.url) {
            Err(_) => r.error(tat.field("url"), "unable to parse url"),
            Ok(u) if u.scheme != "http" && u.scheme != "https" => {
                r.error(tat.field("url"), "invalid url scheme")
            }
            Ok(_) => {}
        }
        if t.thumbprint.as_deref().is_none_or(str::is_empty) {
            r.error(tat.field("thumbprint"), "thumbprint is required");
        }
        if let Some(adv) = t.advertisement.as_deref().filter(|a| !a.is_empty()) {
            if super::read::check(adv.as_bytes()).is_err() {
                r.error(
                    tat.field("advertisement"),
                    "advertisement is not valid JSON",
                );
            }
        }
    }
    resource(r, &l.key_file, &at.field("keyFile"), spec);
}

fn raid_level(a: &Raid) -> Result<(), &'static str> {
    match a.level.as_deref().filter(|l| !l.is_empty()) {
        None => Err("raid level is required"),
        Some("linear" | "raid0" | "0" | "stripe") => {
            if a.spares.is_some_and(|s| s != 0) {
                Err("spares unsupported for linear and raid0 arrays")
            } else {
                Ok(())
            }
        }
        Some(
            "raid1" | "1" | "mirror" | "raid4" | "4" | "raid5" | "5" | "raid6" | "6" | "raid10"
            | "10",
        ) => Ok(()),
        Some(_) => Err("unrecognized raid level"),
    }
}

fn extension(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rfind('.').map_or("", |i| &base[i..])
}

fn systemd(r: &mut Report, s: &Systemd, at: &Path) {
    // Systemd.Validate: an enabled instance of a template unit without [Install].
    let by_name: HashMap<&str, &Unit> = s.units.iter().map(|u| (u.name.as_str(), u)).collect();
    for (i, u) in s.units.iter().enumerate() {
        if u.enabled != Some(true) {
            continue;
        }
        let Some((template, _)) = instance_of(&u.name) else {
            continue;
        };
        let template = format!("{template}@.service");
        let Some(t) = by_name.get(template.as_str()) else {
            continue;
        };
        let Some(contents) = t.contents.as_deref().filter(|c| !c.is_empty()) else {
            continue;
        };
        let Ok(options) = parse_unit(contents) else {
            continue;
        };
        if !options.iter().any(|o| o.section == "Install") {
            r.warning(
                at.field("units").index(i).field("contents"),
                format!(
                    "template unit {} for {} doesn't have Install section",
                    go_str(&template),
                    go_str(&u.name)
                ),
            );
        }
    }
    for (i, u) in s.units.iter().enumerate() {
        let uat = at.field("units").index(i);
        if !matches!(
            extension(&u.name),
            ".service"
                | ".socket"
                | ".device"
                | ".mount"
                | ".automount"
                | ".swap"
                | ".target"
                | ".path"
                | ".timer"
                | ".snapshot"
                | ".slice"
                | ".scope"
        ) {
            r.error(uat.field("name"), "invalid systemd unit extension");
        }
        let parsed = match &u.contents {
            None => Ok(Vec::new()),
            Some(c) => parse_unit(c),
        };
        match &parsed {
            Err(e) => r.error(uat.field("contents"), format!("invalid unit content: {e}")),
            Ok(options) => {
                let has_contents = u.contents.as_deref().is_some_and(|c| !c.is_empty());
                if u.enabled == Some(true)
                    && has_contents
                    && !options.iter().any(|o| o.section == "Install")
                {
                    r.warning(
                        uat.field("contents"),
                        format!(
                            "unit {} is enabled, but has no install section so enable does nothing",
                            go_str(&u.name)
                        ),
                    );
                }
            }
        }
        for (k, d) in u.dropins.iter().enumerate() {
            let dat = uat.field("dropins").index(k);
            if let Some(c) = &d.contents {
                if let Err(e) = parse_unit(c) {
                    r.error(dat.field("contents"), format!("invalid unit content: {e}"));
                }
            }
            if extension(&d.name) != ".conf" {
                r.error(dat.field("name"), "invalid systemd drop-in extension");
            }
        }
    }
}

/// `^(.+?)@(.+?)\.service$`: a template instance's template prefix and instance.
fn instance_of(name: &str) -> Option<(&str, &str)> {
    let body = name.strip_suffix(".service")?;
    let at = body.find('@')?;
    let (template, instance) = (&body[..at], &body[at + 1..]);
    (!template.is_empty() && !instance.is_empty()).then_some((template, instance))
}

fn go_str(s: &str) -> String {
    crate::decode::go_quote(s)
}
