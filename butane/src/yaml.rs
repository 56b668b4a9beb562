//! The YAML under a Butane config, read into nodes as Go's yaml.v3 reads it for butane: the
//! first document only, anchors and aliases resolved, each scalar kept as its raw text with
//! its style and tag (typing is the config's job: yaml.v3 reads `0644` as an int in base 0 and
//! `yes` as a bool only where the field is one), and every node with the 1-based line and
//! column butane reports findings at. A block mapping sits at its first key, a sequence at its
//! first `-`.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// One node of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub value: Value,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Scalar(Scalar),
    Sequence(Vec<Node>),
    /// Keys and values in the order written; a key written twice is kept twice (the decoder
    /// refuses it with yaml.v3's words).
    Mapping(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
    /// An explicit tag (`!!str`, `!!int`), as written after its handle is resolved.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// Text that is not YAML, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// The line yaml.v3 names (its own way: see `yaml_v3_error`); 0 when it names none.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "yaml: {}", self.message),
            line => write!(f, "yaml: line {line}: {}", self.message),
        }
    }
}

/// The first document of `text`; `None` when there is none (an empty text, or only comments).
pub fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut open: Vec<Open> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root = None;
    let lines: Vec<&str> = text.lines().collect();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            yaml_v3_error(
                e.info(),
                e.marker().line(),
                e.marker().col() + 1,
                &open,
                &lines,
            )
        })?;
        let (line, column) = position(&span);
        let done = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let scalar = Scalar {
                    text: text.into_owned(),
                    style: style_of(style),
                    tag: tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                };
                let (line, column) = match scalar.style {
                    // yaml.v3 puts a block scalar at its `|` or `>`, before its content.
                    Style::Literal | Style::Folded => {
                        indicator(&lines, line).unwrap_or((line, column))
                    }
                    _ => (line, column),
                };
                let node = Node {
                    value: Value::Scalar(scalar),
                    line,
                    column,
                };
                Some(anchored(&mut anchors, anchor, node))
            }
            Event::Alias(id) => Some(anchors.get(&id).cloned().ok_or_else(|| SyntaxError {
                line,
                column,
                message: "unknown anchor referenced".into(),
            })?),
            Event::SequenceStart(anchor, _) => {
                open.push(Open::new(anchor, Value::Sequence(Vec::new()), line, column));
                None
            }
            Event::MappingStart(anchor, _) => {
                open.push(Open::new(anchor, Value::Mapping(Vec::new()), line, column));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let closed = open.pop().expect("the parser balances starts and ends");
                let anchor = closed.anchor;
                Some(anchored(&mut anchors, anchor, closed.node))
            }
            // Only the first document is read, as yaml.v3's Unmarshal does.
            Event::DocumentEnd => break,
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) => {
                None
            }
        };
        if let Some(node) = done {
            match open.last_mut() {
                Some(parent) => parent.push(node),
                None => root = Some(node),
            }
        }
    }
    Ok(root)
}

