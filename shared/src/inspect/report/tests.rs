use super::*;
use serde_json::json;

const NOW: u64 = 1_800_000_000_000;
const URL: &str = "http://127.0.0.1:18787/7629da32f09da6fd3e015b0d56356b02";

fn listing(nodes: Value) -> Value {
    json!({"action":"get","node":{"key":"/7629da32f09da6fd3e015b0d56356b02","dir":true,"nodes":nodes,"modifiedIndex":1,"createdIndex":1}})
}

fn node(id: &str, value: &str, created: u64) -> Value {
    json!({"key": format!("/7629da32f09da6fd3e015b0d56356b02/{id}"), "value": value, "modifiedIndex": created, "createdIndex": created})
}

fn has(r: &Report, level: Level, words: &str) -> bool {
    r.findings
        .iter()
        .any(|f| f.level == level && f.message.contains(words))
}

fn real_three() -> Value {
    // What real etcd members registered through this service.
    listing(json!([
        node("9cd77f286f63382d", "m3=http://127.0.0.1:23380", 4),
        node("71c6d2b6be6ab36c", "m1=http://127.0.0.1:21380", 2),
        node("5e638e9cb06db528", "m2=http://127.0.0.1:22380", 3),
    ]))
}

#[test]
fn a_complete_registry_is_ordered_and_says_so() {
    let r = diagnose(&real_three(), SizeInfo::Known(3), Some(URL), NOW);
    assert_eq!(r.token.as_deref(), Some("7629da32f09da6fd3e015b0d56356b02"));
    let names: Vec<&str> = r.members.iter().map(|m| m.names[0].as_str()).collect();
    assert_eq!(names, ["m1", "m2", "m3"]);
    assert!(
        r.members
            .iter()
            .all(|m| m.role == Role::Voting && m.problems.is_empty()),
        "{r:?}"
    );
    assert!(r.complete);
    assert_eq!(r.joined, 3);
    assert!(has(&r, Level::Good, "complete: 3 of 3"));
    assert!(has(&r, Level::Warning, "this token is used"));
    assert_eq!(r.findings[0].level, Level::Warning, "most severe first");
}

#[test]
fn waiting_fresh_and_late_members() {
    let r = diagnose(
        &listing(json!([node(
            "71c6d2b6be6ab36c",
            "m1=http://127.0.0.1:21380",
            2
        )])),
        SizeInfo::Known(3),
        Some(URL),
        NOW,
    );
    assert!(!r.complete);
    assert_eq!(r.joined, 1);
    assert!(has(&r, Level::Info, "waiting: 1 of 3"));
    let r = diagnose(&listing(json!([])), SizeInfo::Known(3), None, NOW);
    assert!(has(&r, Level::Info, "fresh"));
    let mut five = real_three();
    five["node"]["nodes"]
        .as_array_mut()
        .unwrap()
        .push(node("aa", "m4=http://127.0.0.1:24380", 9));
    let r = diagnose(&five, SizeInfo::Known(3), None, NOW);
    assert_eq!(r.members[3].role, Role::Proxy);
    assert_eq!(r.joined, 3);
    assert!(has(
        &r,
        Level::Info,
        "1 member(s) registered after the cluster was full"
    ));
}

#[test]
fn size_problems() {
    let r = diagnose(&real_three(), SizeInfo::Missing, None, NOW);
    assert!(has(&r, Level::Error, "size key not found"));
    let r = diagnose(&real_three(), SizeInfo::Bad("three".into()), None, NOW);
    assert!(has(&r, Level::Error, "bad size key"));
    let r = diagnose(&real_three(), SizeInfo::Unknown, None, NOW);
    assert!(r.members.iter().all(|m| m.role == Role::Unknown));
    assert!(has(&r, Level::Info, "not part of a listing"));
    let r = diagnose(
        &json!({"errorCode":100,"message":"Key not found","index":0}),
        SizeInfo::Missing,
        None,
        NOW,
    );
    assert!(has(&r, Level::Error, "does not exist"));
}

