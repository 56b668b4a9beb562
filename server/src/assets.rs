//! The browser app (`frontend/dist`), read into memory at start: a few files, the largest the
//! app's wasm. Each is served with the headers `shared::assets::headers` gives it (its content
//! type, its cache rule, the app's `_headers` file), as the Worker's static assets serve them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use shared::assets::{file_for, headers, HeaderRules};

use crate::http::Outgoing;

pub struct Asset {
    pub body: Bytes,
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
}

impl Asset {
    /// The answer serving it (the body is shared, not copied).
    pub fn outgoing(&self) -> Outgoing {
        Outgoing {
            status: 200,
            headers: self.headers.clone(),
            body: self.body.clone(),
            close: false,
        }
    }
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
                let mut checked = Vec::new();
                for (name, value) in headers(&rel, &rules) {
                    let bad = |b: u8| b.is_ascii_control() && b != b'\t';
                    if name.is_empty()
                        || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
                        || value.bytes().any(bad)
                    {
                        let bad = format!("{name}: {value} in {}", dir.join("_headers").display());
                        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, bad));
                    }
                    checked.push((Cow::Owned(name), Cow::Owned(value)));
                }
                let body = Bytes::from(std::fs::read(&path)?);
                files.insert(
                    rel,
                    Asset {
                        body,
                        headers: checked,
                    },
                );
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
