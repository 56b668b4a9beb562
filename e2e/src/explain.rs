//! A member's log explained by the service under test (`POST /explain`), as etcd wrote it and
//! as `journalctl` prints it: both must say the same.

use serde_json::Value;

use crate::{base, Shared};

/// The log with journalctl's `Mon DD HH:MM:SS host unit[pid]: ` before each line.
pub fn as_journalctl(log: &str) -> String {
    log.lines()
        .map(|l| format!("Dec 04 17:40:15 node-1 etcd-wrapper[812]: {l}\n"))
        .collect()
}

/// The service's explanation of `log`, checked to be the same for its journalctl form but
/// for the times journald would add where etcd gave none.
pub fn explained(w: &Shared, log: &str) -> Value {
    let url = format!("{}/explain", base(w));
    let ask = |text: &str| -> Value {
        let r = crate::http::post_accepting(&url, text.as_bytes(), Some("application/json"));
        assert_eq!(r.status, 200, "{}", r.body);
        serde_json::from_str(&r.body).expect("JSON")
    };
    let bare = ask(log);
    let journal = ask(&as_journalctl(log));
    for key in ["verdict", "member", "discovery"] {
        assert_eq!(bare[key], journal[key], "{key} differs behind journalctl");
    }
    let topics = |v: &Value| -> Vec<Value> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["topic"].clone())
            .collect()
    };
    assert_eq!(
        topics(&bare),
        topics(&journal),
        "findings differ behind journalctl"
    );
    bare
}

/// The topics of an explanation's findings, in order.
pub fn topics(x: &Value) -> Vec<String> {
    x["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["topic"].as_str().unwrap_or("unknown").to_string())
        .collect()
}
