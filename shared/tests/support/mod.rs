//! What the integration tests share: their folders, and Ignition's JSON Schemas made strict.
// Each test crate uses part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

pub fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(sub)
}

/// Ignition's schema made strict: no unknown keys anywhere, and the version pinned.
/// Ignition's schema with only the version pinned. (Closing it, as `strict_schema` does, would
/// refuse every file and directory: their schemas are `allOf` a node's and their own.)
pub fn schema(version: &str) -> Value {
    let text =
        std::fs::read_to_string(dir("schemas").join(format!("ignition-{version}.json"))).unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    let ign = &mut schema["definitions"]["ignition"];
    ign["properties"]["version"] = serde_json::json!({ "enum": [version] });
    ign["required"] = serde_json::json!(["version"]);
    schema
}

pub fn strict_schema(version: &str) -> Value {
    let text =
        std::fs::read_to_string(dir("schemas").join(format!("ignition-{version}.json"))).unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    fn close(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut schema);
    let ign = &mut schema["definitions"]["ignition"];
    ign["properties"]["version"] = serde_json::json!({ "enum": [version] });
    ign["required"] = serde_json::json!(["version"]);
    schema
}

/// Checks `json` against the strict schema (no unknown keys anywhere).
pub fn validate(json: &Value, version: &str) -> Result<(), String> {
    validate_against(json, &strict_schema(version))
}

pub fn validate_against(json: &Value, schema: &Value) -> Result<(), String> {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(schema)
        .map_err(|e| e.to_string())?;
    let errors: Vec<String> = validator
        .iter_errors(json)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
