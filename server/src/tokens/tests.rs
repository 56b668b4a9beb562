//! `Tokens` driven through a store in memory that does what a test tells it: fail writes, hold
//! a read until released, keep writes waiting until flushed; and a clock the test sets.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shared::http::{Method, Response};
use shared::lifecycle::{Effects, Entry, TokenState, META_KEY};
use shared::v2::RawRequest;
use shared::{Limits, Token};
use tokio::sync::Notify;

use super::*;
use crate::gate::Failure;
use crate::store::{Job, Observer, Op, Read, Store};

const T0: u64 = 1_800_000_000_000;

#[derive(Default)]
struct Memory {
    entries: Mutex<BTreeMap<(Token, String), String>>,
    alarms: Mutex<HashMap<Token, u64>>,
    /// Every write fails while set.
    fail: AtomicBool,
    /// Writes wait here until `flush` while set.
    defer: AtomicBool,
    queue: Mutex<Vec<Job>>,
    /// The next read takes its snapshot, then waits for `release`.
    hold: AtomicBool,
    held: Notify,
    release: Notify,
    reads: AtomicUsize,
    /// Catch-up reads (`events_after`) asked.
    catch_ups: AtomicUsize,
    /// Writes stored and not yet delivered to the replicas (`deliver`).
    changes: Mutex<Vec<(Token, Vec<Entry>)>>,
}

impl Memory {
    /// Stores (or refuses) the writes waiting, in order.
    fn flush(&self) {
        let jobs: Vec<Job> = std::mem::take(&mut *self.queue.lock().unwrap());
        for job in jobs {
            self.apply(job);
        }
    }

    fn apply(&self, job: Job) {
        let result = if self.fail.load(Ordering::Acquire) {
            Err(Failure::Storage("the disk is full".into()))
        } else if job.gate.failed() {
            // A token whose earlier write failed takes no later one.
            Err(Failure::Storage("an earlier write failed".into()))
        } else {
            self.write(&job)
        };
        job.gate.complete(job.seq, result);
    }

    fn write(&self, job: &Job) -> Result<(), Failure> {
        let mut entries = self.entries.lock().unwrap();
        let mut alarms = self.alarms.lock().unwrap();
        let (mut e, mut a) = (entries.clone(), alarms.clone());
        for op in &job.ops {
            match op {
                Op::Insert(new) => {
                    for (k, v) in new {
                        if e.insert((job.token, k.clone()), v.clone()).is_some() {
                            // As the etcd store: an event stored already was written by
                            // another replica sharing this store.
                            return Err(if job.mint {
                                Failure::Taken
                            } else {
                                Failure::Conflict
                            });
                        }
                    }
                }
                Op::Alarm(Some(at)) => {
                    a.insert(job.token, *at);
                }
                Op::Alarm(None) => {
                    a.remove(&job.token);
                }
                Op::Delete => {
                    e.retain(|(t, _), _| *t != job.token);
                    a.remove(&job.token);
                }
                Op::Lose(key) => {
                    e.remove(&(job.token, key.clone()));
                }
            }
        }
        (*entries, *alarms) = (e, a);
        let written: Vec<Entry> = job
            .ops
            .iter()
            .flat_map(|op| match op {
                Op::Insert(new) => new.clone(),
                _ => Vec::new(),
            })
            .collect();
        if !written.is_empty() {
            self.changes.lock().unwrap().push((job.token, written));
        }
        Ok(())
    }

    /// Tells every replica (`Tokens` sharing this store) of the writes stored since last
    /// time, as the etcd store's watch does: later than they were stored, and to the writer
    /// too.
    fn deliver(&self, replicas: &[&Arc<Tokens>]) {
        let changes = std::mem::take(&mut *self.changes.lock().unwrap());
        for (token, entries) in changes {
            for r in replicas {
                r.written_elsewhere(token, entries.clone());
            }
        }
    }

    fn stored(&self, token: Token) -> Vec<String> {
        let entries = self.entries.lock().unwrap();
        entries
            .keys()
            .filter(|(t, _)| *t == token)
            .map(|(_, k)| k.clone())
            .collect()
    }

