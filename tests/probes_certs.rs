//! The HTTPS probes' certificates in the certificates pane and `check`'s `certs` rows: a probe
//! of a loopback server with an rcgen chain shows as SOURCE `probe`, WHERE its name and URL;
//! two probes of the same address share one row; an address `[certs] endpoints` already checks
//! stays one endpoint row.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ondeck::app::{Model, Msg, Settings, update};
use ondeck::config::ProbeRules;
use ondeck::domain::certs::{CertSource, CertsSnapshot};
use ondeck::sources::certs::CertsConfig;
use ondeck::sources::certs::from_probes::Feed;
use ondeck::sources::probes::config::{ProbeConfig, ProbeSettings};
use ondeck::sources::probes::task::{TaskOptions, spawn};
use ondeck::sources::{Payload, SourceId, SourceUpdate};
use ondeck::tls::pki;
use ondeck::ui::fixtures::{buffer_text, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use tokio_util::sync::CancellationToken;

/// A loopback HTTPS server for `localhost` signed by a fresh CA; the CA's PEM file.
async fn server(dir: &std::path::Path) -> (std::net::SocketAddr, std::path::PathBuf) {
    let ca = pki::ca("probe-test-ca", -1, 365);
    let leaf = pki::leaf(&ca, "api.probe.test", &["localhost"], -1, 90);
    let (addr, _task) = pki::serve(vec![leaf.der.clone(), ca.der.clone()], leaf.key_der())
        .await
        .expect("serve");
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &ca.cert_pem).expect("write CA");
    // The server task lives as long as the runtime.
    std::mem::forget(_task);
    (addr, ca_file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_lists_the_probes_certificates_once_per_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, ca_a) = server(dir.path()).await;
    let sub = dir.path().join("b");
    std::fs::create_dir(&sub).expect("dir");
    let (b, ca_b) = server(&sub).await;
    let cfg = dir.path().join("config.toml");
    let mut f = std::fs::File::create(&cfg).expect("config");
    write!(
        f,
        r#"
[certs]
kubeconfig = false
secrets = false
endpoints = [{{ address = "localhost:{pb}", ca_file = "{cb}" }}]

[[probes]]
name = "api-health"
url = "https://localhost:{pa}/healthz"
ca_file = "{ca}"

[[probes]]
name = "api-ready"
url = "https://localhost:{pa}/ready"
ca_file = "{ca}"

[[probes]]
name = "other"
url = "https://localhost:{pb}/"
ca_file = "{cb}"

[[probes]]
name = "plain"
url = "http://localhost:{pa}/"
"#,
        pa = a.port(),
        pb = b.port(),
        ca = ca_a.display(),
        cb = ca_b.display(),
    )
    .expect("write config");
    drop(f);
    let out = tokio::task::spawn_blocking(move || {
        let home = dir.path().join("home");
        Command::new(env!("CARGO_BIN_EXE_ondeck"))
            .args(["check", "--json", "--only", "certs", "--config"])
            .arg(&cfg)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("run ondeck check")
    })
    .await
    .expect("join");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let v: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    let rows = v["certs"].as_array().expect("certs rows");
    let probe_rows: Vec<_> = rows.iter().filter(|r| r["source"] == "probe").collect();
    assert_eq!(
        probe_rows.len(),
        1,
        "one row for the two probes of A: {text}"
    );
    let r = probe_rows[0];
    assert_eq!(
        r["location"],
        format!("probes api-health, api-ready (localhost:{})", a.port()),
        "{r}"
    );
    assert!(
        r["subject"]
            .as_str()
            .is_some_and(|s| s.contains("api.probe.test")),
        "{r}"
    );
    assert_eq!(r["verify"], "ok", "{r}");
    assert_eq!(r["level"], "ok", "{r}");
    // B is a configured endpoint: its row stays the endpoint's, no probe row repeats it.
    let at_b: Vec<_> = rows
        .iter()
        .filter(|r| {
            r["location"]
                .as_str()
                .is_some_and(|l| l.contains(&format!(":{}", b.port())))
        })
        .collect();
    assert_eq!(at_b.len(), 1, "{text}");
    assert_eq!(at_b[0]["source"], "endpoint");
}

