//! The migration corpus (`tests/migrate/<name>.<platform>.yaml`): the seeds' configs and one
//! config per generation using every option issue 19 lists. Each migrates to Butane that this
//! project's translator turns into Ignition under `--strict`, valid against Ignition 3.4.0's
//! schema; the report and Butane (`.out`, as `POST /butane/migrate` answers a
//! terminal) and the Ignition (`.ign`) are golden files; and no value of the old config is
//! lost silently: each is in the Butane, or a report entry names its line or a line above it.
//! `UPDATE_GOLDEN=1 cargo test -p rendezvous-shared --test migrate` rewrites the golden files.

use butane::yaml::{Node, Value};
use shared::config::Platform;
use shared::migrate::{migrate, Migration};

mod support;
use support::{dir, schema, validate_against};

/// Every corpus config: its name, its platform, its text.
fn corpus() -> Vec<(String, Platform, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir("migrate")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".yaml") else {
            continue;
        };
        let (_, platform) = stem.rsplit_once('.').expect("<name>.<platform>.yaml");
        let platform = Platform::by_id(platform).unwrap_or_else(|| panic!("{name}: platform"));
        out.push((
            stem.to_string(),
            platform,
            std::fs::read_to_string(&path).unwrap(),
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn check_golden(stem: &str, ext: &str, text: &str) {
    let path = dir("migrate").join(format!("{stem}.{ext}"));
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, text).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(text, want, "{} differs", path.display());
}

#[test]
fn the_corpus_migrates_to_butane_that_translates_strictly() {
    let corpus = corpus();
    assert!(corpus.len() >= 10, "{} configs", corpus.len());
    for (stem, platform, text) in &corpus {
        let m = migrate(text, platform).unwrap_or_else(|e| panic!("{stem}: {e}"));
        check_golden(stem, "out", &m.annotated());
        let outcome = butane::translate(
            &m.butane,
            &butane::Options {
                files_dir: None,
                pretty: true,
            },
        );
        assert!(
            outcome.succeeded(true),
            "{stem}:\n{}",
            outcome.stderr(&m.butane, true)
        );
        let json = outcome.ignition.expect("translated");
        check_golden(stem, "ign", &format!("{json}\n"));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        validate_against(&value, &schema("3.4.0")).unwrap_or_else(|e| panic!("{stem}: {e}"));
        // Every report entry points at a line of the old config that holds its key.
        let lines: Vec<&str> = text.lines().collect();
        for e in &m.report {
            let last = e.key.rsplit('.').next().unwrap();
            let line = lines.get(e.line.wrapping_sub(1)).copied().unwrap_or("");
            let named = line.contains(last) || last.parse::<usize>().is_ok();
            assert!(named, "{stem}: {e:?} points at line {:?}", line);
        }
        nothing_lost(stem, text, &m);
    }
}

/// Each scalar value of the old config is in the Butane (word by word, the address
/// placeholders aside), or the report names its line or the line of a key above it.
fn nothing_lost(stem: &str, text: &str, m: &Migration) {
    let root = butane::yaml::parse(text).unwrap().expect("a document");
    let reported: Vec<usize> = m.report.iter().map(|e| e.line).collect();
    let mut leaves = Vec::new();
    collect(&root, "", &mut Vec::new(), &mut leaves);
    for (key, lines_above, leaf) in leaves {
        if lines_above.iter().any(|l| reported.contains(l)) {
            continue;
        }
        // ct's root filesystem is where Butane's paths are: it needs no word.
        if key == "filesystem" && leaf == "root" {
            continue;
        }
        let missing: Vec<&str> = words(&leaf).filter(|w| !m.butane.contains(w)).collect();
        assert!(
            missing.is_empty(),
            "{stem}: {missing:?} of {leaf:?} (line {}) is neither in the Butane nor reported",
            lines_above.last().unwrap()
        );
    }
}

/// Scalars with their key, and the lines of the keys above them and their own.
type Leaf = (String, Vec<usize>, String);

fn collect(node: &Node, key: &str, above: &mut Vec<usize>, out: &mut Vec<Leaf>) {
    match &node.value {
        Value::Scalar(s) => {
            let mut lines = above.clone();
            lines.push(node.line);
            out.push((key.to_string(), lines, s.text.clone()));
        }
        Value::Sequence(items) => {
            for item in items {
                above.push(item.line);
                collect(item, key, above, out);
                above.pop();
            }
        }
        Value::Mapping(entries) => {
            for (k, v) in entries {
                above.push(k.line);
                let name = match &k.value {
                    Value::Scalar(s) => s.text.as_str(),
                    _ => "",
                };
                collect(v, name, above, out);
                above.pop();
            }
        }
    }
}

/// The words of a value that must survive: split where the Butane may quote, join or
/// reformat, the old address placeholders and YAML's booleans aside.
fn words(value: &str) -> impl Iterator<Item = &str> {
    const PLACEHOLDERS: [&str; 5] = [
        "private_ipv4",
        "public_ipv4",
        "PRIVATE_IPV4",
        "PUBLIC_IPV4",
        "HOSTNAME",
    ];
    value
        .split(|c: char| c.is_whitespace() || "\"'$:,{}=".contains(c))
        .filter(|w| !w.is_empty())
        .filter(|w| !PLACEHOLDERS.contains(w))
        .filter(|w| !matches!(*w, "true" | "false" | "yes" | "no" | "on" | "off"))
}

#[test]
fn a_lost_value_would_be_noticed() {
    // The check above, shown to fail: a value that is neither carried nor reported.
    let m = Migration {
        butane: "variant: flatcar\nversion: 1.1.0\n".into(),
        report: Vec::new(),
    };
    let lost =
        std::panic::catch_unwind(|| nothing_lost("test", "#cloud-config\nhostname: web-1\n", &m));
    assert!(lost.is_err());
}
