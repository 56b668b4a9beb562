//! How the browser app's files are served: which request path names which file, its content
//! type, and the headers the app's `_headers` file (Cloudflare's format, written by
//! `scripts/headers.py`) gives it. The Worker's static assets apply that file themselves; the
//! native server applies it through these rules, so both shells serve the app alike.

/// Headers a request path gets, from `_headers` rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderRules(Vec<(String, Vec<(String, String)>)>);

impl HeaderRules {
    /// Reads a `_headers` file: a URL pattern on a line of its own (`*` matches anything), then
    /// its headers indented below it as `Name: value`. Comments start with `#`.
    pub fn parse(text: &str) -> HeaderRules {
        let mut rules: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indented = line.starts_with([' ', '\t']);
            match (indented, rules.last_mut()) {
                (false, _) => rules.push((trimmed.to_string(), Vec::new())),
                (true, Some((_, headers))) => {
                    if let Some((name, value)) = trimmed.split_once(':') {
                        headers.push((name.trim().to_string(), value.trim().to_string()));
                    }
                }
                (true, None) => {}
            }
        }
        HeaderRules(rules)
    }

    /// The headers of every rule whose pattern matches `path`, in the file's order.
    pub fn for_path(&self, path: &str) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(pattern, _)| matches(pattern, path))
            .flat_map(|(_, headers)| headers.iter().cloned())
            .collect()
    }
}

fn matches(pattern: &str, path: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == path,
        Some((head, tail)) => {
            path.len() >= head.len() + tail.len() && path.starts_with(head) && path.ends_with(tail)
        }
    }
}

/// How long a browser may use a file of the app without asking again: never, since its file
/// names carry no hash; it revalidates each time (and gets a 304 when nothing changed).
pub const CACHE_CONTROL: &str = "public, max-age=0, must-revalidate";

/// Every header the app's file `rel` (relative to its folder) is served with, in order: its
/// content type, `CACHE_CONTROL`, then the `_headers` rules for its path (and for `/`, which
/// `index.html` answers). A later header of a name replaces an earlier one.
pub fn headers(rel: &str, rules: &HeaderRules) -> Vec<(String, String)> {
    let url = format!("/{rel}");
    let mut all = vec![
        ("Content-Type".to_string(), content_type(rel).to_string()),
        ("Cache-Control".to_string(), CACHE_CONTROL.to_string()),
    ];
    all.extend(rules.for_path(&url));
    if rel == "index.html" {
        all.extend(rules.for_path("/"));
    }
    let mut out: Vec<(String, String)> = Vec::with_capacity(all.len());
    for (name, value) in all {
        match out.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            Some(h) => h.1 = value,
            None => out.push((name, value)),
        }
    }
    out
}

/// The file a request path names, relative to the app's folder: `/` is `index.html`. `None` for
/// paths no file answers: the service's own, hidden names, and anything that could climb out.
pub fn file_for(path: &str) -> Option<String> {
    let rel = path.strip_prefix('/')?;
    if rel.is_empty() {
        return Some("index.html".to_string());
    }
    let safe = rel.split('/').all(|seg| {
        !seg.is_empty()
            && !seg.starts_with(['.', '_'])
            && seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    safe.then(|| rel.to_string())
}

/// The content type of a file, by its name's ending.
pub fn content_type(file: &str) -> &'static str {
    let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "/*\n  Content-Security-Policy: default-src 'none'; script-src 'self'\n  X-Frame-Options: DENY\n\n# pages only\n/index.html\n\tX-Extra: 1\n";

    #[test]
    fn reads_the_headers_file_the_build_writes() {
        let rules = HeaderRules::parse(FILE);
        let all = rules.for_path("/app.wasm");
        assert_eq!(
            all,
            [
                (
                    "Content-Security-Policy".to_string(),
                    "default-src 'none'; script-src 'self'".to_string()
                ),
                ("X-Frame-Options".to_string(), "DENY".to_string()),
            ]
        );
        assert_eq!(rules.for_path("/index.html").len(), 3);
        assert_eq!(HeaderRules::parse("  X-Orphan: 1\n").for_path("/"), []);
    }

    #[test]
    fn paths_name_files_inside_the_folder_only() {
        assert_eq!(file_for("/").as_deref(), Some("index.html"));
        assert_eq!(
            file_for("/rendezvous-frontend_bg.wasm").as_deref(),
            Some("rendezvous-frontend_bg.wasm")
        );
        assert_eq!(
            file_for("/snippets/x-1/inline0.js").as_deref(),
            Some("snippets/x-1/inline0.js")
        );
        for bad in [
            "",
            "x",
            "/_headers",
            "/.env",
            "/a/../b",
            "/a//b",
            "/a%2Fb",
            "/a b",
        ] {
            assert_eq!(file_for(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_file_gets_its_type_revalidation_and_its_rules() {
        let rules = HeaderRules::parse(
            "/*\n  X-Frame-Options: DENY\n  cache-control: no-cache\n/\n  X-Home: 1\n",
        );
        let h = headers("app.wasm", &rules);
        assert_eq!(
            h,
            [
                ("Content-Type".to_string(), "application/wasm".to_string()),
                ("Cache-Control".to_string(), "no-cache".to_string()),
                ("X-Frame-Options".to_string(), "DENY".to_string()),
            ],
            "the file's rule replaces the default cache header"
        );
        let index = headers("index.html", &HeaderRules::default());
        assert_eq!(index[1].1, CACHE_CONTROL);
        let home = headers("index.html", &rules);
        assert!(home.iter().any(|(n, v)| n == "X-Home" && v == "1"));
    }

    #[test]
    fn content_types_by_ending() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("a_bg.wasm"), "application/wasm");
        assert_eq!(content_type("x.JS"), "application/octet-stream");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
