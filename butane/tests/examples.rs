//! The judge of this crate: Butane configs with the real butane v0.29.0's answers: 300
//! generated over the whole Flatcar spec (kept in `tests/generated`), and butane's own docs
//! examples read from `../shared/reference/butane-examples/` (not in this repository: what
//! came from butane's repository stays out of it; without that folder the tests say so).
//!
//! Every config must come out as butane's: the same Ignition byte for byte (a gzip'd
//! `source` may hold other deflate bytes of the same contents), or the same report, byte for
//! byte, as `butane --strict --pretty` printed it.

use std::path::{Path, PathBuf};

use butane::yaml::{self, Node, Value};

/// The `.bu` files in `dir`, sorted.
fn configs_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("an examples folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "bu"))
        .collect();
    found.sort();
    found
}

/// The 300 generated configs kept in this repository (`tests/generated`, made for this
/// project with butane v0.29.0's answers), and butane's own docs examples from `../shared`
/// when it is there (they stay out of this repository); without it, the tests say so.
fn examples() -> Vec<PathBuf> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = configs_in(&here.join("tests/generated"));
    assert_eq!(found.len(), 300, "the generated examples");
    let docs = here.join("../../shared/reference/butane-examples");
    if docs.is_dir() {
        found.extend(configs_in(&docs));
    } else {
        println!(
            "skipped butane's docs examples: {} is not here; checking the 300 generated only",
            docs.display()
        );
    }
    found
}

/// Every (line, column) a node sits at.
fn positions(node: &Node, into: &mut Vec<(usize, usize)>) {
    into.push((node.line, node.column));
    match &node.value {
        Value::Scalar(_) => {}
        Value::Sequence(items) => items.iter().for_each(|n| positions(n, into)),
        Value::Mapping(pairs) => pairs.iter().for_each(|(k, v)| {
            positions(k, into);
            positions(v, into);
        }),
    }
}

/// The `--> <stdin>:L:C` positions of a report.
fn reported(report: &str) -> Vec<(usize, usize)> {
    report
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--> <stdin>:"))
        .filter_map(|at| {
            let (line, column) = at.split_once(':')?;
            Some((line.parse().ok()?, column.parse().ok()?))
        })
        .collect()
}

#[test]
fn yaml_reads_what_butane_read_and_has_a_node_at_every_reported_position() {
    let examples = examples();
    let (mut read, mut refused, mut matched) = (0, 0, 0);
    let mut missing = Vec::new();
    for bu in &examples {
        let text = std::fs::read_to_string(bu).expect("a .bu");
        let report = std::fs::read_to_string(bu.with_extension("err")).ok();
        let unreadable = report
            .as_deref()
            .is_some_and(|r| r.contains("Error unmarshaling yaml"));
        match yaml::parse(&text) {
            Err(e) => {
                assert!(
                    unreadable,
                    "{}: butane read it, we did not: {e}",
                    bu.display()
                );
                refused += 1;
            }
            Ok(root) => {
                assert!(
                    !unreadable,
                    "{}: butane could not read it, we did",
                    bu.display()
                );
                read += 1;
                let mut at = Vec::new();
                if let Some(root) = &root {
                    positions(root, &mut at);
                }
                for pos in reported(report.as_deref().unwrap_or("")) {
                    if at.contains(&pos) {
                        matched += 1;
                    } else {
                        missing.push(format!("{}: {pos:?}", bu.display()));
                    }
                }
            }
        }
    }
    println!(
        "{} configs: {read} read, {refused} refused as butane refused them; {matched} reported positions are nodes, {} are not",
        examples.len(),
        missing.len()
    );
    assert!(missing.is_empty(), "positions with no node: {missing:#?}");
}

/// Whether our Ignition is butane's: every line the same, except a gzip'd `source`, whose
/// bytes are Go's own deflate: there the contents must decompress to the same bytes.
fn same_ignition(ours: &str, theirs: &str) -> Result<(), String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
    if a.len() != b.len() {
        return Err(format!("{} lines, butane wrote {}", a.len(), b.len()));
    }
    for (n, (x, y)) in a.iter().zip(&b).enumerate() {
        if x == y {
            continue;
        }
        let payload = |line: &str| -> Option<Vec<u8>> {
            let url = line
                .trim()
                .strip_prefix("\"source\": \"")?
                .trim_end_matches(',')
                .strip_suffix('"')?;
            let gz = butane::dataurl::decode(url)?;
            let mut plain = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain)
                .ok()?;
            Some(plain)
        };
        match (payload(x), payload(y)) {
            (Some(p), Some(q)) if p == q => {}
            _ => return Err(format!("line {}:\n  ours:   {x}\n  butane: {y}", n + 1)),
        }
    }
    Ok(())
}

/// JSON text without the whitespace between tokens.
fn minified(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[test]
fn translations_and_refusals_are_butanes() {
    let examples = examples();
    let mut differ = Vec::new();
    let (mut translated, mut refused) = (0, 0);
    for bu in &examples {
        let text = std::fs::read_to_string(bu).expect("a .bu");
        let outcome = butane::translate(
            &text,
            &butane::Options {
                files_dir: None,
                pretty: true,
            },
        );
        let name = bu.file_name().unwrap().to_string_lossy().into_owned();
        if let Ok(ign) = std::fs::read_to_string(bu.with_extension("ign")) {
            if !outcome.succeeded(true) {
                differ.push(format!(
                    "{name}: butane translated it, we refused:\n{}",
                    outcome.stderr(&text, true)
                ));
                continue;
            }
            let compact = butane::translate(
                &text,
                &butane::Options {
                    files_dir: None,
                    pretty: false,
                },
            );
            match same_ignition(&outcome.stdout(true), &ign) {
                Err(e) => differ.push(format!("{name}: {e}")),
                // Without --pretty, the same JSON on one line.
                Ok(())
                    if compact.stdout(true) != format!("{}\n", minified(&outcome.stdout(true))) =>
                {
                    differ.push(format!(
                        "{name}: the compact form is not the pretty one minified"
                    ))
                }
                Ok(()) => translated += 1,
            }
        } else {
            let err = std::fs::read_to_string(bu.with_extension("err")).expect("a .ign or .err");
            let ours = outcome.stderr(&text, true);
            if outcome.succeeded(true) {
                differ.push(format!(
                    "{name}: butane refused it, we translated it:\n{err}"
                ));
            } else if ours != err {
                differ.push(format!(
                    "{name}: reports differ:\n--- ours\n{ours}--- butane\n{err}"
                ));
            } else {
                refused += 1;
            }
        }
    }
    println!(
        "{} configs: {translated} translated as butane did, {refused} refused with butane's report, {} differ",
        examples.len(),
        differ.len()
    );
    for d in &differ {
        println!("{d}\n");
    }
    assert!(
        differ.is_empty(),
        "{} of {} differ from butane",
        differ.len(),
        examples.len()
    );
}
