//! The query string that carries a config: the page keeps it in its URL, and `/butane?...` and
//! `/ignition?...` take the same. Reading it checks every value that ends up inside a unit file.

use super::query::{lines, Mode, Query};
use super::{
    etcd_release, Bootstrap, ClusterConfig, Problem, Protocol, StaticMember, FLATCAR_ETCD,
};

/// Reads a config; every mistake is a `Problem` naming its parameter. With errors the config is
/// still returned (with the bad parts left at defaults), so a form can show what it has.
pub fn parse(query: &str) -> (ClusterConfig, Vec<Problem>) {
    let (q, problems) = Query::read(query);
    check(&q, problems)
}

/// Checks a form's text fields and builds the config it stands for; `problems` are the form's
/// own (choices it could not read) and grow with what is found here.
pub fn check(q: &Query, mut problems: Vec<Problem>) -> (ClusterConfig, Vec<Problem>) {
    let etcd_image_tag = q.etcd_tag.trim().to_string();
    if !etcd_image_tag.is_empty() && !is_image_tag(&etcd_image_tag) {
        problems.push(Problem::error(
            "etcd_tag",
            format!(
            "{etcd_image_tag:?} is not an image tag: letters, digits, '_', '.' and '-', at most 128"
        ),
        ));
    }
    let ssh_keys: Vec<String> = lines(&q.ssh_keys).map(str::to_string).collect();
    for key in &ssh_keys {
        if let Err(why) = check_ssh_key(key) {
            problems.push(Problem::error("ssh_key", why));
        }
    }
    if ssh_keys.is_empty() {
        problems.push(Problem::warning(
            "ssh_key",
            "no SSH key: nobody will be able to log in as core",
        ));
    }

    let members: Vec<String> = lines(&q.members).map(str::to_string).collect();
    let given = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
    let bootstrap = match q.mode {
        Mode::Static => {
            if given(&q.discovery).is_some() {
                problems.push(Problem::warning("discovery", "static bootstrapping ignores the discovery URL: etcd refuses --discovery together with --initial-cluster"));
            }
            let (this, token) = (given(&q.this), given(&q.cluster_token));
            static_bootstrap(&members, this.as_deref(), token.as_deref(), &mut problems)
        }
        Mode::Discovery | Mode::V3Discovery => {
            if !members.is_empty() {
                problems.push(Problem::warning("member", "discovery ignores the static member list: etcd refuses --discovery together with --initial-cluster"));
            }
            let url = q.discovery.trim().to_string();
            if url.is_empty() {
                problems.push(Problem::error(
                    "discovery",
                    "give a discovery URL, or mint one",
                ));
            } else if let Err(why) = check_discovery_url(&url) {
                problems.push(Problem::error("discovery", why));
            }
            let size = match given(&q.size) {
                None => None,
                Some(s) => match s.parse::<u64>() {
                    Ok(n) if n > 0 => Some(n),
                    _ => {
                        problems.push(Problem::error(
                            "size",
                            format!("size {s:?} is not a positive whole number"),
                        ));
                        None
                    }
                },
            };
            let protocol = match q.mode {
                Mode::V3Discovery => Protocol::V3 {
                    endpoints: endpoints(&q.endpoints, &mut problems),
                },
                _ => Protocol::V2,
            };
            Bootstrap::Discovery {
                url,
                size,
                protocol,
            }
        }
    };

    let config = ClusterConfig {
        bootstrap,
        platform: q.platform,
        public_address: q.public_address,
        legacy_ports: q.legacy_ports,
        etcd_image_tag,
        ssh_keys,
        butane: q.butane,
    };
    problems.extend(advice(&config));
    (config, problems)
}

