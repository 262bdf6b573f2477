//! The cluster-side certificate sources through the simulated cluster and the real kube
//! client: Ingress hosts as "breaks when it expires" on their Secrets (and "who uses it:
//! unknown (why)" when Ingresses are forbidden), cert-manager Certificates (404 = not
//! installed: nothing; 403 = unknown), webhook and APIService caBundles, the 401 wording with
//! an expired client certificate, and the console's watches following changes.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use ondeck::config::{CertRules, HumanDuration, KubernetesConfig};
use ondeck::domain::Level;
use ondeck::domain::certs::{CertBatch, CertRow, CertSource};
use ondeck::rules::certs::assess;
use ondeck::sim::{Fault, Kind, SimCluster, SimOptions};
use ondeck::sources::SourceError;
use ondeck::sources::certs::{cluster, secrets};
use ondeck::sources::kube::{KubeEnv, KubeTarget, TargetArgs, connect};
use serde_json::json;
use tokio::sync::mpsc;

fn kcfg() -> KubernetesConfig {
    KubernetesConfig {
        connect_timeout: HumanDuration(Duration::from_secs(2)),
        request_timeout: HumanDuration(Duration::from_secs(5)),
        backoff_initial: HumanDuration(Duration::from_millis(100)),
        backoff_max: HumanDuration(Duration::from_secs(1)),
    }
}

async fn target_for(sim: &SimCluster, dir: &tempfile::TempDir) -> KubeTarget {
    let path = dir.path().join("config");
    sim.write_kubeconfig(&path).expect("kubeconfig");
    let args = TargetArgs {
        kubeconfig: Some(path),
        all_namespaces: true,
        ..Default::default()
    };
    connect(&args, &KubeEnv::default(), &kcfg())
        .await
        .expect("connect")
}

async fn sim_with(opts: SimOptions) -> (SimCluster, tempfile::TempDir, KubeTarget) {
    let sim = SimCluster::start(opts).await.expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let t = target_for(&sim, &dir).await;
    (sim, dir, t)
}

fn row<'a>(b: &'a CertBatch, loc: &str) -> &'a CertRow {
    b.rows
        .iter()
        .find(|r| r.location == loc)
        .unwrap_or_else(|| panic!("no row {loc}: {:#?}", b.rows))
}

fn deps(r: &CertRow) -> Vec<String> {
    r.dependents.iter().map(|d| d.to_string()).collect()
}

#[tokio::test]
async fn secrets_say_which_ingress_hosts_break_when_they_expire() {
    let (sim, _dir, t) = sim_with(SimOptions::named("incident")).await;
    sim.clear_request_log();
    let b = secrets::list_once(&t).await.expect("list");
    assert_eq!(
        deps(row(&b, "web/frontend-tls")),
        vec!["breaks when it expires: shop.example.com, www.shop.example.com (ingress web/shop)"]
    );
    assert_eq!(
        deps(row(&b, "payments/payments-api-tls")),
        vec!["breaks when it expires: pay.example.com (ingress payments/pay-api)"]
    );
    // No Ingress uses loki-tls.
    assert!(row(&b, "logging/loki-tls").dependents.is_empty());
    // Ingresses were listed through networking.k8s.io/v1 with paging.
    let log = sim.request_log();
    let ing: Vec<_> = log
        .iter()
        .filter(|r| r.resource == "ingresses" && r.verb == "list")
        .collect();
    assert!(!ing.is_empty(), "{log:?}");
    assert!(
        ing.iter()
            .all(|r| r.path.starts_with("/apis/networking.k8s.io/v1/")
                && r.query.contains("limit=50")
                && r.status == 200),
        "{ing:?}"
    );
    // check's JSON carries the dependents.
    let snap = ondeck::domain::certs::CertsSnapshot::from_batches([&b]);
    let rows = snap.json_rows(&CertRules::default(), Timestamp::now());
    let j = rows
        .iter()
        .find(|r| r.location == "web/frontend-tls")
        .expect("json row");
    assert!(
        j.dependents
            .iter()
            .any(|d| d.contains("shop.example.com") && d.contains("ingress web/shop")),
        "{:?}",
        j.dependents
    );
}

