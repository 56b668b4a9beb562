//! The Flatcar etcd cluster config a user builds: the model, the query string that carries it
//! (the page's URL and the `/butane` and `/ignition` API take the same) and the Butane it
//! becomes; its Ignition is what the `butane` crate makes of that Butane, as for any config.

pub mod butane;
pub mod dropin;
pub mod fit;
pub mod found;
pub mod params;
pub mod platform;
pub mod query;

pub use platform::{Platform, PLATFORMS};

/// How the members find each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bootstrap {
    /// Every machine gets the same config holding a discovery URL.
    Discovery {
        url: String,
        /// The size the token was minted with, when known (for warnings).
        size: Option<u64>,
        protocol: Protocol,
    },
    /// Every address is known in advance: one config per member.
    Static {
        members: Vec<StaticMember>,
        /// `--initial-cluster-token`: unique per cluster.
        cluster_token: String,
        /// Index into `members` of the machine this config is for.
        this: usize,
    },
}

/// Which discovery protocol the members speak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// `--discovery=<url>`: etcd 3.4 and 3.5 (3.6 deprecates it, 3.7 removed it).
    V2,
    /// `--discovery-token=<the URL's token>` and `--discovery-endpoints`: etcd 3.6 and later,
    /// over gRPC to these `host:port`s.
    V3 { endpoints: Vec<String> },
}

/// The etcd release an image tag names (`v3.6.0`, `3.5.16`), as (major, minor).
pub fn etcd_release(tag: &str) -> Option<(u32, u32)> {
    let t = tag.trim().trim_start_matches('v');
    let mut parts = t.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Flatcar's own etcd when no image tag is set (its stable channel's etcd-wrapper).
pub const FLATCAR_ETCD: (u32, u32) = (3, 5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticMember {
    pub name: String,
    /// IPv4 address or host name.
    pub address: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButaneVersion {
    /// flatcar 1.0.0 -> Ignition 3.3.0 (Flatcar 3185.0.0 and later).
    V1_0_0,
    /// flatcar 1.1.0 -> Ignition 3.4.0 (Ignition 2.15+, Flatcar releases from 2023 on).
    V1_1_0,
}

impl ButaneVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ButaneVersion::V1_0_0 => "1.0.0",
            ButaneVersion::V1_1_0 => "1.1.0",
        }
    }

    pub fn ignition_version(self) -> &'static str {
        match self {
            ButaneVersion::V1_0_0 => "3.3.0",
            ButaneVersion::V1_1_0 => "3.4.0",
        }
    }

    pub fn parse(s: &str) -> Option<ButaneVersion> {
        match s {
            "1.0.0" => Some(ButaneVersion::V1_0_0),
            "1.1.0" => Some(ButaneVersion::V1_1_0),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    pub bootstrap: Bootstrap,
    pub platform: Platform,
    /// Advertise the public address (multi-region, multi-cloud) instead of the private one.
    pub public_address: bool,
    /// Also listen on the legacy ports 4001 (clients) and 7001 (peers).
    pub legacy_ports: bool,
    /// `ETCD_IMAGE_TAG`; empty keeps Flatcar's default image.
    pub etcd_image_tag: String,
    pub ssh_keys: Vec<String>,
    pub butane: ButaneVersion,
}

/// Something to tell the user about the config: errors stop generation, warnings do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// The query parameter it is about.
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Problem {
    pub fn error(field: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            field,
            message: message.into(),
        }
    }

    pub fn warning(field: &'static str, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            field,
            message: message.into(),
        }
    }
}

/// The generated texts, ready to show, copy or download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub butane_yaml: String,
    pub ignition_json: String,
}

/// Builds both texts from a query string. Errors come back instead of texts; warnings with them.
/// What stands in the draft config for a discovery URL not given yet: plainly not a URL anyone
/// would deploy (`.invalid` never resolves), and easy to spot in the text.
pub const MISSING_DISCOVERY_URL: &str = "https://MISSING-DISCOVERY-URL.invalid/MINT-OR-PASTE-ONE";

/// The config the current choices make while only the discovery URL is missing, with
/// [`MISSING_DISCOVERY_URL`] in its place, so a new user sees at once what they will get.
/// `None` when anything else is wrong (or nothing is: then `generate` gives the real one).
pub fn draft(query: &str) -> Option<Generated> {
    let (mut config, problems) = params::parse(query);
    let errors: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    let only_missing_url = !errors.is_empty() && errors.iter().all(|p| p.field == "discovery");
    match &mut config.bootstrap {
        Bootstrap::Discovery { url, .. } if only_missing_url && url.is_empty() => {
            *url = MISSING_DISCOVERY_URL.to_string();
        }
        _ => return None,
    }
    Some(texts(&butane::Butane::from_config(&config)))
}

pub fn generate(query: &str) -> (Option<Generated>, Vec<Problem>) {
    let (config, problems) = params::parse(query);
    if problems.iter().any(|p| p.severity == Severity::Error) {
        return (None, problems);
    }
    (Some(texts(&butane::Butane::from_config(&config))), problems)
}

/// The Butane text, and the Ignition `butane --pretty` makes of it: through the one Butane
/// translator the project has, as a pasted config goes.
fn texts(doc: &butane::Butane) -> Generated {
    let butane_yaml = doc.to_yaml();
    let outcome = ::butane::translate(
        &butane_yaml,
        &::butane::Options {
            files_dir: None,
            pretty: true,
        },
    );
    // The builder writes only what translates cleanly; a finding here is a bug in it, shown
    // in place of the Ignition rather than hidden.
    let ignition_json = match outcome.ignition {
        Some(json) if outcome.report.is_empty() => format!("{json}\n"),
        _ => outcome.stderr(&butane_yaml, true),
    };
    Generated {
        butane_yaml,
        ignition_json,
    }
}
