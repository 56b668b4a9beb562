//! Talking to a discovery service from the page: minting here, reading any registry (this
//! service sends CORS headers; others may not).

use gloo_net::http::Request;

/// What a GET answered: status, `X-Etcd-Index`, body.
pub struct Answer {
    pub status: u16,
    pub etcd_index: Option<u64>,
    pub body: String,
}

pub async fn get(url: &str) -> Result<Answer, String> {
    let resp = Request::get(url)
        .send()
        .await
        .map_err(|e| format!("could not reach {url}: {e} (a service without CORS headers, like discovery.etcd.io, cannot be read from a page: paste its JSON instead)"))?;
    let etcd_index = resp
        .headers()
        .get("X-Etcd-Index")
        .and_then(|v| v.parse().ok());
    let status = resp.status();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    Ok(Answer {
        status,
        etcd_index,
        body,
    })
}

/// Mints a token of `size` on this service; the URL it answers.
pub async fn mint(size: &str) -> Result<String, String> {
    let size = size.trim();
    let url = if size.is_empty() {
        "/new".to_string()
    } else {
        format!("/new?size={}", shared::form::encode(size))
    };
    let a = get(&url).await?;
    if a.status == 200 {
        Ok(a.body)
    } else {
        Err(a.body)
    }
}
