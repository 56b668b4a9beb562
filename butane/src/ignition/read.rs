//! Ignition JSON read as Go's encoding/json reads it for Ignition: first checked whole, a
//! syntax error worded as Go words it ("invalid character 'l' looking for beginning of
//! value"); then typed, a value of the wrong kind worded as Go's UnmarshalTypeError. The
//! values land in the same node tree the YAML side uses, each with its line and column.

use crate::yaml::{Node, Scalar, Style, Value};

/// Go's `checkValid`: a `json.SyntaxError`'s message and offset (just past the byte it
/// stopped at, as Go counts it).
fn scan(text: &[u8]) -> Result<(), (String, usize)> {
    let mut s = Scan { text, at: 0 };
    s.space();
    s.value().map_err(|e| (e, s.at))?;
    s.space();
    match s.text.get(s.at) {
        Some(&c) => Err((
            format!("invalid character {} after top-level value", quote_char(c)),
            s.at + 1,
        )),
        None => Ok(()),
    }
}

/// Go's `json.SyntaxError` message.
pub fn check(text: &[u8]) -> Result<(), String> {
    scan(text).map_err(|(message, _)| message)
}

/// The byte offset Go's `SyntaxError` reports.
pub fn error_offset(text: &[u8]) -> Option<usize> {
    scan(text).err().map(|(_, offset)| offset)
}

/// The JSON as nodes, for text `check` accepted.
pub fn parse(text: &[u8]) -> Result<Node, String> {
    check(text)?;
    let lines = Lines::new(text);
    let mut s = Scan { text, at: 0 };
    s.space();
    Ok(s.node(&lines))
}

/// Where each line of a text starts, found once, to place byte offsets.
pub struct Lines(Vec<usize>);

impl Lines {
    pub fn new(text: &[u8]) -> Lines {
        let starts = std::iter::once(0).chain(
            text.iter()
                .enumerate()
                .filter(|(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines(starts.collect())
    }

    /// The 1-based line and column (in bytes) of a byte offset.
    pub fn at(&self, offset: usize) -> (usize, usize) {
        let line = self.0.partition_point(|&start| start <= offset);
        (line, offset - self.0[line - 1] + 1)
    }
}

const END: &str = "unexpected end of JSON input";

/// Go's `quoteChar`.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        c => {
            let quoted = crate::decode::go_quote(&char::from(c).to_string());
            format!("'{}'", &quoted[1..quoted.len() - 1])
        }
    }
}

