//! A simulated etcd member: the exact request sequence etcd's v2 discovery client sends
//! (size, list, create, self-wait, size and list again, recursive waits until full), returning
//! the cluster it would start with. Connection errors and 5xx are retried like etcd does (with a
//! short fixed pause here), so it also runs through Worker restarts; any other error ends it,
//! as it ends etcd (for example "event index cleared" from a store that drops history).

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

/// Retries what etcd retries: broken connections and 5xx. A 4xx is an error etcd stops on.
fn retrying(what: &str, url: &str) -> Result<Resp, String> {
    for _ in 0..200 {
        match try_send("GET", url, None, None) {
            Ok(r) if r.status < 400 => return Ok(r),
            Ok(r) if r.status < 500 => {
                return Err(format!("{what}: {} {}", r.status, r.body.trim()))
            }
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    }
    Err(format!("{what}: no answer after 200 tries"))
}

fn json(r: &Resp) -> Result<serde_json::Value, String> {
    serde_json::from_str(&r.body).map_err(|e| format!("not JSON ({e}): {:?}", r.body))
}

/// Members as (key, createdIndex), in createdIndex order.
type Nodes = Vec<(String, u64)>;

/// (size, members, X-Etcd-Index), as etcd's `checkCluster` reads them.
fn check_cluster(url: &str) -> Result<(usize, Nodes, u64), String> {
    let s = retrying(
        "size",
        &format!("{url}/_config/size?quorum=false&recursive=false&sorted=false"),
    )?;
    let size: usize = json(&s)?["node"]["value"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .ok_or("bad size key")?;
    let l = retrying(
        "list",
        &format!("{url}?quorum=false&recursive=false&sorted=false"),
    )?;
    // The inspector's reading of a listing: members in createdIndex order.
    let nodes = shared::inspect::diagnose(&json(&l)?, shared::inspect::SizeInfo::Unknown, None, 0)
        .members
        .into_iter()
        .map(|m| (m.id, m.created_index))
        .collect();
    let index = l
        .header("X-Etcd-Index")
        .and_then(|v| v.parse().ok())
        .ok_or("no X-Etcd-Index")?;
    Ok((size, nodes, index))
}

fn base(key: &str) -> String {
    key.rsplit('/').next().unwrap_or("").to_string()
}

fn first(nodes: &[(String, u64)], size: usize) -> Vec<String> {
    nodes.iter().take(size).map(|(k, _)| k.clone()).collect()
}

/// Bootstraps one member `id` with `peer` through `url`.
pub fn member(url: &str, id: &str, peer: &str) -> Result<Outcome, String> {
    // Fast path: a full cluster without us means proxy.
    let (size, nodes, _) = check_cluster(url)?;
    if nodes.len() >= size && !nodes.iter().any(|(k, _)| k == id) {
        return Ok(Outcome::Proxy(first(&nodes, size), false));
    }
    let value = format!("{id}={peer}");
    let body = format!("value={}", shared::form::encode(&value));
    // etcd tries its create once; a broken connection leaves it unsure, so look, then retry.
    let created = loop {
        let r = try_send(
            "PUT",
            &format!("{url}/{id}?prevExist=false"),
            Some(body.as_bytes()),
            Some("application/x-www-form-urlencoded"),
        );
        match r {
            Ok(r) if r.status == 201 => {
                break json(&r)?["node"]["createdIndex"]
                    .as_u64()
                    .ok_or("no createdIndex")?
            }
            Ok(r) if r.status == 412 && r.body.contains("\"errorCode\":105") => {
                // Ours from an attempt whose answer was lost, or a true duplicate.
                let mine = retrying("own key", &format!("{url}/{id}"))?;
                let node = &json(&mine)?["node"];
                if node["value"].as_str() == Some(&value) {
                    break node["createdIndex"].as_u64().ok_or("no createdIndex")?;
                }
                return Ok(Outcome::Duplicate);
            }
            Ok(r) if r.status < 500 => {
                return Err(format!("create: {} {}", r.status, r.body.trim()))
            }
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    };
    // "Does my key show?": answered from history at once.
    let seen = retrying(
        "self wait",
        &format!("{url}/{id}?recursive=false&wait=true&waitIndex={created}"),
    )?;
    if base(json(&seen)?["node"]["key"].as_str().unwrap_or("")) != id {
        return Err("the self wait answered another key".into());
    }
    let (size, mut nodes, mut index) = check_cluster(url)?;
    if let Some(pos) = nodes.iter().position(|(k, _)| k == id) {
        if pos >= size {
            return Ok(Outcome::Proxy(first(&nodes, size), true));
        }
    }
    nodes.truncate(size);
    while nodes.len() < size {
        let w = retrying(
            "wait",
            &format!("{url}?recursive=true&wait=true&waitIndex={}", index + 1),
        )?;
        if w.body.is_empty() {
            continue; // an idle wait ended: send the same wait again
        }
        let v = json(&w)?;
        let node = &v["node"];
        index = node["modifiedIndex"].as_u64().ok_or("no modifiedIndex")?;
        nodes.push((
            base(node["key"].as_str().unwrap_or("")),
            node["createdIndex"].as_u64().unwrap_or(0),
        ));
    }
    Ok(Outcome::Founder(first(&nodes, size)))
}
