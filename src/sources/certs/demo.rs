//! `--demo`'s local TLS endpoints on 127.0.0.1, one per verdict the pane can give: expired,
//! two days left, name mismatch, self-signed, incomplete chain (the server sends only its leaf
//! while the root is trusted and the intermediate is not). [`DemoEndpoints::start`] runs them
//! and registers them so the certificates source probes them beside the configured endpoints;
//! dropping the value stops them.

use std::sync::{Arc, Mutex};

use rustls::RootCertStore;

use super::CertSource;
use super::endpoints::Target;
use crate::tls::pki::{self, Made};
use crate::tls::{Deadlines, Request, Trust};

static RUNNING: Mutex<Vec<(String, Request)>> = Mutex::new(Vec::new());

/// The running demo endpoints (aborted on drop).
pub struct DemoEndpoints {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for DemoEndpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoEndpoints")
            .field("servers", &self.tasks.len())
            .finish()
    }
}

impl Drop for DemoEndpoints {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Ok(mut r) = RUNNING.lock() {
            r.clear();
        }
    }
}

impl DemoEndpoints {
    /// Starts the five servers and registers them.
    pub async fn start() -> anyhow::Result<DemoEndpoints> {
        let root = pki::try_ca("ondeck demo root CA", -400, 3650)?;
        let inter = pki::try_intermediate(&root, "ondeck demo intermediate R11", -400, 3000)?;
        let mut store = RootCertStore::empty();
        store.add(root.der.clone())?;
        let trust = Trust::Store(Arc::new(store));
        let names = ["localhost", "127.0.0.1"];
        let expired = pki::try_leaf(&inter, "expired.demo.localhost", &names, -400, -2)?;
        let two_days = pki::try_leaf_secs(
            Some(&inter),
            "soon.demo.localhost",
            &names,
            -86_400 * 88,
            86_400 * 2 + 3600,
        )?;
        let mismatch = pki::try_leaf(
            &inter,
            "other.example.test",
            &["other.example.test"],
            -30,
            200,
        )?;
        let self_signed = pki::try_leaf_secs(
            None,
            "selfsigned.demo.localhost",
            &names,
            -86_400,
            86_400 * 300,
        )?;
        let leaf_only = pki::try_leaf(&inter, "incomplete.demo.localhost", &names, -30, 150)?;
        let servers: [(&str, Vec<&Made>); 5] = [
            ("expired", vec![&expired, &inter]),
            ("2 days left", vec![&two_days, &inter]),
            ("name mismatch", vec![&mismatch, &inter]),
            ("self-signed", vec![&self_signed]),
            ("incomplete chain", vec![&leaf_only]),
        ];
        let mut tasks = Vec::new();
        let mut registered = Vec::new();
        for (what, chain) in servers {
            let ders = chain.iter().map(|m| m.der.clone()).collect();
            let (addr, task) = pki::serve(ders, chain[0].key_der()).await?;
            tasks.push(task);
            let mut req = Request::new(addr.to_string());
            req.server_name = Some("localhost".into());
            req.trust = trust.clone();
            registered.push((format!("{addr} (demo: {what})"), req));
        }
        if let Ok(mut r) = RUNNING.lock() {
            *r = registered;
        }
        Ok(DemoEndpoints { tasks })
    }
}

/// The registered demo endpoints as targets, with the config's deadlines.
pub fn targets(deadlines: Deadlines) -> Vec<Target> {
    let Ok(r) = RUNNING.lock() else {
        return Vec::new();
    };
    r.iter()
        .map(|(loc, req)| {
            let mut request = req.clone();
            request.deadlines = deadlines;
            Target {
                source: CertSource::Endpoint,
                location: loc.clone(),
                broken: None,
                request,
            }
        })
        .collect()
}
