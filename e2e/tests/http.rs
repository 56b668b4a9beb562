//! The discovery endpoint over HTTP, against each shell: the Worker under wrangler and the
//! native server.

use std::time::{Duration, Instant};

use libtest_mimic::Failed;
use rendezvous_e2e::ha;
use rendezvous_e2e::http::{delete, get, put, send};
use rendezvous_e2e::service::{Service, Shell};
use rendezvous_e2e::storage;
use rendezvous_e2e::{base, eventually, lock, mint, scratch_for, shell, Shared};

/// A scratch state folder of this case and shell.
fn state(w: &Shared, case: &str) -> std::path::PathBuf {
    scratch_for(w, case).join("state")
}

fn service_paths(w: &Shared) -> Result<(), Failed> {
    let b = base(w);
    let r = get(&format!("{b}/health"));
    assert_eq!((r.status, r.body.as_str()), (200, "OK"));
    let r = get(&format!("{b}/robots.txt"));
    assert!(r.body.contains("Disallow: /"));
    // `/` is the browser app, from the Worker's static assets.
    let r = get(&format!("{b}/"));
    assert_eq!(r.status, 200);
    assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(r.body.contains("<title>Rendezvous"), "{}", r.body);
    assert!(r.body.contains("rendezvous-frontend_bg.wasm"));
    let wasm = rendezvous_e2e::http::send(
        "HEAD",
        &format!("{b}/rendezvous-frontend_bg.wasm"),
        None,
        None,
    );
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("Content-Type"), Some("application/wasm"));
    // The page runs only its own scripts (the inline loader by hash) and cannot be framed.
    let csp = r
        .header("Content-Security-Policy")
        .expect("a CSP on the page");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(r.header("X-Frame-Options"), Some("DENY"));
    assert_eq!(r.header("Referrer-Policy"), Some("no-referrer"));
    let api = get(&format!("{b}/health"));
    assert_eq!(api.header("X-Content-Type-Options"), Some("nosniff"));
    Ok(())
}

fn new_mints_a_plain_text_url(w: &Shared) -> Result<(), Failed> {
    let b = base(w);
    let r = get(&format!("{b}/new"));
    assert_eq!(r.status, 200);
    assert!(r.header("Content-Type").unwrap().starts_with("text/plain"));
    assert!(!r.body.ends_with('\n'), "no trailing newline: {:?}", r.body);
    let token = r
        .body
        .strip_prefix(&format!("{b}/"))
        .expect("the request's origin");
    assert!(shared::Token::from_segment(token).is_ok(), "{token}");
    let size = get(&format!("{}/_config/size", r.body));
    assert_eq!(size.json()["node"]["value"], "3", "default size 3");
    let r5 = get(&format!("{b}/new?size=5"));
    assert_ne!(r5.body, r.body);
    assert_eq!(
        get(&format!("{}/_config/size", r5.body)).json()["node"]["value"],
        "5"
    );
    Ok(())
}

fn new_refuses_bad_sizes(w: &Shared) -> Result<(), Failed> {
    let b = base(w);
    for (size, why) in [
        ("0", "too small"),
        ("-1", "too small"),
        ("abc", "not a whole number"),
        ("10", "too large"),
        ("1.5", "not a whole number"),
        ("", "empty"),
    ] {
        let r = get(&format!("{b}/new?size={size}"));
        assert_eq!(r.status, 400, "size={size}");
        assert!(r.body.contains(why), "size={size}: {}", r.body);
    }
    Ok(())
}

fn a_never_minted_token_is_etcds_not_found(w: &Shared) -> Result<(), Failed> {
    let url = format!("{}/{}", base(w), "0123456789abcdef0123456789abcdef");
    for r in [
        get(&format!(
            "{url}/_config/size?quorum=false&recursive=false&sorted=false"
        )),
        get(&url),
        put(&format!("{url}/abc?prevExist=false"), "value=x"),
        get(&format!("{url}/abc?wait=true&waitIndex=1")),
        delete(&format!("{url}/abc")),
    ] {
        assert_eq!((r.status, r.error_code()), (404, 100), "{r:?}");
        assert_eq!(r.json()["message"], "Key not found");
        assert_eq!(r.etcd_index(), 0);
    }
    Ok(())
}