struct Scan<'a> {
    text: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Result<u8, String> {
        let c = self.peek().ok_or_else(|| END.to_string())?;
        self.at += 1;
        Ok(c)
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Result<(), String> {
        let c = self.next()?;
        match c {
            b'{' => {
                self.space();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(());
                }
                loop {
                    let c = self.next()?;
                    if c != b'"' {
                        return Err(format!(
                            "invalid character {} looking for beginning of object key string",
                            quote_char(c)
                        ));
                    }
                    self.string()?;
                    self.space();
                    let c = self.next()?;
                    if c != b':' {
                        return Err(format!(
                            "invalid character {} after object key",
                            quote_char(c)
                        ));
                    }
                    self.space();
                    self.value()?;
                    self.space();
                    match self.next()? {
                        b',' => self.space(),
                        b'}' => return Ok(()),
                        c => {
                            return Err(format!(
                                "invalid character {} after object key:value pair",
                                quote_char(c)
                            ))
                        }
                    }
                }
            }
            b'[' => {
                self.space();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(());
                }
                loop {
                    self.value()?;
                    self.space();
                    match self.next()? {
                        b',' => self.space(),
                        b']' => return Ok(()),
                        c => {
                            return Err(format!(
                                "invalid character {} after array element",
                                quote_char(c)
                            ))
                        }
                    }
                }
            }
            b'"' => self.string(),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            b'-' | b'0'..=b'9' => self.number(c),
            c => Err(format!(
                "invalid character {} looking for beginning of value",
                quote_char(c)
            )),
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), String> {
        for expected in word.bytes().skip(1) {
            let c = self.next()?;
            if c != expected {
                return Err(format!(
                    "invalid character {} in literal {word} (expecting {})",
                    quote_char(c),
                    quote_char(expected)
                ));
            }
        }
        Ok(())
    }

    fn string(&mut self) -> Result<(), String> {
        loop {
            match self.next()? {
                b'"' => return Ok(()),
                b'\\' => match self.next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        for _ in 0..4 {
                            let c = self.next()?;
                            if !c.is_ascii_hexdigit() {
                                return Err(format!(
                                    "invalid character {} in \\u hexadecimal character escape",
                                    quote_char(c)
                                ));
                            }
                        }
                    }
                    c => {
                        return Err(format!(
                            "invalid character {} in string escape code",
                            quote_char(c)
                        ))
                    }
                },
                c if c < 0x20 => {
                    return Err(format!(
                        "invalid character {} in string literal",
                        quote_char(c)
                    ))
                }
                _ => {}
            }
        }
    }

    fn number(&mut self, first: u8) -> Result<(), String> {
        let mut c = first;
        if c == b'-' {
            c = self.next()?;
            if !c.is_ascii_digit() {
                return Err(format!(
                    "invalid character {} in numeric literal",
                    quote_char(c)
                ));
            }
        }
        if c != b'0' {
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.at += 1;
            }
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            let c = self.next()?;
            if !c.is_ascii_digit() {
                return Err(format!(
                    "invalid character {} after decimal point in numeric literal",
                    quote_char(c)
                ));
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.at += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            let mut c = self.next()?;
            if c == b'+' || c == b'-' {
                c = self.next()?;
            }
            if !c.is_ascii_digit() {
                return Err(format!(
                    "invalid character {} in exponent of numeric literal",
                    quote_char(c)
                ));
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.at += 1;
            }
        }
        Ok(())
    }

    /// The node at the current offset, in text already checked.
    fn node(&mut self, lines: &Lines) -> Node {
        let (line, column) = lines.at(self.at);
        let value = match self.text[self.at] {
            b'{' => {
                self.at += 1;
                self.space();
                let mut entries = Vec::new();
                while self.text[self.at] != b'}' {
                    let key = self.node(lines);
                    self.space();
                    self.at += 1; // ':'
                    self.space();
                    let value = self.node(lines);
                    entries.push((key, value));
                    self.space();
                    if self.text[self.at] == b',' {
                        self.at += 1;
                        self.space();
                    }
                }
                self.at += 1;
                Value::Mapping(entries)
            }
            b'[' => {
                self.at += 1;
                self.space();
                let mut items = Vec::new();
                while self.text[self.at] != b']' {
                    items.push(self.node(lines));
                    self.space();
                    if self.text[self.at] == b',' {
                        self.at += 1;
                        self.space();
                    }
                }
                self.at += 1;
                Value::Sequence(items)
            }
            b'"' => {
                let start = self.at;
                self.at += 1;
                let _ = self.string();
                Value::Scalar(Scalar {
                    text: unquote(&self.text[start..self.at]),
                    style: Style::DoubleQuoted,
                    tag: None,
                })
            }
            _ => {
                let start = self.at;
                while self.at < self.text.len() && !b" \t\r\n,]}".contains(&self.text[self.at]) {
                    self.at += 1;
                }
                Value::Scalar(Scalar {
                    text: String::from_utf8_lossy(&self.text[start..self.at]).into_owned(),
                    style: Style::Plain,
                    tag: None,
                })
            }
        };
        Node {
            value,
            line,
            column,
        }
    }
}

