//! Local endpoints on 127.0.0.1 that fail in every way a probe names, for `--demo` and the
//! tests: healthy (HTTP and HTTPS), slow response headers (2.5 s), a 503 that flaps, a refused
//! port, a server that accepts and never answers, a TLS handshake that stalls, a listener whose
//! accept queue is full (connect times out), a slow body, a body that does not match and an
//! expired certificate. Real sockets, real TLS (rcgen certificates, ECDSA P-256).
//!
//! The demo publishes its probes ([`publish`]); the probes source adds them to the config's
//! ([`published`]), in the console (which started before the demo) as in `check`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::config::{ProbeConfig, ProbeTimeouts, StatusRange};
use crate::config::HumanDuration;

static PUBLISHED: std::sync::OnceLock<watch::Sender<Vec<ProbeConfig>>> = std::sync::OnceLock::new();

fn channel() -> &'static watch::Sender<Vec<ProbeConfig>> {
    PUBLISHED.get_or_init(|| watch::channel(Vec::new()).0)
}

/// The probes of the running demo (empty without one); changes when a demo starts or stops.
pub fn published() -> watch::Receiver<Vec<ProbeConfig>> {
    channel().subscribe()
}

/// Makes `probes` the demo's probes.
pub fn publish(probes: Vec<ProbeConfig>) {
    channel().send_replace(probes);
}

/// How an endpoint answers.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    Ok,
    /// Headers after this long.
    SlowHeaders(Duration),
    /// 200 three times, then 503 three times, and so on.
    Flapping,
    /// Accepts, reads the request, never answers.
    Stall,
    /// Headers at once, then the body a byte at a time over this long.
    SlowBody(Duration),
    /// 200 with a body that says it is not ok.
    WrongBody,
}

/// The running endpoints; dropping it stops them all (and unpublishes the demo's probes if it
/// published them).
pub struct Endpoints {
    pub healthy: String,
    pub healthy_tls: String,
    pub slow_headers: String,
    pub flapping: String,
    pub refused: String,
    pub stall_after_accept: String,
    pub tls_stall: String,
    pub full_backlog: String,
    pub slow_body: String,
    pub wrong_body: String,
    pub expired_tls: String,
    /// The CA that signed the healthy TLS endpoint's certificate (PEM file).
    pub ca_file: PathBuf,
    /// When the expired certificate expired.
    pub expired_on: jiff::Timestamp,
    cancel: CancellationToken,
    published: bool,
    _dir: tempfile::TempDir,
    /// The connections that fill the full listener's accept queue, and the listener.
    _held: Vec<std::net::TcpStream>,
    _full: TcpListener,
}

impl Drop for Endpoints {
    fn drop(&mut self) {
        self.cancel.cancel();
        if self.published {
            publish(Vec::new());
        }
    }
}

impl Endpoints {
    /// Starts every endpoint on 127.0.0.1 (ephemeral ports).
    pub async fn start() -> std::io::Result<Endpoints> {
        let cancel = CancellationToken::new();
        let dir = tempfile::Builder::new()
            .prefix("ondeck-probes-")
            .tempdir()?;
        let io_err = |e: String| std::io::Error::other(e);
        // Certificates: a CA-less self-signed leaf for 127.0.0.1 and localhost (trusted via
        // ca_file), and an expired one.
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let good = rcgen::generate_simple_self_signed(names.clone())
            .map_err(|e| io_err(format!("certificate: {e}")))?;
        let ca_file = dir.path().join("demo-ca.pem");
        std::fs::write(&ca_file, good.cert.pem())?;
        let good_tls = server_config(good.cert.der().clone(), &good.signing_key)?;
        let mut params = rcgen::CertificateParams::new(names)
            .map_err(|e| io_err(format!("certificate: {e}")))?;
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2025, 1, 1);
        let expired_key = rcgen::KeyPair::generate().map_err(|e| io_err(format!("key: {e}")))?;
        let expired_cert = params
            .self_signed(&expired_key)
            .map_err(|e| io_err(format!("certificate: {e}")))?;
        let expired_tls = server_config(expired_cert.der().clone(), &expired_key)?;
        // The expired server is trusted through its own certificate too: the failure is the date.
        let expired_ca = dir.path().join("expired-ca.pem");
        std::fs::write(&expired_ca, expired_cert.pem())?;
        let expired_on = jiff::Timestamp::from_second(1_735_689_600).unwrap_or_default();

