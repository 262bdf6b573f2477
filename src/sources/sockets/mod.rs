//! The sockets source: TCP sockets (IPv4 and IPv6) via netlink sock_diag, with a /proc/net/tcp
//! fallback, grouped into what an on-call engineer needs.
//!
//! - [`collector`]: [`SocketCollector::poll`], one blocking poll producing a `SocketSnapshot`
//!   (`ondeck check` calls it once; the TUI through [`spawn`]).
//! - [`task`]: [`spawn`], the TUI's polling task (`spawn_blocking` per poll).
//! - [`source`]: the registry entry (console task, `check` section, rules, pane).
//! - [`netlink`] / [`procnet`]: the two ways to list sockets; [`tally`] aggregates either.
//! - [`owners`]: socket inode -> process, cached and on demand.
//! - [`netstat`], [`fds`], [`conntrack`], [`sysctl`]: the other signals of incidents 2 and 3.
//!
//! How a poll works: one netlink dump per address family with every state (the kernel's dump
//! cost is per socket whatever the filter, so counting all states costs the same as dumping
//! only CLOSE_WAIT when CLOSE_WAIT dominates); each record's state byte is counted in place and
//! only CLOSE_WAIT and LISTEN records are decoded further. Owners come from the inode cache;
//! `/proc/*/fd` is scanned only for CLOSE_WAIT/LISTEN inodes the cache cannot answer, that
//! were already there last poll (any on the first poll), at most every `attribution_interval`.
//!
//! Owner buckets in `close_wait_by_process`: `pid: Some(_)` with the process's comm;
//! `pid: None` with [`UNKNOWN_OWNER`] for sockets no readable process holds (other users'
//! processes, processes that went away, sockets still in a listener's accept queue); `pid: None`
//! with [`PENDING_OWNER`] for sockets not looked up yet. `attribution` is `Done` when nothing is
//! pending (answered from the cache or by this poll's scan), `Skipped` when some are.

pub mod collector;
pub mod conntrack;
pub mod fds;
pub mod netlink;
pub mod netstat;
pub mod owners;
pub mod procdir;
pub mod procnet;
pub mod source;
pub mod sysctl;
pub mod tally;
pub mod task;

pub use collector::{BackendChoice, PENDING_OWNER, SocketCollector, SocketOptions, UNKNOWN_OWNER};
pub use task::{spawn, spawn_with_refresh};

/// This source, by the name the source list (`registry::with_sources!`) finds it under.
pub const SOURCE: &dyn crate::sources::registry::Source = &source::Sockets;
