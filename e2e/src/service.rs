//! The service under test in either shell: the Worker under `wrangler dev`, or the native
//! server. Every suite runs its cases once per shell named in `RENDEZVOUS_SHELLS` (a comma
//! list of `worker` and `native`; both by default), each shell on ports of its own.

use std::path::{Path, PathBuf};

use crate::native::Native;
use crate::wrangler::Wrangler;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shell {
    /// The Cloudflare Worker, under `wrangler dev` (workerd, local KV and Durable Objects).
    Worker,
    /// The native server, `rendezvous`.
    Native,
}

impl Shell {
    /// The shells asked for by `RENDEZVOUS_SHELLS`, both when it is not set.
    pub fn chosen() -> Vec<Shell> {
        let wanted = std::env::var("RENDEZVOUS_SHELLS").unwrap_or_default();
        let all = [Shell::Worker, Shell::Native];
        if wanted.trim().is_empty() {
            return all.to_vec();
        }
        all.into_iter()
            .filter(|s| wanted.split(',').any(|w| w.trim() == s.name()))
            .collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            Shell::Worker => "worker",
            Shell::Native => "native",
        }
    }

    /// Added to every port a test picks, so the two shells never share one.
    pub fn port_offset(self) -> u16 {
        match self {
            Shell::Worker => 0,
            Shell::Native => 1000,
        }
    }
}

enum Running {
    Worker(Wrangler),
    Native(Native),
}

/// One running service of either shell; dropping it stops it.
pub struct Service {
    shell: Shell,
    running: Running,
    state: PathBuf,
}

impl Service {
    /// Starts `shell` on 127.0.0.1:`port` (plus the shell's offset) with its state under
    /// `state` and extra `[vars]` settings.
    pub fn start(shell: Shell, port: u16, state: &Path, vars: &[(&str, &str)]) -> Service {
        let port = port + shell.port_offset();
        let running = match shell {
            Shell::Worker => Running::Worker(Wrangler::start(port, state, vars)),
            Shell::Native => Running::Native(Native::start(port, state, vars)),
        };
        Service {
            shell,
            running,
            state: state.to_path_buf(),
        }
    }

    pub fn shell(&self) -> Shell {
        self.shell
    }

    /// Where its state lives.
    pub fn state(&self) -> &Path {
        &self.state
    }

    pub fn base(&self) -> String {
        match &self.running {
            Running::Worker(w) => w.base(),
            Running::Native(n) => n.base(),
        }
    }

    /// Stops it gracefully (its state stays on disk).
    pub fn stop(&mut self) {
        match &mut self.running {
            Running::Worker(w) => w.stop(),
            Running::Native(n) => {
                n.stop();
            }
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        match &mut self.running {
            Running::Worker(w) => w.kill(),
            Running::Native(n) => n.kill(),
        }
    }

    /// Starts it again on the same port with the same state.
    pub fn restart(&mut self) {
        match &mut self.running {
            Running::Worker(w) => w.restart(),
            Running::Native(n) => n.restart(),
        }
    }

    /// Mints a token of `size` and returns its discovery URL.
    pub fn mint(&self, size: u64) -> String {
        let r = crate::http::get(&format!("{}/new?size={size}", self.base()));
        assert_eq!(r.status, 200, "minting: {r:?}");
        r.body
    }

    /// The native server, for what only it has.
    pub fn native(&mut self) -> Option<&mut Native> {
        match &mut self.running {
            Running::Native(n) => Some(n),
            Running::Worker(_) => None,
        }
    }
}
