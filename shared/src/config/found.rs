//! What a pasted config says about etcd: the flags of its etcd unit (`etcd-member.service` or
//! `etcd.service`, with their dropins), read from the Ignition it translates to, and the
//! builder's warnings for them: discovery together with a static cluster, v2 discovery with
//! an etcd that removed it, an address variable no platform writes, missing peer URLs.

use butane::ignition::types::Config;

use super::{etcd_release, FLATCAR_ETCD, PLATFORMS};
use crate::config::platform::{CUSTOM_PRIVATE_VAR, CUSTOM_PUBLIC_VAR};

/// The etcd settings found in one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EtcdFound {
    /// The unit they are in.
    pub unit: String,
    /// `--discovery` / `ETCD_DISCOVERY`: a v2 discovery URL.
    pub discovery: Option<String>,
    /// `--discovery-token` / `ETCD_DISCOVERY_TOKEN`: v3 discovery.
    pub discovery_token: Option<String>,
    pub discovery_endpoints: Option<String>,
    pub initial_cluster: Option<String>,
    pub initial_advertise_peer_urls: Option<String>,
    pub listen_peer_urls: Option<String>,
    pub image_tag: Option<String>,
    /// `--name` / `ETCD_NAME`: the member's name (the unit's default is the machine id).
    pub name: Option<String>,
    pub initial_cluster_token: Option<String>,
    /// `${VAR}` names its flags use for addresses.
    pub address_vars: Vec<String>,
}

const UNITS: [&str; 2] = ["etcd-member.service", "etcd.service"];

/// The etcd settings of the config's etcd unit, if it has one that sets any.
pub fn find_etcd(config: &Config) -> Option<EtcdFound> {
    for unit in &config.systemd.units {
        if !UNITS.contains(&unit.name.as_str()) {
            continue;
        }
        let mut found = EtcdFound {
            unit: unit.name.clone(),
            ..EtcdFound::default()
        };
        let texts = unit
            .contents
            .iter()
            .chain(unit.dropins.iter().filter_map(|d| d.contents.as_ref()));
        for text in texts {
            read_unit_text(text, &mut found);
        }
        if found
            != (EtcdFound {
                unit: unit.name.clone(),
                ..EtcdFound::default()
            })
        {
            return Some(found);
        }
    }
    None
}

/// Reads `Environment=` settings and `--flag=value` arguments from a unit text.
fn read_unit_text(text: &str, found: &mut EtcdFound) {
    for (name, value) in settings(text) {
        set(found, &name, &value);
    }
    let joined = text.replace("\\\n", " ");
    for var in vars(&joined) {
        if !found.address_vars.contains(&var) && var.contains("IP") {
            found.address_vars.push(var);
        }
    }
}

/// The etcd settings a unit text makes, each named as its flag is with an `etcd-` prefix
/// (`ETCD_DISCOVERY` and `--discovery` are both `etcd-discovery`): `Environment=` assignments
/// and `ExecStart=`'s `--flag=value` arguments, a line ending in `\\` continuing on the next.
pub fn settings(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        let line = line.trim();
        if let Some(env) = line.strip_prefix("Environment=") {
            for assignment in words(env) {
                if let Some((name, value)) = assignment.split_once('=') {
                    out.push((
                        name.to_ascii_lowercase().replace('_', "-"),
                        value.to_string(),
                    ));
                }
            }
        } else if line.starts_with("ExecStart=") {
            for word in words(line) {
                if let Some((name, value)) = word.strip_prefix("--").and_then(|f| f.split_once('='))
                {
                    out.push((format!("etcd-{name}"), value.to_string()));
                }
            }
        }
    }
    out
}

fn set(found: &mut EtcdFound, name: &str, value: &str) {
    let value = Some(value.to_string());
    match name {
        "etcd-discovery" => found.discovery = value,
        "etcd-discovery-token" => found.discovery_token = value,
        "etcd-discovery-endpoints" => found.discovery_endpoints = value,
        "etcd-initial-cluster" => found.initial_cluster = value,
        "etcd-initial-advertise-peer-urls" => found.initial_advertise_peer_urls = value,
        "etcd-listen-peer-urls" => found.listen_peer_urls = value,
        "etcd-image-tag" => found.image_tag = value,
        "etcd-name" => found.name = value,
        "etcd-initial-cluster-token" => found.initial_cluster_token = value,
        _ => {}
    }
}

/// Words as systemd splits them: blanks separate, double quotes group (and are dropped).
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(word);
    }
    out
}

