//! Hostile input over HTTP against each shell: malformed paths, queries, bodies, headers and
//! methods. Each gets a clear 4xx (etcd's error JSON on token routes), never a 5xx or a hang, and
//! the token's registry is unchanged afterwards. (The client resolves dot segments as URL rules
//! say before sending; what a shell does with raw ones is `tests/native.rs`'.)

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use rendezvous_e2e::http::{get, put, send, Resp};
use rendezvous_e2e::scratch;
use rendezvous_e2e::service::{Service, Shell};

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

struct Fixture {
    service: Service,
    /// A token with two members, which no case may change.
    url: String,
}

/// One hostile request: `path` is below the token unless it starts with `!` (from the root).
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    body: Option<Vec<u8>>,
    content_type: Option<&'static str>,
    /// The exact 4xx expected, or any 4xx when `None`.
    status: Option<u16>,
    /// Whether the answer is etcd's error JSON (not for paths that resolve outside the token).
    etcd: bool,
}

fn case(
    name: &'static str,
    method: &'static str,
    path: impl Into<String>,
    status: Option<u16>,
) -> Case {
    let path = path.into();
    let etcd = !path.starts_with('!');
    Case {
        name,
        method,
        path,
        body: None,
        content_type: None,
        status,
        etcd,
    }
}

/// A path that URL rules (RFC 3986 dot segments) resolve to `/`, the app: a plain 405 for a PUT.
fn resolves_to_root(mut c: Case) -> Case {
    c.etcd = false;
    c
}

fn with_body(mut c: Case, body: impl Into<Vec<u8>>, ct: Option<&'static str>) -> Case {
    c.body = Some(body.into());
    c.content_type = ct;
    c
}

