//! The browser app (`frontend/dist`), read into memory at start: a few files, the largest the
//! app's wasm. Each is served with its content type and the headers of the app's `_headers`
//! file, by `shared::assets`' rules, as the Worker's static assets serve them.

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use shared::assets::{content_type, file_for, HeaderRules};

pub struct Asset {
    pub body: Bytes,
    /// Built once here; a later header of the same name replaces an earlier one.
    pub headers: HeaderMap,
}

#[derive(Default)]
pub struct Assets {
    files: HashMap<String, Asset>,
}

impl Assets {
    /// Reads every file below `dir`. A missing folder serves no app (`/` then says what this
    /// service is, as a Worker without assets does).
    pub fn load(dir: &Path) -> std::io::Result<Assets> {
        if !dir.is_dir() {
            return Ok(Assets::default());
        }
        let rules = match std::fs::read_to_string(dir.join("_headers")) {
            Ok(text) => HeaderRules::parse(&text),
            Err(_) => HeaderRules::default(),
        };
        let mut files = HashMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            for entry in std::fs::read_dir(&d)? {
                let path = entry?.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let Ok(rel) = path.strip_prefix(dir) else {
                    continue;
                };
                let rel = rel.to_string_lossy().replace('\\', "/");
                let url = format!("/{rel}");
                // Only what a request path can name (not `_headers` itself).
                if file_for(&url).as_deref() != Some(rel.as_str()) {
                    continue;
                }
                let mut pairs = vec![
                    ("Content-Type".to_string(), content_type(&rel).to_string()),
                    (
                        "Cache-Control".to_string(),
                        "public, max-age=0, must-revalidate".to_string(),
                    ),
                ];
                pairs.extend(rules.for_path(&url));
                if rel == "index.html" {
                    pairs.extend(rules.for_path("/"));
                }
                let mut headers = HeaderMap::new();
                for (name, value) in pairs {
                    match (
                        HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_str(&value),
                    ) {
                        (Ok(n), Ok(v)) => {
                            headers.insert(n, v);
                        }
                        _ => {
                            let bad =
                                format!("{name}: {value} in {}", dir.join("_headers").display());
                            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, bad));
                        }
                    }
                }
                let body = Bytes::from(std::fs::read(&path)?);
                files.insert(rel, Asset { body, headers });
            }
        }
        Ok(Assets { files })
    }

    /// The file a GET or HEAD of `path` is answered with, if any.
    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.files.get(&file_for(path)?)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }
}
