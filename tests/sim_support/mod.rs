//! Helpers shared by the simulated cluster's integration tests.
#![allow(dead_code)]

use ondeck::sim::{SimCluster, SimOptions, SimTiming};
use std::time::Duration;

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub async fn eventually<F: Fn() -> bool>(what: &str, secs: u64, f: F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

pub fn fast() -> SimTiming {
    SimTiming {
        pod_start_delay: Duration::from_millis(300),
        pod_stop_delay: Duration::from_millis(300),
        ..SimTiming::default()
    }
}

pub async fn sim(name: &str) -> SimCluster {
    SimCluster::start(SimOptions {
        timing: fast(),
        ..SimOptions::named(name)
    })
    .await
    .expect("sim starts")
}
