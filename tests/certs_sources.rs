//! The certificate sources against real components: TLS Secrets through the simulated
//! cluster (field selector in the request log, paging, a garbage `tls.key` never parsed, the
//! console's watch), the 401 + expired client certificate diagnosis against a real TLS server,
//! endpoint sweeps where black holes do not delay the others.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use ondeck::config::{HumanDuration, KubernetesConfig};
use ondeck::domain::certs::CertBatch;
use ondeck::sim::{SimCluster, SimOptions};
use ondeck::sources::certs::{apiserver, endpoints, secrets};
use ondeck::sources::kube::{KubeEnv, KubeTarget, TargetArgs, connect};
use ondeck::tls::pki;
use ondeck::tls::{Deadlines, Outcome, Trust};
use tokio::sync::mpsc;

fn kcfg() -> KubernetesConfig {
    KubernetesConfig {
        connect_timeout: HumanDuration(Duration::from_secs(2)),
        request_timeout: HumanDuration(Duration::from_secs(5)),
        backoff_initial: HumanDuration(Duration::from_millis(100)),
        backoff_max: HumanDuration(Duration::from_secs(1)),
    }
}

async fn sim(scenario: &str) -> (SimCluster, tempfile::TempDir, KubeTarget) {
    let sim = SimCluster::start(SimOptions::named(scenario))
        .await
        .expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    sim.write_kubeconfig(&path).expect("kubeconfig");
    let args = TargetArgs {
        kubeconfig: Some(path),
        all_namespaces: true,
        ..Default::default()
    };
    let t = connect(&args, &KubeEnv::default(), &kcfg())
        .await
        .expect("connect");
    (sim, dir, t)
}

fn tls_secret(ns: &str, name: &str, crt: &str, key: &[u8]) -> Secret {
    let mut data = BTreeMap::new();
    data.insert("tls.crt".to_string(), ByteString(crt.as_bytes().to_vec()));
    data.insert("tls.key".to_string(), ByteString(key.to_vec()));
    let mut s = Secret {
        type_: Some("kubernetes.io/tls".into()),
        data: Some(data),
        ..Default::default()
    };
    s.metadata.namespace = Some(ns.into());
    s.metadata.name = Some(name.into());
    s
}

#[tokio::test]
async fn incident_secrets_come_through_the_field_selector_and_pages() {
    let (sim, _dir, target) = sim("incident").await;
    // 120 more TLS Secrets, so the list takes 3 pages of 50; one with a garbage key.
    let api: Api<Secret> = Api::namespaced(target.client.clone(), "web");
    let ca = pki::ca("Bulk Root", -10, 3650);
    let leaf = pki::leaf(&ca, "bulk.example.com", &["bulk.example.com"], -1, 100);
    for i in 0..120 {
        let key: &[u8] = if i == 0 {
            b"\x00\x01 not a key at all"
        } else {
            leaf.key_pem.as_bytes()
        };
        api.create(
            &PostParams::default(),
            &tls_secret("web", &format!("bulk-{i:03}"), &leaf.cert_pem, key),
        )
        .await
        .expect("create");
    }
    sim.clear_request_log();
    let batch = secrets::list_once(&target).await.expect("list");
    let by_loc = |l: &str| batch.rows.iter().find(|r| r.location == l);
    let expired = by_loc("web/frontend-tls").expect("frontend-tls");
    let now = jiff::Timestamp::now();
    assert!(expired.facts.as_ref().expect("facts").expired_at(now));
    let three = by_loc("payments/payments-api-tls").expect("payments");
    assert_eq!(
        three
            .facts
            .as_ref()
            .and_then(|f| f.days_left(now))
            .map(|d| (2..=3).contains(&d)),
        Some(true)
    );
    assert!(by_loc("monitoring/grafana-tls").is_some() && by_loc("logging/loki-tls").is_some());
    // The garbage key does not matter: the certificate shows.
    let garbage = by_loc("web/bulk-000").expect("garbage-key secret");
    assert_eq!(
        garbage.facts.as_ref().map(|f| f.subject.as_str()),
        Some("bulk.example.com")
    );
    assert!(
        batch
            .rows
            .iter()
            .filter(|r| r.location.starts_with("web/bulk-"))
            .count()
            == 120
    );
    // Opaque secrets (db-credentials) never come back: the server filtered them.
    assert!(by_loc("payments/db-credentials").is_none());
    let lists: Vec<_> = sim
        .request_log()
        .into_iter()
        .filter(|r| r.resource == "secrets" && r.verb == "list")
        .collect();
    assert!(lists.len() >= 3, "paged: {lists:?}");
    for r in &lists {
        let q = r.query.replace("%3D", "=").replace("%2F", "/");
        assert!(
            q.contains("fieldSelector=type=kubernetes.io/tls"),
            "{}",
            r.query
        );
        assert!(q.contains("limit=50"), "{}", r.query);
    }
    assert!(
        lists.iter().skip(1).all(|r| r.query.contains("continue=")),
        "{lists:?}"
    );
}

