//! Writing out `shared::http::Response`, the answers the core decides, as the runtime's.

use shared::http::Response;
use worker::{Headers, Result};

pub fn to_worker(r: Response) -> Result<worker::Response> {
    let headers = Headers::new();
    for (name, value) in &r.headers {
        headers.set(name, value.as_ref())?;
    }
    let resp = if r.body.is_empty() && r.status == 204 {
        worker::Response::empty()?
    } else {
        worker::Response::ok(r.body)?
    };
    Ok(resp.with_status(r.status).with_headers(headers))
}

pub fn to_raw(r: Response) -> Result<worker::worker_sys::web_sys::Response> {
    to_worker(r).map(Into::into)
}
