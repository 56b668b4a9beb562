//! A simulated etcd member: the exact request sequence etcd's v2 discovery client sends (size,
//! list, create, self-wait, size and list again, recursive waits until full), ending with the
//! cluster it would start with. It is a state machine with no I/O, so that the tests' blocking
//! client and the benchmarks' async one drive the same sequence. Connection errors and 5xx are
//! retried as etcd does (after a short fixed pause here), so it also runs through restarts; any
//! other error ends it, as it ends etcd (for example "event index cleared" from a store that
//! drops history).

use std::collections::HashMap;
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

/// A request to send: `body` is a form (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub body: Option<String>,
}

/// What the member does next.
#[derive(Debug)]
pub enum Step {
    Send(Request),
    /// Wait this long, then send the same request again (`Member::request`).
    Pause(Duration),
    Done(Result<Outcome, String>),
}

/// How long a retry waits, and how many GETs are tried before giving up.
const PAUSE: Duration = Duration::from_millis(250);
const TRIES: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Steps 1-2: size and list, to see whether the cluster is full already.
    Size,
    List,
    /// Step 3: register.
    Create,
    /// After a 412 on our create: is the key ours from an attempt whose answer was lost?
    OwnKey,
    /// Step 4: "does my key show?", answered from history.
    SelfWait,
    /// Step 5: size and list again.
    Size2,
    List2,
    /// Step 6: recursive waits until `size` members are known.
    Watch,
}

/// One member's progress through the sequence.
pub struct Member {
    url: String,
    id: String,
    value: String,
    phase: Phase,
    tries: u32,
    size: usize,
    /// Members as (key, createdIndex), in createdIndex order.
    nodes: Vec<(String, u64)>,
    index: u64,
    created: u64,
}

impl Member {
    /// Member `id` with peer URL `peer`, bootstrapping through the discovery URL `url`.
    pub fn new(url: &str, id: &str, peer: &str) -> Member {
        Member {
            url: url.to_string(),
            id: id.to_string(),
            value: format!("{id}={peer}"),
            phase: Phase::Size,
            tries: 0,
            size: 0,
            nodes: Vec::new(),
            index: 0,
            created: 0,
        }
    }

    /// The request of the current phase.
    pub fn request(&self) -> Request {
        let (url, id) = (&self.url, &self.id);
        let get = |url: String| Request {
            method: "GET",
            url,
            body: None,
        };
        match self.phase {
            Phase::Size | Phase::Size2 => get(format!(
                "{url}/_config/size?quorum=false&recursive=false&sorted=false"
            )),
            Phase::List | Phase::List2 => {
                get(format!("{url}?quorum=false&recursive=false&sorted=false"))
            }
            Phase::Create => Request {
                method: "PUT",
                url: format!("{url}/{id}?prevExist=false"),
                body: Some(format!("value={}", shared::form::encode(&self.value))),
            },
            Phase::OwnKey => get(format!("{url}/{id}")),
            Phase::SelfWait => get(format!(
                "{url}/{id}?recursive=false&wait=true&waitIndex={}",
                self.created
            )),
            Phase::Watch => get(format!(
                "{url}?recursive=true&wait=true&waitIndex={}",
                self.index + 1
            )),
        }
    }

    /// The answer to the last request (`Err`: the connection broke), and what comes next.
    pub fn on_reply(&mut self, reply: Result<Resp, String>) -> Step {
        match self.step(reply) {
            Ok(Some(done)) => Step::Done(Ok(done)),
            Ok(None) => Step::Send(self.request()),
            Err(Retry::Pause) => Step::Pause(PAUSE),
            Err(Retry::Fail(why)) => Step::Done(Err(why)),
        }
    }

    fn go(&mut self, phase: Phase) -> Result<Option<Outcome>, Retry> {
        self.phase = phase;
        self.tries = 0;
        Ok(None)
    }