fn register_list_and_refuse_a_second_create(w: &Shared) -> Result<(), Failed> {
    let url = mint(w, 3);
    let r = put(
        &format!("{url}/8e9e05c52164694d?prevExist=false"),
        "value=m1%3Dhttp%3A%2F%2F127.0.0.1%3A2380",
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.etcd_index(), 2);
    assert_eq!(r.header("X-Raft-Index"), Some("2"));
    assert!(r.header("X-Raft-Term").is_some());
    assert_eq!(r.json()["action"], "create");
    assert_eq!(r.json()["node"]["value"], "m1=http://127.0.0.1:2380");
    for _ in 0..2 {
        let again = put(
            &format!("{url}/8e9e05c52164694d?prevExist=false"),
            "value=m1%3Dhttp%3A%2F%2F10.0.0.9%3A2380",
        );
        assert_eq!((again.status, again.error_code()), (412, 105));
    }
    let list = get(&format!("{url}?quorum=false&recursive=false&sorted=false"));
    assert_eq!(list.etcd_index(), 2);
    let nodes = list.json()["node"]["nodes"].as_array().cloned().unwrap();
    assert_eq!(nodes.len(), 1, "_config is hidden: {nodes:?}");
    assert_eq!(
        nodes[0]["value"], "m1=http://127.0.0.1:2380",
        "the refused create changed nothing"
    );
    Ok(())
}

