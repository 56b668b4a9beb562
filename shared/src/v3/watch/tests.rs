use super::*;
use crate::registry::Answer;
use crate::v2::RawRequest;
use crate::v3::key::prefix_end;
use crate::v3::testing::{delete_over_v2, key, members, minted, put_member};
use crate::v3::{put, PutRequest};
use crate::Limits;

/// A v2 wait parked on the whole token.
fn park_v2(reg: &mut Registry) {
    let wait = RawRequest {
        method: crate::http::Method::Get,
        key: "",
        query: "recursive=true&wait=true",
        content_type: None,
        body: "",
    };
    let out = reg.handle(&wait.parse(0).unwrap(), 2_000);
    assert!(matches!(out.answer, Answer::Parked(_)), "{out:?}");
}

/// A create on the token's members with the id the client chose (0: the stream's).
fn create(id: i64) -> CreateRequest {
    let k = key("/members");
    CreateRequest {
        range_end: prefix_end(&k),
        key: k,
        watch_id: id,
        ..CreateRequest::default()
    }
}

/// Creates a watch on `stream`: its id, or the refusal's answer.
fn made(
    stream: &mut Stream,
    reg: Option<&Registry>,
    req: &CreateRequest,
) -> Result<i64, WatchResponse> {
    let scope = Stream::scope(req)?;
    match stream.create(req, scope, reg) {
        Created::Watching { id, answers } => {
            assert!(answers[0].created && !answers[0].canceled, "{answers:?}");
            assert_eq!(answers[0].watch_id, id);
            Ok(id)
        }
        Created::Refused(r) => {
            assert!(r.created && r.canceled, "{r:?}");
            Err(r)
        }
    }
}

#[test]
fn ids_are_given_and_refused_as_etcd_3_5_gives_them() {
    let reg = minted(3, Limits::default());
    let mut s = Stream::default();
    // A client's own id stands; the stream's counter goes its own way from 0.
    assert_eq!(made(&mut s, Some(&reg), &create(i64::MAX)), Ok(i64::MAX));
    assert_eq!(made(&mut s, Some(&reg), &create(0)), Ok(0));
    assert_eq!(made(&mut s, Some(&reg), &create(-7)), Ok(-7));
    assert_eq!(made(&mut s, Some(&reg), &create(2)), Ok(2));
    assert_eq!(made(&mut s, Some(&reg), &create(0)), Ok(1));
    // 2 is taken: the counter passes over it.
    assert_eq!(made(&mut s, Some(&reg), &create(0)), Ok(3));
    // An id in use: refused under -1 with etcd's words, and the running watch goes on.
    let dup = made(&mut s, Some(&reg), &create(2)).unwrap_err();
    assert_eq!(
        (dup.watch_id, dup.cancel_reason.as_str()),
        (-1, DUPLICATE_ID)
    );
    assert_eq!(s.ids().collect::<Vec<_>>(), [-7, 0, 1, 2, 3, i64::MAX]);
    // Canceled, an id is free again; an unknown id's cancel is not answered.
    let c = s.cancel(2).unwrap();
    assert!(c.canceled && c.cancel_reason.is_empty() && c.watch_id == 2);
    assert_eq!(s.cancel(2), None);
    assert_eq!(s.cancel(99), None);
    assert_eq!(made(&mut s, Some(&reg), &create(2)), Ok(2));
}

#[test]
fn the_counter_wraps_as_gos_int64_does() {
    let reg = minted(3, Limits::default());
    let mut s = Stream {
        next_id: i64::MAX,
        ..Stream::default()
    };
    assert_eq!(made(&mut s, Some(&reg), &create(0)), Ok(i64::MAX));
    assert_eq!(made(&mut s, Some(&reg), &create(0)), Ok(i64::MIN));
}

