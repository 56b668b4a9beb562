//! Waits that could not be answered from history, parked until an event answers them or their
//! deadline passes.

use super::Key;

/// Names one parked wait; the shell keeps whatever it needs to answer it under this id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaitId(pub u64);

/// A wait the registry parked: its id, and when it ends idle (Unix ms) if nothing answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parked {
    pub id: WaitId,
    pub until: u64,
}

#[derive(Debug, Clone)]
struct Waiting {
    id: WaitId,
    key: Key,
    recursive: bool,
    /// The first index this wait accepts (`waitIndex`).
    since: u64,
    /// The index when it was parked: etcd sends it as the answer's `X-Etcd-Index`.
    start_index: u64,
    until: u64,
}

/// Parked waits in the order they arrived; that is the order they are answered in.
#[derive(Debug, Default, Clone)]
pub struct Waits {
    next: u64,
    parked: Vec<Waiting>,
}

impl Waits {
    pub fn park(
        &mut self,
        key: Key,
        recursive: bool,
        since: u64,
        start_index: u64,
        until: u64,
    ) -> Parked {
        self.next = self.next.wrapping_add(1);
        let id = WaitId(self.next);
        self.parked.push(Waiting {
            id,
            key,
            recursive,
            since,
            start_index,
            until,
        });
        Parked { id, until }
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

    /// Takes out the waits whose deadline is `now` or earlier, oldest first.
    pub fn take_due(&mut self, now: u64) -> Vec<WaitId> {
        let mut due = Vec::new();
        self.parked.retain(|p| {
            let hit = p.until <= now;
            if hit {
                due.push(p.id);
            }
            !hit
        });
        due
    }

    /// Takes out every wait, oldest first.
    pub fn take_all(&mut self) -> Vec<WaitId> {
        self.parked.drain(..).map(|p| p.id).collect()
    }

    /// The soonest deadline of a parked wait.
    pub fn next_deadline(&self) -> Option<u64> {
        self.parked.iter().map(|p| p.until).min()
    }

    /// Forgets a wait (its client left). Whether it was still parked.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_end_waits_in_arrival_order() {
        let mut w = Waits::default();
        let a = w.park(Key::Dir, true, 2, 1, 5_000);
        let b = w.park(Key::Dir, true, 2, 1, 3_000);
        let c = w.park(Key::Size, false, 2, 1, 9_000);
        assert_eq!(w.next_deadline(), Some(3_000));
        assert_eq!(w.take_due(2_999), []);
        assert_eq!(w.take_due(5_000), [a.id, b.id]);
        assert_eq!(w.next_deadline(), Some(9_000));
        assert_eq!(w.take_all(), [c.id]);
        assert!(w.is_empty() && w.next_deadline().is_none());
    }
}
