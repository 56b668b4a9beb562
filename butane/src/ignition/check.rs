//! A pasted Ignition config checked as `ignition-validate` checks it: the JSON read as Go
//! reads it, its spec version picked from `ignition.version`, Ignition's checks run, each
//! finding at its JSON line and column. Specs 3.3.0 and 3.4.0 (what Flatcar's Butane writes)
//! get Ignition's own rules; 3.0.0 to 3.2.0 the 3.3.0 rules (a superset), with the keys their
//! own spec has (a 3.0 config's `luks` is an unused key); 2.x is named as the Container Linux
//! era's.

use super::inline::read_config;
use super::types::Config;
use super::types::Spec;
use super::validate::{duplicates, parse_semver, validate};
use crate::path::Path;
use crate::report::{Position, Report};
use crate::shape::HasShape;

/// What `ignition-validate` makes of a config.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The version the config declares, when it could be read.
    pub version: Option<String>,
    pub report: Report,
    /// Why it is not a usable config (as ignition-validate's "couldn't parse config: ..."),
    /// with the findings in `report` when there are some.
    pub error: Option<String>,
}

pub fn check(text: &str) -> Checked {
    let mut out = Checked {
        version: None,
        report: Report::default(),
        error: None,
    };
    if text.is_empty() {
        out.error = Some("not a config (empty)".into());
        return out;
    }
    if let Err(message) = super::read::check(text.as_bytes()) {
        let mut r = Report::default();
        r.error(Path::json(), message);
        r.findings[0].position = syntax_position(text);
        out.report = r;
        out.error = Some("config is not valid".into());
        return out;
    }
    let version = version_of(text);
    let Some(version) = version.as_deref().and_then(parse_semver) else {
        out.error = Some("invalid config version (couldn't parse)".into());
        return out;
    };
    out.version = Some(version.clone());
    let spec = match version.as_str() {
        "3.4.0" => Spec::V3_4,
        "3.0.0" | "3.1.0" | "3.2.0" | "3.3.0" => Spec::V3_3,
        v if v.starts_with("2.") || v.starts_with("1.") => {
            out.error = Some(format!(
                "Ignition spec {v} is the Container Linux era's (Ignition 0.x); Flatcar reads spec 3: \
                 write a Butane config (variant flatcar) instead"
            ));
            return out;
        }
        _ => {
            out.error = Some("unsupported config version".into());
            return out;
        }
    };
    let (mut config, node) = match read_config(text.as_bytes(), spec) {
        Ok(read) => read,
        Err(message) => {
            out.report.error(Path::json(), message);
            out.report.findings[0].position = Some(Position { line: 1, column: 1 });
            out.error = Some("config is not valid".into());
            return out;
        }
    };
    // 3.0-3.2 are read as 3.3 (their fields are a subset), their own version accepted.
    config.ignition.version = spec.version().into();
    let mut r = validate(&config, spec);
    r.merge(duplicates(&config));
    let fields = Config::FIELDS.expect("a struct");
    // Keys are those of the version the config declares (3.0 has no `luks`, ...).
    let level = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(spec.minor());
    crate::shape::unused(Some(&node), &Path::json(), fields, level, &mut r);
    for f in &mut r.findings {
        f.position = crate::position(&node, &f.path);
    }
    if r.is_fatal() {
        out.error = Some("config is not valid".into());
    }
    out.report = r;
    out
}

/// `ignition.version` as written, if it is a string.
fn version_of(text: &str) -> Option<String> {
    let node = super::read::parse(text.as_bytes()).ok()?;
    let ignition = crate::shape::child(Some(&node), "ignition")?;
    match &crate::shape::child(Some(ignition), "version")?.value {
        crate::yaml::Value::Scalar(s) if s.style == crate::yaml::Style::DoubleQuoted => {
            Some(s.text.clone())
        }
        _ => None,
    }
}

/// Where Go's JSON scanner stopped.
fn syntax_position(text: &str) -> Option<Position> {
    let offset = super::read::error_offset(text.as_bytes())?;
    let (line, column) = super::read::Lines::new(text.as_bytes()).at(offset);
    Some(Position { line, column })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_ignition_is_checked_as_ignition_validate_does() {
        let ok = check("{\"ignition\": {\"version\": \"3.4.0\"}, \"storage\": {\"files\": [{\"path\": \"/a\", \"mode\": 420}]}}");
        assert_eq!((ok.error, ok.version.as_deref()), (None, Some("3.4.0")));
        assert!(ok.report.is_empty(), "{}", ok.report.raw());

        let bad = check("{\n  \"ignition\": {\"version\": \"3.3.0\"},\n  \"storage\": {\"files\": [{\"path\": \"a\"}]},\n  \"extra\": 1\n}");
        assert_eq!(bad.error.as_deref(), Some("config is not valid"));
        assert_eq!(
            bad.report.raw(),
            "error at $.storage.files.0.path, line 3 col 34: path not absolute\nwarning at $.extra, line 4 col 3: unused key extra\n"
        );

        // 3.0 has no luks: the key is unused there, and read in 3.2.
        let old = |v: &str| {
            check(&format!(
                "{{\"ignition\": {{\"version\": \"{v}\"}}, \"storage\": {{\"luks\": []}}}}"
            ))
        };
        assert_eq!(
            old("3.0.0").report.raw(),
            "warning at $.storage.luks, line 1 col 48: unused key luks\n"
        );
        assert!(old("3.2.0").report.is_empty());

        // Go's offset counts the byte it stopped at, so the column is the one after it.
        let syntax = check("{\"ignition\": }");
        assert_eq!(
            syntax.report.raw(),
            "error at line 1 col 15: invalid character '}' looking for beginning of value\n"
        );
        assert!(check("{\"ignition\": {\"version\": \"2.3.0\"}}")
            .error
            .unwrap()
            .contains("Container Linux era"));
        assert_eq!(
            check("{\"ignition\": {\"version\": \"3.9.0\"}}")
                .error
                .as_deref(),
            Some("unsupported config version")
        );
    }
}
