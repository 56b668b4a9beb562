//! `/relay`: reads another service's token over HTTP(S) for the inspector. `shared::relay`
//! decides what may be read and what every outcome answers; this only connects, reads at most
//! `MAX_ANSWER_BYTES` within `TIMEOUT_MS`, and follows the redirects it is told to.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{CONTENT_TYPE, LOCATION};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use shared::http::Response;
use shared::relay::{Failure, Fetched, Next, Relay, Upstream, MAX_ANSWER_BYTES, TIMEOUT_MS};

pub struct Relayer {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Relayer {
    pub fn new() -> Relayer {
        // The system's CA certificates (a private CA in a data centre), else webpki's.
        let builder = HttpsConnectorBuilder::new();
        let builder = match builder.with_native_roots() {
            Ok(b) => b,
            Err(_) => HttpsConnectorBuilder::new().with_webpki_roots(),
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_millis(TIMEOUT_MS)));
        let connector = builder.https_or_http().enable_http1().wrap_connector(http);
        Relayer {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
        }
    }

    /// Reads `first` (and the redirects `shared::relay` allows) within the time limit.
    pub async fn read(&self, first: Upstream) -> Response {
        let mut relay = Relay::new(first);
        let deadline = tokio::time::Instant::now() + Duration::from_millis(TIMEOUT_MS);
        loop {
            let read = match tokio::time::timeout_at(deadline, self.get(relay.upstream())).await {
                Err(_) => return relay.timed_out(),
                Ok(read) => read,
            };
            match relay.read(read) {
                Next::Done(r) => return r,
                Next::Follow(_) => continue,
            }
        }
    }

    async fn get(&self, upstream: &Upstream) -> Result<Fetched, Failure> {
        let uri: hyper::Uri = upstream
            .to_string()
            .parse()
            .map_err(|e| Failure::Unreachable(format!("{e}")))?;
        let req = hyper::Request::get(uri)
            .header("Accept", "application/json")
            .header("User-Agent", "rendezvous-relay")
            .body(Empty::new())
            .map_err(|e| Failure::Unreachable(format!("{e}")))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| Failure::Unreachable(describe(&e)))?;
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let status = resp.status().as_u16();
        let etcd_index = header(hyper::header::HeaderName::from_static("x-etcd-index"));
        let location = header(LOCATION);
        let content_type = header(CONTENT_TYPE);
        let body = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    Failure::TooLarge
                } else {
                    Failure::Unreachable(format!("the answer broke off: {e}"))
                }
            })?
            .to_bytes();
        Ok(Fetched {
            status,
            etcd_index,
            location,
            content_type,
            body: body.into(),
        })
    }
}

/// The innermost cause of a client error ("connection refused", a TLS alert), which the
/// outer layers only wrap.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = e;
    while let Some(source) = inner.source() {
        inner = source;
    }
    inner.to_string()
}
