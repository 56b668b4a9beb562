//! What people paste into the inspector: tokens, URLs, strict and loose registry JSON. Reading
//! and diagnosing never panic, whatever the shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::inspect::{diagnose, loose_json, read_pasted, Pasted, SizeInfo};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(v) = loose_json::parse(&text) {
        let r = diagnose(
            &v,
            SizeInfo::Known(3),
            Some("http://h/t"),
            1_800_000_000_000,
        );
        assert!(r.joined <= r.members.len());
        diagnose(&v, SizeInfo::Unknown, None, 0);
    }
    if let Ok(Pasted::Registry(v)) = read_pasted(&text) {
        assert!(v.get("node").is_some() || v.get("errorCode").is_some());
    }
});