fn cases() -> Vec<Case> {
    let long = "a".repeat(65);
    let very_long = "b".repeat(6000);
    vec![
        // Paths
        // Dot segments are resolved by URL rules before sending: `/<token>/..` is `/` (the app),
        // `/<token>/.` is the token's directory; neither can reach another token's keys.
        resolves_to_root(case("path_dotdot", "PUT", "/..?prevExist=false", Some(405))),
        resolves_to_root(case("path_encoded_dotdot", "PUT", "/%2e%2e", Some(405))),
        case("path_dot", "PUT", "/.", Some(403)),
        case(
            "path_traversal_out_of_token",
            "GET",
            "/../../etc/passwd",
            None,
        ),
        case("path_encoded_slash", "PUT", "/a%2Fb", Some(400)),
        case("path_nul", "PUT", "/a%00b", Some(400)),
        case("path_not_utf8", "PUT", "/%ff%fe", Some(400)),
        case("path_encoded_letter", "PUT", "/%61", Some(400)),
        case("path_unicode", "PUT", "/%C3%A9t%C3%A9", Some(400)),
        case("path_hidden", "PUT", "/_secret", Some(400)),
        case("path_config_other", "PUT", "/_config/other", Some(400)),
        case("path_config_deep", "PUT", "/_config/size/x", Some(400)),
        case("path_deep", "PUT", "/a/b/c/d", Some(400)),
        case("path_leading_dash", "PUT", "/-a", Some(400)),
        case("path_name_too_long", "PUT", format!("/{long}"), Some(400)),
        case("path_very_long", "PUT", format!("/{very_long}"), None),
        case("path_get_deep", "GET", "/a/b", Some(404)),
        case("path_delete_hidden", "DELETE", "/_config", Some(403)),
        case("path_delete_dir", "DELETE", "", Some(403)),
        case("path_put_dir", "PUT", "", Some(403)),
        case("path_size_write", "PUT", "/_config/size", Some(400)),
        case("path_size_delete", "DELETE", "/_config/size", Some(400)),
        // Queries
        case("query_bad_escape", "GET", "?recursive=%zz", Some(400)),
        case("query_not_utf8", "GET", "?a=%ff", Some(400)),
        case("query_bad_bool", "GET", "?recursive=2", Some(400)),
        case("query_bad_sorted", "GET", "?sorted=x", Some(400)),
        case("query_bad_quorum", "GET", "?quorum=maybe", Some(400)),
        case("query_wait_bad_bool", "GET", "?wait=perhaps", Some(400)),
        case(
            "query_wait_index_negative",
            "GET",
            "?wait=true&waitIndex=-1",
            Some(400),
        ),
        case(
            "query_wait_index_overflow",
            "GET",
            "?wait=true&waitIndex=99999999999999999999999",
            Some(400),
        ),
        case(
            "query_wait_index_float",
            "GET",
            "?wait=true&waitIndex=1.5",
            Some(400),
        ),
        case("query_wait_on_put", "PUT", "/a?wait=true", Some(400)),
        case("query_stream", "GET", "?wait=true&stream=true", Some(400)),
        case("query_dir", "PUT", "/a?dir=true", Some(400)),
        case("query_refresh", "PUT", "/a?refresh=true&ttl=5", Some(400)),
        case("query_ttl_negative", "PUT", "/a?ttl=-1", Some(400)),
        case("query_ttl_word", "PUT", "/a?ttl=soon", Some(400)),
        case(
            "query_ttl_overflow",
            "PUT",
            "/a?ttl=99999999999999999999",
            Some(400),
        ),
        case("query_prev_exist_bad", "PUT", "/a?prevExist=yes", Some(400)),
        case("query_prev_value_empty", "PUT", "/a?prevValue=", Some(400)),
        case(
            "query_prev_index_word",
            "PUT",
            "/a?prevIndex=two",
            Some(400),
        ),
        case(
            "query_duplicate_create",
            "PUT",
            "/m1?prevExist=false&value=again",
            Some(412),
        ),
        case(
            "query_update_missing",
            "PUT",
            "/nobody?prevExist=true&value=x",
            Some(404),
        ),
        case(
            "query_cas_mismatch",
            "PUT",
            "/m1?prevValue=wrong&value=x",
            Some(412),
        ),
        case(
            "query_cad_mismatch",
            "DELETE",
            "/m1?prevIndex=999",
            Some(412),
        ),
        // Bodies
        with_body(
            case("body_not_utf8", "PUT", "/a", Some(400)),
            b"value=\xff\xfe\xfd".to_vec(),
            FORM,
        ),
        with_body(
            case("body_bad_escape", "PUT", "/a", Some(400)),
            "value=%",
            FORM,
        ),
        with_body(
            case("body_escaped_not_utf8", "PUT", "/a", Some(400)),
            "value=%C3%28",
            FORM,
        ),
        with_body(
            case("body_oversized", "PUT", "/a", Some(413)),
            vec![b'v'; 70_000],
            FORM,
        ),
        with_body(
            case("body_value_too_long", "PUT", "/a", Some(400)),
            format!("value={}", "x".repeat(5000)),
            FORM,
        ),
        with_body(
            case("body_ttl_garbage", "PUT", "/a", Some(400)),
            "value=x&ttl=%20",
            FORM,
        ),
        with_body(
            case("body_many_fields", "PUT", "/a", Some(400)),
            format!("{}ttl=bad", "k=v&".repeat(5000)),
            FORM,
        ),
        // Methods
        with_body(case("method_post", "POST", "", Some(405)), "value=x", FORM),
        with_body(
            case("method_patch", "PATCH", "/a", Some(405)),
            "value=x",
            FORM,
        ),
        case("method_propfind", "PROPFIND", "/a", Some(405)),
        case("method_post_new", "POST", "!/new", Some(405)),
        case("method_put_health", "PUT", "!/health", Some(405)),
        case(
            "method_delete_ledger",
            "DELETE",
            "!/ledger/0123456789abcdef0123456789abcdef",
            Some(405),
        ),
        // Sizes
        case("size_zero", "GET", "!/new?size=0", Some(400)),
        case("size_negative", "GET", "!/new?size=-3", Some(400)),
        case("size_exponent", "GET", "!/new?size=1e3", Some(400)),
        case(
            "size_huge",
            "GET",
            "!/new?size=999999999999999999999999999999",
            Some(400),
        ),
        case("size_nul", "GET", "!/new?size=%00", Some(400)),
        case("size_too_large", "GET", "!/new?size=10", Some(400)),
        // Tokens and routes
        case(
            "token_upper_case",
            "GET",
            "!/0123456789ABCDEF0123456789ABCDEF",
            Some(404),
        ),
        case(
            "token_too_short",
            "PUT",
            "!/0123456789abcdef/a?value=x",
            Some(404),
        ),
        case(
            "token_never_minted",
            "PUT",
            "!/ffffffffffffffffffffffffffffffff/a?prevExist=false&value=x",
            Some(404),
        ),
        case("route_v2_keys", "GET", "!/v2/keys/", Some(404)),
        case(
            "config_bad_query",
            "GET",
            "!/ignition?platform=%ff",
            Some(400),
        ),
        case(
            "config_injection",
            "GET",
            "!/butane?discovery=https%3A%2F%2Fh%2Ft%22%0AExecStartPre%3D%2Fbin%2Fsh",
            Some(400),
        ),
        // The relay reads only a token of a listed host; each of these is refused before any
        // connection is made (the default RELAY_HOSTS, discovery.etcd.io).
        case("relay_nul", "GET", "!/relay?url=%00", Some(400)),
        case("relay_not_utf8", "GET", "!/relay?url=%ff%fe", Some(400)),
        case(
            "relay_header_injection",
            "GET",
            "!/relay?url=https%3A%2F%2Fdiscovery.etcd.io%2F0123456789abcdef0123456789abcdef%0D%0AX-Injected%3A%201",
            Some(400),
        ),
        case(
            "relay_user_info",
            "GET",
            "!/relay?url=https%3A%2F%2Fdiscovery.etcd.io%40169.254.169.254%2F0123456789abcdef0123456789abcdef",
            Some(400),
        ),
        case(
            "relay_backslash",
            "GET",
            "!/relay?url=https%3A%2F%2Fdiscovery.etcd.io%5C%40evil.example%2F0123456789abcdef0123456789abcdef",
            Some(400),
        ),
        case(
            "relay_metadata_service",
            "GET",
            "!/relay?url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F",
            Some(403),
        ),
        case(
            "relay_this_service",
            "GET",
            "!/relay?url=http%3A%2F%2F127.0.0.1%3A18794%2F0123456789abcdef0123456789abcdef",
            Some(403),
        ),
        case(
            "relay_very_long",
            "GET",
            format!("!/relay?url=https%3A%2F%2Fdiscovery.etcd.io%2F{}", "a".repeat(60_000)),
            None,
        ),
        with_body(
            case(
                "relay_post",
                "POST",
                "!/relay?url=https%3A%2F%2Fdiscovery.etcd.io%2F0123456789abcdef0123456789abcdef",
                Some(405),
            ),
            "x",
            FORM,
        ),
    ]
}

