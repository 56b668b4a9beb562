//! The check page as data: the config text, the files attached for `local:`, and what the
//! `butane` crate makes of them (computed from the state, pure). The text lives in the URL's
//! hash (`#check=...`) so a link opens the same check.

use std::collections::BTreeMap;
use std::rc::Rc;

use butane::detect::Kind;
use butane::ignition::types::Spec;
use butane::report::{Finding, Position, Report, Severity};
use shared::config::found::{self, EtcdFound};
use shared::config::Platform;
use shared::migrate::{Fate, Migration};
use yew::Reducible;

/// The hash that marks this page.
pub const HASH: &str = "#check";

/// How the files directory is named in messages (butane's `-d`).
const FILES_DIR: &str = "attached";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckState {
    pub text: String,
    /// Files for `local:`, `contents_local` and `ssh_authorized_keys_local`, by name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// butane's `--strict`: any warning refuses the config.
    pub strict: bool,
    /// Where the machines run: the address variables a legacy config's `$private_ipv4` becomes,
    /// and the builder's platform where a config's addresses name none.
    pub platform: Platform,
    /// The last migration this service answered for a legacy config.
    pub migrated: Option<Migrated>,
}

impl Default for CheckState {
    fn default() -> Self {
        CheckState {
            text: String::new(),
            files: BTreeMap::new(),
            strict: false,
            platform: default_platform(),
            migrated: None,
        }
    }
}

fn default_platform() -> Platform {
    Platform::by_id(shared::config::query::DEFAULT_PLATFORM).unwrap_or(shared::config::PLATFORMS[0])
}

/// A legacy config brought forward by this service (`POST /butane/migrate`: the readers stay
/// on the server, out of the page's wasm), with the text and platform it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    pub text: String,
    pub platform: &'static str,
    pub result: Result<Answer, String>,
}

/// What the service answers for a legacy config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub migration: Migration,
    /// The builder's form for the migrated etcd, when it has one.
    pub builder: Option<BuilderLink>,
}

/// The builder's query for a config, and what the builder would write otherwise (one
/// sentence each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderLink {
    pub query: String,
    pub differences: Vec<String>,
}

impl CheckState {
    /// Whether the page holds a legacy config that has no migration for its text and platform yet.
    pub fn wants_migration(&self) -> bool {
        is_legacy(butane::detect::kind(&self.text)) && self.migration_of_this().is_none()
    }

    fn migration_of_this(&self) -> Option<&Result<Answer, String>> {
        self.migrated
            .as_ref()
            .filter(|m| m.text == self.text && m.platform == self.platform.id)
            .map(|m| &m.result)
    }
}

fn is_legacy(kind: Kind) -> bool {
    matches!(kind, Kind::CloudConfig | Kind::ContainerLinuxConfig)
}

pub enum Action {
    Edit(String),
    Attach(Vec<(String, Vec<u8>)>),
    Detach(String),
    Strict(bool),
    Platform(Platform),
    Migrated(Migrated),
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
            Action::Platform(p) => next.platform = p,
            Action::Migrated(m) => next.migrated = Some(m),
        }
        Rc::new(next)
    }
}

impl CheckState {
    /// The state a page URL's hash holds (`#check=<config>`).
    /// The state a page URL's hash holds (`#check=<config>&platform=<id>`).
    pub fn from_hash(hash: &str) -> CheckState {
        let form = hash
            .strip_prefix(HASH)
            .and_then(|rest| rest.strip_prefix('='))
            .map(|rest| format!("c={rest}"))
            .unwrap_or_default();
        CheckState {
            text: shared::form::lossy_value(&form, "c").unwrap_or_default(),
            platform: shared::form::lossy_value(&form, "platform")
                .and_then(|id| Platform::by_id(&id))
                .unwrap_or_else(default_platform),
            ..CheckState::default()
        }
    }

    /// The hash that reopens this check.
    pub fn hash(&self) -> String {
        let mut hash = HASH.to_string();
        if !self.text.is_empty() {
            hash.push_str(&format!("={}", shared::form::encode(&self.text)));
            if self.platform != default_platform() {
                hash.push_str(&format!("&platform={}", self.platform.id));
            }
        }
        hash
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
    /// For a migrated config: the builder's form for its etcd.
    pub builder: Option<BuilderLink>,
    /// For a legacy config: the Butane it became, and a report entry per line that changed or
    /// was dropped (also in `report`, placed on the pasted text's lines).
    pub migration: Option<Migration>,
}

/// Checks the state's config as butane (or ignition-validate, for JSON) would; a legacy
/// config is checked as the Butane it migrated to.
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
        builder: None,
        migration: None,
    };
    match kind {
        Kind::Empty => {
            checked.summary = "Paste, type or drop a Butane config (variant: flatcar), Ignition JSON, or an old #cloud-config or Container Linux Config to bring forward.".into();
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
        Kind::Butane => translate(&mut checked, &state.text, state),
        kind if is_legacy(kind) => {
            let name = match kind {
                Kind::CloudConfig => "a #cloud-config",
                _ => "a Container Linux Config",
            };
            match state.migration_of_this() {
                None => {
                    checked.summary = format!("This is {name}: bringing it forward to Butane…");
                }
                Some(Err(e)) => {
                    checked.refused = true;
                    checked.summary =
                        format!("This is {name}, and it could not be brought forward: {e}");
                }
                Some(Ok(answer)) => {
                    let m = &answer.migration;
                    translate(&mut checked, &m.butane, state);
                    checked.builder = answer.builder.clone();
                    let (changed, dropped) = (
                        m.report.iter().filter(|e| e.fate == Fate::Changed).count(),
                        m.report.iter().filter(|e| e.fate == Fate::Dropped).count(),
                    );
                    checked.summary = format!(
                        "This is {name}, brought forward to Butane for {}: {changed} {} changed, {dropped} dropped (the report says why). Its Butane: {}",
                        state.platform.label,
                        if changed == 1 { "line" } else { "lines" },
                        checked.summary
                    );
                    // The findings of the pasted text are the migration's, on its lines; the
                    // migrated Butane's own would point into a text the page does not show.
                    checked.report = migration_report(&state.text, m);
                    checked.migration = Some(m.clone());
                }
            }
        }
        other => {
            checked.refused = true;
            checked.summary = format!(
                "This is {}. This page checks Butane and Ignition 3, and brings cloud-configs and Container Linux Configs forward.",
                other.description().unwrap_or("not a config this page reads")
            );
        }
    }
    checked
}

