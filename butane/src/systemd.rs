//! What Ignition and butane need of systemd: unit contents read as go-systemd's
//! `unit.Deserialize` reads them (its errors are Ignition's "invalid unit content"), and a
//! path escaped into a unit name as `systemd-escape --path` does.

/// One `Name=Value` line and the section it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitOption {
    pub section: String,
    pub name: String,
    pub value: String,
}

const LINE_MAX: usize = 2048;

/// The options of a unit file, or go-systemd's reason it could not read it.
pub fn parse_unit(contents: &str) -> Result<Vec<UnitOption>, String> {
    Lexer {
        text: contents.as_bytes(),
        at: 0,
        options: Vec::new(),
    }
    .run()
}

struct Lexer<'a> {
    text: &'a [u8],
    at: usize,
    options: Vec<UnitOption>,
}

enum Step {
    NextSection,
    SectionName,
    SectionSuffix(String),
    NextSectionOrOption(String),
    OptionName(String),
    OptionValue(String, String, Vec<u8>),
}

impl Lexer<'_> {
    fn run(mut self) -> Result<Vec<UnitOption>, String> {
        let mut step = Some(Step::NextSection);
        while let Some(current) = step {
            // go-systemd refuses a line longer than it buffers.
            let ahead = &self.text[self.at..];
            if ahead.len() >= LINE_MAX
                && !ahead[..LINE_MAX].iter().any(|&b| b == b'\r' || b == b'\n')
            {
                return Err(format!("line too long (max {LINE_MAX} bytes)"));
            }
            step = self.step(current)?;
        }
        Ok(self.options)
    }

    /// The next character; a byte that is not UTF-8 reads as U+FFFD, as bufio reads it.
    fn read_char(&mut self) -> Option<char> {
        let rest = &self.text[self.at..];
        let first = *rest.first()?;
        let len = match first {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        };
        match rest
            .get(..len)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
        {
            Some(c) => {
                self.at += len;
                c.chars().next()
            }
            None => {
                self.at += 1;
                Some('\u{fffd}')
            }
        }
    }

    /// The rest of the line without its `\n` (and a `\r` before it), and whether the text
    /// ended there.
    fn line_rest(&mut self) -> (Vec<u8>, bool) {
        let rest = &self.text[self.at..];
        let (mut line, eof) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.at += i + 1;
                (rest[..i].to_vec(), false)
            }
            None => {
                self.at = self.text.len();
                (rest.to_vec(), true)
            }
        };
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        (line, eof)
    }

    /// A comment runs to the end of its line, and on past lines ending in `\`.
    fn skip_comment(&mut self) {
        loop {
            let (mut line, eof) = self.line_rest();
            if line.last() == Some(&b' ') {
                line.pop();
            }
            if !line.ends_with(b"\\") || eof {
                break;
            }
        }
    }

    fn step(&mut self, step: Step) -> Result<Option<Step>, String> {
        Ok(match step {
            Step::NextSection => match self.read_char() {
                None => None,
                Some('[') => Some(Step::SectionName),
                Some('#' | ';') => {
                    self.skip_comment();
                    Some(Step::NextSection)
                }
                Some(_) => Some(Step::NextSection),
            },
            Step::SectionName => {
                let rest = &self.text[self.at..];
                let Some(end) = rest.iter().position(|&b| b == b']') else {
                    return Err("unable to find end of section".into());
                };
                let name = String::from_utf8_lossy(&rest[..end]).into_owned();
                self.at += end + 1;
                Some(Step::SectionSuffix(name))
            }
            Step::SectionSuffix(name) => {
                let (garbage, _) = self.line_rest();
                let garbage = String::from_utf8_lossy(&garbage).trim().to_string();
                if !garbage.is_empty() {
                    return Err(format!(
                        "found garbage after section name : {}",
                        crate::decode::go_quote(&garbage)
                    ));
                }
                Some(Step::NextSectionOrOption(name))
            }
            Step::NextSectionOrOption(section) => match self.read_char() {
                None => None,
                Some(c) if c.is_whitespace() => Some(Step::NextSectionOrOption(section)),
                Some('[') => Some(Step::SectionName),
                Some('#' | ';') => {
                    self.skip_comment();
                    Some(Step::NextSectionOrOption(section))
                }
                Some(c) => {
                    self.at -= c.len_utf8();
                    Some(Step::OptionName(section))
                }
            },
            Step::OptionName(section) => {
                let mut name = String::new();
                loop {
                    match self.read_char() {
                        None => return Err("EOF".into()),
                        Some('\n' | '\r') => {
                            return Err(
                                "unexpected newline encountered while parsing option name".into()
                            )
                        }
                        Some('=') => break,
                        Some(c) => name.push(c),
                    }
                }
                Some(Step::OptionValue(
                    section,
                    name.trim().to_string(),
                    Vec::new(),
                ))
            }
            Step::OptionValue(section, name, mut partial) => {
                let (line, eof) = self.line_rest();
                if !line.trim_ascii().is_empty() {
                    partial.extend_from_slice(&line);
                    if line.ends_with(b"\\") {
                        if !eof {
                            partial.push(b'\n');
                        }
                        return Ok(Some(Step::OptionValue(section, name, partial)));
                    }
                }
                let value = String::from_utf8_lossy(&partial).into_owned();
                let value = if value.ends_with('\n') {
                    format!("{}\n", value.trim())
                } else {
                    value.trim().to_string()
                };
                self.options.push(UnitOption {
                    section: section.clone(),
                    name,
                    value,
                });
                Some(Step::NextSectionOrOption(section))
            }
        })
    }
}

