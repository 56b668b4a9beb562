//! The connection to the etcd cluster the replicas share: one gRPC channel per endpoint, each
//! call sent to the one in use, which moves on to the next when a call to it fails. Optional
//! TLS (a CA, a client certificate) and etcd's own users: a password login gives a token that
//! goes with every call and is renewed when etcd no longer takes it.
//!
//! Built on the server's own tonic over the same protos as the v3 server (`crate::proto`): the
//! `etcd-client` crate would bring a second copy of the same messages and its own tonic.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Request, Status, Streaming};

use crate::proto::etcdserverpb::auth_client::AuthClient;
use crate::proto::etcdserverpb::kv_client::KvClient;
use crate::proto::etcdserverpb::lease_client::LeaseClient;
use crate::proto::etcdserverpb::watch_client::WatchClient;
use crate::proto::etcdserverpb::*;

/// One call's time limit: etcd answers a write within its election timeout when it has a
/// leader; longer means it has none (the caller answers 503, and etcd members retry).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// HTTP/2 pings: a member that stops answering (SIGSTOP, a cut network) is noticed within
/// about this, and its calls and watch move to another.
const KEEPALIVE: Duration = Duration::from_secs(2);
/// The largest answer taken from etcd (a batch of reads; see `batch`).
const LARGEST_ANSWER: usize = 256 << 20;

/// Where the store is: `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub endpoints: Vec<String>,
    /// Every key the store writes starts with this; it ends with `/`.
    pub prefix: String,
}

impl Address {
    pub fn parse(url: &str) -> Result<Address, String> {
        let rest = url.strip_prefix("etcd://").ok_or_else(|| {
            format!("{url:?}: a store is etcd://HOST:PORT[,HOST:PORT...][/PREFIX]")
        })?;
        let (hosts, prefix) = match rest.split_once('/') {
            Some((h, p)) => (h, p.trim_matches('/')),
            None => (rest, ""),
        };
        let mut endpoints = Vec::new();
        for host in hosts.split(',').map(str::trim) {
            let port = host.rsplit_once(':').map(|(_, p)| p);
            if host.is_empty() || !port.is_some_and(|p| p.parse::<u16>().is_ok_and(|p| p > 0)) {
                return Err(format!(
                    "{url:?}: {host:?} is not HOST:PORT (etcd's client port, usually 2379)"
                ));
            }
            endpoints.push(host.to_string());
        }
        let prefix = if prefix.is_empty() {
            "/rendezvous/".to_string()
        } else {
            format!("/{prefix}/")
        };
        Ok(Address { endpoints, prefix })
    }
}

/// How to reach a secured cluster.
#[derive(Debug, Clone, Default)]
pub struct Security {
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Why a call got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trouble {
    /// No answer (no connection, no leader, a timeout): a write may or may not have been
    /// applied. Transient: the shells answer 503.
    Unanswered(String),
    /// etcd answered no (a permission, a malformed call): nothing was applied.
    Refused(String),
}

impl std::fmt::Display for Trouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Trouble::Unanswered(why) => write!(f, "the store's etcd did not answer: {why}"),
            Trouble::Refused(why) => write!(f, "the store's etcd refused: {why}"),
        }
    }
}

/// A watch stream, and the endpoint it is on.
pub struct Watching {
    /// Held, never read: the stream ends when its requests do.
    _requests: tokio::sync::mpsc::Sender<WatchRequest>,
    pub stream: Streaming<WatchResponse>,
    pub endpoint: String,
}

pub struct Client {
    channels: Vec<(String, Channel)>,
    /// The endpoint calls go to.
    current: AtomicUsize,
    login: Option<Login>,
}

struct Login {
    user: String,
    password: String,
    token: RwLock<Option<MetadataValue<Ascii>>>,
}

