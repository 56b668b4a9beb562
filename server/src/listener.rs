//! Accepting connections and serving each with hyper's HTTP/1.1 (as etcd members and browsers
//! speak it). At most `--max-connections` are served at once: beyond that, new connections wait
//! in the kernel's queue until one ends, and the ones in flight go on undisturbed. A client gets
//! `--header-timeout-seconds` to send its headers (and no longer to sit idle between requests);
//! hyper answers malformed requests itself with a 4xx and closes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{watch, Semaphore};

use crate::handler::{self, App};

/// Largest request head (request line and headers) read: larger ones get 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How long shutdown waits for requests still running before it closes their connections.
const DRAIN: Duration = Duration::from_secs(10);

pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// Serves until `shutdown` turns true, then stops accepting and lets the requests in flight
/// finish (parked waits end idle at once) before returning.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true)
        .max_buf_size(MAX_HEAD_BYTES);
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
                    eprintln!("rendezvous: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let conn = http.serve_connection(
            TokioIo::new(stream),
            service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(handler::handle(&app, req, peer).await) }
            }),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => eprintln!("rendezvous: closing connections still busy"),
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
    /// connect at once, not wait out a dropped SYN. Both listeners, HTTP and gRPC.
    #[tokio::test]
    async fn a_burst_of_dials_waits_in_the_queue() {
        let _ = crate::raise_open_file_limit();
        let any = "127.0.0.1:0".parse().unwrap();
        let listeners = [
            ("http", super::bind(any).expect("bound")),
            ("grpc", crate::grpc::bind(any).expect("bound")),
        ];
        for (name, listener) in listeners {
            let addr = listener.local_addr().unwrap();
            let dials = tokio::task::spawn_blocking(move || {
                (0..1500)
                    .map(|i| {
                        TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                            .map_err(|e| format!("{name} dial {i}: {e}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .unwrap();
            assert_eq!(dials.map(|d| d.len()), Ok(1500));
            drop(listener);
        }
    }
}
