use super::*;
use crate::http::Method;
use crate::v2::{ErrorCode, KeysRequest};

const T0: u64 = 1_800_000_000_000;

fn token() -> Token {
    Token::from_random([0x5a; 16])
}

fn path(rest: &str) -> String {
    format!("/{}{rest}", token())
}

fn minted(size: u64) -> Registry {
    let mut r = Registry::new(token(), Limits::default());
    r.mint(size, T0).unwrap();
    r
}

fn req(method: &str, key: &str, query: &str, body: &str) -> KeysRequest {
    let ct = Some("application/x-www-form-urlencoded");
    KeysRequest::parse(Method::parse(method), key, query, ct, body, 0).unwrap()
}

/// Runs a request that must be answered at once; checks that writes come with their events.
fn call(r: &mut Registry, method: &str, key: &str, query: &str, body: &str) -> Reply {
    call_at(r, method, key, query, body, T0)
}

fn call_at(r: &mut Registry, method: &str, key: &str, query: &str, body: &str, now: u64) -> Reply {
    let before = r.index();
    let out = r.handle(&req(method, key, query, body), now);
    assert_eq!(
        out.events.len() as u64,
        r.index() - before,
        "every change is an event"
    );
    match out.answer {
        Answer::Reply(reply) => reply,
        Answer::Parked(id) => panic!("{method} {key}?{query} parked as {id:?}"),
    }
}

fn json(reply: &Reply) -> serde_json::Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {:?}", reply.body))
}

fn error_code(reply: &Reply) -> u64 {
    json(reply)["errorCode"].as_u64().unwrap()
}

fn register(r: &mut Registry, name: &str, value: &str) -> Reply {
    call(
        r,
        "PUT",
        &format!("/{name}"),
        "prevExist=false",
        &format!("value={value}"),
    )
}

fn park(r: &mut Registry, key: &str, query: &str) -> WaitId {
    let out = r.handle(&req("GET", key, query, ""), T0);
    match out.answer {
        Answer::Parked(p) => p.id,
        Answer::Reply(reply) => panic!("expected to park, got {reply:?}"),
    }
}

#[test]
fn a_token_nobody_minted_reads_as_not_found_everywhere() {
    let mut r = Registry::new(token(), Limits::default());
    for (method, key, query, body) in [
        ("GET", "/_config/size", "", ""),
        ("GET", "", "recursive=true", ""),
        ("PUT", "/abc", "prevExist=false", "value=x"),
        ("GET", "/abc", "wait=true&waitIndex=1", ""),
        ("DELETE", "/abc", "", ""),
        ("PUT", "/a/b/c", "", "value=x"),
    ] {
        let reply = call(&mut r, method, key, query, body);
        assert_eq!(reply.status, 404, "{method} {key}");
        assert_eq!(error_code(&reply), 100);
        assert_eq!(json(&reply)["index"], 0);
    }
    assert_eq!(r.index(), 0);
    assert!(r.history().is_empty());
}

#[test]
fn minting_writes_the_size_as_the_first_event() {
    let mut r = minted(3);
    assert_eq!(r.index(), 1);
    assert_eq!(r.size(), Some(3));
    let reply = call(
        &mut r,
        "GET",
        "/_config/size",
        "quorum=false&recursive=false&sorted=false",
        "",
    );
    assert_eq!((reply.status, reply.etcd_index), (200, 1));
    let v = json(&reply);
    assert_eq!(v["action"], "get");
    assert_eq!(v["node"]["key"], path("/_config/size"));
    assert_eq!(v["node"]["value"], "3");
    assert_eq!(v["node"]["createdIndex"], 1);
    assert_eq!(r.mint(5, T0).unwrap_err().code(), ErrorCode::NodeExist);
}

