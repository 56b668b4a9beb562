//! One line of an etcd log as people paste it: etcd's JSON (zap, the default from 3.5 and
//! `--logger=zap` in 3.4), or etcd 3.4's text (capnslog: `2026-12-04 04:09:01.123456 W |
//! etcdmain: ...`), either one bare or behind `journalctl`'s `Dec 04 04:09:01 host unit[pid]: `
//! (or `-o short-iso`'s `2026-12-04T04:09:01+0000 host unit[pid]: `).

/// How loud etcd was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    /// etcd exits after it (zap's fatal and panic, capnslog's critical).
    Fatal,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// The level a JSON answer names (`as_str`'s).
    pub fn from_name(name: &str) -> Level {
        Level::from_zap(name)
    }

    fn from_zap(level: &str) -> Level {
        match level {
            "debug" => Level::Debug,
            "warn" => Level::Warn,
            "error" => Level::Error,
            "dpanic" | "panic" | "fatal" => Level::Fatal,
            _ => Level::Info,
        }
    }

    /// capnslog's one-letter levels.
    fn from_letter(letter: &str) -> Option<Level> {
        Some(match letter {
            "D" | "T" => Level::Debug,
            "I" | "N" => Level::Info,
            "W" => Level::Warn,
            "E" => Level::Error,
            "C" => Level::Fatal,
            _ => return None,
        })
    }
}

/// What one line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based, in the pasted text.
    pub number: usize,
    /// etcd's own time stamp (`ts`, or capnslog's), else journald's.
    pub time: Option<String>,
    pub level: Level,
    /// zap's `msg`, or capnslog's text after its package.
    pub msg: String,
    /// zap's other keys, each value as text (`caller` left out).
    pub fields: Vec<(String, String)>,
    /// The line as pasted.
    pub raw: String,
}

impl Line {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one pasted line (numbered `number`); `None` for one that is not etcd's.
pub fn read(number: usize, raw: &str) -> Option<Line> {
    let trimmed = raw.trim();
    let (journal_time, body) = match journal_prefix(trimmed) {
        Some((time, rest)) => (Some(time), rest),
        None => (None, trimmed),
    };
    let mut line = json(body).or_else(|| capnslog(body))?;
    line.number = number;
    line.raw = raw.trim_end().to_string();
    if line.time.is_none() {
        line.time = journal_time;
    }
    Some(line)
}

/// journald's time and the text after `host unit[pid]: `.
fn journal_prefix(text: &str) -> Option<(String, &str)> {
    let words: Vec<&str> = text.splitn(6, ' ').collect();
    // `Dec 04 04:09:01 host unit[pid]: ...` (days below 10 may be padded: `Dec  4`).
    let month = words.first()?;
    let short = month.len() == 3 && month.chars().all(|c| c.is_ascii_alphabetic());
    let (time, rest) = if short {
        let squeezed = text.replacen("  ", " ", 1);
        let offset = text.len() - squeezed.len();
        let parts: Vec<&str> = squeezed.splitn(4, ' ').collect();
        if parts.len() < 4 || !parts[2].contains(':') {
            return None;
        }
        let time_len = parts[0].len() + parts[1].len() + parts[2].len() + 2;
        (
            squeezed[..time_len].to_string(),
            &text[time_len + offset + 1..],
        )
    } else {
        // `2026-12-04T04:09:01+0000 host unit[pid]: ...`
        let first = *words.first()?;
        let iso = first.len() >= 19 && first.as_bytes()[4] == b'-' && first.contains('T');
        if !iso {
            return None;
        }
        (first.to_string(), text[first.len()..].trim_start())
    };
    // `host unit[pid]: ` or `host unit: `
    let (_host, after) = rest.split_once(' ')?;
    let (tag, message) = after.split_once(": ")?;
    if tag.contains(' ') || tag.is_empty() {
        return None;
    }
    Some((time, message))
}

/// A zap JSON line.
fn json(text: &str) -> Option<Line> {
    if !text.starts_with('{') {
        return None;
    }
    let serde_json::Value::Object(map) = serde_json::from_str(text).ok()? else {
        return None;
    };
    let text_of = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let msg = map.get("msg").map(text_of)?;
    let fields = map
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "msg" | "level" | "ts" | "caller"))
        .map(|(k, v)| (k.clone(), text_of(v)))
        .collect();
    Some(Line {
        number: 0,
        time: map.get("ts").map(text_of),
        level: Level::from_zap(map.get("level").and_then(|l| l.as_str()).unwrap_or("info")),
        msg,
        fields,
        raw: String::new(),
    })
}

