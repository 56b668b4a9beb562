//! Generated configs: golden files, YAML read back, Ignition validated against Ignition's
//! JSON Schemas made strict, and Butane's texts carried into Ignition unchanged.
//! `UPDATE_GOLDEN=1 cargo test -p rendezvous-shared --test config` rewrites the golden files.

use serde_json::Value;
use shared::config::{generate, Severity};
use yaml_rust2::{Yaml, YamlLoader};

mod support;
use support::{dir, validate};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm7mRZ2s0Y8l5w3Qf4QvZ1mX2k9yq8e1O3Jc7dFhQ1b me@laptop";
const URL: &str = "https%3A%2F%2Fdiscovery.example.com%2F6a28e078895c5ec737174db2419bb2f3";

fn cases() -> Vec<(&'static str, String)> {
    let key = shared::form::encode(KEY);
    vec![
        ("ec2-discovery-private", format!("discovery={URL}&size=3&platform=ec2&ssh_key={key}")),
        ("gce-discovery-public-legacy-1.1.0", format!("discovery={URL}&platform=gce&address=public&legacy_ports=true&etcd_tag=v3.5.16&ssh_key={key}&butane=1.1.0")),
        ("digitalocean-discovery", format!("discovery={URL}&platform=digitalocean&ssh_key={key}")),
        ("metal-discovery-address-unit", format!("discovery={URL}&platform=metal&ssh_key={key}")),
        ("kubevirt-discovery-1.1.0", format!("discovery={URL}&platform=kubevirt&butane=1.1.0")),
        ("ec2-v3-discovery-etcd-3.6", format!("discovery={URL}&etcd_tag=v3.6.4&discovery_endpoints=discovery.example.com%3A2379&platform=ec2&ssh_key={key}&butane=1.1.0")),
        ("proxmoxve-public-falls-back", format!("discovery={URL}&platform=proxmoxve&address=public&ssh_key={key}")),
        ("static-three-on-qemu", format!("bootstrap=static&member=etcd-1%3D10.0.0.11&member=etcd-2%3D10.0.0.12&member=etcd-3%3D10.0.0.13&this=etcd-2&cluster_token=lab-cluster-1&platform=qemu&legacy_ports=true&ssh_key={key}&butane=1.1.0")),
    ]
}

fn check_golden(name: &str, ext: &str, text: &str) {
    let path = dir("golden").join(format!("{name}.{ext}"));
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(text, want, "{name}.{ext} differs from its golden file");
}