fn waits_answer_from_history_or_park_until_an_event(w: &Shared) -> Result<(), Failed> {
    let url = mint(w, 3);
    let created = put(
        &format!("{url}/a?prevExist=false"),
        "value=a%3Dhttp%3A%2F%2Fh%3A1",
    );
    let r = get(&format!("{url}/a?recursive=false&wait=true&waitIndex=2"));
    assert_eq!(r.body, created.body, "answered at once from history");
    let wait_url = format!("{url}?recursive=true&wait=true&waitIndex=3");
    let waiter = std::thread::spawn(move || {
        let start = Instant::now();
        (get(&wait_url), start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!waiter.is_finished(), "a wait beyond the index parks");
    let b = put(
        &format!("{url}/b?prevExist=false"),
        "value=b%3Dhttp%3A%2F%2Fh%3A2",
    );
    assert_eq!(b.status, 201);
    let (woken, waited) = waiter.join().unwrap();
    assert_eq!(woken.status, 200);
    assert_eq!(woken.json()["node"]["key"], b.json()["node"]["key"]);
    assert_eq!(woken.json()["action"], "create");
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
    Ok(())
}

fn deletes_and_the_founders_of_a_full_token(w: &Shared) -> Result<(), Failed> {
    let url = mint(w, 2);
    put(&format!("{url}/x?prevExist=false"), "value=1");
    let r = delete(&format!("{url}/x"));
    assert_eq!(
        (r.status, r.json()["action"].as_str()),
        (200, Some("delete"))
    );
    assert_eq!(get(&format!("{url}/x")).status, 404);
    put(&format!("{url}/a?prevExist=false"), "value=1");
    put(&format!("{url}/b?prevExist=false"), "value=2");
    let r = delete(&format!("{url}/a"));
    assert_eq!((r.status, r.error_code()), (400, 107));
    assert!(r.json()["cause"].as_str().unwrap().contains("founding"));
    let r = put(&format!("{url}/_config/size"), "value=5");
    assert_eq!((r.status, r.error_code()), (400, 107));
    assert_eq!(
        get(&format!("{url}/_config/size")).json()["node"]["value"],
        "2"
    );
    Ok(())
}

fn cors_lets_browser_tools_in(w: &Shared) -> Result<(), Failed> {
    let url = mint(w, 3);
    let r = send("OPTIONS", &format!("{url}/abc"), None, None);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("*"));
    assert!(r
        .header("Access-Control-Allow-Methods")
        .unwrap()
        .contains("PUT"));
    assert!(r
        .header("Access-Control-Allow-Headers")
        .unwrap()
        .contains("Content-Type"));
    let r = send("OPTIONS", &format!("{}/new", base(w)), None, None);
    assert_eq!(r.status, 204);
    for r in [get(&url), get(&format!("{}/new", base(w)))] {
        assert_eq!(r.header("Access-Control-Allow-Origin"), Some("*"));
    }
    assert!(get(&url)
        .header("Access-Control-Expose-Headers")
        .unwrap()
        .contains("X-Etcd-Index"));
    Ok(())
}

fn wrong_methods_get_405(w: &Shared) -> Result<(), Failed> {
    let url = mint(w, 3);
    let r = send(
        "POST",
        &url,
        Some(b"value=x"),
        Some("application/x-www-form-urlencoded"),
    );
    assert_eq!(r.status, 405);
    assert!(r.header("Allow").unwrap().contains("PUT"));
    assert_eq!(r.error_code(), 209);
    let r = send("PATCH", &format!("{url}/a"), Some(b""), None);
    assert_eq!(r.status, 405);
    let r = send("POST", &format!("{}/new", base(w)), Some(b""), None);
    assert_eq!(r.status, 405);
    let r = send("HEAD", &format!("{}/new", base(w)), None, None);
    assert_eq!(r.status, 405, "a HEAD mints nothing");
    Ok(())
}

fn bad_bodies_and_keys_get_clear_4xx(w: &Shared) -> Result<(), Failed> {
    let url = mint(w, 3);
    let form = Some("application/x-www-form-urlencoded");
    let big = vec![b'a'; 70_000];
    let r = send("PUT", &format!("{url}/a"), Some(&big), form);
    assert_eq!(r.status, 413);
    let r = send("PUT", &format!("{url}/a"), Some(b"value=\xff\xfe"), form);
    assert_eq!((r.status, r.error_code()), (400, 210));
    let r = put(&format!("{url}/a"), "value=%ff");
    assert_eq!((r.status, r.error_code()), (400, 210));
    let r = put(&format!("{url}/a"), &format!("value={}", "v".repeat(5000)));
    assert_eq!((r.status, r.error_code()), (400, 209));
    assert!(r.json()["cause"].as_str().unwrap().contains("at most 4096"));
    let r = put(&format!("{url}/a/b"), "value=x");
    assert_eq!((r.status, r.error_code()), (400, 209));
    let r = put(&format!("{url}/_hidden"), "value=x");
    assert_eq!((r.status, r.error_code()), (400, 209));
    let r = put(&format!("{url}/a?ttl=soon"), "value=x");
    assert_eq!((r.status, r.error_code()), (400, 202));
    let r = get(&format!("{url}?wait=true&waitIndex=-4"));
    assert_eq!((r.status, r.error_code()), (400, 203));
    let r = get(&format!("{url}?recursive=maybe"));
    assert_eq!((r.status, r.error_code()), (400, 209));
    // Nothing of that was stored.
    let list = get(&url);
    assert_eq!(list.etcd_index(), 1);
    assert!(list.json()["node"].get("nodes").is_none());
    Ok(())
}

fn unknown_paths_are_etcds_not_found(w: &Shared) -> Result<(), Failed> {
    let b = base(w);
    for p in [
        "/favicon.ico",
        "/v2/keys/x",
        "/0123456789ABCDEF0123456789ABCDEF",
        "/ledger/nope",
    ] {
        let r = get(&format!("{b}{p}"));
        assert_eq!((r.status, r.error_code()), (404, 100), "{p}");
    }
    Ok(())
}

fn the_ledger_records_minted_tokens(w: &Shared) -> Result<(), Failed> {
    let url = mint(w, 5);
    let token = url.rsplit('/').next().unwrap();
    let r = get(&format!("{}/ledger/{token}", base(w)));
    assert_eq!(r.status, 200, "{r:?}");
    let v = r.json();
    assert_eq!(v["token"], token);
    assert_eq!(v["size"], 5);
    let minted = v["mintedAt"].as_str().unwrap();
    let expires = v["expiresAt"].as_str().unwrap();
    assert!(
        shared::time::parse_rfc3339(minted) < shared::time::parse_rfc3339(expires),
        "{minted} < {expires}"
    );
    assert_eq!(v["registrations"], serde_json::json!([]));

    // Each member's registration time, in index order, the refused second create left out.
    put(
        &format!("{url}/m1?prevExist=false"),
        "value=m1%3Dhttp%3A%2F%2F10.0.0.1%3A2380",
    );
    std::thread::sleep(Duration::from_millis(300));
    put(
        &format!("{url}/m2?prevExist=false"),
        "value=m2%3Dhttp%3A%2F%2F10.0.0.2%3A2380",
    );
    put(&format!("{url}/m1?prevExist=false"), "value=again");
    let v = get(&format!("{}/ledger/{token}", base(w))).json();
    let regs = v["registrations"].as_array().unwrap();
    let keys: Vec<(&str, u64)> = regs
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap(),
                r["createdIndex"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(keys, [("m1", 2), ("m2", 3)]);
    let apart = regs[1]["atMs"].as_u64().unwrap() - regs[0]["atMs"].as_u64().unwrap();
    assert!((300..5_000).contains(&apart), "{apart} ms apart");
    // Instants, not texts: RFC 3339 drops trailing zeros as Go does (".95Z" after ".951Z").
    let at = regs[0]["at"].as_str().unwrap();
    let instant = |t: &str| shared::time::parse_rfc3339(t).unwrap_or_else(|| panic!("{t}"));
    assert!(instant(at) >= instant(minted), "{at} before {minted}");
    assert_eq!(instant(at), regs[0]["atMs"].as_i64().unwrap(), "{at}");
    let nodes = get(&url).json()["node"]["nodes"]
        .as_array()
        .cloned()
        .unwrap();
    assert_eq!(nodes[0]["createdIndex"], regs[0]["createdIndex"]);
    Ok(())
}

fn state_survives_a_restart(w: &Shared) -> Result<(), Failed> {
    let url = mint(w, 3);
    put(&format!("{url}/a?prevExist=false"), "value=1");
    put(&format!("{url}/b?prevExist=false"), "value=2");
    let before = get(&url).body;
    lock(w).as_mut().unwrap().restart();
    assert_eq!(get(&url).body, before);
    let r = put(&format!("{url}/c?prevExist=false"), "value=3");
    assert_eq!((r.status, r.etcd_index()), (201, 4), "the index goes on");
    assert_eq!(
        put(&format!("{url}/a?prevExist=false"), "value=9").error_code(),
        105
    );
    Ok(())
}

fn a_configured_deployment(w: &Shared) -> Result<(), Failed> {
    // Its own service: a public URL with a path prefix, 2 s waits, tokens that live 8 s.
    let persist = state(w, "http-configured");
    let vars = [
        ("PUBLIC_URL", "https://discovery.example.com/etcd/"),
        ("WAIT_TIMEOUT_SECONDS", "2"),
        ("TOKEN_LIFETIME_SECONDS", "8"),
        ("MAX_SIZE", "5"),
        storage::HOOKS,
    ];
    let wr = Service::start(shell(w), 18789, &persist, &vars);
    let b = wr.base();
    let minted_at = Instant::now();
    let minted = get(&format!("{b}/new?size=5")).body;
    let token = minted
        .strip_prefix("https://discovery.example.com/etcd/")
        .unwrap_or_else(|| panic!("the public URL is used: {minted}"))
        .to_string();
    assert_eq!(
        get(&format!("{b}/new?size=6")).status,
        400,
        "MAX_SIZE applies"
    );
    let url = format!("{b}/etcd/{token}");
    assert_eq!(
        put(&format!("{url}/a?prevExist=false"), "value=1").status,
        201
    );
    assert_eq!(
        get(&format!("{b}/{token}/a")).status,
        200,
        "unprefixed paths work too"
    );

    let start = Instant::now();
    let idle = get(&format!("{url}?recursive=true&wait=true"));
    let waited = start.elapsed();
    assert_eq!(
        (idle.status, idle.body.as_str()),
        (200, ""),
        "an idle wait ends empty"
    );
    assert_eq!(idle.etcd_index(), 2);
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(10),
        "{waited:?}"
    );

    // The token's alarm expires a TTL with nobody else asking: the parked wait sees it.
    let t = put(&format!("{url}/t?ttl=1"), "value=x");
    assert_eq!(t.status, 201);
    let expired = get(&format!("{url}?recursive=true&wait=true&waitIndex=4"));
    assert_eq!(expired.status, 200, "{expired:?}");
    assert_eq!(expired.json()["action"], "expire", "{expired:?}");
    assert_eq!(expired.json()["prevNode"]["value"], "x");

    // Past its lifetime the alarm deletes the token entirely, with nobody asking: its storage
    // is empty before any request reaches it again. Then it cannot be read or written.
    eventually(
        "the token's lifetime to pass",
        Duration::from_secs(30),
        || (minted_at.elapsed() > Duration::from_secs(9)).then_some(()),
    );
    assert_eq!(
        storage::stored(&b, &token),
        Vec::<String>::new(),
        "the alarm deleted every key"
    );
    let gone = get(&url);
    assert_eq!((gone.status, gone.error_code()), (404, 100), "{gone:?}");
    let r = put(&format!("{url}/b?prevExist=false"), "value=2");
    assert_eq!((r.status, r.error_code()), (404, 100));
    Ok(())
}

fn the_api_serves_the_config_builders_output(w: &Shared) -> Result<(), Failed> {
    let b = base(w);
    let key = shared::form::encode("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm7mRZ2 me@laptop");
    for query in [
        format!("discovery={}&platform=ec2&ssh_key={key}", shared::form::encode(&mint(w, 3))),
        format!("bootstrap=static&member=a%3D10.0.0.1&member=b%3D10.0.0.2&member=c%3D10.0.0.3&this=c&cluster_token=t1&platform=metal&butane=1.1.0&ssh_key={key}"),
    ] {
        let (expected, _) = shared::config::generate(&query);
        let expected = expected.expect("a valid config");
        let bu = get(&format!("{b}/butane?{query}"));
        assert_eq!(bu.status, 200, "{bu:?}");
        assert!(bu.header("Content-Type").unwrap().contains("yaml"));
        assert_eq!(bu.body, expected.butane_yaml, "the Worker writes what shared writes");
        let ign = get(&format!("{b}/ignition?{query}"));
        assert_eq!(ign.status, 200);
        assert_eq!(ign.body, expected.ignition_json);
        assert!(ign.header("Access-Control-Allow-Origin").is_some());
    }
    let bad = get(&format!("{b}/ignition?discovery=ftp://nope&platform=mars"));
    assert_eq!(bad.status, 400);
    let fields: Vec<String> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["platform", "discovery"]);
    Ok(())
}

