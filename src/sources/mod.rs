//! Data sources. Each runs as its own task on its own interval and sends owned snapshots,
//! tagged with the source and a generation, into one bounded channel that the UI task drains.
//! A source never shares state with the UI: it only sends [`SourceUpdate`]s.
//!
//! Every source is registered in [`registry`] (one line each in its list; its module doc is the
//! recipe for adding one), which finds each source as `SOURCE` at the root of its module.
//! [`pods`] and [`pvcs`] are the registry entries of the Kubernetes sources in [`kube`]; the
//! sockets entry is `sockets::source`.

pub mod certs;
pub mod kube;
pub mod pods;
pub mod probes;
pub mod pvcs;
pub mod registry;
pub mod sockets;
pub mod supervise;

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

pub use crate::domain::source::{SourceError, SourceId};

/// The data a source delivers.
pub enum Payload {
    /// A source's snapshot, boxed (the channel's messages stay small, and a new source needs
    /// no variant here): the pane of the update's source takes it back with
    /// [`Payload::downcast`].
    Snapshot {
        data: Box<dyn Any + Send>,
        type_name: &'static str,
    },
    /// The Kubernetes target was switched and the old target's watchers have stopped: every
    /// update of a Kubernetes source before this one in the channel is about the old target.
    /// Sent once per Kubernetes source.
    KubeRetargeted,
    /// Nothing changed since this source's last data: only its freshness moves. Lets a source
    /// that follows changes (a watch) prove it is alive without resending every row.
    Unchanged,
}

impl Payload {
    /// Boxes a source's snapshot.
    pub fn new<T: Any + Send>(data: T) -> Payload {
        Payload::Snapshot {
            data: Box::new(data),
            type_name: std::any::type_name::<T>(),
        }
    }

    /// The snapshot, if it is a `T` (`None` for another type or the retarget marker).
    pub fn downcast<T: Any>(self) -> Option<Box<T>> {
        match self {
            Payload::Snapshot { data, .. } => data.downcast().ok(),
            Payload::KubeRetargeted | Payload::Unchanged => None,
        }
    }
}

impl Payload {
    /// The snapshot by reference, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        match self {
            Payload::Snapshot { data, .. } => data.downcast_ref(),
            Payload::KubeRetargeted | Payload::Unchanged => None,
        }
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Payload::Snapshot { type_name, .. } => write!(f, "Snapshot({type_name})"),
            Payload::KubeRetargeted => f.write_str("KubeRetargeted"),
            Payload::Unchanged => f.write_str("Unchanged"),
        }
    }
}

/// Snapshot generations of the Kubernetes sources increase across every source this process
/// starts (after a `:ctx`/`:ns` switch too), so a pane can drop what arrives late from a target
/// it has switched away from: see [`generation_floor`].
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The next generation for a snapshot (or the retarget marker).
pub fn next_generation() -> u64 {
    GENERATION.fetch_add(1, Ordering::SeqCst) + 1
}

/// Every snapshot made from now on has a generation above this one.
pub fn generation_floor() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

/// One message from a source to the UI task.
#[derive(Debug)]
pub struct SourceUpdate {
    pub source: SourceId,
    /// Increases by one per poll of this source; lets the model ignore reordered updates.
    pub generation: u64,
    /// When the data was collected (monotonic).
    pub at: Instant,
    /// When the data was collected (wall clock), for display.
    pub wall: jiff::Timestamp,
    pub result: Result<Payload, SourceError>,
}

/// The sockets collector's options from the config file.
pub fn socket_options(cfg: &crate::config::SocketsConfig) -> sockets::SocketOptions {
    use crate::config::SocketBackendChoice;
    sockets::SocketOptions {
        backend: match cfg.backend {
            SocketBackendChoice::Auto => sockets::BackendChoice::Auto,
            SocketBackendChoice::Netlink => sockets::BackendChoice::Netlink,
            SocketBackendChoice::Proc => sockets::BackendChoice::ProcNet,
        },
        top_n: cfg.top_n,
        attribution_interval: cfg.attribution_interval.0,
        fd_scan_interval: Some(cfg.attribution_interval.0),
        ..Default::default()
    }
}
