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

/// Runs one member with id `id` (hex) and value `name=peerURL` against `endpoint`.
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
    let mine = format!("{registry}/members/{id}").into_bytes();

    let read_size = |kvs: Vec<mvccpb::KeyValue>| {
        let kv = kvs.first().ok_or("size not found")?;
        std::str::from_utf8(&kv.value)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .ok_or_else(|| "bad size key".to_string())
    };
    let list = |kvs: Vec<mvccpb::KeyValue>| -> Vec<(Vec<u8>, i64)> {
        kvs.into_iter()
            .map(|k| (k.key, k.create_revision))
            .collect()
    };
    let members_end = prefix_end(&members);

    let size = read_size(range(&mut kv, &size_key, Vec::new(), "size").await?.0)?;
    range(&mut kv, &members, members_end.clone(), "members").await?;
    kv.put(PutRequest {
        key: mine.clone(),
        value: value.as_bytes().to_vec(),
        ..PutRequest::default()
    })
    .await
    .map_err(|s| format!("put: {s}"))?;
    let size = match range(&mut kv, &size_key, Vec::new(), "size").await {
        Ok((kvs, _)) => read_size(kvs).unwrap_or(size),
        Err(_) => size,
    };
    let (kvs, revision) = range(&mut kv, &members, members_end.clone(), "members").await?;
    let mut known = list(kvs);

    if known.len() < size {
        let mut watch = WatchClient::new(channel);
        let create = WatchRequest {
            request_union: Some(RequestUnion::CreateRequest(WatchCreateRequest {
                key: members.clone(),
                range_end: members_end,
                start_revision: revision + 1,
                ..WatchCreateRequest::default()
            })),
        };
        let mut answers = watch
            .watch(tokio_stream::iter([create]).chain(tokio_stream::pending()))
            .await
            .map_err(|s| format!("watch: {s}"))?
            .into_inner();
        while known.len() < size {
            let answer = answers
                .next()
                .await
                .ok_or("the watch ended")?
                .map_err(|s| format!("watch: {s}"))?;
            if answer.canceled {
                return Err(format!("watch canceled: {}", answer.cancel_reason));
            }
            for e in answer.events {
                if let Some(k) = e.kv {
                    if !known.iter().any(|(key, _)| *key == k.key) {
                        known.push((k.key, k.create_revision));
                    }
                }
            }
        }
    }
    known.sort_by_key(|(_, rev)| *rev);
    let cluster: Vec<String> = known
        .iter()
        .take(size)
        .map(|(key, _)| {
            String::from_utf8_lossy(key)
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    Ok(if cluster.iter().any(|c| c == id) {
        Joined::Founder(cluster)
    } else {
        Joined::Full(cluster)
    })
}
