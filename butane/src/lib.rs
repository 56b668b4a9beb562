//! Butane for Flatcar in Rust, with no I/O (the app's wasm and both shells use it): a Butane
//! config (`variant: flatcar`, versions 1.0.0 and 1.1.0) read as the real butane reads it,
//! checked as it checks it, and translated to the Ignition it writes, byte for byte.
//!
//! Built in the order butane works: `yaml` reads the text into nodes that keep yaml.v3's
//! positions; `decode` types them into `config`'s structs; `config` finds unused keys,
//! `validate` butane's own errors; `translate` writes the `ignition` types, whose own checks
//! (`ignition::validate`) run last; every finding is placed on the line it is about.

pub mod config;
pub mod dataurl;
pub mod decode;
pub mod detect;
pub mod ignition;
pub mod path;
pub mod report;
pub mod shape;
pub mod systemd;
pub mod translate;
pub mod validate;
pub mod yaml;

use decode::{Decode, Decoder, GoNames};
use ignition::types::Spec;
use path::{Path, Step};
use report::{Position, Report};
use shape::HasShape;
pub use translate::FilesDir;
use yaml::{Node, Value};

/// How to translate: butane's `-d/--files-dir` and `--pretty`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub files_dir: Option<FilesDir>,
    pub pretty: bool,
}

/// What butane makes of a config.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The Ignition JSON it writes (without the newline the CLI adds), if it translated.
    pub ignition: Option<String>,
    /// Every finding, placed on its line.
    pub report: Report,
    /// Why it could not translate: the text after "Error translating config: ".
    pub error: Option<String>,
    /// The spec version it translated to, once the variant and version were read.
    pub spec: Option<Spec>,
}

impl Outcome {
    /// Whether `butane` (with `--strict`, any finding fails) writes the Ignition.
    pub fn succeeded(&self, strict: bool) -> bool {
        self.error.is_none() && (!strict || self.report.is_empty())
    }

    /// What `butane [--strict]` prints on stderr for `source`, in its default form.
    pub fn stderr(&self, source: &str, strict: bool) -> String {
        let mut out = self.report.pretty("<stdin>", source);
        if let Some(error) = &self.error {
            out.push_str(&format!("Error translating config: {error}\n"));
        } else if strict && !self.report.is_empty() {
            out.push_str("Config produced warnings and --strict was specified\n");
        }
        out
    }

    /// What `butane [--strict]` prints on stdout: the Ignition and a newline, or nothing.
    pub fn stdout(&self, strict: bool) -> String {
        match &self.ignition {
            Some(json) if self.succeeded(strict) => format!("{json}\n"),
            _ => String::new(),
        }
    }
}

pub const SUPPORTED: &str = "variant flatcar, versions 1.0.0 and 1.1.0";

/// Variants and versions the real butane v0.29.0 translates that this crate does not.
const BUTANE_ONLY: &[(&str, &[&str])] = &[
    (
        "fcos",
        &[
            "1.0.0",
            "1.1.0",
            "1.2.0",
            "1.3.0",
            "1.4.0",
            "1.5.0",
            "1.6.0",
            "1.7.0",
            "1.8.0-experimental",
        ],
    ),
    ("flatcar", &["1.2.0-experimental"]),
    (
        "openshift",
        &[
            "4.8.0",
            "4.9.0",
            "4.10.0",
            "4.11.0",
            "4.12.0",
            "4.13.0",
            "4.14.0",
            "4.15.0",
            "4.16.0",
            "4.17.0",
            "4.18.0",
            "4.19.0",
            "4.20.0",
            "4.21.0",
            "4.22.0",
            "4.23.0-experimental",
        ],
    ),
    ("r4e", &["1.0.0", "1.1.0", "1.2.0-experimental"]),
    ("fiot", &["1.0.0", "1.1.0-experimental"]),
];

