//! The token inspector: what to read for a paste (pure), and the view that follows it live.

pub mod state;
pub mod view;