/// `POST /ignition`: any Butane config in, what the `butane` crate makes of it out, through
/// each shell unchanged; refusals as butane prints them or as JSON.
fn post_ignition_translates_butane(w: &Shared) -> Result<(), Failed> {
    use rendezvous_e2e::http::post_accepting;
    let b = base(w);
    let config = "variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /etc/hostname\n      mode: 0644\n      contents:\n        inline: node-1 <&>\n  filesystems:\n    - device: /dev/sdb\n      path: /var/lib/data\n      format: ext4\n      with_mount_unit: true\npasswd:\n  users:\n    - name: core\n      gecos: \"Core <core@example.com> & co\"\n";
    let expected = butane::translate(
        config,
        &butane::Options {
            files_dir: None,
            pretty: true,
        },
    );
    let r = post_accepting(&format!("{b}/ignition?pretty"), config.as_bytes(), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, expected.stdout(false));
    assert!(
        r.body.contains("var-lib-data.mount")
            && r.body
                .contains("Core \\u003ccore@example.com\\u003e \\u0026 co"),
        "{}",
        r.body
    );
    assert_eq!(r.header("X-Butane-Warnings"), Some("0"));
    assert_eq!(r.header("Access-Control-Allow-Origin"), Some("*"));
    let compact = post_accepting(&format!("{b}/ignition"), config.as_bytes(), None);
    assert_eq!(compact.body.lines().count(), 1, "{}", compact.body);

    // A warning: 200 with its count unless ?strict, then butane's report.
    let warned = config.replace("mode: 0644", "mode: 644");
    let r = post_accepting(&format!("{b}/ignition"), warned.as_bytes(), None);
    assert_eq!(
        (r.status, r.header("X-Butane-Warnings")),
        (200, Some("2")),
        "{}",
        r.body
    );
    assert!(r
        .header("X-Butane-Report")
        .unwrap()
        .contains("$.storage.files.0.mode"));
    let r = post_accepting(&format!("{b}/ignition?strict"), warned.as_bytes(), None);
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

    // An error, as JSON for a JSON client.
    let broken = config.replace("path: /etc/hostname", "path: etc/hostname");
    let r = post_accepting(
        &format!("{b}/ignition"),
        broken.as_bytes(),
        Some("application/json"),
    );
    assert_eq!(r.status, 400);
    let body = r.json();
    assert_eq!(
        body["error"],
        "Error translating config: config generated was invalid"
    );
    assert_eq!(body["findings"][0]["path"], "$.storage.files.0.path");
    assert_eq!(
        (
            body["findings"][0]["line"].as_u64(),
            body["findings"][0]["column"].as_u64()
        ),
        (Some(5), Some(13))
    );
    assert_eq!(body["findings"][0]["message"], "path not absolute");

    // Other variants are named; a body past the limit is refused whole.
    let r = post_accepting(
        &format!("{b}/ignition"),
        b"variant: fcos\nversion: 1.5.0\n",
        None,
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("variant flatcar, versions 1.0.0 and 1.1.0"),
        "{}",
        r.body
    );
    let huge = format!("{config}# {}\n", "x".repeat(shared::body::MAX_BODY_BYTES));
    let r = post_accepting(&format!("{b}/ignition"), huge.as_bytes(), None);
    assert_eq!(r.status, 413);
    let preflight = send("OPTIONS", &format!("{b}/ignition"), None, None);
    assert!(preflight
        .header("Access-Control-Allow-Methods")
        .unwrap()
        .contains("POST"));
    assert!(preflight
        .header("Access-Control-Expose-Headers")
        .unwrap()
        .contains("X-Butane-Warnings"));
    let r = send("PUT", &format!("{b}/ignition"), Some(b"x"), None);
    assert_eq!(
        (r.status, r.header("Allow")),
        (405, Some("GET, HEAD, POST, OPTIONS"))
    );
    Ok(())
}

