use super::*;

const T: &str = "0123456789abcdef0123456789abcdef";

fn hosts() -> RelayHosts {
    RelayHosts::parse("discovery.etcd.io, http://127.0.0.1:2000").unwrap()
}

fn refusal(url: &str) -> (u16, String) {
    let r = upstream(url, &hosts()).unwrap_err();
    (r.status, r.body)
}

#[test]
fn the_default_list_is_discovery_etcd_io_over_https() {
    let h = RelayHosts::default();
    assert_eq!(h.describe(), "discovery.etcd.io");
    let u = upstream(&format!("https://discovery.etcd.io/{T}"), &h).unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.read),
        ("discovery.etcd.io", 443, Read::Token)
    );
    assert_eq!(u.to_string(), format!("https://discovery.etcd.io/{T}"));
}

#[test]
fn lists_parse_and_name_bad_entries() {
    assert_eq!(
        hosts().describe(),
        "discovery.etcd.io, http://127.0.0.1:2000"
    );
    assert_eq!(
        RelayHosts::parse("").unwrap().describe(),
        "none (RELAY_HOSTS is empty)"
    );
    for bad in ["ftp://x", "user@host", "h:0", "h:99999", "http://", "a/b"] {
        let e = RelayHosts::parse(bad).unwrap_err();
        assert!(e.contains("RELAY_HOSTS") && e.contains(bad), "{bad}: {e}");
    }
    let v6 = RelayHosts::parse("http://[::1]:2000").unwrap();
    let u = upstream(&format!("http://[::1]:2000/{T}"), &v6).unwrap();
    assert_eq!(
        (u.connect_host(), u.authority()),
        ("::1", "[::1]:2000".to_string())
    );
}

#[test]
fn a_token_or_its_size_key_on_a_listed_host_is_read() {
    let u = upstream(&format!("http://127.0.0.1:2000/{T}/_config/size"), &hosts()).unwrap();
    assert_eq!(u.read, Read::Size);
    assert_eq!(u.path, format!("/{T}/_config/size"));
    assert_eq!(u.authority(), "127.0.0.1:2000");
    // A prefix (a service below a path), upper-case scheme and host, a trailing slash.
    let u = upstream(&format!("HTTPS://Discovery.ETCD.io/etcd/{T}/"), &hosts()).unwrap();
    assert_eq!(u.to_string(), format!("https://discovery.etcd.io/etcd/{T}"));
    assert_eq!(u.token.to_string(), T);
}

#[test]
fn other_hosts_schemes_and_ports_are_refused_with_the_list() {
    let (status, why) = refusal(&format!("https://evil.example/{T}"));
    assert_eq!(status, 403);
    assert!(
        why.contains("evil.example") && why.contains("discovery.etcd.io"),
        "{why}"
    );
    let (status, why) = refusal(&format!("http://discovery.etcd.io/{T}"));
    assert_eq!(status, 403);
    assert!(why.contains("https only"), "{why}");
    let (status, why) = refusal(&format!("http://127.0.0.1:2001/{T}"));
    assert_eq!(status, 403);
    assert!(
        why.contains("does not read from 127.0.0.1:2001"),
        "another port: {why}"
    );
    assert_eq!(refusal(&format!("https://127.0.0.1:2000/{T}")).0, 403);
    // User info would hide the host from whoever reads the URL.
    assert_eq!(
        refusal(&format!("https://discovery.etcd.io@evil.example/{T}")).0,
        400
    );
    assert_eq!(refusal("file:///etc/passwd").0, 400);
    assert_eq!(refusal("discovery.etcd.io").0, 400);
}

#[test]
fn paths_other_than_a_token_are_refused() {
    for path in [
        String::new(),
        "/".into(),
        "/new?size=3".into(),
        "/v2/keys".into(),
        format!("/{T}/members"),
        format!("/{T}/_config"),
        format!("/{T}?wait=true"),
        format!("/../{T}"),
        format!("/a%2Fb/{T}"),
        format!("/{T}#x"),
        "/0123".into(),
    ] {
        let url = format!("https://discovery.etcd.io{path}");
        let (status, why) = refusal(&url);
        assert_eq!(status, 400, "{url}");
        assert!(why.contains("token"), "{url}: {why}");
    }
}

