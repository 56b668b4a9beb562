//! The config's query string as one typed form: what the builder page holds and keeps in its
//! URL, and what `/butane?...` and `/ignition?...` read. Choices are types; text is kept as the
//! user typed it (checked later by `params::parse`), so a half-typed form survives a reload.

use super::{Bootstrap, ButaneVersion, ClusterConfig, Platform, Problem};
use crate::form::{encode, Form};

pub const DEFAULT_PLATFORM: &str = "metal";

/// How the members find each other, as the form picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// v2 discovery (`--discovery=<url>`), etcd 3.4 and 3.5.
    Discovery,
    /// v3 discovery (`--discovery-token`, `--discovery-endpoints`), etcd 3.6 and later.
    V3Discovery,
    Static,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Discovery => "discovery",
            Mode::V3Discovery => "v3",
            Mode::Static => "static",
        }
    }

    /// The discovery mode an etcd image tag calls for: v3 from etcd 3.6 on; `None` for a tag
    /// that names no release (Flatcar's default, 3.5, when empty).
    pub fn for_etcd_tag(tag: &str) -> Mode {
        let release = if tag.trim().is_empty() {
            Some(super::FLATCAR_ETCD)
        } else {
            super::etcd_release(tag)
        };
        match release {
            Some(r) if r >= (3, 6) => Mode::V3Discovery,
            _ => Mode::Discovery,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub mode: Mode,
    pub discovery: String,
    /// v3 discovery's gRPC endpoints as typed (`host:port`, separated by commas or spaces).
    pub endpoints: String,
    /// The size as typed; empty: not given.
    pub size: String,
    /// One `name=address` a line (static).
    pub members: String,
    /// The member this config is for (static); empty: the first.
    pub this: String,
    pub cluster_token: String,
    pub platform: Platform,
    pub public_address: bool,
    pub legacy_ports: bool,
    /// Empty: Flatcar's default image.
    pub etcd_tag: String,
    /// One key a line.
    pub ssh_keys: String,
    pub butane: ButaneVersion,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            mode: Mode::Discovery,
            discovery: String::new(),
            endpoints: String::new(),
            size: String::new(),
            members: String::new(),
            this: String::new(),
            cluster_token: String::new(),
            platform: default_platform(),
            public_address: false,
            legacy_ports: false,
            etcd_tag: String::new(),
            ssh_keys: String::new(),
            butane: ButaneVersion::V1_0_0,
        }
    }
}

fn default_platform() -> Platform {
    Platform::by_id(DEFAULT_PLATFORM).unwrap_or(super::PLATFORMS[0])
}

/// The non-empty lines of a text field, trimmed.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

impl Query {
    /// Reads a query string. A choice it cannot read is a problem naming its parameter, and the
    /// form keeps the default for it; text fields are taken as they are.
    pub fn read(query: &str) -> (Query, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut q = Query::default();
        let form = match Form::parse(query.trim_start_matches('?')) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::error(
                    "query",
                    format!("the query string is malformed: {e}"),
                ));
                return (q, problems);
            }
        };
        let one = |name: &str| form.get(name).map(str::trim).filter(|v| !v.is_empty());
        let text = |name: &str| one(name).unwrap_or("").to_string();
        // Repeated parameters become the lines of one text field; a value that holds a line
        // break itself would read as two, so it is refused.
        let mut all = |name: &'static str| {
            let values: Vec<&str> = form
                .all(name)
                .into_iter()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect();
            if values.iter().any(|v| v.contains(['\n', '\r'])) {
                problems.push(Problem::error(
                    name,
                    format!("a {name} value holds a line break: give each as its own {name}"),
                ));
                return String::new();
            }
            values.join("\n")
        };
        q.members = all("member");
        q.ssh_keys = all("ssh_key");
        q.etcd_tag = text("etcd_tag");
        match one("bootstrap") {
            // Not chosen: what the etcd release calls for.
            None => q.mode = Mode::for_etcd_tag(&q.etcd_tag),
            Some("discovery") => {}
            Some("v3") => q.mode = Mode::V3Discovery,
            Some("static") => q.mode = Mode::Static,
            Some(other) => problems.push(Problem::error(
                "bootstrap",
                format!("bootstrap must be discovery, v3 or static, not {other:?}"),
            )),
        }
        q.discovery = text("discovery");
        q.endpoints = text("discovery_endpoints");
        q.size = text("size");
        q.this = text("this");
        q.cluster_token = text("cluster_token");
        if let Some(id) = one("platform") {
            match Platform::by_id(id) {
                Some(p) => q.platform = p,
                None => problems.push(Problem::error(
                    "platform",
                    format!("unknown platform {id:?}"),
                )),
            }
        }
        match one("address") {
            None | Some("private") => {}
            Some("public") => q.public_address = true,
            Some(other) => problems.push(Problem::error(
                "address",
                format!("address must be private or public, not {other:?}"),
            )),
        }
        match one("legacy_ports") {
            None | Some("false" | "0" | "off") => {}
            Some("true" | "1" | "on") => q.legacy_ports = true,
            Some(other) => problems.push(Problem::error(
                "legacy_ports",
                format!("legacy_ports must be true or false, not {other:?}"),
            )),
        }
        if let Some(v) = one("butane") {
            match ButaneVersion::parse(v) {
                Some(b) => q.butane = b,
                None => problems.push(Problem::error(
                    "butane",
                    format!("Butane version must be 1.0.0 or 1.1.0, not {v:?}"),
                )),
            }
        }
        (q, problems)
    }

    /// The query string; empty fields are left out so links stay short.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![("bootstrap", self.mode.as_str())];
        pairs.push(("discovery", &self.discovery));
        if self.mode == Mode::V3Discovery {
            pairs.push(("discovery_endpoints", &self.endpoints));
        }
        pairs.push(("size", &self.size));
        pairs.extend(lines(&self.members).map(|m| ("member", m)));
        pairs.push(("this", &self.this));
        pairs.push(("cluster_token", &self.cluster_token));
        pairs.push(("platform", self.platform.id));
        pairs.push((
            "address",
            if self.public_address {
                "public"
            } else {
                "private"
            },
        ));
        if self.legacy_ports {
            pairs.push(("legacy_ports", "true"));
        }
        pairs.push(("etcd_tag", &self.etcd_tag));
        pairs.extend(lines(&self.ssh_keys).map(|k| ("ssh_key", k)));
        pairs.push(("butane", self.butane.as_str()));
        pairs
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Member names typed so far, for the "this member" choice.
    pub fn member_names(&self) -> Vec<String> {
        lines(&self.members)
            .filter_map(|m| m.split_once('=').map(|(n, _)| n.trim().to_string()))
            .collect()
    }
}

