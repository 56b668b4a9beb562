use super::key::{prefix_end, scope, Scope};
use super::testing::*;
use super::*;
use crate::v2::RawRequest;
use crate::Limits;

fn get(reg: &Registry, scope: &Scope) -> RangeResponse {
    range(Some(reg), scope, &RangeRequest::default()).unwrap()
}

#[test]
fn the_size_reads_as_etcd_keeps_it() {
    let reg = minted(3, Limits::default());
    let r = get(&reg, &one("/_config/size"));
    assert_eq!(r.revision, 1);
    assert_eq!(r.count, 1);
    let kv = &r.kvs[0];
    assert_eq!(kv.key, key("/_config/size"));
    assert_eq!(kv.value, b"3");
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (1, 1, 1));
    assert!(get(&reg, &one("/_config/other")).kvs.is_empty());
}

#[test]
fn members_registered_over_either_protocol_are_one_registry() {
    let mut reg = minted(3, Limits::default());
    let p = put_member(
        &mut reg,
        "8e9e05c52164694d",
        "m1=http://10.0.0.1:2380",
        false,
    )
    .unwrap();
    assert_eq!(p.revision, 2);
    // A v2 member (etcd 3.4/3.5) after it.
    let raw = RawRequest {
        method: crate::http::Method::Put,
        key: "/71c6d2b6be6ab36c",
        query: "prevExist=false",
        content_type: Some("application/x-www-form-urlencoded"),
        body: "value=m2%3Dhttp%3A%2F%2F10.0.0.2%3A2380",
    };
    reg.handle(&raw.parse(0).unwrap(), 3_000);
    let r = get(&reg, &members());
    assert_eq!(r.revision, 3);
    let seen: Vec<(Vec<u8>, i64)> = r
        .kvs
        .iter()
        .map(|k| (k.key.clone(), k.create_revision))
        .collect();
    assert_eq!(
        seen,
        [
            (key("/members/71c6d2b6be6ab36c"), 3),
            (key("/members/8e9e05c52164694d"), 2)
        ],
        "key order, with each creation's revision"
    );
    // And v2 lists the v3 member, in createdIndex order.
    assert_eq!(
        reg.members_in_order(),
        ["8e9e05c52164694d", "71c6d2b6be6ab36c"]
    );
    // The whole token: the size and both members.
    let all = scope(&key(""), &prefix_end(&key(""))).unwrap();
    assert_eq!(get(&reg, &all).count, 3);
}

#[test]
fn a_second_put_updates_with_version_and_prev_kv() {
    let mut reg = minted(3, Limits::default());
    put_member(&mut reg, "aa", "a=http://10.0.0.1:2380", false).unwrap();
    let p = put_member(&mut reg, "aa", "a=http://10.0.0.9:2380", true).unwrap();
    assert_eq!(p.revision, 3);
    let prev = p.prev_kv.expect("asked for");
    assert_eq!(prev.value, b"a=http://10.0.0.1:2380");
    assert_eq!(
        (prev.create_revision, prev.mod_revision, prev.version),
        (2, 2, 1)
    );
    let kv = &get(&reg, &one("/members/aa")).kvs[0];
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (2, 3, 2));
}

#[test]
fn refusals_carry_the_code_a_client_understands() {
    let mut reg = minted(
        1,
        Limits {
            max_members: 2,
            max_size: 1,
            max_value_bytes: 40,
            ..Limits::default()
        },
    );
    let size = PutRequest {
        value: b"5".to_vec(),
        ..PutRequest::default()
    };
    let code = |p: PutOutcome| p.response.unwrap_err().code;
    assert_eq!(
        code(put(Some(&mut reg), &one("/_config/size"), &size, 0)),
        Code::PermissionDenied
    );
    assert_eq!(
        code(put(Some(&mut reg), &one("/elsewhere"), &size, 0)),
        Code::PermissionDenied
    );
    let leased = PutRequest {
        lease: 7,
        ..size.clone()
    };
    assert_eq!(
        code(put(Some(&mut reg), &one("/members/aa"), &leased, 0)),
        Code::InvalidArgument
    );
    let big = PutRequest {
        value: vec![b'x'; 41],
        ..size.clone()
    };
    let r = put(Some(&mut reg), &one("/members/aa"), &big, 0)
        .response
        .unwrap_err();
    assert_eq!(r.code, Code::ResourceExhausted);
    assert!(r.message.contains("at most 40"), "{}", r.message);
    let binary = PutRequest {
        value: vec![0xff],
        ..size.clone()
    };
    assert_eq!(
        code(put(Some(&mut reg), &one("/members/aa"), &binary, 0)),
        Code::InvalidArgument
    );
    put_member(&mut reg, "aa", "a", false).unwrap();
    put_member(&mut reg, "bb", "b", false).unwrap();
    let full = put_member(&mut reg, "cc", "c", false).unwrap_err();
    assert_eq!(full.code, Code::ResourceExhausted, "{}", full.message);
    assert_eq!(reg.index(), 3, "no refusal wrote anything");

    // Nothing stored for a token: NOT_FOUND, whether read or written.
    assert_eq!(
        range(None, &members(), &RangeRequest::default())
            .unwrap_err()
            .code,
        Code::NotFound
    );
    let member = PutRequest {
        value: b"a".to_vec(),
        ..PutRequest::default()
    };
    let r = put(None, &one("/members/aa"), &member, 0)
        .response
        .unwrap_err();
    assert_eq!(r.code, Code::NotFound, "{}", r.message);
    assert!(r.message.contains("never minted"), "{}", r.message);
}

#[test]
fn ranges_take_limits_counts_keys_only_and_past_revisions() {
    let mut reg = minted(3, Limits::default());
    for id in ["aa", "bb", "cc"] {
        put_member(&mut reg, id, "x=http://10.0.0.1:2380", false).unwrap();
    }
    let r = range(
        Some(&reg),
        &members(),
        &RangeRequest {
            limit: 2,
            ..RangeRequest::default()
        },
    )
    .unwrap();
    assert_eq!((r.kvs.len(), r.more, r.count), (2, true, 3));
    let r = range(
        Some(&reg),
        &members(),
        &RangeRequest {
            count_only: true,
            ..RangeRequest::default()
        },
    )
    .unwrap();
    assert_eq!((r.kvs.len(), r.count), (0, 3));
    let r = range(
        Some(&reg),
        &members(),
        &RangeRequest {
            keys_only: true,
            ..RangeRequest::default()
        },
    )
    .unwrap();
    assert!(r
        .kvs
        .iter()
        .all(|k| k.value.is_empty() && !k.key.is_empty()));
    // At revision 2 only the first member had registered; the header still says now.
    let r = range(
        Some(&reg),
        &members(),
        &RangeRequest {
            revision: 2,
            ..RangeRequest::default()
        },
    )
    .unwrap();
    assert_eq!((r.kvs.len(), r.revision), (1, 4));
    let e = range(
        Some(&reg),
        &members(),
        &RangeRequest {
            revision: 9,
            ..RangeRequest::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code, Code::OutOfRange);
}

#[test]
fn ignore_value_and_ignore_lease_are_refused() {
    let mut reg = minted(3, Limits::default());
    for req in [
        PutRequest {
            ignore_value: true,
            ..PutRequest::default()
        },
        PutRequest {
            ignore_lease: true,
            ..PutRequest::default()
        },
    ] {
        let r = put(Some(&mut reg), &one("/members/aa"), &req, 0)
            .response
            .unwrap_err();
        assert_eq!(r.code, Code::InvalidArgument, "{}", r.message);
    }
    assert_eq!(reg.index(), 1);
}
