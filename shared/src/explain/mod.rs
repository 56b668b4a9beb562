//! Why a cluster did not form, from one member's etcd log (issue 20, begun): the member it
//! is (name, id, peer URLs, version), the discovery it used, and every discovery line in time
//! order with what it means, its cause and what to do, and a verdict. Lines etcd logs about
//! discovery that the catalog does not know are shown as they are, never guessed at.

pub mod answer;
pub mod catalog;
pub mod line;
pub mod seat;

use catalog::{Message, Topic};
use line::{Level, Line};

/// The member the log is from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    pub name: Option<String>,
    /// Its member id: as etcd logged it, else worked out from its peer URLs and discovery URL
    /// as etcd does.
    pub id: Option<String>,
    pub peer_urls: Vec<String>,
    pub version: Option<String>,
    /// `--initial-cluster-token` as etcd logged it (the discovery URL, under v2 discovery): the
    /// member id is worked out from it.
    pub cluster_token: Option<String>,
}

/// The discovery it used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// v2: `--discovery`.
    pub url: Option<String>,
    /// v3: `--discovery-token` and `--discovery-endpoints`.
    pub token: Option<String>,
    pub endpoints: Vec<String>,
    pub proxy: Option<String>,
}

/// One discovery line (or a run of the same one), explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The line it is on (the first of a run).
    pub line: usize,
    pub time: Option<String>,
    /// The last line's time, when the same message ran over several lines.
    pub until: Option<String>,
    /// How many lines in a row said it.
    pub times: usize,
    pub level: Level,
    /// What it is about; `None` for a discovery line the catalog does not know.
    pub topic: Option<Topic>,
    /// The sentence (for an unknown line: etcd's own message).
    pub says: String,
    pub cause: String,
    pub action: String,
    /// The etcd releases that log it.
    pub versions: &'static str,
    pub raw: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Explanation {
    pub member: Member,
    pub discovery: Discovery,
    pub findings: Vec<Finding>,
    /// What happened, in one sentence.
    pub verdict: String,
    /// etcd's lines read, and lines that were not etcd's.
    pub read: usize,
    pub skipped: usize,
    /// How often systemd restarted the unit, as journalctl shows it (a boot loop).
    pub restarts: Option<u32>,
}

/// Whether a paste is an etcd log (at least one line etcd wrote), not a token or a listing.
pub fn is_log(text: &str) -> bool {
    text.lines()
        .enumerate()
        .any(|(i, l)| line::read(i + 1, l).is_some())
}

/// Explains a pasted log.
pub fn explain(text: &str) -> Explanation {
    let mut x = Explanation::default();
    for (i, raw) in text.lines().enumerate() {
        let Some(line) = line::read(i + 1, raw) else {
            if !raw.trim().is_empty() {
                x.skipped += 1;
            }
            if let Some(n) = restart_counter(raw) {
                x.restarts = Some(x.restarts.map_or(n, |m| m.max(n)));
            }
            continue;
        };
        x.read += 1;
        // The message, and every value the line holds: zap's fields, or what capnslog printed.
        let known = catalog::find(&line.msg);
        let mut values = line.fields.clone();
        if let Some((_, printed)) = &known {
            values.extend(printed.iter().cloned());
        }
        let message = known.map(|(m, _)| m);
        learn(&mut x, &values, message.map(|m| m.topic));
        if let Some(f) = finding(&line, message, &values) {
            push(&mut x.findings, f);
        }
    }
    if x.member.id.is_none() {
        let token = x.member.cluster_token.clone().or(x.discovery.url.clone());
        if let (Some(token), false) = (token, x.member.peer_urls.is_empty()) {
            let urls: Vec<&str> = x.member.peer_urls.iter().map(String::as_str).collect();
            x.member.id = Some(crate::member_id::member_id(&urls, &token));
        }
    }
    x.verdict = verdict(&x);
    if let Some(n) = x.restarts {
        x.verdict.push_str(&format!(
            " systemd restarted it {n} {}: the same failure each time, until the cause is fixed.",
            if n == 1 { "time" } else { "times" }
        ));
    }
    x
}

/// systemd's "Scheduled restart job, restart counter is at N." (journalctl's lines of the unit).
fn restart_counter(raw: &str) -> Option<u32> {
    let (_, rest) = raw.split_once("restart counter is at ")?;
    rest.trim_end_matches(['.', ' ']).parse().ok()
}