#[test]
fn refused_creates_take_no_id() {
    let limits = Limits {
        max_waits: 1,
        ..Limits::default()
    };
    let mut reg = minted(3, limits);
    let mut s = Stream::default();
    // Outside any token: refused under the client's own id, as etcd refuses a forbidden key.
    let wide = CreateRequest {
        key: b"/".to_vec(),
        range_end: vec![0],
        watch_id: 9,
        ..CreateRequest::default()
    };
    let r = made(&mut s, Some(&reg), &wide).unwrap_err();
    assert_eq!(r.watch_id, 9);
    assert!(r.cancel_reason.contains("minted tokens"), "{r:?}");
    // Nothing stored for the token.
    let r = made(&mut s, None, &create(0)).unwrap_err();
    assert_eq!(r.watch_id, -1);
    assert!(r.cancel_reason.contains("never minted"), "{r:?}");
    // The token holds all the waits it may.
    park_v2(&mut reg);
    let r = made(&mut s, Some(&reg), &create(0)).unwrap_err();
    assert_eq!(r.watch_id, -1);
    assert!(r.cancel_reason.contains("1 waits and watches"), "{r:?}");
    // None of that used the counter.
    let reg = minted(3, Limits::default());
    assert_eq!(made(&mut s, Some(&reg), &create(0)), Ok(0));
}

#[test]
fn a_create_replays_history_then_polls_send_only_what_is_new() {
    let mut reg = minted(3, Limits::default());
    put_member(&mut reg, "aa", "a=http://10.0.0.1:2380", false).unwrap();
    let mut s = Stream::default();
    let from_two = CreateRequest {
        start_revision: 2,
        ..create(0)
    };
    let Created::Watching { id, answers } = s.create(&from_two, members(), Some(&reg)) else {
        panic!("refused")
    };
    assert_eq!(answers.len(), 2, "created, then the put at revision 2");
    assert_eq!((answers[0].revision, answers[1].revision), (2, 2));
    assert_eq!(answers[1].events[0].kv.key, key("/members/aa"));
    assert_eq!(s.poll(id, Some(&reg)), Polled::Watching(None));
    assert_eq!(s.after(id), Some(2));
    put_member(&mut reg, "bb", "b=http://10.0.0.2:2380", false).unwrap();
    let Polled::Watching(Some(sent)) = s.poll(id, Some(&reg)) else {
        panic!("nothing sent")
    };
    assert_eq!(
        (sent.watch_id, sent.revision, sent.events.len()),
        (id, 3, 1)
    );
    assert_eq!(s.progress().revision, 3);
    assert_eq!(s.progress().watch_id, -1);
    // The token is gone: the watch ends, and is gone from the stream.
    let Polled::Ended(end) = s.poll(id, None) else {
        panic!("not ended")
    };
    assert!(
        end.canceled && end.cancel_reason.contains("ended"),
        "{end:?}"
    );
    assert_eq!(s.poll(id, Some(&reg)), Polled::Gone);
    assert_eq!(s.progress().revision, 0, "no watch: nothing to report");
}

#[test]
fn a_watch_parks_on_the_registry_and_shares_its_waits_limit() {
    let limits = Limits {
        max_waits: 2,
        wait_timeout_secs: 60,
        ..Limits::default()
    };
    let mut reg = minted(3, limits);
    // Behind the registry: look again at once instead of parking.
    assert_eq!(park(&mut reg, 0, 5_000), Ok(None));
    let parked = park(&mut reg, 1, 5_000).unwrap().unwrap();
    assert_eq!(parked.until, 65_000);
    park_v2(&mut reg);
    let refused = park(&mut reg, 1, 5_000).unwrap_err();
    assert_eq!(refused.code, Code::ResourceExhausted);
    // A put wakes the parked watch like any v2 wait.
    let req = PutRequest {
        value: b"a=http://10.0.0.1:2380".to_vec(),
        ..PutRequest::default()
    };
    let s = scope(&key("/members/aa"), &[]).unwrap();
    let out = put(Some(&mut reg), &s, &req, 6_000);
    let woken: Vec<_> = out.written.woken.iter().map(|(id, _)| *id).collect();
    assert!(woken.contains(&parked.id), "{woken:?}");
    // An ended watch's park refusal ends it with the reason.
    let mut stream = Stream::default();
    let Created::Watching { id, .. } = stream.create(&create(0), members(), Some(&reg)) else {
        panic!("refused")
    };
    let Polled::Ended(end) = stream.refused_park(id, refused) else {
        panic!("not ended")
    };
    assert!(end.cancel_reason.contains("too many watches"), "{end:?}");
}

