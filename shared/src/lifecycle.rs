//! A token's life: minted with a size, filled by its members, deleted when it expires. What the
//! shells store for it (the key layout of its meta and events), when its timer must fire, and
//! the one place that rebuilds it from what was stored.

use serde::{Deserialize, Serialize};

use crate::registry::{Event, Outcome, Registry, WaitId};
use crate::v2::{RawRequest, Reply};
use crate::{Limits, Token};

/// The storage key of a token's meta.
pub const META_KEY: &str = "meta";
/// Storage keys of events start with this, then the zero-padded index (`Event::storage_key`).
pub const EVENT_PREFIX: &str = "e/";

/// What a token knows beyond its events: its size, and when it was minted and ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub token: String,
    pub size: u64,
    /// Unix milliseconds.
    pub minted_at: u64,
    /// Unix milliseconds; from then on the token and its registry are deleted.
    pub expires_at: u64,
}

impl Meta {
    pub fn new(token: Token, size: u64, now: u64, limits: &Limits) -> Meta {
        Meta {
            token: token.to_string(),
            size,
            minted_at: now,
            expires_at: now.saturating_add(limits.token_lifetime_secs.saturating_mul(1000)),
        }
    }

    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A (storage key, JSON text) pair, as both shells store them.
pub type Entry = (String, String);

/// The stored entries of some events.
pub fn event_entries(events: &[Event]) -> Vec<Entry> {
    events
        .iter()
        .map(|e| {
            (
                e.storage_key(),
                serde_json::to_string(e).unwrap_or_default(),
            )
        })
        .collect()
}

/// What the token's timer found due.
#[derive(Debug)]
pub enum Alarm {
    /// The token's life is over: delete everything stored for it; parked waits end idle.
    Purge,
    /// Member TTLs ran out: store these events, then wake these waits.
    Expired {
        events: Vec<Event>,
        woken: Vec<(WaitId, Reply)>,
    },
}

/// One token as a shell keeps it in memory: its registry and its meta (`None` until minted).
#[derive(Debug, Clone)]
pub struct TokenState {
    pub registry: Registry,
    pub meta: Option<Meta>,
}

impl TokenState {
    /// A token nobody minted (or that was deleted): every key reads as not found.
    pub fn unminted(token: Token, limits: Limits) -> TokenState {
        TokenState {
            registry: Registry::new(token, limits),
            meta: None,
        }
    }

    /// Rebuilds a token from its stored entries, in any order; keys it does not know are
    /// passed over. An error says what cannot be read: the shell answers 503 and writes nothing.
    pub fn restore(
        token: Token,
        limits: Limits,
        entries: impl IntoIterator<Item = Entry>,
    ) -> Result<TokenState, String> {
        let mut events = Vec::new();
        let mut meta = None;
        for (key, text) in entries {
            if key == META_KEY {
                let m = serde_json::from_str::<Meta>(&text)
                    .map_err(|e| format!("stored registry unreadable: meta: {e}"))?;
                meta = Some(m);
            } else if key.starts_with(EVENT_PREFIX) {
                let e = serde_json::from_str::<Event>(&text)
                    .map_err(|e| format!("stored registry unreadable: {key}: {e}"))?;
                events.push(e);
            }
        }
        let registry = Registry::restore(token, limits, events).map_err(|e| e.0)?;
        Ok(TokenState { registry, meta })
    }

    pub fn token(&self) -> Token {
        self.registry.token()
    }

    pub fn is_minted(&self) -> bool {
        self.registry.is_minted()
    }

    /// Mints the token with `size`: the entries to store (its meta and its first event), or
    /// `None` when it was minted already (a collision of random tokens).
    pub fn mint(&mut self, size: u64, now: u64, limits: &Limits) -> Option<(Meta, Vec<Entry>)> {
        if self.is_minted() {
            return None;
        }
        let event = self.registry.mint(size, now).ok()?;
        let meta = Meta::new(self.token(), size, now, limits);
        let mut entries = vec![(META_KEY.to_string(), meta.to_json())];
        entries.extend(event_entries(&[event]));
        self.meta = Some(meta.clone());
        Some((meta, entries))
    }

    /// Whether the token's life is over at `now`.
    pub fn expired(&self, now: u64) -> bool {
        self.meta.as_ref().is_some_and(|m| m.expired(now))
    }

    /// When the token's one timer must fire next: the next member TTL or the token's end,
    /// whichever comes first. `None` for a token that was never minted.
    pub fn alarm_at(&self) -> Option<u64> {
        let meta = self.meta.as_ref()?;
        let ttl = self.registry.next_expiry();
        Some(ttl.map_or(meta.expires_at, |t| t.min(meta.expires_at)))
    }

