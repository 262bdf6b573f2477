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
/// Sanitized outside text lives below the domain (the TLS facts use it too); kept here for
/// the old paths.
pub use crate::text;

pub use level::{CheckStatus, Level};
pub use source::{SourceError, SourceId};
