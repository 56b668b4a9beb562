use super::*;

const T: &str = "0123456789abcdef0123456789abcdef";

fn token() -> Token {
    Token::from_segment(T).unwrap()
}

fn limits() -> Limits {
    Limits {
        token_lifetime_secs: 100,
        wait_timeout_secs: 10,
        ..Limits::default()
    }
}

/// A form PUT as etcd sends it.
fn put<'a>(key: &'a str, query: &'a str) -> RawRequest<'a> {
    RawRequest {
        method: crate::http::Method::Put,
        key,
        query,
        content_type: Some("application/x-www-form-urlencoded"),
        body: "value=x",
    }
}

fn get<'a>(key: &'a str, query: &'a str) -> RawRequest<'a> {
    RawRequest {
        method: crate::http::Method::Get,
        key,
        query,
        ..RawRequest::default()
    }
}

fn minted(now: u64) -> (TokenState, Vec<Entry>) {
    let (state, effects) = TokenState::mint(token(), 3, now, &limits());
    (state, effects.store)
}

fn restored(entries: Vec<Entry>) -> TokenState {
    match TokenState::restore(token(), limits(), entries).unwrap() {
        Restored::Minted(t) => *t,
        other => panic!("{other:?}"),
    }
}

fn reply(answer: Answer) -> Reply {
    match answer {
        Answer::Reply(r) => r,
        Answer::Parked(p) => panic!("parked: {p:?}"),
    }
}

#[test]
fn a_minted_token_is_stored_as_meta_its_size_event_and_its_alarm() {
    let (state, effects) = TokenState::mint(token(), 3, 1_000, &limits());
    let keys: Vec<&str> = effects.store.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["meta", "e/00000000000000000001"]);
    assert_eq!(effects.alarm, Some(Some(101_000)), "the alarm at its end");
    assert!(!effects.purge && effects.woken.is_empty());
    assert_eq!(state.meta().expires_at, 101_000);
    let back = restored(effects.store.into_iter().rev().collect());
    assert_eq!(back.meta(), state.meta());
    assert_eq!(back.registry().size(), Some(3));
}

#[test]
fn what_restore_finds_is_typed() {
    assert!(matches!(
        TokenState::restore(token(), limits(), []),
        Ok(Restored::Nothing)
    ));
    // Events with no meta would live forever: the shell is told to delete them.
    let (_, mut stored) = minted(0);
    stored.retain(|(k, _)| k != META_KEY);
    assert!(matches!(
        TokenState::restore(token(), limits(), stored),
        Ok(Restored::Orphaned { events: 1 })
    ));
    // A meta whose size event is lost cannot be served: 503, and nothing written over it.
    let (_, mut stored) = minted(0);
    stored.retain(|(k, _)| k == META_KEY);
    let e = TokenState::restore(token(), limits(), stored).unwrap_err();
    assert!(e.0.contains("without its size event"), "{e:?}");
    // Another token's entries are not this token's.
    let (_, stored) = minted(0);
    let other = Token::from_random([7; 16]);
    let e = TokenState::restore(other, limits(), stored).unwrap_err();
    assert!(e.0.contains("names token"), "{e:?}");
}

#[test]
fn restoring_replays_every_change_and_skips_unknown_keys() {
    let (mut t, mut stored) = minted(0);
    for name in ["a", "b"] {
        let (_, effects) = t.handle(put(&format!("/{name}"), "prevExist=false"), 5);
        stored.extend(effects.store);
    }
    stored.push(("something/else".into(), "not json".into()));
    let back = restored(stored);
    assert_eq!(back.registry().index(), 3);
    assert_eq!(back.registry().members_in_order(), ["a", "b"]);
}

#[test]
fn unreadable_entries_are_named() {
    let e = TokenState::restore(token(), limits(), [("meta".into(), "{".into())]).unwrap_err();
    assert!(e.0.contains("meta"), "{e:?}");
    let (_, mut stored) = minted(0);
    stored.push(("e/00000000000000000002".into(), "[]".into()));
    let e = TokenState::restore(token(), limits(), stored).unwrap_err();
    assert!(e.0.contains("e/00000000000000000002"), "{e:?}");
    // A gap in the history: the registry cannot be rebuilt from it.
    let (mut t, mut stored) = minted(0);
    for name in ["a", "b"] {
        let (_, effects) = t.handle(put(&format!("/{name}"), ""), 5);
        stored.extend(effects.store);
    }
    stored.retain(|(k, _)| k != "e/00000000000000000002");
    let e = TokenState::restore(token(), limits(), stored).unwrap_err();
    assert!(e.0.contains("skip"), "{e:?}");
}

#[test]
fn the_alarm_is_the_next_ttl_or_the_end_and_is_stored_only_when_it_moves() {
    let (t, stored) = minted(0);
    // Restored, the stored alarm is unknown: the first change stores it again.
    let mut t2 = restored(stored);
    let (_, effects) = t2.handle(get("", ""), 1);
    assert_eq!(effects.alarm, None, "a read stores nothing");
    let (_, effects) = t2.handle(put("/a", "ttl=5"), 1_000);
    assert_eq!(effects.alarm, Some(Some(6_000)), "the TTL comes first");
    let (_, effects) = t2.handle(put("/b", ""), 1_000);
    assert_eq!(effects.alarm, None, "unchanged: not stored again");
    assert_eq!(t.alarm_at(), 100_000);
    // The alarm fires: the TTL expires with an event, and the next alarm is stored.
    let effects = t2.on_alarm(6_000);
    assert_eq!(effects.store.len(), 1);
    assert_eq!(effects.alarm, Some(Some(100_000)));
    // Fired again early (a stale alarm): nothing to do, but the alarm is stored all the same.
    let effects = t2.on_alarm(7_000);
    assert!(effects.store.is_empty());
    assert_eq!(effects.alarm, Some(Some(100_000)));
}

