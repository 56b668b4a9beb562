//! The Ignition side: its config types, their JSON as butane writes it, reading Ignition
//! JSON as Go does, and Ignition's own checks of a config.

pub mod check;
pub mod inline;
pub mod json;
pub mod read;
pub mod types;
pub mod validate;
