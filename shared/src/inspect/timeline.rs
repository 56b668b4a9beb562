//! Who registered when: the members in `createdIndex` order, with times where the service
//! knows them (this one does, in `/ledger/<token>`; etcd's listing has none), and the sentences
//! a person debugging a slow bootstrap wants: who came how long after the first, and when the
//! cluster was complete.

use serde_json::Value;

use super::report::Report;
use crate::time::human;

/// A registration time the ledger gives: the member key's creation index and when it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registered {
    pub created_index: u64,
    pub at_ms: u64,
}

/// Reads the `registrations` of a `/ledger/<token>` answer; anything else gives none.
pub fn registrations(ledger: &str) -> Vec<Registered> {
    let Ok(v) = serde_json::from_str::<Value>(ledger) else {
        return Vec::new();
    };
    v["registrations"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            Some(Registered {
                created_index: r["createdIndex"].as_u64()?,
                at_ms: r["atMs"].as_u64()?,
            })
        })
        .collect()
}

/// One member on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The member's name, or its key when it gave none.
    pub who: String,
    pub created_index: u64,
    /// Milliseconds after the first registration, when times are known.
    pub after_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeline {
    pub steps: Vec<Step>,
    /// "m3 registered 2.1 s after m1", one a member after the first, then when it was complete.
    pub sentences: Vec<String>,
}

/// The timeline of `report`'s members with the times in `known`.
pub fn timeline(report: &Report, known: &[Registered]) -> Timeline {
    let at = |index: u64| {
        known
            .iter()
            .find(|r| r.created_index == index)
            .map(|r| r.at_ms)
    };
    let first_at = report.members.first().and_then(|m| at(m.created_index));
    let steps: Vec<Step> = report
        .members
        .iter()
        .map(|m| Step {
            who: m.names.first().cloned().unwrap_or_else(|| m.id.clone()),
            created_index: m.created_index,
            after_ms: first_at.and_then(|f| at(m.created_index).map(|t| t.saturating_sub(f))),
        })
        .collect();
    let mut sentences = Vec::new();
    let Some(first) = steps.first() else {
        return Timeline { steps, sentences };
    };
    for s in &steps[1..] {
        if let Some(after) = s.after_ms {
            sentences.push(format!(
                "{} registered {} after {}",
                s.who,
                human(after),
                first.who
            ));
        }
    }
    if report.complete && report.joined > 0 {
        match steps.get(report.joined - 1).and_then(|s| s.after_ms) {
            Some(after) => sentences.push(format!(
                "the cluster was complete {} after the first registration",
                human(after)
            )),
            None => sentences.push(format!(
                "the cluster was complete when {} registered (this service gives no times)",
                steps[report.joined - 1].who
            )),
        }
    }
    Timeline { steps, sentences }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{diagnose, SizeInfo};
    use serde_json::json;

    fn report(size: u64) -> Report {
        let node = |id: &str, name: &str, i: u64| json!({"key": format!("/t/{id}"), "value": format!("{name}=http://10.0.0.{i}:2380"), "createdIndex": i, "modifiedIndex": i});
        let listing = json!({"node": {"key": "/t", "dir": true, "nodes": [
            node("c", "m3", 4), node("a", "m1", 2), node("b", "m2", 3),
        ]}});
        diagnose(&listing, SizeInfo::Known(size), None, 0)
    }

    #[test]
    fn times_from_the_ledger_give_each_members_delay() {
        let ledger = r#"{"token":"t","size":3,"registrations":[
            {"key":"a","createdIndex":2,"at":"x","atMs":10000},
            {"key":"b","createdIndex":3,"at":"x","atMs":10800},
            {"key":"c","createdIndex":4,"at":"x","atMs":13400}]}"#;
        let t = timeline(&report(3), &registrations(ledger));
        let after: Vec<Option<u64>> = t.steps.iter().map(|s| s.after_ms).collect();
        assert_eq!(after, [Some(0), Some(800), Some(3400)]);
        assert_eq!(
            t.sentences,
            [
                "m2 registered 800 ms after m1",
                "m3 registered 3.4 s after m1",
                "the cluster was complete 3.4 s after the first registration",
            ]
        );
    }

    #[test]
    fn without_times_the_order_still_shows() {
        let t = timeline(&report(2), &registrations("not json"));
        let who: Vec<&str> = t.steps.iter().map(|s| s.who.as_str()).collect();
        assert_eq!(who, ["m1", "m2", "m3"]);
        assert_eq!(
            t.sentences,
            ["the cluster was complete when m2 registered (this service gives no times)"]
        );
        let waiting = timeline(&report(5), &[]);
        assert!(waiting.sentences.is_empty());
    }
}
