//! Reaching into the Durable Object storage that `wrangler dev` keeps on disk (SQLite, table
//! `_cf_KV`), to stage lost or damaged writes. Uses Python's sqlite3 so no C library is built.

use std::path::Path;
use std::process::Command;

const SCRIPT: &str = r#"
import glob, sqlite3, sys
state, op, key = sys.argv[1], sys.argv[2], sys.argv[3]
files = [f for f in glob.glob(state + "/v3/do/*-TokenRegistry/*.sqlite")
         if not f.endswith("metadata.sqlite")]
assert len(files) == 1, "expected the storage of exactly one token: %r" % files
db = sqlite3.connect(files[0])
if op == "take":
    (value,) = db.execute("select value from _cf_KV where key = ?", (key,)).fetchone()
    db.execute("delete from _cf_KV where key = ?", (key,))
    print(value.hex())
else:
    db.execute("insert into _cf_KV (key, value) values (?, ?)", (key, bytes.fromhex(sys.argv[4])))
db.commit()
"#;

fn python(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "storage script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Removes one stored key of the only token under `state` (wrangler stopped); returns its bytes
/// as hex, for `put_back`.
pub fn take(state: &Path, key: &str) -> String {
    python(&[&state.to_string_lossy(), "take", key])
}

pub fn put_back(state: &Path, key: &str, hex: &str) {
    python(&[&state.to_string_lossy(), "put", key, hex]);
}
