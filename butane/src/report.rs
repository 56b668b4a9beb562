//! Findings and how butane prints them: each with its severity, path, position and message,
//! in the order butane finds them; `--raw-errors` prints one a line, the default form shows
//! the lines around each with a caret under the spot.

use std::fmt;

use crate::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A 1-based line and column in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub path: Path,
    pub message: String,
    /// Where in the source; set once the finding is placed on the source's tree.
    pub position: Option<Position>,
}

impl Finding {
    pub fn error(path: Path, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            path,
            message: message.into(),
            position: None,
        }
    }

    pub fn warning(path: Path, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            path,
            message: message.into(),
            position: None,
        }
    }
}

/// `--raw-errors`'s line: `error at $.storage.files.0.mode, line 7 col 13: illegal file mode`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.severity.as_str())?;
        match (self.position, self.path.is_root()) {
            (Some(p), false) => write!(f, " at {}, line {} col {}", self.path, p.line, p.column)?,
            (Some(p), true) => write!(f, " at line {} col {}", p.line, p.column)?,
            (None, false) => write!(f, " at {}", self.path)?,
            (None, true) => {}
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything found in one config, in butane's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    pub fn error(&mut self, path: Path, message: impl Into<String>) {
        self.push(Finding::error(path, message));
    }

    pub fn warning(&mut self, path: Path, message: impl Into<String>) {
        self.push(Finding::warning(path, message));
    }

    pub fn merge(&mut self, other: Report) {
        self.findings.extend(other.findings);
    }

    pub fn is_fatal(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.findings.is_empty()
    }

    /// One finding a line, as `butane --raw-errors` prints them.
    pub fn raw(&self) -> String {
        self.findings.iter().map(|f| format!("{f}\n")).collect()
    }

    /// butane's default form: for each finding its kind and path, `--> <file>:L:C`, two lines
    /// either side and a caret under the spot up to the next blank, then the message.
    pub fn pretty(&self, file_name: &str, source: &str) -> String {
        let lines: Vec<&str> = source.split('\n').collect();
        let mut out = String::new();
        for (i, finding) in self.findings.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            pretty_finding(&mut out, finding, file_name, &lines);
        }
        out
    }
}

fn pretty_finding(out: &mut String, finding: &Finding, file_name: &str, lines: &[&str]) {
    let Some(Position { line, column }) = finding.position else {
        out.push_str(&format!("{finding}\n"));
        return;
    };
    // butane falls back to the one-line form for a position outside the text (its columns
    // count characters, its slicing bytes).
    if line < 1 || line > lines.len() || column < 1 || column > lines[line - 1].len() {
        out.push_str(&format!("{finding}\n"));
        return;
    }
    out.push_str(finding.severity.as_str());
    if !finding.path.is_root() {
        out.push_str(&format!("[{}]", finding.path));
    }
    out.push_str(":\n");
    out.push_str(&format!("  --> {file_name}:{line}:{column}\n"));
    let first = line.saturating_sub(2).max(1);
    let last = (line + 2).min(lines.len());
    let gutter = last.to_string().len();
    let blank = " ".repeat(gutter);
    out.push_str(&format!(" {blank} |\n"));
    for n in first..=last {
        let text = lines[n - 1];
        out.push_str(&format!(" {n:>gutter$} | {text}\n"));
        if n == line {
            let start = column - 1;
            let rest = text.get(start..).unwrap_or("");
            let width = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push_str(&format!(
                " {blank} | {}{} {}\n",
                " ".repeat(start),
                "^".repeat(width),
                finding.message
            ));
        }
    }
    out.push_str(&format!(" {blank} |\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pretty_form_marks_the_spot_up_to_the_next_blank() {
        let source = "variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /a\n      mode: 9999\n";
        let mut finding = Finding::error(
            Path::yaml()
                .field("storage")
                .field("files")
                .index(0)
                .field("mode"),
            "illegal file mode",
        );
        finding.position = Some(Position {
            line: 6,
            column: 13,
        });
        let report = Report {
            findings: vec![finding],
        };
        assert_eq!(
            report.pretty("<stdin>", source),
            "error[$.storage.files.0.mode]:\n  --> <stdin>:6:13\n   |\n 4 |   files:\n 5 |     - path: /a\n 6 |       mode: 9999\n   |             ^^^^ illegal file mode\n 7 | \n   |\n"
        );
        assert_eq!(
            report.raw(),
            "error at $.storage.files.0.mode, line 6 col 13: illegal file mode\n"
        );
    }
}
