//! Accepting connections and serving each with this server's HTTP/1.1 (`http::connection`).
//! At most `--max-connections` are served at once: beyond that, new connections wait in the
//! kernel's queue until one ends, and the ones in flight go on undisturbed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{watch, Semaphore};

use crate::handler::{self, App};
use crate::http::connection::{self, Timeouts};

/// How long shutdown waits for requests still running before it lets their connections go.
const DRAIN: Duration = Duration::from_secs(10);

pub struct Limits {
    pub max_connections: usize,
    pub timeouts: Timeouts,
}

/// Serves until `shutdown` turns true, then stops accepting and lets the requests in flight
/// finish (parked waits end idle at once; idle connections close) before returning.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors or the like: the connections open go on.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let handle = |req| handler::handle(&app, req);
            connection::serve(stream, peer, limits.timeouts, stop, handle).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every connection gives its permit back when it ends.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN, permits.acquire_many(all))
        .await
        .is_err()
    {
        tracing::info!("closing connections still busy");
    }
}

/// Connections the kernel may hold for the accept loop: members start by the thousand at once,
/// and a full queue costs each one turned away a second (its SYN is sent again).
const BACKLOG: u32 = 4096;

/// Listens on `addr` with a queue of `BACKLOG` connections.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// The address a listener is bound to, for the log.
pub fn bound(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;
    use std::time::Duration;

    /// More dials than tokio's default queue of 1024, none accepted yet: each must still
    /// connect at once, not wait out a dropped SYN. Both listeners, HTTP and gRPC. The kernel
    /// caps every queue at `net.core.somaxconn`: where that is 1024 or less, no dial count can
    /// tell a deep queue from tokio's, and the test says so and passes over it.
    #[tokio::test]
    async fn a_burst_of_dials_waits_in_the_queue() {
        let files = crate::raise_open_file_limit().unwrap_or(0);
        let cap = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let dials = cap.min(u64::from(super::BACKLOG)).min(1500);
        if dials <= 1024 || files < 2 * dials + 64 {
            eprintln!(
                "skipped: somaxconn {cap} and {files} open files cannot show a queue deeper than 1024"
            );
            return;
        }
        let any = "127.0.0.1:0".parse().unwrap();
        let listeners = [
            ("http", super::bind(any).expect("bound")),
            ("grpc", crate::grpc::bind(any).expect("bound")),
        ];
        for (name, listener) in listeners {
            let addr = listener.local_addr().unwrap();
            let made = tokio::task::spawn_blocking(move || {
                (0..dials)
                    .map(|i| {
                        TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                            .map_err(|e| format!("{name} dial {i}: {e}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .unwrap();
            assert_eq!(made.map(|d| d.len() as u64), Ok(dials));
            drop(listener);
        }
    }
}
