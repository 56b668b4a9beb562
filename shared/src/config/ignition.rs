//! What Butane makes of the document: an Ignition config of the spec its version pins
//! (flatcar 1.0.0 -> 3.3.0, 1.1.0 -> 3.4.0), built with coreos's `ignition-config` types and
//! written as `butane --pretty` writes it (keys in order, empty fields left out).

use super::butane::Butane;
use super::ButaneVersion;

pub fn translate(doc: &Butane) -> String {
    let value = match doc.version {
        ButaneVersion::V1_0_0 => serde_json::to_value(v3_3(doc)),
        ButaneVersion::V1_1_0 => serde_json::to_value(v3_4(doc)),
    }
    .unwrap_or(serde_json::Value::Null);
    let mut pretty = serde_json::to_string_pretty(&without_nulls(value)).unwrap_or_default();
    pretty.push('\n');
    pretty
}

// The two specs' types are distinct but shaped alike for what this config uses.
macro_rules! build {
    ($name:ident, $spec:ident) => {
        fn $name(doc: &Butane) -> ignition_config::$spec::Config {
            use ignition_config::$spec as ign;
            // Default carries the spec version (3.3.0 or 3.4.0).
            let mut config = ign::Config::default();
            if !doc.users.is_empty() {
                let mut passwd = ign::Passwd::default();
                passwd.users = Some(
                    doc.users
                        .iter()
                        .map(|u| {
                            let mut user = ign::User::new(u.name.clone());
                            if !u.ssh_authorized_keys.is_empty() {
                                user.ssh_authorized_keys = Some(u.ssh_authorized_keys.clone());
                            }
                            user
                        })
                        .collect(),
                );
                config.passwd = Some(passwd);
            }
            let mut systemd = ign::Systemd::default();
            systemd.units = Some(
                doc.units
                    .iter()
                    .map(|u| {
                        let mut unit = ign::Unit::new(u.name.clone());
                        unit.enabled = u.enabled;
                        unit.contents = u.contents.clone();
                        if !u.dropins.is_empty() {
                            unit.dropins = Some(
                                u.dropins
                                    .iter()
                                    .map(|d| {
                                        let mut dropin = ign::Dropin::new(d.name.clone());
                                        dropin.contents = Some(d.contents.clone());
                                        dropin
                                    })
                                    .collect(),
                            );
                        }
                        unit
                    })
                    .collect(),
            );
            config.systemd = Some(systemd);
            config
        }
    };
}

build!(v3_3, v3_3);
build!(v3_4, v3_4);

/// Go's `omitempty`: Butane leaves unset fields out, where these types would write `null`.
fn without_nulls(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
