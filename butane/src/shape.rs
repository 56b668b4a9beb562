//! The shape of butane's and Ignition's config types as data, for the one check that walks
//! a document beside them: unused keys. A struct's table lists its keys in field order, each
//! with the spec that added it and, for a struct or a list of structs, the table below it.

use crate::path::Path;
use crate::report::Report;
use crate::yaml::{Node, Value};

/// One field of a struct.
#[derive(Debug)]
pub struct Field {
    pub key: &'static str,
    /// The first spec level that has it: Butane's minor version (0 for 1.0.0, 1 for 1.1.0), or
    /// Ignition's (0 for 3.0.0 to 4 for 3.4.0).
    pub since: u8,
    /// A list of what `fields` describes.
    pub list: bool,
    /// The struct below, if the field holds one (or a list of them).
    pub fields: Option<&'static [Field]>,
}

/// A type's place in the shape: scalars have no fields; a struct has its table.
pub trait HasShape {
    const FIELDS: Option<&'static [Field]>;
    const LIST: bool = false;
}

impl HasShape for String {
    const FIELDS: Option<&'static [Field]> = None;
}
impl HasShape for i64 {
    const FIELDS: Option<&'static [Field]> = None;
}
impl HasShape for bool {
    const FIELDS: Option<&'static [Field]> = None;
}
impl<T: HasShape> HasShape for Option<T> {
    const FIELDS: Option<&'static [Field]> = T::FIELDS;
    const LIST: bool = T::LIST;
}
impl<T: HasShape> HasShape for Vec<T> {
    const FIELDS: Option<&'static [Field]> = T::FIELDS;
    const LIST: bool = true;
}

/// The value of `key` in a mapping node (the last one written, as butane's tree keeps it).
pub fn child<'a>(node: Option<&'a Node>, key: &str) -> Option<&'a Node> {
    match &node?.value {
        Value::Mapping(entries) => entries
            .iter()
            .rev()
            .find(|(k, _)| matches!(&k.value, Value::Scalar(s) if s.text == key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// butane's and Ignition's unused-key check (`ValidateUnusedKeys`) from the struct `fields`
/// describe at `path`: every key no field has is a warning at the key; a struct that is not
/// a mapping in the document is a warning of its own.
pub fn unused(node: Option<&Node>, path: &Path, fields: &[Field], level: u8, report: &mut Report) {
    let present = |f: &&Field| f.since <= level;
    if let Some(node) = node {
        match &node.value {
            Value::Mapping(entries) => {
                for (k, _) in entries {
                    let name = match &k.value {
                        Value::Scalar(s) => s.text.as_str(),
                        _ => "",
                    };
                    if !fields.iter().filter(present).any(|f| f.key == name) {
                        report.warning(path.key(name), format!("unused key {name}"));
                    }
                }
            }
            _ => report.warning(
                path.clone(),
                format!(
                    "context tree does not match content tree at {path}. Line and column \
                     reporting may be inconsistent. Unused keys may not be reported"
                ),
            ),
        }
    }
    for field in fields.iter().filter(present) {
        let Some(below) = field.fields else { continue };
        let at = path.field(field.key);
        let value = child(node, field.key);
        if !field.list {
            unused(value, &at, below, level, report);
        } else if let Some(Value::Sequence(items)) = value.map(|v| &v.value) {
            for (i, item) in items.iter().enumerate() {
                unused(Some(item), &at.index(i), below, level, report);
            }
        }
    }
}