#[tokio::test]
async fn forbidden_ingresses_make_who_uses_it_unknown_not_empty() {
    let (_sim, _dir, t) = sim_with(SimOptions {
        faults: vec!["forbid=list:ingresses".parse::<Fault>().expect("fault")],
        ..SimOptions::named("incident")
    })
    .await;
    let b = secrets::list_once(&t).await.expect("secrets still list");
    let d = deps(row(&b, "web/frontend-tls"));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].starts_with("who uses it: unknown (forbidden: cannot list ingresses"),
        "{d:?}"
    );
    // The Secrets themselves are known: the batch has no error.
    assert!(b.error.is_none(), "{:?}", b.error);
    assert!(row(&b, "web/frontend-tls").facts.is_some());
    // A cert-manager Certificate's dependents are unknown the same way.
    let c = cluster::certmanager_once(&t).await.expect("cert-manager");
    assert!(c.error.is_none(), "{:?}", c.error);
    let d = deps(row(&c, "payments/payments-api"));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].starts_with("who uses it: unknown (forbidden: cannot list ingresses"),
        "{d:?}"
    );
}

#[tokio::test]
async fn cert_manager_certificates_show_status_and_a_failing_renewal() {
    let (sim, _dir, t) = sim_with(SimOptions::named("incident")).await;
    let b = cluster::certmanager_once(&t)
        .await
        .expect("cert-manager is installed in the incident scenario");
    assert_eq!(b.origin, CertSource::CertManager);
    assert!(b.error.is_none());
    let now = Timestamp::now();
    let pay = row(&b, "payments/payments-api");
    assert_eq!(pay.source, CertSource::CertManager);
    let left = pay.seconds_left(now).expect("notAfter");
    assert!((2 * 86_400..=3 * 86_400).contains(&left), "{left}");
    let failing = pay.renewal_failing.as_deref().expect("renewal failing");
    assert!(
        failing.starts_with("renewal failing since ")
            && failing.contains(": Failed to finalize Order: 429"),
        "{failing}"
    );
    let note = pay.note.as_deref().unwrap_or("");
    assert!(
        note.contains("renewal at ") && note.contains("Secret payments-api-tls"),
        "{note}"
    );
    let a = assess(pay, &CertRules::default(), now);
    assert_eq!(a.level, Some(Level::Critical));
    assert!(
        a.reasons
            .iter()
            .any(|r| r.starts_with("renewal failing since")),
        "{:?}",
        a.reasons
    );
    // The Ingress serving its Secret (payments-api-tls) breaks when it expires.
    assert_eq!(
        deps(pay),
        vec!["breaks when it expires: pay.example.com (ingress payments/pay-api)"]
    );
    let loki = row(&b, "logging/loki");
    assert!(loki.renewal_failing.is_none());
    // No Ingress serves loki-tls.
    assert!(loki.dependents.is_empty(), "{:?}", deps(loki));
    assert_eq!(
        assess(loki, &CertRules::default(), now).level,
        Some(Level::Ok)
    );
    // Listed through the CRD's group with the dynamic client.
    assert!(
        sim.request_log()
            .iter()
            .any(|r| r.path == "/apis/cert-manager.io/v1/certificates" && r.status == 200)
    );
}

#[tokio::test]
async fn without_cert_manager_there_are_no_rows_and_no_error() {
    // The healthy scenario has no Certificates: the CRD is not installed.
    let (sim, _dir, t) = sim_with(SimOptions::named("healthy")).await;
    assert!(cluster::certmanager_once(&t).await.is_none());
    let log = sim.request_log();
    let cm: Vec<_> = log
        .iter()
        .filter(|r| r.path.contains("cert-manager.io"))
        .collect();
    assert!(
        !cm.is_empty() && cm.iter().all(|r| r.status == 404),
        "{cm:?}"
    );
    // Discovery does not list the group either.
    let client = sim.client().await.expect("client");
    let groups = client.list_api_groups().await.expect("groups");
    assert!(groups.groups.iter().all(|g| g.name != "cert-manager.io"));
    assert!(groups.groups.iter().any(|g| g.name == "networking.k8s.io"));
}

#[tokio::test]
async fn forbidden_cert_manager_is_unknown_with_the_reason() {
    let (_sim, _dir, t) = sim_with(SimOptions {
        faults: vec!["forbid=list:certificates".parse::<Fault>().expect("fault")],
        ..SimOptions::named("incident")
    })
    .await;
    let b = cluster::certmanager_once(&t).await.expect("a batch");
    assert!(b.rows.is_empty());
    let e = b.error.as_deref().expect("error");
    assert!(
        e.starts_with("forbidden: cannot list certificates.cert-manager.io"),
        "{e}"
    );
    let snap = ondeck::domain::certs::CertsSnapshot::from_batches([&b]);
    let j = snap.json_rows(&CertRules::default(), Timestamp::now());
    assert_eq!(j.len(), 1);
    assert_eq!((j[0].source, j[0].level), ("cert-manager", "unknown"));
    assert!(
        j[0].reasons[0].starts_with("unknown (forbidden: "),
        "{:?}",
        j[0].reasons
    );
}

