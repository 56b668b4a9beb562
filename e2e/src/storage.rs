//! Reaching into the Durable Object storage that `wrangler dev` keeps on disk (SQLite, table
//! `_cf_KV`), to stage lost or damaged writes. Uses Python's sqlite3 so no C library is built.

use std::path::Path;
use std::process::Command;

const SCRIPT: &str = r#"
import glob, sqlite3, sys
state, op, key = sys.argv[1], sys.argv[2], sys.argv[3]
files = [f for f in glob.glob(state + "/v3/do/*-TokenRegistry/*.sqlite")
         if not f.endswith("metadata.sqlite")]
if op == "count" and not files:
    print(0)  # deleteAll may remove the object's database entirely
    sys.exit(0)
assert len(files) == 1, "expected the storage of exactly one token: %r" % files
db = sqlite3.connect(files[0])
if op == "count":
    tables = [r[0] for r in db.execute("select name from sqlite_master where name = '_cf_KV'")]
    print(db.execute("select count(*) from _cf_KV").fetchone()[0] if tables else 0)
elif op == "take":
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

/// How many keys the only token under `state` has stored (wrangler stopped).
pub fn count(state: &Path) -> usize {
    python(&[&state.to_string_lossy(), "count", "-"])
        .parse()
        .expect("a count")
}

pub fn put_back(state: &Path, key: &str, hex: &str) {
    python(&[&state.to_string_lossy(), "put", key, hex]);
}
