//! The simulated Kubernetes cluster: a real HTTPS API server speaking real Kubernetes JSON,
//! for `ondeck --demo`, `ondeck sim serve` and the test harness. A test and demo double, never a
//! shortcut around the kube client: where it cannot mimic Kubernetes it answers a `Status` error.

pub mod exec;
pub mod volumes;
