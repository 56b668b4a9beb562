//! The token inspector: a pure reducer of its page state, the view that follows a token live,
//! and the cluster's picture.

pub mod picture;
pub mod state;
pub mod view;
