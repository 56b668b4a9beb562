//! The store of replicas: an etcd cluster that any number of `rendezvous` processes share
//! (`--store etcd://...`). A token's entries are keys `<prefix>t/<token>/<entry>` (`meta`,
//! `e/<index>`), its alarm `<prefix>a/<token>` (Unix ms). Each write is one etcd transaction
//! that stores nothing unless every event key it adds is new and the token's meta is still
//! there: two replicas that apply a change to the same token at once both try event `n`, one
//! transaction wins, and the other replica hears `Failure::Conflict`, reads the token again and
//! applies its request to what is stored. So racing members on different replicas agree on one
//! order. A transaction whose answer was lost (a timeout after the commit) is settled by reading
//! back what it wrote, never by writing it twice.
//!
//! One token's writes run one after another in the order handed over (none after a failed
//! one); different tokens' writes run side by side, and those in flight together reach etcd as
//! one call (`batch`), as do their reads. `follow` tells the token cache of writes made by
//! other replicas; `elect` picks the one replica that fires alarms.

pub mod batch;
pub mod client;
pub mod elect;
pub mod follow;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use shared::lifecycle::{Entry, EVENT_PREFIX, META_KEY};
use shared::registry::Event;
use shared::Token;

use super::{Job, Observer, Op, Read};
use crate::gate::Failure;
use crate::proto::etcdserverpb::compare::{CompareResult, CompareTarget, TargetUnion};
use crate::proto::etcdserverpb::*;
use client::{Address, Client, Security, Trouble};

/// Tries of one write whose answer was lost, each settled by a read back before the next.
const TRIES: usize = 3;
/// How long `close` waits for queued writes.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

pub struct Etcd {
    inner: Arc<Inner>,
}

struct Inner {
    client: Arc<Client>,
    /// Token reads and writes go through this, batched.
    batch: batch::Batcher,
    layout: Layout,
    /// Each token with writes queued or running: its queue (a runner drains it).
    queues: Mutex<HashMap<Token, VecDeque<Job>>>,
    drained: Condvar,
    closed: AtomicBool,
    elected: elect::Elected,
}

/// Where things are under the prefix.
#[derive(Debug, Clone)]
pub struct Layout {
    prefix: String,
}

impl Layout {
    pub fn new(prefix: &str) -> Layout {
        Layout {
            prefix: prefix.to_string(),
        }
    }

    /// Every token's entries are under this.
    fn tokens(&self) -> Vec<u8> {
        format!("{}t/", self.prefix).into_bytes()
    }

    fn token(&self, token: Token) -> Vec<u8> {
        format!("{}t/{token}/", self.prefix).into_bytes()
    }

    fn entry(&self, token: Token, key: &str) -> Vec<u8> {
        format!("{}t/{token}/{key}", self.prefix).into_bytes()
    }

    fn alarms(&self) -> Vec<u8> {
        format!("{}a/", self.prefix).into_bytes()
    }

    fn alarm(&self, token: Token) -> Vec<u8> {
        format!("{}a/{token}", self.prefix).into_bytes()
    }

    /// The key the replicas' election is held on.
    fn leader(&self) -> Vec<u8> {
        format!("{}leader", self.prefix).into_bytes()
    }

    /// A token's entry from a stored key: (token, entry key).
    fn parse_entry(&self, key: &[u8]) -> Option<(Token, String)> {
        let rest = std::str::from_utf8(key).ok()?;
        let rest = rest.strip_prefix(&self.prefix)?.strip_prefix("t/")?;
        let (token, entry) = rest.split_once('/')?;
        Some((Token::from_segment(token).ok()?, entry.to_string()))
    }

    fn parse_alarm(&self, key: &[u8], value: &[u8]) -> Option<(Token, u64)> {
        let rest = std::str::from_utf8(key).ok()?;
        let token = rest.strip_prefix(&self.prefix)?.strip_prefix("a/")?;
        let at = std::str::from_utf8(value).ok()?.parse().ok()?;
        Some((Token::from_segment(token).ok()?, at))
    }
}

/// The end of the range of keys starting with `prefix` (etcd's `range_end`).
pub fn range_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

