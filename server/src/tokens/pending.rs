//! What a change leaves to do once the core has answered under the lock: its write handed to
//! the store, and then, once that write is stored, the parked waits it answered woken and the
//! alarm clock told of a sooner alarm. The one shape every change goes through (a keys request,
//! a v3 put, a fired alarm, a token's end).

use std::sync::Arc;

use shared::lifecycle::Effects;
use shared::v2::Reply;
use shared::Token;
use tokio::sync::oneshot;

use super::cache::Slot;
use crate::gate::{Failure, OutputGate};
use crate::store::{Job, Op, Store};

#[must_use = "a change is answered only once it is settled"]
pub struct Pending {
    gate: Arc<OutputGate>,
    /// The write to wait for (0: nothing was written).
    seq: u64,
    /// The waits answered, each with its answer: sent once the write is stored.
    woken: Vec<(oneshot::Sender<Reply>, Reply)>,
    /// An alarm stored by this write, for the alarm clock.
    pub alarm: Option<u64>,
}

impl Pending {
    /// Hands the core's `effects` for the token in `slot` to `store`; called under the shard's
    /// lock, so that one token's writes are stored in the order they were applied.
    pub fn submit(
        token: Token,
        slot: &mut Slot,
        mut effects: Effects,
        store: &dyn Store,
    ) -> Pending {
        let alarm = effects.alarm.flatten();
        let ops = Op::from_effects(&mut effects);
        let mut seq = 0;
        if !ops.is_empty() {
            slot.submitted += 1;
            seq = slot.submitted;
            store.submit(Job {
                token,
                ops,
                mint: false,
                gate: slot.gate.clone(),
                seq,
            });
        }
        if effects.purge {
            slot.ended = true;
        }
        Pending {
            gate: slot.gate.clone(),
            seq,
            woken: slot.take_senders(effects.woken),
            alarm,
        }
    }

    /// Waits until the write is stored, then answers the waits it woke. On a failed write the
    /// error says why (the caller answers 503, and takes the token out of memory): the woken
    /// waits are dropped unanswered, and their requests answer 503 as well; after a lost race
    /// with another replica they are answered idle instead.
    pub async fn settle(self) -> Result<Option<u64>, (Arc<OutputGate>, Failure)> {
        if self.seq > 0 && !self.gate.stored(self.seq) {
            if let Err(f) = self.gate.wait(self.seq).await {
                if f == Failure::Conflict {
                    // Another replica's write came first: what these waits would have been
                    // told is not stored. Idle answers send them back to ask again.
                    for (tx, reply) in self.woken {
                        let _ = tx.send(Reply::idle(reply.etcd_index));
                    }
                }
                return Err((self.gate, f));
            }
        }
        for (tx, reply) in self.woken {
            // The client may have gone; nothing to do then.
            let _ = tx.send(reply);
        }
        Ok(self.alarm)
    }
}
