//! The registry of one token as a state machine with no I/O.
//!
//! The shell hands it requests with the time; it answers with the events to store, the reply, and
//! the parked waits that the change answers. Events are applied in memory at once, so two racing
//! creates of one key cannot both succeed; the shell stores them before it sends any answer, and
//! drops the whole registry if storing fails (it is rebuilt from storage by `restore`).

mod event;
mod key;
mod wait;

use std::collections::BTreeMap;

pub use event::{Event, Stored};
pub use key::{Key, MAX_NAME_LEN};
pub use wait::{WaitId, Waits};

use crate::time::{rfc3339, ttl_secs};
use crate::v2::{Action, ErrorCode, EtcdError, EventBody, KeysRequest, Node, Op, Reply};
use crate::{Limits, Token};

/// What the shell must do for one request.
#[derive(Debug)]
pub struct Outcome {
    /// Store these, in order and atomically, before answering anything.
    pub events: Vec<Event>,
    pub answer: Answer,
    /// Parked waits these events answer, oldest first: send after storing.
    pub woken: Vec<(WaitId, Reply)>,
}

impl Outcome {
    /// An answer that changes nothing.
    pub fn reply(reply: Reply) -> Outcome {
        Outcome {
            events: Vec::new(),
            answer: Answer::Reply(reply),
            woken: Vec::new(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Reply(Reply),
    /// Hold the request until `woken` names it, or end it idle with `Registry::cancel_wait`.
    Parked(WaitId),
}

/// A write made for another protocol than v2's (etcd v3's `Put`): the same rules, limits and
/// events as a v2 PUT, with the refusal kept typed instead of rendered as v2's JSON.
#[derive(Debug)]
pub struct Written {
    /// Store these, in order and atomically, before answering.
    pub events: Vec<Event>,
    /// Parked v2 waits these events answer: send after storing.
    pub woken: Vec<(WaitId, Reply)>,
    /// The index of the write, or why it was refused.
    pub result: Result<u64, EtcdError>,
}

/// Why stored events could not be replayed; the shell answers 503 and writes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreError(pub String);

#[derive(Debug, Clone)]
pub struct Registry {
    token: Token,
    limits: Limits,
    size: Option<Stored>,
    members: BTreeMap<String, Stored>,
    /// The first `size` members by `createdIndex`, fixed once that many have registered.
    founders: Option<Vec<String>>,
    index: u64,
    history: Vec<Event>,
    waits: Waits,
}

impl Registry {
    /// A token nobody minted: every key reads as not found.
    pub fn new(token: Token, limits: Limits) -> Registry {
        Registry {
            token,
            limits,
            size: None,
            members: BTreeMap::new(),
            founders: None,
            index: 0,
            history: Vec::new(),
            waits: Waits::default(),
        }
    }

    /// Rebuilds a registry from its stored events (any order). They must number 1, 2, 3, ...
    pub fn restore(
        token: Token,
        limits: Limits,
        mut events: Vec<Event>,
    ) -> Result<Registry, RestoreError> {
        events.sort_by_key(|e| e.index);
        let mut r = Registry::new(token, limits);
        for e in events {
            if e.index != r.index + 1 {
                return Err(RestoreError(format!(
                    "stored events skip from index {} to {}",
                    r.index, e.index
                )));
            }
            let key = Key::parse(&e.key)
                .map_err(|why| RestoreError(format!("stored event {}: {why}", e.index)))?;
            if r.size.is_none() && key != Key::Size {
                return Err(RestoreError(
                    "the first stored event is not the size".into(),
                ));
            }
            r.apply(&key, e);
        }
        Ok(r)
    }

    pub fn token(&self) -> Token {
        self.token
    }

    pub fn index(&self) -> u64 {
        self.index
    }

    pub fn is_minted(&self) -> bool {
        self.size.is_some()
    }

    /// The cluster size this token was minted with.
    pub fn size(&self) -> Option<u64> {
        self.size.as_ref().and_then(|s| s.value.parse().ok())
    }

    pub fn history(&self) -> &[Event] {
        &self.history
    }

    /// Member names in `createdIndex` order, the order etcd members sort them in.
    pub fn members_in_order(&self) -> Vec<&str> {
        let mut v: Vec<(&String, &Stored)> = self.members.iter().collect();
        v.sort_by_key(|(_, s)| s.created);
        v.into_iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The members that form the cluster, once `size` of them have registered.
    pub fn founders(&self) -> Option<&[String]> {
        self.founders.as_deref()
    }

    pub fn parked_waits(&self) -> usize {
        self.waits.len()
    }

    /// When the next member's TTL runs out, for the shell's alarm.
    pub fn next_expiry(&self) -> Option<u64> {
        self.members.values().filter_map(|s| s.expires_at).min()
    }

    /// Writes `_config/size`: the first event of every token.
    pub fn mint(&mut self, size: u64, now: u64) -> Result<Event, EtcdError> {
        if self.is_minted() {
            return Err(self.error(ErrorCode::NodeExist, Key::Size.path(&self.token)));
        }
        let event = Event {
            index: self.index + 1,
            action: Action::Create,
            key: Key::Size.stored_name().to_string(),
            at: now,
            node: Some(Stored {
                value: size.to_string(),
                created: self.index + 1,
                modified: self.index + 1,
                expires_at: None,
            }),
            prev: None,
        };
        self.apply(&Key::Size, event.clone());
        Ok(event)
    }

    /// Expires members whose TTL has run out (the shell's alarm calls this; so does every request).
    pub fn tick(&mut self, now: u64) -> (Vec<Event>, Vec<(WaitId, Reply)>) {
        let mut events = Vec::new();
        let mut woken = Vec::new();
        while let Some((name, stored)) = self
            .members
            .iter()
            .filter(|(_, s)| s.expires_at.is_some_and(|t| t <= now))
            .min_by_key(|(n, s)| (s.expires_at, n.as_str()))
            .map(|(n, s)| (n.clone(), s.clone()))
        {
            let event = Event {
                index: self.index + 1,
                action: Action::Expire,
                key: name.clone(),
                at: now,
                node: None,
                prev: Some(stored),
            };
            woken.extend(self.commit(&Key::Member(name), event.clone()));
            events.push(event);
        }
        (events, woken)
    }

    /// Answers one keys request at time `now` (Unix milliseconds).
    pub fn handle(&mut self, req: &KeysRequest, now: u64) -> Outcome {
        let (mut events, mut woken) = self.tick(now);
        let answer = match self.answer(req, now) {
            Ok(Step::Reply(reply)) => Answer::Reply(reply),
            Ok(Step::Park(id)) => Answer::Parked(id),
            Ok(Step::Write { key, event, status }) => {
                let reply = Reply::event(status, event.index, &self.render_event(&key, &event));
                woken.extend(self.commit(&key, event.clone()));
                events.push(event);
                Answer::Reply(reply)
            }
            Err(e) => Answer::Reply(Reply::error(&e)),
        };
        Outcome {
            events,
            answer,
            woken,
        }
    }

    /// Carries out a write (`req` a PUT or DELETE) at time `now`, keeping a refusal typed.
    pub fn write(&mut self, req: &KeysRequest, now: u64) -> Written {
        let (mut events, mut woken) = self.tick(now);
        let result = match self.answer(req, now) {
            Ok(Step::Write { key, event, .. }) => {
                let index = event.index;
                woken.extend(self.commit(&key, event.clone()));
                events.push(event);
                Ok(index)
            }
            // Reads and waits are not writes: nothing to do for them here.
            Ok(Step::Reply(_) | Step::Park(_)) => Ok(self.index),
            Err(e) => Err(e),
        };
        Written {
            events,
            woken,
            result,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The size key as stored, once minted.
    pub fn size_stored(&self) -> Option<&Stored> {
        self.size.as_ref()
    }

    /// Every member key as stored, by name.
    pub fn members(&self) -> impl Iterator<Item = (&str, &Stored)> {
        self.members.iter().map(|(n, s)| (n.as_str(), s))
    }

    /// Forgets a parked wait and gives the empty 200 that ends it.
    pub fn cancel_wait(&mut self, id: WaitId) -> Reply {
        self.waits.cancel(id);
        Reply::idle(self.index)
    }

    fn answer(&mut self, req: &KeysRequest, now: u64) -> Result<Step, EtcdError> {
        let parsed = Key::parse(&req.key);
        if !self.is_minted() {
            let cause = match &parsed {
                Ok(k) => k.path(&self.token),
                Err(_) => format!("{}{}", Key::Dir.path(&self.token), req.key),
            };
            return Err(self.error(ErrorCode::KeyNotFound, cause));
        }
        let key = match (parsed, &req.op) {
            (Ok(k), _) => k,
            (Err(why), Op::Put { .. }) => return Err(self.error(ErrorCode::InvalidField, why)),
            (Err(_), _) => {
                let cause = format!("{}{}", Key::Dir.path(&self.token), req.key);
                return Err(self.error(ErrorCode::KeyNotFound, cause));
            }
        };
        match &req.op {
            Op::Get {
                wait: Some(since),
                recursive,
                ..
            } => Ok(self.wait(key, *recursive, *since)),
            Op::Get { sorted, .. } => {
                let node = self.get(&key, *sorted, now)?;
                let body = EventBody {
                    action: Action::Get,
                    node: Some(node),
                    prev_node: None,
                };
                Ok(Step::Reply(Reply::event(200, self.index, &body)))
            }
            Op::Put {
                value,
                prev_exist,
                prev_value,
                prev_index,
                ttl,
            } => self.put(
                key,
                value,
                *prev_exist,
                prev_value.as_deref(),
                *prev_index,
                *ttl,
                now,
            ),
            Op::Delete {
                prev_value,
                prev_index,
            } => self.delete(key, prev_value.as_deref(), *prev_index, now),
        }
    }

    fn wait(&mut self, key: Key, recursive: bool, wait_index: u64) -> Step {
        let since = if wait_index == 0 {
            self.index + 1
        } else {
            wait_index
        };
        // Events are numbered from 1 with no gaps, so the history starts at position since-1.
        let from = usize::try_from(since.saturating_sub(1)).unwrap_or(usize::MAX);
        let found = self
            .history
            .iter()
            .skip(from)
            .find(|e| Key::parse(&e.key).is_ok_and(|k| key.woken_by(recursive, &k)));
        match found {
            Some(e) => {
                let event_key = Key::parse(&e.key).unwrap_or(Key::Dir);
                let body = self.render_event(&event_key, e);
                Step::Reply(Reply::event(200, self.index, &body))
            }
            None if self.waits.len() >= self.limits.max_waits => {
                let e = self.error(
                    ErrorCode::NoMorePeer,
                    format!(
                        "this token already holds {} waits, the most this service parks at once",
                        self.waits.len()
                    ),
                );
                Step::Reply(Reply::too_many(&e, self.limits.wait_timeout_secs))
            }
            None => Step::Park(self.waits.park(key, recursive, since, self.index)),
        }
    }

    fn get(&self, key: &Key, sorted: bool, now: u64) -> Result<Node, EtcdError> {
        let t = &self.token;
        let dir_index = 1;
        match key {
            Key::Dir => {
                let mut names = self.members_in_order();
                if sorted {
                    names.sort_unstable();
                }
                let nodes = names
                    .into_iter()
                    .filter_map(|n| {
                        let s = self.members.get(n)?;
                        Some(render(&Key::Member(n.to_string()), t, s, now))
                    })
                    .collect();
                Ok(Node {
                    key: key.path(t),
                    dir: true,
                    nodes,
                    modified_index: dir_index,
                    created_index: dir_index,
                    ..Node::default()
                })
            }
            Key::ConfigDir => Ok(Node {
                key: key.path(t),
                dir: true,
                nodes: self
                    .size
                    .iter()
                    .map(|s| render(&Key::Size, t, s, now))
                    .collect(),
                modified_index: dir_index,
                created_index: dir_index,
                ..Node::default()
            }),
            Key::Size => self
                .size
                .as_ref()
                .map(|s| render(key, t, s, now))
                .ok_or_else(|| self.error(ErrorCode::KeyNotFound, key.path(t))),
            Key::Member(n) => self
                .members
                .get(n)
                .map(|s| render(key, t, s, now))
                .ok_or_else(|| self.error(ErrorCode::KeyNotFound, key.path(t))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn put(
        &self,
        key: Key,
        value: &str,
        prev_exist: Option<bool>,
        prev_value: Option<&str>,
        prev_index: u64,
        ttl: Option<u64>,
        now: u64,
    ) -> Result<Step, EtcdError> {
        let path = key.path(&self.token);
        let name = match &key {
            Key::Dir | Key::ConfigDir => return Err(self.error(ErrorCode::NotFile, path)),
            Key::Size => {
                return Err(self.error(
                    ErrorCode::RootReadOnly,
                    format!("{path}: the size is fixed when the token is minted"),
                ))
            }
            Key::Member(n) => n,
        };
        if value.len() > self.limits.max_value_bytes {
            return Err(self.error(
                ErrorCode::InvalidField,
                format!(
                    "value is {} bytes: this service keeps at most {} per member",
                    value.len(),
                    self.limits.max_value_bytes
                ),
            ));
        }
        let existing = self.members.get(name);
        // Checked first and always: this is what stops a wiped machine from founding a second
        // cluster on a used token (etcd's "duplicate id").
        if prev_exist == Some(false) && existing.is_some() {
            return Err(self.error(ErrorCode::NodeExist, path));
        }
        if prev_exist == Some(true) && existing.is_none() {
            return Err(self.error(ErrorCode::KeyNotFound, path));
        }
        let compare = prev_value.is_some() || prev_index != 0;
        if compare {
            let Some(cur) = existing else {
                return Err(self.error(ErrorCode::KeyNotFound, path));
            };
            self.compare(cur, prev_value, prev_index)?;
        }
        self.check_not_founder(name, &path)?;
        if existing.is_none() && self.members.len() >= self.limits.max_members {
            return Err(self.error(
                ErrorCode::NoMorePeer,
                format!(
                    "this token already holds {} member keys, the most this service keeps",
                    self.members.len()
                ),
            ));
        }
        self.check_room()?;
        let index = self.index + 1;
        let action = match (prev_exist, compare) {
            (Some(false), _) => Action::Create,
            (_, true) => Action::CompareAndSwap,
            (Some(true), _) => Action::Update,
            (None, false) => Action::Set,
        };
        // A set replaces the node (a new createdIndex, as in etcd); update and CAS keep it.
        let created = match (existing, action) {
            (Some(cur), Action::Update | Action::CompareAndSwap) => cur.created,
            _ => index,
        };
        let status = if existing.is_none() { 201 } else { 200 };
        let event = Event {
            index,
            action,
            key: name.clone(),
            at: now,
            node: Some(Stored {
                value: value.to_string(),
                created,
                modified: index,
                expires_at: ttl.map(|t| now.saturating_add(t.saturating_mul(1000))),
            }),
            prev: existing.cloned(),
        };
        Ok(Step::Write { key, event, status })
    }

    fn delete(
        &self,
        key: Key,
        prev_value: Option<&str>,
        prev_index: u64,
        now: u64,
    ) -> Result<Step, EtcdError> {
        let path = key.path(&self.token);
        let name = match &key {
            Key::Dir | Key::ConfigDir => return Err(self.error(ErrorCode::NotFile, path)),
            Key::Size => {
                return Err(self.error(
                    ErrorCode::RootReadOnly,
                    format!("{path}: the size lives as long as the token"),
                ))
            }
            Key::Member(n) => n,
        };
        let Some(cur) = self.members.get(name) else {
            return Err(self.error(ErrorCode::KeyNotFound, path));
        };
        let compare = prev_value.is_some() || prev_index != 0;
        if compare {
            self.compare(cur, prev_value, prev_index)?;
        }
        self.check_not_founder(name, &path)?;
        self.check_room()?;
        let event = Event {
            index: self.index + 1,
            action: if compare {
                Action::CompareAndDelete
            } else {
                Action::Delete
            },
            key: name.clone(),
            at: now,
            node: None,
            prev: Some(cur.clone()),
        };
        Ok(Step::Write {
            key,
            event,
            status: 200,
        })
    }

    fn compare(&self, cur: &Stored, value: Option<&str>, index: u64) -> Result<(), EtcdError> {
        let value_ok = value.is_none_or(|v| v == cur.value);
        let index_ok = index == 0 || index == cur.modified;
        let cause = match (value_ok, index_ok) {
            (true, true) => return Ok(()),
            (false, true) => format!("[{} != {}]", value.unwrap_or(""), cur.value),
            (true, false) => format!("[{} != {}]", index, cur.modified),
            (false, false) => format!(
                "[{} != {}] [{} != {}]",
                value.unwrap_or(""),
                cur.value,
                index,
                cur.modified
            ),
        };
        Err(self.error(ErrorCode::TestFailed, cause))
    }

    /// Once `size` members have registered, the cluster has formed around them: changing or
    /// removing one would make later readers disagree on who the first `size` are.
    fn check_not_founder(&self, name: &str, path: &str) -> Result<(), EtcdError> {
        match &self.founders {
            Some(f) if f.iter().any(|n| n == name) => Err(self.error(
                ErrorCode::RootReadOnly,
                format!(
                    "{path} is one of the {} founding members of this full token and cannot change; mint a new token for a new cluster",
                    f.len()
                ),
            )),
            _ => Ok(()),
        }
    }

    fn check_room(&self) -> Result<(), EtcdError> {
        if self.index >= self.limits.max_events {
            return Err(self.error(
                ErrorCode::NoMorePeer,
                format!(
                    "this token has recorded {} changes, the most this service keeps for one token",
                    self.index
                ),
            ));
        }
        Ok(())
    }

    /// Applies an event and takes out the parked waits it answers, with their replies.
    fn commit(&mut self, key: &Key, event: Event) -> Vec<(WaitId, Reply)> {
        let woken = self.waits.take_woken(key, event.index);
        // One body for every wait it answers (hundreds may be parked on one token); only the
        // index each wait started at differs.
        let body =
            (!woken.is_empty()).then(|| Reply::event(200, 0, &self.render_event(key, &event)));
        self.apply(key, event);
        let Some(body) = body else {
            return Vec::new();
        };
        woken
            .into_iter()
            .map(|(id, start)| {
                let reply = Reply {
                    etcd_index: start,
                    ..body.clone()
                };
                (id, reply)
            })
            .collect()
    }

    /// The one state transition, shared by live writes and replay.
    fn apply(&mut self, key: &Key, event: Event) {
        match key {
            Key::Size => self.size = event.node.clone(),
            Key::Member(n) => match &event.node {
                Some(s) => {
                    self.members.insert(n.clone(), s.clone());
                }
                None => {
                    self.members.remove(n);
                }
            },
            Key::Dir | Key::ConfigDir => {}
        }
        self.index = event.index;
        self.history.push(event);
        self.freeze_founders();
    }

    fn freeze_founders(&mut self) {
        let Some(size) = self.size() else { return };
        if self.founders.is_some() || (self.members.len() as u64) < size {
            return;
        }
        let founders: Vec<String> = self
            .members_in_order()
            .into_iter()
            .take(size as usize)
            .map(str::to_string)
            .collect();
        // A founder's TTL ends here: the cluster now depends on its entry.
        for n in &founders {
            if let Some(s) = self.members.get_mut(n) {
                s.expires_at = None;
            }
        }
        self.founders = Some(founders);
    }

    fn render_event(&self, key: &Key, e: &Event) -> EventBody {
        let t = &self.token;
        let node = match (&e.node, &e.prev) {
            (Some(s), _) => render(key, t, s, e.at),
            (None, prev) => Node {
                key: key.path(t),
                modified_index: e.index,
                created_index: prev.as_ref().map_or(e.index, |p| p.created),
                ..Node::default()
            },
        };
        EventBody {
            action: e.action,
            node: Some(node),
            prev_node: e.prev.as_ref().map(|p| render(key, t, p, e.at)),
        }
    }

    fn error(&self, code: ErrorCode, cause: impl Into<String>) -> EtcdError {
        EtcdError::new(code, cause, self.index)
    }
}

enum Step {
    Reply(Reply),
    Park(WaitId),
    Write { key: Key, event: Event, status: u16 },
}

fn render(key: &Key, token: &Token, s: &Stored, now: u64) -> Node {
    Node {
        key: key.path(token),
        value: Some(s.value.clone()),
        expiration: s.expires_at.map(rfc3339),
        ttl: s.expires_at.map_or(0, |t| ttl_secs(t, now)),
        modified_index: s.modified,
        created_index: s.created,
        ..Node::default()
    }
}

#[cfg(test)]
mod tests;
