//! The sockets source: TCP sockets (IPv4 and IPv6) via netlink sock_diag, with a /proc/net/tcp
//! fallback, grouped into what an on-call engineer needs.
//!
//! - [`collector`]: [`SocketCollector::poll`], one blocking poll producing a `SocketSnapshot`.
//! - [`task`]: [`spawn`], the TUI's polling task.
//! - [`netlink`] / [`procnet`]: the two ways to list sockets; [`tally`] aggregates either.
//! - [`owners`]: socket inode -> process, cached and on demand.
//! - [`netstat`], [`fds`], [`conntrack`], [`sysctl`]: the other signals of incidents 2 and 3.

pub mod collector;
pub mod conntrack;
pub mod fds;
pub mod netlink;
pub mod netstat;
pub mod owners;
pub mod procnet;
pub mod sysctl;
pub mod tally;
pub mod task;

pub use collector::{BackendChoice, PENDING_OWNER, SocketCollector, SocketOptions, UNKNOWN_OWNER};
pub use task::spawn;
