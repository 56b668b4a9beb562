//! Reads the registry dumps people paste: strict JSON, or the loose form the Flatcar and CoreOS
//! docs print (unquoted keys, trailing commas), or a copy of it whose braces were lost on the
//! way (a web page rendered as text), from which the `key: value` pairs are still recovered.

use serde_json::{Map, Number, Value};

/// Nesting read at most: a registry listing is five deep. Deeper input is refused before it
/// can exhaust the stack (a page's wasm stack is small).
pub const MAX_DEPTH: usize = 64;

/// Parses strict JSON, then loose JSON, then recovers the nodes from bare `name: value` lines.
pub fn parse(text: &str) -> Result<Value, String> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    match p.value().and_then(|v| p.end().map(|_| v)) {
        Ok(v) => Ok(v),
        Err(e) => recover(text).ok_or(e),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn skip(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] as char).is_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip();
        self.s.get(self.i).copied()
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at byte {}", self.i))
    }

    fn end(&mut self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.err("unexpected text after the JSON"),
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'{' | b'[') if self.depth >= MAX_DEPTH => {
                self.err(&format!("nested deeper than {MAX_DEPTH} levels"))
            }
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') | Some(b'\'') => self.string().map(Value::String),
            Some(_) => self.bare(),
            None => self.err("unexpected end"),
        }
    }

    fn nested(&mut self, read: fn(&mut Self) -> Result<Value, String>) -> Result<Value, String> {
        self.depth += 1;
        let v = read(self);
        self.depth -= 1;
        v
    }

    fn object(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut map = Map::new();
        loop {
            match self.peek() {
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(map));
                }
                Some(b',') => self.i += 1,
                Some(b'"') | Some(b'\'') => {
                    let k = self.string()?;
                    self.colon()?;
                    map.insert(k, self.value()?);
                }
                Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                    let k = self.ident();
                    self.colon()?;
                    map.insert(k, self.value()?);
                }
                _ => return self.err("expected a key or '}'"),
            }
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            match self.peek() {
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                Some(b',') => self.i += 1,
                Some(_) => items.push(self.value()?),
                None => return self.err("unclosed '['"),
            }
        }
    }

    fn colon(&mut self) -> Result<(), String> {
        if self.peek() == Some(b':') {
            self.i += 1;
            Ok(())
        } else {
            self.err("expected ':'")
        }
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.s[self.i];
        self.i += 1;
        let mut out = String::new();
        let mut run = self.i;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            if c == quote || c == b'\\' {
                out.push_str(&String::from_utf8_lossy(&self.s[run..self.i]));
                self.i += 1;
                if c == quote {
                    return Ok(out);
                }
                let Some(&e) = self.s.get(self.i) else { break };
                self.i += 1;
                match e {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => out.push('\r'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'u' => {
                        let hex = self
                            .s
                            .get(self.i..self.i + 4)
                            .and_then(|h| std::str::from_utf8(h).ok());
                        let ch = hex
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .and_then(char::from_u32);
                        out.push(ch.unwrap_or('\u{fffd}'));
                        self.i += 4;
                    }
                    other => out.push(other as char),
                }
                run = self.i;
            } else {
                self.i += 1;
            }
        }
        self.err("unclosed string")
    }

    fn bare(&mut self) -> Result<Value, String> {
        let start = self.i;
        while self.i < self.s.len() && !b",}]\n\r".contains(&self.s[self.i]) {
            self.i += 1;
        }
        let word = String::from_utf8_lossy(&self.s[start..self.i])
            .trim()
            .to_string();
        match word.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            "null" => Ok(Value::Null),
            w => match w.parse::<i64>() {
                Ok(n) => Ok(Value::Number(Number::from(n))),
                Err(_) => self.err("expected a value"),
            },
        }
    }
}

/// Rebuilds `{"action","node":{"key","dir","nodes":[...]}}` from `name: value` lines alone: the
/// first `key` is the directory; each later `key` starts a member node.
fn recover(text: &str) -> Option<Value> {
    let mut dir: Option<Map<String, Value>> = None;
    let mut nodes: Vec<Map<String, Value>> = Vec::new();
    let mut action = None;
    for line in text.lines() {
        let line = line.trim().trim_end_matches(',');
        let Some((name, raw)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().trim_matches('"');
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || name.is_empty() {
            continue;
        }
        let raw = raw.trim();
        if raw.is_empty() || raw == "{" || raw == "[" {
            continue;
        }
        let value = match (Parser {
            s: raw.as_bytes(),
            i: 0,
            depth: 0,
        })
        .value()
        {
            Ok(v) => v,
            Err(_) => continue,
        };
        match (name, &mut dir) {
            ("action", _) => action = Some(value),
            ("key", None) => dir = Some(Map::from_iter([("key".to_string(), value)])),
            ("key", Some(_)) => nodes.push(Map::from_iter([("key".to_string(), value)])),
            (_, Some(d)) => match nodes.last_mut() {
                Some(n) => {
                    n.insert(name.to_string(), value);
                }
                None => {
                    d.insert(name.to_string(), value);
                }
            },
            (_, None) => {}
        }
    }
    let mut dir = dir?;
    // Fields after the last member (the directory's own indexes) were taken for that member;
    // a member has one key, so a second createdIndex cannot be told apart: leave them.
    dir.insert(
        "nodes".into(),
        Value::Array(nodes.into_iter().map(Value::Object).collect()),
    );
    let mut root = Map::new();
    root.insert(
        "action".into(),
        action.unwrap_or(Value::String("get".into())),
    );
    root.insert("node".into(), Value::Object(dir));
    Some(Value::Object(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        // Not JSON (unquoted keys), so the loose parser reads it: a million levels deep.
        let deep = format!("{}{}", "{a:".repeat(1_000_000), "}".repeat(1_000_000));
        let e = parse(&deep).unwrap_err();
        assert!(e.contains("nested deeper than 64 levels"), "{e}");
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).unwrap_err().contains("deeper than"));
        // As deep as allowed still reads.
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn strict_json_passes_through() {
        assert_eq!(
            parse(r#"{"a":[1,true,"x"]}"#).unwrap(),
            serde_json::json!({"a":[1,true,"x"]})
        );
    }

    #[test]
    fn unquoted_keys_single_quotes_and_trailing_commas() {
        let v = parse("{ action: 'get', node: { key: \"/k\", dir: true, nodes: [ { key: \"/k/a\", ttl: -3, }, ], }, }").unwrap();
        assert_eq!(v["action"], "get");
        assert_eq!(v["node"]["nodes"][0]["ttl"], -3);
        assert_eq!(v["node"]["dir"], true);
    }

    #[test]
    fn escapes_in_strings_survive() {
        let v = parse(r#"{ value: "a \"q\" \\ b\n" }"#).unwrap();
        assert_eq!(v["value"], "a \"q\" \\ b\n");
    }

    #[test]
    fn brace_less_copies_are_recovered() {
        let text = "action: \"get\",\nnode: {\n key: \"/_etcd/registry/t\",\n dir: true,\n nodes: [\n key: \"/_etcd/registry/t/a\",\n value: \"http://10.0.0.1:7001\",\n createdIndex: 5\n key: \"/_etcd/registry/t/b\",\n value: \"\",\n createdIndex: 6\n";
        let v = parse(text).unwrap();
        assert_eq!(v["node"]["key"], "/_etcd/registry/t");
        let nodes = v["node"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes[1]["createdIndex"], 6);
    }

    #[test]
    fn nonsense_is_an_error() {
        assert!(parse("hello there").is_err());
        assert!(parse("{ a: ").is_err());
    }
}
