//! A simulated etcd 3.6+ member: the request sequence of etcd's v3 discovery client
//! (`v3discovery.joinCluster`): read the size, list the members, put its own key, read both
//! again, then watch the members' prefix from the listing's revision until `size` members are
//! known; sort them by create revision, and found the cluster if among the first `size`, else
//! fail with "cluster is full" (3.6 has no proxies). Errors end it, as they would end etcd's
//! attempt.

use shared::v3::key::prefix_end;
use tokio_stream::StreamExt;

/// etcd's v3 messages and client (built from the server's proto/ subset).
#[allow(clippy::all)]
pub mod etcdserverpb {
    tonic::include_proto!("etcdserverpb");
}
#[allow(clippy::all)]
pub mod mvccpb {
    tonic::include_proto!("mvccpb");
}

use etcdserverpb::kv_client::KvClient;
use etcdserverpb::watch_client::WatchClient;
use etcdserverpb::watch_request::RequestUnion;
use etcdserverpb::{PutRequest, RangeRequest, WatchCreateRequest, WatchRequest};

/// How a member's discovery ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    /// Among the first `size` by create revision: these are the cluster's member ids, in order.
    Founder(Vec<String>),
    /// "cluster is full": the first `size` are these, and this member is not one of them.
    Full(Vec<String>),
}

/// One range: the keys from `key` (to `range_end`, if any) with their create revisions, and
/// the header's revision.
async fn range(
    kv: &mut KvClient<tonic::transport::Channel>,
    key: &[u8],
    range_end: Vec<u8>,
    what: &str,
) -> Result<(Vec<mvccpb::KeyValue>, i64), String> {
    let req = RangeRequest {
        key: key.to_vec(),
        range_end,
        ..RangeRequest::default()
    };
    let r = kv
        .range(req)
        .await
        .map_err(|s| format!("{what}: {s}"))?
        .into_inner();
    Ok((r.kvs, r.header.map_or(0, |h| h.revision)))
}

/// The members known so far, as etcd's `clusterInfo` keeps them: key and create revision, one
/// entry per key, values without a `=` skipped, in create-revision order.
#[derive(Default)]
struct Known(Vec<(Vec<u8>, i64)>);

impl Known {
    fn add(&mut self, kv: mvccpb::KeyValue) {
        if !kv.value.contains(&b'=') || self.0.iter().any(|(k, _)| *k == kv.key) {
            return;
        }
        self.0.push((kv.key, kv.create_revision));
        self.0.sort_by_key(|(_, rev)| *rev);
    }

    /// The first `size` member ids.
    fn cluster(&self, size: usize) -> Vec<String> {
        self.0
            .iter()
            .take(size)
            .map(|(key, _)| {
                String::from_utf8_lossy(key)
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    /// etcd's `checkCluster` verdict: full when `size` others come before `mine` (or are all
    /// there is, before it has registered).
    fn full_without(&self, mine: &[u8], size: usize) -> bool {
        let before = self.0.iter().take_while(|(k, _)| *k != mine).count();
        before >= size
    }
}

/// etcd's `checkCluster` reads: the size (missing or bad ends the member), then the members
/// under `members` and the listing's revision.
async fn check_cluster(
    kv: &mut KvClient<tonic::transport::Channel>,
    size_key: &[u8],
    members: &[u8],
) -> Result<(usize, Known, i64), String> {
    let (kvs, _) = range(kv, size_key, Vec::new(), "size").await?;
    let size = kvs.first().ok_or("discovery: size key not found")?;
    let size = std::str::from_utf8(&size.value)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .ok_or("discovery: size key is bad")?;
    let (kvs, revision) = range(kv, members, prefix_end(members), "members").await?;
    let mut known = Known::default();
    kvs.into_iter().for_each(|k| known.add(k));
    Ok((size, known, revision))
}

/// Runs one member with id `id` (hex) and value `name=peerURL` against `endpoint`, as
/// `joinCluster` does: `checkCluster` (size, members, and "cluster is full" if `size` others
/// are there already), `registerSelf`, `checkCluster` again, then `waitPeers` from the listing's
/// revision + 1 until `size` are known, watching again whenever a watch ends (as etcd does).
/// Where etcd would retry an error after a back-off, the simulated member fails instead.
pub async fn member(endpoint: &str, token: &str, id: &str, value: &str) -> Result<Joined, String> {
    // One connection for every call, as etcd's client shares one gRPC channel.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{endpoint}"))
        .map_err(|e| format!("endpoint: {e}"))?
        .connect()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut kv = KvClient::new(channel.clone());
    let registry = format!("/_etcd/registry/{token}");
    let size_key = format!("{registry}/_config/size").into_bytes();
    let members = format!("{registry}/members").into_bytes();
    let members_end = prefix_end(&members);
    let mine = format!("{registry}/members/{id}").into_bytes();

    let (size, known, _) = check_cluster(&mut kv, &size_key, &members).await?;
    if known.full_without(&mine, size) {
        return Ok(Joined::Full(known.cluster(size)));
    }
    kv.put(PutRequest {
        key: mine.clone(),
        value: value.as_bytes().to_vec(),
        ..PutRequest::default()
    })
    .await
    .map_err(|s| format!("put: {s}"))?;
    let (size, mut known, revision) = check_cluster(&mut kv, &size_key, &members).await?;
    if known.full_without(&mine, size) {
        return Ok(Joined::Full(known.cluster(size)));
    }

    let mut watch = WatchClient::new(channel);
    while known.0.len() < size {
        let create = WatchRequest {
            request_union: Some(RequestUnion::CreateRequest(WatchCreateRequest {
                key: members.clone(),
                range_end: members_end.clone(),
                start_revision: revision + 1,
                ..WatchCreateRequest::default()
            })),
        };
        let mut answers = watch
            .watch(tokio_stream::iter([create]).chain(tokio_stream::pending()))
            .await
            .map_err(|s| format!("watch: {s}"))?
            .into_inner();
        // Until this watch ends (canceled, or its stream closed): then the loop watches again.
        while let Some(Ok(answer)) = answers.next().await {
            answer
                .events
                .into_iter()
                .flat_map(|e| e.kv)
                .for_each(|k| known.add(k));
            if known.0.len() >= size || answer.canceled {
                break;
            }
        }
    }
    let cluster = known.cluster(size);
    Ok(if cluster.iter().any(|c| c == id) {
        Joined::Founder(cluster)
    } else {
        Joined::Full(cluster)
    })
}
