//! `--demo`: the simulated cluster started in-process, with a kubeconfig written for it, so the
//! console and `check` run against real HTTPS and real Kubernetes JSON on a machine with no
//! cluster. Everything that shows demo data says DEMO.

use std::path::{Path, PathBuf};

use crate::sim::{SimCluster, SimOptions};

pub const DEFAULT_SCENARIO: &str = "incident";

pub struct Demo {
    sim: SimCluster,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
    /// The local endpoints the demo's HTTP probes watch (stopped when the demo stops).
    _probe_endpoints: crate::sources::probes::demo::Endpoints,
    /// Local TLS endpoints for the certificates pane, one per verdict (stopped on drop).
    _certs: crate::sources::certs::demo::DemoEndpoints,
}

impl Demo {
    /// Starts the simulated cluster with `scenario` (default `incident`) and writes its
    /// kubeconfig (0600) into a private temp dir removed when the demo stops.
    pub async fn start(scenario: Option<&str>) -> anyhow::Result<Demo> {
        let scenario = scenario.unwrap_or(DEFAULT_SCENARIO);
        // A built-in name, or else a path to a scenario file (`--demo --scenario ./mine.yaml`).
        let source = match scenario.parse::<crate::sim::scenario::ScenarioSource>() {
            Ok(s) => s,
            Err(never) => match never {},
        };
        let sim = SimCluster::start(SimOptions {
            scenario: source,
            // The demo kubeconfig's client certificate expires in a few days (certificates pane).
            client_cert_days: Some(3),
            ..SimOptions::default()
        })
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot start the simulated cluster (scenario {scenario}): {e}")
        })?;
        let dir = tempfile::Builder::new().prefix("ondeck-demo-").tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig)?;
        tracing::info!(url = %sim.url(), scenario, "demo: simulated cluster started");
        let probe_endpoints = crate::sources::probes::demo::start_for_demo()
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the demo's probe endpoints: {e}"))?;
        let certs = crate::sources::certs::demo::DemoEndpoints::start().await?;
        Ok(Demo {
            sim,
            kubeconfig,
            _dir: dir,
            _probe_endpoints: probe_endpoints,
            _certs: certs,
        })
    }

    pub fn scenario(&self) -> &str {
        self.sim.scenario_name()
    }

    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn sim(&self) -> &SimCluster {
        &self.sim
    }

    pub async fn stop(self) {
        self.sim.shutdown().await;
    }
}
