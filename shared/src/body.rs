//! A keys request's body: how large it may be, how it must read, and the answers when it does
//! not arrive whole. The answers that leave a body half read close the connection: what
//! follows it on the connection cannot be told apart from the rest of the body.

use crate::http::Response;
use crate::v2::ErrorCode;

/// Largest keys request body read; values are capped far below this (`MAX_VALUE_BYTES`).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Bytes of an oversized body read and dropped before its 413 is sent. A client is often still
/// sending when the answer is ready; closing with its data unread makes the kernel reset the
/// connection, and the client sees a broken pipe instead of the 413. Past this, it does.
pub const DRAIN_BYTES: usize = 1024 * 1024;

/// Whether a declared `Content-Length` already rules the body out, before reading it.
pub fn declared_too_large(content_length: Option<u64>) -> bool {
    content_length.is_some_and(|l| l > MAX_BODY_BYTES as u64)
}

/// Whether a declared body is too large even to read and drop before refusing it.
pub fn declared_past_draining(content_length: Option<u64>) -> bool {
    content_length.is_some_and(|l| l > DRAIN_BYTES as u64)
}

/// A keys request's body as text: within `MAX_BODY_BYTES` (413) and UTF-8 (400, code 210).
pub fn text(body: Vec<u8>) -> Result<String, Response> {
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    String::from_utf8(body).map_err(|_| {
        Response::etcd_error(ErrorCode::InvalidForm, "the request body is not UTF-8", 400)
    })
}

/// A body over `MAX_BODY_BYTES`.
pub fn too_large() -> Response {
    Response::etcd_error(
        ErrorCode::InvalidField,
        format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        413,
    )
    .closing()
}

/// A body that did not arrive within `secs`.
pub fn timed_out(secs: u64) -> Response {
    Response::etcd_error(
        ErrorCode::InvalidForm,
        format!("the request body did not arrive within {secs} s"),
        408,
    )
    .closing()
}

/// A body whose framing broke (a bad chunk, the connection closed in its middle).
pub fn broken(why: &str) -> Response {
    Response::etcd_error(
        ErrorCode::InvalidForm,
        format!("the request body could not be read: {why}"),
        400,
    )
    .closing()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_must_be_small_utf8_text() {
        assert!(declared_too_large(Some(70_000)));
        assert!(!declared_too_large(Some(10)));
        assert!(!declared_too_large(None));
        assert!(declared_past_draining(Some(2 << 20)));
        assert!(!declared_past_draining(Some(70_000)));
        assert_eq!(text(b"value=x".to_vec()), Ok("value=x".to_string()));
        assert_eq!(
            text(vec![b'a'; MAX_BODY_BYTES + 1]).unwrap_err().status,
            413
        );
        let r = text(vec![0xff, 0xfe]).unwrap_err();
        assert_eq!((r.status, r.body.contains("210")), (400, true));
        assert!(
            !r.closes(),
            "the body was read whole: the connection goes on"
        );
    }

    #[test]
    fn a_body_not_read_whole_closes_the_connection() {
        for (r, status, words) in [
            (too_large(), 413, "larger than 65536 bytes"),
            (timed_out(30), 408, "within 30 s"),
            (broken("a bad chunk"), 400, "a bad chunk"),
        ] {
            assert_eq!(r.status, status);
            assert!(r.body.contains(words), "{}", r.body);
            assert!(r.closes(), "{status}");
            assert!(r.header("X-Etcd-Index").is_some(), "etcd's error format");
        }
    }
}