#[test]
fn generated_configs_match_their_golden_files_and_validate() {
    for (name, query) in cases() {
        let (generated, problems) = generate(&query);
        let errors: Vec<_> = problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let g = generated.unwrap();
        check_golden(name, "bu", &g.butane_yaml);
        check_golden(name, "ign", &g.ignition_json);

        let ign: Value = serde_json::from_str(&g.ignition_json).unwrap();
        let version = ign["ignition"]["version"].as_str().unwrap();
        let expected = if query.contains("butane=1.1.0") {
            "3.4.0"
        } else {
            "3.3.0"
        };
        assert_eq!(version, expected, "{name}");
        validate(&ign, version).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Ignition's own checks find nothing in it: no unknown keys, no errors, no warnings.
        let checked = butane::ignition::check::check(&g.ignition_json);
        assert_eq!(checked.error, None, "{name}");
        assert!(
            checked.report.is_empty(),
            "{name}: {}",
            checked.report.raw()
        );

        // The YAML reads back, and every unit text reached Ignition byte for byte.
        let yaml = &YamlLoader::load_from_str(&g.butane_yaml).unwrap()[0];
        assert_eq!(yaml["variant"].as_str(), Some("flatcar"));
        let bu_version = yaml["version"].as_str().unwrap();
        assert_eq!(
            bu_version,
            if expected == "3.4.0" {
                "1.1.0"
            } else {
                "1.0.0"
            }
        );
        let units = yaml["systemd"]["units"].as_vec().unwrap();
        let ign_units = ign["systemd"]["units"].as_array().unwrap();
        assert_eq!(units.len(), ign_units.len(), "{name}");
        for (u, iu) in units.iter().zip(ign_units) {
            assert_eq!(u["name"].as_str(), iu["name"].as_str());
            assert_eq!(u["enabled"].as_bool(), iu["enabled"].as_bool());
            assert_eq!(u["contents"].as_str(), iu["contents"].as_str(), "{name}");
            if let Some(dropins) = u["dropins"].as_vec() {
                for (d, id) in dropins.iter().zip(iu["dropins"].as_array().unwrap()) {
                    assert_eq!(d["name"].as_str(), id["name"].as_str());
                    assert_eq!(d["contents"].as_str(), id["contents"].as_str(), "{name}");
                }
            }
        }
        let keys: Vec<&str> = match &yaml["passwd"]["users"][0]["ssh_authorized_keys"] {
            Yaml::Array(a) => a.iter().filter_map(|k| k.as_str()).collect(),
            _ => Vec::new(),
        };
        let ign_keys: Vec<&str> = ign["passwd"]["users"][0]["sshAuthorizedKeys"]
            .as_array()
            .map(|a| a.iter().filter_map(|k| k.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(keys, ign_keys, "{name}");
    }
}

#[test]
fn strictness_catches_unknown_keys_and_wrong_versions() {
    let (g, _) = generate(&format!("discovery={URL}"));
    let mut ign: Value = serde_json::from_str(&g.unwrap().ignition_json).unwrap();
    assert!(validate(&ign, "3.3.0").is_ok());
    assert!(validate(&ign, "3.4.0").is_err(), "the version is pinned");
    ign["systemd"]["units"][0]["enable"] = Value::Bool(true);
    assert!(
        validate(&ign, "3.3.0").is_err(),
        "a misspelt key is refused"
    );
}

#[test]
fn errors_produce_no_config() {
    let (g, problems) = generate("discovery=not-a-url&platform=mars");
    assert!(g.is_none());
    let fields: Vec<&str> = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .map(|p| p.field)
        .collect();
    assert_eq!(fields, ["platform", "discovery"]);
}

#[test]
fn hostile_values_cannot_reach_a_unit_file() {
    // A key with YAML/JSON metacharacters (but legal for sshd) is quoted, never interpreted.
    let key = "ssh-ed25519 AAAAC3Nz x: [y] #z 'q' {a}";
    let (g, p) = generate(&format!(
        "discovery={URL}&ssh_key={}",
        shared::form::encode(key)
    ));
    assert!(p.iter().all(|x| x.severity == Severity::Warning), "{p:?}");
    let g = g.unwrap();
    let yaml = &YamlLoader::load_from_str(&g.butane_yaml).unwrap()[0];
    assert_eq!(
        yaml["passwd"]["users"][0]["ssh_authorized_keys"][0].as_str(),
        Some(key)
    );
}

#[test]
fn the_address_units_command_is_valid_bash_after_systemds_unescaping() {
    let unit = shared::config::dropin::address_unit();
    let line = unit
        .lines()
        .find(|l| l.starts_with("ExecStart=/usr/bin/bash"))
        .unwrap();
    let quoted = line
        .split_once(" -c '")
        .unwrap()
        .1
        .strip_suffix('\'')
        .unwrap();
    // systemd: %% -> %, $$ -> $, and C escapes inside quotes (\\ -> \).
    let script = quoted
        .replace("%%", "%")
        .replace("$$", "$")
        .replace("\\\\", "\\");
    assert!(
        script.contains(r#"sed -E "s/.* src ([0-9.]+).*/\1/""#),
        "{script}"
    );
    assert!(
        script.contains(
            r#"printf "COREOS_CUSTOM_PRIVATE_IPV4=%s\nCOREOS_CUSTOM_PUBLIC_IPV4=%s\n" "$ip" "$ip""#
        ),
        "{script}"
    );
    let status = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .status()
        .unwrap();
    assert!(status.success(), "bash -n rejects: {script}");
    // The sed picks the source address out of what `ip -4 -o route get` prints.
    let mut sed = std::process::Command::new("sed")
        .args(["-E", r"s/.* src ([0-9.]+).*/\1/"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    sed.stdin
        .take()
        .unwrap()
        .write_all(b"1.1.1.1 via 10.0.2.2 dev eth0 src 10.0.2.15 uid 0 \\    cache\n")
        .unwrap();
    let out = sed.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "10.0.2.15");
}

#[test]
fn a_first_view_draft_marks_the_missing_discovery_url() {
    // What a new user's first view asks for: no discovery URL yet.
    let (real, problems) = generate("");
    assert!(real.is_none());
    assert!(problems
        .iter()
        .any(|p| p.field == "discovery" && p.severity == Severity::Error));
    let draft = shared::config::draft("").expect("a draft while only the URL is missing");
    let marker = shared::config::MISSING_DISCOVERY_URL;
    assert!(draft.butane_yaml.contains(marker), "{}", draft.butane_yaml);
    assert!(draft.ignition_json.contains(marker));
    let ign: Value = serde_json::from_str(&draft.ignition_json).unwrap();
    validate(&ign, "3.3.0").unwrap();
    // Given the URL, the real config is the draft with the URL in the marker's place.
    let url = "https://discovery.example.com/6a28e078895c5ec737174db2419bb2f3";
    let (real, _) = generate(&format!("discovery={}", shared::form::encode(url)));
    assert_eq!(
        real.unwrap().butane_yaml,
        draft.butane_yaml.replace(marker, url)
    );
    // Anything else wrong: no draft, the mistakes are what to show.
    assert!(shared::config::draft("platform=mars").is_none());
    assert!(shared::config::draft("discovery=ftp%3A%2F%2Fx").is_none());
    assert!(shared::config::draft("bootstrap=static").is_none());
}