/// The `${NAME}` variables a text uses.
fn vars(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

/// The builder's warnings for what was found.
pub fn warnings(found: &EtcdFound) -> Vec<String> {
    let mut out = Vec::new();
    let discovers = found.discovery.is_some() || found.discovery_token.is_some();
    if discovers && found.initial_cluster.is_some() {
        out.push("etcd refuses --discovery together with --initial-cluster: drop one (discovery finds the members itself)".to_string());
    }
    let release = match &found.image_tag {
        Some(tag) => etcd_release(tag),
        None => Some(FLATCAR_ETCD),
    };
    if found.discovery.is_some() {
        match release {
            Some(r) if r >= (3, 7) => out.push(format!("etcd {}.{} removed v2 discovery (--discovery): members of this image will not start; use v3 discovery (--discovery-token)", r.0, r.1)),
            Some(r) if r >= (3, 6) => out.push("etcd 3.6 deprecates v2 discovery (--discovery) and 3.7 removed it: v3 discovery is the way on".to_string()),
            _ => {}
        }
    }
    if found.discovery_token.is_some() {
        if let Some(r) = release.filter(|r| *r < (3, 6)) {
            out.push(format!("etcd {}.{} has no v3 discovery (--discovery-token): set ETCD_IMAGE_TAG to v3.6.0 or later{}", r.0, r.1, if found.image_tag.is_none() { " (Flatcar's own etcd is 3.5)" } else { "" }));
        }
        if found.discovery_endpoints.is_none() {
            out.push(
                "--discovery-token without --discovery-endpoints: etcd has nowhere to ask"
                    .to_string(),
            );
        }
    }
    for var in &found.address_vars {
        let known = PLATFORMS
            .iter()
            .find(|p| p.private_var == Some(var) || p.public_var == Some(var));
        let custom = var == CUSTOM_PRIVATE_VAR || var == CUSTOM_PUBLIC_VAR;
        match known {
            Some(p) if p.public_var == Some(var.as_str()) => {
                if let Some(note) = p.note {
                    out.push(format!("${{{var}}} is {}'s public address: {note}", p.label));
                }
            }
            Some(_) => {}
            None if custom => {}
            None if var.contains("PUBLIC") || var.contains("EXTERNAL") => out.push(format!(
                "no platform's metadata service writes ${{{var}}}: a public address on a platform without one leaves etcd's URLs empty"
            )),
            None => out.push(format!("no platform's metadata service writes ${{{var}}}: etcd's URLs would be empty")),
        }
    }
    if discovers || found.initial_cluster.is_some() {
        if found.initial_advertise_peer_urls.is_none() {
            out.push("no --initial-advertise-peer-urls: etcd advertises http://localhost:2380, which no other member can reach".to_string());
        }
        if found.listen_peer_urls.is_none() {
            out.push("no --listen-peer-urls: etcd listens for peers on localhost only".to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignition(butane: &str) -> Config {
        let outcome = ::butane::translate(butane, &::butane::Options::default());
        let json = outcome.ignition.expect("translates");
        ::butane::ignition::inline::read_config(
            json.as_bytes(),
            ::butane::ignition::types::Spec::V3_4,
        )
        .unwrap()
        .0
    }

    #[test]
    fn the_builders_own_config_is_found_and_clean() {
        let (g, _) = crate::config::generate("discovery=https%3A%2F%2Fdiscovery.example.com%2F0123456789abcdef0123456789abcdef&platform=ec2&butane=1.1.0");
        let config = ::butane::ignition::inline::read_config(
            g.unwrap().ignition_json.as_bytes(),
            ::butane::ignition::types::Spec::V3_4,
        )
        .unwrap()
        .0;
        let found = find_etcd(&config).expect("the etcd unit");
        assert_eq!(
            found.discovery.as_deref(),
            Some("https://discovery.example.com/0123456789abcdef0123456789abcdef")
        );
        assert_eq!(found.address_vars, ["COREOS_EC2_IPV4_LOCAL"]);
        assert!(warnings(&found).is_empty(), "{:?}", warnings(&found));
    }

    #[test]
    fn mistakes_in_a_hand_written_unit_are_named() {
        let config = ignition(concat!(
            "variant: flatcar\nversion: 1.1.0\nsystemd:\n  units:\n    - name: etcd-member.service\n      enabled: true\n      dropins:\n        - name: 20-etcd.conf\n          contents: |\n",
            "            [Service]\n            Environment=\"ETCD_IMAGE_TAG=v3.7.0\" \"ETCD_INITIAL_CLUSTER=a=http://10.0.0.1:2380\"\n",
            "            ExecStart=\n            ExecStart=/usr/lib/flatcar/etcd-wrapper $ETCD_OPTS \\\n              --discovery=\"https://d.example/t\" \\\n              --advertise-client-urls=http://${COREOS_HETZNER_IPV4_PUBLIC}:2379\n",
        ));
        let found = find_etcd(&config).unwrap();
        assert_eq!(found.discovery.as_deref(), Some("https://d.example/t"));
        let w = warnings(&found).join("\n");
        assert!(
            w.contains("refuses --discovery together with --initial-cluster"),
            "{w}"
        );
        assert!(w.contains("etcd 3.7 removed v2 discovery"), "{w}");
        assert!(w.contains("${COREOS_HETZNER_IPV4_PUBLIC}"), "{w}");
        assert!(w.contains("no --initial-advertise-peer-urls"), "{w}");
    }
}
