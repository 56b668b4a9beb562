//! The judge of this crate: Butane configs with the real butane v0.29.0's answers, read from
//! `../shared/reference/butane-examples/` (not in this repository: what came from butane's
//! repository stays out of it). Without that folder the tests say they skipped.
//!
//! Every config must come out as butane's: the same Ignition byte for byte (a gzip'd
//! `source` may hold other deflate bytes of the same contents), or the same report, byte for
//! byte, as `butane --strict --pretty` printed it.

use std::path::{Path, PathBuf};

use butane::yaml::{self, Node, Value};

fn examples() -> Option<Vec<PathBuf>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/butane-examples");
    if !root.is_dir() {
        println!("skipped: {} is not here", root.display());
        return None;
    }
    let mut found = Vec::new();
    for dir in [root.clone(), root.join("generated")] {
        for entry in std::fs::read_dir(&dir).expect("the examples folder") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "bu") {
                found.push(path);
            }
        }
    }
    found.sort();
    Some(found)
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
    let Some(examples) = examples() else { return };
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

#[test]
fn translations_and_refusals_are_butanes() {
    let Some(examples) = examples() else { return };
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
            match same_ignition(&outcome.stdout(true), &ign) {
                Ok(()) => translated += 1,
                Err(e) => differ.push(format!("{name}: {e}")),
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
