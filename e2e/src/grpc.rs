//! A raw gRPC call over plain HTTP/2: any bytes as the message, for the hostile cases a gRPC
//! library would never send (malformed protobuf, oversized frames, unknown methods).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};

/// What came back: the `grpc-status` code (0 is OK) and `grpc-message`.
#[derive(Debug)]
pub struct Status {
    pub code: u32,
    pub message: String,
}

/// Sends `message` framed as one gRPC message (uncompressed, its length as given, or the
/// real one) to `path` (`/etcdserverpb.KV/Range`) on `addr`.
pub fn call(addr: &str, path: &str, message: &[u8], declared_len: Option<u32>) -> Status {
    let len = declared_len.unwrap_or(message.len() as u32);
    let mut frame = vec![0u8];
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(message);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("the gRPC port answers");
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .expect("an HTTP/2 handshake");
        tokio::spawn(conn);
        let req = hyper::Request::post(format!("http://{addr}{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Full::new(Bytes::from(frame)))
            .expect("a request");
        let resp = tokio::time::timeout(std::time::Duration::from_secs(10), send.send_request(req))
            .await
            .expect("an answer within 10 s")
            .expect("an HTTP/2 answer");
        let headers = resp.headers().clone();
        let collected = resp.into_body().collect().await.expect("the body");
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let get = |name: &str| {
            trailers
                .get(name)
                .or_else(|| headers.get(name))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        Status {
            code: get("grpc-status")
                .and_then(|c| c.parse().ok())
                .unwrap_or(u32::MAX),
            message: get("grpc-message").unwrap_or_default(),
        }
    })
}