    fn alarm(&self, token: Token) -> Option<u64> {
        self.alarms.lock().unwrap().get(&token).copied()
    }
}

impl Store for Memory {
    fn submit(&self, job: Job) {
        if self.defer.load(Ordering::Acquire) {
            self.queue.lock().unwrap().push(job);
        } else {
            self.apply(job);
        }
    }

    fn entries(&self, token: Token) -> Read<'_, Vec<Entry>> {
        let snapshot: Vec<Entry> = self
            .entries
            .lock()
            .unwrap()
            .iter()
            .filter(|((t, _), _)| *t == token)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect();
        self.reads.fetch_add(1, Ordering::AcqRel);
        let hold = self.hold.swap(false, Ordering::AcqRel);
        Box::pin(async move {
            if hold {
                self.held.notify_one();
                self.release.notified().await;
            }
            Ok(snapshot)
        })
    }

    fn due(&self, now: u64, limit: usize) -> Read<'_, Vec<Token>> {
        let mut due: Vec<(u64, Token)> = self
            .alarms
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(t, at)| (*at, *t))
            .collect();
        due.sort();
        Box::pin(async move { Ok(due.into_iter().take(limit).map(|(_, t)| t).collect()) })
    }

    fn next_alarm(&self) -> Read<'_, Option<u64>> {
        let next = self.alarms.lock().unwrap().values().min().copied();
        Box::pin(async move { Ok(next) })
    }

    fn orphans(&self) -> Read<'_, Vec<Token>> {
        let entries = self.entries.lock().unwrap();
        let mut with_meta: Vec<Token> = entries
            .keys()
            .filter(|(_, k)| k == META_KEY)
            .map(|(t, _)| *t)
            .collect();
        with_meta.sort();
        let mut orphans: Vec<Token> = entries
            .keys()
            .map(|(t, _)| *t)
            .filter(|t| with_meta.binary_search(t).is_err())
            .collect();
        orphans.dedup();
        Box::pin(async move { Ok(orphans) })
    }

    fn ready(&self) -> Read<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    // Shared, as the etcd store is: the tests run two replicas over one.
    fn shared(&self) -> bool {
        true
    }

    fn events_after(&self, token: Token, index: u64) -> Read<'_, Option<Vec<Entry>>> {
        self.catch_ups.fetch_add(1, Ordering::AcqRel);
        let after = shared::registry::Event::key_after(index);
        let entries: Vec<Entry> = self
            .entries
            .lock()
            .unwrap()
            .iter()
            .filter(|((t, k), _)| *t == token && k.starts_with("e/") && *k >= after)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect();
        Box::pin(async move { Ok(Some(entries)) })
    }

    fn describe(&self) -> String {
        "memory".into()
    }

    fn close(&self) {}
}

struct Fixture {
    tokens: Arc<Tokens>,
    store: Arc<Memory>,
    time: Arc<AtomicU64>,
}

impl Fixture {
    fn new(limits: Limits) -> Fixture {
        let store = Arc::new(Memory::default());
        let time = Arc::new(AtomicU64::new(T0));
        let t = time.clone();
        let tokens = Arc::new(Tokens::new(
            store.clone(),
            limits,
            Arc::new(Alarms::default()),
            Arc::new(move || t.load(Ordering::Acquire)),
        ));
        Fixture {
            tokens,
            store,
            time,
        }
    }

    /// Waits parked on `token` now.
    fn parked(&self, token: Token) -> usize {
        let now = self.time.load(Ordering::Acquire);
        match self
            .tokens
            .cache
            .with(token, now, |slot| slot.waiters.len())
        {
            Lookup::Found(n) => n,
            Lookup::Missing(_) => 0,
        }
    }

    fn at(&self, ms: u64) {
        self.time.store(T0 + ms, Ordering::Release);
    }

    async fn mint(&self, seed: u8) -> Token {
        let token = Token::from_random([seed; 16]);
        assert_eq!(self.tokens.mint(token, 3).await, Ok(Minted::Minted));
        token
    }

    async fn put(&self, token: Token, name: &str, query: &str) -> Response {
        put_on(&self.tokens, token, name, query).await
    }