fn probe(name: &str, url: &str, ca: &std::path::Path) -> ProbeConfig {
    let mut p = ProbeConfig::new(name, url);
    p.ca_file = Some(ca.to_path_buf());
    p.interval.0 = Duration::from_millis(300);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_sends_each_probes_presented_chain_to_the_certificates_pane() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, ca) = server(dir.path()).await;
    let url = format!("https://localhost:{}/healthz", a.port());
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let refused_url = format!("https://127.0.0.1:{refused}/");
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let (ctx_certs, mut certs_rx) = tokio::sync::mpsc::channel(8);
    let cancel = CancellationToken::new();
    let task = spawn(
        TaskOptions {
            probes: vec![
                probe("api", &url, &ca),
                probe("gone", &refused_url, &ca),
                ProbeConfig::new("plain", &format!("http://localhost:{}/", a.port())),
            ],
            settings: ProbeSettings::default(),
            rules: ProbeRules::default(),
            refresh: Duration::from_millis(100),
            more: None,
            audits: None,
            certs: Some(Feed {
                cfg: CertsConfig::default(),
                to: Some(ctx_certs),
            }),
        },
        tx,
        cancel.clone(),
    );
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    // Batches until both HTTPS probes are in (the first may hold one of them only).
    let deadline = Instant::now() + Duration::from_secs(20);
    let batch = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let b = tokio::time::timeout(left, certs_rx.recv())
            .await
            .expect("a certificate batch within 20s")
            .expect("collector running");
        if b.rows.len() == 2 {
            break b;
        }
    };
    assert_eq!(batch.origin, CertSource::Probe);
    let api = batch
        .rows
        .iter()
        .find(|r| r.location.starts_with("probe api "))
        .unwrap_or_else(|| panic!("{batch:#?}"));
    assert_eq!(&*api.location, format!("probe api {url}"));
    assert_eq!(api.source, CertSource::Probe);
    let leaf = api.facts.as_ref().expect("the leaf's facts");
    assert!(leaf.subject.contains("api.probe.test"), "{leaf:?}");
    assert_eq!(api.chain.len(), 2, "leaf and CA as presented");
    assert!(api.verify.as_ref().is_some_and(|o| o.is_ok()), "{api:?}");
    let gone = batch
        .rows
        .iter()
        .find(|r| r.location.starts_with("probe gone "))
        .unwrap_or_else(|| panic!("{batch:#?}"));
    assert!(
        gone.facts.is_none()
            && gone
                .unknown
                .as_deref()
                .is_some_and(|u| u.starts_with("no certificate seen: connect refused")),
        "{gone:?}"
    );
    // Nothing new while the chain stays the same.
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), certs_rx.recv())
            .await
            .is_err(),
        "a batch is sent only when a chain changes"
    );

    // The certificates pane shows the row as the aggregator builds it.
    let mut m = Model::new(
        Settings {
            grid: vec![vec![PaneKind::Certs]],
            ..Settings::default()
        },
        Instant::now(),
        jiff::Timestamp::now(),
    );
    m.focused = PaneKind::Certs;
    update(
        &mut m,
        Msg::Source(SourceUpdate {
            source: SourceId::Certs,
            generation: ondeck::sources::next_generation(),
            at: Instant::now(),
            wall: jiff::Timestamp::now(),
            result: Ok(Payload::new(CertsSnapshot::from_batches([&batch]))),
        }),
    );
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 200, 40));
    assert!(
        text.lines()
            .any(|l| l.contains("probe api https://localhost") && l.matches("probe").count() >= 2),
        "{text}"
    );
    cancel.cancel();
    let _ = task.await;
    drain.abort();
}