impl Client {
    /// Channels to every endpoint, connected when first used.
    pub fn new(address: &Address, security: &Security) -> Result<Client, String> {
        let login = match (&security.user, &security.password) {
            (Some(user), password) => Some(Login {
                user: user.clone(),
                password: password.clone().unwrap_or_default(),
                token: RwLock::new(None),
            }),
            (None, Some(_)) => return Err("--store-password needs --store-user".into()),
            (None, None) => None,
        };
        let tls = tls(security)?;
        let mut channels = Vec::new();
        for host in &address.endpoints {
            let scheme = if tls.is_some() { "https" } else { "http" };
            let mut endpoint = Endpoint::from_shared(format!("{scheme}://{host}"))
                .map_err(|e| format!("{host}: {e}"))?
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(CALL_TIMEOUT)
                .http2_keep_alive_interval(KEEPALIVE)
                .keep_alive_timeout(KEEPALIVE)
                .keep_alive_while_idle(true)
                .tcp_nodelay(true);
            if let Some(tls) = &tls {
                let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
                endpoint = endpoint
                    .tls_config(tls.clone().domain_name(name.trim_matches(['[', ']'])))
                    .map_err(|e| format!("{host}: TLS: {e}"))?;
            }
            channels.push((host.clone(), endpoint.connect_lazy()));
        }
        Ok(Client {
            channels,
            current: AtomicUsize::new(0),
            login,
        })
    }

    /// The endpoint in use and its channel.
    fn channel(&self) -> (usize, &Channel) {
        let i = self.current.load(Ordering::Relaxed) % self.channels.len();
        (i, &self.channels[i].1)
    }

