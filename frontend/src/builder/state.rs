//! The builder form as plain data: `shared::config::query::Query`, the one typed form of the
//! config's query string (the page URL's, and the `/butane` API's), and the edits a user makes
//! to it. Text is kept as typed, even while it is invalid; choices are types.

use std::rc::Rc;

use shared::config::query::{Mode, Query};
use shared::config::{ButaneVersion, Platform};
use yew::Reducible;

/// The size the page starts with when its URL gives none.
const PAGE_SIZE: &str = "3";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderState {
    pub query: Query,
}

impl Default for BuilderState {
    fn default() -> Self {
        BuilderState {
            query: Query {
                size: PAGE_SIZE.into(),
                ..Query::default()
            },
        }
    }
}

impl BuilderState {
    /// The form a page URL's query holds; what it cannot read keeps the page's defaults (the
    /// problems show beside the output, from the same query).
    pub fn from_url(query: &str) -> BuilderState {
        let (mut q, _) = Query::read(query);
        let size_given = shared::form::Form::parse(query).is_ok_and(|f| f.get("size").is_some());
        if !size_given {
            q.size = PAGE_SIZE.into();
        }
        BuilderState { query: q }
    }
}

/// A text field of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Discovery,
    Endpoints,
    Size,
    Members,
    This,
    ClusterToken,
    EtcdTag,
    SshKeys,
}

/// One change to the form.
pub enum Edit {
    Text(Field, String),
    Mode(Mode),
    Platform(Platform),
    PublicAddress(bool),
    LegacyPorts(bool),
    Butane(ButaneVersion),
}

impl Reducible for BuilderState {
    type Action = Edit;

    fn reduce(self: Rc<Self>, edit: Edit) -> Rc<Self> {
        let mut next = (*self).clone();
        let q = &mut next.query;
        match edit {
            // A discovery mode follows the etcd release typed: v3 from 3.6 on.
            Edit::Text(Field::EtcdTag, tag) => {
                if q.mode != Mode::Static {
                    q.mode = Mode::for_etcd_tag(&tag);
                }
                q.etcd_tag = tag;
            }
            Edit::Text(field, value) => {
                *match field {
                    Field::Discovery => &mut q.discovery,
                    Field::Endpoints => &mut q.endpoints,
                    Field::Size => &mut q.size,
                    Field::Members => &mut q.members,
                    Field::This => &mut q.this,
                    Field::ClusterToken => &mut q.cluster_token,
                    Field::EtcdTag => &mut q.etcd_tag,
                    Field::SshKeys => &mut q.ssh_keys,
                } = value
            }
            Edit::Mode(m) => q.mode = m,
            Edit::Platform(p) => q.platform = p,
            Edit::PublicAddress(on) => q.public_address = on,
            Edit::LegacyPorts(on) => q.legacy_ports = on,
            Edit::Butane(b) => q.butane = b,
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(s: BuilderState, e: Edit) -> BuilderState {
        (*Rc::new(s).reduce(e)).clone()
    }

    #[test]
    fn edits_change_the_query_the_page_keeps() {
        let s = BuilderState::default();
        assert_eq!(
            s.query.to_query(),
            "bootstrap=discovery&size=3&platform=metal&address=private&butane=1.0.0"
        );
        let s = edit(
            s,
            Edit::Text(
                Field::Discovery,
                "https://d.example/6a28e078895c5ec737174db2419bb2f3".into(),
            ),
        );
        let s = edit(s, Edit::Platform(Platform::by_id("gce").unwrap()));
        let s = edit(s, Edit::LegacyPorts(true));
        let (generated, problems) = shared::config::generate(&s.query.to_query());
        let g = generated.unwrap_or_else(|| panic!("{problems:?}"));
        assert!(g.butane_yaml.contains("COREOS_GCE_IP_LOCAL_0"));
        assert!(g.butane_yaml.contains("0.0.0.0:4001"));
        let s = edit(s, Edit::LegacyPorts(false));
        assert!(!s.query.to_query().contains("legacy_ports"));
        let s = edit(s, Edit::Mode(Mode::Static));
        let s = edit(s, Edit::Butane(ButaneVersion::V1_1_0));
        assert_eq!(BuilderState::from_url(&s.query.to_query()), s);
    }

    #[test]
    fn typing_an_etcd_3_6_tag_picks_v3_discovery_and_back() {
        let s = BuilderState::default();
        let s = edit(s, Edit::Text(Field::EtcdTag, "v3.6.4".into()));
        assert_eq!(s.query.mode, Mode::V3Discovery);
        let s = edit(s, Edit::Text(Field::Endpoints, "d.example:2379".into()));
        assert!(s
            .query
            .to_query()
            .contains("bootstrap=v3&discovery_endpoints=d.example%3A2379"));
        let s = edit(s, Edit::Text(Field::EtcdTag, "v3.5.16".into()));
        assert_eq!(s.query.mode, Mode::Discovery);
        // Static stays static whatever the tag.
        let s = edit(s, Edit::Mode(Mode::Static));
        let s = edit(s, Edit::Text(Field::EtcdTag, "v3.7.0".into()));
        assert_eq!(s.query.mode, Mode::Static);
    }

    #[test]
    fn a_url_without_a_size_starts_at_three_and_a_cleared_one_stays_clear() {
        assert_eq!(BuilderState::from_url("platform=ec2").query.size, "3");
        assert_eq!(BuilderState::from_url("size=").query.size, "");
        assert_eq!(BuilderState::from_url("size=5").query.size, "5");
        // An unreadable choice keeps the default; the problem is shown from the same query.
        assert_eq!(
            BuilderState::from_url("butane=9").query.butane,
            ButaneVersion::V1_0_0
        );
    }
}
