//! Plain domain types shared by sources, rules, the UI and `check`: no I/O here.

pub mod certs;
pub mod compact;
pub mod level;
pub mod pane;
pub mod pods;
pub mod probes;
pub mod pvcs;
pub mod sockets;
pub mod source;
pub mod text;

pub use level::{CheckStatus, Level};
pub use source::{SourceError, SourceId};
