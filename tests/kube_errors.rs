//! Error classification through the real kube client against tiny local servers: an expired
//! serving certificate (rcgen, served by tokio-rustls on 127.0.0.1) gives the expiry date; an
//! unknown CA, a host-name mismatch, a refused connection, a silent server, a 403 and a 401
//! each give their plain message.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ondeck::config::{HumanDuration, KubernetesConfig};
use ondeck::domain::pods::NamespaceScope;
use ondeck::sources::SourceError;
use ondeck::sources::kube::{KubeEnv, TargetArgs, connect, list_pods};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

static NEXT_CA: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

struct Pki {
    ca_pem: String,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

/// A CA and a serving certificate for `names`, valid between the given dates.
fn pki(names: &[&str], not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> Pki {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let n = NEXT_CA.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("test-ca-{n}"));
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = params.signed_by(&key, &issuer).expect("signed");
    Pki {
        ca_pem: ca_cert.pem(),
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// Serves TLS on 127.0.0.1 and answers every request with `status` and `body`; with
/// `silent`, accepts TCP and never speaks.
async fn serve(pki: &Pki, status: &'static str, body: &'static str, silent: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![pki.cert.clone()], pki.key.clone_key())
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            if silent {
                held.push(tcp);
                continue;
            }
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

fn kubeconfig(dir: &Path, server: &str, ca_pem: &str) -> std::path::PathBuf {
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, ca_pem).expect("write ca");
    let path = dir.join("config");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority: {}\ncontexts:\n- name: test\n  context:\n    cluster: c\n    user: alice\n    namespace: shop\nusers:\n- name: alice\n  user:\n    token: not-a-real-token\n",
            ca.display()
        ),
    )
    .expect("write kubeconfig");
    path
}

fn fast() -> KubernetesConfig {
    KubernetesConfig {
        connect_timeout: HumanDuration(Duration::from_millis(800)),
        request_timeout: HumanDuration(Duration::from_secs(2)),
        ..KubernetesConfig::default()
    }
}

async fn list_error(server: &str, ca_pem: &str) -> SourceError {
    let dir = tempfile::tempdir().expect("tempdir");
    let args = TargetArgs {
        kubeconfig: Some(kubeconfig(dir.path(), server, ca_pem)),
        ..Default::default()
    };
    let target = connect(&args, &KubeEnv::default(), &fast())
        .await
        .expect("connect builds clients without I/O");
    assert_eq!(target.scope, NamespaceScope::One("shop".into()));
    list_pods(&target).await.expect_err("the list must fail")
}

const VALID: ((i32, u8, u8), (i32, u8, u8)) = ((2020, 1, 1), (2090, 1, 1));

#[tokio::test]
async fn expired_serving_certificate_says_so_with_the_date() {
    let p = pki(&["127.0.0.1", "localhost"], (2024, 1, 1), (2025, 3, 14));
    let port = serve(&p, "200 OK", "{}", false).await;
    let err = list_error(&format!("https://127.0.0.1:{port}"), &p.ca_pem).await;
    match &err {
        SourceError::Tls(m) => {
            assert!(m.contains("expired on 2025-03-14"), "{m}");
            assert!(m.contains(&format!("127.0.0.1:{port}")), "{m}");
        }
        other => panic!("want Tls, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_ca_is_named() {
    let p = pki(&["127.0.0.1"], VALID.0, VALID.1);
    let other = pki(&["127.0.0.1"], VALID.0, VALID.1);
    let port = serve(&p, "200 OK", "{}", false).await;
    let err = list_error(&format!("https://127.0.0.1:{port}"), &other.ca_pem).await;
    assert!(
        matches!(&err, SourceError::Tls(m) if m.contains("unknown authority")),
        "{err:?}"
    );
}

#[tokio::test]
async fn host_name_mismatch_is_named() {
    let p = pki(&["api.other.example"], VALID.0, VALID.1);
    let port = serve(&p, "200 OK", "{}", false).await;
    let err = list_error(&format!("https://127.0.0.1:{port}"), &p.ca_pem).await;
    assert!(
        matches!(&err, SourceError::Tls(m) if m.contains("does not match the host name") && m.contains("api.other.example")),
        "{err:?}"
    );
}

#[tokio::test]
async fn refused_connection_is_unreachable() {
    let p = pki(&["127.0.0.1"], VALID.0, VALID.1);
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let err = list_error(&format!("https://127.0.0.1:{port}"), &p.ca_pem).await;
    assert!(
        matches!(&err, SourceError::Unreachable(m) if m.contains("connection refused")),
        "{err:?}"
    );
}

#[tokio::test]
async fn silent_server_times_out_at_the_connect_deadline() {
    let p = pki(&["127.0.0.1"], VALID.0, VALID.1);
    let port = serve(&p, "200 OK", "{}", true).await;
    let start = std::time::Instant::now();
    let err = list_error(&format!("https://127.0.0.1:{port}"), &p.ca_pem).await;
    assert!(matches!(&err, SourceError::Timeout(_)), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

const FORBIDDEN: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" in the namespace \"shop\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}"#;
const UNAUTHORIZED: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;

#[tokio::test]
async fn forbidden_names_verb_resource_and_namespace() {
    let p = pki(&["127.0.0.1"], VALID.0, VALID.1);
    let port = serve(&p, "403 Forbidden", FORBIDDEN, false).await;
    let err = list_error(&format!("https://127.0.0.1:{port}"), &p.ca_pem).await;
    match &err {
        SourceError::Forbidden(m) => {
            assert!(
                m.starts_with("cannot list pods in namespace shop as alice: pods is forbidden"),
                "{m}"
            );
        }
        other => panic!("want Forbidden, got {other:?}"),
    }
}

#[tokio::test]
async fn unauthorized_mentions_credentials() {
    let p = pki(&["127.0.0.1"], VALID.0, VALID.1);
    let port = serve(&p, "401 Unauthorized", UNAUTHORIZED, false).await;
    let err = list_error(&format!("https://127.0.0.1:{port}"), &p.ca_pem).await;
    assert!(
        matches!(&err, SourceError::Other(m) if m.starts_with("unauthorized: ") && m.contains("answered 401")),
        "{err:?}"
    );
}

#[tokio::test]
async fn unresolvable_host_is_unreachable() {
    let p = pki(&["127.0.0.1"], VALID.0, VALID.1);
    let err = list_error("https://ondeck-no-such-host.invalid:6443", &p.ca_pem).await;
    assert!(
        matches!(&err, SourceError::Unreachable(_) | SourceError::Timeout(_)),
        "{err:?}"
    );
}
