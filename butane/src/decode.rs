//! Typing YAML nodes as Go's yaml.v3 types them into butane's structs: a string field takes
//! any scalar's text, an int field reads base 0 after dropping `_` (so `0644` is 420), a bool
//! field also takes `yes`/`off` and their kin, null leaves a field unset, a key written twice
//! refuses its whole mapping. What does not fit becomes one of yaml.v3's "unmarshal errors",
//! in its words, with the Go type butane decodes into.

use crate::yaml::{Node, Scalar, Style, Value};

/// Which Go package butane's types live in, for the type names in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoNames {
    /// `v1_1` for the root config.
    pub root: &'static str,
    /// `v0_5` for everything under it.
    pub base: &'static str,
}

/// Collects yaml.v3's type errors while a config is decoded.
pub struct Decoder {
    pub names: GoNames,
    /// Whether 1.1's fields exist (`contents_local`, `discard`, ...).
    pub v1_1: bool,
    pub errors: Vec<String>,
    /// An error that stops yaml.v3 at once (a bad merge), worded as it words it.
    pub fatal: Option<String>,
}

impl Decoder {
    pub fn new(names: GoNames, v1_1: bool) -> Decoder {
        Decoder {
            names,
            v1_1,
            errors: Vec::new(),
            fatal: None,
        }
    }

    /// A Go type name from its template: `{pkg}` is the base package; `a|b` picks a in 1.1
    /// and b in 1.0 (1.0's luks and raid options are named types).
    pub fn go_type(&self, template: &str) -> String {
        let chosen = match template.split_once('|') {
            Some((v1_1, v1_0)) => {
                if self.v1_1 {
                    v1_1
                } else {
                    v1_0
                }
            }
            None => template,
        };
        chosen.replace("{pkg}", self.names.base)
    }

    /// yaml.v3's "cannot unmarshal" for `node` into the Go type `go_type`.
    pub fn mismatch(&mut self, node: &Node, go_type: &str) {
        let tag = node_tag(node);
        let shown = match &node.value {
            Value::Scalar(s) => {
                let text = &s.text;
                if text.len() > 10 {
                    let mut end = 7;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    format!(" `{}...`", &text[..end])
                } else {
                    format!(" `{text}`")
                }
            }
            _ => String::new(),
        };
        self.errors.push(format!(
            "line {}: cannot unmarshal {tag}{shown} into {go_type}",
            node.line
        ));
    }

    /// Refuses a mapping that writes a key twice, as yaml.v3 does before decoding it.
    pub fn unique_keys(&mut self, entries: &[(Node, Node)]) -> bool {
        let before = self.errors.len();
        for (i, (a, _)) in entries.iter().enumerate() {
            for (b, _) in &entries[i + 1..] {
                if same_key(a, b) {
                    let shown = match &b.value {
                        Value::Scalar(s) => go_quote(&s.text),
                        _ => "\"\"".to_string(),
                    };
                    self.errors.push(format!(
                        "line {}: mapping key {shown} already defined at line {}",
                        b.line, a.line
                    ));
                }
            }
        }
        self.errors.len() == before
    }
}

/// The keys and values a struct is decoded from, in yaml.v3's order: the mapping's own, then
/// those its merge keys (`<<: *anchor`, `<<: [*a, *b]`) bring that no earlier one set.
pub fn struct_entries<'a>(
    entries: &'a [(Node, Node)],
    d: &mut Decoder,
) -> Vec<(&'a str, &'a Node)> {
    let mut out: Vec<(&'a str, &'a Node)> = Vec::new();
    let mut merges = Vec::new();
    for (k, v) in entries {
        match &k.value {
            Value::Scalar(s) if is_merge_key(s) => merges.push(v),
            Value::Scalar(s) => out.push((s.text.as_str(), v)),
            _ => d.mismatch(k, "string"),
        }
    }
    for merge in merges {
        let sources: Vec<&Node> = match &merge.value {
            Value::Mapping(_) => vec![merge],
            Value::Sequence(items)
                if items.iter().all(|i| matches!(i.value, Value::Mapping(_))) =>
            {
                items.iter().collect()
            }
            _ => {
                d.fatal.get_or_insert_with(|| {
                    "yaml: map merge requires map or sequence of maps as the value".into()
                });
                continue;
            }
        };
        for source in sources {
            let Value::Mapping(merged) = &source.value else {
                continue;
            };
            if !d.unique_keys(merged) {
                continue;
            }
            for (key, value) in struct_entries(merged, d) {
                if !out.iter().any(|(k, _)| *k == key) {
                    out.push((key, value));
                }
            }
        }
    }
    out
}

