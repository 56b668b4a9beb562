//! The judge of this crate: Butane configs with the real butane v0.29.0's answers, read from
//! `../shared/reference/butane-examples/` (not in this repository: what came from butane's
//! repository stays out of it). Without that folder the tests say they skipped.
//!
//! So far, the YAML layer: a config is unreadable YAML here exactly when butane said
//! "Error unmarshaling yaml", and every position butane's report points at is a node here.

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