#[test]
fn registering_answers_201_create_with_indexes() {
    let mut r = minted(3);
    let reply = register(
        &mut r,
        "8e9e05c52164694d",
        "m1%3Dhttp%3A%2F%2F127.0.0.1%3A2380",
    );
    assert_eq!((reply.status, reply.etcd_index), (201, 2));
    let v = json(&reply);
    assert_eq!(v["action"], "create");
    assert_eq!(v["node"]["key"], path("/8e9e05c52164694d"));
    assert_eq!(v["node"]["value"], "m1=http://127.0.0.1:2380");
    assert_eq!(
        (
            v["node"]["createdIndex"].as_u64(),
            v["node"]["modifiedIndex"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert!(v.get("prevNode").is_none());
}

#[test]
fn a_second_create_of_a_member_is_always_105() {
    let mut r = minted(3);
    register(&mut r, "a", "1");
    for _ in 0..2 {
        let reply = register(&mut r, "a", "other");
        assert_eq!(reply.status, 412);
        assert_eq!(error_code(&reply), 105);
        assert_eq!(json(&reply)["message"], "Key already exists");
        assert_eq!(json(&reply)["cause"], path("/a"));
    }
    register(&mut r, "b", "2");
    register(&mut r, "c", "3");
    let reply = register(&mut r, "a", "after-full");
    assert_eq!((reply.status, error_code(&reply)), (412, 105));
    assert_eq!(r.index(), 4, "refused writes leave no event");
}

#[test]
fn listing_shows_members_in_created_order_and_hides_config() {
    let mut r = minted(5);
    for n in ["zz", "aa", "mm"] {
        register(&mut r, n, n);
    }
    for query in ["recursive=false", "recursive=true"] {
        let reply = call(&mut r, "GET", "", query, "");
        let v = json(&reply);
        assert_eq!(reply.etcd_index, 4);
        assert_eq!(v["node"]["dir"], true);
        assert_eq!(v["node"]["key"], path(""));
        let keys: Vec<&str> = v["node"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, [path("/zz"), path("/aa"), path("/mm")]);
    }
    let v = json(&call(&mut r, "GET", "/", "sorted=true", ""));
    let keys: Vec<&str> = v["node"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, [path("/aa"), path("/mm"), path("/zz")]);
    let v = json(&call(&mut r, "GET", "/_config", "", ""));
    assert_eq!(v["node"]["nodes"][0]["key"], path("/_config/size"));
}

#[test]
fn an_empty_token_lists_no_nodes_field() {
    let mut r = minted(3);
    let reply = call(&mut r, "GET", "", "", "");
    assert_eq!(reply.body, format!("{{\"action\":\"get\",\"node\":{{\"key\":\"{}\",\"dir\":true,\"modifiedIndex\":1,\"createdIndex\":1}}}}\n", path("")));
}

#[test]
fn set_update_compare_and_delete_follow_etcd() {
    let mut r = minted(5);
    let reply = call(&mut r, "PUT", "/a", "", "value=1");
    assert_eq!(
        (reply.status, json(&reply)["action"].as_str()),
        (201, Some("set"))
    );
    let reply = call(&mut r, "PUT", "/a", "", "value=2");
    let v = json(&reply);
    assert_eq!((reply.status, v["action"].as_str()), (200, Some("set")));
    assert_eq!(v["prevNode"]["value"], "1");
    assert_eq!(v["node"]["createdIndex"], 3, "a set replaces the node");

    let reply = call(&mut r, "PUT", "/a", "prevExist=true", "value=3");
    let v = json(&reply);
    assert_eq!((reply.status, v["action"].as_str()), (200, Some("update")));
    assert_eq!(v["node"]["createdIndex"], 3);
    assert_eq!(v["node"]["modifiedIndex"], 4);

    let reply = call(&mut r, "PUT", "/nope", "prevExist=true", "value=3");
    assert_eq!((reply.status, error_code(&reply)), (404, 100));

    let reply = call(&mut r, "PUT", "/a", "prevValue=wrong", "value=4");
    assert_eq!((reply.status, error_code(&reply)), (412, 101));
    assert_eq!(json(&reply)["cause"], "[wrong != 3]");
    let reply = call(&mut r, "PUT", "/a", "prevValue=3&prevIndex=4", "value=4");
    assert_eq!(json(&reply)["action"], "compareAndSwap");
    let reply = call(&mut r, "DELETE", "/a", "prevIndex=1", "");
    assert_eq!((reply.status, error_code(&reply)), (412, 101));
    assert_eq!(json(&reply)["cause"], "[1 != 5]");

    let reply = call(&mut r, "DELETE", "/a", "prevValue=4", "");
    let v = json(&reply);
    assert_eq!(
        (reply.status, v["action"].as_str()),
        (200, Some("compareAndDelete"))
    );
    assert_eq!(v["node"]["modifiedIndex"], 6);
    assert_eq!(v["node"]["createdIndex"], 3);
    assert!(v["node"].get("value").is_none());
    assert_eq!(v["prevNode"]["value"], "4");
    let reply = call(&mut r, "DELETE", "/a", "", "");
    assert_eq!((reply.status, error_code(&reply)), (404, 100));
    call(&mut r, "PUT", "/b", "", "value=x");
    assert_eq!(
        json(&call(&mut r, "DELETE", "/b", "", ""))["action"],
        "delete"
    );
}

#[test]
fn the_size_and_the_directories_cannot_be_written() {
    let mut r = minted(3);
    for (method, key, code, status) in [
        ("PUT", "/_config/size", 107, 400),
        ("DELETE", "/_config/size", 107, 400),
        ("PUT", "", 102, 403),
        ("DELETE", "", 102, 403),
        ("PUT", "/_config", 102, 403),
        ("PUT", "/a/b", 209, 400),
        ("PUT", "/_secret", 209, 400),
        ("PUT", "/..", 209, 400),
        ("GET", "/a/b", 100, 404),
        ("DELETE", "/_secret", 100, 404),
    ] {
        let reply = call(&mut r, method, key, "", "value=9");
        assert_eq!(
            (reply.status, error_code(&reply)),
            (status, code),
            "{method} {key}"
        );
        assert_eq!(reply.etcd_index, 1);
    }
    assert_eq!(r.size(), Some(3));
    assert_eq!(r.index(), 1);
}

#[test]
fn a_wait_at_or_below_the_index_is_answered_from_history() {
    let mut r = minted(3);
    let created = json(&register(&mut r, "a", "1"));
    register(&mut r, "b", "2");
    // Step 4 of etcd's sequence: "does my key show?" must answer at once.
    let reply = call(
        &mut r,
        "GET",
        "/a",
        "recursive=false&wait=true&waitIndex=2",
        "",
    );
    assert_eq!((reply.status, reply.etcd_index), (200, 3));
    assert_eq!(json(&reply), created);
    // A recursive wait from the start skips the hidden size event and sees the first member.
    let reply = call(
        &mut r,
        "GET",
        "",
        "recursive=true&wait=true&waitIndex=1",
        "",
    );
    assert_eq!(json(&reply)["node"]["key"], path("/a"));
    let reply = call(
        &mut r,
        "GET",
        "",
        "recursive=true&wait=true&waitIndex=3",
        "",
    );
    assert_eq!(json(&reply)["node"]["key"], path("/b"));
    // A direct wait on the size does see it.
    let reply = call(&mut r, "GET", "/_config/size", "wait=true&waitIndex=1", "");
    assert_eq!(json(&reply)["node"]["value"], "3");
    let reply = call(
        &mut r,
        "GET",
        "/_config",
        "recursive=true&wait=true&waitIndex=1",
        "",
    );
    assert_eq!(json(&reply)["node"]["key"], path("/_config/size"));
}

#[test]
fn later_waits_park_and_wake_in_order_on_the_next_matching_event() {
    let mut r = minted(3);
    register(&mut r, "a", "1");
    let w1 = park(&mut r, "", "recursive=true&wait=true&waitIndex=3");
    let w2 = park(&mut r, "", "recursive=true&wait=true");
    let w_other = park(&mut r, "/zz", "wait=true");
    let w_flat = park(&mut r, "", "wait=true");
    let w_later = park(&mut r, "", "recursive=true&wait=true&waitIndex=4");
    assert_eq!(r.parked_waits(), 5);

    let out = r.handle(&req("PUT", "/b", "prevExist=false", "value=2"), T0);
    assert_eq!(out.events.len(), 1);
    let ids: Vec<WaitId> = out.woken.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [w1, w2], "woken oldest first; others stay parked");
    for (_, reply) in &out.woken {
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.etcd_index, 2,
            "X-Etcd-Index is where the wait started"
        );
        assert_eq!(json(reply)["node"]["key"], path("/b"));
        assert_eq!(json(reply)["action"], "create");
    }
    assert_eq!(r.parked_waits(), 3);

    let out = r.handle(&req("PUT", "/c", "prevExist=false", "value=3"), T0);
    let ids: Vec<WaitId> = out.woken.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [w_later]);
    let out = r.handle(&req("PUT", "/zz", "", "value=z"), T0);
    let ids: Vec<WaitId> = out.woken.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [w_other]);

    assert_eq!(r.cancel_wait(w_flat), Reply::idle(5));
    assert_eq!(r.parked_waits(), 0);
}

