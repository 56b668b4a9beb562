//! The "Check a config" page: paste, type or drop any Butane config (or Ignition JSON) and see
//! what butane makes of it, as you type.

pub mod state;
pub mod view;
