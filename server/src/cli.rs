//! The command line. Every `[vars]` setting of the Worker is a flag here and an environment
//! variable of the same name (`--max-size` / `MAX_SIZE`), read by `shared::Settings`' rules;
//! the rest are what only a server on its own machine needs.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use shared::Settings;

#[derive(Parser, Debug)]
#[command(
    name = "rendezvous",
    version,
    about = "etcd cluster discovery (etcd's v2 discovery protocol) as one self-hosted server: \
             GET /new?size=3 mints a discovery URL for `etcd --discovery=<url>`."
)]
pub struct Cli {
    /// Address and port to listen on.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,

    /// Also serve etcd's v3 API over gRPC (plain HTTP/2) here, for etcd 3.6+ members started
    /// with --discovery-endpoints=<this address> and --discovery-token=<token>. Unset: off.
    #[arg(long, env = "GRPC_LISTEN")]
    pub grpc_listen: Option<SocketAddr>,

    /// Serve gRPC over TLS with this certificate chain (PEM); members then need
    /// --discovery-insecure-transport=false and the CA in --discovery-cacert.
    #[arg(long, env = "GRPC_TLS_CERT", requires = "grpc_tls_key")]
    pub grpc_tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --grpc-tls-cert.
    #[arg(long, env = "GRPC_TLS_KEY", requires = "grpc_tls_cert")]
    pub grpc_tls_key: Option<PathBuf>,

    /// Folder of the store (SQLite, WAL mode); created if missing. Back it up with the server
    /// stopped, or with `sqlite3 <dir>/rendezvous.sqlite .backup <file>` while it runs.
    #[arg(long, env = "DATA_DIR", default_value = "./state-native")]
    pub data_dir: PathBuf,

    /// How log lines are written to stderr: `text`, or `json` (one object per line, for a log
    /// collector).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = crate::log::Format::Text)]
    pub log_format: crate::log::Format,

    /// Serve Prometheus metrics at http://<this>/metrics (a separate listener, so that they
    /// need not be public). Unset: off.
    #[arg(long, env = "METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Keep tokens in an etcd cluster instead of --data-dir, shared by any number of
    /// replicas of this server (README "High availability"):
    /// etcd://HOST:PORT[,HOST:PORT...][/PREFIX] (default prefix /rendezvous).
    #[arg(long, env = "STORE")]
    pub store: Option<String>,

    /// The CA (PEM) that signed the store's etcd certificates: talk to it over TLS.
    #[arg(long, env = "STORE_CACERT")]
    pub store_cacert: Option<PathBuf>,

    /// A client certificate (PEM) for the store's etcd (`--client-cert-auth`).
    #[arg(long, env = "STORE_CERT", requires = "store_key")]
    pub store_cert: Option<PathBuf>,

    /// The private key (PEM) of --store-cert.
    #[arg(long, env = "STORE_KEY", requires = "store_cert")]
    pub store_key: Option<PathBuf>,

    /// An etcd user (etcd's auth enabled): its role needs read and write on the prefix.
    #[arg(long, env = "STORE_USER")]
    pub store_user: Option<String>,