    /// The timer fired at `now`.
    pub fn alarm(&mut self, now: u64) -> Alarm {
        if self.expired(now) {
            return Alarm::Purge;
        }
        let (events, woken) = self.registry.tick(now);
        Alarm::Expired { events, woken }
    }

    /// One keys request, read with etcd's rules and answered by the registry at `now`.
    pub fn handle(&mut self, request: RawRequest, now: u64) -> Outcome {
        match request.parse(self.registry.index()) {
            Ok(request) => self.registry.handle(&request, now),
            Err(e) => Outcome::reply(Reply::error(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Answer;

    const T: &str = "0123456789abcdef0123456789abcdef";

    fn token() -> Token {
        Token::from_segment(T).unwrap()
    }

    fn limits() -> Limits {
        Limits {
            token_lifetime_secs: 100,
            ..Limits::default()
        }
    }

    /// A form PUT as etcd sends it.
    fn put<'a>(key: &'a str, query: &'a str) -> RawRequest<'a> {
        RawRequest {
            method: "PUT",
            key,
            query,
            content_type: Some("application/x-www-form-urlencoded"),
            body: "value=x",
        }
    }

    #[test]
    fn a_minted_token_is_stored_as_meta_and_its_size_event() {
        let mut t = TokenState::unminted(token(), limits());
        let (meta, entries) = t.mint(3, 1_000, &limits()).unwrap();
        assert_eq!(meta.expires_at, 101_000);
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["meta", "e/00000000000000000001"]);
        assert!(t.mint(5, 2_000, &limits()).is_none(), "minted once");
        let back = TokenState::restore(token(), limits(), entries.into_iter().rev()).unwrap();
        assert_eq!(back.meta, Some(meta));
        assert_eq!(back.registry.size(), Some(3));
    }

    #[test]
    fn restoring_replays_every_change_and_skips_unknown_keys() {
        let mut t = TokenState::unminted(token(), limits());
        let (_, mut stored) = t.mint(3, 0, &limits()).unwrap();
        for name in ["a", "b"] {
            let out = t.handle(put(&format!("/{name}"), "prevExist=false"), 5);
            stored.extend(event_entries(&out.events));
        }
        stored.push(("something/else".into(), "not json".into()));
        let back = TokenState::restore(token(), limits(), stored).unwrap();
        assert_eq!(back.registry.index(), 3);
        assert_eq!(back.registry.members_in_order(), ["a", "b"]);
    }

    #[test]
    fn unreadable_entries_are_named() {
        let e = TokenState::restore(token(), limits(), [("meta".into(), "{".into())]).unwrap_err();
        assert!(e.contains("meta"), "{e}");
        let e = TokenState::restore(
            token(),
            limits(),
            [("e/00000000000000000002".into(), "[]".into())],
        )
        .unwrap_err();
        assert!(e.contains("e/00000000000000000002"), "{e}");
        // A gap in the history: the registry cannot be rebuilt from it.
        let mut t = TokenState::unminted(token(), limits());
        let (_, mut stored) = t.mint(3, 0, &limits()).unwrap();
        for name in ["a", "b"] {
            let out = t.handle(put(&format!("/{name}"), ""), 5);
            stored.extend(event_entries(&out.events));
        }
        stored.retain(|(k, _)| k != "e/00000000000000000002");
        let e = TokenState::restore(token(), limits(), stored).unwrap_err();
        assert!(e.contains("skip"), "{e}");
    }

    #[test]
    fn the_alarm_is_the_next_ttl_or_the_end_and_purges_at_the_end() {
        let mut t = TokenState::unminted(token(), limits());
        assert_eq!(t.alarm_at(), None, "nothing to time before minting");
        t.mint(3, 0, &limits()).unwrap();
        assert_eq!(t.alarm_at(), Some(100_000));
        t.handle(put("/a", "ttl=5"), 1_000);
        assert_eq!(t.alarm_at(), Some(6_000));
        match t.alarm(6_000) {
            Alarm::Expired { events, .. } => assert_eq!(events.len(), 1),
            other => panic!("{other:?}"),
        }
        assert_eq!(t.alarm_at(), Some(100_000));
        assert!(!t.expired(99_999));
        assert!(matches!(t.alarm(100_000), Alarm::Purge));
    }

    #[test]
    fn a_bad_request_is_answered_with_etcds_error_and_stores_nothing() {
        let mut t = TokenState::unminted(token(), limits());
        t.mint(3, 0, &limits()).unwrap();
        let bad = RawRequest {
            method: "GET",
            query: "wait=maybe",
            ..RawRequest::default()
        };
        let out = t.handle(bad, 1);
        assert!(out.events.is_empty());
        match out.answer {
            Answer::Reply(r) => assert_eq!((r.status, r.etcd_index), (400, 1)),
            other => panic!("{other:?}"),
        }
    }
}