fn relay() -> Relay {
    Relay::new(upstream(&format!("http://127.0.0.1:2000/{T}"), &hosts()).unwrap())
}

fn answer(status: u16, location: Option<&str>, body: &[u8]) -> Result<Fetched, Failure> {
    Ok(Fetched {
        status,
        etcd_index: Some("7".into()),
        location: location.map(str::to_string),
        content_type: Some("application/json".into()),
        body: body.to_vec(),
    })
}

#[test]
fn upstream_answers_pass_through_with_their_index() {
    let mut r = relay();
    let Next::Done(a) = r.read(answer(404, None, b"{\"errorCode\":100}")) else {
        panic!("not done")
    };
    assert_eq!((a.status, a.body.as_str()), (404, "{\"errorCode\":100}"));
    assert_eq!(a.header("X-Etcd-Index"), Some("7"));
    assert_eq!(a.header("Content-Type"), Some("application/json"));
    assert_eq!(
        a.header(UPSTREAM_HEADER),
        Some(format!("http://127.0.0.1:2000/{T}").as_str())
    );
    assert_eq!(a.header("Access-Control-Allow-Origin"), Some("*"));
    // A non-numeric index is not passed on; a non-JSON answer stays text.
    let mut odd = answer(200, None, b"<html>").unwrap();
    odd.etcd_index = Some("7\r\nX: y".into());
    odd.content_type = Some("text/html".into());
    let Next::Done(a) = relay().read(Ok(odd)) else {
        panic!()
    };
    assert_eq!(a.header("X-Etcd-Index"), None);
    assert!(a.header("Content-Type").unwrap().starts_with("text/plain"));
    let Next::Done(a) = relay().read(answer(200, None, &[0xff, 0xfe])) else {
        panic!()
    };
    assert_eq!(a.status, 502);
}

#[test]
fn redirects_are_followed_only_to_token_urls_on_the_same_host() {
    let mut r = relay();
    let next = r.read(answer(301, Some(&format!("/etcd/{T}")), b""));
    let Next::Follow(u) = next else {
        panic!("{next:?}")
    };
    assert_eq!(u.to_string(), format!("http://127.0.0.1:2000/etcd/{T}"));
    assert_eq!(r.upstream(), &u);

    for elsewhere in [
        format!("https://evil.example/{T}"),
        format!("https://127.0.0.1:2000/{T}"),
        format!("//evil.example/{T}"),
        "/login".to_string(),
    ] {
        let Next::Done(a) = relay().read(answer(302, Some(&elsewhere), b"")) else {
            panic!("{elsewhere} followed")
        };
        assert_eq!(a.status, 502, "{elsewhere}");
        assert!(a.body.contains("redirected to"), "{}", a.body);
    }
    let Next::Done(a) = relay().read(answer(307, None, b"")) else {
        panic!()
    };
    assert!(a.body.contains("no Location"), "{}", a.body);

    let mut r = relay();
    let loc = format!("/{T}");
    for _ in 0..MAX_REDIRECTS {
        assert!(matches!(
            r.read(answer(302, Some(&loc), b"")),
            Next::Follow(_)
        ));
    }
    let Next::Done(a) = r.read(answer(302, Some(&loc), b"")) else {
        panic!()
    };
    assert!(a.body.contains("more than 3 times"), "{}", a.body);
}

#[test]
fn failures_say_which_upstream_and_what() {
    let r = relay();
    assert_eq!(r.timed_out().status, 504);
    assert!(r.timed_out().body.contains("within 5 s"));
    let done = |read| match relay().read(read) {
        Next::Done(a) => a,
        Next::Follow(u) => panic!("followed {u}"),
    };
    let large = done(Err(Failure::TooLarge));
    assert_eq!(large.status, 502);
    assert!(large.body.contains("64 KiB"));
    let u = done(Err(Failure::Unreachable("connection refused".into())));
    assert_eq!(u.status, 502);
    assert!(u.body.contains("127.0.0.1:2000") && u.body.contains("connection refused"));
    let limited = refused("10.0.0.1", 120, 9);
    assert_eq!(
        (limited.status, limited.header("Retry-After")),
        (429, Some("9"))
    );
}