    fn step(&mut self, reply: Result<Resp, String>) -> Result<Option<Outcome>, Retry> {
        // etcd tries its create once; a broken connection leaves it unsure, so look, then retry.
        if self.phase == Phase::Create {
            return match reply {
                Ok(r) if r.status == 201 => {
                    self.created = json(&r)?["node"]["createdIndex"]
                        .as_u64()
                        .ok_or(fail("no createdIndex"))?;
                    self.go(Phase::SelfWait)
                }
                Ok(r) if r.status == 412 && r.body.contains("\"errorCode\":105") => {
                    self.go(Phase::OwnKey)
                }
                Ok(r) if r.status < 500 => {
                    Err(fail(&format!("create: {} {}", r.status, r.body.trim())))
                }
                _ => Err(Retry::Pause),
            };
        }
        let r = self.success(reply)?;
        match self.phase {
            Phase::Size | Phase::Size2 => {
                self.size = json(&r)?["node"]["value"]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .ok_or(fail("bad size key"))?;
                let next = if self.phase == Phase::Size {
                    Phase::List
                } else {
                    Phase::List2
                };
                self.go(next)
            }
            Phase::List | Phase::List2 => {
                // The inspector's reading of a listing: members in createdIndex order.
                self.nodes = shared::inspect::diagnose(
                    &json(&r)?,
                    shared::inspect::SizeInfo::Unknown,
                    None,
                    0,
                )
                .members
                .into_iter()
                .map(|m| (m.id, m.created_index))
                .collect();
                self.index = r
                    .header("X-Etcd-Index")
                    .and_then(|v| v.parse().ok())
                    .ok_or(fail("no X-Etcd-Index"))?;
                let mine = self.nodes.iter().position(|(k, _)| *k == self.id);
                if self.phase == Phase::List {
                    // Fast path: a full cluster without us means proxy.
                    if self.nodes.len() >= self.size && mine.is_none() {
                        return Ok(Some(Outcome::Proxy(self.first(), false)));
                    }
                    return self.go(Phase::Create);
                }
                if mine.is_some_and(|pos| pos >= self.size) {
                    return Ok(Some(Outcome::Proxy(self.first(), true)));
                }
                self.nodes.truncate(self.size);
                self.watch_or_done()
            }
            Phase::OwnKey => {
                let node = &json(&r)?["node"];
                if node["value"].as_str() != Some(&self.value) {
                    return Ok(Some(Outcome::Duplicate));
                }
                self.created = node["createdIndex"]
                    .as_u64()
                    .ok_or(fail("no createdIndex"))?;
                self.go(Phase::SelfWait)
            }
            Phase::SelfWait => {
                // etcd's watcher sends an idle wait again, this one too (a replica that had
                // not seen the create yet held it, then answered it idle).
                if r.body.is_empty() {
                    return self.go(Phase::SelfWait);
                }
                if base(json(&r)?["node"]["key"].as_str().unwrap_or("")) != self.id {
                    return Err(fail("the self wait answered another key"));
                }
                self.go(Phase::Size2)
            }
            Phase::Watch => {
                if r.body.is_empty() {
                    return self.go(Phase::Watch); // an idle wait ended: send it again
                }
                let v = json(&r)?;
                let node = &v["node"];
                self.index = node["modifiedIndex"]
                    .as_u64()
                    .ok_or(fail("no modifiedIndex"))?;
                self.nodes.push((
                    base(node["key"].as_str().unwrap_or("")),
                    node["createdIndex"].as_u64().unwrap_or(0),
                ));
                self.watch_or_done()
            }
            Phase::Create => unreachable!("handled above"),
        }
    }

    fn watch_or_done(&mut self) -> Result<Option<Outcome>, Retry> {
        if self.nodes.len() < self.size {
            return self.go(Phase::Watch);
        }
        Ok(Some(Outcome::Founder(self.first())))
    }

    /// A GET's answer as etcd's client takes it: a 4xx ends the member, a 5xx or a broken
    /// connection is tried again.
    fn success(&mut self, reply: Result<Resp, String>) -> Result<Resp, Retry> {
        match reply {
            Ok(r) if r.status < 400 => Ok(r),
            Ok(r) if r.status < 500 => Err(fail(&format!(
                "{:?}: {} {}",
                self.phase,
                r.status,
                r.body.trim()
            ))),
            _ => {
                self.tries += 1;
                if self.tries >= TRIES {
                    return Err(fail(&format!(
                        "{:?}: no answer after {TRIES} tries",
                        self.phase
                    )));
                }
                Err(Retry::Pause)
            }
        }
    }

