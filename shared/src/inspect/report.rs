//! The diagnosis of one registry listing: members in `createdIndex` order, who votes, how far
//! the bootstrap is, and what is wrong, in plain words.

use serde_json::Value;

use super::address::{PeerUrl, Scope, PEER_PORT};
use crate::member_id::member_id;
use crate::time::{human_until, parse_rfc3339};

/// What is known of the cluster size (it is hidden from listings, so it comes separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SizeInfo {
    Known(u64),
    /// `_config/size` does not exist: etcd stops with "size key not found".
    Missing,
    /// `_config/size` is not an unsigned number: etcd stops with "bad size key".
    Bad(String),
    /// Not asked (a pasted listing).
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Among the first `size` by `createdIndex`: founds the cluster.
    Voting,
    /// Registered after the first `size`: etcd 3.4/3.5 run it as a proxy, 3.6 exits.
    Proxy,
    /// The size is not known, so neither can be said.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Good,
    Info,
    Warning,
    Error,
}

/// Which rule a finding comes from; each rule decides its own level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The service answered an etcd error instead of a listing.
    Answer,
    /// The size: missing, bad, zero, or not known.
    Size,
    /// How far the bootstrap is: fresh, waiting, complete.
    Progress,
    /// A complete token cannot bootstrap another cluster.
    InUse,
    /// Members that came after the first `size`.
    Late,
    DuplicateName,
    DuplicatePeerUrl,
    /// A peer URL etcd cannot use, or none at all.
    BadPeerUrl,
    Expired,
    /// A key that is not the id etcd derives from the member's peer URLs.
    KeyMismatch,
    /// Loopback or link-local addresses in a cluster of more than one member.
    LocalAddress,
    /// http and https peers together.
    MixedSchemes,
    /// Private and public addresses together.
    MixedScopes,
    /// A peer port other than 2380.
    Port,
}

impl Check {
    /// A stable name, for the page's markup and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Answer => "answer",
            Check::Size => "size",
            Check::Progress => "progress",
            Check::InUse => "in-use",
            Check::Late => "late",
            Check::DuplicateName => "duplicate-name",
            Check::DuplicatePeerUrl => "duplicate-peer-url",
            Check::BadPeerUrl => "bad-peer-url",
            Check::Expired => "expired",
            Check::KeyMismatch => "key-mismatch",
            Check::LocalAddress => "local-address",
            Check::MixedSchemes => "mixed-schemes",
            Check::MixedScopes => "mixed-scopes",
            Check::Port => "port",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub check: Check,
    pub message: String,
}

