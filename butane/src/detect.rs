//! What kind of config a pasted text is, so each gets the right checks or a plain word about
//! what it is: Butane, Ignition JSON (spec 3, or the Container Linux era's 2.x), a Container
//! Linux Config (YAML with no `variant`, the format before Butane), or a cloud-config.

use crate::yaml::{self, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Empty,
    Butane,
    /// Ignition JSON of spec 3.
    Ignition,
    /// Ignition JSON of spec 1 or 2 (Container Linux, Ignition 0.x).
    IgnitionV2,
    /// A Container Linux Config (`ct`'s YAML): no `variant`, keys such as `etcd`, `systemd`.
    ContainerLinuxConfig,
    /// A cloud-config (`#cloud-config`, or a `coreos:` section): coreos-cloudinit's format.
    CloudConfig,
}

impl Kind {
    /// What to tell a user who pasted one that this tool does not translate.
    pub fn description(self) -> Option<&'static str> {
        match self {
            Kind::IgnitionV2 => Some("Ignition spec 2.x, the Container Linux era's: Flatcar reads spec 3 (write Butane, variant flatcar)"),
            Kind::ContainerLinuxConfig => Some("a Container Linux Config (ct's format, before Butane): Butane for Flatcar replaces it"),
            Kind::CloudConfig => Some("a cloud-config (coreos-cloudinit's format): Flatcar boots with Ignition; write Butane instead"),
            _ => None,
        }
    }
}

/// Keys a Container Linux Config has at its top that Butane does not.
const CLC_ONLY: [&str; 7] = [
    "etcd",
    "flannel",
    "locksmith",
    "update",
    "networkd",
    "docker",
    "ignition_version",
];

pub fn kind(text: &str) -> Kind {
    let trimmed = text.trim_start();
    if trimmed.trim_end().is_empty() {
        return Kind::Empty;
    }
    if trimmed.starts_with("#cloud-config") {
        return Kind::CloudConfig;
    }
    if trimmed.starts_with('{') {
        let version = crate::ignition::read::parse(trimmed.as_bytes())
            .ok()
            .and_then(|node| {
                let ignition = crate::shape::child(Some(&node), "ignition")?;
                match &crate::shape::child(Some(ignition), "version")?.value {
                    Value::Scalar(s) => Some(s.text.clone()),
                    _ => None,
                }
            });
        return match version {
            Some(v) if v.starts_with("1.") || v.starts_with("2.") => Kind::IgnitionV2,
            _ => Kind::Ignition,
        };
    }
    let Ok(Some(root)) = yaml::parse(text) else {
        return Kind::Butane;
    };
    let Value::Mapping(entries) = &root.value else {
        return Kind::Butane;
    };
    let keys: Vec<&str> = entries
        .iter()
        .filter_map(|(k, _)| match &k.value {
            Value::Scalar(s) => Some(s.text.as_str()),
            _ => None,
        })
        .collect();
    if keys.contains(&"variant") {
        Kind::Butane
    } else if keys.contains(&"coreos")
        || keys.contains(&"write_files")
        || keys.contains(&"ssh_authorized_keys")
    {
        Kind::CloudConfig
    } else if keys.iter().any(|k| CLC_ONLY.contains(k))
        || (!keys.contains(&"version")
            && keys
                .iter()
                .any(|k| ["systemd", "storage", "passwd"].contains(k)))
    {
        Kind::ContainerLinuxConfig
    } else {
        Kind::Butane
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_told_apart() {
        assert_eq!(kind("  \n"), Kind::Empty);
        assert_eq!(kind("variant: flatcar\nversion: 1.1.0\n"), Kind::Butane);
        assert_eq!(
            kind("{\"ignition\": {\"version\": \"3.4.0\"}}"),
            Kind::Ignition
        );
        assert_eq!(
            kind("{\"ignition\": {\"version\": \"2.3.0\"}}"),
            Kind::IgnitionV2
        );
        assert_eq!(
            kind("#cloud-config\ncoreos:\n  etcd2:\n    discovery: x\n"),
            Kind::CloudConfig
        );
        assert_eq!(kind("coreos:\n  units: []\n"), Kind::CloudConfig);
        assert_eq!(
            kind("etcd:\n  discovery: https://x\nsystemd:\n  units: []\n"),
            Kind::ContainerLinuxConfig
        );
        assert_eq!(kind("passwd:\n  users: []\n"), Kind::ContainerLinuxConfig);
    }
}