#[tokio::test]
async fn webhook_and_apiservice_ca_bundles_are_read_and_an_expired_one_is_critical() {
    let (sim, _dir, t) = sim_with(SimOptions::named("incident")).await;
    let now = Timestamp::now();
    let w = cluster::webhooks_once(&t).await;
    assert!(w.error.is_none(), "{:?}", w.error);
    let hook = row(&w, "policy-guard/validate.policy-guard.example.com");
    assert_eq!(hook.source, CertSource::Webhook);
    let left = hook.seconds_left(now).expect("caBundle parsed");
    assert!((86_400..=2 * 86_400).contains(&left), "{left}");
    assert!(
        deps(hook)[0].starts_with("breaks when it expires: create/update pods cluster-wide fail"),
        "{:?}",
        deps(hook)
    );
    assert_eq!(
        assess(hook, &CertRules::default(), now).level,
        Some(Level::Critical)
    );
    let a = cluster::apiservices_once(&t).await;
    let m = row(&a, "v1beta1.metrics.k8s.io");
    assert_eq!(m.source, CertSource::Apiservice);
    assert_eq!(assess(m, &CertRules::default(), now).level, Some(Level::Ok));

    // An expired caBundle, created through the API as a real client would.
    let client = sim.client().await.expect("client");
    let ca = ondeck::tls::pki::ca("Old Webhook CA", -400, -1);
    let bundle = ondeck::sim::tls::base64(ca.cert_pem.as_bytes());
    let obj: k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration =
        serde_json::from_value(json!({
            "metadata": {"name": "injector"},
            "webhooks": [{
                "name": "inject.example.com",
                "clientConfig": {"service": {"namespace": "mesh", "name": "injector"}, "caBundle": bundle},
                "sideEffects": "None", "admissionReviewVersions": ["v1"],
            }]
        }))
        .expect("object");
    let api: kube::Api<k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration> =
        kube::Api::all(client);
    api.create(&Default::default(), &obj).await.expect("create");
    let w = cluster::webhooks_once(&t).await;
    let inj = row(&w, "injector/inject.example.com");
    let a = assess(inj, &CertRules::default(), now);
    assert_eq!(a.level, Some(Level::Critical));
    assert!(
        a.reasons
            .iter()
            .any(|r| r == "an expired caBundle breaks API calls cluster-wide"),
        "{:?}",
        a.reasons
    );
}

#[tokio::test]
async fn forbidden_webhooks_are_unknown() {
    let (_sim, _dir, t) = sim_with(SimOptions {
        faults: vec![
            "forbid=list:validatingwebhookconfigurations"
                .parse::<Fault>()
                .expect("fault"),
        ],
        ..SimOptions::named("incident")
    })
    .await;
    let w = cluster::webhooks_once(&t).await;
    let e = w.error.as_deref().expect("error");
    assert!(
        e.starts_with("forbidden: cannot list validatingwebhookconfigurations (cluster-scoped)"),
        "{e}"
    );
}

/// The latest batch of each collector, as the console's aggregator keeps them.
struct Latest {
    rx: mpsc::Receiver<CertBatch>,
    parts: std::collections::BTreeMap<CertSource, CertBatch>,
}

impl Latest {
    /// Waits (with a deadline) until the latest batch of `origin` satisfies `ok`.
    async fn until(&mut self, origin: CertSource, what: &str, ok: impl Fn(&CertBatch) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if self.parts.get(&origin).is_some_and(&ok) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let b = tokio::time::timeout(left, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("never: {what}: {:#?}", self.parts.get(&origin)))
                .expect("open");
            self.parts.insert(b.origin, b);
        }
    }
}

