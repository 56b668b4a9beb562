//! `GET /butane?...` and `GET /ignition?...`: the config builder's output for scripts, from the
//! same query the page keeps in its URL.

use serde_json::json;
use shared::config::{generate, Severity};
use worker::{Request, Response, Result};

use crate::http;

pub enum Format {
    Butane,
    Ignition,
}

pub fn config(req: &Request, format: Format) -> Result<Response> {
    let url = req.url()?;
    let (generated, problems) = generate(url.query().unwrap_or(""));
    let Some(g) = generated else {
        let list = |severity: Severity| -> Vec<serde_json::Value> {
            problems
                .iter()
                .filter(|p| p.severity == severity)
                .map(|p| json!({ "field": p.field, "message": p.message }))
                .collect()
        };
        let body = json!({ "errors": list(Severity::Error), "warnings": list(Severity::Warning) });
        return http::json(400, body.to_string());
    };
    match format {
        Format::Butane => http::respond(200, "application/yaml; charset=utf-8", g.butane_yaml),
        Format::Ignition => http::json(200, g.ignition_json),
    }
}