        let http = |b| serve(b, None, cancel.clone());
        let healthy = http(Behaviour::Ok).await?;
        let slow_headers = http(Behaviour::SlowHeaders(Duration::from_millis(2500))).await?;
        let flapping = http(Behaviour::Flapping).await?;
        let stall = http(Behaviour::Stall).await?;
        let slow_body = http(Behaviour::SlowBody(Duration::from_secs(3))).await?;
        let wrong_body = http(Behaviour::WrongBody).await?;
        let healthy_tls = serve(Behaviour::Ok, Some(good_tls), cancel.clone()).await?;
        let expired = serve(Behaviour::Ok, Some(expired_tls), cancel.clone()).await?;
        let tls_stall = stall_tcp(cancel.clone()).await?;
        let refused = {
            // A port that was just free: bound, then closed.
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.local_addr()?
        };
        let (full_addr, held, full) = crate::tls::pki::full_backlog().await?;
        // Held as std sockets, so dropping them needs no runtime.
        let held = held
            .into_iter()
            .map(TcpStream::into_std)
            .collect::<std::io::Result<Vec<_>>>()?;
        let _ = expired_ca;
        Ok(Endpoints {
            healthy: format!("http://{healthy}/healthz"),
            healthy_tls: format!("https://localhost:{}/healthz", healthy_tls.port()),
            slow_headers: format!("http://{slow_headers}/slow"),
            flapping: format!("http://{flapping}/flap"),
            refused: format!("http://{refused}/"),
            stall_after_accept: format!("http://{stall}/"),
            tls_stall: format!("https://{tls_stall}/"),
            full_backlog: format!("http://{full_addr}/"),
            slow_body: format!("http://{slow_body}/big"),
            wrong_body: format!("http://{wrong_body}/healthz"),
            expired_tls: format!("https://localhost:{}/", expired.port()),
            ca_file,
            expired_on,
            cancel,
            published: false,
            _dir: dir,
            _held: held,
            _full: full,
        })
    }

    /// The CA file that trusts the expired endpoint (its own certificate).
    pub fn expired_ca_file(&self) -> PathBuf {
        self._dir.path().join("expired-ca.pem")
    }

    /// The demo's probes of these endpoints.
    pub fn probes(&self) -> Vec<ProbeConfig> {
        let t = |connect: u64, tls: u64, headers: u64, total: u64| ProbeTimeouts {
            dns: HumanDuration(Duration::from_secs(1)),
            connect: HumanDuration(Duration::from_millis(connect)),
            tls: HumanDuration(Duration::from_millis(tls)),
            headers: HumanDuration(Duration::from_millis(headers)),
            total: HumanDuration(Duration::from_millis(total)),
        };
        let probe = |name: &str, url: &str| {
            let mut p = ProbeConfig::new(name, url);
            p.interval = HumanDuration(Duration::from_secs(5));
            p.timeouts = t(1000, 2000, 3000, 6000);
            p
        };
        let mut healthy = probe("demo-healthy", &self.healthy);
        healthy.body_regex = Some("ok".into());
        healthy.slo_p99 = Some(HumanDuration(Duration::from_millis(300)));
        let mut tls = probe("demo-healthy-tls", &self.healthy_tls);
        tls.ca_file = Some(self.ca_file.clone());
        let mut slow = probe("demo-slow-db", &self.slow_headers);
        slow.slo_p99 = Some(HumanDuration(Duration::from_millis(300)));
        slow.slo_for = HumanDuration(Duration::from_secs(20));
        let mut flap = probe("demo-flapping", &self.flapping);
        flap.expect_status = vec![StatusRange { lo: 200, hi: 299 }];
        let mut wrong = probe("demo-wrong-body", &self.wrong_body);
        wrong.body_regex = Some("^ok".into());
        let mut slow_body = probe("demo-slow-body", &self.slow_body);
        slow_body.timeouts = t(1000, 2000, 3000, 2000);
        let mut expired = probe("demo-expired-cert", &self.expired_tls);
        expired.ca_file = Some(self.expired_ca_file());
        vec![
            healthy,
            tls,
            slow,
            flap,
            probe("demo-refused", &self.refused),
            probe("demo-stalled", &self.stall_after_accept),
            probe("demo-tls-stall", &self.tls_stall),
            probe("demo-backlog-full", &self.full_backlog),
            slow_body,
            wrong,
            expired,
        ]
    }
}