/// The token's registry as a client sees it: listing and index.
fn snapshot(url: &str) -> (String, u64) {
    let r = get(url);
    assert_eq!(r.status, 200, "{r:?}");
    (r.body.clone(), r.etcd_index())
}

fn run(fix: &Fixture, c: &Case) -> Result<(), Failed> {
    let before = snapshot(&fix.url);
    let target = match c.path.strip_prefix('!') {
        Some(p) => format!("{}{p}", fix.service.base()),
        None => format!("{}{}", fix.url, c.path),
    };
    let start = Instant::now();
    let r: Resp = send(c.method, &target, c.body.as_deref(), c.content_type);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{} took {:?}",
        c.name,
        start.elapsed()
    );
    match c.status {
        Some(s) => assert_eq!(r.status, s, "{}: {r:?}", c.name),
        None => assert!((400..500).contains(&r.status), "{}: {r:?}", c.name),
    }
    // Token routes answer in etcd's error format.
    if c.etcd && r.status != 413 {
        let code = r.error_code();
        assert!(code > 0, "{}", c.name);
        assert!(r.header("X-Etcd-Index").is_some(), "{}", c.name);
    }
    assert_eq!(
        snapshot(&fix.url),
        before,
        "{}: the registry changed",
        c.name
    );
    Ok(())
}