/// Translates a Butane config as `butane` does.
pub fn translate(source: &str, options: &Options) -> Outcome {
    let mut outcome = Outcome {
        ignition: None,
        report: Report::default(),
        error: None,
        spec: None,
    };
    let root = match yaml::parse(source) {
        Ok(root) => root,
        Err(e) => {
            outcome.error = Some(format!("Error unmarshaling yaml: {e}"));
            return outcome;
        }
    };
    let spec = match pick_spec(root.as_ref()) {
        Ok(spec) => spec,
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    };
    outcome.spec = Some(spec);
    let root = root.expect("a config with a variant has a root");
    let (names, v1_1) = match spec {
        Spec::V3_3 => (
            GoNames {
                root: "v1_0",
                base: "v0_4",
            },
            false,
        ),
        Spec::V3_4 => (
            GoNames {
                root: "v1_1",
                base: "v0_5",
            },
            true,
        ),
    };
    let mut d = Decoder::new(names, v1_1);
    let config = config::Config::decode(&root, &mut d, &format!("{}.Config", names.root))
        .unwrap_or_default();
    if let Some(fatal) = d.fatal {
        outcome.error = Some(fatal);
        return outcome;
    }
    if !d.errors.is_empty() {
        outcome.error = Some(format!(
            "yaml: unmarshal errors:\n  {}",
            d.errors.join("\n  ")
        ));
        return outcome;
    }
    let (result, mut report) = run(&config, &root, spec, options);
    for finding in &mut report.findings {
        finding.position = position(&root, &finding.path);
    }
    outcome.report = report;
    match result {
        Ok(ignition) => outcome.ignition = Some(ignition.to_json(options.pretty)),
        Err(e) => outcome.error = Some(e.to_string()),
    }
    outcome
}

/// butane's steps after decoding: unused keys, its checks, translation, the Flatcar filter,
/// Ignition's duplicate and own checks; a step that finds an error stops it.
fn run(
    config: &config::Config,
    root: &Node,
    spec: Spec,
    options: &Options,
) -> (Result<ignition::types::Config, &'static str>, Report) {
    const SOURCE_INVALID: &str = "source config is invalid";
    const GENERATED_INVALID: &str = "config generated was invalid";
    let mut r = Report::default();
    let fields = config::Config::FIELDS.expect("a struct");
    shape::unused(
        Some(root),
        &Path::yaml(),
        fields,
        u8::from(spec == Spec::V3_4),
        &mut r,
    );
    r.merge(validate::validate(config, spec));
    if r.is_fatal() {
        return (Err(SOURCE_INVALID), r);
    }
    let translated = translate::translate(config, spec, options.files_dir.as_ref());
    r.merge(translated.report);
    if r.is_fatal() {
        return (Err(SOURCE_INVALID), r);
    }
    let to_yaml = |mut found: Report| {
        for f in &mut found.findings {
            f.path = translated.translations.to_yaml(&f.path);
        }
        found
    };
    r.merge(to_yaml(validate::flatcar_filters(&translated.config)));
    if r.is_fatal() {
        return (Err(SOURCE_INVALID), r);
    }
    r.merge(to_yaml(ignition::validate::duplicates(&translated.config)));
    r.merge(to_yaml(ignition::validate::validate(
        &translated.config,
        spec,
    )));
    if r.is_fatal() {
        return (Err(GENERATED_INVALID), r);
    }
    (Ok(translated.config), r)
}

/// The spec version for the config's `variant` and `version` (butane's first, separate
/// read of just those two fields), or why there is none.
fn pick_spec(root: Option<&Node>) -> Result<Spec, String> {
    let mut d = Decoder::new(
        GoNames {
            root: "config",
            base: "config",
        },
        true,
    );
    let (mut variant, mut version) = (String::new(), String::new());
    match root {
        None => {}
        Some(node) if decode::is_null(node) => {}
        Some(node) => match &node.value {
            Value::Mapping(entries) => {
                if d.unique_keys(entries) {
                    for (k, v) in entries {
                        let Value::Scalar(key) = &k.value else {
                            continue;
                        };
                        let slot = match key.text.as_str() {
                            "variant" => &mut variant,
                            "version" => &mut version,
                            _ => continue,
                        };
                        if let Some(text) = String::decode(v, &mut d, "string") {
                            *slot = text;
                        }
                    }
                }
            }
            _ => d.mismatch(node, "config.commonFields"),
        },
    }
    if !d.errors.is_empty() {
        return Err(format!(
            "Error unmarshaling yaml: yaml: unmarshal errors:\n  {}",
            d.errors.join("\n  ")
        ));
    }
    if variant.is_empty() {
        return Err("error parsing variant; must be specified".into());
    }
    let Some(version) = ignition::validate::parse_semver(&version) else {
        return Err("error parsing version; must be a valid semver".into());
    };
    match (variant.as_str(), version.as_str()) {
        ("flatcar", "1.0.0") => Ok(Spec::V3_3),
        ("flatcar", "1.1.0") => Ok(Spec::V3_4),
        (v, ver) if BUTANE_ONLY.iter().any(|(bv, vers)| *bv == v && vers.contains(&ver)) => Err(format!(
            "No translator exists here for variant {v} with version {ver}: this Butane translates {SUPPORTED}"
        )),
        (v, ver) => Err(format!("No translator exists for variant {v} with version {ver}")),
    }
}

