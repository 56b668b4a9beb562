//! etcd v3 keys and ranges, as members and etcdctl send them: whatever `scope` accepts stays
//! inside the one token it names. Every registry key the scope says it holds lies inside the
//! asked range (or is the asked key), and the range itself reaches no other token's keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::v3::key::{prefix_end, scope, v3_key, REGISTRY_PREFIX};

fuzz_target!(|data: &[u8]| {
    // The key, then (after the first NUL) the range end; a leading 0x01 asks for the key's own
    // prefix end, as `--prefix` makes it.
    let (key, end) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], data[i + 1..].to_vec()),
        None => (data, Vec::new()),
    };
    let end = if end.first() == Some(&1) {
        prefix_end(key)
    } else {
        end
    };
    let Ok(scope) = scope(key, &end) else { return };
    let own = format!("{REGISTRY_PREFIX}{}", scope.token).into_bytes();
    assert!(key.starts_with(&own), "a scope names the token its key names");
    if !end.is_empty() {
        // [key, end) must not reach past this token's keys.
        let past = prefix_end(&own);
        assert!(end <= past, "a range reaches past its token: {key:?}..{end:?}");
    }
    for name in ["_config/size", "8e9e05c52164694d", "m1", "a", "zz", "members"] {
        if !scope.target.holds(name) {
            continue;
        }
        let k = v3_key(scope.token, name);
        assert!(k.starts_with(&own));
        if end.is_empty() {
            assert_eq!(k, key, "a single key holds only itself");
        } else {
            assert!(k.as_slice() >= key && k < end, "{name} outside {key:?}..{end:?}");
        }
    }
});