/// A syntax error as yaml.v3 words and places it (`yaml: line N: <problem>`), from the
/// libyaml-derived parser's: the problem without its "while parsing ..." context, and the line
/// yaml.v3 prints, which for a parser error is the 0-based line of the context (the collection
/// being read), for a scanner error the 1-based line; none when that would be line 0.
fn yaml_v3_error(
    info: &str,
    line: usize,
    column: usize,
    open: &[Open],
    lines: &[&str],
) -> SyntaxError {
    let (context, problem) = match info.split_once(", ") {
        Some((context, problem)) if context.starts_with("while ") => (Some(context), problem),
        _ => (None, info),
    };
    if problem.starts_with("found unknown anchor") {
        // yaml.v3 resolves aliases itself, and names the anchor.
        let name: String = lines
            .get(line.wrapping_sub(1))
            .and_then(|l| l.get(column.saturating_sub(1)..))
            .map(|rest| rest.trim_start_matches('*'))
            .map(|rest| {
                rest.chars()
                    .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                    .collect()
            })
            .unwrap_or_default();
        return SyntaxError {
            line: 0,
            column,
            message: format!("unknown anchor '{name}' referenced"),
        };
    }
    let message = match problem {
        p if p.starts_with("tabs disallowed") || p.starts_with("unexpected character") => {
            "found character that cannot start any token".to_string()
        }
        "the handle wasn't declared" => "found undefined tag handle".to_string(),
        p => p.to_string(),
    };
    let parser = context.is_some_and(|c| c.starts_with("while parsing"));
    let line = if !parser {
        // Scanner errors: 1-based, and none on the first line.
        if line > 1 {
            line
        } else {
            0
        }
    } else {
        let flow = |o: &Open| {
            lines
                .get(o.node.line.wrapping_sub(1))
                .and_then(|l| l.chars().nth(o.node.column.saturating_sub(1)))
                .is_some_and(|c| c == '[' || c == '{')
        };
        let wanted: Option<fn(&Value) -> bool> = match context.unwrap_or_default() {
            c if c.contains("mapping") => Some(|v| matches!(v, Value::Mapping(_))),
            c if c.contains("collection") || c.contains("sequence") => {
                Some(|v| matches!(v, Value::Sequence(_)))
            }
            _ => None,
        };
        let want_flow = context.is_some_and(|c| c.contains("flow"));
        let context_line = wanted
            .and_then(|is| {
                open.iter()
                    .rev()
                    .find(|o| is(&o.node.value) && flow(o) == want_flow)
            })
            .map(|o| o.node.line);
        // 0-based: the context's line, else the problem's.
        match context_line.map(|l| l - 1).filter(|l| *l != 0) {
            Some(l) => l,
            None => line.saturating_sub(1),
        }
    };
    SyntaxError {
        line,
        column,
        message,
    }
}

/// A collection being read.
struct Open {
    anchor: usize,
    node: Node,
    /// A mapping's key waiting for its value.
    key: Option<Node>,
}

impl Open {
    fn new(anchor: usize, empty: Value, line: usize, column: usize) -> Open {
        Open {
            anchor,
            node: Node {
                value: empty,
                line,
                column,
            },
            key: None,
        }
    }

    fn push(&mut self, child: Node) {
        match &mut self.node.value {
            Value::Sequence(items) => items.push(child),
            Value::Mapping(pairs) => match self.key.take() {
                Some(key) => pairs.push((key, child)),
                None => self.key = Some(child),
            },
            Value::Scalar(_) => unreachable!("only collections are open"),
        }
    }
}

fn anchored(anchors: &mut HashMap<usize, Node>, anchor: usize, node: Node) -> Node {
    // Id 0 is "no anchor".
    if anchor != 0 {
        anchors.insert(anchor, node.clone());
    }
    node
}

/// The position of the block scalar indicator (`|`, `>`, with its chomping and indentation
/// marks) on the last line before `content_line` that ends with one.
fn indicator(lines: &[&str], content_line: usize) -> Option<(usize, usize)> {
    (0..content_line.saturating_sub(1).min(lines.len()))
        .rev()
        .find_map(|i| {
            let line = lines[i];
            // A comment after the header: ` # ...`.
            let code = match line.find(" #") {
                Some(at) => &line[..at],
                None => line,
            };
            let code = code.trim_end();
            let header =
                code.trim_end_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit());
            let at = header.len().checked_sub(1)?;
            if !matches!(header.as_bytes()[at], b'|' | b'>') {
                return None;
            }
            Some((i + 1, header[..at].chars().count() + 1))
        })
}

fn position(span: &Span) -> (usize, usize) {
    (span.start.line(), span.start.col() + 1)
}

