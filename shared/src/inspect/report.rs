//! The diagnosis of one registry listing: members in `createdIndex` order, who votes, how far
//! the bootstrap is, and what is wrong, in plain words.

use serde_json::Value;

use crate::member_id::member_id;
use crate::time::parse_rfc3339;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub message: String,
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
    /// Seconds until the entry expires (negative: expired), if it has a TTL.
    pub expires_in: Option<i64>,
    pub role: Role,
    pub problems: Vec<String>,
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
    let mut findings = Vec::new();
    if let Some(code) = listing.get("errorCode").and_then(Value::as_u64) {
        let msg = listing.get("message").and_then(Value::as_str).unwrap_or("");
        let text = if code == 100 {
            "this token does not exist (or has expired): etcd members stop at once on it; mint a new one".to_string()
        } else {
            format!("the service answered etcd error {code}: {msg}")
        };
        findings.push(Finding {
            level: Level::Error,
            message: text,
        });
        return Report {
            token: None,
            size,
            members: Vec::new(),
            joined: 0,
            complete: false,
            findings,
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
    let size_n = match &size {
        SizeInfo::Known(s) => Some(*s as usize),
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

    match &size {
        SizeInfo::Missing => findings.push(Finding { level: Level::Error, message: "the size is missing (no _config/size): etcd members stop with \"size key not found\"; mint a token with /new?size=N".into() }),
        SizeInfo::Bad(v) => findings.push(Finding { level: Level::Error, message: format!("the size {v:?} is not a whole number: etcd members stop with \"bad size key\"") }),
        SizeInfo::Unknown => findings.push(Finding { level: Level::Info, message: "the size is not part of a listing: give it (or inspect the token itself) to see who votes".into() }),
        SizeInfo::Known(0) => findings.push(Finding { level: Level::Error, message: "the size is 0: no cluster can form on this token".into() }),
        SizeInfo::Known(s) => {
            let s = *s as usize;
            if n >= s {
                findings.push(Finding { level: Level::Good, message: format!("complete: {s} of {s} members have registered; the first {s} by createdIndex form the cluster") });
                findings.push(Finding { level: Level::Warning, message: "this token is used: a new cluster needs a fresh token; on this one only these members can start (a wiped member is refused with \"duplicate id\")".into() });
            } else if n > 0 {
                findings.push(Finding { level: Level::Info, message: format!("waiting: {n} of {s} members have registered; {} more to come", s - n) });
            } else {
                findings.push(Finding { level: Level::Info, message: format!("fresh: no member has registered yet; the first {s} to register will form the cluster") });
            }
            if n > s {
                findings.push(Finding { level: Level::Info, message: format!("{} member(s) registered after the cluster was full: etcd 3.4 and 3.5 run them as proxies, 3.6 exits", n - s) });
            }
        }
    }

    let mut seen_names: Vec<&str> = Vec::new();
    let mut dup_names = Vec::new();
    let mut seen_urls: Vec<&str> = Vec::new();
    let mut dup_urls = Vec::new();
    for m in &members {
        for name in &m.names {
            if seen_names.contains(&name.as_str()) && !dup_names.contains(name) {
                dup_names.push(name.clone());
            }
            seen_names.push(name);
        }
        for u in &m.peer_urls {
            if seen_urls.contains(&u.as_str()) && !dup_urls.contains(u) {
                dup_urls.push(u.clone());
            }
            seen_urls.push(u);
        }
    }
    for name in dup_names {
        findings.push(Finding { level: Level::Error, message: format!("the name {name:?} is used by more than one member: etcd refuses duplicate names (machines cloned from one image share a machine id)") });
    }
    for u in dup_urls {
        findings.push(Finding {
            level: Level::Error,
            message: format!("the peer URL {u} is registered by more than one member"),
        });
    }
    for m in &members {
        for p in &m.problems {
            let level = if p.contains("expired") || p.contains("does not match") {
                Level::Warning
            } else {
                Level::Error
            };
            findings.push(Finding {
                level,
                message: format!("member {}: {p}", m.id),
            });
        }
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
        if let Err(why) = check_peer_url(url) {
            problems.push(why);
        }
        peer_urls.push(url.to_string());
    }
    if peer_urls.is_empty() {
        problems.push("registered no peer URL (empty value)".into());
    }
    let expires_in = n["expiration"]
        .as_str()
        .and_then(parse_rfc3339)
        .map(|t| (t - now_ms as i64).div_euclid(1000))
        .or_else(|| n["ttl"].as_i64());
    if let Some(left) = expires_in {
        if left < 0 {
            problems.push(format!("the entry expired {} s ago", -left));
        }
    }
    if let Some(url) = discovery_url {
        if !peer_urls.is_empty() {
            let refs: Vec<&str> = peer_urls.iter().map(String::as_str).collect();
            let expected = member_id(&refs, url);
            if expected != id {
                problems.push(format!("its key does not match its peer URLs under this discovery URL (etcd would register {expected}): written by hand, or with another URL"));
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
        expires_in,
        role: Role::Unknown,
        problems,
    }
}

/// A peer URL etcd can use: `http(s)://host:port` and nothing more.
fn check_peer_url(url: &str) -> Result<(), String> {
    let bad = || format!("peer URL {url:?} is not http(s)://host:port");
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(bad)?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && (host.starts_with('[') && host.ends_with(']')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
    if !host_ok || port.parse::<u16>().is_err() {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
