use super::*;
use crate::config::{ButaneVersion, Severity};
use crate::form::encode;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm7mRZ2s0Y8l5w3Qf4QvZ1mX2k9yq8e1O3Jc7dFhQ1b me@laptop";
const URL: &str = "https://discovery.example.com/6a28e078895c5ec737174db2419bb2f3";

fn errors(problems: &[Problem]) -> Vec<&'static str> {
    problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.field)
        .collect()
}

fn warned(problems: &[Problem], field: &str, words: &str) -> bool {
    problems
        .iter()
        .any(|p| p.severity == Severity::Warning && p.field == field && p.message.contains(words))
}

#[test]
fn defaults_are_discovery_on_metal_private_butane_1_0_0() {
    let (c, problems) = parse(&format!(
        "discovery={URL}&ssh_key={}",
        crate::form::encode(KEY)
    ));
    assert!(errors(&problems).is_empty(), "{problems:?}");
    assert_eq!(c.platform.id, "metal");
    assert!(!c.public_address && !c.legacy_ports);
    assert_eq!(c.butane, ButaneVersion::V1_0_0);
    assert_eq!(
        c.bootstrap,
        Bootstrap::Discovery {
            url: URL.into(),
            size: None,
            protocol: Protocol::V2,
        }
    );
    assert_eq!(c.ssh_keys, [KEY]);
}

#[test]
fn v3_discovery_is_picked_for_etcd_3_6_and_writes_the_token_and_endpoints() {
    let url = encode(URL);
    // No bootstrap given: the etcd release decides.
    let (c, p) = parse(&format!("discovery={url}&etcd_tag=v3.6.4&discovery_endpoints=d.example:2379,10.0.0.5:2379&ssh_key={}", encode(KEY)));
    assert!(errors(&p).is_empty(), "{p:?}");
    assert_eq!(
        c.bootstrap,
        Bootstrap::Discovery {
            url: URL.into(),
            size: None,
            protocol: Protocol::V3 {
                endpoints: vec!["d.example:2379".into(), "10.0.0.5:2379".into()]
            },
        }
    );
    let dropin = crate::config::dropin::etcd_member_dropin(&c);
    let token = URL.rsplit('/').next().unwrap();
    assert!(
        dropin.contains(&format!("--discovery-token=\"{token}\"")),
        "{dropin}"
    );
    assert!(
        dropin.contains("--discovery-endpoints=\"d.example:2379,10.0.0.5:2379\""),
        "{dropin}"
    );
    assert!(!dropin.contains("--discovery="), "{dropin}");
    // The form round-trips.
    assert_eq!(parse(&to_query(&c)).0, c);
    // Older releases keep v2; an explicit choice wins.
    assert_eq!(
        parse(&format!("discovery={url}&etcd_tag=v3.5.16"))
            .0
            .bootstrap,
        parse(&format!("discovery={url}")).0.bootstrap
    );
    let (_, p) = parse(&format!(
        "bootstrap=discovery&discovery={url}&etcd_tag=v3.7.0"
    ));
    assert!(
        p.iter()
            .any(|x| x.field == "bootstrap" && x.message.contains("3.7 removed v2 discovery")),
        "{p:?}"
    );
    let (_, p) = parse(&format!(
        "bootstrap=v3&discovery={url}&discovery_endpoints=h:2379"
    ));
    assert!(
        p.iter()
            .any(|x| x.message.contains("Flatcar's own etcd is 3.5")),
        "{p:?}"
    );
    // Endpoints are required, and only host:port.
    let (_, p) = parse(&format!("bootstrap=v3&discovery={url}&etcd_tag=v3.6.0"));
    assert!(errors(&p).contains(&"discovery_endpoints"), "{p:?}");
    let (_, p) = parse(&format!("bootstrap=v3&discovery={url}&etcd_tag=v3.6.0&discovery_endpoints=h%22%0AExecStartPre%3D%2Fbin%2Fsh%3A1"));
    assert!(errors(&p).contains(&"discovery_endpoints"), "{p:?}");
}

#[test]
fn query_round_trips() {
    let q = format!(
        "bootstrap=discovery&discovery={URL}&size=5&platform=gce&address=public&legacy_ports=true&etcd_tag=v3.5.16&ssh_key={}&ssh_key={}&butane=1.1.0",
        crate::form::encode(KEY),
        crate::form::encode("ssh-rsa AAAAB3NzaC1yc2E= other")
    );
    let (c, p) = parse(&q);
    assert!(errors(&p).is_empty(), "{p:?}");
    let (again, _) = parse(&to_query(&c));
    assert_eq!(again, c);
    let s = "bootstrap=static&member=a%3D10.0.0.1&member=b%3D10.0.0.2&member=c%3Detcd-3.lan&this=b&cluster_token=prod-1&platform=qemu";
    let (c, p) = parse(s);
    assert!(errors(&p).is_empty(), "{p:?}");
    assert!(
        matches!(&c.bootstrap, Bootstrap::Static { this: 1, members, .. } if members.len() == 3)
    );
    assert_eq!(parse(&to_query(&c)).0, c);
}