#[test]
fn a_parked_wait_gets_what_the_history_would_have_given() {
    let mut live = minted(3);
    let w = park(&mut live, "", "recursive=true&wait=true&waitIndex=2");
    let out = live.handle(&req("PUT", "/a", "prevExist=false", "value=1"), T0);
    let woken = &out.woken[0];
    assert_eq!(woken.0, w);
    let late = call(
        &mut live,
        "GET",
        "",
        "recursive=true&wait=true&waitIndex=2",
        "",
    );
    assert_eq!(late.body, woken.1.body);
}

#[test]
fn etcds_bootstrap_sequence_agrees_for_racing_members() {
    // Five members of a size-3 token, interleaved step by step as they race.
    let mut r = minted(3);
    let names = ["m1", "m2", "m3", "m4", "m5"];
    let mut start = Vec::new();
    for n in names {
        let size = json(&call(&mut r, "GET", "/_config/size", "", ""));
        assert_eq!(size["node"]["value"], "3");
        start.push((n, call(&mut r, "GET", "", "", "").etcd_index));
    }
    assert!(start.iter().all(|(_, index)| *index == 1));
    for (i, n) in names.iter().enumerate() {
        let reply = register(&mut r, n, n);
        assert_eq!(reply.status, 201);
        let created = json(&reply)["node"]["createdIndex"].as_u64().unwrap();
        let again = call(
            &mut r,
            "GET",
            &format!("/{n}"),
            &format!("wait=true&waitIndex={created}"),
            "",
        );
        assert_eq!(
            json(&again)["node"]["key"],
            path(&format!("/{n}")),
            "member {i} sees itself"
        );
    }
    let listing = json(&call(&mut r, "GET", "", "", ""));
    let mut nodes: Vec<(u64, String)> = listing["node"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["createdIndex"].as_u64().unwrap(),
                n["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    nodes.sort();
    let first3: Vec<String> = nodes.iter().take(3).map(|(_, k)| k.clone()).collect();
    assert_eq!(first3, [path("/m1"), path("/m2"), path("/m3")]);
    assert_eq!(r.founders().unwrap(), ["m1", "m2", "m3"]);
}

#[test]
fn ttls_count_down_and_expire_with_an_event_that_wakes_waits() {
    let mut r = minted(3);
    call(&mut r, "PUT", "/t", "ttl=10", "value=x");
    assert_eq!(r.next_expiry(), Some(T0 + 10_000));
    let v = json(&call_at(&mut r, "GET", "/t", "", "", T0 + 2_500));
    assert_eq!(v["node"]["ttl"], 8);
    assert_eq!(v["node"]["expiration"], crate::time::rfc3339(T0 + 10_000));
    let w = park(&mut r, "", "recursive=true&wait=true");

    let (events, woken) = r.tick(T0 + 9_999);
    assert!(events.is_empty() && woken.is_empty());
    let (events, woken) = r.tick(T0 + 10_000);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, Action::Expire);
    assert_eq!(woken.len(), 1);
    assert_eq!(woken[0].0, w);
    let v = json(&woken[0].1);
    assert_eq!(v["action"], "expire");
    assert_eq!(v["node"]["key"], path("/t"));
    assert_eq!(v["node"]["modifiedIndex"], 3);
    assert_eq!(v["prevNode"]["value"], "x");
    let reply = call_at(&mut r, "GET", "/t", "", "", T0 + 10_000);
    assert_eq!(error_code(&reply), 100);
    assert_eq!(r.next_expiry(), None);
}

#[test]
fn requests_expire_due_keys_before_they_are_answered() {
    let mut r = minted(3);
    call(&mut r, "PUT", "/t", "ttl=1", "value=x");
    let out = r.handle(&req("GET", "", "", ""), T0 + 5_000);
    assert_eq!(out.events.len(), 1, "the expiry is an event to store");
    let Answer::Reply(reply) = out.answer else {
        panic!()
    };
    assert_eq!(reply.etcd_index, 3);
    assert!(json(&reply)["node"].get("nodes").is_none());
    // The key can be registered again afterwards.
    assert_eq!(register(&mut r, "t", "y").status, 201);
}

#[test]
fn founders_are_fixed_once_the_token_is_full() {
    let mut r = minted(2);
    call(&mut r, "PUT", "/gone", "prevExist=false", "value=x");
    assert_eq!(call(&mut r, "DELETE", "/gone", "", "").status, 200);
    call(&mut r, "PUT", "/a", "prevExist=false&ttl=30", "value=1");
    assert!(
        r.founders().is_none(),
        "before the token is full, members may leave"
    );
    register(&mut r, "b", "2");
    assert_eq!(r.founders().unwrap(), ["a", "b"]);
    assert_eq!(r.next_expiry(), None, "a founder no longer expires");
    for (method, query) in [
        ("PUT", ""),
        ("PUT", "prevExist=true"),
        ("DELETE", ""),
        ("PUT", "prevValue=1"),
    ] {
        let reply = call(&mut r, method, "/a", query, "value=9");
        assert_eq!(
            (reply.status, error_code(&reply)),
            (400, 107),
            "{method} {query}"
        );
        assert!(json(&reply)["cause"]
            .as_str()
            .unwrap()
            .contains("founding members"));
    }
    // Late comers may still register and leave: they become proxies.
    assert_eq!(register(&mut r, "c", "3").status, 201);
    assert_eq!(call(&mut r, "DELETE", "/c", "", "").status, 200);
    let (events, _) = r.tick(T0 + 3_600_000);
    assert!(events.is_empty());
    assert_eq!(r.members_in_order(), ["a", "b"]);
}

#[test]
fn limits_refuse_with_clear_causes_and_change_nothing() {
    let limits = Limits {
        max_members: 3,
        max_value_bytes: 8,
        max_events: 6,
        ..Limits::default()
    };
    let mut r = Registry::new(token(), limits);
    r.mint(9, T0).unwrap();
    let reply = register(&mut r, "a", "123456789");
    assert_eq!((reply.status, error_code(&reply)), (400, 209));
    assert!(json(&reply)["cause"]
        .as_str()
        .unwrap()
        .contains("at most 8"));
    for n in ["a", "b", "c"] {
        assert_eq!(register(&mut r, n, "v").status, 201);
    }
    let reply = register(&mut r, "d", "v");
    assert_eq!((reply.status, error_code(&reply)), (400, 103));
    assert!(json(&reply)["cause"]
        .as_str()
        .unwrap()
        .contains("3 member keys"));
    call(&mut r, "PUT", "/a", "", "value=w");
    call(&mut r, "PUT", "/a", "", "value=x");
    let reply = call(&mut r, "PUT", "/a", "", "value=y");
    assert_eq!((reply.status, error_code(&reply)), (400, 103));
    assert!(json(&reply)["cause"]
        .as_str()
        .unwrap()
        .contains("recorded 6 changes"));
    assert_eq!(r.index(), 6);
}

#[test]
fn restore_replays_events_into_the_same_registry() {
    let mut r = minted(3);
    register(&mut r, "a", "1");
    call(&mut r, "PUT", "/t", "ttl=5", "value=x");
    register(&mut r, "b", "2");
    r.tick(T0 + 6_000);
    register(&mut r, "c", "3");
    let mut events = r.history().to_vec();
    events.reverse();
    let mut back = Registry::restore(token(), Limits::default(), events).unwrap();
    assert_eq!(back.index(), r.index());
    assert_eq!(back.members_in_order(), r.members_in_order());
    assert_eq!(back.founders(), r.founders());
    for (key, q) in [
        ("", "recursive=true"),
        ("/a", ""),
        ("", "wait=true&recursive=true&waitIndex=4"),
    ] {
        assert_eq!(
            call(&mut back, "GET", key, q, "").body,
            call(&mut r, "GET", key, q, "").body
        );
    }
}

#[test]
fn restore_refuses_gaps_and_headless_histories() {
    let mut r = minted(3);
    register(&mut r, "a", "1");
    register(&mut r, "b", "2");
    let mut events = r.history().to_vec();
    events.remove(1);
    let e = Registry::restore(token(), Limits::default(), events).unwrap_err();
    assert!(e.0.contains("skip"), "{e:?}");
    let events = r.history()[1..].to_vec();
    assert!(Registry::restore(token(), Limits::default(), events).is_err());
    let fresh = Registry::restore(token(), Limits::default(), Vec::new()).unwrap();
    assert!(!fresh.is_minted());
}

#[test]
fn waits_beyond_the_limit_get_429_with_retry_after() {
    let limits = Limits {
        max_waits: 2,
        wait_timeout_secs: 30,
        ..Limits::default()
    };
    let mut r = Registry::new(token(), limits);
    r.mint(3, T0).unwrap();
    let a = park(&mut r, "", "recursive=true&wait=true");
    park(&mut r, "/x", "wait=true");
    let reply = call(&mut r, "GET", "", "recursive=true&wait=true", "");
    assert_eq!(
        (reply.status, reply.retry_after, error_code(&reply)),
        (429, Some(30), 103)
    );
    // A wait answered from history needs no slot.
    assert_eq!(
        call(&mut r, "GET", "/_config/size", "wait=true&waitIndex=1", "").status,
        200
    );
    r.cancel_wait(a);
    assert!(matches!(
        r.handle(&req("GET", "", "recursive=true&wait=true", ""), T0)
            .answer,
        Answer::Parked(_)
    ));
}
