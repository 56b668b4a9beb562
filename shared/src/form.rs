//! `application/x-www-form-urlencoded` decoding, strict where Go's `url.ParseQuery` is strict:
//! a bad `%` escape is an error, and so (here) is a value that is not UTF-8.

/// Decoded `name=value` pairs in the order they were written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    BadEscape(String),
    NotUtf8(String),
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormError::BadEscape(s) => write!(f, "invalid URL escape in {s:?}"),
            FormError::NotUtf8(s) => write!(f, "{s:?} does not decode to UTF-8 text"),
        }
    }
}

impl Form {
    pub fn parse(raw: &str) -> Result<Form, FormError> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Form(pairs))
    }

    /// Appends another form's pairs after this one's; the first value of a name wins, so call
    /// this on the form that takes precedence (a PUT body before its query, as Go does).
    pub fn then(mut self, other: Form) -> Form {
        self.0.extend(other.0);
        self
    }

    /// The first value given for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Percent-encodes a value for a query string: all but RFC 3986's unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The first value of `name` in a query, read leniently as browsers' URL parsers read it: a bad
/// `%` escape stays as written and bytes that are not UTF-8 become U+FFFD. For queries that only
/// pick a value out (`/new?size=`), where a strict error would say less than the value's own.
pub fn lossy_value(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .find(|(k, _)| decode_lossy(k) == name)
        .map(|(_, v)| decode_lossy(v))
}

fn decode_lossy(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(b.get(i + 1)), hex(b.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode(s: &str) -> Result<String, FormError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    b.get(i + 1).and_then(|&c| hex(c)),
                    b.get(i + 2).and_then(|&c| hex(c)),
                ) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => return Err(FormError::BadEscape(s.to_string())),
                }
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_etcd_sends() {
        let f = Form::parse("value=m1%3Dhttp%3A%2F%2F127.0.0.1%3A2380&prevExist=false").unwrap();
        assert_eq!(f.get("value"), Some("m1=http://127.0.0.1:2380"));
        assert_eq!(f.get("prevExist"), Some("false"));
        assert_eq!(f.get("ttl"), None);
    }

    #[test]
    fn plus_is_space_and_bare_names_are_empty() {
        let f = Form::parse("a=b+c&flag&&x=").unwrap();
        assert_eq!(f.get("a"), Some("b c"));
        assert_eq!(f.get("flag"), Some(""));
        assert_eq!(f.get("x"), Some(""));
        assert!(f.has("flag"));
    }

    #[test]
    fn first_value_wins_and_body_precedes_query() {
        let body = Form::parse("value=body&value=again").unwrap();
        let query = Form::parse("value=query&ttl=5").unwrap();
        let f = body.then(query);
        assert_eq!(f.get("value"), Some("body"));
        assert_eq!(f.get("ttl"), Some("5"));
    }

    #[test]
    fn encode_round_trips_through_parse() {
        let v = "ssh-ed25519 AAAA+/= me@host & more=yes é";
        let f = Form::parse(&format!("k={}&k=2", encode(v))).unwrap();
        assert_eq!(f.all("k"), [v, "2"]);
        assert_eq!(encode("a-b.c_d~"), "a-b.c_d~");
    }

    #[test]
    fn lossy_values_keep_what_they_cannot_decode() {
        assert_eq!(lossy_value("a=1&size=5", "size").as_deref(), Some("5"));
        assert_eq!(
            lossy_value("size=%zz&size=2", "size").as_deref(),
            Some("%zz")
        );
        assert_eq!(lossy_value("size=%00", "size").as_deref(), Some("\0"));
        assert_eq!(lossy_value("si%7Ae=1+2", "size").as_deref(), Some("1 2"));
        assert_eq!(lossy_value("size=%ff", "size").as_deref(), Some("\u{fffd}"));
        assert_eq!(lossy_value("size", "size").as_deref(), Some(""));
        assert_eq!(lossy_value("", "size"), None);
    }

    #[test]
    fn bad_escapes_and_bytes_are_errors() {
        assert!(matches!(Form::parse("a=%zz"), Err(FormError::BadEscape(_))));
        assert!(matches!(Form::parse("a=%4"), Err(FormError::BadEscape(_))));
        assert!(matches!(
            Form::parse("a=%ff%fe"),
            Err(FormError::NotUtf8(_))
        ));
        assert_eq!(Form::parse("a=%C3%A9").unwrap().get("a"), Some("é"));
    }
}