impl From<&ClusterConfig> for Query {
    /// The form that stands for a config (what a link to it holds).
    fn from(c: &ClusterConfig) -> Query {
        let mut q = Query {
            platform: c.platform,
            public_address: c.public_address,
            legacy_ports: c.legacy_ports,
            etcd_tag: c.etcd_image_tag.clone(),
            ssh_keys: c.ssh_keys.join("\n"),
            butane: c.butane,
            ..Query::default()
        };
        match &c.bootstrap {
            Bootstrap::Discovery {
                url,
                size,
                protocol,
            } => {
                q.discovery = url.clone();
                q.size = size.map(|n| n.to_string()).unwrap_or_default();
                if let super::Protocol::V3 { endpoints } = protocol {
                    q.mode = Mode::V3Discovery;
                    q.endpoints = endpoints.join(",");
                }
            }
            Bootstrap::Static {
                members,
                cluster_token,
                this,
            } => {
                q.mode = Mode::Static;
                q.members = members
                    .iter()
                    .map(|m| format!("{}={}", m.name, m.address))
                    .collect::<Vec<_>>()
                    .join("\n");
                q.this = members
                    .get(*this)
                    .map(|m| m.name.clone())
                    .unwrap_or_default();
                q.cluster_token = cluster_token.clone();
            }
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_round_trips_through_the_form() {
        let text = "bootstrap=static&member=a%3D10.0.0.1&member=b%3D10.0.0.2&this=b&cluster_token=t1&platform=qemu&address=private&legacy_ports=true&ssh_key=ssh-ed25519%20AAAA%20me&butane=1.1.0";
        let (q, problems) = Query::read(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(q.mode, Mode::Static);
        assert_eq!(q.members, "a=10.0.0.1\nb=10.0.0.2");
        assert_eq!(q.member_names(), ["a", "b"]);
        assert_eq!((q.platform.id, q.butane), ("qemu", ButaneVersion::V1_1_0));
        assert!(q.legacy_ports && !q.public_address);
        assert_eq!(q.to_query(), text);
        assert_eq!(Query::read(&q.to_query()).0, q);
    }

    #[test]
    fn bad_choices_are_named_and_keep_their_defaults() {
        let (q, problems) =
            Query::read("bootstrap=dhcp&platform=mars&address=moon&legacy_ports=maybe&butane=2.0");
        let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["bootstrap", "platform", "address", "legacy_ports", "butane"]
        );
        assert_eq!(q, Query::default());
        let (_, problems) = Query::read("a=%zz");
        assert_eq!(problems[0].field, "query");
        let (q, problems) =
            Query::read("ssh_key=ssh-ed25519%20AAAA%0Assh-rsa%20BBB&member=a%3D1%0Db%3D2");
        let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["member", "ssh_key"]);
        assert!(q.ssh_keys.is_empty() && q.members.is_empty());
    }

    #[test]
    fn empty_and_blank_fields_stay_out_of_the_url() {
        let q = Query {
            ssh_keys: "\n  \nssh-ed25519 AAAA x\n".into(),
            size: "3".into(),
            ..Query::default()
        };
        assert_eq!(
            q.to_query(),
            "bootstrap=discovery&size=3&platform=metal&address=private&ssh_key=ssh-ed25519%20AAAA%20x&butane=1.0.0"
        );
    }
}