#[test]
fn at_its_end_a_token_is_purged_and_its_waits_end_with_its_index() {
    let (mut t, _) = minted(0);
    t.handle(put("/a", ""), 5);
    let (answer, _) = t.handle(get("", "recursive=true&wait=true"), 10);
    let Answer::Parked(parked) = answer else {
        panic!("not parked")
    };
    assert!(t.live(99_999).is_some());
    assert!(t.live(100_000).is_none());
    let effects = t.on_alarm(100_000);
    assert!(effects.purge && effects.store.is_empty());
    assert_eq!(effects.woken, [(parked.id, Reply::idle(2))]);
    // A request after the end: purged, and answered as for a token never minted.
    let (mut t, _) = minted(0);
    let (answer, effects) = t.handle(get("/a", ""), 100_000);
    assert!(effects.purge);
    assert_eq!(reply(answer).status, 404);
    let ledger = t.ledger(100_000);
    assert_eq!(ledger.status, 404);
}

#[test]
fn waits_end_idle_at_their_deadline_with_the_tokens_index() {
    let (mut t, _) = minted(0);
    t.handle(put("/a", ""), 5);
    let (answer, _) = t.handle(get("", "recursive=true&wait=true"), 1_000);
    let Answer::Parked(parked) = answer else {
        panic!("not parked")
    };
    assert_eq!(parked.until, 11_000);
    assert_eq!(t.next_deadline(), 11_000, "sooner than the alarm");
    assert_eq!(t.registry().next_wait_deadline(), Some(11_000));
    assert!(t.end_idle_waits(10_999).is_empty());
    assert_eq!(t.end_idle_waits(11_000), [(parked.id, Reply::idle(2))]);
    assert_eq!(t.next_deadline(), 100_000);
    // Ended for another reason (a failed write, shutdown), a wait gets the same answer.
    let (answer, _) = t.handle(get("", "recursive=true&wait=true"), 12_000);
    let Answer::Parked(again) = answer else {
        panic!("not parked")
    };
    assert_eq!(t.end_waits(), [(again.id, Reply::idle(2))]);
}

#[test]
fn a_bad_request_is_answered_with_etcds_error_and_stores_nothing() {
    let (mut t, _) = minted(0);
    let (answer, effects) = t.handle(get("", "wait=maybe"), 1);
    assert!(!effects.writes());
    let r = reply(answer);
    assert_eq!((r.status, r.etcd_index), (400, 1));
}

#[test]
fn a_token_never_minted_reads_as_etcds_not_found() {
    let r = unminted(token(), &limits(), get("/a", ""), 0);
    assert_eq!(r.status, 404);
    let r = unminted(token(), &limits(), get("", "wait=true"), 0);
    assert_eq!(r.status, 404, "nothing parks on it");
    let r = unminted(token(), &limits(), get("", "wait=maybe"), 0);
    assert_eq!(r.status, 400);
    assert_eq!(ledger_unminted(token()).status, 404);
}

#[test]
fn events_another_replica_stored_wake_the_waits_parked_here() {
    let (mut here, entries) = minted(1_000);
    let mut there = restored(entries);
    // A member waits here for the next change of the member directory.
    let (answer, _) = here.handle(get("", "wait=true&recursive=true"), 1_100);
    let Answer::Parked(parked) = answer else {
        panic!("not parked: {answer:?}")
    };
    // Another replica registers a member; its stored events reach this one.
    let (_, written) = there.handle(put("/m1", "prevExist=false"), 1_200);
    let woken = here.absorb(written.store.clone()).unwrap();
    assert_eq!(woken.len(), 1, "{woken:?}");
    assert_eq!(woken[0].0, parked.id);
    assert!(woken[0].1.body.contains("/m1\""), "{:?}", woken[0].1);
    assert_eq!(here.registry().index(), there.registry().index());
    // Taken in twice (the watch repeats itself after a reconnect): nothing changes.
    assert!(here.absorb(written.store.clone()).unwrap().is_empty());
    assert_eq!(here.registry().members_in_order(), ["m1"]);
    // A write here now follows on from the other's.
    let (answer, _) = here.handle(put("/m2", "prevExist=false"), 1_300);
    assert_eq!(reply(answer).status, 201);
    assert_eq!(here.registry().members_in_order(), ["m1", "m2"]);
}

#[test]
fn a_gap_in_events_from_elsewhere_asks_for_a_fresh_read() {
    let (mut here, entries) = minted(1_000);
    let mut there = restored(entries);
    let (_, first) = there.handle(put("/m1", "prevExist=false"), 1_100);
    let (_, second) = there.handle(put("/m2", "prevExist=false"), 1_200);
    let err = here.absorb(second.store).unwrap_err();
    assert!(err.0.contains("skip from index 1 to 3"), "{err:?}");
    assert_eq!(here.registry().index(), 1, "nothing taken in");
    here.absorb(first.store).unwrap();
    assert_eq!(here.registry().members_in_order(), ["m1"]);
}