/// Translates Butane `text` as butane would (the state's attached files as its `-d`).
fn translate(checked: &mut Checked, text: &str, state: &CheckState) {
    let files = butane::FilesDir {
        name: FILES_DIR.into(),
        files: state.files.clone(),
    };
    let options = butane::Options {
        files_dir: (!state.files.is_empty()).then_some(files),
        pretty: true,
    };
    let outcome = butane::translate(text, &options);
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
        checked.stderr = Some(outcome.stderr(text, state.strict));
    }
    if let (Some(json), Some(spec)) = (&outcome.ignition, outcome.spec) {
        if let Ok((config, _)) = butane::ignition::inline::read_config(json.as_bytes(), spec) {
            etcd(checked, &config);
        }
    }
    if !checked.refused {
        checked.ignition = outcome.ignition.map(|j| format!("{j}\n"));
    }
    checked.report = outcome.report;
}

/// The migration's entries as findings on the pasted text: dropped lines warn, changed ones
/// inform; each at its key's column.
fn migration_report(text: &str, m: &Migration) -> Report {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut report = Report::default();
    for e in &m.report {
        let line = lines.get(e.line.saturating_sub(1)).copied().unwrap_or("");
        let column = line.len() - line.trim_start_matches([' ', '-']).len() + 1;
        let (severity, fate) = match e.fate {
            Fate::Dropped => (Severity::Warning, "dropped"),
            Fate::Changed => (Severity::Info, "changed"),
        };
        let mut path = butane::path::Path::yaml();
        for part in e.key.split('.') {
            path = match part.parse::<usize>() {
                Ok(i) => path.index(i),
                Err(_) => path.key(part),
            };
        }
        report.push(Finding {
            severity,
            path,
            message: format!("{fate}: {}", e.reason),
            position: (e.line > 0).then_some(Position {
                line: e.line,
                column,
            }),
        });
    }
    report
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
    fn a_legacy_config_is_checked_as_the_butane_it_became() {
        let text = "#cloud-config\ncoreos:\n  fleet:\n    metadata: x\n";
        let mut state = CheckState {
            text: text.into(),
            platform: Platform::by_id("ec2").unwrap(),
            ..CheckState::default()
        };
        assert!(state.wants_migration());
        assert_eq!(CheckState::from_hash(&state.hash()).platform.id, "ec2");
        let migration = Migration {
            butane: "variant: flatcar\nversion: 1.1.0\n".into(),
            report: vec![shared::migrate::Entry {
                line: 3,
                key: "coreos.fleet".into(),
                fate: Fate::Dropped,
                reason: "fleet no longer exists".into(),
            }],
        };
        // An answer for another platform is not this one's.
        state.migrated = Some(Migrated {
            text: text.into(),
            platform: "metal",
            result: Ok(Answer {
                migration: migration.clone(),
                builder: None,
            }),
        });
        assert!(state.wants_migration());
        state.migrated = Some(Migrated {
            text: text.into(),
            platform: "ec2",
            result: Ok(Answer {
                migration,
                builder: None,
            }),
        });
        assert!(!state.wants_migration());
        let checked = check(&state);
        assert!(!checked.refused, "{}", checked.summary);
        assert!(checked.summary.starts_with("This is a #cloud-config, brought forward to Butane for AWS EC2: 0 lines changed, 1 dropped"), "{}", checked.summary);
        assert!(
            checked
                .summary
                .ends_with("Its Butane: Translates to Ignition 3.4.0"),
            "{}",
            checked.summary
        );
        let finding = &checked.report.findings[0];
        assert_eq!(finding.position, Some(Position { line: 3, column: 3 }));
        assert_eq!(finding.severity, Severity::Warning);
        assert_eq!(finding.message, "dropped: fleet no longer exists");
        assert!(checked.ignition.unwrap().contains("\"version\": \"3.4.0\""));
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
