//! Butane for Flatcar in Rust, with no I/O (the app's wasm and both shells use it): a Butane
//! config (`variant: flatcar`, versions 1.0.0 and 1.1.0) read as the real butane reads it,
//! checked as it checks it, and translated to the Ignition it writes, byte for byte.
//!
//! Built in the order butane works: `yaml` reads the text into nodes that keep yaml.v3's
//! positions (every finding names a line and column); the typed configs, translation and
//! checks come on top of it.

pub mod yaml;
