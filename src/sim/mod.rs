//! The simulated Kubernetes cluster: a real HTTPS API server speaking real Kubernetes JSON,
//! for `ondeck --demo`, `ondeck sim serve` and the test harness. A test and demo double, never a
//! shortcut around the kube client: where it cannot mimic Kubernetes it answers a `Status` error.
//!
//! Entry points:
//! - [`SimCluster::start`] / [`SimCluster::scenario`]: start one (scenario, port, faults, client
//!   certificate expiry, timing); [`SimCluster::client`], [`SimCluster::kubeconfig`],
//!   [`SimCluster::write_kubeconfig`] to talk to it; [`SimCluster::faults`] to change faults at
//!   run time; [`SimCluster::state`] to change objects (real watch events);
//!   [`SimCluster::request_log`] to prove what a client sent; [`SimCluster::volume_path`].
//! - [`serve::serve`] with [`serve::ServeArgs`]: `ondeck sim serve`.
//! - Scenarios: `assets/scenarios/*.yaml` (see its README), [`ScenarioSource`].
//! - Faults: [`Fault`] (`FromStr`: `latency=200ms`, `forbid=delete:persistentvolumeclaims`, ...).
//!
//! Inside: `server` (TLS, auth, faults, request log) -> `api` (routing, get/list/watch, writes,
//! logs, exec routing, node stats, Tables) over `store` (objects as JSON normalised through
//! k8s-openapi types, one resourceVersion counter, bounded watch history), with `controllers`
//! (pvc/pv protection, binding, provisioning, reclaim, namespaces, kubelet, workloads).

pub mod admission;
pub mod exec;
pub mod faults;
pub mod resources;
pub mod selectors;
pub mod status;
pub mod store;
pub mod tls;
pub mod volumes;

pub use faults::{Fault, FaultHandle, FaultParseError};
pub mod api;
pub mod auth;
pub mod controllers;
pub mod discovery;
pub mod harness;
pub mod patch;
pub mod scenario;
pub mod server;

pub use harness::{CONTEXT, SimCluster, SimError, SimOptions, StateHandle};
pub use resources::Kind;
pub use scenario::ScenarioSource;
pub use server::{RequestRecord, SimTiming};
pub mod serve;
