//! `POST /ignition`: a Butane config in the body, the Ignition the `butane` crate makes of it
//! out, as `butane` would print it. (And `POST /butane/migrate`: a legacy config in, its Butane
//! and the report out; see `Conversion`.) `?pretty` and `?strict` are butane's flags. Refusals are
//! 400s: butane's own report for a terminal (`curl --data-binary @config.bu`), or, for
//! `Accept: application/json`, `{"error", "findings": [{severity, path, line, column,
//! message}]}`. Without `?strict` a translation with warnings still answers 200, with their
//! count in `X-Butane-Warnings` and the findings as JSON in `X-Butane-Report`.

use butane::report::{Finding, Report};
use serde_json::json;

use crate::http::Response;

/// butane's flags, from the query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub pretty: bool,
    pub strict: bool,
}

impl Flags {
    /// `?pretty&strict`; a flag may also be given a value (`pretty=1`, `strict=false`).
    pub fn parse(query: &str) -> Flags {
        let mut flags = Flags::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let on = !matches!(value, "0" | "false" | "no" | "off");
            match name {
                "pretty" => flags.pretty = on,
                "strict" => flags.strict = on,
                _ => {}
            }
        }
        flags
    }
}

/// What a posted body is turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Butane to Ignition, with butane's flags.
    Ignition(Flags),
    /// A cloud-config or Container Linux Config to Butane, its addresses from this platform.
    Migrate(crate::config::Platform),
    /// An etcd log into its discovery lines, explained (`POST /explain`).
    Explain,
}

