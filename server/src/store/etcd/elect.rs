//! Which replica fires alarms (member TTLs, token ends): the one holding the `leader` key,
//! written with a lease that it renews. When that replica dies its lease runs out and another
//! takes the key. Expiry does not rely on the lease for truth (etcd resets lease TTLs on a
//! leader change): each token's end is in its meta, enforced by the core on every request; the
//! election only decides who sweeps. Two replicas that both believe they lead for a moment
//! fire the same alarm twice, which the store's conditions make harmless.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::client::Client;
use super::{created, put};
use crate::proto::etcdserverpb::compare::CompareResult;
use crate::proto::etcdserverpb::TxnRequest;

/// The lease's TTL: how long alarms may go unfired after the leader dies.
const TTL_SECS: i64 = 6;
/// How often the lease is renewed (and a follower tries to take the key).
const RENEW: Duration = Duration::from_secs(2);

/// Whether this replica leads now.
#[derive(Clone, Default)]
pub struct Elected(Arc<AtomicBool>);

impl Elected {
    pub fn is_leader(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, leads: bool) {
        if self.0.swap(leads, Ordering::AcqRel) != leads {
            if leads {
                tracing::info!("this replica fires alarms now");
            } else {
                tracing::info!("this replica no longer fires alarms");
            }
        }
    }
}

pub async fn run(
    client: Arc<Client>,
    key: Vec<u8>,
    elected: Elected,
    mut stop: watch::Receiver<bool>,
) {
    let mut lease: Option<i64> = None;
    loop {
        let leads = match attempt(&client, &key, &mut lease).await {
            Ok(leads) => leads,
            Err(_) => {
                // No answer: another replica may hold the key by now.
                lease = None;
                false
            }
        };
        elected.set(leads);
        tokio::select! {
            _ = tokio::time::sleep(RENEW) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    elected.set(false);
    if let Some(id) = lease {
        // Let another replica lead at once rather than after the TTL.
        let _ = client.lease_revoke(id).await;
    }
}

/// Renews this replica's lease (or grants one) and takes the key if nobody holds it: whether
/// this replica holds it.
async fn attempt(
    client: &Client,
    key: &[u8],
    lease: &mut Option<i64>,
) -> Result<bool, super::client::Trouble> {
    if let Some(id) = *lease {
        if client.lease_keep_alive(id).await? <= 0 {
            *lease = None;
        }
    }
    let id = match *lease {
        Some(id) => id,
        None => {
            let id = client.lease_grant(TTL_SECS).await?;
            *lease = Some(id);
            id
        }
    };
    let mut take = put(key.to_vec(), id.to_string().into_bytes());
    if let Some(crate::proto::etcdserverpb::request_op::Request::RequestPut(p)) = &mut take.request
    {
        p.lease = id;
    }
    let txn = TxnRequest {
        compare: vec![created(key, CompareResult::Equal, 0)],
        success: vec![take],
        failure: Vec::new(),
    };
    if client.txn(txn).await?.succeeded {
        return Ok(true);
    }
    // Held: by this replica's lease, or another's.
    let range = crate::proto::etcdserverpb::RangeRequest {
        key: key.to_vec(),
        ..Default::default()
    };
    let kvs = client.range(range).await?.kvs;
    Ok(kvs.first().is_some_and(|kv| kv.lease == id))
}