    /// The password of --store-user.
    #[arg(
        long,
        env = "STORE_PASSWORD",
        requires = "store_user",
        hide_env_values = true
    )]
    pub store_password: Option<String>,

    /// Folder of the browser app (`frontend/dist`), served at `/`; without it `/` says what
    /// this service is.
    #[arg(long, env = "ASSETS", default_value = "frontend/dist")]
    pub assets: PathBuf,

    /// A header your reverse proxy sets to the client's address (`X-Forwarded-For`,
    /// `X-Real-IP`): mint limits then count its last entry instead of the socket's address.
    /// Only set it behind a proxy that sets it, or clients choose whom they are counted as.
    #[arg(long, env = "TRUSTED_PROXY_HEADER")]
    pub trusted_proxy_header: Option<String>,

    /// Connections served at once; more wait to be accepted.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Seconds a client has to send a request's headers; also how long an idle keep-alive
    /// connection is kept.
    #[arg(long, env = "HEADER_TIMEOUT_SECONDS", default_value_t = 30)]
    pub header_timeout_seconds: u64,

    /// Seconds a client has to send a request's body.
    #[arg(long, env = "BODY_TIMEOUT_SECONDS", default_value_t = 30)]
    pub body_timeout_seconds: u64,

    /// Origin (and optional path prefix) of minted token URLs, e.g.
    /// https://discovery.example.com/etcd; by default the address the request came to.
    #[arg(
        long,
        env = "PUBLIC_URL",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub public_url: Option<String>,
    /// Largest size /new accepts [default: 9]
    #[arg(
        long,
        env = "MAX_SIZE",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub max_size: Option<String>,
    /// Member keys per token [default: 64]
    #[arg(
        long,
        env = "MAX_MEMBERS",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub max_members: Option<String>,
    /// Bytes of one member's value [default: 4096]
    #[arg(
        long,
        env = "MAX_VALUE_BYTES",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub max_value_bytes: Option<String>,
    /// Changes one token may record [default: 4096]
    #[arg(
        long,
        env = "MAX_EVENTS",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub max_events: Option<String>,
    /// A token's life in seconds [default: 604800]
    #[arg(
        long,
        env = "TOKEN_LIFETIME_SECONDS",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub token_lifetime_seconds: Option<String>,
    /// How long an idle wait is held, in seconds [default: 60]
    #[arg(
        long,
        env = "WAIT_TIMEOUT_SECONDS",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub wait_timeout_seconds: Option<String>,
    /// Waits one token holds parked at once [default: 256]
    #[arg(
        long,
        env = "MAX_WAITS",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub max_waits: Option<String>,
    /// Tokens one client may mint per minute [default: 60]
    #[arg(
        long,
        env = "MINTS_PER_MINUTE",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub mints_per_minute: Option<String>,
    /// Reads one client may have relayed per minute [default: 120]
    #[arg(
        long,
        env = "RELAYS_PER_MINUTE",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub relays_per_minute: Option<String>,
    /// Hosts /relay reads tokens from: host (https) or http://host:port, comma-separated
    /// [default: discovery.etcd.io]
    #[arg(
        long,
        env = "RELAY_HOSTS",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub relay_hosts: Option<String>,
    /// The end-to-end tests' storage hooks (/_test/storage/<token>): never in a deployment
    /// [default: false]
    #[arg(
        long,
        env = "TEST_STORAGE_HOOKS",
        help_heading = "Settings (the Worker's [vars])"
    )]
    pub test_storage_hooks: Option<String>,
}

impl Cli {
    /// How to reach a secured store.
    pub fn store_security(&self) -> crate::store::etcd::client::Security {
        crate::store::etcd::client::Security {
            cacert: self.store_cacert.clone(),
            cert: self.store_cert.clone(),
            key: self.store_key.clone(),
            user: self.store_user.clone(),
            password: self.store_password.clone(),
        }
    }

    /// The settings, by the rules the Worker reads its `[vars]` with.
    pub fn settings(&self) -> Result<Settings, String> {
        Settings::from_lookup(|name| {
            match name {
                "PUBLIC_URL" => &self.public_url,
                "MAX_SIZE" => &self.max_size,
                "MAX_MEMBERS" => &self.max_members,
                "MAX_VALUE_BYTES" => &self.max_value_bytes,
                "MAX_EVENTS" => &self.max_events,
                "TOKEN_LIFETIME_SECONDS" => &self.token_lifetime_seconds,
                "WAIT_TIMEOUT_SECONDS" => &self.wait_timeout_seconds,
                "MAX_WAITS" => &self.max_waits,
                "MINTS_PER_MINUTE" => &self.mints_per_minute,
                "RELAYS_PER_MINUTE" => &self.relays_per_minute,
                "RELAY_HOSTS" => &self.relay_hosts,
                "TEST_STORAGE_HOOKS" => &self.test_storage_hooks,
                _ => return None,
            }
            .clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_a_flag() {
        for name in shared::settings::NAMES {
            let flag = format!("--{}", name.to_ascii_lowercase().replace('_', "-"));
            let value = match name {
                "PUBLIC_URL" => "https://d.example/etcd",
                "MAX_SIZE" => "5",
                "MAX_MEMBERS" => "70",
                "RELAY_HOSTS" => "http://127.0.0.1:2000",
                "TEST_STORAGE_HOOKS" => "true",
                _ => "7",
            };
            let cli = Cli::try_parse_from(["rendezvous", &flag, value])
                .unwrap_or_else(|e| panic!("{flag}: {e}"));
            let set = Settings::from_lookup(|n| (n == name).then(|| value.to_string())).unwrap();
            assert_eq!(cli.settings().unwrap(), set, "{flag}");
            assert_ne!(set, Settings::default(), "{flag} changes something");
        }
    }

    #[test]
    fn a_bad_setting_is_named() {
        let cli = Cli::try_parse_from(["rendezvous", "--max-size", "lots"]).unwrap();
        assert!(cli.settings().unwrap_err().contains("MAX_SIZE"));
    }
}