/// yaml.v3's merge key: a plain `<<` (or one tagged `!!merge`).
fn is_merge_key(s: &Scalar) -> bool {
    s.text == "<<"
        && match &s.tag {
            Some(tag) => short_tag(tag) == "!!merge",
            None => s.style == Style::Plain,
        }
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar(x), Value::Scalar(y)) => x.text == y.text,
        (Value::Sequence(x), Value::Sequence(y)) => x.is_empty() && y.is_empty(),
        (Value::Mapping(x), Value::Mapping(y)) => x.is_empty() && y.is_empty(),
        _ => false,
    }
}

/// Go's `%#v` of a string: double-quoted with Go's escapes.
pub fn go_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What a scalar resolves to under yaml.v3's rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str,
    Timestamp,
    /// An explicit tag yaml.v3 does not resolve (`!foo`).
    Other,
}

const YAML_TAG: &str = "tag:yaml.org,2002:";

fn short_tag(tag: &str) -> String {
    match tag.strip_prefix(YAML_TAG) {
        Some(rest) => format!("!!{rest}"),
        None => tag.to_string(),
    }
}

/// The tag yaml.v3 gives a node: its explicit one, else what its value resolves to.
fn node_tag(node: &Node) -> String {
    match &node.value {
        Value::Sequence(_) => "!!seq".into(),
        Value::Mapping(_) => "!!map".into(),
        Value::Scalar(s) => {
            if let Some(tag) = &s.tag {
                return short_tag(tag);
            }
            match resolve(s) {
                Resolved::Null => "!!null",
                Resolved::Bool(_) => "!!bool",
                Resolved::Int(_) => "!!int",
                Resolved::Float(_) => "!!float",
                Resolved::Timestamp => "!!timestamp",
                Resolved::Str | Resolved::Other => "!!str",
            }
            .into()
        }
    }
}

fn indicated_string(s: &Scalar) -> bool {
    match s.tag.as_deref() {
        Some(tag) => short_tag(tag) == "!!str",
        None => s.style != Style::Plain,
    }
}

