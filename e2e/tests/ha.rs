//! What only the replicas have: faults of one replica, of the store's etcd, and of the links
//! between them. Each case is bounded in time and checks that no acknowledged registration is
//! lost and that every member of a token sees the same first `size`, and prints its line of the
//! fault table (registrations acknowledged, lost, members agreeing, time to recover).

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use rendezvous_e2e::etcd::{Member, Release};
use rendezvous_e2e::ha::{Topology, REPLICAS};
use rendezvous_e2e::http::{get, put, try_put, try_send, Resp};
use rendezvous_e2e::metrics::value;
use rendezvous_e2e::process::Group;
use rendezvous_e2e::service::{native_binary, Service, Shell};
use rendezvous_e2e::sim::race;
use rendezvous_e2e::{eventually, scratch};

const VARS: [(&str, &str); 2] = [
    ("MINTS_PER_MINUTE", "100000"),
    ("WAIT_TIMEOUT_SECONDS", "20"),
];

fn start(case: &str, port: u16, vars: &[(&str, &str)]) -> Service {
    let state = scratch(&format!("ha-{case}")).join("state");
    Service::start_at(Shell::Ha, port, &state, vars)
}

fn topology(s: &mut Service) -> &mut Topology {
    s.topology().expect("an HA service")
}

/// Tokens of sizes 3 and 5, minted through HAProxy.
fn tokens(s: &Service, count: usize) -> Vec<(String, usize)> {
    (0..count)
        .map(|i| if i % 2 == 0 { 3 } else { 5 })
        .map(|size| (s.mint(size as u64), size))
        .collect()
}

/// How long after a fault a write goes through HAProxy again: a mint and a registration.
fn time_to_write(s: &Service, limit: Duration) -> Duration {
    let start = Instant::now();
    eventually("a write through HAProxy", limit, || {
        let r = try_send("GET", &format!("{}/new?size=3", s.base()), None, None).ok()?;
        if r.status != 200 {
            return None;
        }
        let r = try_put(&format!("{}/probe?prevExist=false", r.body), "value=x").ok()?;
        (r.status == 201).then_some(())
    });
    start.elapsed()
}

/// Races members on `count` tokens spread over `spread` while `fault` is done `times` times,
/// `every` apart; then checks them all. Prints the table line.
fn bootstraps_through(
    s: &Arc<Mutex<Service>>,
    scenario: &str,
    count: usize,
    spread: Duration,
    every: Duration,
    times: usize,
    mut fault: impl FnMut(&mut Service, usize),
) -> Result<(), Failed> {
    let tokens = tokens(&s.lock().unwrap(), count);
    let spread_ms = spread.as_millis() as u64;
    let members = {
        let tokens = tokens.clone();
        std::thread::spawn(move || {
            race(&tokens, 1, |i| {
                Duration::from_millis((i as u64 * 211) % spread_ms)
            })
        })
    };
    let mut recover = Duration::ZERO;
    let mut mid = 0;
    for i in 0..times {
        std::thread::sleep(every);
        let mut s = s.lock().unwrap();
        fault(&mut s, i);
        mid += usize::from(!members.is_finished());
        recover = recover.max(time_to_write(&s, Duration::from_secs(30)));
    }
    let (n, registered) = members
        .join()
        .map_err(|_| "a member disagreed or was lost")?;
    println!(
        "    | {scenario} | {registered} acknowledged | 0 lost | {n} of {n} members agree | write again within {:.1} s ({mid} of {times} faults mid-bootstrap) |",
        recover.as_secs_f64()
    );
    assert!(
        mid * 2 >= times,
        "only {mid} of {times} faults came mid-bootstrap"
    );
    Ok(())
}

fn a_replica_killed_mid_bootstrap() -> Result<(), Failed> {
    let s = Arc::new(Mutex::new(start("replica-killed", 20810, &VARS)));
    bootstraps_through(
        &s,
        "kill -9 a replica (each in turn, 6 times), restarted at once",
        16,
        Duration::from_secs(10),
        Duration::from_millis(1200),
        6,
        |s, i| {
            let t = topology(s);
            t.kill_replica(i % REPLICAS);
            t.start_replica(i % REPLICAS);
        },
    )
}

