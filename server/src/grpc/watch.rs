//! `etcdserverpb.Watch/Watch`: one bidirectional stream per client. `shared::v3::watch::Stream`
//! decides every answer (ids, created and canceled, events, progress); this drives it: it reads
//! the client's requests, parks each watch on its token until the token changes, and moves the
//! answers out as protobuf.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use shared::v3::watch::{
    self as core, CreateRequest, Created, Polled, Stream, RETRY_AFTER_TROUBLE_MS,
    WATCH_REFUSAL_PAUSE_MS,
};
use shared::v3::WatchEvent;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::etcdserverpb::watch_create_request::FilterType;
use super::etcdserverpb::watch_request::RequestUnion;
use super::etcdserverpb::watch_server::Watch;
use super::etcdserverpb::{WatchCreateRequest, WatchRequest, WatchResponse};
use super::mvccpb::event::EventType;
use super::mvccpb::Event;
use super::{header, kv, unavailable};
use crate::tokens::{Tokens, WatchPark};

pub struct WatchService {
    pub tokens: Arc<Tokens>,
}

type Sender = mpsc::Sender<Result<WatchResponse, Status>>;

#[tonic::async_trait]
impl Watch for WatchService {
    type WatchStream =
        Pin<Box<dyn tokio_stream::Stream<Item = Result<WatchResponse, Status>> + Send>>;

