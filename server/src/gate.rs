//! Output gates: an answer leaves only once everything it shows is stored. Each token in memory
//! has one gate; every write handed to the store gets the next sequence number, and an answer
//! computed after write `n` waits until the gate has seen `n` stored. A write that fails closes
//! the gate for good: the token's memory holds changes that are not on disk, so it is dropped
//! and every answer computed from it becomes a 503 (the Worker's Durable Objects do the same).

use tokio::sync::watch;

/// Why a write was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A mint found its token stored already (a collision of random tokens).
    Taken,
    /// Another process sharing the store (a replica) wrote the token first: what this one
    /// applied in memory is not what is stored. Read the token again and apply the request to
    /// that.
    Conflict,
    /// The store could not take it; the text says why.
    Storage(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Taken => f.write_str("the token is stored already"),
            Failure::Conflict => f.write_str("another replica wrote the token first"),
            Failure::Storage(why) => f.write_str(why),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Status {
    /// The highest sequence number stored.
    stored: u64,
    failure: Option<Failure>,
}

#[derive(Debug)]
pub struct OutputGate {
    status: watch::Sender<Status>,
}

impl Default for OutputGate {
    fn default() -> Self {
        OutputGate {
            status: watch::Sender::new(Status::default()),
        }
    }
}

impl OutputGate {
    /// Whether a write behind this gate failed.
    pub fn failed(&self) -> bool {
        self.status.borrow().failure.is_some()
    }

    /// Whether a write behind this gate lost a race with another replica's (rather than
    /// finding the store broken).
    pub fn conflicted(&self) -> bool {
        self.status.borrow().failure == Some(Failure::Conflict)
    }

    /// Whether every write up to `seq` is stored.
    pub fn stored(&self, seq: u64) -> bool {
        self.status.borrow().stored >= seq
    }

    /// The store's word on write `seq`. Writes of one gate are stored in order.
    pub fn complete(&self, seq: u64, result: Result<(), Failure>) {
        self.status.send_modify(|s| match result {
            Ok(()) => s.stored = s.stored.max(seq),
            Err(f) => {
                s.failure.get_or_insert(f);
            }
        });
    }

    /// Waits until write `seq` is stored, or any write failed.
    pub async fn wait(&self, seq: u64) -> Result<(), Failure> {
        let mut rx = self.status.subscribe();
        let status = rx
            .wait_for(|s| s.failure.is_some() || s.stored >= seq)
            .await
            .map_err(|_| Failure::Storage("the store went away".into()))?;
        match &status.failure {
            Some(f) => Err(f.clone()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn answers_wait_for_their_writes() {
        let gate = Arc::new(OutputGate::default());
        assert!(
            !gate.stored(1),
            "nothing is stored before the store says so"
        );
        let g = gate.clone();
        let waiting = tokio::spawn(async move { g.wait(2).await });
        gate.complete(1, Ok(()));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        gate.complete(2, Ok(()));
        assert_eq!(waiting.await.unwrap(), Ok(()));
        assert!(gate.stored(2) && !gate.failed());
    }

    #[tokio::test]
    async fn a_failure_closes_the_gate_for_every_later_answer() {
        let gate = OutputGate::default();
        gate.complete(1, Ok(()));
        gate.complete(2, Err(Failure::Storage("disk full".into())));
        gate.complete(3, Ok(()));
        assert!(gate.failed());
        assert_eq!(
            gate.wait(1).await,
            Err(Failure::Storage("disk full".into()))
        );
        assert_eq!(
            gate.wait(3).await,
            Err(Failure::Storage("disk full".into()))
        );
    }
}
