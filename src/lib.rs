//! ondeck: an htop-style terminal operations console for people on call.
//!
//! The binary (`main.rs`) only parses the command line; everything lives here so that tests
//! drive the same code.

pub mod actions;
pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod console;
pub mod demo;
pub mod domain;
pub mod logging;
pub mod memory;
pub mod rules;
pub mod sanitize;
pub mod sim;
pub mod sources;
pub mod startup;
pub mod text;
pub mod tls;
pub mod tui;
pub mod ui;