/// `POST /butane/migrate`: a legacy config in, its Butane and the report out, through each
/// shell; the Butane translates.
fn post_migrate_brings_a_cloud_config_forward(w: &Shared) -> Result<(), Failed> {
    use rendezvous_e2e::http::post_accepting;
    let b = base(w);
    let cloud = "#cloud-config\ncoreos:\n  etcd2:\n    discovery: https://discovery.etcd.io/6a28e078895c5ec737174db2419bb2f3\n    advertise-client-urls: http://$private_ipv4:2379\n    initial-advertise-peer-urls: http://$private_ipv4:2380\n    listen-client-urls: http://0.0.0.0:2379\n    listen-peer-urls: http://$private_ipv4:2380\n  fleet:\n    metadata: region=eu\n";
    let r = post_accepting(
        &format!("{b}/butane/migrate?platform=gce"),
        cloud.as_bytes(),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("Content-Type").unwrap().contains("yaml"));
    assert!(
        r.body
            .contains("# line 9: coreos.fleet dropped: fleet no longer exists"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("--listen-peer-urls=\"http://${COREOS_GCE_IP_LOCAL_0}:2380\""),
        "{}",
        r.body
    );
    let outcome = butane::translate(
        &r.body,
        &butane::Options {
            files_dir: None,
            pretty: true,
        },
    );
    assert!(outcome.succeeded(true), "{}", outcome.stderr(&r.body, true));
    let r = post_accepting(
        &format!("{b}/butane/migrate"),
        cloud.as_bytes(),
        Some("application/json"),
    );
    let body = r.json();
    assert_eq!(body["report"][0]["key"], "coreos.etcd2");
    assert!(body["ignition"]
        .as_str()
        .unwrap()
        .contains("etcd-address.service"));
    let r = post_accepting(
        &format!("{b}/butane/migrate?platform=mars"),
        cloud.as_bytes(),
        None,
    );
    assert_eq!(r.status, 400);
    let r = send("GET", &format!("{b}/butane/migrate"), None, None);
    assert_eq!((r.status, r.header("Allow")), (405, Some("POST, OPTIONS")));
    Ok(())
}

/// `POST /explain`: a log in, the explanation out (text for curl, JSON for a client); not UTF-8
/// is 400, more than 64 KiB 413, any other method 405.
fn post_explain_reads_an_etcd_log(w: &Shared) -> Result<(), Failed> {
    use rendezvous_e2e::http::post_accepting;
    let b = base(w);
    let log = concat!(
        "Dec 04 04:09:01 node-2 etcd-wrapper[77]: {\"level\":\"info\",\"ts\":\"2026-12-04T04:09:01.100Z\",\"msg\":\"starting an etcd server\",\"etcd-version\":\"3.5.1\",\"name\":\"node-2\",\"initial-advertise-peer-urls\":[\"http://10.0.0.2:2380\"],\"discovery-url\":\"https://discovery.example.com/0123456789abcdef\"}\n",
        "Dec 04 04:09:02 node-2 etcd-wrapper[77]: {\"level\":\"info\",\"ts\":\"2026-12-04T04:09:02.000Z\",\"msg\":\"found peers from discovery server; waiting for more\",\"found-peers\":1,\"needed-peers\":2}\n",
    );
    let r = post_accepting(&format!("{b}/explain"), log.as_bytes(), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("Content-Type").unwrap().starts_with("text/plain"));
    assert!(
        r.body.starts_with("node-2 is still waiting for members: 1 member(s) registered so far; etcd waits for 2 more"),
        "{}",
        r.body
    );
    assert!(r
        .body
        .contains("discovery https://discovery.example.com/0123456789abcdef\n"));
    let r = post_accepting(
        &format!("{b}/explain"),
        log.as_bytes(),
        Some("application/json"),
    );
    let body = r.json();
    assert_eq!(body["findings"][1]["topic"], "waiting");
    assert_eq!(body["member"]["name"], "node-2");
    assert_eq!(body["read"], 2);
    let r = post_accepting(&format!("{b}/explain"), &[0xff, 0xfe, 0x00], None);
    assert_eq!(r.status, 400);
    let big = "x".repeat(70 * 1024);
    let r = post_accepting(&format!("{b}/explain"), big.as_bytes(), None);
    assert_eq!(r.status, 413);
    assert!(
        r.body
            .starts_with("the log is larger than 64 KiB: send its end"),
        "{}",
        r.body
    );
    let r = send("GET", &format!("{b}/explain"), None, None);
    assert_eq!((r.status, r.header("Allow")), (405, Some("POST, OPTIONS")));
    Ok(())
}

fn abuse_limits_answer_429_with_retry_after(w: &Shared) -> Result<(), Failed> {
    let persist = state(w, "http-limits");
    let vars = [
        ("MINTS_PER_MINUTE", "3"),
        ("MAX_WAITS", "2"),
        ("WAIT_TIMEOUT_SECONDS", "5"),
    ];
    let mut wr = Service::start(shell(w), 18793, &persist, &vars);
    let b = wr.base();
    // Limits are per process: HAProxy spreads the mints over the replicas, each allowing 3.
    let per_shell = if shell(w) == Shell::Ha {
        3 * ha::REPLICAS
    } else {
        3
    };
    let urls: Vec<String> = (0..per_shell).map(|_| wr.mint(3)).collect();
    let r = get(&format!("{b}/new?size=3"));
    assert_eq!(r.status, 429, "{r:?}");
    let retry: u64 = r.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(r.body.contains("at most 3 a minute"), "{}", r.body);

    // Two waits park; a third on the same token is refused until one ends. Waits are held by
    // the replica they reach: the three go to one.
    let url = match wr.topology() {
        Some(t) => urls[0].replace(&b, &t.replica_url(0)),
        None => urls[0].clone(),
    };
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let u = format!("{url}?recursive=true&wait=true");
            std::thread::spawn(move || get(&u))
        })
        .collect();
    // They park within milliseconds; a probe made too early would park itself.
    std::thread::sleep(Duration::from_secs(1));
    let r = get(&format!("{url}?recursive=true&wait=true"));
    assert_eq!((r.status, r.error_code()), (429, 103), "{r:?}");
    assert_eq!(r.header("Retry-After"), Some("5"));
    assert_eq!(
        get(&format!("{}?recursive=true&wait=true", urls[1])).status,
        200,
        "other tokens are not limited"
    );
    for w in waiters {
        assert_eq!(w.join().unwrap().status, 200, "the parked waits end idle");
    }
    let r = get(&format!("{url}?recursive=true&wait=true"));
    assert_eq!((r.status, r.body.as_str()), (200, ""), "slots free again");
    Ok(())
}