/// A checked JSON string literal's value (bad surrogates and bytes become U+FFFD, as Go).
fn unquote(literal: &[u8]) -> String {
    let inner = &literal[1..literal.len() - 1];
    let mut out: Vec<u8> = Vec::with_capacity(inner.len());
    let mut i = 0;
    let hex4 =
        |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).unwrap_or("0"), 16).unwrap_or(0);
    while i < inner.len() {
        if inner[i] != b'\\' {
            out.push(inner[i]);
            i += 1;
            continue;
        }
        let c = inner[i + 1];
        i += 2;
        let ch = match c {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let mut code = hex4(&inner[i..i + 4]);
                i += 4;
                if (0xd800..0xdc00).contains(&code) && inner[i..].starts_with(b"\\u") {
                    let low = hex4(&inner[i + 2..i + 6]);
                    if (0xdc00..0xe000).contains(&low) {
                        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                        i += 6;
                    }
                }
                char::from_u32(code).unwrap_or('\u{fffd}')
            }
            c => c as char,
        };
        let mut buf = [0; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_are_worded_as_go_words_them() {
        assert_eq!(
            check(b"flatcar 618").unwrap_err(),
            "invalid character 'l' in literal false (expecting 'a')"
        );
        assert_eq!(
            check(b"log 927").unwrap_err(),
            "invalid character 'l' looking for beginning of value"
        );
        assert_eq!(
            check(b"{\"a\": 1").unwrap_err(),
            "unexpected end of JSON input"
        );
        assert_eq!(check(b"").unwrap_err(), "unexpected end of JSON input");
        assert_eq!(
            check(b"nope").unwrap_err(),
            "invalid character 'o' in literal null (expecting 'u')"
        );
        assert_eq!(
            check(b"{} x").unwrap_err(),
            "invalid character 'x' after top-level value"
        );
        assert!(check(b" {\"a\": [1, -2.5e3, \"\\u00e9\", true, null]}\n").is_ok());
    }

    #[test]
    fn values_become_nodes_at_their_place() {
        let node = parse(b"{\n  \"a\": [\"x\\n\", 2]\n}").unwrap();
        let Value::Mapping(entries) = &node.value else {
            panic!()
        };
        let (key, value) = &entries[0];
        assert_eq!((key.line, key.column), (2, 3));
        let Value::Sequence(items) = &value.value else {
            panic!()
        };
        assert_eq!(
            items[0].value,
            Value::Scalar(Scalar {
                text: "x\n".into(),
                style: Style::DoubleQuoted,
                tag: None
            })
        );
    }
}

/// Where a value sits, for Go's "into Go struct field Ignition.ignition.version": the keys
/// from the root, each with the struct that holds it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    step: Option<(&'static str, &'static str, &'a Context<'a>)>,
}

impl<'a> Context<'a> {
    pub fn down(&'a self, owner: &'static str, key: &'static str) -> Context<'a> {
        Context {
            step: Some((owner, key, self)),
        }
    }

    /// The struct holding the innermost field, and the keys from the root.
    fn describe(&self) -> Option<(&'static str, String)> {
        let (owner, _, _) = self.step?;
        let mut keys = Vec::new();
        let mut at = self;
        while let Some((_, key, parent)) = at.step {
            keys.push(key);
            at = parent;
        }
        keys.reverse();
        Some((owner, keys.join(".")))
    }
}

/// Which of a struct's fields a JSON key sets, as Go matches them: the exact name, else one
/// that differs only in case (if no key in the object is exactly that name).
pub fn field_for(
    keys: &[(&str, u8)],
    key: &Node,
    entries: &[(Node, Node)],
    spec: super::types::Spec,
) -> Option<usize> {
    let Value::Scalar(key) = &key.value else {
        return None;
    };
    let key = key.text.as_str();
    let present = |k: &(&str, u8)| k.1 <= spec.minor();
    if let Some(i) = keys.iter().position(|k| present(k) && k.0 == key) {
        return Some(i);
    }
    keys.iter().position(|k| {
        present(k)
            && k.0.eq_ignore_ascii_case(key)
            && !entries
                .iter()
                .any(|(o, _)| matches!(&o.value, Value::Scalar(s) if s.text == k.0))
    })
}

/// Decodes JSON nodes into Ignition's types, keeping Go's first type error.
pub struct JsonDecoder {
    pub spec: super::types::Spec,
    pub error: Option<String>,
}

impl JsonDecoder {
    pub fn mismatch(&mut self, node: &Node, go_type: &str, context: &Context) {
        if self.error.is_some() {
            return;
        }
        let value = match &node.value {
            Value::Mapping(_) => "object".to_string(),
            Value::Sequence(_) => "array".to_string(),
            Value::Scalar(s) if s.style == Style::DoubleQuoted => "string".to_string(),
            Value::Scalar(s) if s.text == "true" || s.text == "false" => "bool".to_string(),
            Value::Scalar(s) if go_type == "int" && s.text.parse::<f64>().is_ok() => {
                format!("number {}", s.text)
            }
            Value::Scalar(_) => "number".to_string(),
        };
        self.error = Some(match context.describe() {
            None => format!("json: cannot unmarshal {value} into Go value of type {go_type}"),
            Some((owner, keys)) => {
                format!("json: cannot unmarshal {value} into Go struct field {owner}.{keys} of type {go_type}")
            }
        });
    }
}

pub fn is_json_null(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.style == Style::Plain && s.text == "null")
}