fn style_of(style: ScalarStyle) -> Style {
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        ScalarStyle::Literal => Style::Literal,
        ScalarStyle::Folded => Style::Folded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(n: &Node) -> &str {
        match &n.value {
            Value::Scalar(s) => &s.text,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    fn pairs(n: &Node) -> &[(Node, Node)] {
        match &n.value {
            Value::Mapping(p) => p,
            other => panic!("not a mapping: {other:?}"),
        }
    }

    #[test]
    fn nodes_sit_where_butane_reports_them() {
        let text = "variant: flatcar\nversion: 1.0.0\nstorage:\n  files:\n    - path: /a\n      mode: 0644\n";
        let root = parse(text).unwrap().unwrap();
        assert_eq!((root.line, root.column), (1, 1));
        let top = pairs(&root);
        assert_eq!(scalar(&top[1].1), "1.0.0");
        assert_eq!((top[1].1.line, top[1].1.column), (2, 10));
        let storage = &top[2].1;
        assert_eq!(
            (storage.line, storage.column),
            (4, 3),
            "a mapping at its first key"
        );
        let files = &pairs(storage)[0].1;
        assert_eq!(
            (files.line, files.column),
            (5, 5),
            "a sequence at its first -"
        );
        let Value::Sequence(items) = &files.value else {
            panic!("a sequence")
        };
        let mode = &pairs(&items[0])[1];
        assert_eq!(scalar(&mode.1), "0644", "typing is left to the config");
        assert_eq!((mode.0.line, mode.0.column), (6, 7));
    }

    #[test]
    fn a_block_scalar_sits_at_its_indicator() {
        let text =
            "a:\n  - inline: |-  # a comment\n\n      two\n      lines\n  - b: >2\n      folded\n";
        let root = parse(text).unwrap().unwrap();
        let Value::Sequence(items) = &pairs(&root)[0].1.value else {
            panic!("a sequence")
        };
        let literal = &pairs(&items[0])[0].1;
        assert_eq!(scalar(literal), "\ntwo\nlines");
        assert_eq!((literal.line, literal.column), (2, 13));
        let folded = &pairs(&items[1])[0].1;
        assert_eq!((folded.line, folded.column), (6, 8));
    }

    #[test]
    fn only_the_first_document_is_read() {
        let root = parse("a: 1\n---\nb: 2\n...\n: : bad").unwrap().unwrap();
        assert_eq!(pairs(&root).len(), 1);
        assert_eq!(scalar(&pairs(&root)[0].0), "a");
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn aliases_are_the_anchored_node_and_styles_and_tags_are_kept() {
        let root = parse("a: &x {k: 'v'}\nb: *x\nc: !!str 12\nd: ~\n")
            .unwrap()
            .unwrap();
        let p = pairs(&root);
        assert_eq!(p[0].1.value, p[1].1.value);
        let Value::Scalar(v) = &pairs(&p[1].1)[0].1.value else {
            panic!("a scalar")
        };
        assert_eq!(v.style, Style::SingleQuoted);
        let Value::Scalar(c) = &p[2].1.value else {
            panic!("a scalar")
        };
        assert_eq!(c.tag.as_deref(), Some("tag:yaml.org,2002:str"));
        // An empty value reads as yaml.v3's null; a tagged one is a string.
        assert!(crate::decode::is_null(&p[3].1) && !crate::decode::is_null(&p[2].1));
    }

    #[test]
    fn text_that_is_not_yaml_says_where() {
        let e = parse("a: 1\n b: 2\n  - c\n").unwrap_err();
        assert!(e.line >= 2, "{e:?}");
        assert!(e.to_string().starts_with("yaml: line "), "{e}");
    }

    #[test]
    fn syntax_errors_are_worded_and_placed_as_yaml_v3_does() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        // A scanner error names its own line.
        assert_eq!(
            err("a: b\nc: d: e\n"),
            "yaml: line 2: mapping values are not allowed in this context"
        );
        assert_eq!(
            err("a:\n\tb: 1\n"),
            "yaml: line 2: found character that cannot start any token"
        );
        assert_eq!(
            err("a: b\nc: \"d\n"),
            "yaml: line 2: found unexpected end of stream"
        );
        // A parser error names the 0-based line of the collection it was reading.
        assert_eq!(
            err("a:\n  b:\n    - c\n   d: 1\n"),
            "yaml: line 1: did not find expected key"
        );
        assert_eq!(
            err("a: 1\nb: *nope\n"),
            "yaml: unknown anchor 'nope' referenced"
        );
    }
}
