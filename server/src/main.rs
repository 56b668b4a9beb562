//! `rendezvous`: the native shell. The same etcd discovery service as the Worker (the rules are
//! all `shared`'s), served by one binary: its own HTTP/1.1 layer, SQLite on disk for the store
//! (or an etcd cluster shared by replicas, `--store etcd://`), tokio timers for waits, member
//! TTLs and token ends.

mod alarms;
mod assets;
mod cli;
mod gate;
mod grpc;
mod handler;
mod http;
mod listener;
mod log;
mod metrics;
mod now;
mod proto;
mod relay;
mod store;
mod tokens;

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use shared::rate::Limiter;
use tokio::sync::watch;

use crate::alarms::Alarms;
use crate::assets::Assets;
use crate::cli::Cli;
use crate::handler::App;
use crate::store::etcd::{client::Address, Etcd};
use crate::store::sqlite::Sqlite;
use crate::store::Store;
use crate::tokens::Tokens;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    log::init(cli.log_format);
    let settings = match cli.settings() {
        Ok(s) => s,
        Err(why) => {
            tracing::error!("{why}");
            return ExitCode::from(2);
        }
    };
    let proxy_header = cli.trusted_proxy_header.clone();
    if let Some(h) = &proxy_header {
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if h.is_empty() || !h.bytes().all(token) {
            tracing::error!("--trusted-proxy-header: {h:?} is not a header name");
            return ExitCode::from(2);
        }
    }
    if let Err(why) = raise_open_file_limit() {
        tracing::warn!("the open-file limit: {why}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Store reads run here, one SQLite connection each: a burst of tokens read at once
        // queues for these rather than opening hundreds of connections.
        .max_blocking_threads(8)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli, settings, proxy_header))
}

async fn run(cli: Cli, settings: shared::Settings, proxy_header: Option<String>) -> ExitCode {
    let listener = match listener::bind(cli.listen) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {}: {e}", cli.listen);
            return ExitCode::FAILURE;
        }
    };
    let identity = match (&cli.grpc_tls_cert, &cli.grpc_tls_key) {
        (Some(cert), Some(key)) => match grpc::tls(cert, key) {
            Ok(i) => Some(i),
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let grpc_listener = match cli.grpc_listen.map(grpc::bind).transpose() {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let metrics_listener = match cli.metrics_listen.map(metrics::bind).transpose() {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let assets = match Assets::load(&cli.assets) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!("cannot read the app in {}: {e}", cli.assets.display());
            return ExitCode::FAILURE;
        }
    };
    let store: Arc<dyn Store> = match &cli.store {
        None => Arc::new(Sqlite::open(&cli.data_dir)),
        Some(url) => {
            match Address::parse(url).and_then(|a| Etcd::connect(&a, &cli.store_security())) {
                Ok(etcd) => Arc::new(etcd),
                Err(why) => {
                    tracing::error!("--store: {why}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let (stop, stopped) = watch::channel(false);
    let alarms = Arc::new(Alarms::default());
    let clock = now::system();
    let tokens = Arc::new(Tokens::new(
        store.clone(),
        settings.limits.clone(),
        alarms.clone(),
        clock.clone(),
    ));
    match tokens.purge_orphans().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!("deleted {n} tokens with events and no meta"),
        Err(why) => tracing::warn!("could not look for tokens without meta: {why}"),
    }
    // Writes through other replicas wake the waits parked here.
    store.observe(tokens.clone(), stopped.clone());
    tokio::spawn(alarms.run(tokens.clone(), store.clone(), clock, stopped.clone()));
    tokio::spawn(sweep(tokens.clone(), stopped.clone()));
    tokio::spawn(on_signal(stop, tokens.clone()));
    if let Some(l) = metrics_listener {
        if let Ok(addr) = l.local_addr() {
            tracing::info!("metrics on http://{addr}/metrics");
        }
        let gauges = Arc::new(Gauges {
            tokens: tokens.clone(),
            store: store.clone(),
        });
        tokio::spawn(metrics::serve(l, gauges, stopped.clone()));
    }

    if let Some(l) = grpc_listener {
        if let Ok(addr) = l.local_addr() {
            let over = if identity.is_some() {
                "TLS"
            } else {
                "plain HTTP/2"
            };
            tracing::info!("serving etcd's v3 API (gRPC, {over}) on {addr}");
        }
        let mut stopped = stopped.clone();
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        let tokens = tokens.clone();
        tokio::spawn(async move {
            if let Err(e) = grpc::serve(l, identity, tokens, shutdown).await {
                tracing::error!("{e}");
            }
        });
    }
    let listen = listener::bound(&listener).unwrap_or(cli.listen);
    tracing::info!(
        "serving http://{listen} (store {}, app: {} files)",
        store.describe(),
        assets.len()
    );
    let app = Arc::new(App {
        mint_limiter: Mutex::new(Limiter::new(settings.limits.mints_per_minute)),
        relay_limiter: Mutex::new(Limiter::new(settings.limits.relays_per_minute)),
        relayer: relay::Relayer::new(),
        settings,
        tokens,
        assets,
        trusted_proxy_header: proxy_header,
        listen,
    });
    let limits = listener::Limits {
        max_connections: cli.max_connections,
        timeouts: http::connection::Timeouts {
            header: Duration::from_secs(cli.header_timeout_seconds.max(1)),
            body: Duration::from_secs(cli.body_timeout_seconds.max(1)),
        },
    };
    listener::serve(listener, app, limits, stopped).await;
    // Every answer is out; store what is queued and close the database.
    store.close();
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// What the metrics read at a scrape: the tokens in memory and their parked waits, and whether
/// this process fires the store's alarms.
struct Gauges {
    tokens: Arc<Tokens>,
    store: Arc<dyn Store>,
}

impl metrics::Gauges for Gauges {
    fn refresh(&self, m: &metrics::Metrics) {
        let (tokens, waits) = self.tokens.in_memory_and_waiting();
        m.tokens_in_memory.set(tokens as i64);
        m.waits_parked.set(waits as i64);
        m.leads.set(i64::from(self.store.fires_alarms()));
    }
}

/// SIGTERM or SIGINT: stop accepting, answer parked waits, finish writes, exit 0.
async fn on_signal(stop: watch::Sender<bool>, tokens: Arc<Tokens>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for signals");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("shutting down");
    let _ = stop.send(true);
    tokens.end_waits();
}

/// A few times a second, ends the waits whose deadline has come; every few seconds, drops idle
/// tokens from memory (they are read from the store when next asked for).
async fn sweep(tokens: Arc<Tokens>, mut stopped: watch::Receiver<bool>) {
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        tokens.end_idle_waits();
        ticks += 1;
        if ticks.is_multiple_of(20) {
            tokens.evict_idle();
        }
    }
}

/// Thousands of members at once each hold a socket: takes the open-file limit up to what the
/// system allows this process. The limit now, or why it could not be read or raised.
fn raise_open_file_limit() -> Result<u64, String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(format!("getrlimit: {}", std::io::Error::last_os_error()));
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                return Err(format!(
                    "setrlimit to {}: {} (it stays {})",
                    lim.rlim_max,
                    std::io::Error::last_os_error(),
                    lim.rlim_cur
                ));
            }
            lim = raised;
        }
    }
    Ok(lim.rlim_cur)
}
