//! The member's seat in its token, from the token's live state as the inspector reads it:
//! which of the first `size` registrations is this member's, or why it holds none.

use super::Explanation;
use crate::inspect::report::{Report, Role, SizeInfo};

/// One sentence on the member's seat.
pub fn seat(x: &Explanation, registry: &Report) -> String {
    let name = x.member.name.as_deref().unwrap_or("This member");
    let size = match registry.size {
        SizeInfo::Known(n) => Some(n),
        _ => None,
    };
    let of_size = size.map(|n| format!(" of {n}")).unwrap_or_default();
    let Some(id) = x.member.id.as_deref() else {
        return format!("The log does not show {name}'s id or peer URLs, so its seat in the token cannot be told.");
    };
    if let Some((i, row)) = registry
        .members
        .iter()
        .enumerate()
        .find(|(_, m)| m.id == id)
    {
        let nth = ordinal(i + 1);
        return match row.role {
            Role::Voting if !registry.complete && size.is_some() => {
                let n = size.unwrap_or_default() as usize;
                let registered: Vec<String> = registry
                    .members
                    .iter()
                    .map(|m| m.names.first().cloned().unwrap_or_else(|| m.id.clone()))
                    .collect();
                format!(
                    "{name} ({id}) holds a seat: the {nth}{of_size} to register. Registered so far: {}; {} more to come.",
                    registered.join(", "),
                    n.saturating_sub(registry.joined)
                )
            }
            Role::Voting => format!("{name} ({id}) holds a seat: the {nth}{of_size} to register."),
            Role::Proxy => format!(
                "{name} ({id}) registered {nth}, after the first{of_size}: it holds no seat (etcd 3.4 and 3.5 run it as a proxy, 3.6 exits)."
            ),
            Role::Unknown => format!("{name} ({id}) is registered, {nth} in order; the token's size is not known, so whether that is a seat is not either."),
        };
    }
    // Not registered: say why it may not be.
    let same_name = registry
        .members
        .iter()
        .find(|m| x.member.name.as_ref().is_some_and(|n| m.names.contains(n)));
    let mut out = match (registry.complete, size) {
        (true, Some(n)) => format!(
            "{name} ({id}) holds no seat: the token has its {n} members and this one is not among them."
        ),
        (_, Some(n)) => format!(
            "{name} ({id}) is not registered: the token has {} of {n}. It did not reach the service, or it registered under another token.",
            registry.joined
        ),
        _ => format!("{name} ({id}) is not registered with this token."),
    };
    if let Some(other) = same_name {
        out.push_str(&format!(
            " A member named {name} is registered as {} with other peer URLs ({}): two machines share the name, or this one's peer URLs changed.",
            other.id,
            other.peer_urls.join(",")
        ));
    }
    out
}

fn ordinal(n: usize) -> String {
    const WORDS: [&str; 9] = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    ];
    WORDS
        .get(n - 1)
        .map_or_else(|| format!("{n}th"), |w| w.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::Member;
    use crate::inspect::{diagnose, SizeInfo};

    fn registry(size: u64, members: &[(&str, &str)]) -> Report {
        let nodes: Vec<serde_json::Value> = members
            .iter()
            .enumerate()
            .map(|(i, (id, value))| {
                serde_json::json!({"key": format!("/t/{id}"), "value": value, "createdIndex": i + 5, "modifiedIndex": i + 5})
            })
            .collect();
        let listing =
            serde_json::json!({"action":"get","node":{"key":"/t","dir":true,"nodes":nodes}});
        diagnose(&listing, SizeInfo::Known(size), None, 0)
    }

    fn member(name: &str, id: &str) -> Explanation {
        Explanation {
            member: Member {
                name: Some(name.into()),
                id: Some(id.into()),
                ..Member::default()
            },
            ..Explanation::default()
        }
    }

    #[test]
    fn a_seat_no_seat_and_a_shared_name() {
        let full = registry(
            3,
            &[
                ("a1", "m1=http://10.0.0.1:2380"),
                ("a2", "m2=http://10.0.0.2:2380"),
                ("a3", "m3=http://10.0.0.3:2380"),
                ("a4", "m4=http://10.0.0.4:2380"),
            ],
        );
        assert_eq!(
            seat(&member("m2", "a2"), &full),
            "m2 (a2) holds a seat: the second of 3 to register."
        );
        assert!(seat(&member("m4", "a4"), &full)
            .contains("registered fourth, after the first of 3: it holds no seat"));
        let s = seat(&member("m1", "b9"), &full);
        assert!(
            s.starts_with("m1 (b9) holds no seat: the token has its 3 members"),
            "{s}"
        );
        assert!(
            s.contains(
                "A member named m1 is registered as a1 with other peer URLs (http://10.0.0.1:2380)"
            ),
            "{s}"
        );
        let waiting = registry(3, &[("a1", "m1=http://10.0.0.1:2380")]);
        assert_eq!(
            seat(&member("m1", "a1"), &waiting),
            "m1 (a1) holds a seat: the first of 3 to register. Registered so far: m1; 2 more to come."
        );
        assert!(
            seat(&member("m5", "c1"), &waiting).contains("is not registered: the token has 1 of 3")
        );
        let unknown = Explanation::default();
        assert!(seat(&unknown, &waiting).contains("cannot be told"));
    }
}
