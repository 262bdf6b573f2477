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
    /// Local TLS endpoints for the certificates pane, one per verdict (stopped on drop).
    _certs: crate::sources::certs::demo::DemoEndpoints,
}

impl Demo {
    /// Starts the simulated cluster with `scenario` (default `incident`) and writes its
    /// kubeconfig (0600) into a private temp dir removed when the demo stops.
    pub async fn start(scenario: Option<&str>) -> anyhow::Result<Demo> {
        let scenario = scenario.unwrap_or(DEFAULT_SCENARIO);
        let mut opts = SimOptions::named(scenario);
        // The demo kubeconfig's client certificate expires in a few days (certificates pane).
        opts.client_cert_days = Some(3);
        let sim = SimCluster::start(opts).await.map_err(|e| {
            anyhow::anyhow!("cannot start the simulated cluster (scenario {scenario}): {e}")
        })?;
        let dir = tempfile::Builder::new().prefix("ondeck-demo-").tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig)?;
        tracing::info!(url = %sim.url(), scenario, "demo: simulated cluster started");
        let certs = crate::sources::certs::demo::DemoEndpoints::start().await?;
        Ok(Demo {
            sim,
            kubeconfig,
            _dir: dir,
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
