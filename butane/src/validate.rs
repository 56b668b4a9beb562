//! butane's own checks of a decoded config (`base/v0_{4,5}/validate.go`), walked in its
//! struct order: a resource with more than one source, a mount unit without format or path,
//! a mode that reads as decimal, a tree without `local`, a unit with both `contents` and
//! `contents_local`; and the Flatcar variant's one refusal, `luks.clevis`.

use crate::config as bu;
use crate::ignition::inline;
use crate::ignition::types::Spec;
use crate::path::Path;
use crate::report::Report;

pub const ERR_TOO_MANY_SOURCES: &str =
    "only one of the following can be set: inline, local, source";
pub const ERR_DECIMAL_MODE: &str =
    "unreasonable mode would be reasonable if specified in octal; remember to add a leading zero";
pub const ERR_CLEVIS: &str = "clevis is not supported in this spec version";

pub fn validate(config: &bu::Config, spec: Spec) -> Report {
    let mut r = Report::default();
    let root = Path::yaml();
    let ignition = root.field("ignition");
    let merge = ignition.field("config").field("merge");
    for (i, res) in config.ignition.config.merge.iter().enumerate() {
        resource(&mut r, res, &merge.index(i), spec);
    }
    resource(
        &mut r,
        &config.ignition.config.replace,
        &ignition.field("config").field("replace"),
        spec,
    );
    let cas = ignition
        .field("security")
        .field("tls")
        .field("certificate_authorities");
    for (i, res) in config
        .ignition
        .security
        .tls
        .certificate_authorities
        .iter()
        .enumerate()
    {
        resource(&mut r, res, &cas.index(i), spec);
    }
    let storage = root.field("storage");
    for (i, d) in config.storage.directories.iter().enumerate() {
        if let Some(mode) = d.mode {
            if decimal_mode(mode, true) {
                r.warning(
                    storage.field("directories").index(i).field("mode"),
                    ERR_DECIMAL_MODE,
                );
            }
        }
    }
    for (i, f) in config.storage.files.iter().enumerate() {
        let at = storage.field("files").index(i);
        if let Some(mode) = f.mode {
            if decimal_mode(mode, false) {
                r.warning(at.field("mode"), ERR_DECIMAL_MODE);
            }
        }
        for (k, res) in f.append.iter().enumerate() {
            resource(&mut r, res, &at.field("append").index(k), spec);
        }
        resource(&mut r, &f.contents, &at.field("contents"), spec);
    }
    for (i, fs) in config.storage.filesystems.iter().enumerate() {
        let at = storage.field("filesystems").index(i);
        if fs.with_mount_unit == Some(true) {
            if fs.format.as_deref().is_none_or(str::is_empty) {
                r.error(
                    at.field("format"),
                    "format is required if with_mount_unit is true",
                );
            } else if fs.format.as_deref() != Some("swap")
                && fs.path.as_deref().is_none_or(str::is_empty)
            {
                r.error(
                    at.field("path"),
                    "path is required if with_mount_unit is true and format is not swap",
                );
            }
        }
    }
    for (i, l) in config.storage.luks.iter().enumerate() {
        resource(
            &mut r,
            &l.key_file,
            &storage.field("luks").index(i).field("key_file"),
            spec,
        );
    }
    for (i, t) in config.storage.trees.iter().enumerate() {
        if t.local.is_empty() {
            r.error(storage.field("trees").index(i), "local is required");
        }
    }
    let units = root.field("systemd").field("units");
    for (i, u) in config.systemd.units.iter().enumerate() {
        let at = units.index(i);
        if u.contents_local.is_some() && u.contents.is_some() {
            r.error(
                at.field("contents_local"),
                "only one of the following can be set: contents, contents_local",
            );
        }
        for (k, d) in u.dropins.iter().enumerate() {
            if d.contents_local.is_some() && d.contents.is_some() {
                r.error(
                    at.field("dropins").index(k).field("contents_local"),
                    "only one of the following can be set: contents, contents_local",
                );
            }
        }
    }
    r
}

/// `Resource.Validate`: at most one source; an inline Ignition config to merge or replace
/// must itself be valid.
fn resource(r: &mut Report, res: &bu::Resource, at: &Path, spec: Spec) {
    let mut sources = 0;
    let mut field = "";
    for (set, name) in [
        (res.local.is_some(), "local"),
        (res.inline.is_some(), "inline"),
        (res.source.is_some(), "source"),
    ] {
        if set {
            sources += 1;
            field = name;
        }
    }
    if sources > 1 {
        r.error(at.field(field), ERR_TOO_MANY_SOURCES);
        return;
    }
    if at.to_string().starts_with("$.ignition.config") && field == "inline" {
        let inline = res.inline.as_deref().unwrap_or_default();
        let (report, valid) = inline::validate(at, inline.as_bytes(), spec);
        r.merge(report);
        if !valid {
            r.error(at.field("inline"), "config is not valid");
        }
    }
}

/// The Flatcar variant's field filter: `storage.luks.clevis` set at all is an error.
pub fn flatcar_filters(config: &crate::ignition::types::Config) -> Report {
    let mut r = Report::default();
    for (i, l) in config.storage.luks.iter().enumerate() {
        let c = &l.clevis;
        let set = c.custom.config.is_some()
            || c.custom.needs_network.is_some()
            || c.custom.pin.is_some()
            || !c.tang.is_empty()
            || c.threshold.is_some()
            || c.tpm2.is_some();
        if set {
            r.error(
                Path::json()
                    .field("storage")
                    .field("luks")
                    .index(i)
                    .field("clevis"),
                ERR_CLEVIS,
            );
        }
    }
    r
}

/// butane's `CheckForDecimalMode`: a mode that is odd as octal but typical read as decimal
/// digits (`644` meant as `0644`).
pub fn decimal_mode(mode: i64, directory: bool) -> bool {
    let Some(octal) = decimal_to_octal(mode) else {
        return false;
    };
    !typical_mode(mode, directory) && typical_mode(octal, directory)
}

fn decimal_to_octal(mode: i64) -> Option<i64> {
    if !(0..=7777).contains(&mode) {
        return None;
    }
    let mut out = 0;
    let mut divisor = 1000;
    while divisor > 0 {
        let digit = (mode / divisor) % 10;
        if digit > 7 {
            return None;
        }
        out = (out << 3) | digit;
        divisor /= 10;
    }
    Some(out)
}

fn typical_mode(mode: i64, directory: bool) -> bool {
    if mode == 0 {
        return true;
    }
    let (mut had_r, mut had_w, mut had_x) = (false, false, false);
    for perm in [mode & 0o7, (mode & 0o70) >> 3, (mode & 0o700) >> 6] {
        let (r, w, x) = (perm & 4 != 0, perm & 2 != 0, perm & 1 != 0);
        if !r && had_r || !w && had_w || !x && had_x {
            return false;
        }
        if x && had_r && !had_x {
            return false;
        }
        if (w || x) && !r {
            return false;
        }
        had_r |= r;
        had_w |= w;
        had_x |= x;
    }
    if !had_r {
        return false;
    }
    if directory {
        if !had_x || mode & 0o4000 != 0 || mode & 0o3000 != 0 && !had_w {
            return false;
        }
    } else {
        if mode & 0o6000 != 0 && (!had_x || mode & 2 != 0) {
            return false;
        }
        if mode & 0o1000 != 0 {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_modes_are_those_butane_warns_of() {
        assert!(decimal_mode(644, false));
        assert!(decimal_mode(755, true));
        assert!(!decimal_mode(0o644, false));
        assert!(!decimal_mode(420, false));
        assert!(!decimal_mode(9999, false));
    }
}
