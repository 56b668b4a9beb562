//! Both shells answer alike: one script of requests (minting, registrations and their
//! refusals, reads, waits from history, parked, ending idle and refused past the limit,
//! founders, limits, TTLs and a token's end, the ledger, wrong methods, CORS) run against the
//! Worker under wrangler and against the native server, and every answer compared: status,
//! the headers that matter, and the body byte for byte once each token, the host and the times
//! are replaced by placeholders. Runs only when both shells are chosen (the replicas, which
//! keep the waits limit per replica, are not compared).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use rendezvous_e2e::http::{send, Resp};
use rendezvous_e2e::service::{Service, Shell};
use rendezvous_e2e::{new_url, scratch};

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// The same deployment for both: small limits, short waits and lives.
const VARS: [(&str, &str); 8] = [
    ("MAX_SIZE", "3"),
    ("WAIT_TIMEOUT_SECONDS", "5"),
    ("TOKEN_LIFETIME_SECONDS", "30"),
    ("MAX_MEMBERS", "4"),
    ("MAX_WAITS", "2"),
    ("MAX_VALUE_BYTES", "64"),
    ("MAX_EVENTS", "10"),
    ("MINTS_PER_MINUTE", "1000"),
];

/// Headers whose values must agree (names compared without case).
const COMPARED: [&str; 11] = [
    "Content-Type",
    "X-Etcd-Index",
    "X-Raft-Index",
    "X-Raft-Term",
    "Retry-After",
    "Allow",
    "Cache-Control",
    "X-Content-Type-Options",
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Methods",
];

/// One answer, as compared: its label, status, headers that matter, normalised body.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    label: String,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

/// Runs requests on one service and keeps what each answered, normalised.
struct Script {
    base: String,
    /// Each token seen, by its placeholder's number.
    tokens: HashMap<String, usize>,
    seen: Vec<Seen>,
}

impl Script {
    fn new(base: String) -> Script {
        Script {
            base,
            tokens: HashMap::new(),
            seen: Vec::new(),
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}{rest}", self.base)
    }

    /// Sends a request (`rest` below the base) and records its answer under `label`.
    fn ask(&mut self, label: &str, method: &str, rest: &str, form: Option<&str>) -> Resp {
        let url = self.url(rest);
        let r = send(method, &url, form.map(str::as_bytes), form.and(FORM));
        self.record(label, &r);
        r
    }

    fn record(&mut self, label: &str, r: &Resp) {
        let headers = COMPARED
            .iter()
            .filter_map(|name| {
                r.header(name)
                    .map(|v| (name.to_string(), self.normalise(v)))
            })
            .collect();
        let body = self.normalise(&r.body);
        self.seen.push(Seen {
            label: label.to_string(),
            status: r.status,
            headers,
            body,
        });
    }

    /// Mints a token of `size`: its path (`/<token>`).
    fn mint(&mut self, label: &str, size: u64) -> String {
        let r = send("GET", &new_url(&self.base, size), None, None);
        assert_eq!(r.status, 200, "{r:?}");
        let token = r.body.rsplit('/').next().unwrap().to_string();
        let n = self.tokens.len();
        self.tokens.entry(token.clone()).or_insert(n);
        self.record(label, &r);
        format!("/{token}")
    }

    /// The text with each token, the base and every time replaced by a placeholder.
    fn normalise(&self, text: &str) -> String {
        let mut out = text.replace(&self.base, "BASE");
        for (token, n) in &self.tokens {
            out = out.replace(token, &format!("TOKEN{n}"));
        }
        times(&out)
    }
}

