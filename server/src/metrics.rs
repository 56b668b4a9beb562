//! What an operator alerts on, as Prometheus metrics (`--metrics-listen`, `GET /metrics`, the
//! text format): requests by route and status with their latency, mints, registrations,
//! refusals by etcd error code, parked waits and watches, tokens in memory, conflicts between
//! replicas, the store's calls with their latency and errors, and relay reads. One registry per
//! process; the counters are bumped where the thing happens, the gauges read when scraped.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The part of the service: keys, mint, ledger, relay, ready, app.
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// etcd's `errorCode` (105 "Key already exists", 403 "cluster is full", ...).
    pub code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    /// range, txn, watch, lease; or commit (SQLite's group commit), read.
    pub op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RelayLabels {
    pub status: u16,
}

type Timings<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    // 0.25 ms to about 16 s: a wait parked for a minute lands in +Inf.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 17))
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Timings<RouteLabels>,
    pub mints: Counter,
    pub registrations: Counter,
    pub refusals: Family<RefusalLabels, Counter>,
    pub conflicts: Counter,
    pub store_latency: Timings<StoreLabels>,
    pub store_errors: Family<StoreLabels, Counter>,
    pub relay_reads: Family<RelayLabels, Counter>,
    pub waits_parked: Gauge,
    pub tokens_in_memory: Gauge,
    pub leads: Gauge,
}

impl Metrics {
    fn new() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("rendezvous"),
            requests: Family::default(),
            latency: Family::new_with_constructor(seconds),
            mints: Counter::default(),
            registrations: Counter::default(),
            refusals: Family::default(),
            conflicts: Counter::default(),
            store_latency: Family::new_with_constructor(seconds),
            store_errors: Family::default(),
            relay_reads: Family::default(),
            waits_parked: Gauge::default(),
            tokens_in_memory: Gauge::default(),
            leads: Gauge::default(),
        };
        let r = &mut m.registry;
        let help = "HTTP requests answered, by route and status";
        r.register("requests", help, m.requests.clone());
        let help = "Time to answer an HTTP request, by route (parked waits included)";
        r.register("request_seconds", help, m.latency.clone());
        r.register("mints", "Tokens minted", m.mints.clone());
        let help = "Member keys created (201 to a PUT)";
        r.register("registrations", help, m.registrations.clone());
        let help = "Keys requests refused, by etcd errorCode";
        r.register("refusals", help, m.refusals.clone());
        let help = "Writes another replica made first, applied again to what it stored";
        r.register("conflicts", help, m.conflicts.clone());
        let help = "Time of the store's calls, by operation";
        r.register("store_seconds", help, m.store_latency.clone());
        let help = "Store calls that failed (no answer, or refused), by operation";
        r.register("store_errors", help, m.store_errors.clone());
        let help = "Reads relayed for the inspector, by the status answered";
        r.register("relay_reads", help, m.relay_reads.clone());
        let help = "v2 waits and v3 watches parked in this process now";
        r.register("waits_parked", help, m.waits_parked.clone());
        let help = "Tokens held in this process's memory now";
        r.register("tokens_in_memory", help, m.tokens_in_memory.clone());
        let help = "1 while this process fires the store's alarms";
        r.register("alarm_leader", help, m.leads.clone());
        m
    }

    /// A store call of `op` that took `took`, and whether it failed.
    pub fn store_call(&self, op: &'static str, took: Duration, failed: bool) {
        let labels = StoreLabels { op };
        self.store_latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if failed {
            self.store_errors.get_or_create(&labels).inc();
        }
    }

    /// The text a scrape gets.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Reads the gauges just before a scrape.
pub trait Gauges: Send + Sync + 'static {
    fn refresh(&self, metrics: &Metrics);
}

/// Serves `GET /metrics` on `listener` until `stop`: every request gets the text (HTTP/1.0
/// style, one per connection), so any scraper or `curl` reads it.
pub async fn serve(
    listener: TcpListener,
    gauges: Arc<dyn Gauges>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (mut conn, _) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(_) => continue,
            },
            _ = stop.wait_for(|s| *s) => return,
        };
        let gauges = gauges.clone();
        tokio::spawn(async move {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            let read = async {
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), read).await;
            let line = String::from_utf8_lossy(&head);
            let path = line.split(' ').nth(1).unwrap_or("");
            let (status, body) = if path == "/metrics" || path.starts_with("/metrics?") {
                gauges.refresh(get());
                ("200 OK", get().render())
            } else {
                ("404 Not Found", "metrics are at /metrics\n".to_string())
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes()).await;
        });
    }
}

/// Binds `--metrics-listen`.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    crate::listener::bind(addr).map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))
}
