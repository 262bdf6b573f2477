//! Plain domain types shared by sources, rules, the UI and `check`: no I/O here.

pub mod level;
pub mod pods;
pub mod pvcs;
pub mod sockets;

pub use level::{CheckStatus, Level};
