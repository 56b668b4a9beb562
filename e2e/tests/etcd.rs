//! Real etcd members bootstrap through each shell (the Worker under wrangler, the native
//! server), with etcd 3.4 and 3.5: the contract that matters.

use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use rendezvous_e2e::etcd::{
    race_to_three, registered, registered_peers, Member, Release, HEALTHY_WITHIN,
};
use rendezvous_e2e::explain::{explained, topics};
use rendezvous_e2e::{eventually, lock, mint, scratch_for, Shared};

/// A scratch folder of this case, release and shell.
fn dir(w: &Shared, case: &str, r: Release) -> std::path::PathBuf {
    scratch_for(w, &format!("etcd-{case}-{r:?}"))
}

fn members(dir: &std::path::Path, r: Release, base: u16, url: &str, n: u16) -> Vec<Member> {
    (1..=n)
        .map(|i| Member::new(dir, &format!("m{i}"), r, base, i, url))
        .collect()
}

fn all_healthy(ms: &[&Member]) {
    eventually("members healthy", HEALTHY_WITHIN, || {
        ms.iter().all(|m| m.healthy()).then_some(())
    });
}

/// The member's log, explained by the service: it got through discovery, under the id it
/// registered with.
fn explained_bootstrapped(w: &Shared, m: &Member, url: &str) {
    let x = explained(w, &m.log());
    let verdict = x["verdict"].as_str().unwrap();
    assert!(
        verdict.starts_with(&format!(
            "{} got through discovery and bootstrapped as ",
            m.name
        )),
        "{verdict}\n{x:#}"
    );
    let id = x["member"]["id"].as_str().unwrap();
    assert!(
        registered(url)
            .iter()
            .any(|(k, _)| k.ends_with(&format!("/{id}"))),
        "{id} is one of the token's keys"
    );
    assert!(topics(&x).contains(&"complete".to_string()), "{x:#}");
}

fn sorted_peers(ms: &[&Member]) -> Vec<String> {
    let mut v: Vec<String> = ms.iter().map(|m| m.peer_url()).collect();
    v.sort();
    v
}

/// Every member's own view of the voting members equals `expected`.
fn agree(ms: &[&Member], expected: &[String]) {
    for m in ms {
        let seen = eventually("member list", Duration::from_secs(20), || m.voting_peers());
        assert_eq!(seen, expected, "{} sees other voting members", m.name);
    }
}

fn three_started_together(w: &Shared, r: Release) -> Result<(), Failed> {
    let url = mint(w, 3);
    let dir = dir(w, "together", r);
    let mut ms = members(&dir, r, 21000, &url, 3);
    let start = Instant::now();
    ms.iter_mut().for_each(Member::start);
    let refs: Vec<&Member> = ms.iter().collect();
    all_healthy(&refs);
    println!(
        "    3 etcd {r:?} members started together: all healthy after {:.2?}",
        start.elapsed()
    );
    agree(&refs, &sorted_peers(&refs));
    let mut reg_peers = registered_peers(&url);
    assert_eq!(reg_peers.len(), 3);
    reg_peers.sort();
    assert_eq!(reg_peers, sorted_peers(&refs));
    for m in &refs {
        explained_bootstrapped(w, m, &url);
    }
    Ok(())
}

fn three_started_one_after_another(w: &Shared, r: Release) -> Result<(), Failed> {
    let url = mint(w, 3);
    let dir = dir(w, "sequence", r);
    let mut ms = members(&dir, r, 22000, &url, 3);
    let start = Instant::now();
    for (i, m) in ms.iter_mut().enumerate() {
        m.start();
        eventually("registration", Duration::from_secs(30), || {
            (registered(&url).len() == i + 1).then_some(())
        });
    }
    let refs: Vec<&Member> = ms.iter().collect();
    all_healthy(&refs);
    println!(
        "    3 etcd {r:?} members started one after another: healthy after {:.2?}",
        start.elapsed()
    );
    agree(&refs, &sorted_peers(&refs));
    let order = registered_peers(&url);
    let expected: Vec<String> = ms.iter().map(Member::peer_url).collect();
    assert_eq!(order, expected, "registered in the order they started");
    Ok(())
}