#[tokio::test]
async fn the_console_watches_follow_ingresses_and_certificates() {
    let (sim, _dir, t) = sim_with(SimOptions::named("incident")).await;
    let (tx, rx) = mpsc::channel(16);
    // As the console runs them: Secrets and Certificates share one Ingress watch.
    let tasks = cluster::spawn_watches(&t, tx, true);
    let mut l = Latest {
        rx,
        parts: Default::default(),
    };
    l.until(CertSource::Secret, "the first secrets batch", |b| {
        b.rows.iter().any(|r| {
            r.location == "web/frontend-tls"
                && deps(r).iter().any(|d| d.contains("(ingress web/shop)"))
        })
    })
    .await;
    // A new Ingress for loki-tls: its hosts appear on that Secret's row.
    let state = sim.state();
    state.create(
        Kind::Ingress,
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "loki", "namespace": "logging"},
            "spec": {"tls": [{"hosts": ["loki.example.com"], "secretName": "loki-tls"}]},
        }),
    );
    l.until(CertSource::Secret, "the new ingress", |b| {
        b.rows.iter().any(|r| {
            r.location == "logging/loki-tls"
                && deps(r)
                    == vec!["breaks when it expires: loki.example.com (ingress logging/loki)"]
        })
    })
    .await;
    // ... and on the row of the cert-manager Certificate that writes loki-tls.
    l.until(
        CertSource::CertManager,
        "the new ingress on the certificate",
        |b| {
            b.rows.iter().any(|r| {
                r.location == "logging/loki"
                    && deps(r)
                        == vec!["breaks when it expires: loki.example.com (ingress logging/loki)"]
            })
        },
    )
    .await;
    // The failing Certificate recovers: no more "renewal failing".
    l.until(CertSource::CertManager, "the certificates", |b| {
        b.rows.iter().any(|r| {
            r.renewal_failing.is_some()
                && deps(r)
                    == vec!["breaks when it expires: pay.example.com (ingress payments/pay-api)"]
        })
    })
    .await;
    state.modify(Kind::Certificate, "payments", "payments-api", |v| {
        v["status"]["conditions"][0]["status"] = json!("True");
        v["status"]["conditions"][0]["message"] = json!("Certificate is up to date");
    });
    l.until(CertSource::CertManager, "the recovered certificate", |b| {
        b.rows
            .iter()
            .any(|r| r.location == "payments/payments-api" && r.renewal_failing.is_none())
    })
    .await;
    l.until(CertSource::Webhook, "the webhooks", |b| {
        b.rows
            .iter()
            .any(|r| r.location == "policy-guard/validate.policy-guard.example.com")
    })
    .await;
    let watches: Vec<_> = sim
        .request_log()
        .into_iter()
        .filter(|r| r.verb == "watch")
        .map(|r| r.resource)
        .collect();
    for want in [
        "secrets",
        "ingresses",
        "certificates",
        "validatingwebhookconfigurations",
    ] {
        assert!(watches.iter().any(|w| w == want), "{want}: {watches:?}");
    }
    for t in tasks {
        t.abort();
    }
}

#[tokio::test]
async fn a_401_with_an_expired_client_certificate_says_unauthorized_and_why() {
    let sim = SimCluster::start(SimOptions {
        client_cert_days: Some(-3),
        ..SimOptions::named("healthy")
    })
    .await
    .expect("sim");
    // The client certificate alone (no token): the server answers 401, as a real API server
    // does for an expired certificate.
    let mut k = sim.kubeconfig();
    for a in &mut k.auth_infos {
        if let Some(ai) = a.auth_info.as_mut() {
            ai.token = None;
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    std::fs::write(&path, serde_saphyr::to_string(&k).expect("yaml")).expect("write");
    let args = TargetArgs {
        kubeconfig: Some(path),
        all_namespaces: true,
        ..Default::default()
    };
    let t = connect(&args, &KubeEnv::default(), &kcfg())
        .await
        .expect("connect");
    let err = secrets::list_once(&t).await.expect_err("401");
    let SourceError::Other(m) = &err else {
        panic!("{err:?}");
    };
    assert!(
        m.starts_with("unauthorized: your client certificate for user "),
        "{m}"
    );
    assert!(m.contains(" expired on "), "{m}");
    assert!(m.contains("You must be logged in"), "{m}");
    assert!(!m.contains("forbidden"), "{m}");
    assert!(sim.request_log().iter().any(|r| r.status == 401));
}

#[tokio::test]
async fn without_cert_manager_the_watch_stops_asking() {
    let (sim, _dir, t) = sim_with(SimOptions::named("healthy")).await;
    let (tx, rx) = mpsc::channel(16);
    let tasks = cluster::spawn_watches(&t, tx, false);
    let mut l = Latest {
        rx,
        parts: Default::default(),
    };
    l.until(CertSource::CertManager, "the not-installed batch", |b| {
        b.rows.is_empty() && b.error.is_none()
    })
    .await;
    let asked = |sim: &SimCluster| {
        sim.request_log()
            .iter()
            .filter(|r| r.path.contains("cert-manager.io"))
            .count()
    };
    let first = asked(&sim);
    assert!(first >= 1);
    // kube's backoff would retry within a second or two; a kind that is not served is left
    // alone for NOT_SERVED_RECHECK.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(asked(&sim), first, "{:?}", sim.request_log());
    for t in tasks {
        t.abort();
    }
}
