//! Paths, query strings and form bodies of keys requests, through the registry itself: whatever
//! arrives, parsing and handling never panic, every answer is etcd's JSON (or an idle wait's
//! empty body), and refused requests change nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::http::Method;
use shared::registry::{Answer, Registry};
use shared::v2::{Action, KeysRequest};
use shared::{Limits, Token};

fuzz_target!(|data: &[u8]| {
    // Fields separated by NUL: method, key, query, content type, body.
    let mut f = data
        .split(|&b| b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned());
    let method = match f.next().unwrap_or_default().len() % 5 {
        0 => Method::Get,
        1 => Method::Put,
        2 => Method::Delete,
        3 => Method::Head,
        _ => Method::Post,
    };
    let key = f.next().unwrap_or_default();
    let query = f.next().unwrap_or_default();
    let ct = f.next().filter(|c| !c.is_empty());
    let body = f.next().unwrap_or_default();

    let limits = Limits {
        max_members: 8,
        max_events: 64,
        max_waits: 4,
        ..Limits::default()
    };
    let mut r = Registry::new(Token::from_random([1; 16]), limits);
    r.mint(3, 1_000).unwrap();
    for name in ["a", "b"] {
        let put = KeysRequest::parse(
            Method::Put,
            &format!("/{name}"),
            "prevExist=false",
            None,
            "",
            1,
        )
        .unwrap();
        r.handle(&put, 1_000);
    }
    let req = match KeysRequest::parse(method, &key, &query, ct.as_deref(), &body, r.index()) {
        Ok(req) => req,
        Err(e) => {
            assert!(serde_json::from_str::<serde_json::Value>(&e.to_json()).is_ok());
            return;
        }
    };
    for now in [1_000u64, 10_000_000] {
        let out = r.handle(&req, now);
        match out.answer {
            Answer::Reply(reply) => {
                if reply.status >= 400 {
                    // A refusal writes nothing of its own; only due TTLs may expire meanwhile.
                    assert!(
                        out.events.iter().all(|e| e.action == Action::Expire),
                        "{:?}",
                        out.events
                    );
                }
                if !reply.body.is_empty() {
                    serde_json::from_str::<serde_json::Value>(&reply.body).expect("etcd JSON");
                }
                assert!(
                    reply.status < 500,
                    "a caller's request never gets a 5xx: {}",
                    reply.status
                );
            }
            Answer::Parked(parked) => {
                assert!(parked.until > now, "a wait ends after it parked");
                r.cancel_wait(parked.id);
            }
        }
    }
});
