//! The registry of one token as a state machine with no I/O.
//!
//! The shell hands it requests with the time; it answers with the events to store, the reply, and
//! the parked waits that the change answers. Events are applied in memory at once, so two racing
//! creates of one key cannot both succeed; the shell stores them before it sends any answer, and
//! drops the whole registry if storing fails (it is rebuilt from storage by `restore`).
//!
//! This file holds the state and its one transition; `keys.rs` reads etcd v2 requests onto it,
//! `shared::v3` etcd v3 ones.

mod event;
mod key;
mod keys;
mod refused;
mod wait;

use std::collections::BTreeMap;

pub use event::{Event, Stored};
pub use key::{Key, MAX_NAME_LEN};
pub use keys::{Answer, Outcome};
pub use refused::Refused;
pub use wait::{Parked, WaitId, Waits};

use crate::v2::{render, Action, Reply};
use crate::{Limits, Token};

/// A write of one key, as v2's PUT and v3's Put ask it, with etcd's conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Put {
    pub value: String,
    /// `Some(false)`: create only; `Some(true)`: update only; `None`: either.
    pub prev_exist: Option<bool>,
    pub prev_value: Option<String>,
    /// `0` is no condition, as in etcd.
    pub prev_index: u64,
    /// Seconds the key lives, unless the token fills first.
    pub ttl: Option<u64>,
}

/// A deletion of one key, with etcd's conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delete {
    pub prev_value: Option<String>,
    /// `0` is no condition.
    pub prev_index: u64,
}

/// A change the registry made: store `event`, then send `woken` (the parked waits it answers).
#[derive(Debug)]
pub struct Change {
    pub event: Event,
    pub status: u16,
    pub woken: Vec<(WaitId, Reply)>,
}