    /// A recursive wait on the token, parked in a task of its own.
    fn wait(&self, token: Token) -> tokio::task::JoinHandle<Response> {
        let tokens = self.tokens.clone();
        tokio::spawn(async move {
            let request = RawRequest {
                query: "recursive=true&wait=true",
                ..RawRequest::default()
            };
            tokens.keys(token, request).await
        })
    }

    /// A registration of `name`, in a task of its own.
    fn put_later(&self, token: Token, name: &'static str) -> tokio::task::JoinHandle<Response> {
        let tokens = self.tokens.clone();
        tokio::spawn(async move { put_on(&tokens, token, name, "prevExist=false").await })
    }

    async fn get(&self, token: Token, query: &str) -> Response {
        let request = RawRequest {
            query,
            ..RawRequest::default()
        };
        self.tokens.keys(token, request).await
    }
}

fn limits() -> Limits {
    Limits {
        token_lifetime_secs: 100,
        wait_timeout_secs: 10,
        ..Limits::default()
    }
}

fn members(r: &Response) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["node"]["nodes"]
        .as_array()
        .map(|nodes| {
            nodes
                .iter()
                .map(|n| {
                    n["key"]
                        .as_str()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_failed_write_acknowledges_nothing_and_refuses_the_writes_queued_behind_it() {
    let f = Fixture::new(limits());
    let token = f.mint(1).await;
    assert_eq!(f.put(token, "a", "prevExist=false").await.status, 201);
    // Two writes applied in memory and handed over; the first fails on disk.
    f.store.defer.store(true, Ordering::Release);
    let (b, c) = (f.put_later(token, "b"), f.put_later(token, "c"));
    wait_until(|| f.store.queue.lock().unwrap().len() == 2).await;
    f.store.fail.store(true, Ordering::Release);
    f.store.flush();
    f.store.fail.store(false, Ordering::Release);
    f.store.defer.store(false, Ordering::Release);
    for answer in [b.await.unwrap(), c.await.unwrap()] {
        assert_eq!(answer.status, 503, "{answer:?}");
    }
    // The token left memory with what the store refused; read again, it has only "a", and the
    // next write takes the index the refused one had.
    assert_eq!(members(&f.get(token, "").await), ["a"]);
    let d = f.put(token, "d", "prevExist=false").await;
    assert_eq!((d.status, d.header("X-Etcd-Index")), (201, Some("3")));
    assert_eq!(f.store.stored(token).len(), 4, "meta, the size, a and d");
}

/// A form PUT of `name` with `query`, as etcd sends it.
async fn put_on(tokens: &Tokens, token: Token, name: &str, query: &str) -> Response {
    let key = format!("/{name}");
    let request = RawRequest {
        method: Method::Put,
        key: &key,
        query,
        content_type: Some("application/x-www-form-urlencoded"),
        body: "value=x",
    };
    tokens.keys(token, request).await
}

async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("timed out");
}

#[tokio::test]
async fn a_read_that_raced_a_deletion_reads_again() {
    let f = Fixture::new(limits());
    let token = f.mint(2).await;
    assert_eq!(f.put(token, "a", "prevExist=false").await.status, 201);
    f.tokens.cache.removed(token);
    // A request reads the token from the store, and a deletion lands before the read is done.
    f.store.hold.store(true, Ordering::Release);
    let tokens = f.tokens.clone();
    let listing = tokio::spawn(async move { tokens.keys(token, RawRequest::default()).await });
    f.store.held.notified().await;
    f.tokens.delete(token).await.unwrap();
    f.store.release.notify_one();
    let answer = listing.await.unwrap();
    assert_eq!(
        answer.status, 404,
        "the stale read was not served: {answer:?}"
    );
    assert!(f.store.reads.load(Ordering::Acquire) >= 2, "it read again");
    assert_eq!(f.tokens.in_memory(), 0);
}

#[tokio::test]
async fn idle_tokens_leave_memory_but_not_with_waits_or_unstored_writes() {
    let f = Fixture::new(limits());
    let token = f.mint(3).await;
    assert_eq!(f.tokens.in_memory(), 0, "minting keeps nothing in memory");
    f.get(token, "").await;
    assert_eq!(f.tokens.in_memory(), 1);
    f.at(IDLE_MS - 1);
    assert_eq!(f.tokens.evict_idle(), 0);
    f.at(IDLE_MS);
    assert_eq!(f.tokens.evict_idle(), 1);
    assert_eq!(f.tokens.in_memory(), 0);
    // A parked wait keeps its token.
    let wait = f.wait(token);
    wait_until(|| f.parked(token) == 1).await;
    f.at(3 * IDLE_MS);
    assert_eq!(f.tokens.evict_idle(), 0, "a wait is parked");
    // A write not stored yet keeps it too, and answers the wait only once stored.
    f.store.defer.store(true, Ordering::Release);
    let put = f.put_later(token, "a");
    wait_until(|| f.store.queue.lock().unwrap().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!wait.is_finished(), "woken only once the write is stored");
    f.at(5 * IDLE_MS);
    f.store.flush();
    let woke = wait.await.unwrap();
    assert!(woke.body.contains("\"action\":\"create\""), "{woke:?}");
    assert_eq!(put.await.unwrap().status, 201);
    f.at(7 * IDLE_MS);
    assert_eq!(f.tokens.evict_idle(), 1);
}

#[tokio::test]
async fn the_alarm_moves_with_ttls_is_stored_again_once_fired_and_ends_the_token() {
    let f = Fixture::new(limits());
    let token = f.mint(4).await;
    let end = T0 + 100_000;
    assert_eq!(f.store.alarm(token), Some(end));
    f.at(1_000);
    assert_eq!(f.put(token, "t", "ttl=5").await.status, 201);
    assert_eq!(
        f.store.alarm(token),
        Some(T0 + 6_000),
        "the TTL comes first"
    );
    // It fires: the TTL expires with an event, and the alarm goes back to the token's end.
    f.at(6_000);
    f.tokens.alarm(token).await.unwrap();
    assert_eq!(f.store.alarm(token), Some(end));
    assert!(members(&f.get(token, "").await).is_empty());
    // Out of memory, a stale alarm firing finds nothing due and stores the alarm again.
    f.at(6_000 + IDLE_MS);
    f.tokens.evict_idle();
    f.store.alarms.lock().unwrap().insert(token, T0 + 7_000);
    f.tokens.alarm(token).await.unwrap();
    assert_eq!(f.store.alarm(token), Some(end));
    // At its end: a parked wait ends idle with the token's index, then everything is deleted.
    let wait = f.wait(token);
    wait_until(|| f.parked(token) == 1).await;
    f.at(100_000);
    f.tokens.alarm(token).await.unwrap();
    let ended = wait.await.unwrap();
    assert_eq!(
        (
            ended.status,
            ended.body.as_str(),
            ended.header("X-Etcd-Index")
        ),
        (200, "", Some("3"))
    );
    assert!(f.store.stored(token).is_empty());
    assert_eq!(f.store.alarm(token), None);
    assert_eq!(f.get(token, "").await.status, 404);
}

#[tokio::test]
async fn waits_end_at_the_cores_deadline_and_at_shutdown_with_the_index() {
    let f = Fixture::new(limits());
    let token = f.mint(5).await;
    let wait = f.wait(token);
    wait_until(|| f.parked(token) == 1).await;
    f.at(9_999);
    f.tokens.end_idle_waits();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!wait.is_finished(), "before its deadline");
    f.at(10_000);
    f.tokens.end_idle_waits();
    let idle = wait.await.unwrap();
    assert_eq!(
        (idle.status, idle.body.as_str(), idle.header("X-Etcd-Index")),
        (200, "", Some("1"))
    );
    // At shutdown every wait ends, and a new one ends at once.
    let wait = f.wait(token);
    wait_until(|| f.parked(token) == 1).await;
    f.tokens.end_waits();
    assert_eq!(wait.await.unwrap().body, "");
    let r = f.get(token, "recursive=true&wait=true").await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
}

#[tokio::test]
async fn events_without_meta_are_deleted_at_start_and_when_met() {
    let f = Fixture::new(limits());
    let (a, b) = (Token::from_random([6; 16]), Token::from_random([7; 16]));
    for token in [a, b] {
        let (_, mut effects): (TokenState, Effects) = TokenState::mint(token, 3, T0, &limits());
        effects.store.retain(|(k, _)| k != META_KEY);
        f.store
            .write(&Job {
                token,
                ops: Op::from_effects(&mut effects),
                mint: false,
                gate: Arc::default(),
                seq: 1,
            })
            .unwrap();
    }
    // Met by a request: deleted, and answered as a token never minted.
    assert_eq!(f.get(a, "").await.status, 404);
    assert!(f.store.stored(a).is_empty());
    // The rest, at start.
    assert_eq!(f.tokens.purge_orphans().await, Ok(1));
    assert!(f.store.stored(b).is_empty());
    assert_eq!(f.store.alarm(b), None);
}

#[tokio::test]
async fn a_taken_token_is_told_apart_from_storage_trouble() {
    let f = Fixture::new(limits());
    let token = f.mint(8).await;
    assert_eq!(f.tokens.mint(token, 3).await, Ok(Minted::Taken));
    f.store.fail.store(true, Ordering::Release);
    let other = Token::from_random([9; 16]);
    assert!(f.tokens.mint(other, 3).await.is_err());
    f.store.fail.store(false, Ordering::Release);
    assert_eq!(f.get(other, "").await.status, 404, "nothing was stored");
}

/// Two replicas sharing one store: a second `Tokens` over the fixture's store and clock.
fn replica(f: &Fixture) -> Arc<Tokens> {
    let t = f.time.clone();
    Arc::new(Tokens::new(
        f.store.clone(),
        limits(),
        Arc::new(Alarms::default()),
        Arc::new(move || t.load(Ordering::Acquire)),
    ))
}

#[tokio::test]
async fn members_racing_through_two_replicas_agree_on_one_order() {
    let f = Fixture::new(limits());
    let b = replica(&f);
    let token = f.mint(1).await;
    // Both replicas hold the token in memory, as it was after the mint.
    assert_eq!(f.get(token, "").await.status, 200);
    assert_eq!(b.keys(token, RawRequest::default()).await.status, 200);
    // A stores m1; B has not heard of it and applies m2 to what it holds: the same index.
    assert_eq!(f.put(token, "m1", "prevExist=false").await.status, 201);
    let second = put_on(&b, token, "m2", "prevExist=false").await;
    assert_eq!(
        second.status, 201,
        "B read the token again and applied m2 after m1"
    );
    assert!(
        second.body.contains("\"createdIndex\":3"),
        "{}",
        second.body
    );
    // m1 again, through B: etcd's "already exists", never a second m1.
    let again = put_on(&b, token, "m1", "prevExist=false").await;
    assert_eq!(again.status, 412, "{}", again.body);
    f.store.deliver(&[&f.tokens, &b]);
    let order_a = members(&f.get(token, "recursive=true").await);
    let order_b = members(
        &b.keys(
            token,
            RawRequest {
                query: "recursive=true",
                ..RawRequest::default()
            },
        )
        .await,
    );
    assert_eq!(order_a, ["m1", "m2"]);
    assert_eq!(order_a, order_b);
    assert_eq!(
        f.store.stored(token),
        [
            "e/00000000000000000001",
            "e/00000000000000000002",
            "e/00000000000000000003",
            "meta"
        ]
    );
}

#[tokio::test]
async fn a_wait_parked_on_one_replica_is_answered_by_a_write_through_another() {
    let f = Fixture::new(limits());
    let b = replica(&f);
    let token = f.mint(2).await;
    let waiting = f.wait(token);
    wait_until(|| f.parked(token) == 1).await;
    assert_eq!(put_on(&b, token, "m1", "prevExist=false").await.status, 201);
    tokio::task::yield_now().await;
    assert!(
        !waiting.is_finished(),
        "not before the store's watch tells A"
    );
    f.store.deliver(&[&f.tokens, &b]);
    let answer = waiting.await.unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("/m1\""), "{}", answer.body);
}

#[tokio::test]
async fn waits_on_a_replica_that_lost_a_race_are_answered_idle_and_ask_again() {
    let f = Fixture::new(limits());
    let b = replica(&f);
    let token = f.mint(3).await;
    let waiting = f.wait(token);
    wait_until(|| f.parked(token) == 1).await;
    // Both replicas apply a registration as event 2 before either is stored: B's first.
    f.store.defer.store(true, Ordering::Release);
    let b_put = {
        let b = b.clone();
        tokio::spawn(async move { put_on(&b, token, "m1", "prevExist=false").await })
    };
    wait_until(|| f.store.queue.lock().unwrap().len() == 1).await;
    let a_put = f.put_later(token, "m2");
    wait_until(|| f.store.queue.lock().unwrap().len() == 2).await;
    f.store.defer.store(false, Ordering::Release);
    f.store.flush();
    // A's m2 lost event 2 to B's m1: A applied it again after m1, and its wait, which A's m2
    // had answered, is not told of it: it ends idle, and its member waits again.
    assert_eq!(b_put.await.unwrap().status, 201);
    let a = a_put.await.unwrap();
    assert_eq!(a.status, 201);
    assert!(a.body.contains("\"createdIndex\":3"), "{}", a.body);
    let answer = waiting.await.unwrap();
    assert_eq!((answer.status, answer.body.as_str()), (200, ""));
    let got = f.get(token, "recursive=true").await;
    assert_eq!(members(&got), ["m1", "m2"]);
}

#[tokio::test]
async fn a_read_through_a_replica_not_yet_told_of_a_write_still_shows_it() {
    let f = Fixture::new(limits());
    let b = replica(&f);
    let token = f.mint(4).await;
    assert_eq!(
        b.keys(token, RawRequest::default()).await.status,
        200,
        "B holds it"
    );
    // A member registers through A, then lists through B before B's watch told it.
    assert_eq!(f.put(token, "m1", "prevExist=false").await.status, 201);
    let listing = b
        .keys(
            token,
            RawRequest {
                query: "recursive=true",
                ..RawRequest::default()
            },
        )
        .await;
    assert_eq!(members(&listing), ["m1"], "{}", listing.body);
    assert_eq!(listing.header("X-Etcd-Index"), Some("2"));
    // An update of that key through B is not refused as "not found".
    let update = put_on(&b, token, "m1", "prevExist=true").await;
    assert_eq!(update.status, 200, "{}", update.body);
}

#[tokio::test]
async fn a_replica_reads_the_store_first_only_for_answers_from_memory() {
    let f = Fixture::new(limits());
    let b = replica(&f);
    let token = f.mint(5).await;
    let listing = RawRequest {
        query: "recursive=true",
        ..RawRequest::default()
    };
    assert_eq!(b.keys(token, listing).await.status, 200, "B holds it");
    let catch_ups = || f.store.catch_ups.load(Ordering::Acquire);
    let before = catch_ups();
    // A registration is stored only if it follows what is stored: nothing to read first.
    assert_eq!(put_on(&b, token, "m0", "prevExist=false").await.status, 201);
    assert_eq!(catch_ups(), before);
    // A wait from an index is answered by events stored already or by the watch: the same.
    let wait = RawRequest {
        query: "recursive=true&wait=true&waitIndex=2",
        ..RawRequest::default()
    };
    assert_eq!(b.keys(token, wait).await.status, 200);
    assert_eq!(catch_ups(), before);
    // m1 registers through A; B has not heard of it. An update of m1 through B, refused from
    // what B holds ("not found"), is refused only after a fresh read, which finds m1.
    assert_eq!(f.put(token, "m1", "prevExist=false").await.status, 201);
    let update = put_on(&b, token, "m1", "prevExist=true").await;
    assert_eq!(update.status, 200, "{}", update.body);
    assert_eq!(catch_ups(), before + 1);
    // A listing always reads first.
    assert_eq!(members(&b.keys(token, listing).await), ["m0", "m1"]);
    assert_eq!(catch_ups(), before + 2);
}