impl Conversion {
    /// `POST /butane/migrate?platform=<id>` (bare metal's address unit by default).
    pub fn migrate(query: &str) -> Result<Conversion, Response> {
        let id = crate::form::lossy_value(query, "platform").unwrap_or_else(|| "metal".into());
        match crate::config::Platform::by_id(&id) {
            Some(platform) => Ok(Conversion::Migrate(platform)),
            None => Err(Response::text(
                400,
                format!(
                    "unknown platform {id:?}: one of {}\n",
                    crate::config::PLATFORMS
                        .iter()
                        .map(|p| p.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
}

/// Whether the client asked for JSON (an `Accept` naming `application/json`).
pub fn wants_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| {
        a.split(',').any(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
    })
}

/// The answer to a posted body over `MAX_BODY_BYTES`: for a log, what to send instead (its
/// end is what tells); for a config, etcd's 413 as every other body gets.
pub fn too_large(conversion: Conversion) -> Response {
    match conversion {
        Conversion::Explain => Response::text(
            413,
            format!(
                "the log is larger than {} KiB: send its end, which is where a failed bootstrap shows, e.g. journalctl -u etcd-member --no-pager -n 400 | curl --data-binary @- <this service>/explain\n",
                crate::body::MAX_BODY_BYTES / 1024
            ),
        )
        .closing(),
        _ => crate::body::too_large(),
    }
}

/// A body refused (400): `{"error"}` for a JSON client, the message as a line for a terminal.
pub fn refused(message: &str, json_wanted: bool) -> Response {
    if json_wanted {
        Response::json(400, json!({ "error": message }).to_string())
    } else {
        Response::text(400, format!("{message}\n"))
    }
}

/// The answer to a config body.
pub fn answer(conversion: Conversion, body: &[u8], accept: Option<&str>) -> Response {
    match conversion {
        Conversion::Ignition(flags) => ignition(flags, body, accept),
        Conversion::Migrate(platform) => migrate(&platform, body, accept),
        Conversion::Explain => crate::explain::answer::answer(body, wants_json(accept)),
    }
}

/// `POST /butane/migrate`: the Butane, with the report as comments above it for a terminal,
/// or `{"butane", "report": [{line, key, fate, reason}], "ignition"}` for a JSON client.
fn migrate(platform: &crate::config::Platform, body: &[u8], accept: Option<&str>) -> Response {
    let json_wanted = wants_json(accept);
    let result = std::str::from_utf8(body)
        .map_err(|_| "the config is not UTF-8 text".to_string())
        .and_then(|text| crate::migrate::migrate(text, platform));
    let m = match result {
        Ok(m) => m,
        Err(error) => return refused(&error, json_wanted),
    };
    if json_wanted {
        let report: Vec<serde_json::Value> = m
            .report
            .iter()
            .map(|e| json!({ "line": e.line, "key": e.key, "fate": e.fate.as_str(), "reason": e.reason }))
            .collect();
        let ignition = butane::translate(
            &m.butane,
            &butane::Options {
                files_dir: None,
                pretty: true,
            },
        )
        .ignition;
        let builder = ignition
            .as_deref()
            .and_then(|json| builder_fit(json, platform));
        let body = json!({ "butane": m.butane, "report": report, "ignition": ignition, "builder": builder });
        return Response::json(200, body.to_string());
    }
    let text = m.annotated();
    Response::new(200, "application/yaml; charset=utf-8", text)
}

/// Where a migrated config's etcd fits the builder: `{"query", "differences"}`, the builder's
/// query string and one sentence per thing it would write otherwise.
fn builder_fit(json: &str, platform: &crate::config::Platform) -> Option<serde_json::Value> {
    let (config, _) =
        butane::ignition::inline::read_config(json.as_bytes(), butane::ignition::types::Spec::V3_4)
            .ok()?;
    let found = crate::config::found::find_etcd(&config)?;
    let fit = crate::config::fit::fit(
        &config,
        &found,
        *platform,
        crate::config::ButaneVersion::V1_1_0,
    );
    Some(json!({ "query": fit.query.to_query(), "differences": fit.differences }))
}

fn ignition(flags: Flags, body: &[u8], accept: Option<&str>) -> Response {
    let json_wanted = wants_json(accept);
    let Ok(text) = std::str::from_utf8(body) else {
        let message = "the config is not UTF-8 text";
        return if json_wanted {
            Response::json(400, json!({ "error": message, "findings": [] }).to_string())
        } else {
            Response::text(400, format!("{message}\n"))
        };
    };
    let outcome = butane::translate(
        text,
        &butane::Options {
            files_dir: None,
            pretty: flags.pretty,
        },
    );
    if outcome.succeeded(flags.strict) {
        let ignition = outcome.stdout(flags.strict);
        let count = outcome.report.findings.len();
        let mut response =
            Response::json(200, ignition).with("X-Butane-Warnings", count.to_string().into());
        if count > 0 {
            response = response.with(
                "X-Butane-Report",
                ascii_json(&findings(&outcome.report)).into(),
            );
        }
        return response;
    }
    let error = match &outcome.error {
        Some(e) => format!("Error translating config: {e}"),
        None => "Config produced warnings and --strict was specified".to_string(),
    };
    if json_wanted {
        let body = json!({ "error": error, "findings": findings(&outcome.report) });
        Response::json(400, body.to_string())
    } else {
        Response::text(400, outcome.stderr(text, flags.strict))
    }
}

/// The findings as JSON: severity, path, line, column, message.
pub fn findings(report: &Report) -> serde_json::Value {
    serde_json::Value::Array(report.findings.iter().map(finding).collect())
}

fn finding(f: &Finding) -> serde_json::Value {
    json!({
        "severity": f.severity.as_str(),
        "path": f.path.to_string(),
        "line": f.position.map(|p| p.line),
        "column": f.position.map(|p| p.column),
        "message": f.message,
    })
}

/// JSON with every non-ASCII character escaped, so it can be a header's value.
fn ascii_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_control() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /etc/motd\n      mode: 644\n      contents:\n        inline: hello\n";

    #[test]
    fn a_config_translates_with_its_warnings_counted_unless_strict() {
        let r = ignition(
            Flags {
                pretty: true,
                strict: false,
            },
            CONFIG.as_bytes(),
            None,
        );
        assert_eq!(r.status, 200);
        assert!(
            r.body
                .starts_with("{\n  \"ignition\": {\n    \"version\": \"3.4.0\""),
            "{}",
            r.body
        );
        assert!(r.body.ends_with("}\n"));
        // 644 read as decimal: butane's octal hint, and Ignition's sticky-bit warning.
        assert_eq!(r.header("X-Butane-Warnings"), Some("2"));
        let report: serde_json::Value =
            serde_json::from_str(r.header("X-Butane-Report").unwrap()).unwrap();
        assert_eq!(report[0]["path"], "$.storage.files.0.mode");
        assert_eq!(report[0]["line"], 6);

        let r = ignition(
            Flags {
                pretty: false,
                strict: true,
            },
            CONFIG.as_bytes(),
            None,
        );
        assert_eq!(r.status, 400);
        assert!(
            r.body
                .starts_with("warning[$.storage.files.0.mode]:\n  --> <stdin>:6:13\n"),
            "{}",
            r.body
        );
        assert!(r
            .body
            .ends_with("Config produced warnings and --strict was specified\n"));
    }

    #[test]
    fn a_legacy_config_migrates_with_its_report_as_comments_or_json() {
        let cloud = b"#cloud-config\ncoreos:\n  etcd2:\n    discovery: https://d.example/t\n  fleet:\n    metadata: x\n";
        let conversion = Conversion::migrate("platform=ec2").unwrap();
        let r = answer(conversion, cloud, None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.body
                .starts_with("# line 4: coreos.etcd2.discovery changed: "),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("# line 5: coreos.fleet dropped: fleet no longer exists"),
            "{}",
            r.body
        );
        assert!(r.body.contains("\nvariant: flatcar\nversion: 1.1.0\n"));
        let r = answer(conversion, cloud, Some("application/json"));
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["report"][1]["fate"], "dropped");
        assert!(body["ignition"]
            .as_str()
            .unwrap()
            .contains("etcd-member.service"));
        // The builder can start from it: the same discovery URL, on the platform asked for;
        // what it would add (the peer URLs this config never set) is said.
        let query = body["builder"]["query"].as_str().unwrap();
        assert!(
            query.contains("discovery=https%3A%2F%2Fd.example%2Ft"),
            "{query}"
        );
        assert!(query.contains("platform=ec2"), "{query}");
        let differences = body["builder"]["differences"].to_string();
        assert!(
            differences.contains("--listen-peer-urls: the builder adds it"),
            "{differences}"
        );
        assert_eq!(
            answer(conversion, b"variant: flatcar\nversion: 1.1.0\n", None).status,
            400
        );
        assert_eq!(
            Conversion::migrate("platform=mars").unwrap_err().status,
            400
        );
    }

    #[test]
    fn a_log_too_large_is_told_what_to_send() {
        let r = too_large(Conversion::Explain);
        assert_eq!(r.status, 413);
        assert!(
            r.body
                .contains("journalctl -u etcd-member --no-pager -n 400"),
            "{}",
            r.body
        );
        assert!(too_large(Conversion::Ignition(Flags::default()))
            .body
            .contains("larger than 65536 bytes"));
    }

    #[test]
    fn refusals_come_as_json_for_json_clients() {
        let r = ignition(
            Flags::default(),
            b"variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: rel\n",
            Some("application/json"),
        );
        assert_eq!(r.status, 400);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            body["error"],
            "Error translating config: config generated was invalid"
        );
        assert_eq!(body["findings"][0]["message"], "path not absolute");
        assert_eq!(body["findings"][0]["column"], 13);
        let r = ignition(Flags::default(), b"\xff", None);
        assert_eq!(r.status, 400);
        assert_eq!(
            Flags::parse("pretty&strict=0"),
            Flags {
                pretty: true,
                strict: false
            }
        );
    }
}
