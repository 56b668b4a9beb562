//! Settings from `wrangler.toml` `[vars]`, read once per isolate: they cannot change while it
//! lives (a new deployment or a `wrangler dev` restart starts a new one).

use std::cell::OnceCell;
use std::rc::Rc;

use shared::Limits;
use worker::Env;

pub struct Config {
    pub limits: Limits,
    /// `PUBLIC_URL` without a trailing slash, if set: the origin (and path prefix) of token URLs.
    pub public_url: Option<String>,
    /// The path part of `PUBLIC_URL`, stripped from request paths.
    pub prefix: String,
}

thread_local! {
    static SHARED: OnceCell<Result<Rc<Config>, String>> = const { OnceCell::new() };
}

impl Config {
    /// The isolate's settings, read on first use. Read per request, they took 7.5% of the CPU
    /// profile's samples under load (a dozen lookups across the JS boundary).
    pub fn shared(env: &Env) -> Result<Rc<Config>, String> {
        SHARED.with(|c| c.get_or_init(|| Config::from_env(env).map(Rc::new)).clone())
    }

    pub fn from_env(env: &Env) -> Result<Config, String> {
        let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
        let limits = Limits::from_settings(var)?;
        let public_url = var("PUBLIC_URL")
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        let prefix = match &public_url {
            Some(u) => worker::Url::parse(u)
                .map_err(|e| format!("PUBLIC_URL {u:?} is not a URL: {e}"))?
                .path()
                .trim_end_matches('/')
                .to_string(),
            None => String::new(),
        };
        Ok(Config {
            limits,
            public_url,
            prefix,
        })
    }
}
