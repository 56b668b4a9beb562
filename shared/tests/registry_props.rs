//! Property tests of the registry state machine: for random sequences of creates, sets, updates,
//! deletes, TTL expiries and waits, on a few names so that they collide:
//! - every change is one event, indexes strictly increase with no gaps;
//! - `createdIndex` values are unique among the members;
//! - a parked wait is answered once, with exactly what the history answers for it;
//! - no event is skipped: a wait still parked has no matching event in the history;
//! - once `size` members registered, the first `size` never change.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use shared::inspect::{diagnose, SizeInfo};
use shared::registry::{Answer, Registry, WaitId};
use shared::v2::KeysRequest;
use shared::{Limits, Token};

const T0: u64 = 1_900_000_000_000;
const NAMES: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

#[derive(Debug, Clone)]
enum Step {
    Create {
        name: usize,
        ttl: Option<u64>,
    },
    Set {
        name: usize,
        ttl: Option<u64>,
    },
    Update {
        name: usize,
    },
    Delete {
        name: usize,
    },
    Advance {
        ms: u64,
    },
    Wait {
        on: Target,
        recursive: bool,
        ahead: u64,
    },
    WaitBack {
        on: Target,
        recursive: bool,
        back: u64,
    },
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Dir,
    Size,
    Member(usize),
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        Just(Target::Dir),
        Just(Target::Size),
        (0..NAMES.len()).prop_map(Target::Member)
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let name = 0..NAMES.len();
    let ttl = prop_oneof![3 => Just(None), 1 => (1u64..5).prop_map(Some)];
    prop_oneof![
        4 => (name.clone(), ttl.clone()).prop_map(|(name, ttl)| Step::Create { name, ttl }),
        2 => (name.clone(), ttl).prop_map(|(name, ttl)| Step::Set { name, ttl }),
        1 => name.clone().prop_map(|name| Step::Update { name }),
        2 => name.prop_map(|name| Step::Delete { name }),
        2 => (0u64..3000).prop_map(|ms| Step::Advance { ms }),
        3 => (target(), any::<bool>(), 0u64..3).prop_map(|(on, recursive, ahead)| Step::Wait { on, recursive, ahead }),
        1 => (target(), any::<bool>(), 0u64..6).prop_map(|(on, recursive, back)| Step::WaitBack { on, recursive, back }),
    ]
}

fn key(t: Target) -> String {
    match t {
        Target::Dir => String::new(),
        Target::Size => "/_config/size".into(),
        Target::Member(i) => format!("/{}", NAMES[i]),
    }
}

fn req(method: &str, key: &str, query: &str, body: &str) -> KeysRequest {
    KeysRequest::parse(
        shared::http::Method::parse(method),
        key,
        query,
        Some("application/x-www-form-urlencoded"),
        body,
        0,
    )
    .unwrap()
}

fn wait_query(recursive: bool, since: u64) -> String {
    format!("wait=true&recursive={recursive}&waitIndex={since}")
}

/// (name, createdIndex) of the members, in createdIndex order, from a listing.
fn listing(r: &Registry, now: u64) -> Vec<(String, u64)> {
    let out = r.clone().handle(&req("GET", "", "recursive=true", ""), now);
    let Answer::Reply(reply) = out.answer else {
        panic!("a GET parked")
    };
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    // The inspector's reading of a listing: members in createdIndex order.
    diagnose(&v, SizeInfo::Unknown, None, 0)
        .members
        .into_iter()
        .map(|m| (m.id, m.created_index))
        .collect()
}

/// What the history answers for a wait, if anything.
fn from_history(r: &Registry, key: &str, query: &str, now: u64) -> Option<String> {
    match r.clone().handle(&req("GET", key, query, ""), now).answer {
        Answer::Reply(reply) => Some(reply.body),
        Answer::Parked(_) => None,
    }
}