impl Etcd {
    pub fn connect(address: &Address, security: &Security) -> Result<Etcd, String> {
        let client = Arc::new(Client::new(address, security)?);
        Ok(Etcd {
            inner: Arc::new(Inner {
                batch: batch::Batcher::new(client.clone()),
                client,
                layout: Layout::new(&address.prefix),
                queues: Mutex::default(),
                drained: Condvar::new(),
                closed: AtomicBool::new(false),
                elected: elect::Elected::default(),
            }),
        })
    }
}

impl super::Store for Etcd {
    fn submit(&self, job: Job) {
        if self.inner.closed.load(Ordering::Acquire) {
            job.gate.complete(
                job.seq,
                Err(Failure::Storage("the server is shutting down".into())),
            );
            return;
        }
        let token = job.token;
        let mut queues = self.inner.queues.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(queue) = queues.get_mut(&token) {
            // A runner is on this token's queue already.
            queue.push_back(job);
            return;
        }
        queues.insert(token, VecDeque::from([job]));
        drop(queues);
        tokio::spawn(self.inner.clone().run(token));
    }

    fn entries(&self, token: Token) -> Read<'_, Vec<Entry>> {
        Box::pin(async move {
            let prefix = self.inner.layout.token(token);
            self.inner
                .entries_between(prefix.clone(), range_end(&prefix))
                .await
                .map_err(|t| t.to_string())
        })
    }

    fn due(&self, now: u64, limit: usize) -> Read<'_, Vec<Token>> {
        Box::pin(async move {
            let mut due: Vec<(u64, Token)> = self
                .inner
                .alarms()
                .await?
                .into_iter()
                .filter(|(_, at)| *at <= now)
                .map(|(t, at)| (at, t))
                .collect();
            due.sort();
            due.truncate(limit);
            Ok(due.into_iter().map(|(_, t)| t).collect())
        })
    }

    fn next_alarm(&self) -> Read<'_, Option<u64>> {
        Box::pin(async move {
            let alarms = self.inner.alarms().await?;
            Ok(alarms.into_iter().map(|(_, at)| at).min())
        })
    }

    fn orphans(&self) -> Read<'_, Vec<Token>> {
        Box::pin(async move {
            let prefix = self.inner.layout.tokens();
            let range = RangeRequest {
                range_end: range_end(&prefix),
                key: prefix,
                keys_only: true,
                ..RangeRequest::default()
            };
            let kvs = self
                .inner
                .client
                .range(range)
                .await
                .map_err(|t| t.to_string())?
                .kvs;
            let mut meta: HashMap<Token, bool> = HashMap::new();
            for kv in kvs {
                if let Some((token, key)) = self.inner.layout.parse_entry(&kv.key) {
                    *meta.entry(token).or_default() |= key == META_KEY;
                }
            }
            Ok(meta
                .into_iter()
                .filter(|(_, has)| !has)
                .map(|(t, _)| t)
                .collect())
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn events_after(&self, token: Token, index: u64) -> Read<'_, Option<Vec<Entry>>> {
        Box::pin(async move {
            let l = &self.inner.layout;
            let first = l.entry(token, &Event::key_after(index));
            let end = range_end(&l.entry(token, EVENT_PREFIX));
            let entries = self.inner.entries_between(first, end).await;
            entries.map(Some).map_err(|t| t.to_string())
        })
    }

    fn ready(&self) -> Read<'_, ()> {
        Box::pin(async move {
            // A linearizable read needs the cluster's quorum: what every write needs.
            let key = format!("{}ready", self.inner.layout.prefix).into_bytes();
            let range = RangeRequest {
                key,
                count_only: true,
                ..RangeRequest::default()
            };
            self.inner
                .client
                .range(range)
                .await
                .map(|_| ())
                .map_err(|t| t.to_string())
        })
    }

    fn observe(&self, observer: Arc<dyn Observer>, stop: tokio::sync::watch::Receiver<bool>) {
        tokio::spawn(follow::run(
            self.inner.client.clone(),
            self.inner.layout.clone(),
            observer,
            stop.clone(),
        ));
        tokio::spawn(elect::run(
            self.inner.client.clone(),
            self.inner.layout.leader(),
            self.inner.elected.clone(),
            stop,
        ));
    }

    fn fires_alarms(&self) -> bool {
        self.inner.elected.is_leader()
    }

    fn longest_alarm_sleep_ms(&self) -> u64 {
        // Other replicas store alarms too; the one that fires them looks every second.
        1_000
    }

    fn describe(&self) -> String {
        format!(
            "etcd {} under {}",
            self.inner.client.endpoint_names().join(","),
            self.inner.layout.prefix
        )
    }

    fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let inner = self.inner.clone();
        tokio::task::block_in_place(move || {
            let queues = inner.queues.lock().unwrap_or_else(|e| e.into_inner());
            let _ = inner
                .drained
                .wait_timeout_while(queues, CLOSE_WAIT, |q| !q.is_empty());
        });
    }
}