/// Where a finding is: the deepest node its path reaches (a key's own place for an unused
/// key), as vcontext's `Correlate` finds it.
pub fn position(root: &Node, path: &Path) -> Option<Position> {
    let mut node = root;
    let mut at = Position {
        line: root.line,
        column: root.column,
    };
    for step in &path.steps {
        let next = match (step, &node.value) {
            (Step::Field(name), Value::Mapping(entries)) => entries
                .iter()
                .rev()
                .find(|(k, _)| matches!(&k.value, Value::Scalar(s) if &s.text == name))
                .map(|(_, v)| v),
            (Step::Key(name), Value::Mapping(entries)) => entries
                .iter()
                .rev()
                .find(|(k, _)| matches!(&k.value, Value::Scalar(s) if &s.text == name))
                .map(|(k, _)| k),
            (Step::Index(i), Value::Sequence(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(next) => {
                node = next;
                at = Position {
                    line: node.line,
                    column: node.column,
                };
            }
            None => break,
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Outcome {
        translate(
            text,
            &Options {
                files_dir: None,
                pretty: false,
            },
        )
    }

    #[test]
    fn yaml_v3s_refusals_are_worded_as_butane_prints_them() {
        let dup = run("variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /a\n      mode: 0644\n      mode: 0600\n");
        assert_eq!(
            dup.error.as_deref(),
            Some(
                "yaml: unmarshal errors:\n  line 7: mapping key \"mode\" already defined at line 6"
            )
        );
        let types = run("variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /a\n      mode: rw\n      overwrite: maybe\n");
        assert_eq!(
            types.error.as_deref(),
            Some("yaml: unmarshal errors:\n  line 6: cannot unmarshal !!str `rw` into int\n  line 7: cannot unmarshal !!str `maybe` into bool")
        );
        let shape = run("variant: flatcar\nversion: 1.0.0\nstorage: [1]\n");
        assert_eq!(
            shape.error.as_deref(),
            Some("yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into v0_4.Storage")
        );
        assert_eq!(
            run("version: 1.1.0\n").error.as_deref(),
            Some("error parsing variant; must be specified")
        );
        assert_eq!(
            run("variant: flatcar\nversion: 1.1\n").error.as_deref(),
            Some("error parsing version; must be a valid semver")
        );
        assert_eq!(
            run("variant: flatcar\nversion: 9.0.0\n").error.as_deref(),
            Some("No translator exists for variant flatcar with version 9.0.0")
        );
        assert!(run("variant: fcos\nversion: 1.5.0\n")
            .error
            .unwrap()
            .contains(SUPPORTED));
    }

    #[test]
    fn merge_keys_fill_what_the_mapping_leaves_unset_and_are_unused_keys() {
        let text = "variant: flatcar\nversion: 1.1.0\nsystemd:\n  units:\n    - &base\n      name: a.service\n      enabled: true\n      contents: \"[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n\"\n    - <<: *base\n      name: b.service\n";
        let out = run(text);
        let json = out.ignition.expect("translates");
        assert!(
            json.contains("\"enabled\":true,\"name\":\"a.service\""),
            "{json}"
        );
        assert!(
            json.contains("\"enabled\":true,\"name\":\"b.service\""),
            "{json}"
        );
        // butane's tree keeps `<<` as a key its structs lack.
        assert_eq!(
            out.report.raw(),
            "warning at $.systemd.units.1.<<, line 9 col 7: unused key <<\n"
        );
        let bad = run("variant: flatcar\nversion: 1.1.0\nstorage:\n  <<: 3\n");
        assert_eq!(
            bad.error.as_deref(),
            Some("yaml: map merge requires map or sequence of maps as the value")
        );
    }
}