/// yaml.v3's `resolve` for one scalar.
pub fn resolve(s: &Scalar) -> Resolved {
    if indicated_string(s) {
        return Resolved::Str;
    }
    if let Some(tag) = &s.tag {
        let short = short_tag(tag);
        if !matches!(
            short.as_str(),
            "!!null" | "!!bool" | "!!int" | "!!float" | "!!timestamp" | "!!str" | "!!binary"
        ) {
            return Resolved::Other;
        }
    }
    let text = s.text.as_str();
    match text {
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first == b'.' {
        return match text.parse::<f64>() {
            Ok(f) if is_yaml_float(text) => Resolved::Float(f),
            _ => Resolved::Str,
        };
    }
    if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
        return Resolved::Str;
    }
    if is_timestamp(text) {
        return Resolved::Timestamp;
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_int_base0(&plain) {
        return Resolved::Int(i);
    }
    if is_yaml_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return Resolved::Float(f);
        }
    }
    for (prefix, radix, sign) in [("0b", 2, 1), ("-0b", 2, -1), ("0o", 8, 1), ("-0o", 8, -1)] {
        if let Some(digits) = plain.strip_prefix(prefix) {
            if let Ok(v) = u64::from_str_radix(digits, radix) {
                return Resolved::Int(sign * v as i128);
            }
        }
    }
    Resolved::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint` as yaml.v3 does.
fn parse_int_base0(s: &str) -> Option<i128> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()? as i128;
    let value = if negative { -magnitude } else { magnitude };
    // ParseInt's range, then ParseUint's for the unsigned rest.
    if value >= i64::MIN as i128
        && (value <= i64::MAX as i128 || !negative && s.as_bytes()[0] != b'+')
    {
        Some(value)
    } else {
        None
    }
}

/// yaml.v3's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// yaml.v3's timestamp forms: a date, optionally with a time (`2001-12-14`,
/// `2001-12-14t21:59:43.10-05:00`, `2001-12-14 21:59:43.10`).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| {
        b.len() >= from + len && b[from..from + len].iter().all(u8::is_ascii_digit)
    };
    if !(num(0, 4) && b.get(4) == Some(&b'-')) {
        return false;
    }
    // YYYY-M(M)-D(D)
    let mut i = 5;
    let month = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&month) || b.get(i + month) != Some(&b'-') {
        return false;
    }
    i += month + 1;
    let day = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&day) {
        return false;
    }
    i += day;
    if i == b.len() {
        return true;
    }
    // With a time: yaml.v3 tries Go layouts; any of `T`, `t` or spaces then HH:MM:SS.
    let rest = &s[i..];
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix(['T', 't']).unwrap_or(rest);
    let rb = rest.as_bytes();
    let hour = rb.iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=2).contains(&hour) && rb.get(hour) == Some(&b':')
}

/// A value butane's structs hold, decoded as yaml.v3 decodes it.
pub trait Decode: Sized {
    /// The value for `node`, or `None` to leave the field as it was (null into a plain field,
    /// or a type error, which `d` records).
    fn decode(node: &Node, d: &mut Decoder, go_type: &str) -> Option<Self>;
}

impl Decode for String {
    fn decode(node: &Node, d: &mut Decoder, go_type: &str) -> Option<Self> {
        match &node.value {
            _ if is_null(node) => None,
            Value::Scalar(s) => Some(s.text.clone()),
            _ => {
                d.mismatch(node, go_type);
                None
            }
        }
    }
}

impl Decode for i64 {
    fn decode(node: &Node, d: &mut Decoder, go_type: &str) -> Option<Self> {
        if let Value::Scalar(s) = &node.value {
            match resolve(s) {
                Resolved::Null => return None,
                Resolved::Int(i) if i >= i64::MIN as i128 && i <= i64::MAX as i128 => {
                    return Some(i as i64)
                }
                Resolved::Float(f) if f <= i64::MAX as f64 && f >= i64::MIN as f64 => {
                    return Some(f as i64)
                }
                _ => {}
            }
        }
        d.mismatch(node, go_type);
        None
    }
}

impl Decode for bool {
    fn decode(node: &Node, d: &mut Decoder, go_type: &str) -> Option<Self> {
        if let Value::Scalar(s) = &node.value {
            match resolve(s) {
                Resolved::Null => return None,
                Resolved::Bool(b) => return Some(b),
                Resolved::Str | Resolved::Other => match s.text.as_str() {
                    "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Some(true),
                    "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Some(false),
                    _ => {}
                },
                _ => {}
            }
        }
        d.mismatch(node, go_type);
        None
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(node: &Node, d: &mut Decoder, go_type: &str) -> Option<Self> {
        if is_null(node) {
            return Some(None);
        }
        T::decode(node, d, go_type).map(Some)
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(node: &Node, d: &mut Decoder, go_type: &str) -> Option<Self> {
        match &node.value {
            Value::Sequence(items) => {
                let element = go_type.strip_prefix("[]").unwrap_or(go_type).to_string();
                Some(
                    items
                        .iter()
                        .filter_map(|item| T::decode(item, d, &element))
                        .collect(),
                )
            }
            _ if is_null(node) => Some(Vec::new()),
            _ => {
                d.mismatch(node, go_type);
                None
            }
        }
    }
}

/// Whether yaml.v3 reads `node` as null.
pub fn is_null(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if resolve(s) == Resolved::Null && !indicated_string(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> Scalar {
        Scalar {
            text: text.into(),
            style: Style::Plain,
            tag: None,
        }
    }

    #[test]
    fn integers_resolve_in_base_zero_without_underscores() {
        assert_eq!(resolve(&scalar("0644")), Resolved::Int(420));
        assert_eq!(resolve(&scalar("0o644")), Resolved::Int(420));
        assert_eq!(resolve(&scalar("0x1A")), Resolved::Int(26));
        assert_eq!(resolve(&scalar("1_000")), Resolved::Int(1000));
        assert_eq!(resolve(&scalar("-12")), Resolved::Int(-12));
        assert_eq!(resolve(&scalar("1.5")), Resolved::Float(1.5));
        assert_eq!(resolve(&scalar("0999")), Resolved::Float(999.0));
        assert_eq!(resolve(&scalar("maybe")), Resolved::Str);
        assert_eq!(resolve(&scalar("2001-12-14")), Resolved::Timestamp);
        assert_eq!(resolve(&scalar("1.2.3")), Resolved::Str);
    }

    #[test]
    fn a_bool_field_takes_yaml_1_1_words_and_refuses_others_in_yaml_v3_words() {
        let mut d = Decoder::new(
            GoNames {
                root: "v1_1",
                base: "v0_5",
            },
            true,
        );
        let node = |text: &str| Node {
            value: Value::Scalar(scalar(text)),
            line: 11,
            column: 3,
        };
        assert_eq!(bool::decode(&node("yes"), &mut d, "bool"), Some(true));
        assert_eq!(bool::decode(&node("Off"), &mut d, "bool"), Some(false));
        assert_eq!(bool::decode(&node("maybe"), &mut d, "bool"), None);
        assert_eq!(
            d.errors,
            vec!["line 11: cannot unmarshal !!str `maybe` into bool"]
        );
        assert_eq!(i64::decode(&node("this is long"), &mut d, "int"), None);
        assert_eq!(
            d.errors[1],
            "line 11: cannot unmarshal !!str `this is...` into int"
        );
    }
}
