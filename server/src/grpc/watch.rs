//! `etcdserverpb.Watch/Watch`: one bidirectional stream per client, several watches on it.
//! Each watch replays the token's history after its start revision (`shared::v3::events_after`;
//! nothing is ever compacted), then parks a v2 wait on the token, the registry's own way of
//! hearing of the next change, and sends what changed when it returns.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use shared::v2::RawRequest;
use shared::v3::key::{scope, Scope};
use shared::v3::{self, Refusal, WatchEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::etcdserverpb::watch_create_request::FilterType;
use super::etcdserverpb::watch_request::RequestUnion;
use super::etcdserverpb::watch_server::Watch;
use super::etcdserverpb::{WatchRequest, WatchResponse};
use super::mvccpb::event::EventType;
use super::mvccpb::Event;
use super::{header, kv};
use crate::tokens::Tokens;

pub struct WatchService {
    pub tokens: Arc<Tokens>,
}

type Sender = mpsc::Sender<Result<WatchResponse, Status>>;

#[tonic::async_trait]
impl Watch for WatchService {
    type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchResponse, Status>> + Send>>;

    async fn watch(
        &self,
        req: Request<Streaming<WatchRequest>>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let incoming = req.into_inner();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(stream(self.tokens.clone(), incoming, tx));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Watch `id` ends at `revision`, with the reason (empty when its client canceled it).
fn canceled(id: i64, revision: i64, reason: String) -> WatchResponse {
    WatchResponse {
        header: header(revision),
        watch_id: id,
        canceled: true,
        cancel_reason: reason,
        ..WatchResponse::default()
    }
}

/// A create refused: created and canceled in one answer, with the reason.
fn refused_at_creation(id: i64, reason: String) -> WatchResponse {
    WatchResponse {
        created: true,
        ..canceled(id, 0, reason)
    }
}

/// A new watch on `key`..`range_end`: its scope and the revision now, or why it is refused;
/// storage trouble is the outer error.
async fn admit(
    tokens: &Tokens,
    key: &[u8],
    range_end: &[u8],
) -> Result<Result<(Scope, u64), Refusal>, String> {
    let scope = match scope(key, range_end) {
        Ok(s) => s,
        Err(refused) => return Ok(Err(refused)),
    };
    Ok(match tokens.read(scope.token, v3::admit_watch).await? {
        Some(Ok(now)) => Ok((scope, now)),
        Some(Err(refused)) => Err(refused),
        None => Err(Refusal::not_minted(&scope)),
    })
}

/// One watch of a stream: its task, and the revision up to which it has sent every event.
struct Running {
    task: JoinHandle<()>,
    sent: Arc<AtomicU64>,
}

/// Reads one client's watch requests until it hangs up; its watches end with it.
async fn stream(tokens: Arc<Tokens>, mut incoming: Streaming<WatchRequest>, tx: Sender) {
    let mut watches: HashMap<i64, Running> = HashMap::new();
    let mut next_id = 0i64;
    while let Ok(Some(msg)) = incoming.message().await {
        let answer = match msg.request_union {
            Some(RequestUnion::CreateRequest(c)) => {
                let id = if c.watch_id != 0 { c.watch_id } else { next_id };
                next_id = next_id.max(id) + 1;
                let (scope, now) = match admit(&tokens, &c.key, &c.range_end).await {
                    Ok(Ok(admitted)) => admitted,
                    Ok(Err(refused)) => {
                        tokio::time::sleep(Duration::from_millis(v3::WATCH_REFUSAL_PAUSE_MS)).await;
                        if tx
                            .send(Ok(refused_at_creation(id, refused.message)))
                            .await
                            .is_err()
                        {
                            break;
                        }
                        continue;
                    }
                    Err(why) => {
                        let _ = tx.send(Err(super::unavailable(why))).await;
                        break;
                    }
                };
                let has = |f: FilterType| c.filters.contains(&(f as i32));
                let watch = v3::Watch::new(
                    c.start_revision,
                    now,
                    has(FilterType::Noput),
                    has(FilterType::Nodelete),
                    c.prev_kv,
                );
                // Created is sent before the watch can send its first events.
                let created = WatchResponse {
                    header: header(v3::revision(now)),
                    watch_id: id,
                    created: true,
                    ..WatchResponse::default()
                };
                if tx.send(Ok(created)).await.is_err() {
                    break;
                }
                let sent = Arc::new(AtomicU64::new(watch.after));
                let task = tokio::spawn(follow(
                    tokens.clone(),
                    scope,
                    id,
                    watch,
                    sent.clone(),
                    tx.clone(),
                ));
                if let Some(old) = watches.insert(id, Running { task, sent }) {
                    old.task.abort();
                }
                continue;
            }
            Some(RequestUnion::CancelRequest(c)) => {
                if let Some(w) = watches.remove(&c.watch_id) {
                    w.task.abort();
                }
                canceled(c.watch_id, 0, String::new())
            }
            // etcd answers progress with watch id -1 and the revision every watch has reached.
            Some(RequestUnion::ProgressRequest(_)) => {
                let sent = watches.values().map(|w| w.sent.load(Ordering::Acquire));
                WatchResponse {
                    header: header(v3::progress(sent).unwrap_or(0)),
                    watch_id: -1,
                    ..WatchResponse::default()
                }
            }
            None => continue,
        };
        if tx.send(Ok(answer)).await.is_err() {
            break;
        }
    }
    for w in watches.into_values() {
        w.task.abort();
    }
}

fn event(e: WatchEvent) -> Event {
    Event {
        r#type: if e.delete {
            EventType::Delete
        } else {
            EventType::Put
        } as i32,
        kv: Some(kv(e.kv)),
        prev_kv: e.prev_kv.map(kv),
    }
}

/// Sends the changes to `scope` the watch asked for, as they come, until the client goes;
/// `sent` follows the revision up to which every event has gone into the stream.
async fn follow(
    tokens: Arc<Tokens>,
    scope: Scope,
    id: i64,
    mut watch: v3::Watch,
    sent: Arc<AtomicU64>,
    tx: Sender,
) {
    loop {
        let read = tokens
            .read(scope.token, |reg| watch.next(reg, &scope.target))
            .await;
        match read {
            Ok(Some(events)) => {
                if !events.is_empty() {
                    let changed = WatchResponse {
                        header: header(v3::revision(watch.after)),
                        watch_id: id,
                        events: events.into_iter().map(event).collect(),
                        ..WatchResponse::default()
                    };
                    if tx.send(Ok(changed)).await.is_err() {
                        return;
                    }
                }
                sent.store(watch.after, Ordering::Release);
            }
            Ok(None) => {
                let reason = "the token has ended".to_string();
                let _ = tx
                    .send(Ok(canceled(id, v3::revision(watch.after), reason)))
                    .await;
                return;
            }
            Err(_) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        }
        if tx.is_closed() {
            return;
        }
        // The registry's own wait: it returns at the next change after `after` (or idle).
        let query = format!("recursive=true&wait=true&waitIndex={}", watch.after + 1);
        let wait = RawRequest {
            method: "GET",
            key: "",
            query: &query,
            content_type: None,
            body: "",
        };
        let asked = tokio::time::Instant::now();
        let answer = tokens.keys(scope.token, wait).await;
        if answer.status == 429 {
            // The token holds as many waits as it may (others came first): this watch ends,
            // and the member tries again later, as it does after any error.
            let refused = v3::too_many_watches(tokens.limits().max_waits);
            let _ = tx
                .send(Ok(canceled(id, v3::revision(watch.after), refused.message)))
                .await;
            return;
        } else if answer.status >= 400 {
            // Trouble (503): try again shortly.
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else if answer.body.is_empty() && asked.elapsed() < Duration::from_millis(100) {
            // Ended idle at once: the server is stopping. Do not spin while it does.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