impl Inner {
    /// Drains one token's queue, a write at a time, until it is empty.
    async fn run(self: Arc<Self>, token: Token) {
        loop {
            let job = {
                let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                let Some(queue) = queues.get_mut(&token) else {
                    return;
                };
                match queue.pop_front() {
                    Some(job) => job,
                    None => {
                        queues.remove(&token);
                        self.drained.notify_all();
                        return;
                    }
                }
            };
            let result = if job.gate.failed() {
                // One write of this token failed: none after it is stored.
                Err(Failure::Storage(
                    "an earlier write of this token failed".into(),
                ))
            } else {
                self.write(&job).await
            };
            job.gate.complete(job.seq, result);
        }
    }

    /// One job as one transaction.
    async fn write(&self, job: &Job) -> Result<(), Failure> {
        let txn = self.transaction(job);
        let mut answered_before = false;
        let mut last = String::new();
        for _ in 0..TRIES {
            match self.batch.txn(txn.clone()).await {
                Ok(r) if r.succeeded => return Ok(()),
                Ok(_) if !answered_before => {
                    // Refused on the first try: somebody else's write came first.
                    return Err(if job.mint {
                        Failure::Taken
                    } else {
                        Failure::Conflict
                    });
                }
                Ok(_) => {
                    // Refused after a try whose answer was lost: that try may be what is
                    // stored. Reading back tells.
                    return match self.stored(job).await {
                        Ok(true) => Ok(()),
                        Ok(false) if job.mint => Err(Failure::Taken),
                        Ok(false) => Err(Failure::Conflict),
                        Err(t) => Err(Failure::Storage(t.to_string())),
                    };
                }
                Err(Trouble::Refused(why)) => {
                    return Err(Failure::Storage(format!("the store's etcd refused: {why}")))
                }
                Err(t @ Trouble::Unanswered(_)) => {
                    last = t.to_string();
                    answered_before = true;
                    match self.stored(job).await {
                        Ok(true) => return Ok(()),
                        // Not stored: try again (its conditions keep it from being stored
                        // twice).
                        Ok(false) => {}
                        Err(t) => return Err(Failure::Storage(t.to_string())),
                    }
                }
            }
        }
        Err(Failure::Storage(last))
    }

    /// The job's transaction: its conditions, and its ops.
    fn transaction(&self, job: &Job) -> TxnRequest {
        let l = &self.layout;
        let t = job.token;
        let mut compare = Vec::new();
        let mut success = Vec::new();
        let mut adds_meta = false;
        let mut deletes = false;
        for op in &job.ops {
            match op {
                Op::Insert(entries) => {
                    for (key, value) in entries {
                        adds_meta |= key == META_KEY;
                        let key = l.entry(t, key);
                        // Events are never rewritten, and a meta is written once, at the mint.
                        compare.push(created(&key, CompareResult::Equal, 0));
                        success.push(put(key, value.as_bytes().to_vec()));
                    }
                }
                Op::Alarm(Some(at)) => success.push(put(l.alarm(t), at.to_string().into_bytes())),
                Op::Alarm(None) => success.push(delete(l.alarm(t), None)),
                Op::Delete => {
                    deletes = true;
                    let prefix = l.token(t);
                    success.push(delete(prefix.clone(), Some(range_end(&prefix))));
                    success.push(delete(l.alarm(t), None));
                }
                Op::Lose(key) => {
                    deletes = true;
                    success.push(delete(l.entry(t, key), None));
                }
            }
        }
        if !adds_meta && !deletes {
            // The token is still there: no write brings back one that ended meanwhile.
            compare.push(created(&l.entry(t, META_KEY), CompareResult::Greater, 0));
        }
        TxnRequest {
            compare,
            success,
            failure: Vec::new(),
        }
    }