fn the_store_leader_killed_mid_bootstrap() -> Result<(), Failed> {
    let s = Arc::new(Mutex::new(start("leader-killed", 20811, &VARS)));
    bootstraps_through(
        &s,
        "kill -9 the store's etcd leader (3 times), restarted after 1 s",
        12,
        Duration::from_secs(24),
        Duration::from_millis(2000),
        3,
        |s, _| {
            let t = topology(s);
            let leader = eventually("a store leader", Duration::from_secs(20), || {
                t.store_leader()
            });
            t.kill_store(leader);
            std::thread::sleep(Duration::from_secs(1));
            t.start_store(leader);
        },
    )
}

/// A v2 wait from `index` on `url`, sent again on each idle answer as members do, until an
/// event answers it.
fn wait_for_event(url: &str, index: u64, limit: Duration) -> Resp {
    let start = Instant::now();
    loop {
        let r = try_send(
            "GET",
            &format!("{url}?wait=true&recursive=true&waitIndex={index}"),
            None,
            None,
        );
        match r {
            Ok(r) if r.status == 200 && !r.body.is_empty() => return r,
            // Idle, or 503: ask again.
            _ => {}
        }
        assert!(start.elapsed() < limit, "no event within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Parks a wait for index 2 on every replica directly, each in a thread of its own.
fn waits_on_every_replica(
    t: &Topology,
    url: &str,
    limit: Duration,
) -> Vec<std::thread::JoinHandle<Resp>> {
    let path = url.rsplit('/').next().unwrap().to_string();
    let waits: Vec<_> = (0..REPLICAS)
        .map(|n| {
            let u = format!("{}/{path}", t.replica_url(n));
            std::thread::spawn(move || wait_for_event(&u, 2, limit))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    waits
}

fn the_member_a_watch_is_on_killed() -> Result<(), Failed> {
    let mut s = start("watch-member-killed", 20812, &VARS);
    let url = s.mint(3);
    let token = url.rsplit('/').next().unwrap().to_string();
    let t = topology(&mut s);
    let waits = waits_on_every_replica(t, &url, Duration::from_secs(30));
    let on = eventually("replica 0 watching", Duration::from_secs(10), || {
        t.watch_member(0)
    });
    let started = Instant::now();
    t.kill_store(on);
    let r = eventually("a registration", Duration::from_secs(20), || {
        let r = try_put(
            &format!("{}/{token}/m1?prevExist=false", t.replica_url(1)),
            "value=x",
        )
        .ok()?;
        (r.status == 201).then_some(r)
    });
    assert!(r.body.contains("/m1\""), "{}", r.body);
    for w in waits {
        let answer = w.join().map_err(|_| "a wait was never answered")?;
        assert!(answer.body.contains("/m1\""), "{}", answer.body);
    }
    println!(
        "    | kill -9 the store member replica 0's watch is on | 1 acknowledged | 0 lost | 3 of 3 parked waits answered with it | {:.1} s |",
        started.elapsed().as_secs_f64()
    );
    assert_ne!(
        t.watch_member(0),
        Some(on),
        "replica 0 watches through another member"
    );
    t.start_store(on);
    Ok(())
}

fn quorum_lost_answers_503_and_recovers_by_itself() -> Result<(), Failed> {
    let mut s = start("quorum-lost", 20813, &VARS);
    let url = s.mint(3);
    assert_eq!(
        put(&format!("{url}/m1?prevExist=false"), "value=1").status,
        201
    );
    let token = url.rsplit('/').next().unwrap().to_string();
    let t = topology(&mut s);
    t.kill_store(1);
    t.kill_store(2);
    // Writes answer 503 in etcd's own words, and etcd members send them again.
    let direct = format!("{}/{token}/m2?prevExist=false", t.replica_url(0));
    let r = try_put(&direct, "value=2").map_err(|e| e.to_string())?;
    assert_eq!(r.status, 503, "{r:?}");
    assert!(
        r.json()["errorCode"].is_u64(),
        "etcd's error JSON: {}",
        r.body
    );
    for n in 0..REPLICAS {
        let ready = eventually("a replica unready", Duration::from_secs(15), || {
            let r = try_send("GET", &format!("{}/ready", t.replica_url(n)), None, None).ok()?;
            (r.status == 503).then_some(r)
        });
        assert!(ready.body.contains("not ready"), "{}", ready.body);
    }
    let lost = Instant::now();
    t.start_store(1);
    t.start_store(2);
    for n in 0..REPLICAS {
        t.wait_ready(n);
    }
    let r = eventually("the write again", Duration::from_secs(30), || {
        let r = try_put(&direct, "value=2").ok()?;
        (r.status == 201).then_some(r)
    });
    assert!(r.body.contains("/m2\""), "{}", r.body);
    let listing = get(&url);
    assert_eq!(
        rendezvous_e2e::sim::founders_in_registry(&url, 2),
        ["m1", "m2"],
        "{}",
        listing.body
    );
    println!(
        "    | quorum lost (2 of 3 store members killed) | 2 acknowledged (1 before, 1 after) | 0 lost | 503 + /ready 503 meanwhile | ready and writing {:.1} s after quorum returned |",
        lost.elapsed().as_secs_f64()
    );
    Ok(())
}

fn a_stopped_store_member_is_noticed() -> Result<(), Failed> {
    let s = Arc::new(Mutex::new(start("member-stopped", 20814, &VARS)));
    let stopped = Mutex::new(None);
    let result = bootstraps_through(
        &s,
        "SIGSTOP the store member replica 0 talks to (then SIGCONT 8 s later)",
        10,
        Duration::from_secs(6),
        Duration::from_millis(500),
        1,
        |s, _| {
            let t = topology(s);
            let on = t.watch_member(0).unwrap_or(0);
            t.signal_store(on, libc::SIGSTOP);
            *stopped.lock().unwrap() = Some(on);
        },
    );
    std::thread::sleep(Duration::from_secs(8));
    if let Some(on) = *stopped.lock().unwrap() {
        topology(&mut s.lock().unwrap()).signal_store(on, libc::SIGCONT);
    }
    result
}

fn compaction_past_a_parked_wait() -> Result<(), Failed> {
    let mut s = start("compaction", 20815, &VARS);
    let url = s.mint(3);
    let token = url.rsplit('/').next().unwrap().to_string();
    let t = topology(&mut s);
    // A wait parked on replica 0, whose watch then misses a write and cannot resume: replica 0
    // stopped, the whole store restarted under it (its watch's connection gone), the write made
    // through replica 1, and the store compacted past it.
    let u = format!("{}/{token}", t.replica_url(0));
    let waiting = std::thread::spawn(move || wait_for_event(&u, 2, Duration::from_secs(40)));
    std::thread::sleep(Duration::from_millis(500));
    let pid = t.replicas[0]
        .as_ref()
        .map(|g| g.pid())
        .expect("replica 0 runs");
    // SAFETY: kill(2) on a child's pid.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGSTOP) };
    for n in 0..3 {
        t.kill_store(n);
    }
    for n in 0..3 {
        t.start_store(n);
    }
    let write = format!("{}/{token}/m1?prevExist=false", t.replica_url(1));
    let r = eventually(
        "the write through replica 1",
        Duration::from_secs(20),
        || {
            let r = try_put(&write, "value=x").ok()?;
            (r.status == 201).then_some(r)
        },
    );
    assert!(r.body.contains("/m1\""));
    // More writes, so that the compaction is well past the wait's index.
    for i in 0..5 {
        let u = format!("{}/{token}/x{i}?prevExist=false", t.replica_url(2));
        let _ = try_put(&u, "value=x");
    }
    let compacted = t.compact_store();
    let resumed = Instant::now();
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGCONT) };
    let answer = waiting
        .join()
        .map_err(|_| "the parked wait was never answered")?;
    assert!(answer.body.contains("/m1\""), "{}", answer.body);
    let log = t.replicas[0]
        .as_ref()
        .map(|g| g.log_text())
        .unwrap_or_default();
    assert!(
        log.contains("compacted past revision"),
        "replica 0 missed it: {log}"
    );
    println!(
        "    | compaction (to revision {compacted}) past a wait parked on a replica whose watch was cut | 6 acknowledged | 0 lost | the wait answered with event 2 | {:.1} s after the replica resumed |",
        resumed.elapsed().as_secs_f64()
    );
    Ok(())
}

fn a_token_ending_with_waits_parked_on_every_replica() -> Result<(), Failed> {
    let vars = [
        ("TOKEN_LIFETIME_SECONDS", "6"),
        ("WAIT_TIMEOUT_SECONDS", "30"),
    ];
    let mut s = start("token-ends", 20816, &vars);
    let url = s.mint(3);
    let token = url.rsplit('/').next().unwrap().to_string();
    let minted = Instant::now();
    let t = topology(&mut s);
    // Plain waits, not re-sent: the token's end answers them (idle), on every replica.
    let waits: Vec<_> = (0..REPLICAS)
        .map(|n| {
            let u = format!("{}/{token}?wait=true&recursive=true", t.replica_url(n));
            std::thread::spawn(move || try_send("GET", &u, None, None))
        })
        .collect();
    for w in waits {
        let r = w.join().unwrap().map_err(|e| e.to_string())?;
        assert_eq!((r.status, r.body.as_str()), (200, ""), "ended idle: {r:?}");
    }
    let ended = minted.elapsed();
    assert!(
        ended >= Duration::from_secs(5),
        "not before its end: {ended:?}"
    );
    for n in 0..REPLICAS {
        let r = get(&format!("{}/{token}", t.replica_url(n)));
        assert_eq!(r.status, 404, "replica {n}: {r:?}");
    }
    println!(
        "    | a token ending (6 s life) with waits parked on all 3 replicas | 0 | 0 lost | 3 of 3 waits answered idle, the token gone everywhere | {:.1} s after the mint |",
        ended.as_secs_f64()
    );
    Ok(())
}

fn all_replicas_restarted() -> Result<(), Failed> {
    let mut s = start("all-restarted", 20817, &VARS);
    let urls: Vec<String> = (0..6).map(|_| s.mint(3)).collect();
    let mut acknowledged = 0;
    for url in &urls {
        for m in ["m1", "m2", "m3"] {
            assert_eq!(
                put(&format!("{url}/{m}?prevExist=false"), "value=x").status,
                201
            );
            acknowledged += 1;
        }
    }
    let t = topology(&mut s);
    let started = Instant::now();
    for n in 0..REPLICAS {
        if let Some(mut g) = t.replicas[n].take() {
            assert!(g.stop().success(), "replica {n} stops cleanly");
        }
    }
    for n in 0..REPLICAS {
        t.start_replica(n);
        t.wait_ready(n);
    }
    let took = started.elapsed();
    for url in &urls {
        let token = url.rsplit('/').next().unwrap();
        for n in 0..REPLICAS {
            let listed = rendezvous_e2e::sim::founders_in_registry(
                &format!("{}/{token}", t.replica_url(n)),
                3,
            );
            assert_eq!(listed, ["m1", "m2", "m3"], "replica {n}");
        }
    }
    println!(
        "    | all 3 replicas restarted | {acknowledged} acknowledged | 0 lost | every replica lists the same | ready again within {:.1} s |",
        took.as_secs_f64()
    );
    Ok(())
}

fn real_etcd_members_form_clusters_while_replicas_die() -> Result<(), Failed> {
    let mut s = start("real-members", 20818, &VARS);
    for round in 0..2u16 {
        let url = s.mint(5);
        let dir = scratch(&format!("ha-real-members-{round}"));
        let mut ms: Vec<Member> = (1..=5)
            .map(|i| {
                Member::new(
                    &dir,
                    &format!("m{i}"),
                    Release::V34,
                    27000 + 100 * round,
                    i,
                    &url,
                )
            })
            .collect();
        ms.iter_mut().for_each(Member::start);
        let started = Instant::now();
        // Replicas die and come back at random while the members bootstrap.
        let mut kills = 0;
        let mut seed = 0x9e37_79b9u32.wrapping_mul(u32::from(round) + 1);
        while started.elapsed() < Duration::from_secs(6) {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = seed as usize % REPLICAS;
            let t = topology(&mut s);
            t.kill_replica(n);
            std::thread::sleep(Duration::from_millis(300));
            t.start_replica(n);
            kills += 1;
            std::thread::sleep(Duration::from_millis(400));
        }
        let peers: Vec<String> = ms.iter().map(Member::peer_url).collect();
        eventually("five healthy members", Duration::from_secs(90), || {
            ms.iter().all(Member::healthy).then_some(())
        });
        let mut expected = peers.clone();
        expected.sort();
        for m in &ms {
            let seen = eventually("member list", Duration::from_secs(30), || m.voting_peers());
            assert_eq!(seen, expected, "{} sees the same five", m.name);
        }
        let mut registered = rendezvous_e2e::etcd::registered_peers(&url);
        registered.sort();
        assert_eq!(registered, expected, "the registry holds exactly the five");
        println!(
            "    | 5 real etcd 3.4 members on a size-5 token, a replica killed {kills} times meanwhile (round {round}) | 5 acknowledged | 0 lost | 5 of 5 agree | formed {:.1} s after start |",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn metrics_tell_who_fires_alarms_and_count_every_registration() -> Result<(), Failed> {
    let s = Arc::new(Mutex::new(start("metrics", 20819, &VARS)));
    let tokens = tokens(&s.lock().unwrap(), 8);
    let (members, registered) = race(&tokens, 1, |_| Duration::ZERO);
    let mut s = s.lock().unwrap();
    let t = topology(&mut s);
    let scrapes: Vec<_> = (0..REPLICAS).map(|n| t.metrics(n)).collect();
    let sum = |name: &str| -> f64 { scrapes.iter().map(|m| value(m, name)).sum() };
    assert_eq!(
        sum("rendezvous_alarm_leader"),
        1.0,
        "exactly one replica fires alarms"
    );
    assert_eq!(
        sum("rendezvous_registrations_total") as usize,
        registered,
        "every acknowledged registration counted once, on the replica that took it"
    );
    assert_eq!(sum("rendezvous_mints_total") as usize, tokens.len());
    let spread = scrapes
        .iter()
        .filter(|m| {
            value(
                m,
                "rendezvous_requests_total{route=\"keys\",status=\"201\"}",
            ) > 0.0
        })
        .count();
    assert_eq!(
        spread, REPLICAS,
        "HAProxy spread the registrations over every replica"
    );
    println!(
        "    {members} members, {registered} registrations counted over {REPLICAS} replicas, {} conflicts applied again, 1 alarm leader",
        sum("rendezvous_conflicts_total")
    );
    Ok(())
}

/// Many tokens' registrations at once through one replica: they reach etcd as a few batched
/// transactions, and each is answered on its own (a name registered twice at once is stored
/// once, its twin refused, the rest of its batch stored all the same).
fn many_tokens_written_at_once_share_store_calls() -> Result<(), Failed> {
    let mut s = start("batched", 20820, &VARS);
    let tokens: Vec<String> = (0..40).map(|_| s.mint(3)).collect();
    let t = topology(&mut s);
    let on_0 = |url: &str| {
        let token = url.rsplit('/').next().expect("a token");
        format!("{}/{token}", t.replica_url(0))
    };
    let txns = |t: &Topology| value(&t.metrics(0), "rendezvous_store_seconds_count{op=\"txn\"}");
    // The tokens come into replica 0's memory first: the burst is writes only.
    for url in &tokens {
        assert_eq!(get(&on_0(url)).status, 200);
    }
    let before = txns(t);
    let puts: Vec<_> = tokens
        .iter()
        .flat_map(|url| ["m1", "m2", "m3", "m1"].map(|name| (on_0(url), name)))
        .map(|(token, name)| {
            std::thread::spawn(move || {
                let r = try_put(&format!("{token}/{name}?prevExist=false"), "value=x");
                (token, name, r.map(|r| r.status))
            })
        })
        .collect();
    let mut created = std::collections::HashMap::<String, usize>::new();
    for p in puts {
        let (token, name, status) = p.join().expect("a PUT");
        match status {
            Ok(201) => *created.entry(format!("{token}/{name}")).or_default() += 1,
            Ok(412) if name == "m1" => {}
            other => return Err(format!("{token}/{name}: {other:?}").into()),
        }
    }
    let calls = txns(t) - before;
    assert_eq!(created.len(), tokens.len() * 3, "{created:?}");
    assert!(
        created.values().all(|n| *n == 1),
        "each name stored once: {created:?}"
    );
    assert!(
        calls < (tokens.len() * 3) as f64,
        "{} registrations took {calls} etcd transactions",
        tokens.len() * 3
    );
    // Every token lists its three members through another replica.
    for url in &tokens {
        let token = url.rsplit('/').next().expect("a token");
        let listing = get(&format!("{}/{token}", t.replica_url(1)));
        assert_eq!(
            listing.body.matches("\"key\":").count(),
            4,
            "{}",
            listing.body
        );
    }
    println!(
        "    {} registrations (and {} twins refused) in {calls} etcd transactions",
        tokens.len() * 3,
        tokens.len()
    );
    Ok(())
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, etcd's server certificate for 127.0.0.1 and a client certificate, in `dir`.
fn certificates(dir: &std::path::Path) {
    let days = ["-days", "2"];
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=rendezvous test CA",
            days[0],
            days[1],
        ],
    );
    for (name, cn, usage) in [
        ("server", "127.0.0.1", "serverAuth"),
        ("client", "discovery-replica", "clientAuth"),
    ] {
        let ext = format!("{name}.ext");
        std::fs::write(
            dir.join(&ext),
            format!("subjectAltName=IP:127.0.0.1\nextendedKeyUsage={usage}\n"),
        )
        .unwrap();
        let (key, csr, pem) = (
            format!("{name}-key.pem"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={cn}"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-out",
                &pem,
                "-extfile",
                &ext,
                days[0],
                days[1],
            ],
        );
    }
}

/// A store that asks for TLS with client certificates and for a user: a replica given the
/// CA, its certificate and a user whose role covers only the prefix serves from it; one without
/// the certificate, or with a wrong password, is not ready and says why.
fn a_secured_store_with_tls_and_a_user() -> Result<(), Failed> {
    let dir = scratch("ha-secured");
    certificates(&dir);
    let (client, peer, http) = (32101u16, 32102u16, 32103u16);
    let endpoint = format!("https://127.0.0.1:{client}");
    let mut etcd = Command::new(Release::V34.binary());
    etcd.args(["--name", "secured", "--data-dir"])
        .arg(dir.join("secured.etcd"))
        .args([
            "--listen-client-urls",
            &endpoint,
            "--advertise-client-urls",
            &endpoint,
        ])
        .args(["--listen-peer-urls", &format!("http://127.0.0.1:{peer}")])
        .args([
            "--initial-advertise-peer-urls",
            &format!("http://127.0.0.1:{peer}"),
        ])
        .args([
            "--initial-cluster",
            &format!("secured=http://127.0.0.1:{peer}"),
        ])
        .args(["--client-cert-auth", "--trusted-ca-file"])
        .arg(dir.join("ca.pem"))
        .arg("--cert-file")
        .arg(dir.join("server.pem"))
        .arg("--key-file")
        .arg(dir.join("server-key.pem"));
    let _etcd = Group::spawn(etcd, &dir.join("etcd.log"), "the secured etcd");
    let etcdctl = |args: &[&str]| {
        let mut cmd = Command::new("etcdctl");
        cmd.env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={endpoint}"))
            .arg(format!("--cacert={}", dir.join("ca.pem").display()))
            .arg(format!("--cert={}", dir.join("client.pem").display()))
            .arg(format!("--key={}", dir.join("client-key.pem").display()))
            .args(args);
        cmd.output().expect("etcdctl")
    };
    eventually("the secured etcd", Duration::from_secs(30), || {
        etcdctl(&["endpoint", "health"])
            .status
            .success()
            .then_some(())
    });
    for args in [
        &["user", "add", "root:rootpw"][..],
        &["role", "add", "discovery"],
        &[
            "role",
            "grant-permission",
            "discovery",
            "--prefix=true",
            "readwrite",
            "/rendezvous/",
        ],
        &["user", "add", "discovery:s3cret"],
        &["user", "grant-role", "discovery", "discovery"],
        &["auth", "enable"],
    ] {
        let out = etcdctl(args);
        assert!(
            out.status.success(),
            "etcdctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let replica = |name: &str, port: u16, extra: &[String]| {
        let mut cmd = Command::new(native_binary());
        cmd.args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--store", &format!("etcd://127.0.0.1:{client}")])
            .arg("--assets")
            .arg(rendezvous_e2e::root().join("frontend/dist"))
            .args(extra);
        let mut group = Group::spawn(cmd, &dir.join(format!("{name}.log")), name);
        group.wait_until_serving(
            &format!("http://127.0.0.1:{port}/health"),
            Duration::from_secs(30),
        );
        group
    };
    let file = |f: &str| dir.join(f).display().to_string();
    let tls = [
        "--store-cacert".to_string(),
        file("ca.pem"),
        "--store-cert".into(),
        file("client.pem"),
        "--store-key".into(),
        file("client-key.pem"),
    ];
    let user = |password: &str| {
        [
            "--store-user".to_string(),
            "discovery".into(),
            "--store-password".into(),
            password.into(),
        ]
    };
    let good: Vec<String> = tls.iter().cloned().chain(user("s3cret")).collect();
    let _good = replica("replica", http, &good);
    let base = format!("http://127.0.0.1:{http}");
    eventually(
        "the replica ready on the secured store",
        Duration::from_secs(30),
        || (get(&format!("{base}/ready")).status == 200).then_some(()),
    );
    let token_url = get(&format!("{base}/new?size=3")).body.trim().to_string();
    let token = token_url.rsplit('/').next().expect("a token").to_string();
    let mine = format!("{base}/{token}/m1?prevExist=false");
    assert_eq!(put(&mine, "value=m1=http://10.0.0.1:2380").status, 201);
    let listing = get(&format!("{base}/{token}"));
    assert!(
        listing.body.contains("m1=http://10.0.0.1:2380"),
        "{}",
        listing.body
    );
    let stored = etcdctl(&[
        "--user=root:rootpw",
        "get",
        "--prefix",
        "--keys-only",
        &format!("/rendezvous/t/{token}/"),
    ]);
    let keys = String::from_utf8_lossy(&stored.stdout);
    assert!(
        keys.contains(&format!("/rendezvous/t/{token}/meta")),
        "{keys}"
    );

    // Without its certificate, and with a wrong password: never ready, and the log says why.
    let no_cert: Vec<String> = tls[..2].iter().cloned().chain(user("s3cret")).collect();
    let wrong: Vec<String> = tls.iter().cloned().chain(user("guess")).collect();
    for (name, port, extra, why) in [
        ("no-cert", http + 1, no_cert, "did not answer"),
        ("wrong-password", http + 2, wrong, "authentication failed"),
    ] {
        let _r = replica(name, port, &extra);
        std::thread::sleep(Duration::from_secs(2));
        let ready = get(&format!("http://127.0.0.1:{port}/ready"));
        assert_eq!(ready.status, 503, "{name}: {}", ready.body);
        assert!(ready.body.contains(why), "{name}: {}", ready.body);
    }
    println!("    TLS with client certificates and a user limited to /rendezvous/: served; without the certificate or with a wrong password: 503 on /ready");
    Ok(())
}

fn main() {
    let on = rendezvous_e2e::enabled() && Shell::chosen().contains(&Shell::Ha);
    type HaCase = fn() -> Result<(), Failed>;
    let cases: [(&str, HaCase); 12] = [
        (
            "a_replica_killed_mid_bootstrap",
            a_replica_killed_mid_bootstrap,
        ),
        (
            "the_store_leader_killed_mid_bootstrap",
            the_store_leader_killed_mid_bootstrap,
        ),
        (
            "the_member_a_watch_is_on_killed",
            the_member_a_watch_is_on_killed,
        ),
        (
            "quorum_lost_answers_503_and_recovers_by_itself",
            quorum_lost_answers_503_and_recovers_by_itself,
        ),
        (
            "a_stopped_store_member_is_noticed",
            a_stopped_store_member_is_noticed,
        ),
        (
            "compaction_past_a_parked_wait",
            compaction_past_a_parked_wait,
        ),
        (
            "a_token_ending_with_waits_parked_on_every_replica",
            a_token_ending_with_waits_parked_on_every_replica,
        ),
        ("all_replicas_restarted", all_replicas_restarted),
        (
            "real_etcd_members_form_clusters_while_replicas_die",
            real_etcd_members_form_clusters_while_replicas_die,
        ),
        (
            "metrics_tell_who_fires_alarms_and_count_every_registration",
            metrics_tell_who_fires_alarms_and_count_every_registration,
        ),
        (
            "many_tokens_written_at_once_share_store_calls",
            many_tokens_written_at_once_share_store_calls,
        ),
        (
            "a_secured_store_with_tls_and_a_user",
            a_secured_store_with_tls_and_a_user,
        ),
    ];
    let trials = cases
        .into_iter()
        .map(|(name, case)| Trial::test(format!("ha::{name}"), case).with_ignored_flag(!on))
        .collect();
    rendezvous_e2e::run(trials).exit();
}