#[tokio::test]
async fn the_watch_sends_the_secrets_and_follows_a_new_one() {
    let (sim, _dir, target) = sim("incident").await;
    let (tx, mut rx) = mpsc::channel(8);
    let task = secrets::spawn_watch(target.clone(), tx);
    let first = next_batch(&mut rx).await;
    assert!(first.rows.iter().any(|r| r.location == "web/frontend-tls"));
    let api: Api<Secret> = Api::namespaced(target.client.clone(), "web");
    let ca = pki::ca("Watch Root", -10, 3650);
    let leaf = pki::leaf(&ca, "new.example.com", &["new.example.com"], -1, 10);
    api.create(
        &PostParams::default(),
        &tls_secret("web", "new-tls", &leaf.cert_pem, b"k"),
    )
    .await
    .expect("create");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let b = next_batch(&mut rx).await;
        if b.rows.iter().any(|r| r.location == "web/new-tls") {
            break;
        }
        assert!(Instant::now() < deadline, "the new Secret never arrived");
    }
    let watches: Vec<_> = sim
        .request_log()
        .into_iter()
        .filter(|r| r.resource == "secrets" && r.query.contains("watch"))
        .collect();
    assert!(!watches.is_empty());
    assert!(watches.iter().all(|r| {
        r.query
            .replace("%3D", "=")
            .replace("%2F", "/")
            .contains("type=kubernetes.io/tls")
    }));
    task.abort();
}

async fn next_batch(rx: &mut mpsc::Receiver<ondeck::sources::SourceUpdate>) -> CertBatch {
    let u = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a batch in time")
        .expect("channel open");
    *u.result
        .expect("ok")
        .downcast::<CertBatch>()
        .expect("a batch")
}

#[tokio::test]
async fn a_401_with_an_expired_client_certificate_is_explained() {
    let root = pki::ca("Cluster CA", -400, 3650);
    let serving = pki::leaf(
        &root,
        "kube-apiserver",
        &["localhost", "127.0.0.1"],
        -10,
        300,
    );
    let (addr, task) = pki::serve_answering(
        vec![serving.der.clone()],
        serving.key_der(),
        "401 Unauthorized",
    )
    .await
    .expect("serve");
    let client = pki::leaf(&root, "oncall", &[], -400, -3);
    let b64 = |s: &str| ondeck::sim::tls::base64(s.as_bytes());
    let yaml = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: prod\n  cluster:\n    server: https://{addr}\n    certificate-authority-data: {}\ncontexts:\n- name: prod\n  context: {{cluster: prod, user: oncall}}\nusers:\n- name: oncall\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&root.cert_pem),
        b64(&client.cert_pem),
        b64(&client.key_pem)
    );
    let k = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
    let targets = apiserver::targets(&k, "prod", false, Deadlines::default());
    let (batch, diagnoses) = apiserver::batch(&targets).await;
    task.abort();
    assert_eq!(batch.rows[0].verify, Some(Outcome::Ok));
    let d = diagnoses.join("\n");
    assert!(
        d.contains("your client certificate for user oncall expired on"),
        "{d}"
    );
    assert!(
        d.contains("kubectl says only 'You must be logged in"),
        "{d}"
    );
    // The kubeconfig rows show that client certificate as expired.
    let rows = ondeck::sources::certs::kubeconfig::rows(&k);
    let c = rows
        .iter()
        .find(|r| r.location == "prod/oncall")
        .expect("client cert row");
    assert!(
        c.facts
            .as_ref()
            .expect("facts")
            .expired_at(jiff::Timestamp::now())
    );
}