/// What a line's values say about the member and its discovery (zap's fields and etcd 3.4's
/// text lines, `name = m1`, alike: the catalog's forms name their values as zap does).
fn learn(x: &mut Explanation, values: &[(String, String)], topic: Option<Topic>) {
    let value = |name: &str| {
        values
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let set = |slot: &mut Option<String>, v: Option<&str>| {
        if let Some(v) = v {
            *slot = Some(v.to_string());
        }
    };
    set(&mut x.member.name, value("name"));
    set(&mut x.member.version, value("etcd-version"));
    set(&mut x.member.id, value("local-member-id"));
    set(&mut x.member.cluster_token, value("initial-cluster-token"));
    set(
        &mut x.discovery.url,
        value("discovery-url").filter(|u| u.matches('/').count() > 2),
    );
    set(&mut x.discovery.proxy, value("discovery-proxy"));
    set(
        &mut x.discovery.token,
        value("discovery-token").filter(|t| !t.contains("://")),
    );
    if let Some(urls) = value("initial-advertise-peer-urls") {
        x.member.peer_urls = list(urls);
    }
    if let Some(endpoints) = value("discovery-endpoints") {
        x.discovery.endpoints = list(endpoints);
    }
    if topic == Some(Topic::FoundSelf) {
        set(&mut x.member.id, value("self"));
    }
}

/// A JSON list (`["a","b"]`) or a comma-separated one.
fn list(text: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(text).unwrap_or_else(|_| {
        text.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// The finding for a line, if it is about discovery: `message` is the catalog's for it, and
/// `values` the line's.
fn finding(line: &Line, message: Option<&Message>, values: &[(String, String)]) -> Option<Finding> {
    let base = Finding {
        line: line.number,
        time: line.time.clone(),
        until: None,
        times: 1,
        level: line.level,
        topic: None,
        says: line.msg.clone(),
        cause: String::new(),
        action: String::new(),
        versions: "",
        raw: line.raw.clone(),
    };
    let Some(m) = message else {
        // Not in the catalog: shown as it is, if it is about discovery at all.
        let about = |t: &str| t.to_ascii_lowercase().contains("discover");
        let related = about(&line.msg)
            || line.fields.iter().any(|(k, v)| {
                about(k) && !v.is_empty() && k != "discovery-proxy" && line.level >= Level::Warn
            });
        return related.then_some(base);
    };
    let mut f = Finding {
        topic: Some(m.topic),
        says: fill(m.says, values),
        cause: m.cause.to_string(),
        action: m.action.to_string(),
        versions: m.versions,
        ..base
    };
    // A failure's meaning is in its error (zap's field, or the text capnslog printed).
    let error = values
        .iter()
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.as_str());
    if let Some(error) = error {
        if let Some((topic, meaning)) = catalog::error_meaning(error) {
            // etcd logs "discovery token was already used" for every discovery error but a
            // duplicate id or name: the error says what really happened.
            if m.topic == Topic::TokenUsed && topic != Topic::Full {
                f.topic = Some(topic);
                f.says = format!("etcd says the token was already used, but that is what it says for any discovery error; the error is {}. That means {meaning}.", error.trim_end());
                (f.cause, f.action) = advice(topic);
                return Some(f);
            }
            // Only a generic message needs its error read; the others say it themselves.
            if !matches!(m.topic, Topic::Failed | Topic::Unreachable) {
                return Some(f);
            }
            if m.topic == Topic::Failed {
                f.topic = Some(topic);
            }
            f.says = format!("{} That means {meaning}.", f.says);
            if f.cause.is_empty() {
                (f.cause, f.action) = advice(topic);
            }
        }
    }
    if m.topic == Topic::Start && line.msg != "starting an etcd server" {
        return None;
    }
    Some(f)
}

/// The cause and what to do for an error's topic: those of the first message about it that
/// gives each.
fn advice(topic: Topic) -> (String, String) {
    let about = || catalog::MESSAGES.iter().filter(move |m| m.topic == topic);
    let cause = about().map(|m| m.cause).find(|c| !c.is_empty());
    let action = about().map(|m| m.action).find(|a| !a.is_empty());
    (
        cause.unwrap_or_default().to_string(),
        action.unwrap_or_default().to_string(),
    )
}

/// A sentence with its `{name}`s filled from `values` (a name with no value: left out).
fn fill(template: &str, values: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        if let Some((_, v)) = values.iter().find(|(k, _)| k == name) {
            // Go errors end in a newline now and then; sentences end on their own.
            out.push_str(v.trim_end().trim_end_matches('.'));
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Adds a finding; one that says what an earlier one said is counted there, not repeated (a
/// retry loop, a boot loop), with the time it last said it.
fn push(findings: &mut Vec<Finding>, f: Finding) {
    match findings
        .iter_mut()
        .find(|seen| seen.says == f.says && seen.topic == f.topic)
    {
        Some(seen) => {
            seen.times += 1;
            seen.until = f.time;
        }
        None => findings.push(f),
    }
}

/// What happened, from the last finding that decides it.
fn verdict(x: &Explanation) -> String {
    let name = x.member.name.as_deref().unwrap_or("This member");
    let decisive = x.findings.iter().rev().find(|f| {
        !matches!(
            f.topic,
            None | Some(
                Topic::Advice
                    | Topic::FoundPeer
                    | Topic::FoundSelf
                    | Topic::Start
                    | Topic::Proxied
                    | Topic::Deprecated
            )
        )
    });
    let Some(f) = decisive else {
        return if x.read == 0 {
            "No etcd log lines found: paste the output of `journalctl -u etcd-member`.".into()
        } else {
            "No discovery lines in this log.".into()
        };
    };
    let retries = x
        .findings
        .iter()
        .filter(|f| f.topic == Some(Topic::Retry))
        .map(|f| f.times)
        .sum::<usize>();
    match f.topic.expect("decisive findings have a topic") {
        Topic::MemberId | Topic::Complete | Topic::Registered => {
            format!(
                "{name} got through discovery and bootstrapped{}.",
                x.member
                    .id
                    .as_deref()
                    .map(|id| format!(" as {id}"))
                    .unwrap_or_default()
            )
        }
        Topic::Waiting => format!("{name} is still waiting for members: {}", f.says),
        Topic::Unreachable | Topic::Retry => {
            // How long it has been trying: from the first trouble to the last line about it.
            let trouble: Vec<&Finding> = x
                .findings
                .iter()
                .filter(|f| matches!(f.topic, Some(Topic::Unreachable | Topic::Retry)))
                .collect();
            let first = trouble.iter().find_map(|f| f.time.as_deref());
            let last = trouble
                .iter()
                .filter_map(|f| f.until.as_deref().or(f.time.as_deref()))
                .max();
            let span = match (first, last) {
                (Some(a), Some(b)) if a != b => format!(", from {a} to {b}"),
                _ => String::new(),
            };
            format!(
                "{name} cannot reach the discovery service ({} {}{span}).",
                retries.max(1),
                if retries == 1 { "retry" } else { "retries" }
            )
        }
        Topic::Full | Topic::TokenUsed => {
            format!("{name} did not join: the token was already full.")
        }
        Topic::BecameProxy | Topic::Proxy => format!(
            "{name} runs as a v2 proxy, not as a member: the token was full when it registered."
        ),
        Topic::RegisteredBefore => format!(
            "{name} did not join: it registered before and has lost its data directory since."
        ),
        Topic::DuplicateName => {
            format!("{name} did not join: another member registered with the same name.")
        }
        Topic::AlreadyInitialized => {
            format!("{name} restarted with its data: discovery was skipped, as it should be.")
        }
        Topic::NotConfigured => {
            format!("{name} did not start: its discovery settings did not reach etcd.")
        }
        Topic::Failed => format!("{name} did not start: {}", f.says),
        _ => f.says.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_etcd_calls_used_is_read_through_its_error() {
        // What etcd 3.4.23 logged for a token its discovery service never minted.
        let log = concat!(
            r#"{"level":"warn","ts":"2026-12-04T18:40:01.000Z","caller":"etcdmain/etcd.go:146","msg":"failed to start etcd","error":"failed to join discovery cluster (100: Key not found (/0123456789abcdef0123456789abcdef/_config/size) [0])"}"#,
            "\n",
            r#"{"level":"fatal","ts":"2026-12-04T18:40:01.001Z","caller":"etcdmain/etcd.go:227","msg":"failed to bootstrap; discovery token was already used","discovery-token":"http://127.0.0.1:19788/0123456789abcdef0123456789abcdef","error":"failed to join discovery cluster (100: Key not found (/0123456789abcdef0123456789abcdef/_config/size) [0])"}"#,
            "\n",
        );
        let x = explain(log);
        assert_eq!(x.findings.len(), 2, "{:?}", x.findings);
        assert_eq!(x.findings[1].topic, Some(Topic::Failed));
        assert!(x.findings[1].says.starts_with("etcd says the token was already used, but that is what it says for any discovery error"), "{}", x.findings[1].says);
        assert!(
            x.verdict.contains("does not know this token"),
            "{}",
            x.verdict
        );
    }

    #[test]
    fn etcd_3_4s_text_log_is_read_too() {
        // What etcd 3.4.23 wrote with --logger=capnslog, a fourth member on a full token.
        let log = "[WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead\n2026-12-04 18:03:38.556356 I | etcdmain: etcd Version: 3.4.23\n2026-12-04 18:03:38.556660 I | embed: name = m4\n2026-12-04 18:03:38.556681 I | embed: discovery URL= http://127.0.0.1:19788/b9d8f85a7517820d8b15f6b7a091a60a\n2026-12-04 18:03:38.561361 E | etcdmain: failed to join discovery cluster (discovery: cluster is full)\n2026-12-04 18:03:38.561382 I | etcdmain: discovery token http://127.0.0.1:19788/b9d8f85a7517820d8b15f6b7a091a60a was used, but failed to bootstrap the cluster.\n2026-12-04 18:03:38.561386 I | etcdmain: please generate a new discovery token and try to bootstrap again.\n";
        let x = explain(log);
        assert_eq!((x.read, x.skipped), (6, 1));
        assert_eq!(x.member.name.as_deref(), Some("m4"));
        assert_eq!(x.member.version.as_deref(), Some("3.4.23"));
        assert_eq!(
            x.discovery.url.as_deref(),
            Some("http://127.0.0.1:19788/b9d8f85a7517820d8b15f6b7a091a60a")
        );
        let topics: Vec<Option<Topic>> = x.findings.iter().map(|f| f.topic).collect();
        assert_eq!(
            topics,
            [
                Some(Topic::Full),
                Some(Topic::TokenUsed),
                Some(Topic::Advice)
            ]
        );
        assert_eq!(x.verdict, "m4 did not join: the token was already full.");
    }

    #[test]
    fn v3_discovery_as_etcd_3_6_logs_it() {
        // The messages and fields of etcd 3.6's v3discovery and embed packages.
        let log = concat!(
            r#"{"level":"info","ts":"t0","msg":"starting an etcd server","etcd-version":"3.6.4","name":"m2","initial-advertise-peer-urls":["http://10.0.0.2:2380"],"initial-cluster-token":"etcd-cluster","discovery-url":"","discovery-token":"0123456789abcdef0123456789abcdef","discovery-endpoints":"10.0.0.9:2379,10.0.0.10:2379"}"#,
            "\n",
            r#"{"level":"info","ts":"t1","msg":"Bootstrapping cluster using v3 discovery."}"#,
            "\n",
            r#"{"level":"info","ts":"t2","msg":"register member itself successfully","memberKey":"/_etcd/registry/0123456789abcdef0123456789abcdef/members/5e638e9cb06db528","memberInfo":"m2=http://10.0.0.2:2380"}"#,
            "\n",
            r#"{"level":"info","ts":"t3","msg":"waiting for peers from discovery service","clusterSize":3,"found-peers":2}"#,
            "\n",
            r#"{"level":"warn","ts":"t4","msg":"retry connecting to discovery service","reason":"cluster status check","backoff":"2s"}"#,
            "\n",
        );
        let x = explain(log);
        assert_eq!(
            x.discovery.token.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(x.discovery.endpoints, ["10.0.0.9:2379", "10.0.0.10:2379"]);
        assert_eq!(x.discovery.url, None);
        assert_eq!(x.member.cluster_token.as_deref(), Some("etcd-cluster"));
        assert_eq!(
            x.member.id,
            Some(crate::member_id::member_id(
                &["http://10.0.0.2:2380"],
                "etcd-cluster"
            ))
        );
        let says: Vec<&str> = x.findings.iter().map(|f| f.says.as_str()).collect();
        assert!(says.contains(&"2 of 3 member(s) registered so far; etcd waits for the rest before the cluster can start."), "{says:?}");
        assert_eq!(
            x.verdict,
            "m2 cannot reach the discovery service (1 retry)."
        );
    }

    #[test]
    fn logs_are_told_from_tokens_and_listings() {
        assert!(is_log(
            "garbage\n{\"level\":\"info\",\"msg\":\"starting an etcd server\"}\n"
        ));
        assert!(!is_log(
            "https://discovery.etcd.io/0123456789abcdef0123456789abcdef"
        ));
        assert!(!is_log(
            "{\"action\":\"get\",\"node\":{\"key\":\"/t\",\"dir\":true}}"
        ));
    }

    #[test]
    fn a_waiting_member_with_its_id_worked_out() {
        let log = concat!(
            r#"{"level":"info","ts":"2026-12-04T17:40:15.571Z","caller":"embed/etcd.go:305","msg":"starting an etcd server","etcd-version":"3.4.23","name":"m1","initial-advertise-peer-urls":["http://127.0.0.1:21380"],"discovery-url":"http://127.0.0.1:18787/7629da32f09da6fd3e015b0d56356b02","discovery-proxy":""}"#,
            "\n",
            r#"{"level":"info","ts":"2026-12-04T17:40:15.581Z","caller":"v2discovery/discovery.go:374","msg":"found peers from discovery server; waiting for more","discovery-url":"http://127.0.0.1:18787","found-peers":1,"needed-peers":2}"#,
            "\n",
        );
        let x = explain(log);
        assert_eq!(x.member.name.as_deref(), Some("m1"));
        assert_eq!(x.member.version.as_deref(), Some("3.4.23"));
        // As Debian's etcd 3.4.23 registered it (see member_id's tests).
        assert_eq!(x.member.id.as_deref(), Some("71c6d2b6be6ab36c"));
        assert_eq!(
            x.discovery.url.as_deref(),
            Some("http://127.0.0.1:18787/7629da32f09da6fd3e015b0d56356b02")
        );
        assert_eq!(x.findings.len(), 2);
        assert_eq!(
            x.findings[1].says,
            "1 member(s) registered so far; etcd waits for 2 more before the cluster can start."
        );
        assert!(
            x.verdict.starts_with("m1 is still waiting for members"),
            "{}",
            x.verdict
        );
    }

    #[test]
    fn a_boot_loop_on_a_full_token_is_counted_once() {
        let line = "Dec 04 04:09:01 node-2 etcd-wrapper[77]: 2026-12-04 04:09:01.123456 C | etcdmain: discovery token http://d.example/t was used, but failed to bootstrap the cluster.\nDec 04 04:09:01 node-2 etcd-wrapper[77]: 2026-12-04 04:09:01.123458 I | etcdmain: please generate a new discovery token and try to bootstrap again.\n";
        let restarted = "Dec 04 04:09:06 node-2 systemd[1]: etcd-member.service: Scheduled restart job, restart counter is at 2.\n";
        let x = explain(&format!(
            "{line}{restarted}{line}{}{line}",
            restarted.replace('2', "3")
        ));
        assert_eq!(x.restarts, Some(3));
        assert!(x.verdict.ends_with("systemd restarted it 3 times: the same failure each time, until the cause is fixed."), "{}", x.verdict);
        let x = explain(&line.repeat(3));
        assert_eq!(x.findings.len(), 2, "{:?}", x.findings);
        assert_eq!(x.findings[0].topic, Some(Topic::TokenUsed));
        assert_eq!(x.findings[0].times, 3);
        assert_eq!(
            x.findings[0].until.as_deref(),
            Some("2026-12-04 04:09:01.123456")
        );
        assert_eq!(
            x.verdict,
            "This member did not join: the token was already full."
        );
    }

    #[test]
    fn a_failure_is_read_through_its_error_and_unknown_discovery_lines_stay_as_they_are() {
        let log = concat!(
            r#"{"level":"warn","ts":"t1","msg":"some discovery thing etcd 3.8 says"}"#,
            "\n",
            r#"{"level":"fatal","ts":"t2","caller":"etcdmain/etcd.go:271","msg":"discovery failed","error":"failed to join discovery cluster (discovery: size key not found)"}"#,
            "\n",
            "not etcd at all\n",
        );
        let x = explain(log);
        assert_eq!(x.read, 2);
        assert_eq!(x.skipped, 1);
        assert_eq!(x.findings[0].topic, None);
        assert_eq!(x.findings[0].says, "some discovery thing etcd 3.8 says");
        assert!(
            x.findings[1].says.contains("the token has no size"),
            "{}",
            x.findings[1].says
        );
        assert!(
            x.verdict.starts_with(
                "This member did not start: etcd stopped: failed to join discovery cluster"
            ),
            "{}",
            x.verdict
        );
    }
}
