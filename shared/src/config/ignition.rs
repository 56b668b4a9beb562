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
    let pretty = serde_json::to_string_pretty(&without_nulls(value)).unwrap_or_default();
    let mut out = escape_as_go(&pretty);
    out.push('\n');
    out
}

/// Go's `encoding/json` (which Butane uses) escapes `<`, `>`, `&`, U+2028 and U+2029 inside
/// strings so the JSON is safe in HTML; serde_json writes them as they are. Outside strings
/// JSON text holds none of these, so replacing them everywhere changes only string contents.
fn escape_as_go(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::escape_as_go;

    #[test]
    fn html_characters_are_escaped_as_go_escapes_them() {
        let json = serde_json::to_string("a > b && c < d \u{2028}\u{2029} \"q\" \\").unwrap();
        let go = escape_as_go(&json);
        assert_eq!(
            go,
            r#""a \u003e b \u0026\u0026 c \u003c d \u2028\u2029 \"q\" \\""#
        );
        // Still JSON, and still the same string.
        let back: String = serde_json::from_str(&go).unwrap();
        assert_eq!(back, "a > b && c < d \u{2028}\u{2029} \"q\" \\");
    }
}
