//! etcd's v3 API over gRPC for etcd 3.6+ members (`--discovery-endpoints`): the subset
//! discovery uses, on its own listener (plain HTTP/2 by default, as members dial it).
//! `shared::v3` decides every answer; this moves protobuf messages in and out of it.

mod auth;
mod kv;
mod maintenance;
mod watch;

use std::net::SocketAddr;
use std::sync::Arc;

use shared::v3::{Code, Kv, Refusal};
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::tokens::Tokens;

pub use crate::proto::{etcdserverpb, mvccpb};

use etcdserverpb::ResponseHeader;

/// This server's ids in every header: one member of a one-member "cluster".
const CLUSTER_ID: u64 = 0x7265_6e64_657a_766f; // "rendezvo"
const MEMBER_ID: u64 = 1;

fn header(revision: i64) -> Option<ResponseHeader> {
    Some(ResponseHeader {
        cluster_id: CLUSTER_ID,
        member_id: MEMBER_ID,
        revision,
        raft_term: 1,
    })
}

fn kv(k: Kv) -> mvccpb::KeyValue {
    mvccpb::KeyValue {
        key: k.key,
        create_revision: k.create_revision,
        mod_revision: k.mod_revision,
        version: k.version,
        value: k.value,
        lease: 0,
    }
}

/// A refusal as the gRPC status etcd's clients read.
fn status(r: Refusal) -> tonic::Status {
    let code = match r.code {
        Code::InvalidArgument => tonic::Code::InvalidArgument,
        Code::NotFound => tonic::Code::NotFound,
        Code::PermissionDenied => tonic::Code::PermissionDenied,
        Code::ResourceExhausted => tonic::Code::ResourceExhausted,
        Code::FailedPrecondition => tonic::Code::FailedPrecondition,
        Code::OutOfRange => tonic::Code::OutOfRange,
        Code::Unimplemented => tonic::Code::Unimplemented,
        Code::Unavailable => tonic::Code::Unavailable,
    };
    tonic::Status::new(code, r.message)
}

/// Storage trouble: etcd's clients retry UNAVAILABLE.
fn unavailable(why: String) -> tonic::Status {
    tonic::Status::unavailable(format!("temporarily unavailable: {why}"))
}

/// The gRPC listener, bound at start so that a taken port stops the server at once, with the
/// HTTP listener's deep queue: members of many clusters dial at once, and each one the kernel
/// turns away waits a second to dial again.
pub fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    crate::listener::bind(listen).map_err(|e| format!("cannot listen for gRPC on {listen}: {e}"))
}

/// The TLS identity from a certificate chain and its key (PEM files), read at start.
pub fn tls(cert: &std::path::Path, key: &std::path::Path) -> Result<Identity, String> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    Ok(Identity::from_pem(read(cert)?, read(key)?))
}

/// Largest message read: a member's value is at most `MAX_VALUE_BYTES` (4 KiB by default).
const MAX_MESSAGE: usize = 64 * 1024;

/// Serves the v3 subset on `listener` (over TLS with `identity`) until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    identity: Option<Identity>,
    tokens: Arc<Tokens>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    // Small answers must leave at once: without TCP_NODELAY, Nagle's algorithm and the peer's
    // delayed ACK hold each for up to 40 ms.
    let incoming = tokio_stream::StreamExt::map(
        tokio_stream::wrappers::TcpListenerStream::new(listener),
        |conn| {
            conn.inspect(|c| {
                let _ = c.set_nodelay(true);
            })
        },
    );
    let mut server = Server::builder();
    if let Some(identity) = identity {
        server = server
            .tls_config(ServerTlsConfig::new().identity(identity))
            .map_err(|e| format!("gRPC TLS: {e}"))?;
    }
    server
        .add_service(
            etcdserverpb::kv_server::KvServer::new(kv::KvService {
                tokens: tokens.clone(),
            })
            .max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            etcdserverpb::watch_server::WatchServer::new(watch::WatchService {
                tokens: tokens.clone(),
            })
            .max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            etcdserverpb::auth_server::AuthServer::new(auth::AuthService)
                .max_decoding_message_size(MAX_MESSAGE),
        )
        .add_service(
            etcdserverpb::maintenance_server::MaintenanceServer::new(
                maintenance::MaintenanceService,
            )
            .max_decoding_message_size(MAX_MESSAGE),
        )
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .map_err(|e| format!("gRPC: {e}"))
}