#[test]
fn duplicates_bad_urls_expiry_and_mismatched_keys() {
    let reg = listing(json!([
        node("71c6d2b6be6ab36c", "m1=http://127.0.0.1:21380", 2),
        node("bbbb", "m1=http://127.0.0.1:21380", 3),
        node("cccc", "m3=10.0.0.3:2380", 4),
        node("dddd", "", 5),
        {"key": "/t/eeee", "value": "m5=http://10.0.0.5:2380", "createdIndex": 6, "expiration": crate::time::rfc3339(NOW - 90_000), "ttl": 1},
    ]));
    let r = diagnose(&reg, SizeInfo::Known(5), Some(URL), NOW);
    assert!(has(
        &r,
        Level::Error,
        "the name \"m1\" is used by more than one member"
    ));
    assert!(has(
        &r,
        Level::Error,
        "http://127.0.0.1:21380 is registered by more than one"
    ));
    assert!(has(
        &r,
        Level::Error,
        "peer URL \"10.0.0.3:2380\" is not http(s)://host:port"
    ));
    assert!(has(&r, Level::Error, "registered no peer URL"));
    assert!(has(&r, Level::Warning, "expired 1 min ago"));
    assert!(has(
        &r,
        Level::Warning,
        "member bbbb: its key does not match"
    ));
    assert!(
        !r.members[0]
            .problems
            .iter()
            .any(|p| p.check == Check::KeyMismatch),
        "the real one matches"
    );
}

#[test]
fn the_docs_loose_dump_shows_three_members() {
    let text = "{\n  action: \"get\",\n  node: {\n    key: \"/_etcd/registry/506f6c1bc729377252232a0121247119\",\n    dir: true,\n    nodes: [\n      {\n        key: \"/_etcd/registry/506f6c1bc729377252232a0121247119/0d79b4791be9688332cc05367366551e\",\n        value: \"http://10.183.202.105:7001\",\n        expiration: \"2014-08-17T16:21:37.426001686Z\",\n        ttl: 576008,\n        modifiedIndex: 72783864,\n        createdIndex: 72783864\n      },\n      {\n        key: \"/_etcd/registry/506f6c1bc729377252232a0121247119/c72c63ffce6680737ea2b670456aaacd\",\n        value: \"http://10.65.177.56:7001\",\n        expiration: \"2014-08-17T12:05:57.717243529Z\",\n        ttl: 560669,\n        modifiedIndex: 72626400,\n        createdIndex: 72626400\n      },\n      {\n        key: \"/_etcd/registry/506f6c1bc729377252232a0121247119/f7a93d1f0cd4d318c9ad0b624afb9cf9\",\n        value: \"http://10.29.193.50:7001\",\n        expiration: \"2014-08-17T17:18:25.045563473Z\",\n        ttl: 579416,\n        modifiedIndex: 72821950,\n        createdIndex: 72821950\n      }\n    ],\n    modifiedIndex: 69367741,\n    createdIndex: 69367741\n  }\n}";
    let v = crate::inspect::loose_json::parse(text).unwrap();
    let r = diagnose(&v, SizeInfo::Known(3), None, 1_408_000_000_000);
    assert_eq!(r.token.as_deref(), Some("506f6c1bc729377252232a0121247119"));
    let ips: Vec<&str> = r.members.iter().map(|m| m.peer_urls[0].as_str()).collect();
    assert_eq!(
        ips,
        [
            "http://10.65.177.56:7001",
            "http://10.183.202.105:7001",
            "http://10.29.193.50:7001"
        ]
    );
    assert!(r.complete);
    assert!(r
        .members
        .iter()
        .all(|m| m.names.is_empty() && m.expires_in_ms.unwrap() > 0));
}

#[test]
fn hostile_strings_are_kept_as_data() {
    let evil = "<script>alert(1)</script>=http://x:1,\u{0}\u{202e}=javascript:alert(1)";
    let r = diagnose(
        &listing(json!([node("<img src=x onerror=alert(1)>", evil, 2)])),
        SizeInfo::Known(1),
        Some(URL),
        NOW,
    );
    let m = &r.members[0];
    assert_eq!(m.id, "<img src=x onerror=alert(1)>");
    assert_eq!(m.names[0], "<script>alert(1)</script>");
    assert!(has(&r, Level::Error, "javascript:alert(1)"));
}

fn checks(r: &Report) -> Vec<(Check, Level)> {
    r.findings.iter().map(|f| (f.check, f.level)).collect()
}

fn with_values(values: &[&str]) -> Value {
    let nodes: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| node(&format!("{:016x}", i + 1), v, i as u64 + 2))
        .collect();
    listing(Value::Array(nodes))
}

