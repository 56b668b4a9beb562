//! Request paths, public-URL prefixes, token URLs, `/new` sizes and form strings: no panics, and
//! what they accept is what they promise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::form::{encode, Form};
use shared::route::{route, Route};
use shared::mint::size::parse_size;
use shared::Token;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    if let Route::Keys { token, key } = route(a, b) {
        assert!(a.contains(&token.to_string()));
        assert!(key.is_empty() || key.starts_with('/'));
    }
    if let Ok(t) = Token::parse(a) {
        assert_eq!(Token::from_segment(&t.to_string()), Ok(t));
    }
    if let Ok(n) = parse_size(Some(a), 9) {
        assert!((1..=9).contains(&n));
    }
    if let Ok(form) = Form::parse(a) {
        // Whatever was decoded encodes back to the same values.
        let again: Vec<String> = form
            .all("x")
            .iter()
            .map(|v| format!("x={}", encode(v)))
            .collect();
        let reparsed = Form::parse(&again.join("&")).unwrap();
        assert_eq!(reparsed.all("x"), form.all("x"));
    }
});