/// v3 discovery's gRPC endpoints: `host:port`, separated by commas or spaces; they go inside
/// a quoted flag in a unit file, so nothing else is let through.
fn endpoints(text: &str, problems: &mut Vec<Problem>) -> Vec<String> {
    let list: Vec<String> = text
        .split([',', ' ', '\n', '\t'])
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect();
    if list.is_empty() {
        problems.push(Problem::error(
            "discovery_endpoints",
            "give the discovery service's gRPC endpoint(s) as host:port (the native server's --grpc-listen address)",
        ));
    }
    for e in &list {
        let ok = e
            .rsplit_once(':')
            .is_some_and(|(host, port)| is_host(host) && port.parse::<u16>().is_ok_and(|p| p > 0));
        if !ok {
            problems.push(Problem::error(
                "discovery_endpoints",
                format!("{e:?} is not host:port"),
            ));
        }
    }
    list
}

/// Warnings about choices etcd or Flatcar would punish.
fn advice(c: &ClusterConfig) -> Vec<Problem> {
    let mut out = Vec::new();
    let release = if c.etcd_image_tag.is_empty() {
        Some(FLATCAR_ETCD)
    } else {
        etcd_release(&c.etcd_image_tag)
    };
    if let Bootstrap::Discovery { protocol, .. } = &c.bootstrap {
        match (protocol, release) {
            (Protocol::V2, Some(r)) if r >= (3, 7) => out.push(Problem::warning(
                "bootstrap",
                "etcd 3.7 removed v2 discovery (--discovery): members of this tag will not start; use v3 discovery",
            )),
            (Protocol::V2, Some(r)) if r >= (3, 6) => out.push(Problem::warning(
                "bootstrap",
                "etcd 3.6 deprecates v2 discovery (--discovery) and 3.7 removed it: v3 discovery is the way on",
            )),
            (Protocol::V3 { .. }, Some(r)) if r < (3, 6) => out.push(Problem::warning(
                "bootstrap",
                format!("etcd {}.{} has no v3 discovery (--discovery-token): set the etcd image tag to v3.6.0 or later{}", r.0, r.1, if c.etcd_image_tag.is_empty() { " (Flatcar's own etcd is 3.5)" } else { "" }),
            )),
            _ => {}
        }
    }
    let size = match &c.bootstrap {
        Bootstrap::Discovery { size, .. } => *size,
        Bootstrap::Static { members, .. } => Some(members.len() as u64),
    };
    match size {
        Some(1) => out.push(Problem::warning("size", "a 1-member cluster has no fault tolerance: 3 or 5 are usual")),
        Some(n) if n >= 2 && n % 2 == 0 => out.push(Problem::warning("size", format!(
            "an even size ({n}) tolerates no more failures than {} members do, and makes a split vote more likely: use an odd size", n - 1
        ))),
        _ => {}
    }
    if c.public_address && c.platform.needs_address_unit() {
        out.push(Problem::warning(
            "address",
            format!(
            "{} has no separate public address: the address unit writes the same address for both",
            c.platform.label
        ),
        ));
    } else if c.public_address && c.platform.public_var.is_none() {
        out.push(Problem::warning(
            "address",
            format!(
                "{} has no public address variable: the private address is used",
                c.platform.label
            ),
        ));
    }
    if let Some(note) = c.platform.note {
        out.push(Problem::warning("platform", note));
    }
    if c.platform.needs_address_unit() {
        out.push(Problem::warning("platform", format!(
            "{} has no metadata service that gives etcd an address: this config adds etcd-address.service, which writes the source address of the machine's default route to /run/metadata/etcd-address",
            c.platform.label
        )));
    }
    out
}