fn fourth_member_on_a_full_token_does_not_vote(w: &Shared, r: Release) -> Result<(), Failed> {
    let url = mint(w, 3);
    let dir = dir(w, "fourth", r);
    let mut ms = members(&dir, r, 23000, &url, 4);
    ms[..3].iter_mut().for_each(Member::start);
    let founders: Vec<&Member> = ms[..3].iter().collect();
    all_healthy(&founders);
    let expected = sorted_peers(&founders);
    ms[3].start();
    let fourth = &mut ms[3];
    eventually(
        "the 4th member to see the full cluster",
        Duration::from_secs(30),
        || fourth.log().contains("cluster is full").then_some(()),
    );
    let founders: Vec<&Member> = ms[..3].iter().collect();
    agree(&founders, &expected);
    assert_eq!(
        registered(&url).len(),
        3,
        "a member on a full token does not register"
    );
    assert!(!expected.contains(&ms[3].peer_url()));
    // Its log, explained: a proxy, not a member, because the token was full.
    let x = explained(w, &ms[3].log());
    assert!(topics(&x).contains(&"became-proxy".to_string()), "{x:#}");
    assert_eq!(
        x["verdict"],
        "m4 runs as a v2 proxy, not as a member: the token was full when it registered."
    );
    Ok(())
}

fn five_at_once_on_size_three_leave_three_that_agree(w: &Shared, r: Release) -> Result<(), Failed> {
    let url = mint(w, 3);
    let dir = dir(w, "five", r);
    let mut ms = members(&dir, r, 24000, &url, 5);
    // The founders are the first three by createdIndex; everyone must agree on exactly them.
    let founders = race_to_three(&mut ms, &url);
    let mut expected = founders.clone();
    expected.sort();
    for m in ms.iter().filter(|m| !founders.contains(&m.peer_url())) {
        eventually(
            "a late member to see the full cluster",
            Duration::from_secs(30),
            || m.log().contains("cluster is full").then_some(()),
        );
        if let Some(peers) = m.voting_peers() {
            assert_eq!(
                peers, expected,
                "{} (a proxy) reports the same cluster",
                m.name
            );
        }
    }
    let reg = registered_peers(&url);
    assert!(reg.len() <= 5);
    assert_eq!(reg[..3], founders, "the first three never change");
    Ok(())
}

fn wiped_member_is_refused_with_duplicate_id(w: &Shared, r: Release) -> Result<(), Failed> {
    let url = mint(w, 3);
    let dir = dir(w, "wiped", r);
    let mut ms = members(&dir, r, 25000, &url, 3);
    ms.iter_mut().for_each(Member::start);
    let refs: Vec<&Member> = ms.iter().collect();
    all_healthy(&refs);
    let expected = sorted_peers(&refs);
    let before = registered(&url);
    ms[1].wipe();
    ms[1].start();
    let wiped = &mut ms[1];
    let status = eventually("the wiped member to exit", Duration::from_secs(30), || {
        wiped.exited()
    });
    assert!(!status.success(), "it must not start: {status}");
    let log = wiped.log().to_lowercase();
    assert!(
        log.contains("duplicate id"),
        "etcd's duplicate id error:\n{log}"
    );
    assert_eq!(registered(&url), before, "the registry is unchanged");
    // Its log, explained: it registered before and lost its data since.
    let x = explained(w, &wiped.log());
    assert_eq!(
        x["verdict"],
        "m2 did not join: it registered before and has lost its data directory since."
    );
    assert!(
        topics(&x).contains(&"registered-before".to_string()),
        "{x:#}"
    );
    let others: Vec<&Member> = vec![&ms[0], &ms[2]];
    for m in &others {
        let seen = eventually("member list", Duration::from_secs(20), || m.voting_peers());
        assert_eq!(seen, expected);
    }
    Ok(())
}

fn service_restarted_mid_bootstrap_loses_nothing(w: &Shared, r: Release) -> Result<(), Failed> {
    let url = mint(w, 3);
    let dir = dir(w, "restart", r);
    let mut ms = members(&dir, r, 26000, &url, 3);
    ms[0].start();
    ms[1].start();
    eventually("two registrations", Duration::from_secs(30), || {
        (registered(&url).len() == 2).then_some(())
    });
    let before = registered(&url);
    {
        let mut guard = lock(w);
        let wr = guard.as_mut().unwrap();
        // A crash, not a shutdown: the two members are parked in waits right now.
        wr.kill();
        wr.restart();
    }
    assert_eq!(
        registered(&url),
        before,
        "registrations survive the restart"
    );
    ms[2].start();
    let refs: Vec<&Member> = ms.iter().collect();
    all_healthy(&refs);
    agree(&refs, &sorted_peers(&refs));
    assert_eq!(registered(&url).len(), 3);
    // The first two were at the service through the restart: their logs, explained, say they
    // got through, and (at least one of them) that etcd had to try again.
    let mut retried = false;
    for m in &refs[..2] {
        let x = explained(w, &m.log());
        let t = topics(&x);
        assert!(t.contains(&"complete".to_string()), "{x:#}");
        retried |= t.contains(&"retry".to_string());
    }
    assert!(retried, "a retry in the logs of the members that waited");
    explained_bootstrapped(w, &ms[2], &url);
    Ok(())
}

