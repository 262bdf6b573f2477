//! The public face of the simulated cluster: start one with a scenario in one line, get a kube
//! `Client` or a kubeconfig, change faults and objects at run time, read the request log.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ondeck::sim::SimError> {
//! let sim = ondeck::sim::SimCluster::scenario("incident").await?;
//! let client = sim.client().await?;
//! sim.faults().add("latency=200ms".parse()?);
//! sim.state().crash_pod("payments", "payments-api-7f9c6b5d4-m5wpl", "Error", 1);
//! assert!(sim.request_log().iter().all(|r| r.verb != "delete"));
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

use super::controllers::{self, Controllers};
use super::faults::{Fault, FaultHandle, FaultParseError};
use super::resources::Kind;
use super::scenario::{self, ScenarioError, ScenarioSource};
use super::server::{self, RequestRecord, SimState, SimTiming};
use super::store::{Store, key_of, meta_str, now_str};
use super::tls::{self, ClusterPki, PemPair, TlsError};
use super::volumes::VolumeStore;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// The kubeconfig context (and cluster and user) name.
pub const CONTEXT: &str = "ondeck-sim";

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    #[error("cannot create the volume directory: {0}")]
    Volumes(std::io::Error),
    #[error("cannot build a kube client for the simulated cluster: {0}")]
    Client(String),
    #[error(transparent)]
    Fault(#[from] FaultParseError),
}

/// How to start a simulated cluster.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    pub scenario: ScenarioSource,
    /// Port on 127.0.0.1; `None` picks a free one.
    pub port: Option<u16>,
    pub faults: Vec<Fault>,
    /// Adds a client certificate to the kubeconfig user, expiring in this many days
    /// (negative: already expired). The server authenticates by token either way.
    pub client_cert_days: Option<i64>,
    /// Bearer token; random when `None`.
    pub token: Option<String>,
    pub timing: SimTiming,
}

impl SimOptions {
    pub fn named(scenario: &str) -> Self {
        SimOptions {
            scenario: ScenarioSource::Named(scenario.into()),
            ..SimOptions::default()
        }
    }
}

/// A running simulated cluster. Dropping it without [`SimCluster::shutdown`] also stops it.
pub struct SimCluster {
    state: Arc<SimState>,
    addr: std::net::SocketAddr,
    pki: ClusterPki,
    client_cert: Option<PemPair>,
    scenario_name: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for SimCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimCluster")
            .field("url", &self.url())
            .field("scenario", &self.scenario_name)
            .finish_non_exhaustive()
    }
}

fn random_token() -> String {
    (0..40).map(|_| fastrand::alphanumeric()).collect()
}

impl SimCluster {
    /// Starts a simulated cluster with a built-in scenario and default options.
    pub async fn scenario(name: &str) -> Result<SimCluster, SimError> {
        Self::start(SimOptions::named(name)).await
    }

