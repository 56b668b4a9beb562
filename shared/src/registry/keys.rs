//! etcd v2's keys API over the registry: a `KeysRequest` read, answered and rendered as etcd
//! answers it (`Reply`), or parked as a wait.

use super::{Change, Key, Parked, Refused, Registry, WaitId};
use crate::registry::Event;
use crate::v2::{render, Action, EventBody, KeysRequest, Node, Op, Reply};

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

/// A keys request's answer: now, or once an event (or the wait's deadline) comes.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    Reply(Reply),
    /// Hold the request until `woken` names it, or end it idle at `until`
    /// (`Registry::end_idle_waits`).
    Parked(Parked),
}

/// How a request was answered: at once, or with a change to store first.
enum Answered {
    Now(Answer),
    Changed(Reply, Change),
}

impl Registry {
    /// Answers one keys request at time `now` (Unix milliseconds).
    pub fn handle(&mut self, req: &KeysRequest, now: u64) -> Outcome {
        let (mut events, mut woken) = self.tick(now);
        let answer = match self.answer(req, now) {
            Ok(Answered::Now(answer)) => answer,
            Ok(Answered::Changed(reply, change)) => {
                events.push(change.event);
                woken.extend(change.woken);
                Answer::Reply(reply)
            }
            Err(refused) => self.refusal(&refused),
        };
        Outcome {
            events,
            answer,
            woken,
        }
    }

    fn refusal(&self, refused: &Refused) -> Answer {
        let e = refused.etcd(self.index);
        Answer::Reply(match refused {
            Refused::TooManyWaits { .. } => Reply::too_many(&e, self.limits.wait_timeout_secs),
            _ => Reply::error(&e),
        })
    }

    fn answer(&mut self, req: &KeysRequest, now: u64) -> Result<Answered, Refused> {
        let parsed = Key::parse(&req.key);
        // A key no token holds reads as missing; written, it says why it cannot be.
        let raw_path = || format!("{}{}", Key::Dir.path(&self.token), req.key);
        if !self.is_minted() {
            let path = parsed
                .as_ref()
                .map_or_else(|_| raw_path(), |k| k.path(&self.token));
            return Err(Refused::NotMinted { path });
        }
        let key = match (parsed, &req.op) {
            (Ok(k), _) => k,
            (Err(why), Op::Put(_)) => return Err(Refused::BadKey { why }),
            (Err(_), _) => return Err(Refused::NoSuchKey { path: raw_path() }),
        };
        match &req.op {
            Op::Get {
                wait: Some(since),
                recursive,
                ..
            } => self.wait(key, *recursive, *since, now).map(Answered::Now),
            Op::Get { sorted, .. } => {
                let body = EventBody {
                    action: Action::Get,
                    node: Some(self.get(&key, *sorted, now)?),
                    prev_node: None,
                };
                Ok(Answered::Now(Answer::Reply(Reply::event(
                    200, self.index, &body,
                ))))
            }
            Op::Put(put) => {
                let change = self.put(&key, put, now)?;
                Ok(self.changed(&key, change))
            }
            Op::Delete(delete) => {
                let change = self.delete(&key, delete, now)?;
                Ok(self.changed(&key, change))
            }
        }
    }

    /// A write's answer: the event as etcd renders it.
    fn changed(&self, key: &Key, change: Change) -> Answered {
        let body = render::event(key, &self.token, &change.event);
        Answered::Changed(
            Reply::event(change.status, change.event.index, &body),
            change,
        )
    }

    fn wait(
        &mut self,
        key: Key,
        recursive: bool,
        wait_index: u64,
        now: u64,
    ) -> Result<Answer, Refused> {
        let since = if wait_index == 0 {
            self.index.saturating_add(1)
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
                let body = render::event(&event_key, &self.token, e);
                Ok(Answer::Reply(Reply::event(200, self.index, &body)))
            }
            None => self.park(key, recursive, since, now).map(Answer::Parked),
        }
    }

    fn get(&self, key: &Key, sorted: bool, now: u64) -> Result<Node, Refused> {
        let t = &self.token;
        let missing = || Refused::NoSuchKey { path: key.path(t) };
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
                        Some(render::node(&Key::Member(n.to_string()), t, s, now))
                    })
                    .collect();
                Ok(render::dir(key, t, nodes))
            }
            Key::ConfigDir => {
                let nodes = self
                    .size
                    .iter()
                    .map(|s| render::node(&Key::Size, t, s, now))
                    .collect();
                Ok(render::dir(key, t, nodes))
            }
            Key::Size => self
                .size
                .as_ref()
                .map(|s| render::node(key, t, s, now))
                .ok_or_else(missing),
            Key::Member(n) => self
                .members
                .get(n)
                .map(|s| render::node(key, t, s, now))
                .ok_or_else(missing),
        }
    }
}
