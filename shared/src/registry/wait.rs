//! Waits that could not be answered from history, parked until an event answers them.

use super::Key;

/// Names one parked wait; the shell keeps whatever it needs to answer it under this id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaitId(pub u64);

#[derive(Debug, Clone)]
struct Parked {
    id: WaitId,
    key: Key,
    recursive: bool,
    /// The first index this wait accepts (`waitIndex`).
    since: u64,
    /// The index when it was parked: etcd sends it as the answer's `X-Etcd-Index`.
    start_index: u64,
}

/// Parked waits in the order they arrived; that is the order they are answered in.
#[derive(Debug, Default, Clone)]
pub struct Waits {
    next: u64,
    parked: Vec<Parked>,
}

impl Waits {
    pub fn park(&mut self, key: Key, recursive: bool, since: u64, start_index: u64) -> WaitId {
        self.next += 1;
        let id = WaitId(self.next);
        self.parked.push(Parked {
            id,
            key,
            recursive,
            since,
            start_index,
        });
        id
    }

    /// Takes out every wait that an event at `index` on `key` answers, oldest first, with the
    /// index each one started at.
    pub fn take_woken(&mut self, key: &Key, index: u64) -> Vec<(WaitId, u64)> {
        let mut woken = Vec::new();
        self.parked.retain(|p| {
            let hit = p.since <= index && p.key.woken_by(p.recursive, key);
            if hit {
                woken.push((p.id, p.start_index));
            }
            !hit
        });
        woken
    }

    /// Forgets a wait (it timed out, or its client left). Whether it was still parked.
    pub fn cancel(&mut self, id: WaitId) -> bool {
        let before = self.parked.len();
        self.parked.retain(|p| p.id != id);
        self.parked.len() != before
    }

    pub fn len(&self) -> usize {
        self.parked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }
}