fn static_bootstrap(
    raw: &[String],
    this: Option<&str>,
    token: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Bootstrap {
    let mut members = Vec::new();
    for m in raw {
        let Some((name, address)) = m.split_once('=') else {
            problems.push(Problem::error(
                "member",
                format!("{m:?} is not name=address"),
            ));
            continue;
        };
        let (name, address) = (name.trim(), address.trim());
        if !is_name(name) {
            problems.push(Problem::error(
                "member",
                format!("member name {name:?}: use letters, digits, '.', '_' and '-'"),
            ));
        }
        if !is_host(address) {
            problems.push(Problem::error(
                "member",
                format!("{address:?} is not an IPv4 address or host name"),
            ));
        }
        if members.iter().any(|x: &StaticMember| x.name == name) {
            problems.push(Problem::error(
                "member",
                format!("member name {name:?} is used twice"),
            ));
        }
        if members.iter().any(|x: &StaticMember| x.address == address) {
            problems.push(Problem::error(
                "member",
                format!("address {address} is used twice"),
            ));
        }
        members.push(StaticMember {
            name: name.to_string(),
            address: address.to_string(),
        });
    }
    if members.is_empty() {
        problems.push(Problem::error(
            "member",
            "static bootstrapping needs the members: name=address for each",
        ));
    }
    let this = match this {
        None => 0,
        Some(name) => members
            .iter()
            .position(|m| m.name == name)
            .unwrap_or_else(|| {
                problems.push(Problem::error(
                    "this",
                    format!("{name:?} is not one of the members"),
                ));
                0
            }),
    };
    let cluster_token = token.unwrap_or("").to_string();
    if cluster_token.is_empty() {
        problems.push(Problem::error(
            "cluster_token",
            "static bootstrapping needs a cluster token unique to this cluster",
        ));
    } else if !is_name(&cluster_token) || cluster_token.len() > 64 {
        problems.push(Problem::error(
            "cluster_token",
            "the cluster token: 1 to 64 letters, digits, '.', '_' and '-'",
        ));
    }
    Bootstrap::Static {
        members,
        cluster_token,
        this,
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_image_tag(s: &str) -> bool {
    s.len() <= 128
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// An IPv4 address or a DNS name: what may follow `http://` in a peer URL unbracketed.
fn is_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A discovery URL goes inside `--discovery="..."` in a unit file: it must be a plain
/// `http(s)://host[:port]/path` with nothing that could end the quoted value or the line.
pub fn check_discovery_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?} is not an http:// or https:// URL"))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
        if port.parse::<u16>().is_ok() {
            h
        } else {
            authority
        }
    });
    if !is_host(host) {
        return Err(format!("{url:?} does not name a host"));
    }
    if path.len() <= 1 {
        return Err(format!(
            "{url:?} has no token: a discovery URL ends in /<token>"
        ));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || "-._~/%".contains(c);
    if let Some(bad) = path.chars().find(|&c| !ok(c)) {
        return Err(format!(
            "{url:?} has {bad:?} in its path, which cannot go into a unit file safely"
        ));
    }
    Ok(())
}

/// One `authorized_keys` line: type, base64 key, optional comment, no line breaks or quotes.
pub fn check_ssh_key(key: &str) -> Result<(), String> {
    let shown: String = key.chars().take(40).collect();
    if key.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
        return Err(format!(
            "SSH key {shown:?}... has a line break, quote or control character"
        ));
    }
    let mut parts = key.split_whitespace();
    let kind = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or("");
    let known =
        kind.starts_with("ssh-") || kind.starts_with("ecdsa-sha2-") || kind.starts_with("sk-");
    let b64 = !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c));
    if !known || !b64 {
        return Err(format!(
            "{shown:?} is not an SSH public key (like \"ssh-ed25519 AAAA... you@host\")"
        ));
    }
    Ok(())
}

/// The query string for a config: what a link to it holds.
pub fn to_query(c: &ClusterConfig) -> String {
    Query::from(c).to_query()
}

/// A fresh `--initial-cluster-token` from random bytes the page drew. Bytes all zero are what
/// a failed draw leaves behind (no `crypto` in the browser): refused, since every cluster
/// would then share one token.
pub fn cluster_token(random: &[u8]) -> Result<String, String> {
    if random.len() < 4 || random.iter().all(|b| *b == 0) {
        return Err(
            "this browser gave no random numbers (window.crypto): type a cluster token yourself"
                .into(),
        );
    }
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("etcd-{hex}"))
}

#[cfg(test)]
mod tests;