/// Replaces RFC 3339 times (`2026-12-04T04:17:03.951Z`) with `TIME` and `"atMs":N` with 0: the
/// shells ran the script at different moments.
fn times(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let looks_like_time = b.len() - i >= 20
            && b[i..i + 4].iter().all(u8::is_ascii_digit)
            && b[i + 4] == b'-'
            && b[i + 10] == b'T';
        if looks_like_time {
            let end = text[i..].find('Z').map_or(b.len(), |z| i + z + 1);
            out.push_str("TIME");
            i = end;
            continue;
        }
        if text[i..].starts_with("\"atMs\":") {
            out.push_str("\"atMs\":0");
            i += 7;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            continue;
        }
        let c = text[i..].chars().next().unwrap();
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The script both shells are run through. The token's indexes, in order: 1 the size, 2 m1,
/// 3 m2, 4 m3 (the cluster is full), 5 tt (a late member with a TTL: the fourth member key,
/// the most), 6 tt's expiry, 7 p1, 8 p1 leaves, 9 and 10 p3 (the tenth change, the most).
fn script(s: &mut Script) {
    let value = |name: &str, n: u8| format!("value={name}%3Dhttp%3A%2F%2F10.0.0.{n}%3A2380");
    s.ask("a size out of range", "GET", "/new?size=0", None);
    s.ask("a size that is no number", "GET", "/new?size=three", None);
    let t = s.mint("mint", 3);
    let minted = Instant::now();
    s.ask("the empty listing", "GET", &t, None);
    s.ask("the size", "GET", &format!("{t}/_config/size"), None);
    s.ask("a member not there", "GET", &format!("{t}/m1"), None);
    s.ask(
        "register m1",
        "PUT",
        &format!("{t}/m1?prevExist=false"),
        Some(&value("m1", 1)),
    );
    s.ask(
        "register m1 again",
        "PUT",
        &format!("{t}/m1?prevExist=false"),
        Some(&value("m1", 9)),
    );
    s.ask(
        "a value too long",
        "PUT",
        &format!("{t}/m2?prevExist=false"),
        Some(&format!("value={}", "x".repeat(80))),
    );
    s.ask(
        "a key that cannot be",
        "PUT",
        &format!("{t}/_x"),
        Some("value=1"),
    );
    s.ask("a bad escape", "PUT", &format!("{t}/m2"), Some("value=%zz"));
    s.ask("a bad flag", "GET", &format!("{t}?recursive=maybe"), None);
    s.ask(
        "the size written",
        "PUT",
        &format!("{t}/_config/size"),
        Some("value=5"),
    );
    s.ask(
        "register m2",
        "PUT",
        &format!("{t}/m2?prevExist=false"),
        Some(&value("m2", 2)),
    );
    s.ask(
        "a wait answered from history",
        "GET",
        &format!("{t}?recursive=true&wait=true&waitIndex=2"),
        None,
    );
    s.ask(
        "register m3: the cluster is full",
        "PUT",
        &format!("{t}/m3?prevExist=false"),
        Some(&value("m3", 3)),
    );
    s.ask(
        "the full listing, sorted",
        "GET",
        &format!("{t}?recursive=true&sorted=true"),
        None,
    );
    s.ask("a founder cannot leave", "DELETE", &format!("{t}/m1"), None);
    s.ask(
        "a late member with a TTL",
        "PUT",
        &format!("{t}/tt?ttl=1"),
        Some(&value("tt", 7)),
    );
    s.ask(
        "past the member limit",
        "PUT",
        &format!("{t}/p2?prevExist=false"),
        Some(&value("p2", 5)),
    );
    // The TTL runs out: expired by the alarm, or else by the next request, before it is read.
    std::thread::sleep(Duration::from_millis(1500));
    s.ask("the listing without the TTL member", "GET", &t, None);
    s.ask(
        "the expiry, from history",
        "GET",
        &format!("{t}/tt?wait=true&waitIndex=5"),
        None,
    );
    // A wait parked past the next event ends idle after WAIT_TIMEOUT_SECONDS.
    s.ask(
        "a wait that ends idle",
        "GET",
        &format!("{t}/nobody?wait=true"),
        None,
    );
    s.ask(
        "a late member, a proxy",
        "PUT",
        &format!("{t}/p1?prevExist=false"),
        Some(&value("p1", 4)),
    );
    s.ask(
        "the proxy leaves, compared",
        "DELETE",
        &format!("{t}/p1?prevValue=wrong"),
        None,
    );
    s.ask("the proxy leaves", "DELETE", &format!("{t}/p1"), None);
    s.ask("a wrong method", "POST", &t, Some("value=x"));
    s.ask("the preflight", "OPTIONS", &t, None);
    s.ask("the ledger", "GET", &format!("/ledger{t}"), None);

    // Two waits parked fill the token's room; a third is refused with Retry-After; a write
    // answers the two (well within WAIT_TIMEOUT_SECONDS of their parking).
    let waits: Vec<_> = (0..2)
        .map(|_| {
            let url = s.url(&format!("{t}?recursive=true&wait=true&waitIndex=9"));
            std::thread::spawn(move || rendezvous_e2e::http::get(&url))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    s.ask(
        "a third wait",
        "GET",
        &format!("{t}?recursive=true&wait=true&waitIndex=9"),
        None,
    );
    s.ask(
        "the write that wakes them",
        "PUT",
        &format!("{t}/p3?prevExist=false"),
        Some(&value("p3", 6)),
    );
    for (i, w) in waits.into_iter().enumerate() {
        let r = w.join().expect("a wait");
        s.record(&format!("parked wait {i}"), &r);
    }
    s.ask(
        "the tenth change",
        "PUT",
        &format!("{t}/p3"),
        Some(&value("p3", 7)),
    );
    s.ask(
        "past the changes' limit",
        "PUT",
        &format!("{t}/p3"),
        Some(&value("p3", 8)),
    );

    // A token never minted; and this one, past its life.
    s.ask(
        "a token never minted",
        "GET",
        "/ffffffffffffffffffffffffffffffff",
        None,
    );
    s.ask(
        "its ledger",
        "GET",
        "/ledger/ffffffffffffffffffffffffffffffff",
        None,
    );
    let later = s.mint("a second token", 1);
    s.ask(
        "a wait on it that ends idle",
        "GET",
        &format!("{later}?recursive=true&wait=true"),
        None,
    );
    // Past the first token's life (TOKEN_LIFETIME_SECONDS after its mint), however long the
    // script took to get here.
    let end = Duration::from_secs(31);
    std::thread::sleep(end.saturating_sub(minted.elapsed()));
    s.ask("the first token, ended", "GET", &t, None);
    s.ask(
        "a write to it, ended",
        "PUT",
        &format!("{t}/m9?prevExist=false"),
        Some(&value("m9", 9)),
    );
    s.ask("its ledger, ended", "GET", &format!("/ledger{t}"), None);
}

/// What the script must have seen on each shell for the comparison to mean anything.
fn check(seen: &[Seen]) {
    let status = |label: &str| {
        seen.iter()
            .find(|s| s.label == label)
            .unwrap_or_else(|| panic!("no answer {label}"))
            .status
    };
    for (label, expected) in [
        ("register m1 again", 412),
        ("a founder cannot leave", 400),
        ("past the member limit", 400),
        ("a third wait", 429),
        ("the write that wakes them", 201),
        ("past the changes' limit", 400),
        ("the first token, ended", 404),
    ] {
        assert_eq!(status(label), expected, "{label}");
    }
    for label in ["the expiry, from history", "parked wait 0", "parked wait 1"] {
        let s = seen.iter().find(|s| s.label == label).unwrap();
        assert!(!s.body.is_empty(), "{label} saw an event: {s:?}");
    }
    let idle = seen
        .iter()
        .find(|s| s.label == "a wait that ends idle")
        .unwrap();
    assert_eq!((idle.status, idle.body.as_str()), (200, ""), "{idle:?}");
}

fn both_shells_answer_the_same_script_alike() -> Result<(), Failed> {
    let mut runs = Vec::new();
    for shell in [Shell::Worker, Shell::Native] {
        let state = scratch(&format!("alike-{}", shell.name())).join("state");
        let service = Service::start(shell, 18805, &state, &VARS);
        let mut s = Script::new(service.base());
        script(&mut s);
        drop(service);
        runs.push((shell, s.seen));
    }
    let (worker, native) = (&runs[0].1, &runs[1].1);
    check(worker);
    check(native);
    assert_eq!(worker.len(), native.len(), "the same number of answers");
    let mut differ = Vec::new();
    for (w, n) in worker.iter().zip(native) {
        if w != n {
            differ.push(format!("{}:\n  worker: {w:?}\n  native: {n:?}", w.label));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} answers differ:\n{}",
        differ.len(),
        worker.len(),
        differ.join("\n")
    );
    let waits = worker.iter().filter(|s| s.label.contains("wait")).count();
    println!(
        "    {} answers alike on both shells ({waits} of them waits), byte for byte after placeholders",
        worker.len()
    );
    Ok(())
}

fn main() {
    // The replicas (`ha`) are left out: their waits limit is each replica's, and HAProxy
    // spreads the script's waits over three.
    let chosen = Shell::chosen();
    let both = chosen.contains(&Shell::Worker) && chosen.contains(&Shell::Native);
    let trial = Trial::test(
        "both::both_shells_answer_the_same_script_alike",
        both_shells_answer_the_same_script_alike,
    )
    .with_ignored_flag(!both);
    rendezvous_e2e::run(vec![trial]).exit();
}