fn unreadable_storage_answers_503_and_is_never_overwritten(w: &Shared) -> Result<(), Failed> {
    let persist = state(w, "http-storage");
    let mut wr = Service::start(shell(w), 18790, &persist, &[storage::HOOKS]);
    let url = wr.mint(3);
    let token = url.rsplit('/').next().unwrap().to_string();
    put(&format!("{url}/a?prevExist=false"), "value=1");
    put(&format!("{url}/b?prevExist=false"), "value=2");
    let before = get(&url).body;
    // A lost write in the middle of the history, staged through the shell's own storage (the
    // token leaves memory, as after a restart): the registry cannot be rebuilt from it.
    let key = "e/00000000000000000002";
    let lost = storage::lose(&wr.base(), &token, key);
    if wr.shell() == Shell::Ha {
        // The other replicas hear of it through their store's watch, a moment later.
        eventually(
            "every replica to see the loss",
            Duration::from_secs(5),
            || {
                (0..ha::REPLICAS)
                    .all(|_| get(&url).status == 503)
                    .then_some(())
            },
        );
    }
    for r in [
        get(&url),
        put(&format!("{url}/c?prevExist=false"), "value=3"),
    ] {
        assert_eq!(
            (r.status, r.error_code()),
            (503, 300),
            "etcd retries a 503: {r:?}"
        );
    }
    assert!(
        !storage::stored(&wr.base(), &token).contains(&key.to_string()),
        "nothing was written over it"
    );
    storage::restore(&wr.base(), &token, key, &lost);
    assert_eq!(
        get(&url).body,
        before,
        "nothing was written while it was unreadable"
    );
    let r = put(&format!("{url}/c?prevExist=false"), "value=3");
    assert_eq!((r.status, r.etcd_index()), (201, 4));
    wr.restart();
    assert_eq!(
        get(&url).json()["node"]["nodes"].as_array().unwrap().len(),
        3
    );
    Ok(())
}

