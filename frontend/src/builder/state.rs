//! The builder form as plain data: what the user typed, kept even while it is invalid, and the
//! query string it stands for (the page URL's, and the `/butane` API's).

use std::rc::Rc;

use shared::form::{encode, Form};
use yew::Reducible;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderState {
    pub bootstrap: String,
    pub discovery: String,
    pub size: String,
    /// One `name=address` a line.
    pub members: String,
    pub this: String,
    pub cluster_token: String,
    pub platform: String,
    pub address: String,
    pub legacy_ports: bool,
    pub etcd_tag: String,
    /// One key a line.
    pub ssh_keys: String,
    pub butane: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Bootstrap,
    Discovery,
    Size,
    Members,
    This,
    ClusterToken,
    Platform,
    Address,
    LegacyPorts,
    EtcdTag,
    SshKeys,
    Butane,
}

impl Default for BuilderState {
    fn default() -> Self {
        BuilderState {
            bootstrap: "discovery".into(),
            discovery: String::new(),
            size: "3".into(),
            members: String::new(),
            this: String::new(),
            cluster_token: String::new(),
            platform: shared::config::params::DEFAULT_PLATFORM.into(),
            address: "private".into(),
            legacy_ports: false,
            etcd_tag: String::new(),
            ssh_keys: String::new(),
            butane: "1.0.0".into(),
        }
    }
}

impl BuilderState {
    pub fn from_query(query: &str) -> BuilderState {
        let mut s = BuilderState::default();
        let Ok(form) = Form::parse(query) else {
            return s;
        };
        let take = |name: &str, into: &mut String| {
            if let Some(v) = form.get(name) {
                *into = v.to_string();
            }
        };
        take("bootstrap", &mut s.bootstrap);
        take("discovery", &mut s.discovery);
        take("size", &mut s.size);
        take("this", &mut s.this);
        take("cluster_token", &mut s.cluster_token);
        take("platform", &mut s.platform);
        take("address", &mut s.address);
        take("etcd_tag", &mut s.etcd_tag);
        take("butane", &mut s.butane);
        s.legacy_ports = matches!(form.get("legacy_ports"), Some("true" | "1" | "on"));
        s.members = form.all("member").join("\n");
        s.ssh_keys = form.all("ssh_key").join("\n");
        s
    }

    /// The query string; empty fields are left out so links stay short.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![("bootstrap", &self.bootstrap)];
        pairs.push(("discovery", &self.discovery));
        pairs.push(("size", &self.size));
        pairs.extend(lines(&self.members).map(|m| ("member", m)));
        pairs.push(("this", &self.this));
        pairs.push(("cluster_token", &self.cluster_token));
        pairs.push(("platform", &self.platform));
        pairs.push(("address", &self.address));
        if self.legacy_ports {
            pairs.push(("legacy_ports", "true"));
        }
        pairs.push(("etcd_tag", &self.etcd_tag));
        pairs.extend(lines(&self.ssh_keys).map(|k| ("ssh_key", k)));
        pairs.push(("butane", &self.butane));
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

    pub fn set(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::Bootstrap => &mut self.bootstrap,
            Field::Discovery => &mut self.discovery,
            Field::Size => &mut self.size,
            Field::Members => &mut self.members,
            Field::This => &mut self.this,
            Field::ClusterToken => &mut self.cluster_token,
            Field::Platform => &mut self.platform,
            Field::Address => &mut self.address,
            Field::EtcdTag => &mut self.etcd_tag,
            Field::SshKeys => &mut self.ssh_keys,
            Field::Butane => &mut self.butane,
            Field::LegacyPorts => {
                self.legacy_ports = value == "true";
                return;
            }
        };
        *slot = value;
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// One change to the form.
pub struct Set(pub Field, pub String);

impl Reducible for BuilderState {
    type Action = Set;

    fn reduce(self: Rc<Self>, Set(field, value): Set) -> Rc<Self> {
        let mut next = (*self).clone();
        next.set(field, value);
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_round_trips_through_the_form() {
        let q = "bootstrap=static&member=a%3D10.0.0.1&member=b%3D10.0.0.2&this=b&cluster_token=t1&platform=qemu&address=private&legacy_ports=true&ssh_key=ssh-ed25519%20AAAA%20me&butane=1.1.0";
        let s = BuilderState::from_query(q);
        assert_eq!(s.members, "a=10.0.0.1\nb=10.0.0.2");
        assert_eq!(s.member_names(), ["a", "b"]);
        assert!(s.legacy_ports);
        assert_eq!(BuilderState::from_query(&s.to_query()), s);
    }

    #[test]
    fn the_query_is_what_shared_generates_from() {
        let mut s = BuilderState::default();
        s.set(
            Field::Discovery,
            "https://d.example/6a28e078895c5ec737174db2419bb2f3".into(),
        );
        s.set(Field::Platform, "gce".into());
        s.set(Field::LegacyPorts, "true".into());
        let (generated, problems) = shared::config::generate(&s.to_query());
        let g = generated.unwrap_or_else(|| panic!("{problems:?}"));
        assert!(g.butane_yaml.contains("COREOS_GCE_IP_LOCAL_0"));
        assert!(g.butane_yaml.contains("0.0.0.0:4001"));
        s.set(Field::LegacyPorts, "false".into());
        assert!(!s.to_query().contains("legacy_ports"));
    }

    #[test]
    fn empty_and_blank_fields_stay_out_of_the_url() {
        let mut s = BuilderState::default();
        s.set(Field::SshKeys, "\n  \nssh-ed25519 AAAA x\n".into());
        assert_eq!(s.to_query(), "bootstrap=discovery&size=3&platform=metal&address=private&ssh_key=ssh-ed25519%20AAAA%20x&butane=1.0.0");
    }
}