    /// Whether what `job` writes is what is stored (a read back after a lost answer).
    async fn stored(&self, job: &Job) -> Result<bool, Trouble> {
        let l = &self.layout;
        let t = job.token;
        let prefix = l.token(t);
        let held: HashMap<String, String> = self
            .entries_between(prefix.clone(), range_end(&prefix))
            .await?
            .into_iter()
            .collect();
        for op in &job.ops {
            let ok = match op {
                Op::Insert(entries) => entries.iter().all(|(k, v)| held.get(k) == Some(v)),
                Op::Delete => held.is_empty(),
                Op::Lose(key) => !held.contains_key(key),
                Op::Alarm(at) => {
                    let range = RangeRequest {
                        key: l.alarm(t),
                        ..RangeRequest::default()
                    };
                    let kvs = self.batch.range(range).await?.kvs;
                    let stored = kvs.first().map(|kv| kv.value.clone());
                    stored == at.map(|at| at.to_string().into_bytes())
                }
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    async fn range_all(
        &self,
        prefix: Vec<u8>,
    ) -> Result<Vec<crate::proto::mvccpb::KeyValue>, Trouble> {
        let range = RangeRequest {
            range_end: range_end(&prefix),
            key: prefix,
            ..RangeRequest::default()
        };
        Ok(self.client.range(range).await?.kvs)
    }

    /// The token entries stored from `key` up to `range_end`, as (entry key, text) pairs.
    async fn entries_between(
        &self,
        key: Vec<u8>,
        range_end: Vec<u8>,
    ) -> Result<Vec<Entry>, Trouble> {
        let range = RangeRequest {
            key,
            range_end,
            ..RangeRequest::default()
        };
        let kvs = self.batch.range(range).await?.kvs;
        Ok(kvs
            .into_iter()
            .filter_map(|kv| {
                let (_, key) = self.layout.parse_entry(&kv.key)?;
                Some((key, String::from_utf8(kv.value).ok()?))
            })
            .collect())
    }

    /// Every stored alarm.
    async fn alarms(&self) -> Result<Vec<(Token, u64)>, String> {
        let kvs = self
            .range_all(self.layout.alarms())
            .await
            .map_err(|t| t.to_string())?;
        Ok(kvs
            .iter()
            .filter_map(|kv| self.layout.parse_alarm(&kv.key, &kv.value))
            .collect())
    }
}

fn created(key: &[u8], result: CompareResult, revision: i64) -> Compare {
    Compare {
        result: result as i32,
        target: CompareTarget::Create as i32,
        key: key.to_vec(),
        target_union: Some(TargetUnion::CreateRevision(revision)),
        range_end: Vec::new(),
    }
}

fn put(key: Vec<u8>, value: Vec<u8>) -> RequestOp {
    RequestOp {
        request: Some(request_op::Request::RequestPut(PutRequest {
            key,
            value,
            ..PutRequest::default()
        })),
    }
}

fn delete(key: Vec<u8>, range_end: Option<Vec<u8>>) -> RequestOp {
    RequestOp {
        request: Some(request_op::Request::RequestDeleteRange(
            DeleteRangeRequest {
                key,
                range_end: range_end.unwrap_or_default(),
                ..DeleteRangeRequest::default()
            },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_ends_cover_exactly_the_prefix() {
        assert_eq!(range_end(b"/r/t/"), b"/r/t0");
        assert_eq!(range_end(b"a\xff"), b"b");
        assert_eq!(range_end(b"\xff\xff"), b"\0");
    }

    #[test]
    fn keys_are_read_back_as_tokens_and_entries() {
        let l = Layout::new("/rendezvous/");
        let t = Token::from_segment("0123456789abcdef0123456789abcdef").unwrap();
        let key = l.entry(t, "e/00000000000000000001");
        assert_eq!(
            l.parse_entry(&key),
            Some((t, "e/00000000000000000001".to_string()))
        );
        assert!(key.starts_with(&l.token(t)) && key.starts_with(&l.tokens()));
        assert_eq!(l.parse_alarm(&l.alarm(t), b"1700"), Some((t, 1700)));
        assert_eq!(l.parse_entry(b"/other/t/x/meta"), None);
        assert_eq!(l.parse_alarm(&l.alarm(t), b"soon"), None);
    }
}