fn a_token_full_of_keys(fix: &Fixture) -> Result<(), Failed> {
    let url = fix.service.mint(3);
    let mut refused = 0;
    for i in 0..80 {
        let r = put(&format!("{url}/k{i}?prevExist=false"), "value=x");
        match r.status {
            201 => {}
            400 => {
                assert_eq!(r.error_code(), 103, "{r:?}");
                refused += 1;
            }
            other => panic!("key {i}: {other} {r:?}"),
        }
    }
    assert_eq!(refused, 80 - 64, "MAX_MEMBERS is 64");
    let listing = get(&url).json();
    assert_eq!(listing["node"]["nodes"].as_array().unwrap().len(), 64);
    // Founders (the first 3) are fixed; the rest can still leave.
    assert_eq!(send("DELETE", &format!("{url}/k0"), None, None).status, 400);
    assert_eq!(
        send("DELETE", &format!("{url}/k70"), None, None).status,
        404
    );
    assert_eq!(
        send("DELETE", &format!("{url}/k63"), None, None).status,
        200
    );
    Ok(())
}

fn a_huge_header_is_refused_cleanly(fix: &Fixture) -> Result<(), Failed> {
    let before = snapshot(&fix.url);
    let resp = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
        .put(&format!("{}/h?prevExist=false", fix.url))
        .set("X-Filler", &"z".repeat(200_000))
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string("value=x");
    match resp {
        // Accepted (headers are not ours to limit), refused, or the connection closed by the
        // runtime's HTTP layer: never a 5xx, never a hang.
        Ok(r) => assert!(r.status() < 500),
        Err(ureq::Error::Status(code, _)) => assert!((400..500).contains(&code), "{code}"),
        // The server may close while the client is still sending the header: a broken pipe.
        Err(ureq::Error::Transport(t)) => assert!(
            ["reset", "closed", "EOF", "Broken pipe"]
                .iter()
                .any(|w| t.to_string().contains(w)),
            "{t}"
        ),
    }
    let after = get(&fix.url);
    // Either nothing changed, or exactly the one member was added.
    if after.body != before.0 {
        assert_eq!(after.etcd_index(), before.1 + 1);
    }
    Ok(())
}

fn fixture(shell: Shell) -> Fixture {
    let persist = scratch(&format!("hostile-{}", shell.name())).join("state");
    let service = Service::start(shell, 18794, &persist, &[("WAIT_TIMEOUT_SECONDS", "2")]);
    let url = service.mint(3);
    for (i, name) in ["m1", "m2"].iter().enumerate() {
        let r = put(
            &format!("{url}/{name}?prevExist=false"),
            &format!("value={name}%3Dhttp%3A%2F%2F10.0.0.{i}%3A2380"),
        );
        assert_eq!(r.status, 201);
    }
    Fixture { service, url }
}

fn main() {
    type Shared = Arc<Mutex<Option<Fixture>>>;
    let fixtures: Vec<(Shell, Shared)> = Shell::chosen()
        .into_iter()
        .map(|shell| {
            let f = rendezvous_e2e::enabled().then(|| fixture(shell));
            (shell, Arc::new(Mutex::new(f)))
        })
        .collect();
    type Special = fn(&Fixture) -> Result<(), Failed>;
    let specials: [(&str, Special); 2] = [
        ("a_token_full_of_keys", a_token_full_of_keys),
        (
            "a_huge_header_is_refused_cleanly",
            a_huge_header_is_refused_cleanly,
        ),
    ];
    let mut trials: Vec<Trial> = Vec::new();
    for (shell, fixture) in &fixtures {
        for c in cases() {
            let f = fixture.clone();
            let name = format!("{}::hostile::{}", shell.name(), c.name);
            trials.push(Trial::test(name, move || {
                let guard = f.lock().unwrap_or_else(|e| e.into_inner());
                run(guard.as_ref().unwrap(), &c)
            }));
        }
        for (name, f_) in specials {
            let f = fixture.clone();
            trials.push(Trial::test(
                format!("{}::{name}", shell.name()),
                move || {
                    let guard = f.lock().unwrap_or_else(|e| e.into_inner());
                    f_(guard.as_ref().unwrap())
                },
            ));
        }
    }
    let conclusion = rendezvous_e2e::run(trials);
    for (_, f) in &fixtures {
        drop(f.lock().unwrap_or_else(|e| e.into_inner()).take());
    }
    conclusion.exit();
}