/// Starts the demo's endpoints and publishes their probes (one call from `crate::demo`).
pub async fn start_for_demo() -> std::io::Result<Endpoints> {
    let mut e = Endpoints::start().await?;
    publish(e.probes());
    e.published = true;
    Ok(e)
}

fn server_config(
    cert: rustls_pki_types::CertificateDer<'static>,
    key: &rcgen::KeyPair,
) -> std::io::Result<Arc<rustls::ServerConfig>> {
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(vec![cert], key))
        .map_err(|e| std::io::Error::other(format!("TLS server: {e}")))?;
    Ok(Arc::new(cfg))
}

async fn serve(
    b: Behaviour,
    tls: Option<Arc<rustls::ServerConfig>>,
    cancel: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let counter = Arc::new(AtomicU64::new(0));
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let (sock, _) = tokio::select! {
                _ = cancel.cancelled() => return,
                r = listener.accept() => match r {
                    Ok(s) => s,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let cancel = cancel.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let job = async move {
                    match acceptor {
                        Some(a) => {
                            if let Ok(Ok(s)) =
                                tokio::time::timeout(Duration::from_secs(5), a.accept(sock)).await
                            {
                                answer(s, b, n).await;
                            }
                        }
                        None => answer(sock, b, n).await,
                    }
                };
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = job => {}
                }
            });
        }
    });
    Ok(addr)
}

/// Reads requests (their heads, at most 16 KiB each) and answers them as `b` says. A healthy
/// endpoint keeps the connection for the next request unless the client asked to close it.
async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, b: Behaviour, n: u64) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        buf.clear();
        loop {
            match tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                Ok(Ok(k)) => buf.extend_from_slice(&chunk[..k]),
            }
            if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > 16 * 1024 {
                break;
            }
        }
        let close = String::from_utf8_lossy(&buf)
            .to_ascii_lowercase()
            .contains("connection: close");
        let keep = matches!(b, Behaviour::Ok) && !close;
        let reply = |code: &str, body: &str| {
            format!(
                "HTTP/1.1 {code}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: {}\r\n\r\n{body}",
                body.len(),
                if keep { "keep-alive" } else { "close" }
            )
        };
        match b {
            Behaviour::Ok => {
                if s.write_all(reply("200 OK", "ok\n").as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Behaviour::SlowHeaders(d) => {
                tokio::time::sleep(d).await;
                let _ = s
                    .write_all(reply("200 OK", "ok (slowly)\n").as_bytes())
                    .await;
            }
            Behaviour::Flapping => {
                let r = if (n / 3) % 2 == 1 {
                    reply("503 Service Unavailable", "overloaded\n")
                } else {
                    reply("200 OK", "ok\n")
                };
                let _ = s.write_all(r.as_bytes()).await;
            }
            Behaviour::Stall => std::future::pending::<()>().await,
            Behaviour::SlowBody(d) => {
                let body = 32usize;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {body}\r\nconnection: close\r\n\r\n"
                );
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let _ = s.flush().await;
                let step = d / body as u32;
                for _ in 0..body {
                    tokio::time::sleep(step).await;
                    if s.write_all(b"x").await.is_err() || s.flush().await.is_err() {
                        return;
                    }
                }
            }
            Behaviour::WrongBody => {
                let _ = s
                    .write_all(reply("200 OK", "degraded: database down\n").as_bytes())
                    .await;
            }
        }
        let _ = s.flush().await;
        if !keep {
            let _ = s.shutdown().await;
            return;
        }
    }
}

/// Accepts TCP connections and never says a word (a TLS handshake stalls on it).
async fn stall_tcp(cancel: CancellationToken) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut held: Vec<TcpStream> = Vec::new();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                r = listener.accept() => {
                    if let Ok((s, _)) = r {
                        if held.len() >= 256 {
                            held.remove(0);
                        }
                        held.push(s);
                    }
                }
            }
        }
    });
    Ok(addr)
}
