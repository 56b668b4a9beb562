//! Durable Object namespaces, looked up once per isolate. Looked up per request, `env.REGISTRY`
//! (a property read plus a type check across the JS boundary) took 17.5% of the CPU profile's
//! samples under load; a namespace is no I/O object, so one isolate may keep it across requests.

use std::cell::OnceCell;

use worker::{Env, ObjectNamespace, Result};

thread_local! {
    static REGISTRY: OnceCell<ObjectNamespace> = const { OnceCell::new() };
    static RATE_LIMITER: OnceCell<ObjectNamespace> = const { OnceCell::new() };
}

fn cached(
    key: &'static std::thread::LocalKey<OnceCell<ObjectNamespace>>,
    env: &Env,
    name: &str,
) -> Result<ObjectNamespace> {
    key.with(|cell| {
        if let Some(ns) = cell.get() {
            return Ok(ns.clone());
        }
        let ns = env.durable_object(name)?;
        Ok(cell.get_or_init(|| ns).clone())
    })
}

/// `REGISTRY`: one object per token.
pub fn registry(env: &Env) -> Result<ObjectNamespace> {
    cached(&REGISTRY, env, "REGISTRY")
}

/// `RATE_LIMITER`: one object per client and kind of request counted.
pub fn rate_limiter(env: &Env) -> Result<ObjectNamespace> {
    cached(&RATE_LIMITER, env, "RATE_LIMITER")
}