fn main() {
    let services = rendezvous_e2e::per_shell(18787, "http", &[]);
    let cases: [(&str, rendezvous_e2e::Case); 20] = [
        ("service_paths", service_paths),
        ("new_mints_a_plain_text_url", new_mints_a_plain_text_url),
        ("new_refuses_bad_sizes", new_refuses_bad_sizes),
        (
            "a_never_minted_token_is_etcds_not_found",
            a_never_minted_token_is_etcds_not_found,
        ),
        (
            "register_list_and_refuse_a_second_create",
            register_list_and_refuse_a_second_create,
        ),
        (
            "waits_answer_from_history_or_park_until_an_event",
            waits_answer_from_history_or_park_until_an_event,
        ),
        (
            "deletes_and_the_founders_of_a_full_token",
            deletes_and_the_founders_of_a_full_token,
        ),
        ("cors_lets_browser_tools_in", cors_lets_browser_tools_in),
        ("wrong_methods_get_405", wrong_methods_get_405),
        (
            "bad_bodies_and_keys_get_clear_4xx",
            bad_bodies_and_keys_get_clear_4xx,
        ),
        (
            "unknown_paths_are_etcds_not_found",
            unknown_paths_are_etcds_not_found,
        ),
        (
            "the_ledger_records_minted_tokens",
            the_ledger_records_minted_tokens,
        ),
        ("state_survives_a_restart", state_survives_a_restart),
        ("a_configured_deployment", a_configured_deployment),
        (
            "the_api_serves_the_config_builders_output",
            the_api_serves_the_config_builders_output,
        ),
        (
            "post_ignition_translates_butane",
            post_ignition_translates_butane,
        ),
        (
            "post_migrate_brings_a_cloud_config_forward",
            post_migrate_brings_a_cloud_config_forward,
        ),
        (
            "post_explain_reads_an_etcd_log",
            post_explain_reads_an_etcd_log,
        ),
        (
            "abuse_limits_answer_429_with_retry_after",
            abuse_limits_answer_429_with_retry_after,
        ),
        (
            "unreadable_storage_answers_503_and_is_never_overwritten",
            unreadable_storage_answers_503_and_is_never_overwritten,
        ),
    ];
    rendezvous_e2e::run_per_shell(&services, &cases)
}