impl Finding {
    fn new(level: Level, check: Check, message: impl Into<String>) -> Finding {
        Finding {
            level,
            check,
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    /// The full key, as the registry shows it.
    pub key: String,
    /// The last part of the key: etcd's member id.
    pub id: String,
    pub names: Vec<String>,
    pub peer_urls: Vec<String>,
    pub created_index: u64,
    pub modified_index: u64,
    /// Milliseconds until the entry expires (negative: expired), if it has a TTL.
    pub expires_in_ms: Option<i64>,
    pub role: Role,
    /// What is wrong with this member alone (also among the report's findings).
    pub problems: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The token, from the listing's directory key.
    pub token: Option<String>,
    pub size: SizeInfo,
    pub members: Vec<MemberRow>,
    /// Members that count toward the size (at most `size`).
    pub joined: usize,
    pub complete: bool,
    /// Most severe first.
    pub findings: Vec<Finding>,
}

/// Diagnoses `listing` (the JSON a GET of the token answers). `discovery_url`, when known, lets
/// member keys be checked against etcd's id rule. `now_ms` dates the expiries.
pub fn diagnose(
    listing: &Value,
    size: SizeInfo,
    discovery_url: Option<&str>,
    now_ms: u64,
) -> Report {
    if let Some(code) = listing.get("errorCode").and_then(Value::as_u64) {
        let msg = listing.get("message").and_then(Value::as_str).unwrap_or("");
        let text = if code == 100 {
            "this token does not exist (or has expired): etcd members stop at once on it; mint a new one".to_string()
        } else {
            format!("the service answered etcd error {code}: {msg}")
        };
        return Report {
            token: None,
            size,
            members: Vec::new(),
            joined: 0,
            complete: false,
            findings: vec![Finding::new(Level::Error, Check::Answer, text)],
        };
    }
    let dir = &listing["node"];
    let token = dir["key"]
        .as_str()
        .and_then(|k| k.rsplit('/').next())
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let mut members: Vec<MemberRow> = dir["nodes"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|n| {
            !n["key"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .starts_with('_')
        })
        .map(|n| row(n, discovery_url, now_ms))
        .collect();
    members.sort_by_key(|m| (m.created_index, m.key.clone()));

    let n = members.len();
    // A size beyond what this machine counts is no size any cluster has: never truncated.
    let size_n = match &size {
        SizeInfo::Known(s) => Some(usize::try_from(*s).unwrap_or(usize::MAX)),
        _ => None,
    };
    for (i, m) in members.iter_mut().enumerate() {
        m.role = match size_n {
            Some(s) if i < s => Role::Voting,
            Some(_) => Role::Proxy,
            None => Role::Unknown,
        };
    }
    let joined = size_n.map_or(n, |s| n.min(s));
    let complete = size_n.is_some_and(|s| s > 0 && n >= s);

    let mut findings = progress(&size, n);
    findings.extend(duplicates(&members));
    findings.extend(addresses(&members, size_n.unwrap_or(n)));
    for m in &members {
        findings.extend(m.problems.iter().map(|p| Finding {
            message: format!("member {}: {}", m.id, p.message),
            ..p.clone()
        }));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.level));
    Report {
        token,
        size,
        members,
        joined,
        complete,
        findings,
    }
}

/// What the size and the count of members say.
fn progress(size: &SizeInfo, n: usize) -> Vec<Finding> {
    let s = match size {
        SizeInfo::Missing => return vec![Finding::new(Level::Error, Check::Size, "the size is missing (no _config/size): etcd members stop with \"size key not found\"; mint a token with /new?size=N")],
        SizeInfo::Bad(v) => return vec![Finding::new(Level::Error, Check::Size, format!("the size {v:?} is not a whole number: etcd members stop with \"bad size key\""))],
        SizeInfo::Unknown => return vec![Finding::new(Level::Info, Check::Size, "the size is not part of a listing: give it (or inspect the token itself) to see who votes")],
        SizeInfo::Known(0) => return vec![Finding::new(Level::Error, Check::Size, "the size is 0: no cluster can form on this token")],
        SizeInfo::Known(s) => *s,
    };
    let n64 = n as u64;
    let mut out = Vec::new();
    if n64 >= s {
        out.push(Finding::new(Level::Good, Check::Progress, format!("complete: {s} of {s} members have registered; the first {s} by createdIndex form the cluster")));
        out.push(Finding::new(Level::Warning, Check::InUse, "this token is used: a new cluster needs a fresh token; on this one only these members can start (a wiped member is refused with \"duplicate id\")"));
    } else if n > 0 {
        out.push(Finding::new(
            Level::Info,
            Check::Progress,
            format!(
                "waiting: {n} of {s} members have registered; {} more to come",
                s - n64
            ),
        ));
    } else {
        out.push(Finding::new(Level::Info, Check::Progress, format!("fresh: no member has registered yet; the first {s} to register will form the cluster")));
    }
    if n64 > s {
        out.push(Finding::new(Level::Info, Check::Late, format!("{} member(s) registered after the cluster was full: etcd 3.4 and 3.5 run them as proxies, 3.6 exits", n64 - s)));
    }
    out
}

/// The same name or peer URL registered by more than one member.
fn duplicates(members: &[MemberRow]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen_names: Vec<&str> = Vec::new();
    let mut seen_urls: Vec<&str> = Vec::new();
    let mut reported: Vec<&str> = Vec::new();
    for m in members {
        for name in &m.names {
            if seen_names.contains(&name.as_str()) && !reported.contains(&name.as_str()) {
                reported.push(name);
                out.push(Finding::new(Level::Error, Check::DuplicateName, format!("the name {name:?} is used by more than one member: etcd refuses duplicate names (machines cloned from one image share a machine id)")));
            }
            seen_names.push(name);
        }
        for u in &m.peer_urls {
            if seen_urls.contains(&u.as_str()) && !reported.contains(&u.as_str()) {
                reported.push(u);
                out.push(Finding::new(Level::Error, Check::DuplicatePeerUrl, format!("the peer URL {u} is registered by more than one member: each member needs its own address")));
            }
            seen_urls.push(u);
        }
    }
    out
}

/// What the peer URLs say about the network, for a cluster of `size` members.
fn addresses(members: &[MemberRow], size: usize) -> Vec<Finding> {
    let peers: Vec<(&MemberRow, PeerUrl)> = members
        .iter()
        .flat_map(|m| {
            m.peer_urls
                .iter()
                .filter_map(move |u| PeerUrl::parse(u).ok().map(|p| (m, p)))
        })
        .collect();
    let mut out = Vec::new();
    if size > 1 {
        for (scope, what, reach) in [
            (Scope::Loopback, "loopback", "the machine itself"),
            (Scope::LinkLocal, "link-local", "the local network link"),
        ] {
            let here: Vec<String> = peers
                .iter()
                .filter(|(_, p)| p.scope == scope)
                .map(|(m, p)| format!("{} ({})", m.id, p.host))
                .collect();
            if !here.is_empty() {
                out.push(Finding::new(Level::Warning, Check::LocalAddress, format!("{what} {} registered by {}: only {reach} can reach such an address, so members on other machines cannot; fine only if every member runs there", plural(here.len(), "address", "addresses"), here.join(", "))));
            }
        }
    }
    let https = peers.iter().filter(|(_, p)| p.https).count();
    if https > 0 && https < peers.len() {
        out.push(Finding::new(Level::Warning, Check::MixedSchemes, format!("{https} of {} peer URLs use https and the rest http: peers must all use TLS or none, or they cannot talk", peers.len())));
    }
    let private = peers
        .iter()
        .filter(|(_, p)| p.scope == Scope::Private)
        .count();
    let public = peers
        .iter()
        .filter(|(_, p)| p.scope == Scope::Public)
        .count();
    if private > 0 && public > 0 {
        out.push(Finding::new(Level::Warning, Check::MixedScopes, format!("peer URLs mix private addresses ({private}) and public ones ({public}): members on another network cannot reach the private ones (check the config's address choice)")));
    }
    let ports: Vec<String> = peers
        .iter()
        .filter(|(_, p)| p.port != PEER_PORT)
        .map(|(m, p)| format!("{} ({})", m.id, p.port))
        .collect();
    if !ports.is_empty() {
        out.push(Finding::new(Level::Info, Check::Port, format!("peer {} other than etcd's usual {PEER_PORT}, registered by {}: make sure firewalls allow {}", plural(ports.len(), "port", "ports"), ports.join(", "), plural(ports.len(), "it", "them"))));
    }
    out
}

fn plural(n: usize, one: &'static str, more: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        more
    }
}

fn row(n: &Value, discovery_url: Option<&str>, now_ms: u64) -> MemberRow {
    let key = n["key"].as_str().unwrap_or("").to_string();
    let id = key.rsplit('/').next().unwrap_or("").to_string();
    let value = n["value"].as_str().unwrap_or("");
    let mut problems = Vec::new();
    let mut names = Vec::new();
    let mut peer_urls = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        // etcd 2+ writes name=url; etcd 0.4 wrote the bare URL.
        let (name, url) = match part.split_once('=') {
            Some((name, url)) => (Some(name), url),
            None => (None, part),
        };
        if let Some(name) = name {
            if !names.iter().any(|x| x == name) {
                names.push(name.to_string());
            }
        }
        if let Err(why) = PeerUrl::parse(url) {
            problems.push(Finding::new(Level::Error, Check::BadPeerUrl, why));
        }
        peer_urls.push(url.to_string());
    }
    if peer_urls.is_empty() {
        problems.push(Finding::new(
            Level::Error,
            Check::BadPeerUrl,
            "registered no peer URL (empty value)",
        ));
    }
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let expires_in_ms = n["expiration"]
        .as_str()
        .and_then(parse_rfc3339)
        .map(|t| t.saturating_sub(now))
        .or_else(|| n["ttl"].as_i64().map(|s| s.saturating_mul(1000)));
    if let Some(left) = expires_in_ms.filter(|l| *l < 0) {
        problems.push(Finding::new(
            Level::Warning,
            Check::Expired,
            format!("the entry expired {}", human_until(left)),
        ));
    }
    if let Some(url) = discovery_url {
        if !peer_urls.is_empty() {
            let refs: Vec<&str> = peer_urls.iter().map(String::as_str).collect();
            let expected = member_id(&refs, url);
            if expected != id {
                problems.push(Finding::new(Level::Warning, Check::KeyMismatch, format!("its key does not match its peer URLs under this discovery URL (etcd would register {expected}): written by hand, or with another URL")));
            }
        }
    }
    MemberRow {
        key,
        id,
        names,
        peer_urls,
        created_index: n["createdIndex"].as_u64().unwrap_or(0),
        modified_index: n["modifiedIndex"].as_u64().unwrap_or(0),
        expires_in_ms,
        role: Role::Unknown,
        problems,
    }
}

#[cfg(test)]
mod tests;
