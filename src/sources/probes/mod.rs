//! HTTP(S) probes (incidents 1 and 3): configured URLs probed with one deadline per phase
//! (DNS, connect, TLS, response headers, total), per-phase timings and the failing phase in
//! words, a bounded history with p50/p99 against an SLO, 3 consecutive failures -> critical,
//! retries with backoff and jitter.
//!
//! - [`config`]: `[[probes]]` and `[probing]`, range-checked;
//! - [`client`]: the hand-built client that times each phase;
//! - [`dns`]: name resolution under its own deadline, with a bound on hung lookups;
//! - [`state`]: one probe's history, counters and schedule;
//! - [`task`]: the console's per-probe tasks and collector;
//! - [`source`]: the registry entry and `check`'s `probes` section;
//! - [`audit`]: the Kubernetes probe audit through the pod proxy;
//! - [`demo`]: local endpoints that fail in every way, for `--demo` and the tests.

pub mod audit;
pub mod client;
/// `[[probes]]` and `[probing]` live with the rest of the config (config does not depend on
/// sources); re-exported for the probes' own paths.
pub use crate::config::probes as config;
pub mod demo;
pub mod dns;
pub mod source;
pub mod state;
pub mod task;

pub use source::Probes;

/// This source, by the name the source list (`registry::with_sources!`) finds it under.
pub const SOURCE: &dyn crate::sources::registry::Source = &Probes;
