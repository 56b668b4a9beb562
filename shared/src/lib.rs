//! The sans-IO core of Rendezvous.
//!
//! Everything here is plain Rust with no I/O and no clock of its own: the shells (the Worker, the
//! native server, the browser app) feed it bytes, times and random numbers, and carry out what
//! it answers. That keeps the protocol testable with `cargo test` and identical in every shell.

pub mod assets;
pub mod body;
pub mod call;
pub mod config;
pub mod dispatch;
pub mod explain;
pub mod form;
pub mod http;
pub mod http1;
pub mod inspect;
pub mod ledger;
pub mod lifecycle;
pub mod limits;
pub mod member_id;
pub mod migrate;
pub mod mint;
pub mod rate;
pub mod registry;
pub mod relay;
pub mod route;
pub mod settings;
pub mod time;
pub mod token;
pub mod translate;
pub mod v2;
pub mod v3;

pub use limits::Limits;
pub use registry::Registry;
pub use settings::Settings;
pub use token::Token;