#[test]
fn findings_carry_their_check_and_level() {
    let r = diagnose(&real_three(), SizeInfo::Known(3), Some(URL), NOW);
    let c = checks(&r);
    assert!(c.contains(&(Check::Progress, Level::Good)));
    assert!(c.contains(&(Check::InUse, Level::Warning)));
    // Three members on one machine: loopback, and ports other than 2380, each said once.
    assert_eq!(c.iter().filter(|x| x.0 == Check::LocalAddress).count(), 1);
    assert_eq!(
        c.iter()
            .filter(|x| **x == (Check::Port, Level::Info))
            .count(),
        1
    );
    let local = r
        .findings
        .iter()
        .find(|f| f.check == Check::LocalAddress)
        .unwrap();
    assert!(
        local
            .message
            .contains("71c6d2b6be6ab36c (127.0.0.1), 5e638e9cb06db528 (127.0.0.1)"),
        "{}",
        local.message
    );
    assert!(r.members.iter().all(|m| m.problems.is_empty()));
}

#[test]
fn address_checks_each_say_what_is_wrong() {
    let only = |values: &[&str], size: u64| {
        let r = diagnose(&with_values(values), SizeInfo::Known(size), None, NOW);
        let mut c: Vec<Check> = r
            .findings
            .iter()
            .map(|f| f.check)
            .filter(|c| !matches!(c, Check::Progress | Check::InUse | Check::KeyMismatch))
            .collect();
        c.dedup();
        (c, r)
    };
    let (c, _) = only(&["a=http://10.0.0.1:2380", "b=http://10.0.0.2:2380"], 3);
    assert!(c.is_empty(), "a plain private cluster: {c:?}");

    let (c, r) = only(&["a=http://127.0.0.1:2380", "b=http://169.254.1.1:2380"], 3);
    assert_eq!(c, [Check::LocalAddress]);
    assert!(r.findings.iter().any(|f| f.message.contains(
        "loopback address registered by 0000000000000001 (127.0.0.1): only the machine itself"
    )));
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("only the local network link")));
    let (c, _) = only(&["a=http://127.0.0.1:2380"], 1);
    assert!(c.is_empty(), "loopback is fine for a cluster of one: {c:?}");

    let (c, r) = only(&["a=http://10.0.0.1:2380", "b=https://10.0.0.2:2380"], 2);
    assert_eq!(c, [Check::MixedSchemes]);
    assert!(r
        .findings
        .iter()
        .any(|f| f.message.contains("1 of 2 peer URLs use https")));

    let (c, _) = only(&["a=http://10.0.0.1:2380", "b=http://203.0.113.7:2380"], 2);
    assert_eq!(c, [Check::MixedScopes]);
    let (c, _) = only(&["a=http://10.0.0.1:2380", "b=http://etcd-b.lan:2380"], 2);
    assert!(c.is_empty(), "a name's scope is not guessed: {c:?}");

    let (c, r) = only(&["a=http://10.0.0.1:2380", "b=http://10.0.0.2:12380"], 2);
    assert_eq!(c, [Check::Port]);
    assert_eq!(
        r.findings
            .iter()
            .find(|f| f.check == Check::Port)
            .unwrap()
            .level,
        Level::Info
    );

    let (c, _) = only(&["a=http://10.0.0.1:2380", "a=http://10.0.0.1:2380"], 2);
    assert_eq!(c, [Check::DuplicateName, Check::DuplicatePeerUrl]);
}

#[test]
fn outside_numbers_never_overflow_or_truncate() {
    let reg = listing(json!([
        {"key": "/t/aaaa", "value": "a=http://10.0.0.1:2380", "createdIndex": 2, "ttl": i64::MIN},
        {"key": "/t/bbbb", "value": "b=http://10.0.0.2:2380", "createdIndex": 3, "ttl": i64::MAX},
        {"key": "/t/cccc", "value": "c=http://10.0.0.3:2380", "createdIndex": 4, "expiration": "9999-12-31T23:59:59Z"},
    ]));
    let r = diagnose(&reg, SizeInfo::Known(u64::MAX), None, u64::MAX);
    assert_eq!(r.members[0].expires_in_ms, Some(i64::MIN));
    assert!(r
        .findings
        .iter()
        .any(|f| f.check == Check::Expired && f.message.contains("years ago")));
    assert_eq!(r.members[1].expires_in_ms, Some(i64::MAX));
    // A size of 2^64-1 is not 4294967295 on a 32-bit page: every member votes, none is late.
    assert_eq!(r.joined, 3);
    assert!(!r.complete);
    assert!(r.members.iter().all(|m| m.role == Role::Voting));
}
