//! A watch stream driven by random requests (creates with any id, cancels, progress requests,
//! looks after puts, parks and their refusals) beside a model of etcd 3.5's id rules: no
//! panic, no two watches under one id, every id given and refused as etcd gives it.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use shared::http::Method;
use shared::registry::{Answer, Registry};
use shared::v2::KeysRequest;
use shared::v3::key::{prefix_end, REGISTRY_PREFIX};
use shared::v3::watch::{park, CreateRequest, Created, Polled, Stream, DUPLICATE_ID};
use shared::{Limits, Token};

const IDS: [i64; 8] = [0, 0, 1, 2, -1, -7, i64::MAX, i64::MIN];

fuzz_target!(|data: &[u8]| {
    let token = Token::from_random([5; 16]);
    let limits = Limits {
        max_waits: 3,
        max_events: 40,
        ..Limits::default()
    };
    let mut reg = Registry::new(token, limits);
    reg.mint(3, 1_000).unwrap();
    let prefix = format!("{REGISTRY_PREFIX}{token}/members/").into_bytes();
    let mut stream = Stream::default();
    // The model: ids in use, and etcd's counter for ids it chooses.
    let mut ids: BTreeSet<i64> = BTreeSet::new();
    let mut next: i64 = 0;
    let mut now = 1_000u64;
    for chunk in data.chunks(2) {
        let (op, arg) = (chunk[0], chunk.get(1).copied().unwrap_or(0));
        now += 10;
        match op % 6 {
            0 => {
                let asked = IDS[usize::from(arg) % IDS.len()];
                let req = CreateRequest {
                    key: prefix.clone(),
                    range_end: prefix_end(&prefix),
                    start_revision: i64::from(arg % 5),
                    watch_id: asked,
                    ..CreateRequest::default()
                };
                let scope = Stream::scope(&req).expect("a token's members");
                let room = reg.parked_waits() < reg.limits().max_waits;
                match stream.create(&req, scope, Some(&reg)) {
                    Created::Watching { id, answers } => {
                        let expected = if asked != 0 {
                            asked
                        } else {
                            while ids.contains(&next) {
                                next = next.wrapping_add(1);
                            }
                            let id = next;
                            next = next.wrapping_add(1);
                            id
                        };
                        assert_eq!(id, expected, "asked {asked}");
                        assert!(room && (asked == 0 || !ids.contains(&asked)));
                        assert!(ids.insert(id), "two watches under {id}");
                        assert!(answers[0].created && answers[0].watch_id == id);
                        assert!(answers.iter().skip(1).all(|a| a.watch_id == id && !a.events.is_empty()));
                    }
                    Created::Refused(r) => {
                        assert!(r.created && r.canceled && r.watch_id == -1);
                        let duplicate = asked != 0 && ids.contains(&asked);
                        assert_eq!(r.cancel_reason == DUPLICATE_ID, duplicate, "{r:?}");
                        assert!(duplicate || !room, "refused with room: {r:?}");
                    }
                }
            }
            1 => {
                let id = pick(&ids, arg);
                let answered = stream.cancel(id);
                assert_eq!(answered.is_some(), ids.remove(&id));
            }
            2 => {
                let p = stream.progress();
                assert_eq!(p.watch_id, -1);
                assert!(ids.is_empty() || p.revision >= 0);
            }
            3 => {
                // A member registers (or updates) over v2.
                let key = format!("/m{}", arg % 4);
                if let Ok(put) = KeysRequest::parse(Method::Put, &key, "", None, "", 0) {
                    reg.handle(&put, now);
                }
            }
            4 => {
                let id = pick(&ids, arg);
                match stream.poll(id, Some(&reg)) {
                    Polled::Watching(Some(sent)) => {
                        assert!(ids.contains(&id) && sent.watch_id == id);
                        assert!(sent.revision <= i64::try_from(reg.index()).unwrap());
                    }
                    Polled::Watching(None) => assert!(ids.contains(&id)),
                    Polled::Gone => assert!(!ids.contains(&id)),
                    Polled::Ended(_) => panic!("the token is there"),
                }
            }
            _ => {
                // A watch parks; past the limit it is refused and ends. Waits are let go at once,
                // or kept (with a v2 wait beside them) to fill the token.
                let id = pick(&ids, arg);
                let Some(after) = stream.after(id) else { continue };
                match park(&mut reg, after, now) {
                    Ok(Some(parked)) if arg % 2 == 0 => {
                        reg.cancel_wait(parked.id);
                    }
                    Ok(_) => {}
                    Err(refused) => {
                        assert!(matches!(stream.refused_park(id, refused), Polled::Ended(_)));
                        ids.remove(&id);
                    }
                }
                if arg % 7 == 0 {
                    if let Ok(wait) = KeysRequest::parse(Method::Get, "", "wait=true", None, "", 0) {
                        if let Answer::Parked(p) = reg.handle(&wait, now).answer {
                            if arg % 3 == 0 {
                                reg.cancel_wait(p.id);
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(stream.ids().collect::<BTreeSet<_>>(), ids);
    }
});

/// An id from the model's set, or another one.
fn pick(ids: &BTreeSet<i64>, arg: u8) -> i64 {
    let n = ids.len();
    if n == 0 || arg % 5 == 0 {
        return IDS[usize::from(arg) % IDS.len()];
    }
    *ids.iter().nth(usize::from(arg) % n).expect("in range")
}
