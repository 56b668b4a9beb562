//! A stand-in for another discovery service, for the relay's tests: a plain HTTP/1.1 server on
//! loopback whose tokens answer as the relay's hard cases need (a listing, a size key, a
//! redirect within the host and one away from it, an answer too large, one too slow).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// Answers with a registry listing and `X-Etcd-Index: 9`.
pub const LISTED: &str = "11111111111111111111111111111111";
/// Answers 100 KiB.
pub const LARGE: &str = "22222222222222222222222222222222";
/// Answers after 8 s.
pub const SLOW: &str = "33333333333333333333333333333333";
/// Redirects to `LISTED` on the same host.
pub const MOVED_HERE: &str = "44444444444444444444444444444444";
/// Redirects to `LISTED` on another port.
pub const MOVED_AWAY: &str = "55555555555555555555555555555555";

pub const LISTING: &str = r#"{"action":"get","node":{"key":"/_etcd/registry/11111111111111111111111111111111","dir":true,"nodes":[{"key":"/_etcd/registry/11111111111111111111111111111111/8e9e05c52164694d","value":"m1=http://10.0.0.1:2380","modifiedIndex":5,"createdIndex":5}],"modifiedIndex":4,"createdIndex":4}}"#;

/// Serves on `127.0.0.1:port` until the process ends.
pub fn serve(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the upstream's port is free");
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || answer(conn, port));
        }
    });
}

fn answer(conn: TcpStream, port: u16) {
    let mut reader = BufReader::new(conn.try_clone().expect("a socket clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // Headers are read and dropped.
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let path = line.split(' ').nth(1).unwrap_or("/").to_string();
    let token = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let (status, extra, body): (&str, String, String) = match token {
        LISTED if path.ends_with("/_config/size") => (
            "200 OK",
            "X-Etcd-Index: 9\r\n".into(),
            r#"{"action":"get","node":{"key":"/_etcd/registry/11111111111111111111111111111111/_config/size","value":"3","modifiedIndex":4,"createdIndex":4}}"#.into(),
        ),
        LISTED => ("200 OK", "X-Etcd-Index: 9\r\n".into(), LISTING.into()),
        LARGE => ("200 OK", String::new(), "x".repeat(100 * 1024)),
        SLOW => {
            std::thread::sleep(Duration::from_secs(8));
            ("200 OK", String::new(), LISTING.into())
        }
        MOVED_HERE => ("301 Moved Permanently", format!("Location: /{LISTED}\r\n"), String::new()),
        MOVED_AWAY => (
            "302 Found",
            format!("Location: http://127.0.0.1:{}/{LISTED}\r\n", port + 1),
            String::new(),
        ),
        _ => (
            "404 Not Found",
            "X-Etcd-Index: 9\r\n".into(),
            r#"{"errorCode":100,"message":"Key not found","cause":"/_etcd/registry/x","index":9}"#.into(),
        ),
    };
    let mut conn = conn;
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    );
}