    fn first(&self) -> Vec<String> {
        self.nodes
            .iter()
            .take(self.size)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

enum Retry {
    Pause,
    Fail(String),
}

fn fail(why: &str) -> Retry {
    Retry::Fail(why.to_string())
}

fn json(r: &Resp) -> Result<serde_json::Value, Retry> {
    serde_json::from_str(&r.body).map_err(|e| fail(&format!("not JSON ({e}): {:?}", r.body)))
}

fn base(key: &str) -> String {
    key.rsplit('/').next().unwrap_or("").to_string()
}

/// Bootstraps one member `id` with `peer` through `url`, over blocking HTTP.
pub fn member(url: &str, id: &str, peer: &str) -> Result<Outcome, String> {
    let mut m = Member::new(url, id, peer);
    let mut step = Step::Send(m.request());
    loop {
        step = match step {
            Step::Send(req) => {
                let form = req
                    .body
                    .as_ref()
                    .map(|_| "application/x-www-form-urlencoded");
                let reply = try_send(
                    req.method,
                    &req.url,
                    req.body.as_deref().map(str::as_bytes),
                    form,
                );
                m.on_reply(reply)
            }
            Step::Pause(d) => {
                std::thread::sleep(d);
                Step::Send(m.request())
            }
            Step::Done(result) => return result,
        };
    }
}

/// The first `size` members registered on a token (its founders), by name.
pub fn founders_in_registry(url: &str, size: usize) -> Vec<String> {
    crate::etcd::registered(url)
        .into_iter()
        .take(size)
        .map(|(k, _)| k.rsplit('/').next().unwrap().to_string())
        .collect()
}

/// Starts `extra` more members than `size` on each token, all at once (after `delay(i)`), and
/// checks that every one of them ends with the same cluster, the registry's first `size`.
pub fn race(
    tokens: &[(String, usize)],
    extra: usize,
    delay: impl Fn(usize) -> Duration,
) -> (usize, usize) {
    let mut handles = Vec::new();
    let mut n = 0;
    for (t, (url, size)) in tokens.iter().enumerate() {
        for m in 0..size + extra {
            let (url, id) = (url.clone(), format!("t{t}m{m}"));
            let peer = format!("http://10.{}.{}.{}:2380", t / 250, t % 250, m);
            let wait = delay(n);
            n += 1;
            handles.push((
                t,
                id.clone(),
                std::thread::spawn(move || {
                    std::thread::sleep(wait);
                    member(&url, &id, &peer).unwrap_or_else(|e| panic!("{id}: {e}"))
                }),
            ));
        }
    }
    let mut by_token: HashMap<usize, Vec<(String, Outcome)>> = HashMap::new();
    for (t, id, h) in handles {
        by_token
            .entry(t)
            .or_default()
            .push((id, h.join().expect("member thread")));
    }
    let mut registered = 0;
    for (t, outcomes) in &by_token {
        let (url, size) = &tokens[*t];
        let truth = founders_in_registry(url, *size);
        assert_eq!(truth.len(), *size, "token {t} filled");
        let mut founders = 0;
        for (id, o) in outcomes {
            match o {
                Outcome::Founder(c) => {
                    assert_eq!(c, &truth, "{id} disagrees on token {t}");
                    assert!(truth.contains(id));
                    founders += 1;
                    registered += 1;
                }
                Outcome::Proxy(c, reg) => {
                    assert_eq!(c, &truth, "{id} (proxy) disagrees on token {t}");
                    assert!(!truth.contains(id));
                    registered += usize::from(*reg);
                }
                Outcome::Duplicate => panic!("{id}: duplicate id on a fresh token"),
            }
        }
        assert_eq!(founders, *size, "exactly size founders on token {t}");
        // Every registration that was acknowledged is still there.
        let keys: Vec<String> = crate::etcd::registered(url)
            .into_iter()
            .map(|(k, _)| k.rsplit('/').next().unwrap().to_string())
            .collect();
        for (id, o) in outcomes {
            if matches!(o, Outcome::Founder(_) | Outcome::Proxy(_, true)) {
                assert!(keys.contains(id), "{id}'s registration was lost");
            }
        }
    }
    (n, registered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, index: u64, body: &str) -> Result<Resp, String> {
        Ok(Resp {
            status,
            headers: vec![("X-Etcd-Index".into(), index.to_string())],
            body: body.to_string(),
        })
    }

    fn sent(step: Step) -> Request {
        match step {
            Step::Send(r) => r,
            other => panic!("expected a request: {other:?}"),
        }
    }

    const SIZE: &str = r#"{"action":"get","node":{"key":"/t/_config/size","value":"2","modifiedIndex":1,"createdIndex":1}}"#;

    fn listing(members: &[(&str, u64)]) -> String {
        let nodes: Vec<String> = members
            .iter()
            .map(|(k, i)| {
                format!(r#"{{"key":"/t/{k}","value":"{k}=http://h:1","modifiedIndex":{i},"createdIndex":{i}}}"#)
            })
            .collect();
        format!(
            r#"{{"action":"get","node":{{"key":"/t","dir":true,"nodes":[{}],"modifiedIndex":1,"createdIndex":1}}}}"#,
            nodes.join(",")
        )
    }

    #[test]
    fn walks_etcds_sequence_to_a_founded_cluster() {
        let mut m = Member::new("http://d/t", "a", "http://h:1");
        assert!(m
            .request()
            .url
            .ends_with("/_config/size?quorum=false&recursive=false&sorted=false"));
        let list = sent(m.on_reply(resp(200, 1, SIZE)));
        assert!(list
            .url
            .ends_with("/t?quorum=false&recursive=false&sorted=false"));
        let create = sent(m.on_reply(resp(200, 1, &listing(&[]))));
        assert_eq!(
            (create.method, create.body.as_deref()),
            ("PUT", Some("value=a%3Dhttp%3A%2F%2Fh%3A1"))
        );
        let created = r#"{"action":"create","node":{"key":"/t/a","value":"a=http://h:1","modifiedIndex":2,"createdIndex":2}}"#;
        let selfwait = sent(m.on_reply(resp(201, 2, created)));
        assert!(selfwait
            .url
            .ends_with("/t/a?recursive=false&wait=true&waitIndex=2"));
        sent(m.on_reply(resp(200, 2, created)));
        sent(m.on_reply(resp(200, 2, SIZE)));
        let watch = sent(m.on_reply(resp(200, 2, &listing(&[("a", 2)]))));
        assert!(watch
            .url
            .ends_with("/t?recursive=true&wait=true&waitIndex=3"));
        // An idle wait ends empty: the same wait again.
        assert_eq!(sent(m.on_reply(resp(200, 2, ""))), watch);
        let b = r#"{"action":"create","node":{"key":"/t/b","value":"b=http://h:1","modifiedIndex":3,"createdIndex":3}}"#;
        match m.on_reply(resp(200, 2, b)) {
            Step::Done(Ok(Outcome::Founder(c))) => assert_eq!(c, ["a", "b"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retries_what_etcd_retries_and_stops_on_the_rest() {
        let mut m = Member::new("http://d/t", "a", "http://h:1");
        assert!(matches!(m.on_reply(Err("reset".into())), Step::Pause(_)));
        assert!(matches!(m.on_reply(resp(503, 0, "{}")), Step::Pause(_)));
        assert!(m.request().url.contains("_config/size"), "the same request");
        match m.on_reply(resp(404, 0, r#"{"errorCode":100}"#)) {
            Step::Done(Err(why)) => assert!(why.contains("404"), "{why}"),
            other => panic!("{other:?}"),
        }
        // A full token without us: a proxy at once.
        let mut m = Member::new("http://d/t", "c", "http://h:1");
        sent(m.on_reply(resp(200, 1, SIZE)));
        match m.on_reply(resp(200, 3, &listing(&[("a", 2), ("b", 3)]))) {
            Step::Done(Ok(Outcome::Proxy(c, false))) => assert_eq!(c, ["a", "b"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_lost_create_answer_is_found_and_a_foreign_key_is_a_duplicate() {
        let mut m = Member::new("http://d/t", "a", "http://h:1");
        sent(m.on_reply(resp(200, 1, SIZE)));
        sent(m.on_reply(resp(200, 1, &listing(&[]))));
        assert!(matches!(m.on_reply(Err("closed".into())), Step::Pause(_)));
        assert_eq!(m.request().method, "PUT", "the create again");
        let own = sent(m.on_reply(resp(412, 2, r#"{"errorCode":105}"#)));
        assert!(own.url.ends_with("/t/a"));
        let mine = r#"{"action":"get","node":{"key":"/t/a","value":"a=http://h:1","modifiedIndex":2,"createdIndex":2}}"#;
        assert!(sent(m.on_reply(resp(200, 2, mine)))
            .url
            .contains("waitIndex=2"));
        let mut m = Member::new("http://d/t", "a", "http://h:1");
        sent(m.on_reply(resp(200, 1, SIZE)));
        sent(m.on_reply(resp(200, 1, &listing(&[]))));
        sent(m.on_reply(resp(412, 2, r#"{"errorCode":105}"#)));
        let other = r#"{"action":"get","node":{"key":"/t/a","value":"a=http://other:1","modifiedIndex":2,"createdIndex":2}}"#;
        assert!(matches!(
            m.on_reply(resp(200, 2, other)),
            Step::Done(Ok(Outcome::Duplicate))
        ));
    }
}