fn run(size: u64, steps: Vec<Step>) {
    let token = Token::from_random([7; 16]);
    let mut r = Registry::new(token, Limits::default());
    r.mint(size, T0).unwrap();
    let mut now = T0;
    let mut last = r.index();
    let mut parked: HashMap<WaitId, (String, String)> = HashMap::new();
    let mut founders: Option<Vec<String>> = None;

    for s in steps {
        let request = match &s {
            Step::Create { name, ttl } => req(
                "PUT",
                &format!("/{}", NAMES[*name]),
                &ttl.map_or("prevExist=false".into(), |t| {
                    format!("prevExist=false&ttl={t}")
                }),
                "value=v",
            ),
            Step::Set { name, ttl } => req(
                "PUT",
                &format!("/{}", NAMES[*name]),
                &ttl.map_or(String::new(), |t| format!("ttl={t}")),
                "value=s",
            ),
            Step::Update { name } => req(
                "PUT",
                &format!("/{}", NAMES[*name]),
                "prevExist=true",
                "value=u",
            ),
            Step::Delete { name } => req("DELETE", &format!("/{}", NAMES[*name]), "", ""),
            Step::Advance { ms } => {
                now += ms;
                req("GET", "/_config/size", "", "")
            }
            Step::Wait {
                on,
                recursive,
                ahead,
            } => req(
                "GET",
                &key(*on),
                &wait_query(*recursive, r.index() + 1 + ahead),
                "",
            ),
            Step::WaitBack {
                on,
                recursive,
                back,
            } => req(
                "GET",
                &key(*on),
                &wait_query(*recursive, r.index().saturating_sub(*back).max(1)),
                "",
            ),
        };
        let out = r.handle(&request, now);

        for e in &out.events {
            assert_eq!(e.index, last + 1, "events are numbered without gaps");
            last = e.index;
        }
        assert_eq!(r.index(), last, "every change is an event");

        let mut seen = HashSet::new();
        for (id, reply) in &out.woken {
            assert!(seen.insert(*id), "a wait is answered once");
            let (k, q) = parked.remove(id).expect("only parked waits are woken");
            let history = from_history(&r, &k, &q, now).expect("the history answers a woken wait");
            assert_eq!(
                &history, &reply.body,
                "history and parked wait agree for {k}?{q}"
            );
        }
        if let Answer::Parked(id) = out.answer {
            let (k, q) = match &s {
                Step::Wait {
                    on,
                    recursive,
                    ahead,
                } => (key(*on), wait_query(*recursive, last + 1 + ahead)),
                Step::WaitBack {
                    on,
                    recursive,
                    back,
                } => (
                    key(*on),
                    wait_query(*recursive, last.saturating_sub(*back).max(1)),
                ),
                other => panic!("{other:?} parked"),
            };
            parked.insert(id.id, (k, q));
        }
        // No event was skipped: every wait still parked has nothing in the history yet.
        for (k, q) in parked.values() {
            assert_eq!(
                from_history(&r, k, q, now),
                None,
                "{k}?{q} has an answer but is still parked"
            );
        }

        let members = listing(&r, now);
        let created: HashSet<u64> = members.iter().map(|(_, c)| *c).collect();
        assert_eq!(
            created.len(),
            members.len(),
            "createdIndex values are unique"
        );
        if let Some(f) = &founders {
            let first: Vec<String> = members
                .iter()
                .take(size as usize)
                .map(|(n, _)| n.clone())
                .collect();
            assert_eq!(&first, f, "the first {size} never change once registered");
        } else if members.len() as u64 >= size {
            founders = Some(
                members
                    .iter()
                    .take(size as usize)
                    .map(|(n, _)| n.clone())
                    .collect(),
            );
            assert_eq!(r.founders().map(<[String]>::to_vec), founders);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_registry_keeps_its_invariants(size in 1u64..=4, steps in prop::collection::vec(step(), 1..60)) {
        run(size, steps);
    }
}
