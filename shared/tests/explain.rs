//! `docs/explain.md` is the explainer's catalog as a table (each etcd message, the releases
//! that log it, the sentence shown), written from `shared::explain::catalog` so that the two
//! never differ. `UPDATE_GOLDEN=1 cargo test -p rendezvous-shared --test explain` rewrites it.

use shared::explain::catalog::{ERRORS, MESSAGES};

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

fn table() -> String {
    let mut out = String::from(
        "# etcd's discovery messages, explained\n\n\
         `POST /explain` and the token inspector read an etcd member's log (JSON or etcd 3.4's \
         text, bare or as `journalctl` prints it) and explain each of these messages. They were \
         taken from etcd's sources, 3.4 to 3.7: `v2discovery/discovery.go`, \
         `v3discovery/discovery.go`, `etcdmain/etcd.go`, `etcdserver/server.go` and \
         `bootstrap.go`, `embed/config.go`, and the errors those return. `{name}` stands for a \
         value etcd prints. A discovery line not listed here is shown as etcd wrote it. This \
         file is written from `shared/src/explain/catalog.rs` by its test.\n\n\
         | etcd's message | etcd | What the page says |\n| --- | --- | --- |\n",
    );
    for m in MESSAGES {
        let forms: Vec<String> = m.forms.iter().map(|f| format!("`{}`", cell(f))).collect();
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            forms.join("<br>"),
            m.versions,
            cell(m.says)
        ));
    }
    out.push_str(
        "\n## Errors\n\nA failure's error (zap's `error` field, or the text after `failed to join \
         discovery cluster`) is read for what it means:\n\n| Error text | Meaning |\n| --- | --- |\n",
    );
    for (text, _, meaning) in ERRORS {
        out.push_str(&format!("| `{}` | {} |\n", cell(text), cell(meaning)));
    }
    out
}

#[test]
fn the_doc_lists_every_message_the_catalog_explains() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/explain.md");
    let text = table();
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
    }
    let doc = std::fs::read_to_string(&path).expect("docs/explain.md: run with UPDATE_GOLDEN=1");
    assert_eq!(doc, text, "docs/explain.md is not the catalog's table");
    let forms: usize = MESSAGES.iter().map(|m| m.forms.len()).sum();
    assert!(forms >= 90, "{forms} forms");
}
