//! Reaching into a stopped service's storage on disk, to stage lost or damaged writes: the
//! Worker's Durable Object storage under `wrangler dev` (SQLite, table `_cf_KV`) or the native
//! server's store (SQLite, table `entries`). Both hold a token's entries under the same keys
//! (`meta`, `e/<index>`, the layout `shared::lifecycle` defines). Uses Python's sqlite3, so no C
//! library is built for the tests.

use std::path::Path;
use std::process::Command;

use crate::service::Shell;

const SCRIPT: &str = r#"
import glob, os, sqlite3, sys
shell, state, op, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
if shell == "worker":
    files = [f for f in glob.glob(state + "/v3/do/*-TokenRegistry/*.sqlite")
             if not f.endswith("metadata.sqlite")]
    if op == "count" and not files:
        print(0)  # deleteAll may remove the object's database entirely
        sys.exit(0)
    assert len(files) == 1, "expected the storage of exactly one token: %r" % files
    db = sqlite3.connect(files[0])
    tables = [r[0] for r in db.execute("select name from sqlite_master where name = '_cf_KV'")]
    table, where, args = "_cf_KV", "", ()
else:
    db = sqlite3.connect(os.path.join(state, "rendezvous.sqlite"))
    tokens = [r[0] for r in db.execute("select distinct token from entries")]
    if op == "count" and not tokens:
        print(0)
        sys.exit(0)
    assert len(tokens) == 1, "expected the storage of exactly one token: %r" % tokens
    tables = ["entries"]
    table, where, args = "entries", " and token = ?", (tokens[0],)
if op == "count":
    print(db.execute("select count(*) from %s where 1=1%s" % (table, where), args).fetchone()[0] if tables else 0)
elif op == "take":
    (value,) = db.execute("select value from %s where key = ?%s" % (table, where), (key,) + args).fetchone()
    db.execute("delete from %s where key = ?%s" % (table, where), (key,) + args)
    print((value if isinstance(value, bytes) else value.encode()).hex())
else:
    value = bytes.fromhex(sys.argv[5])
    if shell == "worker":
        db.execute("insert into _cf_KV (key, value) values (?, ?)", (key, value))
    else:
        db.execute("insert into entries (token, key, value) values (?, ?, ?)", (args[0], key, value.decode()))
db.commit()
"#;

fn python(shell: Shell, state: &Path, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(shell.name())
        .arg(state)
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

/// Removes one stored key of the only token under `state` (the service stopped); returns its
/// bytes as hex, for `put_back`.
pub fn take(shell: Shell, state: &Path, key: &str) -> String {
    python(shell, state, &["take", key])
}

/// How many keys the only token under `state` has stored (the service stopped).
pub fn count(shell: Shell, state: &Path) -> usize {
    python(shell, state, &["count", "-"])
        .parse()
        .expect("a count")
}

pub fn put_back(shell: Shell, state: &Path, key: &str, hex: &str) {
    python(shell, state, &["put", key, hex]);
}