#[test]
fn watches_replay_the_history_after_a_revision() {
    let mut reg = minted(3, Limits::default());
    put_member(&mut reg, "aa", "a=http://10.0.0.1:2380", false).unwrap();
    put_member(&mut reg, "bb", "b=http://10.0.0.2:2380", false).unwrap();
    put_member(&mut reg, "aa", "a=http://10.0.0.3:2380", false).unwrap();
    let target = members().target;
    let all = events_after(&reg, &target, 1);
    let seen: Vec<(Vec<u8>, i64, i64, bool)> = all
        .iter()
        .map(|e| {
            (
                e.kv.key.clone(),
                e.kv.mod_revision,
                e.kv.version,
                e.prev_kv.is_some(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (key("/members/aa"), 2, 1, false),
            (key("/members/bb"), 3, 1, false),
            (key("/members/aa"), 4, 2, true),
        ]
    );
    assert!(all.iter().all(|e| !e.delete));
    assert_eq!(events_after(&reg, &target, 3).len(), 1);
    assert!(events_after(&reg, &target, 4).is_empty());
    // The size is not a member: a members watch never sees it.
    assert!(events_after(&reg, &target, 0)
        .iter()
        .all(|e| e.kv.key != key("/_config/size")));

    // A delete (over v2) is a DELETE event with the revision of the deletion.
    delete_over_v2(&mut reg, "aa");
    let last = events_after(&reg, &target, 4);
    assert_eq!(last.len(), 1);
    assert!(last[0].delete);
    assert_eq!((last[0].kv.mod_revision, last[0].kv.version), (5, 0));
    assert_eq!(
        last[0].prev_kv.as_ref().unwrap().value,
        b"a=http://10.0.0.3:2380"
    );
}

#[test]
fn a_watch_starts_where_asked_filters_and_keeps_its_place() {
    let mut reg = minted(3, Limits::default());
    put_member(&mut reg, "aa", "a=http://10.0.0.1:2380", false).unwrap();
    put_member(&mut reg, "aa", "a=http://10.0.0.9:2380", false).unwrap();
    let target = members().target;
    // From revision 2: both puts; previous values only when asked.
    let mut w = Watch::new(2, reg.index(), false, false, false);
    let sent = w.next(&reg, &target);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|e| e.prev_kv.is_none()));
    assert_eq!(w.after, 3);
    assert!(w.next(&reg, &target).is_empty(), "nothing new");
    let mut with_prev = Watch::new(2, reg.index(), false, false, true);
    assert!(with_prev.next(&reg, &target)[1].prev_kv.is_some());
    // No start revision: from now.
    let mut from_now = Watch::new(0, reg.index(), false, false, false);
    assert!(from_now.next(&reg, &target).is_empty());
    // NOPUT drops puts, NODELETE deletes.
    delete_over_v2(&mut reg, "aa");
    let mut no_put = Watch::new(1, reg.index(), true, false, false);
    let sent = no_put.next(&reg, &target);
    assert!(sent.len() == 1 && sent[0].delete, "{sent:?}");
    let mut no_delete = Watch::new(1, reg.index(), false, true, false);
    assert!(no_delete.next(&reg, &target).iter().all(|e| !e.delete));
    assert_eq!(
        from_now.next(&reg, &target).len(),
        1,
        "the delete, after its start"
    );
}

#[test]
fn a_watch_from_a_later_revision_waits_for_it() {
    let mut reg = minted(3, Limits::default());
    let target = members().target;
    // Revision 1 is the size; the watch starts at 4.
    let mut w = Watch::new(4, reg.index(), false, false, false);
    put_member(&mut reg, "aa", "a=http://10.0.0.1:2380", false).unwrap();
    assert!(
        w.next(&reg, &target).is_empty(),
        "revision 2 is before its start"
    );
    assert_eq!(w.after, 3, "still waiting for 4");
    put_member(&mut reg, "bb", "b=http://10.0.0.2:2380", false).unwrap();
    put_member(&mut reg, "cc", "c=http://10.0.0.3:2380", false).unwrap();
    let sent = w.next(&reg, &target);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].kv.mod_revision, 4);
    assert_eq!(w.after, 4);
}

#[test]
fn progress_reports_the_revision_every_watch_has_reached() {
    assert_eq!(progress([7, 3, 9]), Some(3));
    assert_eq!(progress([5]), Some(5));
    assert_eq!(progress([]), None);
}