#[tokio::test]
async fn a_kubeconfig_ca_that_does_not_sign_the_server_is_named() {
    let real = pki::ca("Real Cluster CA", -10, 3650);
    let serving = pki::leaf(&real, "kube-apiserver", &["127.0.0.1"], -1, 300);
    let (addr, task) = pki::serve(vec![serving.der.clone()], serving.key_der())
        .await
        .expect("serve");
    let stale = pki::ca("Old Cluster CA", -10, 3650);
    let b64 = |s: &[u8]| ondeck::sim::tls::base64(s);
    let yaml = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: https://{addr}\n    certificate-authority-data: {}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user: {{token: abc}}\n",
        b64(stale.cert_pem.as_bytes())
    );
    let k = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
    let (_, diagnoses) =
        apiserver::batch(&apiserver::targets(&k, "c", false, Deadlines::default())).await;
    let d = diagnoses.join("\n");
    assert!(
        d.contains("the kubeconfig CA \"Old Cluster CA\" of cluster c does not sign"),
        "{d}"
    );
    assert!(d.contains("issued by \"Real Cluster CA\""), "{d}");
    // DER CA data is reported as not PEM, not as an unknown authority.
    let yaml_der = yaml.replace(&b64(stale.cert_pem.as_bytes()), &b64(stale.der.as_ref()));
    let k = kube::config::Kubeconfig::from_yaml(&yaml_der).expect("kubeconfig");
    let (_, diagnoses) =
        apiserver::batch(&apiserver::targets(&k, "c", false, Deadlines::default())).await;
    assert!(
        diagnoses
            .join("\n")
            .contains("is not PEM (it looks like DER)"),
        "{diagnoses:?}"
    );
    let rows = ondeck::sources::certs::kubeconfig::rows(&k);
    assert!(
        rows.iter()
            .any(|r| r.unknown.as_deref().is_some_and(|u| u.contains("not PEM")))
    );
    assert!(
        rows.iter()
            .any(|r| r.note.as_deref() == Some("no certificate (bearer token)"))
    );
    task.abort();
}

#[tokio::test]
async fn black_holed_endpoints_do_not_delay_the_others() {
    let root = pki::ca("Sweep Root", -10, 3650);
    let leaf = pki::leaf(&root, "localhost", &["localhost"], -1, 90);
    let mut tasks = Vec::new();
    let mut targets = Vec::new();
    let mut store = rustls::RootCertStore::empty();
    store.add(root.der.clone()).expect("root");
    let trust = Trust::Store(std::sync::Arc::new(store));
    let deadlines = Deadlines {
        connect: Duration::from_secs(2),
        handshake: Duration::from_millis(700),
    };
    // Kept full (and never accepted) for the whole sweep.
    let mut full = Vec::new();
    for i in 0..40 {
        let addr = if i % 8 == 0 {
            // Accepts and never answers: the handshake hangs.
            let (addr, t) = pki::black_hole().await.expect("hole");
            tasks.push(t);
            addr
        } else if i % 4 == 0 {
            // A full backlog: the connect itself hangs (its deadline, 2 s, is longer than the
            // handshake's).
            let (addr, fillers, l) = pki::full_backlog().await.expect("full backlog");
            full.push((fillers, l));
            addr
        } else {
            let (addr, t) = pki::serve(vec![leaf.der.clone()], leaf.key_der())
                .await
                .expect("serve");
            tasks.push(t);
            addr
        };
        let mut tgt = endpoints::target(
            &ondeck::sources::certs::EndpointTable {
                address: addr.to_string(),
                server_name: Some("localhost".into()),
                ca_file: None,
                client_cert: None,
                client_key: None,
            },
            deadlines,
        );
        tgt.request.trust = trust.clone();
        targets.push(tgt);
    }
    let start = Instant::now();
    let rows = endpoints::probe_all(&targets).await;
    let took = start.elapsed();
    for t in tasks {
        t.abort();
    }
    assert_eq!(rows.len(), 40);
    let ok = rows
        .iter()
        .filter(|r| r.verify == Some(Outcome::Ok))
        .count();
    let unknown = rows
        .iter()
        .filter(|r| {
            r.unknown
                .as_deref()
                .is_some_and(|u| u.contains("timed out after 700ms"))
        })
        .count();
    assert_eq!((ok, unknown), (30, 10), "{rows:#?}");
    let in_connect = rows
        .iter()
        .filter(|r| {
            r.unknown
                .as_deref()
                .is_some_and(|u| u.starts_with("connect "))
        })
        .count();
    assert_eq!(
        in_connect, 5,
        "the full-backlog ones hang in the connect: {rows:#?}"
    );
    drop(full);
    // Five black holes and five full backlogs cost one handshake deadline, not ten, and not
    // the longer connect deadline.
    assert!(took < deadlines.handshake * 2, "sweep took {took:?}");
}