/// `systemd-escape --path` as go-systemd writes it: slashes collapsed into `-`, a leading
/// `.` and every byte outside `[A-Za-z0-9:_.]` as `\xNN` in lower-case hex without padding.
pub fn escape_path(path: &str) -> String {
    let mut out = String::new();
    let mut in_slashes = false;
    let mut start = true;
    for &c in path.as_bytes() {
        if c == b'/' {
            in_slashes = true;
            continue;
        }
        if in_slashes {
            in_slashes = false;
            if !start {
                out.push('-');
            }
        }
        if start && c == b'.' || !(c.is_ascii_alphanumeric() || b":_.".contains(&c)) {
            out.push_str(&format!("\\x{c:x}"));
        } else {
            out.push(c as char);
        }
        start = false;
    }
    if out.is_empty() {
        out.push('-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_read_as_go_systemd_reads_them() {
        let options = parse_unit(
            "# c\n[Unit]\nDescription=a \\\n  b\n\n[Install]\nWantedBy=multi-user.target\n",
        )
        .unwrap();
        assert_eq!(options.len(), 2);
        assert_eq!(options[0].value, "a \\\n  b");
        assert_eq!(options[1].section, "Install");
        assert_eq!(
            parse_unit("[Unit").unwrap_err(),
            "unable to find end of section"
        );
        assert_eq!(
            parse_unit("[Unit]x\n").unwrap_err(),
            "found garbage after section name : \"x\""
        );
        assert_eq!(
            parse_unit("[Unit]\nFoo\n").unwrap_err(),
            "unexpected newline encountered while parsing option name"
        );
        assert_eq!(parse_unit("[Unit]\nFoo").unwrap_err(), "EOF");
    }

    #[test]
    fn paths_escape_as_systemd_escape_path() {
        assert_eq!(escape_path("/var/lib/data"), "var-lib-data");
        assert_eq!(
            escape_path("/dev/disk/by-label/x"),
            "dev-disk-by\\x2dlabel-x"
        );
        assert_eq!(escape_path("/"), "-");
        assert_eq!(escape_path("/a\nb/"), "a\\xab");
    }
}