    pub async fn start(opts: SimOptions) -> Result<SimCluster, SimError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (sc, file) = opts.scenario.load()?;
        let volumes = Arc::new(VolumeStore::new_temp().map_err(SimError::Volumes)?);
        let store = Arc::new(Store::new(opts.timing.watch_history));
        {
            // Building a large scenario takes a while (certificates, thousands of objects):
            // keep it off the async workers.
            let (store, volumes, sc, file) =
                (store.clone(), volumes.clone(), sc.clone(), file.clone());
            tokio::task::spawn_blocking(move || -> Result<(), ScenarioError> {
                let mut s = store.lock();
                scenario::build::build(&sc, &mut s, &volumes, Timestamp::now(), &file)?;
                // History starts after the scenario: nothing before it can be resumed.
                s.compact();
                Ok(())
            })
            .await
            .map_err(|e| SimError::Client(format!("scenario build task failed: {e}")))??;
        }
        let faults = FaultHandle::new(opts.faults.clone());
        let pki = ClusterPki::generate()?;
        let client_cert = match opts.client_cert_days {
            Some(days) => Some(pki.client_cert(&sc.permissions.user, days)?),
            None => None,
        };
        let shutdown = CancellationToken::new();
        let state = Arc::new(SimState {
            store: store.clone(),
            faults: faults.clone(),
            token: opts.token.clone().unwrap_or_else(random_token),
            permissions: sc.permissions.clone(),
            volumes: volumes.clone(),
            timing: opts.timing.clone(),
            request_log: Mutex::new(Default::default()),
            shutdown: shutdown.clone(),
        });
        let cfg = tls::server_config(&pki, faults.clone())?;
        let listener = server::listen(state.clone(), opts.port.unwrap_or(0), cfg)
            .await
            .map_err(SimError::Listen)?;
        let mut ctrl = Controllers::new(store, volumes, faults, opts.timing.clone());
        ctrl.reconcile();
        let ctrl_task = tokio::spawn(ctrl.run(shutdown.clone()));
        tracing::info!(url = %format!("https://{}", listener.addr), scenario = %file, "simulated cluster started");
        Ok(SimCluster {
            state,
            addr: listener.addr,
            pki,
            client_cert,
            scenario_name: sc.name.unwrap_or(file),
            tasks: vec![listener.task, ctrl_task],
        })
    }

    /// `https://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    pub fn scenario_name(&self) -> &str {
        &self.scenario_name
    }

    /// The bearer token the server accepts.
    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The CA certificate (PEM) that signed the serving certificate.
    pub fn ca_pem(&self) -> &str {
        &self.pki.ca.cert_pem
    }

    /// A kubeconfig with cluster, user and context all named `ondeck-sim`.
    pub fn kubeconfig(&self) -> kube::config::Kubeconfig {
        let mut user = json!({"token": self.state.token});
        if let Some(c) = &self.client_cert {
            user["client-certificate-data"] = json!(tls::base64(c.cert_pem.as_bytes()));
            user["client-key-data"] = json!(tls::base64(c.key_pem.as_bytes()));
        }
        let v = json!({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": CONTEXT, "cluster": {"server": self.url(), "certificate-authority-data": tls::base64(self.pki.ca.cert_pem.as_bytes())}}],
            "users": [{"name": CONTEXT, "user": user}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": "default"}}],
            "current-context": CONTEXT,
        });
        serde_json::from_value(v).unwrap_or_default()
    }

    /// The kubeconfig as YAML (it contains the token: treat it as a secret).
    pub fn kubeconfig_yaml(&self) -> String {
        serde_saphyr::to_string(&self.kubeconfig()).unwrap_or_default()
    }

    /// Writes the kubeconfig with mode 0600.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let yaml = self.kubeconfig_yaml();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        f.write_all(yaml.as_bytes())?;
        f.sync_all()
    }

    /// A kube client for the `ondeck-sim` context.
    pub async fn client(&self) -> Result<kube::Client, SimError> {
        let opts = kube::config::KubeConfigOptions {
            context: Some(CONTEXT.into()),
            ..Default::default()
        };
        let cfg = kube::Config::from_custom_kubeconfig(self.kubeconfig(), &opts)
            .await
            .map_err(|e| SimError::Client(e.to_string()))?;
        kube::Client::try_from(cfg).map_err(|e| SimError::Client(e.to_string()))
    }

    pub fn faults(&self) -> FaultHandle {
        self.state.faults.clone()
    }

    /// Every request served so far (bounded to the last 20,000), oldest first.
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.state
            .request_log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear_request_log(&self) {
        self.state
            .request_log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn state(&self) -> StateHandle {
        StateHandle {
            state: self.state.clone(),
        }
    }

    /// The directory holding a PV's data.
    pub fn volume_path(&self, pv: &str) -> Option<PathBuf> {
        self.state.volumes.path(pv)
    }

    /// Stops serving, ends watches and log streams, removes the volume directories.
    pub async fn shutdown(mut self) {
        self.state.shutdown.cancel();
        for t in self.tasks.drain(..) {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
    }
}

impl Drop for SimCluster {
    fn drop(&mut self) {
        self.state.shutdown.cancel();
    }
}

/// Mutates the cluster from tests, producing real watch events.
#[derive(Clone)]
pub struct StateHandle {
    state: Arc<SimState>,
}

impl StateHandle {
    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        self.state
            .store
            .lock()
            .get(kind, namespace, name)
            .map(|v| (*v).clone())
    }

    pub fn list(&self, kind: Kind, namespace: Option<&str>) -> Vec<Value> {
        self.state
            .store
            .lock()
            .list(kind, namespace)
            .iter()
            .map(|v| (**v).clone())
            .collect()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.state.store.lock().count(kind)
    }

    pub fn resource_version(&self) -> u64 {
        self.state.store.lock().resource_version()
    }

    /// Applies `f` to the object and stores it (MODIFIED). Returns the stored object.
    pub fn modify(
        &self,
        kind: Kind,
        namespace: &str,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        self.state
            .store
            .lock()
            .modify(kind, namespace, name, f)
            .map(|v| (*v).clone())
    }

    /// Creates an object as a client would (defaults, finalizers; pods get started).
    pub fn create(&self, kind: Kind, mut obj: Value) -> Value {
        let mut s = self.state.store.lock();
        controllers::prepare_new(kind, &mut obj, &s);
        let stored = s.insert(kind, obj);
        if kind == Kind::Pod {
            s.pending_starts
                .insert(key_of(&stored), std::time::Instant::now());
        }
        (*stored).clone()
    }

    /// Deletes as the API would (grace periods, finalizers).
    pub fn delete(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        let mut s = self.state.store.lock();
        controllers::begin_delete(
            &mut s,
            kind,
            namespace,
            name,
            None,
            &self.state.timing,
            false,
        )
    }

    /// Removes an object at once, ignoring finalizers.
    pub fn remove(&self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        self.state
            .store
            .lock()
            .remove(kind, namespace, name)
            .map(|v| (*v).clone())
    }

    pub fn set_pod_phase(&self, namespace: &str, name: &str, phase: &str) -> Option<Value> {
        self.modify(Kind::Pod, namespace, name, |v| {
            v["status"]["phase"] = json!(phase)
        })
    }

    /// The pod's first container crashes: restart count +1, last state terminated with
    /// `reason`/`exit_code`, now waiting in CrashLoopBackOff; current logs become previous.
    pub fn crash_pod(
        &self,
        namespace: &str,
        name: &str,
        reason: &str,
        exit_code: i32,
    ) -> Option<Value> {
        let mut s = self.state.store.lock();
        controllers::crash_container(&mut s, namespace, name, reason, exit_code)
            .map(|v| (*v).clone())
    }

    /// Bumps the first container's restart count (a restart that recovered).
    pub fn bump_restarts(&self, namespace: &str, name: &str) -> Option<Value> {
        let now = now_str();
        self.modify(Kind::Pod, namespace, name, |v| {
            let n = v
                .pointer("/status/containerStatuses/0/restartCount")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            v["status"]["containerStatuses"][0]["restartCount"] = json!(n);
            v["status"]["containerStatuses"][0]["lastState"] =
                json!({"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": now}});
        })
    }

    /// Records an event about an object (`involved_kind` like `Pod`).
    pub fn add_event(
        &self,
        namespace: &str,
        involved_kind: &str,
        involved_name: &str,
        event_type: &str,
        reason: &str,
        message: &str,
    ) -> Value {
        let mut s = self.state.store.lock();
        let involved = Kind::from_plural("", &format!("{}s", involved_kind.to_lowercase()))
            .and_then(|k| s.get(k, namespace, involved_name))
            .map(|v| (*v).clone())
            .unwrap_or_else(
                || json!({"metadata": {"name": involved_name, "namespace": namespace}}),
            );
        controllers::record_event(
            &mut s,
            &involved,
            involved_kind,
            event_type,
            reason,
            message,
            "ondeck-sim-test",
        );
        let name_prefix = format!("{involved_name}.");
        s.list(Kind::Event, Some(namespace))
            .into_iter()
            .filter(|e| meta_str(e, "name").starts_with(&name_prefix) && e["message"] == message)
            .max_by_key(|e| meta_str(e, "resourceVersion").parse::<u64>().unwrap_or(0))
            .map(|v| (*v).clone())
            .unwrap_or(Value::Null)
    }

    pub fn append_log(&self, namespace: &str, pod: &str, container: &str, line: &str) {
        self.state.store.lock().append_log(
            namespace,
            pod,
            container,
            Timestamp::now(),
            line.to_string(),
        );
    }

    /// Forgets the watch history: watches from any earlier resourceVersion get 410 Gone.
    pub fn compact(&self) {
        self.state.store.lock().compact();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_can_cross_tasks() {
        send_sync::<SimCluster>();
        send_sync::<StateHandle>();
        send_sync::<FaultHandle>();
    }

    #[tokio::test]
    async fn kubeconfig_names_the_context_and_trusts_the_ca() -> Result<(), SimError> {
        let sim = SimCluster::scenario("healthy").await?;
        let kc = sim.kubeconfig();
        assert_eq!(kc.current_context.as_deref(), Some(CONTEXT));
        let cluster = kc.clusters[0].cluster.clone().unwrap_or_default();
        assert_eq!(cluster.server.as_deref(), Some(sim.url().as_str()));
        assert_eq!(
            cluster.certificate_authority_data.as_deref(),
            Some(tls::base64(sim.ca_pem().as_bytes()).as_str())
        );
        assert!(sim.kubeconfig_yaml().contains("ondeck-sim"));
        sim.shutdown().await;
        Ok(())
    }
}
