//! Settings from `wrangler.toml` `[vars]`, read once per isolate: they cannot change while it
//! lives (a new deployment or a `wrangler dev` restart starts a new one). The rules for reading
//! them are `shared::Settings`'.

use std::cell::OnceCell;
use std::rc::Rc;

use shared::Settings;
use worker::Env;

thread_local! {
    static SHARED: OnceCell<Result<Rc<Settings>, String>> = const { OnceCell::new() };
}

/// The isolate's settings, read on first use. Read per request, they took 7.5% of the CPU
/// profile's samples under load (a dozen lookups across the JS boundary).
pub fn settings(env: &Env) -> Result<Rc<Settings>, String> {
    SHARED.with(|c| {
        c.get_or_init(|| {
            Settings::from_lookup(|name| env.var(name).ok().map(|v| v.to_string())).map(Rc::new)
        })
        .clone()
    })
}