/// A write made for another protocol than v2's (etcd v3's `Put`): the same rules, limits and
/// events as a v2 PUT, with the refusal kept typed.
#[derive(Debug)]
pub struct Written {
    /// Store these, in order and atomically, before answering.
    pub events: Vec<Event>,
    /// Parked waits these events answer: send after storing.
    pub woken: Vec<(WaitId, Reply)>,
    /// The index of the write, or why it was refused.
    pub result: Result<u64, Refused>,
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
            if Some(e.index) != r.index.checked_add(1) {
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

    /// Takes in events another writer stored (a replica beside this one, through the shared
    /// store), as if they had been written here: the parked waits they answer are woken. Events
    /// this registry has already are passed over; one that does not follow on is a gap, and the
    /// shell reads the token again instead.
    pub fn absorb(&mut self, mut events: Vec<Event>) -> Result<Vec<(WaitId, Reply)>, RestoreError> {
        events.sort_by_key(|e| e.index);
        let mut woken = Vec::new();
        let known = self.index;
        for e in events.into_iter().filter(|e| e.index > known) {
            if Some(e.index) != self.index.checked_add(1) {
                return Err(RestoreError(format!(
                    "events written elsewhere skip from index {} to {}",
                    self.index, e.index
                )));
            }
            let key = Key::parse(&e.key).map_err(|why| {
                RestoreError(format!("event {} written elsewhere: {why}", e.index))
            })?;
            woken.extend(self.commit(&key, e));
        }
        Ok(woken)
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

    /// One member key as stored.
    pub fn member(&self, name: &str) -> Option<&Stored> {
        self.members.get(name)
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
    pub fn mint(&mut self, size: u64, now: u64) -> Result<Event, Refused> {
        let path = Key::Size.path(&self.token);
        if self.is_minted() {
            return Err(Refused::Exists { path });
        }
        let index = self.next_index()?;
        let event = Event {
            index,
            action: Action::Create,
            key: Key::Size.stored_name().to_string(),
            at: now,
            node: Some(Stored {
                value: size.to_string(),
                created: index,
                modified: index,
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
            let Ok(index) = self.next_index() else { break };
            let event = Event {
                index,
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

    /// Writes `key` as `put` asks, at `now`.
    pub fn put(&mut self, key: &Key, put: &Put, now: u64) -> Result<Change, Refused> {
        let (event, status) = self.check_put(key, put, now)?;
        let woken = self.commit(key, event.clone());
        Ok(Change {
            event,
            status,
            woken,
        })
    }

    /// Deletes `key` as `delete` asks, at `now`.
    pub fn delete(&mut self, key: &Key, delete: &Delete, now: u64) -> Result<Change, Refused> {
        let event = self.check_delete(key, delete, now)?;
        let woken = self.commit(key, event.clone());
        Ok(Change {
            event,
            status: 200,
            woken,
        })
    }

    /// A put for another protocol (v3): due TTLs expire first, as before any v2 request.
    pub fn write(&mut self, key: &Key, put: &Put, now: u64) -> Written {
        let (mut events, mut woken) = self.tick(now);
        let result = self.put(key, put, now).map(|change| {
            let index = change.event.index;
            events.push(change.event);
            woken.extend(change.woken);
            index
        });
        Written {
            events,
            woken,
            result,
        }
    }

    /// Parks a wait for the first event after `since - 1` on `key` (or below it, `recursive`),
    /// ending idle at `now` plus `WAIT_TIMEOUT_SECONDS`; refused when the token holds as many
    /// waits as it may.
    pub fn park(
        &mut self,
        key: Key,
        recursive: bool,
        since: u64,
        now: u64,
    ) -> Result<Parked, Refused> {
        if self.waits.len() >= self.limits.max_waits {
            return Err(Refused::TooManyWaits {
                held: self.waits.len(),
            });
        }
        let until = now.saturating_add(self.limits.wait_timeout_secs.saturating_mul(1000));
        Ok(self.waits.park(key, recursive, since, self.index, until))
    }

    /// The soonest time a parked wait ends idle.
    pub fn next_wait_deadline(&self) -> Option<u64> {
        self.waits.next_deadline()
    }

    /// Ends the waits whose deadline has come by `now`, each with the empty 200 etcd members
    /// answer by waiting again.
    pub fn end_idle_waits(&mut self, now: u64) -> Vec<(WaitId, Reply)> {
        let index = self.index;
        let due = self.waits.take_due(now);
        due.into_iter().map(|id| (id, Reply::idle(index))).collect()
    }

    /// Ends every parked wait with the idle answer: the registry is going (its token ended, a
    /// write failed, the server stops), and etcd members send their waits again.
    pub fn end_all_waits(&mut self) -> Vec<(WaitId, Reply)> {
        let index = self.index;
        let all = self.waits.take_all();
        all.into_iter().map(|id| (id, Reply::idle(index))).collect()
    }

    /// Forgets a parked wait (its client left) and gives the idle answer that ends it.
    pub fn cancel_wait(&mut self, id: WaitId) -> Reply {
        self.waits.cancel(id);
        Reply::idle(self.index)
    }

    /// The index the next event gets, or the refusal once the token has recorded all it may.
    fn next_index(&self) -> Result<u64, Refused> {
        self.index.checked_add(1).ok_or(Refused::TooManyEvents {
            recorded: self.index,
        })
    }

    fn check_put(&self, key: &Key, put: &Put, now: u64) -> Result<(Event, u16), Refused> {
        let path = key.path(&self.token);
        if !self.is_minted() {
            return Err(Refused::NotMinted { path });
        }
        let name = match key {
            Key::Dir | Key::ConfigDir => return Err(Refused::NotAFile { path }),
            Key::Size => {
                return Err(Refused::SizeFixed {
                    path,
                    deleting: false,
                })
            }
            Key::Member(n) => n,
        };
        if put.value.len() > self.limits.max_value_bytes {
            return Err(Refused::ValueTooLarge {
                len: put.value.len(),
                max: self.limits.max_value_bytes,
            });
        }
        let existing = self.members.get(name);
        // Checked first and always: this is what stops a wiped machine from founding a second
        // cluster on a used token (etcd's "duplicate id").
        if put.prev_exist == Some(false) && existing.is_some() {
            return Err(Refused::Exists { path });
        }
        if put.prev_exist == Some(true) && existing.is_none() {
            return Err(Refused::NoSuchKey { path });
        }
        let compare = put.prev_value.is_some() || put.prev_index != 0;
        if compare {
            let Some(cur) = existing else {
                return Err(Refused::NoSuchKey { path });
            };
            compare_with(cur, put.prev_value.as_deref(), put.prev_index)?;
        }
        self.check_not_founder(name, &path)?;
        if existing.is_none() && self.members.len() >= self.limits.max_members {
            return Err(Refused::TooManyMembers {
                held: self.members.len(),
            });
        }
        self.check_room()?;
        let index = self.next_index()?;
        let action = match (put.prev_exist, compare) {
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
                value: put.value.clone(),
                created,
                modified: index,
                expires_at: put.ttl.map(|t| now.saturating_add(t.saturating_mul(1000))),
            }),
            prev: existing.cloned(),
        };
        Ok((event, status))
    }

    fn check_delete(&self, key: &Key, delete: &Delete, now: u64) -> Result<Event, Refused> {
        let path = key.path(&self.token);
        if !self.is_minted() {
            return Err(Refused::NotMinted { path });
        }
        let name = match key {
            Key::Dir | Key::ConfigDir => return Err(Refused::NotAFile { path }),
            Key::Size => {
                return Err(Refused::SizeFixed {
                    path,
                    deleting: true,
                })
            }
            Key::Member(n) => n,
        };
        let Some(cur) = self.members.get(name) else {
            return Err(Refused::NoSuchKey { path });
        };
        let compare = delete.prev_value.is_some() || delete.prev_index != 0;
        if compare {
            compare_with(cur, delete.prev_value.as_deref(), delete.prev_index)?;
        }
        self.check_not_founder(name, &path)?;
        self.check_room()?;
        Ok(Event {
            index: self.next_index()?,
            action: if compare {
                Action::CompareAndDelete
            } else {
                Action::Delete
            },
            key: name.clone(),
            at: now,
            node: None,
            prev: Some(cur.clone()),
        })
    }

    /// Once `size` members have registered, the cluster has formed around them: changing or
    /// removing one would make later readers disagree on who the first `size` are.
    fn check_not_founder(&self, name: &str, path: &str) -> Result<(), Refused> {
        match &self.founders {
            Some(f) if f.iter().any(|n| n == name) => Err(Refused::Founder {
                path: path.to_string(),
                founders: f.len(),
            }),
            _ => Ok(()),
        }
    }

    fn check_room(&self) -> Result<(), Refused> {
        if self.index >= self.limits.max_events {
            return Err(Refused::TooManyEvents {
                recorded: self.index,
            });
        }
        Ok(())
    }

    /// Applies an event and takes out the parked waits it answers, with their replies.
    fn commit(&mut self, key: &Key, event: Event) -> Vec<(WaitId, Reply)> {
        let woken = self.waits.take_woken(key, event.index);
        // One body for every wait it answers (hundreds may be parked on one token); only the
        // index each wait started at differs.
        let body = (!woken.is_empty())
            .then(|| Reply::event(200, 0, &render::event(key, &self.token, &event)));
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
            .take(usize::try_from(size).unwrap_or(usize::MAX))
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
}

/// etcd's compare-and-swap/delete conditions against the key as held.
fn compare_with(cur: &Stored, value: Option<&str>, index: u64) -> Result<(), Refused> {
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
    Err(Refused::CompareFailed { cause })
}

#[cfg(test)]
mod tests;