#[test]
fn bad_values_are_errors_that_name_their_field() {
    for (q, field) in [
        ("discovery=ftp://x/y", "discovery"),
        ("discovery=https://x.example/", "discovery"),
        (
            "discovery=https://x.example/abc%22%0AExecStartPre%3D/bin/evil",
            "discovery",
        ),
        ("discovery=https://x example/abc", "discovery"),
        ("bootstrap=discovery", "discovery"),
        ("discovery=https://h/t&platform=mars", "platform"),
        ("discovery=https://h/t&address=both", "address"),
        ("discovery=https://h/t&legacy_ports=maybe", "legacy_ports"),
        ("discovery=https://h/t&butane=2.0.0", "butane"),
        ("discovery=https://h/t&etcd_tag=v3.5%20evil", "etcd_tag"),
        ("discovery=https://h/t&ssh_key=hello", "ssh_key"),
        (
            "discovery=https://h/t&ssh_key=ssh-ed25519%20AAAA%0Assh-rsa%20BBB",
            "ssh_key",
        ),
        ("discovery=https://h/t&size=0", "size"),
        ("bootstrap=static&cluster_token=t", "member"),
        ("bootstrap=static&member=a&cluster_token=t", "member"),
        (
            "bootstrap=static&member=a%3D10.0.0.1&member=a%3D10.0.0.2&cluster_token=t",
            "member",
        ),
        (
            "bootstrap=static&member=a%3D10.0.0.1&member=b%3D10.0.0.1&cluster_token=t",
            "member",
        ),
        (
            "bootstrap=static&member=a%3Dhttp://x&cluster_token=t",
            "member",
        ),
        ("bootstrap=static&member=a%3D10.0.0.1", "cluster_token"),
        (
            "bootstrap=static&member=a%3D10.0.0.1&cluster_token=t&this=z",
            "this",
        ),
        ("bootstrap=maybe", "bootstrap"),
        ("a=%zz", "query"),
    ] {
        let (_, p) = parse(q);
        assert!(errors(&p).contains(&field), "{q}: {p:?}");
    }
}

#[test]
fn warns_about_what_etcd_or_flatcar_would_punish() {
    let (_, p) = parse("discovery=https://h/t&size=4");
    assert!(warned(&p, "size", "even size (4)"), "{p:?}");
    let (_, p) = parse("discovery=https://h/t&size=1");
    assert!(warned(&p, "size", "no fault tolerance"));
    let (_, p) = parse("discovery=https://h/t&size=3");
    assert!(!p.iter().any(|x| x.field == "size"));
    let (_, p) = parse("bootstrap=static&member=a%3D10.0.0.1&member=b%3D10.0.0.2&cluster_token=t");
    assert!(warned(&p, "size", "even size (2)"));
    let (_, p) =
        parse("bootstrap=static&discovery=https://h/t&member=a%3D10.0.0.1&cluster_token=t");
    assert!(warned(
        &p,
        "discovery",
        "refuses --discovery together with --initial-cluster"
    ));
    let (_, p) = parse("discovery=https://h/t&member=a%3D10.0.0.1");
    assert!(warned(
        &p,
        "member",
        "refuses --discovery together with --initial-cluster"
    ));
    let (_, p) = parse("discovery=https://h/t&platform=proxmoxve&address=public");
    assert!(warned(&p, "address", "no public address"));
    let (_, p) = parse("discovery=https://h/t&platform=metal&address=public");
    assert!(warned(&p, "address", "same address for both"));
    let (_, p) = parse("discovery=https://h/t&platform=ec2");
    assert!(warned(&p, "platform", "public IPv4 only if"));
    assert!(warned(&p, "ssh_key", "nobody will be able to log in"));
    let (_, p) = parse("discovery=https://h/t&platform=vmware");
    assert!(warned(&p, "platform", "etcd-address.service"));
}

#[test]
fn discovery_urls_and_keys_are_checked_for_unit_file_safety() {
    assert!(
        check_discovery_url("https://discovery.etcd.io/6a28e078895c5ec737174db2419bb2f3").is_ok()
    );
    assert!(check_discovery_url("http://127.0.0.1:8787/abc").is_ok());
    assert!(check_discovery_url("http://10.0.0.1:2379/v2/keys/discovery/abc").is_ok());
    for bad in [
        "http://h/a\"b",
        "http://h/a b",
        "http://h/a\\b",
        "http://h/a$b",
        "http://:80/a",
        "http://h:99999x/a",
    ] {
        assert!(check_discovery_url(bad).is_err(), "{bad}");
    }
    assert!(check_ssh_key(KEY).is_ok());
    assert!(check_ssh_key("ecdsa-sha2-nistp256 AAAAE2VjZHNh").is_ok());
    assert!(check_ssh_key("ssh-ed25519 AAAA\"; rm -rf /").is_err());
}

#[test]
fn cluster_tokens_come_from_real_randomness_or_not_at_all() {
    assert_eq!(
        cluster_token(&[0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]).as_deref(),
        Ok("etcd-deadbeef00010203")
    );
    for failed in [&[0u8; 8][..], &[][..], &[1, 2][..]] {
        let e = cluster_token(failed).unwrap_err();
        assert!(e.contains("no random numbers"), "{e}");
    }
}
