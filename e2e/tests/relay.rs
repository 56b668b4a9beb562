//! `/relay` against each shell: another service's token read for the inspector, and every
//! refusal (a host not listed, a path that is not a token, a method, an answer too large or too
//! slow, a redirect away from the host, too many reads).

use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use rendezvous_e2e::http::{get, send};
use rendezvous_e2e::service::Shell;
use rendezvous_e2e::upstream::{self, LARGE, LISTED, LISTING, MOVED_AWAY, MOVED_HERE, SLOW};
use rendezvous_e2e::{base, shell, Shared};

/// The stand-in upstream's port; the shells may read only from it (over http).
const UPSTREAM: u16 = 19830;
const PER_MINUTE: u64 = 40;

fn relay(w: &Shared, url: &str) -> rendezvous_e2e::http::Resp {
    let base = base(w);
    get(&format!("{base}/relay?url={}", shared::form::encode(url)))
}

fn upstream_url(path: &str) -> String {
    format!("http://127.0.0.1:{UPSTREAM}{path}")
}

fn a_listed_token_is_read_as_the_upstream_answered(w: &Shared) -> Result<(), Failed> {
    let r = relay(w, &upstream_url(&format!("/{LISTED}")));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body, LISTING);
    assert_eq!(r.etcd_index(), 9);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(
        r.header("X-Relay-Upstream"),
        Some(upstream_url(&format!("/{LISTED}")).as_str())
    );
    let size = relay(w, &upstream_url(&format!("/{LISTED}/_config/size")));
    assert_eq!(size.json()["node"]["value"], "3");
    // The upstream's own errors pass through as they are.
    let missing = relay(w, &upstream_url("/66666666666666666666666666666666"));
    assert_eq!((missing.status, missing.error_code()), (404, 100));
    assert!(missing.header("X-Relay-Upstream").is_some());
    // A redirect within the host is followed.
    let moved = relay(w, &upstream_url(&format!("/{MOVED_HERE}")));
    assert_eq!((moved.status, moved.body.as_str()), (200, LISTING));
    Ok(())
}

fn hosts_not_listed_are_refused(w: &Shared) -> Result<(), Failed> {
    for url in [
        format!("http://127.0.0.1:{}/{LISTED}", UPSTREAM + 1),
        format!("https://127.0.0.1:{UPSTREAM}/{LISTED}"),
        format!("http://localhost:{UPSTREAM}/{LISTED}"),
        format!("http://discovery.etcd.io/{LISTED}"),
        format!("https://example.com/{LISTED}"),
    ] {
        let r = relay(w, &url);
        assert_eq!(r.status, 403, "{url}: {r:?}");
        assert!(r.body.contains("127.0.0.1"), "names the list: {}", r.body);
        assert!(r.header("X-Relay-Upstream").is_none());
    }
    let r = relay(w, &format!("http://discovery.etcd.io/{LISTED}"));
    assert!(r.body.contains("does not read from"), "{}", r.body);
    Ok(())
}

fn paths_that_are_not_a_token_are_refused(w: &Shared) -> Result<(), Failed> {
    for path in [
        "/".to_string(),
        "/new?size=3".into(),
        "/v2/keys/_etcd".into(),
        format!("/{LISTED}/8e9e05c52164694d"),
        format!("/{LISTED}?wait=true"),
        format!("/x/../{LISTED}"),
    ] {
        let r = relay(w, &upstream_url(&path));
        assert_eq!(r.status, 400, "{path}: {r:?}");
        assert!(r.body.contains("token"), "{path}: {}", r.body);
    }
    let base = base(w);
    let r = get(&format!("{base}/relay"));
    assert!(r.status == 400 && r.body.contains("?url="), "{r:?}");
    let r = get(&format!("{base}/relay?url=not-a-url"));
    assert_eq!(r.status, 400, "{r:?}");
    Ok(())
}

fn only_get_is_relayed(w: &Shared) -> Result<(), Failed> {
    let base = base(w);
    let url = format!(
        "{base}/relay?url={}",
        shared::form::encode(&upstream_url(&format!("/{LISTED}")))
    );
    for method in ["PUT", "POST", "DELETE", "HEAD", "PATCH"] {
        let r = send(
            method,
            &url,
            Some(b"value=x"),
            Some("application/x-www-form-urlencoded"),
        );
        assert_eq!(r.status, 405, "{method}: {r:?}");
    }
    Ok(())
}

fn oversized_slow_and_redirected_answers_are_not_relayed(w: &Shared) -> Result<(), Failed> {
    let r = relay(w, &upstream_url(&format!("/{LARGE}")));
    assert_eq!(r.status, 502, "{r:?}");
    assert!(r.body.contains("64 KiB"), "{}", r.body);

    let r = relay(w, &upstream_url(&format!("/{MOVED_AWAY}")));
    assert_eq!(r.status, 502, "{r:?}");
    assert!(r.body.contains("redirected to"), "{}", r.body);
    assert!(r.body.contains(&format!("{}", UPSTREAM + 1)), "{}", r.body);

    let start = Instant::now();
    let r = relay(w, &upstream_url(&format!("/{SLOW}")));
    let took = start.elapsed();
    assert_eq!(r.status, 504, "{r:?}");
    assert!(r.body.contains("within 5 s"), "{}", r.body);
    assert!(
        took >= Duration::from_millis(4_500) && took < Duration::from_millis(7_500),
        "gave up after {took:?}"
    );
    Ok(())
}

fn too_many_reads_from_one_client_get_429(w: &Shared) -> Result<(), Failed> {
    let url = upstream_url(&format!("/{LISTED}"));
    // Counted per process: HAProxy spreads the reads over the replicas.
    let per_shell = if shell(w) == Shell::Ha {
        PER_MINUTE * rendezvous_e2e::ha::REPLICAS as u64
    } else {
        PER_MINUTE
    };
    let refused = (0..=per_shell)
        .map(|_| relay(w, &url))
        .find(|r| r.status == 429)
        .expect("a 429 within the limit's count");
    let retry: u64 = refused.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(
        refused
            .body
            .contains(&format!("at most {PER_MINUTE} a minute")),
        "{}",
        refused.body
    );
    // Minting is counted apart.
    let base = base(w);
    assert_eq!(get(&format!("{base}/new?size=3")).status, 200);
    Ok(())
}

fn main() {
    if rendezvous_e2e::enabled() {
        upstream::serve(UPSTREAM);
    }
    let hosts = format!("http://127.0.0.1:{UPSTREAM}");
    let per_minute = PER_MINUTE.to_string();
    let vars = [
        ("RELAY_HOSTS", hosts.as_str()),
        ("RELAYS_PER_MINUTE", per_minute.as_str()),
    ];
    let services = rendezvous_e2e::per_shell(18795, "relay", &vars);
    // The limit's case last: it spends the minute's reads.
    let cases: [(&str, rendezvous_e2e::Case); 6] = [
        (
            "a_listed_token_is_read_as_the_upstream_answered",
            a_listed_token_is_read_as_the_upstream_answered,
        ),
        ("hosts_not_listed_are_refused", hosts_not_listed_are_refused),
        (
            "paths_that_are_not_a_token_are_refused",
            paths_that_are_not_a_token_are_refused,
        ),
        ("only_get_is_relayed", only_get_is_relayed),
        (
            "oversized_slow_and_redirected_answers_are_not_relayed",
            oversized_slow_and_redirected_answers_are_not_relayed,
        ),
        (
            "too_many_reads_from_one_client_get_429",
            too_many_reads_from_one_client_get_429,
        ),
    ];
    rendezvous_e2e::run_per_shell(&services, &cases)
}
