//! The simulated Kubernetes cluster: a real HTTPS API server speaking real Kubernetes JSON,
//! for `ondeck --demo`, `ondeck sim serve` and the test harness. A test and demo double, never a
//! shortcut around the kube client: where it cannot mimic Kubernetes it answers a `Status` error.

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
