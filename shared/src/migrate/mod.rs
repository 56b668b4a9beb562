//! Old configs brought forward (issue 19, begun): a `#cloud-config` or a Container Linux
//! Config becomes Butane for Flatcar, its etcd as the drop-in the builder writes, with a report
//! entry for every source line that changed meaning or could not come along, and why.

pub mod clc;
pub mod cloud_config;
mod doc;
pub mod etcd;
mod read;

use crate::config::Platform;

/// What happened to one line of the old config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Carried over with a different form or meaning (a new flag name, an address variable).
    Changed,
    /// Not carried over: nothing in Flatcar or today's etcd takes it.
    Dropped,
}

/// One report entry: the source line, the key it is about, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    /// The key as written, dotted (`coreos.etcd2.proxy`).
    pub key: String,
    pub fate: Fate,
    pub reason: String,
}

/// A migrated config: the Butane, and the report beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub butane: String,
    pub report: Vec<Entry>,
}

impl Fate {
    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Changed => "changed",
            Fate::Dropped => "dropped",
        }
    }
}

impl Migration {
    /// The Butane with the report above it as comments, `# line N: <key> changed|dropped: why`
    /// (what `POST /butane/migrate` answers a terminal).
    pub fn annotated(&self) -> String {
        let mut text = String::new();
        for e in &self.report {
            text.push_str(&format!(
                "# line {}: {} {}: {}\n",
                e.line,
                e.key,
                e.fate.as_str(),
                e.reason
            ));
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&self.butane);
        text
    }
}

/// Migrates a legacy config whose addresses come from `platform` (its metadata variables, or
/// the builder's address unit where it has none).
pub fn migrate(text: &str, platform: &Platform) -> Result<Migration, String> {
    match butane::detect::kind(text) {
        butane::detect::Kind::CloudConfig => cloud_config::migrate(text, platform),
        butane::detect::Kind::ContainerLinuxConfig => clc::migrate(text, platform),
        other => Err(format!(
            "not a legacy config: this reads as {}",
            match other {
                butane::detect::Kind::Butane => "Butane",
                butane::detect::Kind::Ignition | butane::detect::Kind::IgnitionV2 =>
                    "Ignition JSON",
                _ => "nothing",
            }
        )),
    }
}

/// What the readers' tests share.
#[cfg(test)]
pub(crate) mod testing {
    use super::Migration;
    use crate::config::{Platform, PLATFORMS};

    pub fn platform(id: &str) -> &'static Platform {
        PLATFORMS.iter().find(|p| p.id == id).expect("a platform")
    }

    /// The migrated Butane translates with no error (and, if `strict`, no warning either).
    pub fn assert_translates(m: &Migration, strict: bool) {
        let outcome = ::butane::translate(&m.butane, &::butane::Options::default());
        assert!(
            outcome.succeeded(strict),
            "{}\n{}",
            m.butane,
            outcome.stderr(&m.butane, strict)
        );
    }
}
