//! What only the native server has, because it is its own HTTP server and its own store: raw
//! malformed requests get a 4xx, never a 5xx; paths with dot segments or encoded slashes are
//! refused instead of resolved; slow clients are cut; connections over the cap wait without
//! hurting those in flight; SIGTERM answers parked waits and keeps what it acknowledged; a store
//! file that cannot be read answers 503 and is never written over.

use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use rendezvous_e2e::http::{get, put, raw, Raw};
use rendezvous_e2e::scratch;
use rendezvous_e2e::service::{Service, Shell};

fn start(case: &str, port: u16, vars: &[(&str, &str)]) -> Service {
    Service::start_at(
        Shell::Native,
        port,
        &scratch(&format!("native-{case}")).join("state"),
        vars,
    )
}

/// A token with two members, and its listing as a client sees it.
fn token_with_members(n: &Service) -> (String, String) {
    let url = get(&format!("{}/new?size=3", n.base())).body;
    for name in ["m1", "m2"] {
        let r = put(&format!("{url}/{name}?prevExist=false"), "value=x");
        assert_eq!(r.status, 201, "{r:?}");
    }
    let listing = get(&url).body;
    (url, listing)
}

fn malformed_requests_get_a_4xx_never_a_5xx() -> Result<(), Failed> {
    let n = start("malformed", 19810, &[]);
    let (url, listing) = token_with_members(&n);
    let path = url.trim_start_matches(&n.base()).to_string();
    let head = |line: &str, headers: &str, body: &str| {
        format!("{line}\r\nHost: x\r\n{headers}\r\n{body}").into_bytes()
    };
    let put = format!("PUT {path}/m3 HTTP/1.1");
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let long = "a".repeat(70_000);
    // (name, request, the status, words its text says; no status: the server may just close).
    // Every refusal of the HTTP layer says why in text and closes the connection.
    let cases: Vec<(&str, Vec<u8>, Option<u16>, &str)> = vec![
        (
            "garbage request line",
            b"GARBAGE\r\n\r\n".to_vec(),
            Some(400),
            "request line",
        ),
        ("bare line ends", b"\r\n\r\n\r\n".to_vec(), None, ""),
        (
            "no version",
            head(&format!("GET {path}"), "", ""),
            Some(400),
            "request line",
        ),
        (
            "connect",
            head("CONNECT example.com:443 HTTP/1.1", "", ""),
            Some(400),
            "not a path",
        ),
        (
            "conflicting content-length",
            head(
                &put,
                &format!("{form}Content-Length: 7\r\nContent-Length: 9\r\n"),
                "value=x",
            ),
            Some(400),
            "Content-Lengths 7 and 9",
        ),
        (
            "negative content-length",
            head(&put, "Content-Length: -7\r\n", "value=x"),
            Some(400),
            "not a length",
        ),
        (
            "a transfer coding that does not end in chunked",
            head(&put, "Transfer-Encoding: gzip\r\n", "value=x"),
            Some(400),
            "does not end in chunked",
        ),
        // RFC 9112 6.1: a coding the server does not know is 501, not a 400.
        (
            "an unknown transfer coding",
            head(
                &put,
                &format!("{form}Transfer-Encoding: gzip, chunked\r\n"),
                "7\r\nvalue=x\r\n0\r\n\r\n",
            ),
            Some(501),
            "gzip",
        ),
        // The shape of request smuggling (RFC 9112 6.3): refused, and the connection closed.
        (
            "both transfer-encoding and content-length",
            head(
                &put,
                &format!("{form}Transfer-Encoding: chunked\r\nContent-Length: 7\r\n"),
                "7\r\nvalue=x\r\n0\r\n\r\n",
            ),
            Some(400),
            "both Transfer-Encoding and Content-Length",
        ),
        (
            "two host headers",
            head(&format!("GET {path} HTTP/1.1"), "Host: y\r\n", ""),
            Some(400),
            "2 Host headers",
        ),
        (
            "no host",
            format!("GET {path} HTTP/1.1\r\n\r\n").into_bytes(),
            Some(400),
            "must name its Host",
        ),
        (
            "an expectation that cannot be met",
            head(&format!("GET {path} HTTP/1.1"), "Expect: a-miracle\r\n", ""),
            Some(417),
            "a-miracle",
        ),
        (
            "a header without a colon",
            head(&format!("GET {path} HTTP/1.1"), "Nonsense\r\n", ""),
            Some(400),
            "Name: value",
        ),
        (
            "a request line too long",
            head(&format!("GET {path}/{long} HTTP/1.1"), "", ""),
            Some(431),
            "longer than 65536 bytes",
        ),
        (
            "http/2 preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
            Some(400),
            "HTTP/1.1 only",
        ),
        (
            "bad chunk",
            head(
                &put,
                &format!("{form}Transfer-Encoding: chunked\r\n"),
                "zz\r\nvalue=x\r\n0\r\n\r\n",
            ),
            Some(400),
            "not hex",
        ),
    ];
    for (name, request, expected, words) in cases {
        let mut c = Raw::connect(&n.base());
        c.send(&request)?;
        let (status, text) = c.answer(Duration::from_secs(10));
        assert_eq!(status.or(expected), expected, "{name}: {text}");
        if let Some(s) = status {
            let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            assert!(
                !body.is_empty() && body.contains(words),
                "{name}: {s} says why: {text}"
            );
            // The router's refusal (a CONNECT's target is no path) reads the request whole; the
            // HTTP layer's cannot, and closes.
            if name != "connect" {
                assert!(text.contains("Connection: close"), "{name}: {text}");
                assert!(
                    c.closed(Duration::from_secs(5)),
                    "{name}: the connection closes"
                );
            }
        }
        assert_eq!(get(&url).body, listing, "{name} changed the registry");
    }
    // A chunked body read whole is a body like any other, and the connection goes on.
    let mut c = Raw::connect(&n.base());
    let chunked = head(
        &put,
        &format!("{form}Transfer-Encoding: chunked\r\n"),
        "7\r\nvalue=x\r\n0\r\n\r\n",
    );
    c.send(&chunked)?;
    assert_eq!(c.answer(Duration::from_secs(10)).0, Some(201));
    c.send(format!("GET {path}/m3 HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())?;
    let (status, text) = c.answer(Duration::from_secs(10));
    assert_eq!(status, Some(200), "{text}");
    assert!(text.contains("\"value\":\"x\""), "{text}");
    assert_eq!(get(&format!("{}/health", n.base())).body, "OK");
    Ok(())
}

fn dot_segments_and_encoded_slashes_are_refused_not_resolved() -> Result<(), Failed> {
    let n = start("paths", 19811, &[]);
    let (url, listing) = token_with_members(&n);
    let (other, other_listing) = token_with_members(&n);
    let t = url.trim_start_matches(&n.base()).to_string();
    let o = other.trim_start_matches(&n.base()).to_string();
    let form = "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n";
    for target in [
        format!("{t}/../{}/m9?prevExist=false", o.trim_start_matches('/')),
        format!("{t}/%2e%2e/{}/m9", o.trim_start_matches('/')),
        format!("{t}/./m9"),
        format!("{t}/m9/.."),
        format!("{t}/a%2Fb"),
        format!("{t}/a%2fb"),
        format!("{t}/a%5cb"),
    ] {
        let request = format!("PUT {target} HTTP/1.1\r\nHost: x\r\n{form}\r\nvalue=x");
        let (status, text) = raw(&n.base(), request.as_bytes());
        assert_eq!(status, Some(400), "{target}: {text}");
        assert!(
            text.contains("\"errorCode\":209"),
            "etcd's error JSON: {text}"
        );
        assert!(text.to_ascii_lowercase().contains("x-etcd-index"), "{text}");
    }
    assert_eq!(get(&url).body, listing);
    assert_eq!(
        get(&other).body,
        other_listing,
        "no other token was reached"
    );
    Ok(())
}

fn slow_clients_are_cut() -> Result<(), Failed> {
    let n = start(
        "slow",
        19812,
        &[
            ("HEADER_TIMEOUT_SECONDS", "1"),
            ("BODY_TIMEOUT_SECONDS", "1"),
        ],
    );
    let (url, listing) = token_with_members(&n);
    let path = url.trim_start_matches(&n.base()).to_string();

    // Headers that never finish: the connection is closed after the header timeout.
    let mut c = Raw::connect(&n.base());
    c.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n").as_bytes())?;
    let start = Instant::now();
    assert!(c.closed(Duration::from_secs(5)), "a slow header is cut");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );

    // A body that never finishes: 408 in etcd's format, and the connection closes.
    let mut c = Raw::connect(&n.base());
    c.send(
        format!(
            "PUT {path}/m3 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\r\nvalue="
        )
        .as_bytes(),
    )?;
    let (status, text) = c.answer(Duration::from_secs(5));
    assert_eq!(status, Some(408), "{text}");
    assert!(text.contains("\"errorCode\":210"), "{text}");
    assert!(c.closed(Duration::from_secs(2)));

    // An idle keep-alive connection is closed too, after one answered request.
    let mut c = Raw::connect(&n.base());
    c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")?;
    assert_eq!(c.answer(Duration::from_secs(5)).0, Some(200));
    assert!(
        c.closed(Duration::from_secs(5)),
        "an idle connection is closed"
    );
    assert_eq!(get(&url).body, listing);
    Ok(())
}

fn over_the_connection_cap_new_ones_wait_and_the_others_go_on() -> Result<(), Failed> {
    let n = start(
        "cap",
        19813,
        &[("MAX_CONNECTIONS", "3"), ("WAIT_TIMEOUT_SECONDS", "30")],
    );
    // Minted on a connection that closes, so that only this test's own three count.
    let (status, text) = raw(
        &n.base(),
        b"GET /new?size=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, Some(200), "{text}");
    let token = text.rsplit('/').next().unwrap().trim().to_string();
    let path = format!("/{token}");
    // Two connections parked in waits, a third kept for a registration.
    let mut waits: Vec<Raw> = (0..2)
        .map(|_| {
            let mut c = Raw::connect(&n.base());
            c.send(
                format!("GET {path}?recursive=true&wait=true HTTP/1.1\r\nHost: x\r\n\r\n")
                    .as_bytes(),
            )
            .expect("send");
            c
        })
        .collect();
    let mut writer = Raw::connect(&n.base());
    std::thread::sleep(Duration::from_millis(300));
    // A fourth is over the cap: it is not served while the three are open.
    let base = n.base();
    let fourth = std::thread::spawn(move || {
        let begun = Instant::now();
        let (status, _) = raw(
            &base,
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        (status, begun.elapsed())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !fourth.is_finished(),
        "the fourth waits for a free connection"
    );
    // The ones in flight go on: a registration answers both waits.
    writer.send(
        format!(
            "PUT {path}/m1?prevExist=false HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=x"
        )
        .as_bytes(),
    )?;
    assert_eq!(writer.answer(Duration::from_secs(5)).0, Some(201));
    for w in &mut waits {
        let (status, text) = w.answer(Duration::from_secs(5));
        assert_eq!(status, Some(200), "{text}");
        assert!(text.contains("\"action\":\"create\""), "{text}");
    }
    // One connection closes: the fourth is served.
    drop(writer);
    let (status, waited) = fourth.join().expect("the fourth client");
    assert_eq!(status, Some(200));
    assert!(waited >= Duration::from_millis(1500), "{waited:?}");
    Ok(())
}

fn sigterm_answers_parked_waits_and_keeps_what_it_acknowledged() -> Result<(), Failed> {
    let mut n = start("sigterm", 19814, &[("WAIT_TIMEOUT_SECONDS", "60")]);
    let url = get(&format!("{}/new?size=3", n.base())).body;
    let acked = put(
        &format!("{url}/m1?prevExist=false"),
        "value=m1%3Dhttp%3A%2F%2Fh%3A1",
    );
    assert_eq!(acked.status, 201);
    let waiters: Vec<_> = (0..5)
        .map(|_| {
            let u = format!("{url}?recursive=true&wait=true&waitIndex=3");
            std::thread::spawn(move || {
                let begun = Instant::now();
                (get(&u), begun.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let begun = Instant::now();
    let status = n.stop().expect("it was running");
    assert!(status.success(), "exit 0 on SIGTERM: {status}");
    assert!(
        begun.elapsed() < Duration::from_secs(5),
        "{:?}",
        begun.elapsed()
    );
    for w in waiters {
        let (r, waited) = w.join().expect("a waiter");
        assert_eq!((r.status, r.body.as_str()), (200, ""), "ended idle: {r:?}");
        assert!(waited < Duration::from_secs(10), "{waited:?}");
    }
    n.restart();
    let listing = get(&url).json();
    assert_eq!(listing["node"]["nodes"][0]["value"], "m1=http://h:1");
    let r = put(&format!("{url}/m2?prevExist=false"), "value=x");
    assert_eq!((r.status, r.etcd_index()), (201, 3), "the index goes on");
    n.stop();
    Ok(())
}

fn an_unreadable_store_answers_503_and_is_never_written_over() -> Result<(), Failed> {
    let mut n = start("unreadable", 19815, &[]);
    let (url, listing) = token_with_members(&n);
    n.stop();
    let file = n.state().join("rendezvous.sqlite");
    let good = std::fs::read(&file)?;
    // The database's header overwritten: SQLite cannot read the file at all.
    let mut bad = good.clone();
    bad[..100].copy_from_slice(&[0x5a; 100]);
    std::fs::write(&file, &bad)?;
    n.restart();
    for r in [
        get(&url),
        put(&format!("{url}/m3?prevExist=false"), "value=x"),
        get(&format!("{url}?wait=true&waitIndex=1")),
    ] {
        assert_eq!((r.status, r.error_code()), (503, 300), "{r:?}");
    }
    let minted = get(&format!("{}/new", n.base()));
    assert_eq!(minted.status, 503, "{minted:?}");
    let ledger = get(&format!(
        "{}/ledger/{}",
        n.base(),
        url.rsplit('/').next().unwrap()
    ));
    assert_eq!(ledger.status, 503, "{ledger:?}");
    assert_eq!(std::fs::read(&file)?, bad, "the file was not written over");
    // Repaired while the server runs: it opens the store again by itself.
    std::fs::write(&file, &good)?;
    let back =
        rendezvous_e2e::eventually("the store to open again", Duration::from_secs(10), || {
            let r = get(&url);
            (r.status == 200).then_some(r)
        });
    assert_eq!(back.body, listing, "the registry is as it was");
    let r = put(&format!("{url}/m3?prevExist=false"), "value=x");
    assert_eq!((r.status, r.etcd_index()), (201, 4));
    Ok(())
}

fn main() {
    let cases: [(&str, rendezvous_e2e::NativeCase); 6] = [
        (
            "malformed_requests_get_a_4xx_never_a_5xx",
            malformed_requests_get_a_4xx_never_a_5xx,
        ),
        (
            "dot_segments_and_encoded_slashes_are_refused_not_resolved",
            dot_segments_and_encoded_slashes_are_refused_not_resolved,
        ),
        ("slow_clients_are_cut", slow_clients_are_cut),
        (
            "over_the_connection_cap_new_ones_wait_and_the_others_go_on",
            over_the_connection_cap_new_ones_wait_and_the_others_go_on,
        ),
        (
            "sigterm_answers_parked_waits_and_keeps_what_it_acknowledged",
            sigterm_answers_parked_waits_and_keeps_what_it_acknowledged,
        ),
        (
            "an_unreadable_store_answers_503_and_is_never_written_over",
            an_unreadable_store_answers_503_and_is_never_written_over,
        ),
    ];
    rendezvous_e2e::run_native(&cases)
}