/// A legacy config's kind, the members' base port, and the config for a discovery URL.
type Source = (&'static str, u16, fn(&str) -> String);

/// A Container Linux Config's etcd section and a cloud-config's, migrated to Butane by this
/// project, boot real clusters: the drop-in's `ExecStart` flags, with the address variable and
/// ports substituted for each member on this machine, bootstrap three members through the
/// service.
fn migrated_flags_form_a_cluster(w: &Shared, r: Release) -> Result<(), Failed> {
    // A Container Linux Config's etcd section, and a #cloud-config's coreos.etcd2 (as the
    // seeds have them), each on a token of its own and ports of its own.
    let sources: [Source; 2] = [
        ("clc", 22400, |url| {
            format!(
            "etcd:\n  discovery: {url}\n  advertise_client_urls: http://{{PRIVATE_IPV4}}:2379\n  initial_advertise_peer_urls: http://{{PRIVATE_IPV4}}:2380\n  listen_client_urls: http://{{PRIVATE_IPV4}}:2379\n  listen_peer_urls: http://{{PRIVATE_IPV4}}:2380\n"
        )
        }),
        ("cloud-config", 22450, |url| {
            format!(
            "#cloud-config\ncoreos:\n  etcd2:\n    discovery: {url}\n    advertise-client-urls: http://$private_ipv4:2379\n    initial-advertise-peer-urls: http://$private_ipv4:2380\n    listen-client-urls: http://$private_ipv4:2379\n    listen-peer-urls: http://$private_ipv4:2380\n  units:\n    - name: etcd2.service\n      command: start\n"
        )
        }),
    ];
    for (kind, base, config) in sources {
        let url = mint(w, 3);
        let metal = shared::config::Platform::by_id("metal").expect("bare metal");
        let migration = shared::migrate::migrate(&config(&url), &metal).map_err(Failed::from)?;
        // `--flag="value"` lines of the drop-in's ExecStart.
        let flags: Vec<(String, String)> = migration
            .butane
            .lines()
            .filter_map(|l| l.trim().trim_end_matches(" \\").strip_prefix("--"))
            .filter_map(|f| f.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        assert!(
            flags.iter().any(|(k, v)| k == "discovery" && *v == url),
            "{kind}: {flags:?}"
        );
        let dir = dir(w, &format!("migrated-{kind}"), r);
        let mut ms: Vec<Member> = (1..=3)
            .map(|i| {
                let m = Member::new(&dir, &format!("m{i}"), r, base, i, &url);
                let own = flags
                    .iter()
                    .map(|(k, v)| {
                        let v = v
                            .replace("${COREOS_CUSTOM_PRIVATE_IPV4}", "127.0.0.1")
                            .replace(":2380", &format!(":{}", m.peer_port))
                            .replace(":2379", &format!(":{}", m.client_port));
                        format!("--{k}={v}")
                    })
                    .collect();
                m.with_own_flags(own)
            })
            .collect();
        ms.iter_mut().for_each(Member::start);
        let refs: Vec<&Member> = ms.iter().collect();
        all_healthy(&refs);
        agree(&refs, &sorted_peers(&refs));
        assert_eq!(registered(&url).len(), 3, "{kind}");
    }
    Ok(())
}

/// A member that finds the token full exits with `--discovery-fallback=exit` (etcd 3.6's only
/// way); its log, explained, says the token was used.
fn a_reused_token_is_explained(w: &Shared, r: Release) -> Result<(), Failed> {
    let url = mint(w, 3);
    let dir = dir(w, "reused", r);
    let mut ms = members(&dir, r, 22600, &url, 3);
    ms.iter_mut().for_each(Member::start);
    let founders: Vec<&Member> = ms[..3].iter().collect();
    all_healthy(&founders);
    // etcd 3.4 writes this one in its text format (capnslog, its default), 3.5 in JSON.
    let mut args = vec!["--discovery-fallback", "exit"];
    if r == Release::V34 {
        args.extend(["--logger", "capnslog"]);
    }
    let mut late = Member::new(&dir, "m4", r, 22600, 4, &url).with_args(&args);
    late.start();
    let status = eventually("the 4th member to exit", Duration::from_secs(30), || {
        late.exited()
    });
    assert!(!status.success());
    let x = explained(w, &late.log());
    assert!(topics(&x).contains(&"token-used".to_string()), "{x:#}");
    assert_eq!(x["verdict"], "m4 did not join: the token was already full.");
    Ok(())
}

/// A discovery URL this service never minted: etcd cannot register, and the explanation says
/// the service does not know the token.
fn an_unknown_token_is_explained(w: &Shared, r: Release) -> Result<(), Failed> {
    let minted = mint(w, 3);
    // The same service, a token it never minted.
    let (base, _) = minted.rsplit_once('/').unwrap();
    let url = format!("{base}/0123456789abcdef0123456789abcdef");
    let dir = dir(w, "unknown", r);
    let mut m = Member::new(&dir, "m1", r, 22700, 1, &url);
    m.start();
    let status = eventually("the member to exit", Duration::from_secs(30), || m.exited());
    assert!(!status.success());
    let x = explained(w, &m.log());
    let verdict = x["verdict"].as_str().unwrap();
    assert!(
        verdict.starts_with("m1 did not start: "),
        "{verdict}\n{x:#}"
    );
    assert!(
        verdict.contains("does not know this token") || verdict.contains("the token has no size"),
        "{verdict}\n{x:#}"
    );
    Ok(())
}

/// Two of three machines share a name: once all three registered, etcd cannot build the
/// cluster, and every log explained says another member has the name.
fn a_shared_name_is_explained(w: &Shared, r: Release) -> Result<(), Failed> {
    let url = mint(w, 3);
    let dir = dir(w, "named", r);
    let mut ms: Vec<Member> = [("m1", 1), ("m2", 2), ("m1", 3)]
        .iter()
        .map(|(name, n)| {
            // One folder each: two share a name, so their data and logs would too.
            let own = dir.join(format!("{n}"));
            std::fs::create_dir_all(&own).expect("a folder");
            Member::new(&own, name, r, 22800, *n, &url)
        })
        .collect();
    ms.iter_mut().for_each(Member::start);
    for m in &mut ms {
        let status = eventually("each member to exit", Duration::from_secs(40), || {
            m.exited()
        });
        assert!(!status.success());
        let x = explained(w, &m.log());
        assert!(topics(&x).contains(&"duplicate-name".to_string()), "{x:#}");
        assert!(
            x["verdict"]
                .as_str()
                .unwrap()
                .ends_with("did not join: another member registered with the same name."),
            "{x:#}"
        );
    }
    Ok(())
}

fn main() {
    let services = rendezvous_e2e::per_shell(18788, "etcd", &[]);
    type Case = fn(&Shared, Release) -> Result<(), Failed>;
    let cases: [(&str, Case); 10] = [
        ("three_started_together", three_started_together),
        (
            "three_started_one_after_another",
            three_started_one_after_another,
        ),
        (
            "fourth_member_on_a_full_token_does_not_vote",
            fourth_member_on_a_full_token_does_not_vote,
        ),
        (
            "five_at_once_on_size_three_leave_three_that_agree",
            five_at_once_on_size_three_leave_three_that_agree,
        ),
        (
            "wiped_member_is_refused_with_duplicate_id",
            wiped_member_is_refused_with_duplicate_id,
        ),
        (
            "service_restarted_mid_bootstrap_loses_nothing",
            service_restarted_mid_bootstrap_loses_nothing,
        ),
        (
            "migrated_flags_form_a_cluster",
            migrated_flags_form_a_cluster,
        ),
        ("a_reused_token_is_explained", a_reused_token_is_explained),
        (
            "an_unknown_token_is_explained",
            an_unknown_token_is_explained,
        ),
        ("a_shared_name_is_explained", a_shared_name_is_explained),
    ];
    let mut trials = Vec::new();
    for (shell, service) in &services {
        for release in [Release::V34, Release::V35] {
            for (name, case) in cases {
                let s = service.clone();
                let etcd = match release {
                    Release::V34 => "etcd_3_4",
                    Release::V35 => "etcd_3_5",
                };
                trials.push(Trial::test(
                    format!("{}::{etcd}::{name}", shell.name()),
                    move || case(&s, release),
                ));
            }
        }
    }
    let conclusion = rendezvous_e2e::run(trials);
    rendezvous_e2e::stop_all(&services);
    conclusion.exit();
}