/// An etcd 3.4 capnslog line: `2026-12-04 04:09:01.123456 W | etcdmain: message`.
fn capnslog(text: &str) -> Option<Line> {
    let (head, rest) = text.split_once(" | ")?;
    let mut words = head.rsplitn(2, ' ');
    let level = Level::from_letter(words.next()?)?;
    let time = words.next()?.trim();
    if !time.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // The package (`etcdmain`, `etcdserver/api/v2discovery`) before the message.
    let msg = match rest.split_once(": ") {
        Some((package, msg)) if !package.contains(' ') => msg,
        _ => rest,
    };
    Some(Line {
        number: 0,
        time: Some(time.to_string()),
        level,
        msg: msg.to_string(),
        fields: Vec::new(),
        raw: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZAP: &str = r#"{"level":"info","ts":"2026-12-04T17:40:15.581Z","caller":"v2discovery/discovery.go:374","msg":"found peers from discovery server; waiting for more","discovery-url":"http://127.0.0.1:19788","found-peers":1,"needed-peers":2}"#;

    #[test]
    fn zap_lines_bare_and_behind_journalctl() {
        for (raw, time) in [
            (ZAP.to_string(), "2026-12-04T17:40:15.581Z"),
            (
                format!("Dec 04 17:40:15 node-1 etcd-wrapper[812]: {ZAP}"),
                "2026-12-04T17:40:15.581Z",
            ),
            (
                format!("2026-12-04T17:40:15+0000 node-1 etcd[812]: {ZAP}"),
                "2026-12-04T17:40:15.581Z",
            ),
        ] {
            let line = read(7, &raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(
                line.msg,
                "found peers from discovery server; waiting for more"
            );
            assert_eq!(line.field("needed-peers"), Some("2"));
            assert_eq!(line.field("caller"), None);
            assert_eq!(line.time.as_deref(), Some(time));
            assert_eq!((line.number, line.level), (7, Level::Info));
        }
    }

    #[test]
    fn capnslog_lines_bare_and_behind_journalctl() {
        let text = "2026-12-04 04:09:01.123456 W | etcdmain: discovery cluster full, falling back to proxy";
        for raw in [
            text.to_string(),
            format!("Dec  4 04:09:01 node-1 etcd-member[77]: {text}"),
        ] {
            let line = read(1, &raw).unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(line.msg, "discovery cluster full, falling back to proxy");
            assert_eq!(line.level, Level::Warn);
            assert_eq!(line.time.as_deref(), Some("2026-12-04 04:09:01.123456"));
        }
    }

    #[test]
    fn other_lines_are_not_etcds() {
        for raw in [
            "",
            "-- Boot 3f2a --",
            "Dec 04 17:40:15 node-1 systemd[1]: Started etcd-member.service.",
            "{\"not\":\"etcd\"}",
        ] {
            assert_eq!(read(1, raw), None, "{raw}");
        }
        // journald's time stands in where etcd's line has none of its own.
        let line = read(
            1,
            "Dec 04 17:40:15 node-1 etcd[9]: {\"level\":\"warn\",\"msg\":\"x\"}",
        )
        .unwrap();
        assert_eq!(line.time.as_deref(), Some("Dec 04 17:40:15"));
    }
}
