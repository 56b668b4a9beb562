//! The config builder: the form's state (pure) and its view.

pub mod state;
pub mod view;
