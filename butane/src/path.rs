//! Where a finding is: a path into the config as butane prints it (`$.storage.files.0.path`),
//! and which tree it names, the Butane YAML or the Ignition JSON it became.

use std::fmt;

/// One step down the tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    /// A field, by the name the tree uses for it (`size_mib` in YAML, `sizeMiB` in JSON).
    Field(String),
    /// An element of a list.
    Index(usize),
    /// A mapping's key itself rather than its value: an unused key is reported at the key.
    Key(String),
}

/// Which tree a path walks: butane reports most findings in YAML terms, and maps those found
/// on the Ignition side back through the translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    Yaml,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    pub tree: Tree,
    pub steps: Vec<Step>,
}

impl Path {
    pub fn yaml() -> Path {
        Path {
            tree: Tree::Yaml,
            steps: Vec::new(),
        }
    }

    pub fn json() -> Path {
        Path {
            tree: Tree::Json,
            steps: Vec::new(),
        }
    }

    pub fn field(&self, name: &str) -> Path {
        self.with(Step::Field(name.to_string()))
    }

    pub fn index(&self, i: usize) -> Path {
        self.with(Step::Index(i))
    }

    pub fn key(&self, name: &str) -> Path {
        self.with(Step::Key(name.to_string()))
    }

    /// The path followed by `more`'s steps.
    pub fn join(&self, more: &Path) -> Path {
        let mut steps = self.steps.clone();
        steps.extend(more.steps.iter().cloned());
        Path {
            tree: self.tree,
            steps,
        }
    }

    fn with(&self, step: Step) -> Path {
        let mut steps = self.steps.clone();
        steps.push(step);
        Path {
            tree: self.tree,
            steps,
        }
    }

    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn parent(&self) -> Path {
        let mut steps = self.steps.clone();
        steps.pop();
        Path {
            tree: self.tree,
            steps,
        }
    }

    pub fn starts_with(&self, prefix: &Path) -> bool {
        self.steps.starts_with(&prefix.steps)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.steps {
            match step {
                Step::Field(name) | Step::Key(name) => write!(f, ".{name}")?,
                Step::Index(i) => write!(f, ".{i}")?,
            }
        }
        Ok(())
    }
}

/// snake_case for a camelCase JSON name, as butane maps an Ignition path it has no
/// translation for (`sizeMiB` -> `size_mib`, `typeGuid` -> `type_guid`).
pub fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("MiB") {
            out.push_str("_mib");
            rest = after;
            continue;
        }
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_as_butane_prints_them() {
        let p = Path::yaml()
            .field("storage")
            .field("files")
            .index(0)
            .key("mode");
        assert_eq!(p.to_string(), "$.storage.files.0.mode");
        assert_eq!(Path::json().to_string(), "$");
    }

    #[test]
    fn json_names_snake_case_as_butane_does() {
        assert_eq!(snake("sizeMiB"), "size_mib");
        assert_eq!(snake("typeGuid"), "type_guid");
        assert_eq!(snake("httpResponseHeaders"), "http_response_headers");
        assert_eq!(snake("path"), "path");
    }
}