    async fn watch(
        &self,
        req: Request<Streaming<WatchRequest>>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let (tx, rx) = mpsc::channel(64);
        let (woken_tx, woken) = mpsc::unbounded_channel();
        let driver = Driver {
            tokens: self.tokens.clone(),
            stream: Stream::default(),
            tx,
            woken_tx,
            parked: HashMap::new(),
            tickets: 0,
        };
        tokio::spawn(driver.run(req.into_inner(), woken));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// A watch to look at again: its id, and the ticket of the park that ended.
type Woken = (i64, u64);

/// Why a stream stops.
enum Stop {
    /// The client went away.
    Gone,
    /// The server is stopping, or could not read a token: the client hears this status.
    Status(Status),
}

struct Driver {
    tokens: Arc<Tokens>,
    stream: Stream,
    tx: Sender,
    woken_tx: mpsc::UnboundedSender<Woken>,
    /// Each parked watch's park: its ticket and the task waiting for it to end.
    parked: HashMap<i64, (u64, JoinHandle<()>)>,
    tickets: u64,
}

impl Driver {
    /// Serves the stream until its client hangs up; its watches end with it.
    async fn run(
        mut self,
        mut incoming: Streaming<WatchRequest>,
        mut woken: mpsc::UnboundedReceiver<Woken>,
    ) {
        let stop = loop {
            let step = tokio::select! {
                msg = incoming.message() => match msg {
                    Ok(Some(msg)) => self.request(msg).await,
                    _ => Err(Stop::Gone),
                },
                Some((id, ticket)) = woken.recv() => {
                    if self.parked.get(&id).map(|(t, _)| *t) == Some(ticket) {
                        self.parked.remove(&id);
                        self.follow(id).await
                    } else {
                        // A park since canceled or replaced.
                        Ok(())
                    }
                }
            };
            if let Err(stop) = step {
                break stop;
            }
        };
        if let Stop::Status(status) = stop {
            let _ = self.tx.send(Err(status)).await;
        }
        for (_, (_, task)) in self.parked.drain() {
            task.abort();
        }
    }

    async fn send(&self, answer: core::WatchResponse) -> Result<(), Stop> {
        self.tx
            .send(Ok(message(answer)))
            .await
            .map_err(|_| Stop::Gone)
    }

    async fn request(&mut self, msg: WatchRequest) -> Result<(), Stop> {
        match msg.request_union {
            Some(RequestUnion::CreateRequest(c)) => self.create(create_request(c)).await,
            Some(RequestUnion::CancelRequest(c)) => {
                if let Some((_, task)) = self.parked.remove(&c.watch_id) {
                    task.abort();
                }
                match self.stream.cancel(c.watch_id) {
                    Some(answer) => self.send(answer).await,
                    None => Ok(()),
                }
            }
            Some(RequestUnion::ProgressRequest(_)) => self.send(self.stream.progress()).await,
            None => Ok(()),
        }
    }

    async fn create(&mut self, req: CreateRequest) -> Result<(), Stop> {
        let created = match Stream::scope(&req) {
            Err(refused) => Created::Refused(refused),
            Ok(scope) => {
                let stream = &mut self.stream;
                self.tokens
                    .view(scope.token, |reg| stream.create(&req, scope, reg))
                    .await
                    .map_err(|why| Stop::Status(unavailable(why)))?
            }
        };
        match created {
            Created::Watching { id, answers } => {
                for answer in answers {
                    self.send(answer).await?;
                }
                self.park(id).await
            }
            Created::Refused(answer) => {
                tokio::time::sleep(Duration::from_millis(WATCH_REFUSAL_PAUSE_MS)).await;
                self.send(answer).await
            }
        }
    }

    /// Looks at watch `id`'s token again and sends what is new, then parks it.
    async fn follow(&mut self, id: i64) -> Result<(), Stop> {
        let Some(token) = self.stream.token(id) else {
            return Ok(());
        };
        let stream = &mut self.stream;
        let polled = match self.tokens.view(token, |reg| stream.poll(id, reg)).await {
            Ok(polled) => polled,
            Err(_) => return self.later(id),
        };
        match polled {
            Polled::Watching(events) => {
                if let Some(answer) = events {
                    self.send(answer).await?;
                }
                self.park(id).await
            }
            Polled::Ended(answer) => self.send(answer).await,
            Polled::Gone => Ok(()),
        }
    }

    /// Parks watch `id` until its token changes; looks again at once if it has.
    async fn park(&mut self, id: i64) -> Result<(), Stop> {
        let (Some(token), Some(after)) = (self.stream.token(id), self.stream.after(id)) else {
            return Ok(());
        };
        match self.tokens.park_watch(token, after).await {
            Ok(WatchPark::Wait(waiting)) => {
                self.look_after(id, waiting.ended());
                Ok(())
            }
            Ok(WatchPark::Look) => Box::pin(self.follow(id)).await,
            Ok(WatchPark::TooMany(refused)) => match self.stream.refused_park(id, refused) {
                Polled::Ended(answer) => self.send(answer).await,
                _ => Ok(()),
            },
            Ok(WatchPark::Stopping) => Err(Stop::Status(Status::unavailable(
                "the server is shutting down: watch again on another endpoint",
            ))),
            Err(_) => self.later(id),
        }
    }

    /// The token could not be read: look at watch `id` again after a while.
    fn later(&mut self, id: i64) -> Result<(), Stop> {
        let pause = Duration::from_millis(RETRY_AFTER_TROUBLE_MS);
        self.look_after(id, tokio::time::sleep(pause));
        Ok(())
    }

    /// Looks at watch `id` again once `until` is done, under a new ticket (one that a cancel
    /// or a newer park makes stale).
    fn look_after(&mut self, id: i64, until: impl std::future::Future + Send + 'static) {
        self.tickets = self.tickets.wrapping_add(1);
        let ticket = self.tickets;
        let woken = self.woken_tx.clone();
        let task = tokio::spawn(async move {
            until.await;
            let _ = woken.send((id, ticket));
        });
        self.parked.insert(id, (ticket, task));
    }
}

fn create_request(c: WatchCreateRequest) -> CreateRequest {
    let has = |f: FilterType| c.filters.contains(&(f as i32));
    CreateRequest {
        no_put: has(FilterType::Noput),
        no_delete: has(FilterType::Nodelete),
        key: c.key,
        range_end: c.range_end,
        start_revision: c.start_revision,
        watch_id: c.watch_id,
        prev_kv: c.prev_kv,
    }
}

fn message(a: core::WatchResponse) -> WatchResponse {
    WatchResponse {
        header: header(a.revision),
        watch_id: a.watch_id,
        created: a.created,
        canceled: a.canceled,
        cancel_reason: a.cancel_reason,
        events: a.events.into_iter().map(event).collect(),
        ..WatchResponse::default()
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
