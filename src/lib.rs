//! ondeck: an htop-style terminal operations console for people on call.
//!
//! The binary (`main.rs`) only parses the command line; everything lives here so that tests
//! drive the same code.

pub mod actions;
pub mod config;
pub mod domain;
pub mod rules;
pub mod sim;
pub mod sources;
