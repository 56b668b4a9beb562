//! JSON as butane writes it: Go 1.12's encoding/json (the clarketm fork butane uses), with
//! fields in struct order, `omitempty` also dropping a struct whose fields are all empty,
//! `<`, `>`, `&`, U+2028 and U+2029 escaped, other control bytes as `\u00xx`, and
//! `--pretty`'s two-space indent.

/// Where JSON is written, compact or indented.
pub struct Writer {
    out: String,
    pretty: bool,
    depth: usize,
}

impl Writer {
    pub fn new(pretty: bool) -> Writer {
        Writer {
            out: String::new(),
            pretty,
            depth: 0,
        }
    }

    pub fn finish(self) -> String {
        self.out
    }

    fn newline(&mut self) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.depth {
                self.out.push_str("  ");
            }
        }
    }

    /// An object from its fields in order; each given as (name, value, omitempty).
    pub fn object(&mut self, fields: &[(&str, &dyn Json, bool)]) {
        let shown: Vec<_> = fields
            .iter()
            .filter(|(_, v, omit)| !(*omit && v.is_empty()))
            .collect();
        if shown.is_empty() {
            self.out.push_str("{}");
            return;
        }
        self.out.push('{');
        self.depth += 1;
        for (i, (name, value, _)) in shown.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline();
            self.string(name);
            self.out.push(':');
            if self.pretty {
                self.out.push(' ');
            }
            value.write(self);
        }
        self.depth -= 1;
        self.newline();
        self.out.push('}');
    }

    pub fn array<T: Json>(&mut self, items: &[T]) {
        if items.is_empty() {
            self.out.push_str("[]");
            return;
        }
        self.out.push('[');
        self.depth += 1;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline();
            item.write(self);
        }
        self.depth -= 1;
        self.newline();
        self.out.push(']');
    }

    pub fn string(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                    self.out.push_str(&format!("\\u{:04x}", c as u32))
                }
                c if (c as u32) < 0x20 => {
                    let b = c as u32 as usize;
                    self.out.push_str("\\u00");
                    self.out.push(HEX[b >> 4] as char);
                    self.out.push(HEX[b & 0xf] as char);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    pub fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }
}

/// A value Ignition's types hold.
pub trait Json {
    /// Go's `isEmptyValue` as the fork extends it: "", 0, false, nil, len 0, or a struct of
    /// empty fields.
    fn is_empty(&self) -> bool;
    fn write(&self, w: &mut Writer);
}

impl Json for String {
    fn is_empty(&self) -> bool {
        str::is_empty(self)
    }
    fn write(&self, w: &mut Writer) {
        w.string(self);
    }
}

impl Json for i64 {
    fn is_empty(&self) -> bool {
        *self == 0
    }
    fn write(&self, w: &mut Writer) {
        w.raw(&self.to_string());
    }
}

impl Json for bool {
    fn is_empty(&self) -> bool {
        !*self
    }
    fn write(&self, w: &mut Writer) {
        w.raw(if *self { "true" } else { "false" });
    }
}

/// A Go pointer: nil is empty and `null`; a pointer to "" or false is not empty.
impl<T: Json> Json for Option<T> {
    fn is_empty(&self) -> bool {
        self.is_none()
    }
    fn write(&self, w: &mut Writer) {
        match self {
            Some(v) => v.write(w),
            None => w.raw("null"),
        }
    }
}

impl<T: Json> Json for Vec<T> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
    fn write(&self, w: &mut Writer) {
        w.array(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_go_1_12_does() {
        let mut w = Writer::new(false);
        w.string("a<b>&\u{8}\u{1f}\u{2028}\"\\\n\té\u{7f}");
        assert_eq!(
            w.finish(),
            r#""a\u003cb\u003e\u0026\u0008\u001f\u2028\"\\\n\té"#.to_string() + "\u{7f}\""
        );
    }
}