/// A value Ignition's types hold, read from JSON as Go reads it.
pub trait FromJson: Sized {
    const GO_TYPE: &'static str;
    /// The value, or `None` to leave the field as it was (null, or a type error).
    fn from_json(node: &Node, d: &mut JsonDecoder, context: &Context) -> Option<Self>;
}

impl FromJson for String {
    const GO_TYPE: &'static str = "string";
    fn from_json(node: &Node, d: &mut JsonDecoder, context: &Context) -> Option<Self> {
        match &node.value {
            Value::Scalar(s) if s.style == Style::DoubleQuoted => Some(s.text.clone()),
            _ if is_json_null(node) => None,
            _ => {
                d.mismatch(node, Self::GO_TYPE, context);
                None
            }
        }
    }
}

impl FromJson for i64 {
    const GO_TYPE: &'static str = "int";
    fn from_json(node: &Node, d: &mut JsonDecoder, context: &Context) -> Option<Self> {
        match &node.value {
            Value::Scalar(s) if s.style == Style::Plain => {
                if s.text == "null" {
                    return None;
                }
                if let Ok(i) = s.text.parse::<i64>() {
                    return Some(i);
                }
                d.mismatch(node, Self::GO_TYPE, context);
                None
            }
            _ => {
                d.mismatch(node, Self::GO_TYPE, context);
                None
            }
        }
    }
}

impl FromJson for bool {
    const GO_TYPE: &'static str = "bool";
    fn from_json(node: &Node, d: &mut JsonDecoder, context: &Context) -> Option<Self> {
        match &node.value {
            Value::Scalar(s) if s.style == Style::Plain && s.text == "true" => Some(true),
            Value::Scalar(s) if s.style == Style::Plain && s.text == "false" => Some(false),
            _ if is_json_null(node) => None,
            _ => {
                d.mismatch(node, Self::GO_TYPE, context);
                None
            }
        }
    }
}

impl<T: FromJson> FromJson for Option<T> {
    const GO_TYPE: &'static str = T::GO_TYPE;
    fn from_json(node: &Node, d: &mut JsonDecoder, context: &Context) -> Option<Self> {
        if is_json_null(node) {
            return Some(None);
        }
        T::from_json(node, d, context).map(Some)
    }
}

impl<T: FromJson + Default> FromJson for Vec<T> {
    const GO_TYPE: &'static str = "[]";
    fn from_json(node: &Node, d: &mut JsonDecoder, context: &Context) -> Option<Self> {
        match &node.value {
            Value::Sequence(items) => {
                // An element Go cannot type stays its zero value.
                Some(
                    items
                        .iter()
                        .map(|item| T::from_json(item, d, context).unwrap_or_default())
                        .collect(),
                )
            }
            _ if is_json_null(node) => Some(Vec::new()),
            _ => {
                d.mismatch(node, &format!("[]{}", T::GO_TYPE), context);
                None
            }
        }
    }
}
