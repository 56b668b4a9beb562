//! What a service's storage holds, seen and changed through the shell's own storage hooks
//! (`TEST_STORAGE_HOOKS`: the Worker's Durable Object storage, the native server's store): the
//! keys stored for a token, and a lost write staged and repaired. Both shells keep a token's
//! entries under the same keys (`meta`, `e/<index>`, the layout `shared::lifecycle` defines).

use crate::http::{get, send};

/// The setting that opens the hooks; never on in a deployment.
pub const HOOKS: (&str, &str) = ("TEST_STORAGE_HOOKS", "true");

fn at(base: &str, token: &str) -> String {
    format!("{base}/_test/storage/{token}")
}

/// The keys stored for `token`.
pub fn stored(base: &str, token: &str) -> Vec<String> {
    let r = get(&at(base, token));
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["keys"]
        .as_array()
        .expect("a list of keys")
        .iter()
        .map(|k| k.as_str().expect("a key").to_string())
        .collect()
}

/// Removes one stored entry of `token`, as a lost write would; its value, to put back.
pub fn lose(base: &str, token: &str, key: &str) -> String {
    let url = format!("{}/lose?key={}", at(base, token), shared::form::encode(key));
    let r = send("POST", &url, None, None);
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

/// Stores an entry of `token` as it was.
pub fn restore(base: &str, token: &str, key: &str, value: &str) {
    let url = format!(
        "{}/restore?key={}",
        at(base, token),
        shared::form::encode(key)
    );
    let r = send("POST", &url, Some(value.as_bytes()), None);
    assert_eq!(r.status, 200, "{r:?}");
}
