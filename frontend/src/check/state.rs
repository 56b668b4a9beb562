//! The check page as data: the config text, the files attached for `local:`, and what the
//! `butane` crate makes of them (computed from the state, pure). The text lives in the URL's
//! hash (`#check=...`) so a link opens the same check.

use std::collections::BTreeMap;
use std::rc::Rc;

use butane::detect::Kind;
use butane::ignition::types::Spec;
use butane::report::{Report, Severity};
use shared::config::found::{self, EtcdFound};
use yew::Reducible;

/// The hash that marks this page.
pub const HASH: &str = "#check";

/// How the files directory is named in messages (butane's `-d`).
const FILES_DIR: &str = "attached";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckState {
    pub text: String,
    /// Files for `local:`, `contents_local` and `ssh_authorized_keys_local`, by name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// butane's `--strict`: any warning refuses the config.
    pub strict: bool,
}

pub enum Action {
    Edit(String),
    Attach(Vec<(String, Vec<u8>)>),
    Detach(String),
    Strict(bool),
}

impl Reducible for CheckState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Edit(text) => next.text = text,
            Action::Attach(files) => next.files.extend(files),
            Action::Detach(name) => {
                next.files.remove(&name);
            }
            Action::Strict(on) => next.strict = on,
        }
        Rc::new(next)
    }
}

impl CheckState {
    /// The state a page URL's hash holds (`#check=<config>`).
    pub fn from_hash(hash: &str) -> CheckState {
        let text = hash
            .strip_prefix(HASH)
            .and_then(|rest| rest.strip_prefix('='))
            .and_then(|encoded| shared::form::lossy_value(&format!("c={encoded}"), "c"))
            .unwrap_or_default();
        CheckState {
            text,
            ..CheckState::default()
        }
    }

    /// The hash that reopens this check.
    pub fn hash(&self) -> String {
        if self.text.is_empty() {
            HASH.to_string()
        } else {
            format!("{HASH}={}", shared::form::encode(&self.text))
        }
    }
}

/// What the page shows for a state.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub kind: Kind,
    /// One line on the outcome.
    pub summary: String,
    /// Whether the config is refused (an error, or a warning under `--strict`).
    pub refused: bool,
    /// Every finding, each on its line.
    pub report: Report,
    /// The Ignition (pretty, as `butane --pretty` writes it) when it translated.
    pub ignition: Option<String>,
    /// butane's own report, as the CLI prints it, when it refused.
    pub stderr: Option<String>,
    pub etcd: Option<EtcdFound>,
    pub etcd_warnings: Vec<String>,
}

/// Checks the state's config as butane (or ignition-validate, for JSON) would.
pub fn check(state: &CheckState) -> Checked {
    let kind = butane::detect::kind(&state.text);
    let mut checked = Checked {
        kind,
        summary: String::new(),
        refused: false,
        report: Report::default(),
        ignition: None,
        stderr: None,
        etcd: None,
        etcd_warnings: Vec::new(),
    };
    match kind {
        Kind::Empty => {
            checked.summary =
                "Paste, type or drop a Butane config (variant: flatcar) or Ignition JSON.".into();
        }
        Kind::Ignition => {
            let result = butane::ignition::check::check(&state.text);
            checked.report = result.report;
            checked.refused = result.error.is_some() || state.strict && !checked.report.is_empty();
            checked.summary = match (&result.error, &result.version) {
                (Some(e), _) => format!("Ignition JSON that ignition-validate refuses: {e}"),
                (None, Some(v)) => {
                    format!("Ignition JSON, spec {v}: valid{}", warned(&checked.report))
                }
                (None, None) => "Ignition JSON".into(),
            };
            if result.error.is_none() {
                if let Ok((config, _)) =
                    butane::ignition::inline::read_config(state.text.as_bytes(), Spec::V3_4)
                {
                    etcd(&mut checked, &config);
                }
            }
        }
        Kind::Butane => {
            let files = butane::FilesDir {
                name: FILES_DIR.into(),
                files: state.files.clone(),
            };
            let options = butane::Options {
                files_dir: (!state.files.is_empty()).then_some(files),
                pretty: true,
            };
            let outcome = butane::translate(&state.text, &options);
            checked.refused = !outcome.succeeded(state.strict);
            checked.summary = match (&outcome.error, outcome.spec) {
                (Some(e), _) => format!(
                    "butane refuses it: {}",
                    e.lines().next().unwrap_or_default()
                ),
                (None, _) if checked.refused => format!(
                    "butane --strict refuses it: {}",
                    warned(&outcome.report).trim_start_matches(", ")
                ),
                (None, Some(spec)) => format!(
                    "Translates to Ignition {}{}",
                    spec.version(),
                    warned(&outcome.report)
                ),
                (None, None) => String::new(),
            };
            if checked.refused {
                checked.stderr = Some(outcome.stderr(&state.text, state.strict));
            }
            if let (Some(json), Some(spec)) = (&outcome.ignition, outcome.spec) {
                if let Ok((config, _)) =
                    butane::ignition::inline::read_config(json.as_bytes(), spec)
                {
                    etcd(&mut checked, &config);
                }
            }
            if !checked.refused {
                checked.ignition = outcome.ignition.map(|j| format!("{j}\n"));
            }
            checked.report = outcome.report;
        }
        other => {
            checked.refused = true;
            checked.summary = format!(
                "This is {}. Migrating it is a separate step; this page checks Butane and Ignition 3.",
                other.description().unwrap_or("not a config this page reads")
            );
        }
    }
    checked
}

fn etcd(checked: &mut Checked, config: &butane::ignition::types::Config) {
    if let Some(found) = found::find_etcd(config) {
        checked.etcd_warnings = found::warnings(&found);
        checked.etcd = Some(found);
    }
}

/// ", with 2 warnings" (or nothing).
fn warned(report: &Report) -> String {
    let warnings = report
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Error)
        .count();
    match warnings {
        0 => String::new(),
        1 => ", with 1 warning".into(),
        n => format!(", with {n} warnings"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_holds_the_config() {
        let state = CheckState {
            text: "variant: flatcar\nversion: 1.1.0 # & more\n".into(),
            ..CheckState::default()
        };
        assert_eq!(CheckState::from_hash(&state.hash()).text, state.text);
        assert_eq!(CheckState::from_hash("#inspect").text, "");
    }

    #[test]
    fn an_attached_file_serves_a_local_reference() {
        let mut state = CheckState {
            text: "variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        local: motd\n".into(),
            ..CheckState::default()
        };
        let refused = check(&state);
        assert!(refused.refused);
        assert!(refused.report.findings[0]
            .message
            .contains("files directory"));
        state.files.insert("motd".into(), b"hello\n".to_vec());
        let ok = check(&state);
        assert!(!ok.refused, "{}", ok.summary);
        assert!(ok.ignition.unwrap().contains("data:,hello%0A"));
    }
}