    /// After a failed call to endpoint `i`: the next calls go to the next endpoint (unless
    /// another call moved on already).
    fn move_on(&self, i: usize) {
        let next = (i + 1) % self.channels.len();
        let _ = self
            .current
            .compare_exchange(i, next, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub fn endpoint_names(&self) -> Vec<&str> {
        self.channels.iter().map(|(h, _)| h.as_str()).collect()
    }

    /// A read: tried on each endpoint in turn until one answers.
    pub async fn range(&self, range: RangeRequest) -> Result<RangeResponse, Trouble> {
        self.read(range, |channel, req| {
            let mut kv = kv(channel);
            async move { kv.range(req).await }
        })
        .await
    }

    /// A transaction of reads only (many ranges read at one revision): tried on each endpoint
    /// in turn, as `range` is, since reading twice does no harm.
    pub async fn read_txn(&self, txn: TxnRequest) -> Result<TxnResponse, Trouble> {
        debug_assert!(txn.compare.is_empty() && txn.success.iter().all(is_range));
        self.read(txn, |channel, req| {
            let mut kv = kv(channel);
            async move { kv.txn(req).await }
        })
        .await
    }

    /// A read (idempotent), tried on each endpoint in turn until one answers, and counted in
    /// the metrics as one.
    async fn read<M: Clone, T, F, Fut>(&self, msg: M, call: F) -> Result<T, Trouble>
    where
        F: Fn(Channel, Request<M>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let started = std::time::Instant::now();
        let answer = self.anywhere(msg, call).await;
        crate::metrics::get().store_call("range", started.elapsed(), answer.is_err());
        answer
    }

    /// `read`'s tries, one endpoint after another.
    async fn anywhere<M: Clone, T, F, Fut>(&self, msg: M, call: F) -> Result<T, Trouble>
    where
        F: Fn(Channel, Request<M>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let mut last = None;
        for _ in 0..self.channels.len() {
            let (i, channel) = self.channel();
            let sent = self
                .authorized(msg.clone(), |req| call(channel.clone(), req))
                .await;
            match sent {
                Ok(r) => return Ok(r),
                Err(Trouble::Unanswered(why)) => {
                    self.move_on(i);
                    last = Some(Trouble::Unanswered(format!(
                        "{}: {why}",
                        self.channels[i].0
                    )));
                }
                Err(refused) => return Err(refused),
            }
        }
        Err(last.unwrap_or_else(|| Trouble::Unanswered("no endpoints".into())))
    }

    /// A transaction, sent once: after `Unanswered` the caller reads back what it wrote to
    /// learn whether it was applied.
    pub async fn txn(&self, txn: TxnRequest) -> Result<TxnResponse, Trouble> {
        let started = std::time::Instant::now();
        let (i, channel) = self.channel();
        let sent = self
            .authorized(txn, |req| {
                let mut kv = kv(channel.clone());
                async move { kv.txn(req).await }
            })
            .await;
        if matches!(sent, Err(Trouble::Unanswered(_))) {
            self.move_on(i);
        }
        crate::metrics::get().store_call("txn", started.elapsed(), sent.is_err());
        sent
    }

    /// A watch stream on the endpoint in use (which moves on when it fails). etcd ends it on a
    /// member cut off from its cluster's leader (`hasleader`), so the watcher moves on too.
    pub async fn watch(&self, first: WatchRequest) -> Result<Watching, Trouble> {
        let (i, channel) = self.channel();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let _ = tx.send(first).await;
        let sent = self
            .authorized_stream(tokio_stream::wrappers::ReceiverStream::new(rx), |req| {
                let mut w = WatchClient::new(channel.clone());
                async move { w.watch(req).await }
            })
            .await;
        match sent {
            Ok(stream) => Ok(Watching {
                _requests: tx,
                stream,
                endpoint: self.channels[i].0.clone(),
            }),
            Err(t) => {
                self.move_on(i);
                Err(t)
            }
        }
    }

    pub async fn lease_grant(&self, ttl_secs: i64) -> Result<i64, Trouble> {
        let (i, channel) = self.channel();
        let sent = self
            .authorized(
                LeaseGrantRequest {
                    ttl: ttl_secs,
                    id: 0,
                },
                |req| {
                    let mut l = LeaseClient::new(channel.clone());
                    async move { l.lease_grant(req).await }
                },
            )
            .await;
        match sent {
            Ok(r) if r.error.is_empty() => Ok(r.id),
            Ok(r) => Err(Trouble::Refused(r.error)),
            Err(t) => {
                self.move_on(i);
                Err(t)
            }
        }
    }

    /// Renews a lease once; its TTL left (0: it is gone).
    pub async fn lease_keep_alive(&self, id: i64) -> Result<i64, Trouble> {
        let (i, channel) = self.channel();
        let sent = self
            .authorized_stream(tokio_stream::once(LeaseKeepAliveRequest { id }), |req| {
                let mut l = LeaseClient::new(channel.clone());
                async move { l.lease_keep_alive(req).await }
            })
            .await;
        let answer = match sent {
            Ok(mut stream) => stream.message().await.map_err(|s| trouble(&s)),
            Err(t) => Err(t),
        };
        match answer {
            Ok(Some(r)) => Ok(r.ttl),
            Ok(None) => Ok(0),
            Err(t) => {
                self.move_on(i);
                Err(t)
            }
        }
    }

    pub async fn lease_revoke(&self, id: i64) -> Result<(), Trouble> {
        let (_, channel) = self.channel();
        self.authorized(LeaseRevokeRequest { id }, |req| {
            let mut l = LeaseClient::new(channel.clone());
            async move { l.lease_revoke(req).await }
        })
        .await
        .map(|_| ())
    }

    /// Sends `msg` through `call` with the login's token, logging in first when there is none
    /// and once more when etcd says the token is no longer valid.
    async fn authorized<M: Clone, T, F, Fut>(&self, msg: M, call: F) -> Result<T, Trouble>
    where
        F: Fn(Request<M>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        for attempt in 0..2 {
            let mut req = Request::new(msg.clone());
            self.sign(&mut req, attempt > 0).await?;
            match call(req).await {
                Ok(r) => return Ok(r.into_inner()),
                Err(s) if attempt == 0 && self.login.is_some() && stale_token(&s) => continue,
                Err(s) => return Err(trouble(&s)),
            }
        }
        unreachable!("the loop returns")
    }

    async fn authorized_stream<S, T, F, Fut>(&self, stream: S, call: F) -> Result<T, Trouble>
    where
        F: FnOnce(Request<S>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let mut req = Request::new(stream);
        self.sign(&mut req, false).await?;
        req.metadata_mut()
            .insert("hasleader", MetadataValue::from_static("true"));
        match call(req).await {
            Ok(r) => Ok(r.into_inner()),
            Err(s) => {
                if stale_token(&s) {
                    self.forget_token();
                }
                Err(trouble(&s))
            }
        }
    }

    fn forget_token(&self) {
        if let Some(l) = &self.login {
            *l.token.write().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Puts the login's token on `req`, logging in if there is none (or `fresh` asks anew).
    async fn sign<M>(&self, req: &mut Request<M>, fresh: bool) -> Result<(), Trouble> {
        let Some(login) = &self.login else {
            return Ok(());
        };
        if fresh {
            self.forget_token();
        }
        let held = login
            .token
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let token = match held {
            Some(t) => t,
            None => {
                let (_, channel) = self.channel();
                let answer = AuthClient::new(channel.clone())
                    .authenticate(AuthenticateRequest {
                        name: login.user.clone(),
                        password: login.password.clone(),
                    })
                    .await
                    .map_err(|s| trouble(&s))?
                    .into_inner();
                let t = MetadataValue::try_from(answer.token.as_str())
                    .map_err(|_| Trouble::Refused("etcd gave an unreadable auth token".into()))?;
                *login.token.write().unwrap_or_else(|e| e.into_inner()) = Some(t.clone());
                t
            }
        };
        req.metadata_mut().insert("token", token);
        Ok(())
    }
}

/// What a gRPC status means for the store.
fn trouble(s: &Status) -> Trouble {
    let why = if s.message().is_empty() {
        format!("{:?}", s.code())
    } else {
        s.message().to_string()
    };
    match s.code() {
        Code::InvalidArgument
        | Code::PermissionDenied
        | Code::Unauthenticated
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::AlreadyExists
        | Code::NotFound => Trouble::Refused(why),
        _ => Trouble::Unanswered(why),
    }
}

/// etcd's word for a token it no longer takes (it restarted, or the token's TTL passed).
fn stale_token(s: &Status) -> bool {
    s.message().contains("invalid auth token")
        || (s.code() == Code::Unauthenticated && !s.message().contains("authentication failed"))
}

fn tls(security: &Security) -> Result<Option<ClientTlsConfig>, String> {
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut config = ClientTlsConfig::new();
    let mut any = false;
    if let Some(ca) = &security.cacert {
        config = config.ca_certificate(Certificate::from_pem(read(ca)?));
        any = true;
    }
    match (&security.cert, &security.key) {
        (Some(cert), Some(key)) => {
            config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
            any = true;
        }
        (None, None) => {}
        _ => return Err("--store-cert and --store-key go together".into()),
    }
    Ok(any.then_some(config))
}

fn is_range(op: &RequestOp) -> bool {
    matches!(op.request, Some(request_op::Request::RequestRange(_)))
}

/// A KV client that takes answers as large as a batch of reads may be (tonic's default is
/// 4 MiB; etcd sends what it has).
fn kv(channel: Channel) -> KvClient<Channel> {
    KvClient::new(channel).max_decoding_message_size(LARGEST_ANSWER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_addresses_read_as_endpoints_and_a_prefix() {
        let a =
            Address::parse("etcd://10.0.0.1:2379,10.0.0.2:2379,e3.example:2379/discovery").unwrap();
        assert_eq!(
            a.endpoints,
            ["10.0.0.1:2379", "10.0.0.2:2379", "e3.example:2379"]
        );
        assert_eq!(a.prefix, "/discovery/");
        let a = Address::parse("etcd://127.0.0.1:2379").unwrap();
        assert_eq!(a.prefix, "/rendezvous/");
        assert_eq!(
            Address::parse("etcd://h:1/a/b/").unwrap().prefix,
            "/a/b/",
            "nested prefixes keep their slashes"
        );
        for bad in [
            "http://h:2379",
            "etcd://",
            "etcd://h",
            "etcd://h:0",
            "etcd://h:2379,,h2:2379",
            "etcd://h:port",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_password_without_a_user_is_refused() {
        let a = Address::parse("etcd://127.0.0.1:2379").unwrap();
        let s = Security {
            password: Some("p".into()),
            ..Security::default()
        };
        assert!(Client::new(&a, &s).is_err_and(|e| e.contains("needs --store-user")));
        let s = Security {
            cert: Some("c.pem".into()),
            ..Security::default()
        };
        assert!(Client::new(&a, &s).is_err_and(|e| e.contains("go together")));
    }
}
