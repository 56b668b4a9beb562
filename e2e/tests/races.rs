//! Races and faults, against each shell: many members racing on many tokens must all agree on
//! the same first `size`; the service killed (SIGKILL) and restarted in the middle of bootstraps
//! loses no acknowledged registration (4 times for the Worker, 20 for the native server, whose
//! restarts take milliseconds); real etcd members racing 5 on a size-3 token, repeatedly.
//! Figures are printed for the notes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use rendezvous_e2e::etcd::{race_to_three, Member, Release};
use rendezvous_e2e::scratch;
use rendezvous_e2e::service::{Service, Shell};
use rendezvous_e2e::sim::race;

/// The registry's first `size` member keys, by createdIndex.
fn racing_members_agree_on_every_token(w: &Service) -> Result<(), Failed> {
    let rounds = 3;
    let (mut tokens_total, mut members_total) = (0, 0);
    let start = Instant::now();
    for round in 0..rounds {
        let tokens: Vec<(String, usize)> = (0..21)
            .map(|i| (i % 7) + 1)
            .map(|size| (w.mint(size as u64), size))
            .collect();
        let (members, _) = race(&tokens, 2, |_| Duration::ZERO);
        tokens_total += tokens.len();
        members_total += members;
        println!(
            "    round {round}: {} tokens (sizes 1-7), {members} racing members: all agree",
            tokens.len()
        );
    }
    println!(
        "    {rounds} rounds, {tokens_total} tokens, {members_total} members in {:.1?}: 0 disagreements",
        start.elapsed()
    );
    Ok(())
}

fn restarts_lose_no_registration(w: &Mutex<Service>) -> Result<(), Failed> {
    let shell = w.lock().unwrap().shell();
    // The Worker takes seconds to restart, the native server milliseconds: members start
    // spread over the time the kills and restarts take, so that each kill meets some at work.
    let (token_count, restarts, every, spread) = match shell {
        Shell::Worker => (12, 4, Duration::from_millis(1500), Duration::from_secs(16)),
        Shell::Native => (30, 20, Duration::from_millis(500), Duration::from_secs(10)),
        // Every replica and every etcd member killed at once, as a power cut: etcd takes a
        // second or two to elect a leader again.
        Shell::Ha => (16, 6, Duration::from_millis(1500), Duration::from_secs(16)),
    };
    let tokens: Vec<(String, usize)> = {
        let w = w.lock().unwrap();
        (0..token_count)
            .map(|i| if i % 2 == 0 { 3usize } else { 5 })
            .map(|size| (w.mint(size as u64), size))
            .collect()
    };
    // Members start spread over the whole run; the service is SIGKILLed and restarted meanwhile.
    let spread = spread.as_millis() as u64;
    let members = {
        let tokens = tokens.clone();
        std::thread::spawn(move || {
            race(&tokens, 1, |i| {
                Duration::from_millis((i as u64 * 137) % spread)
            })
        })
    };
    // Each kill is counted only if members were still at work when it came: a run whose
    // members had all finished would test nothing.
    let mut mid_bootstrap = 0;
    for _ in 0..restarts {
        std::thread::sleep(every);
        let mut w = w.lock().unwrap();
        let before = w.pid();
        w.kill();
        w.restart();
        assert_ne!(w.pid(), before, "a new process serves after the kill");
        mid_bootstrap += usize::from(!members.is_finished());
    }
    let (n, registered) = members.join().map_err(|_| "a member thread panicked")?;
    println!(
        "    {} tokens, {n} members, {restarts} SIGKILL restarts ({mid_bootstrap} while members were bootstrapping): {registered} acknowledged registrations, 0 lost, all agree",
        tokens.len()
    );
    assert!(
        mid_bootstrap * 2 >= restarts as usize,
        "only {mid_bootstrap} of {restarts} kills came while members were bootstrapping"
    );
    Ok(())
}

fn real_etcd_five_on_three_repeated(w: &Mutex<Service>) -> Result<(), Failed> {
    let repeats = 3;
    for round in 0..repeats {
        let url = w.lock().unwrap().mint(3);
        let dir = scratch(&format!("races-etcd-{round}"));
        let mut ms: Vec<Member> = (1..=5)
            .map(|i| {
                Member::new(
                    &dir,
                    &format!("m{i}"),
                    Release::V34,
                    28000 + 100 * round,
                    i,
                    &url,
                )
            })
            .collect();
        race_to_three(&mut ms, &url);
        println!("    round {round}: 5 etcd 3.4 members on a size-3 token: the same 3 voting members everywhere");
    }
    Ok(())
}

fn main() {
    let on = rendezvous_e2e::enabled();
    // Generous minting for the test's own many tokens; short waits keep idle polls moving.
    let vars = [
        ("MINTS_PER_MINUTE", "10000"),
        ("WAIT_TIMEOUT_SECONDS", "10"),
    ];
    let mut trials = Vec::new();
    let mut services = Vec::new();
    for shell in Shell::chosen() {
        let state = |name: &str| scratch(&format!("{name}-{}", shell.name())).join("state");
        let race_service =
            on.then(|| Arc::new(Service::start(shell, 18796, &state("races"), &vars)));
        let fault_service = on.then(|| {
            Arc::new(Mutex::new(Service::start(
                shell,
                18797,
                &state("faults"),
                &vars,
            )))
        });
        let name = |case: &str| format!("{}::{case}", shell.name());
        let rw = race_service.clone();
        trials.push(Trial::test(
            name("racing_members_agree_on_every_token"),
            move || racing_members_agree_on_every_token(rw.as_ref().unwrap()),
        ));
        let fw = fault_service.clone();
        trials.push(Trial::test(
            name("restarts_lose_no_registration"),
            move || restarts_lose_no_registration(fw.as_ref().unwrap()),
        ));
        let fw = fault_service.clone();
        trials.push(Trial::test(
            name("real_etcd_five_on_three_repeated"),
            move || real_etcd_five_on_three_repeated(fw.as_ref().unwrap()),
        ));
        services.push((race_service, fault_service));
    }
    let conclusion = rendezvous_e2e::run(trials);
    drop(services);
    conclusion.exit();
}
