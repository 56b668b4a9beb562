//! A simulated etcd member: the exact request sequence etcd's v2 discovery client sends
//! (size, list, create, self-wait, size and list again, recursive waits until full), returning
//! the cluster it would start with. Connection errors and 5xx are retried like etcd does (with a
//! short fixed pause here), so it also runs through Worker restarts.

use std::time::Duration;

use crate::http::{try_send, Resp};

/// What a member ends with: the member keys of the cluster, in `createdIndex` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Among the first `size`: it founds this cluster.
    Founder(Vec<String>),
    /// Registered (`true`) or found the token full (`false`) too late: a proxy of this cluster.
    Proxy(Vec<String>, bool),
    /// etcd's "duplicate id".
    Duplicate,
}

/// Retries what etcd retries: broken connections and 5xx.
fn retrying(what: &str, f: impl Fn() -> Option<Resp>) -> Resp {
    for _ in 0..200 {
        match f() {
            Some(r) if r.status < 500 => return r,
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    }
    panic!("{what}: no answer after 200 tries")
}

fn try_get(url: &str) -> Option<Resp> {
    try_send("GET", url, None, None).ok()
}

/// (size, member nodes sorted by createdIndex as (key, createdIndex), X-Etcd-Index).
fn check_cluster(url: &str) -> (usize, Vec<(String, u64)>, u64) {
    let s = retrying("size", || {
        try_get(&format!(
            "{url}/_config/size?quorum=false&recursive=false&sorted=false"
        ))
    });
    let size: usize = s.json()["node"]["value"].as_str().unwrap().parse().unwrap();
    let l = retrying("list", || {
        try_get(&format!("{url}?quorum=false&recursive=false&sorted=false"))
    });
    // The inspector's reading of a listing: members in createdIndex order.
    let nodes = shared::inspect::diagnose(&l.json(), shared::inspect::SizeInfo::Unknown, None, 0)
        .members
        .into_iter()
        .map(|m| (m.id, m.created_index))
        .collect();
    (size, nodes, l.etcd_index())
}

fn base(key: &str) -> String {
    key.rsplit('/').next().unwrap_or("").to_string()
}

fn first(nodes: &[(String, u64)], size: usize) -> Vec<String> {
    nodes.iter().take(size).map(|(k, _)| k.clone()).collect()
}

/// Bootstraps one member `id` with `peer` through `url`.
pub fn member(url: &str, id: &str, peer: &str) -> Outcome {
    // Fast path: a full cluster without us means proxy.
    let (size, nodes, _) = check_cluster(url);
    if nodes.len() >= size && !nodes.iter().any(|(k, _)| k == id) {
        return Outcome::Proxy(first(&nodes, size), false);
    }
    let body = format!("value={}", shared::form::encode(&format!("{id}={peer}")));
    // etcd tries its create once; a broken connection leaves it unsure, so look, then retry.
    let created = loop {
        let r = try_send(
            "PUT",
            &format!("{url}/{id}?prevExist=false"),
            Some(body.as_bytes()),
            Some("application/x-www-form-urlencoded"),
        );
        match r {
            Ok(r) if r.status == 201 => break r.json()["node"]["createdIndex"].as_u64().unwrap(),
            Ok(r) if r.status == 412 && r.error_code() == 105 => {
                // Ours from an attempt whose answer was lost, or a true duplicate.
                let mine = try_get(&format!("{url}/{id}"));
                match mine {
                    Some(m)
                        if m.status == 200
                            && m.json()["node"]["value"].as_str()
                                == Some(&format!("{id}={peer}")) =>
                    {
                        break m.json()["node"]["createdIndex"].as_u64().unwrap()
                    }
                    _ => return Outcome::Duplicate,
                }
            }
            Ok(r) if r.status < 500 => panic!("create {id}: {r:?}"),
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    };
    // "Does my key show?": answered from history at once.
    let seen = retrying("self wait", || {
        try_get(&format!(
            "{url}/{id}?recursive=false&wait=true&waitIndex={created}"
        ))
    });
    assert_eq!(base(seen.json()["node"]["key"].as_str().unwrap()), id);

    let (size, mut nodes, mut index) = check_cluster(url);
    if let Some(pos) = nodes.iter().position(|(k, _)| k == id) {
        if pos >= size {
            return Outcome::Proxy(first(&nodes, size), true);
        }
    }
    nodes.truncate(size);
    while nodes.len() < size {
        let w = retrying("wait", || {
            try_get(&format!(
                "{url}?recursive=true&wait=true&waitIndex={}",
                index + 1
            ))
        });
        if w.body.is_empty() {
            continue; // an idle wait ended: send the same wait again
        }
        let v = w.json();
        let node = &v["node"];
        index = node["modifiedIndex"].as_u64().unwrap();
        nodes.push((
            base(node["key"].as_str().unwrap()),
            node["createdIndex"].as_u64().unwrap(),
        ));
    }
    Outcome::Founder(first(&nodes, size))
}
