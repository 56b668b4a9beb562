//! Old configs brought forward (issue 19, begun): a `#cloud-config` becomes Butane for
//! Flatcar, its etcd as the drop-in the builder writes, with a report entry for every source
//! line that changed meaning or could not come along, and why. Container Linux Configs are
//! next.

pub mod cloud_config;
pub mod etcd;

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

/// Migrates a legacy config whose addresses come from `platform` (its metadata variables, or
/// the builder's address unit where it has none).
pub fn migrate(text: &str, platform: &Platform) -> Result<Migration, String> {
    match butane::detect::kind(text) {
        butane::detect::Kind::CloudConfig => cloud_config::migrate(text, platform),
        butane::detect::Kind::ContainerLinuxConfig => {
            Err("Container Linux Configs are not migrated yet: only #cloud-config is".into())
        }
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
