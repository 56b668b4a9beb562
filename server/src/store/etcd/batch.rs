//! Group commit: the calls many tokens have in flight at once go to etcd as one call. Their
//! writes become one transaction of nested transactions (each keeps its own conditions and
//! gets its own answer, so one token losing a race does not undo another's write), their reads
//! one read-only transaction of ranges. etcd then does one round trip, one raft entry or one
//! linearizable read for a whole batch. With no load a call goes alone at once; under load the
//! next batch fills while the ones before it are in flight.
//!
//! A batch etcd refuses (too large, a bad call in it) is sent again one call at a time, so a
//! call is only ever refused for what it asks itself. A batch left unanswered leaves each of
//! its writes unanswered: the store reads back what each one wrote, as it does for one.

use std::future::Future;
use std::sync::Arc;

use prost::Message;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::client::{Client, Trouble};
use crate::proto::etcdserverpb::{
    request_op, response_op, RangeRequest, RangeResponse, RequestOp, TxnRequest, TxnResponse,
};

/// Calls in one batch: below etcd's `--max-txn-ops` (128 by default).
const MOST_CALLS: usize = 100;
/// Bytes asked in one batch: well below etcd's `--max-request-bytes` (1.5 MiB by default).
const MOST_BYTES: usize = 512 << 10;
/// Batches of each kind in flight at once.
const IN_FLIGHT: usize = 1;

type Answer<A> = Result<A, Trouble>;

struct Call<Q, A> {
    request: Q,
    reply: oneshot::Sender<Answer<A>>,
}

/// Where a store's calls are gathered (two tasks, one for reads and one for writes, that end
/// when this is dropped).
pub struct Batcher {
    reads: mpsc::UnboundedSender<Call<RangeRequest, RangeResponse>>,
    writes: mpsc::UnboundedSender<Call<TxnRequest, TxnResponse>>,
}

impl Batcher {
    /// Needs a tokio runtime: it starts the two tasks.
    pub fn new(client: Arc<Client>) -> Batcher {
        let (reads, read_calls) = mpsc::unbounded_channel();
        let (writes, write_calls) = mpsc::unbounded_channel();
        tokio::spawn(gather(client.clone(), read_calls, send_reads));
        tokio::spawn(gather(client, write_calls, send_writes));
        Batcher { reads, writes }
    }

    /// A linearizable range, read together with the others asked meanwhile.
    pub async fn range(&self, request: RangeRequest) -> Answer<RangeResponse> {
        ask(&self.reads, request).await
    }

    /// A transaction, sent once (as `Client::txn`), together with the others asked meanwhile.
    pub async fn txn(&self, request: TxnRequest) -> Answer<TxnResponse> {
        ask(&self.writes, request).await
    }
}

async fn ask<Q, A>(calls: &mpsc::UnboundedSender<Call<Q, A>>, request: Q) -> Answer<A> {
    let (reply, answer) = oneshot::channel();
    let gone = || Trouble::Unanswered("the store is closing".into());
    calls.send(Call { request, reply }).map_err(|_| gone())?;
    // A dropped reply means the batch's task ended mid-call: whether it was applied is not known.
    answer.await.unwrap_or_else(|_| Err(gone()))
}

/// Takes calls as they come, as batches, at most `IN_FLIGHT` at a time.
async fn gather<Q, A, S, F>(
    client: Arc<Client>,
    mut calls: mpsc::UnboundedReceiver<Call<Q, A>>,
    send: S,
) where
    Q: Message + Send + 'static,
    A: Send + 'static,
    S: Fn(Arc<Client>, Vec<Q>) -> F,
    F: Future<Output = Vec<Answer<A>>> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut held: Option<Call<Q, A>> = None;
    loop {
        // A free slot first: calls that come while every slot is busy make the next batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let first = match held.take() {
            Some(call) => call,
            None => match calls.recv().await {
                Some(call) => call,
                None => return,
            },
        };
        let mut bytes = first.request.encoded_len();
        let mut batch = vec![first];
        while batch.len() < MOST_CALLS {
            let Ok(call) = calls.try_recv() else { break };
            bytes += call.request.encoded_len();
            if bytes > MOST_BYTES {
                held = Some(call);
                break;
            }
            batch.push(call);
        }
        let (requests, replies): (Vec<Q>, Vec<_>) =
            batch.into_iter().map(|c| (c.request, c.reply)).unzip();
        let answers = send(client.clone(), requests);
        tokio::spawn(async move {
            let answers = answers.await;
            drop(slot);
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(answer);
            }
        });
    }
}

async fn send_reads(client: Arc<Client>, ranges: Vec<RangeRequest>) -> Vec<Answer<RangeResponse>> {
    let answer = |op| match op {
        response_op::Response::ResponseRange(range) => Some(range),
        _ => None,
    };
    let batch = |txn| client.read_txn(txn);
    send_batch(
        ranges,
        request_op::Request::RequestRange,
        answer,
        batch,
        |r| client.range(r),
    )
    .await
}

async fn send_writes(client: Arc<Client>, txns: Vec<TxnRequest>) -> Vec<Answer<TxnResponse>> {
    let answer = |op| match op {
        response_op::Response::ResponseTxn(txn) => Some(txn),
        _ => None,
    };
    // No conditions at the top: every nested transaction is tried, each on its own.
    let batch = |txn| client.txn(txn);
    send_batch(txns, request_op::Request::RequestTxn, answer, batch, |t| {
        client.txn(t)
    })
    .await
}

/// `requests` as one transaction (`batch`) whose ops are `op` of each, answered by `answer`
/// of each response; a lone call goes `alone`.
async fn send_batch<Q, A, B, BF, L, LF>(
    requests: Vec<Q>,
    op: fn(Q) -> request_op::Request,
    answer: fn(response_op::Response) -> Option<A>,
    batch: B,
    alone: L,
) -> Vec<Answer<A>>
where
    Q: Clone,
    A: Clone,
    B: FnOnce(TxnRequest) -> BF,
    BF: Future<Output = Answer<TxnResponse>>,
    L: Fn(Q) -> LF,
    LF: Future<Output = Answer<A>>,
{
    if let [request] = &requests[..] {
        return vec![alone(request.clone()).await];
    }
    let txn = TxnRequest {
        success: requests
            .iter()
            .map(|q| RequestOp {
                request: Some(op(q.clone())),
            })
            .collect(),
        ..TxnRequest::default()
    };
    match batch(txn).await {
        Ok(r) => {
            let answers: Option<Vec<_>> = r
                .responses
                .into_iter()
                .map(|o| o.response.and_then(answer).map(Ok))
                .collect();
            match answers {
                Some(a) if a.len() == requests.len() => a,
                _ => odd(requests.len()),
            }
        }
        // Refused means nothing of it was applied: each alone learns its own answer.
        Err(Trouble::Refused(_)) => one_by_one(requests, alone).await,
        Err(t) => vec![Err(t); requests.len()],
    }
}

/// Each call alone, one after another (a refused batch is rare).
async fn one_by_one<Q, A, F, Fut>(requests: Vec<Q>, call: F) -> Vec<Answer<A>>
where
    F: Fn(Q) -> Fut,
    Fut: Future<Output = Answer<A>>,
{
    let mut answers = Vec::with_capacity(requests.len());
    for request in requests {
        answers.push(call(request).await);
    }
    answers
}

/// An answer that does not match the batch asked: whether anything was applied is not known.
fn odd<A: Clone>(n: usize) -> Vec<Answer<A>> {
    let why = "etcd answered a batch with other answers than it was asked";
    vec![Err(Trouble::Unanswered(why.into())); n]
}
