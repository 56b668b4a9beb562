//! Bytes off a socket, split as the native server splits them (httparse), through
//! `shared::http1`'s rules and, for a chunked body, its decoder: no panic; every refusal says
//! why, closes the connection and is a 4xx (a 501 only for a transfer coding it does not know);
//! every head taken has one unambiguous body length and, in HTTP/1.1, a Host.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::http1::chunked::Chunked;
use shared::http1::{Framing, Head, Version, MAX_HEADERS};

fuzz_target!(|data: &[u8]| {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(used)) = req.parse(data) else {
        return;
    };
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return;
    };
    let fields: Vec<(&str, &[u8])> = req.headers.iter().map(|h| (h.name, h.value)).collect();
    let count = |name: &str| fields.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count();
    match Head::read(method, target, minor, &fields) {
        Err(refusal) => {
            assert!(refusal.closes() && !refusal.body.is_empty(), "{refusal:?}");
            assert!(
                (400..500).contains(&refusal.status) || refusal.status == 501,
                "{refusal:?}"
            );
            if refusal.status == 501 {
                assert!(count("transfer-encoding") > 0);
            }
        }
        Ok(head) => {
            assert!(head.version == Version::Http10 || head.host.is_some());
            assert!(count("host") <= 1);
            match head.framing {
                Framing::Chunked => {
                    assert_eq!(count("content-length"), 0, "one length, not two");
                    let mut chunked = Chunked::default();
                    let mut body = 0usize;
                    let rest = &data[used..];
                    if let Ok(n) = chunked.feed(rest, |b| body += b.len()) {
                        assert!(n <= rest.len() && body <= n);
                    }
                }
                Framing::Length(n) => {
                    assert!(n > 0 && count("transfer-encoding") == 0);
                }
                Framing::None => assert_eq!(count("transfer-encoding"), 0),
            }
        }
    }
});
