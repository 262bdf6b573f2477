//! The hand-built HTTP(S) client of the probes: resolve (own deadline) -> TCP connect -> TLS
//! handshake -> hyper HTTP/1 handshake -> request -> response headers (time to first byte) ->
//! body (read capped at 1 MiB). Each phase runs under its own deadline and all of them under
//! the probe's `total`; a failure names its phase and kind in words (`connect refused`,
//! `TLS handshake timed out after 2s (connect took 3 ms)`, `headers: no response within 3s`).
//!
//! One connection per attempt, so every attempt measures connect and TLS; with `reuse = true`
//! the connection is kept ([`Warm`]) and the next attempt measures the warm path.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::config::{IpPreference, ProbeConfig, StatusRange};
use crate::domain::probes::{Attempt, Phase, Timings, TlsFacts, deadline_words};
use crate::domain::text::Clean;

/// Most of a body that is read; the rest is not waited for.
pub const BODY_CAP: usize = 1 << 20;

/// The `User-Agent` of every probe request (unless the probe's `headers` set one):
/// `ondeck/VERSION (OS; probe)`, so a server's logs tell ondeck's probes apart.
pub static USER_AGENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "ondeck/{} ({}; probe)",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    )
});

/// A probe compiled from its config once: parsed URL, method, headers, regex, TLS config.
#[derive(Clone)]
pub struct Prepared {
    pub name: String,
    pub url: String,
    host: Host,
    port: u16,
    path: String,
    authority: String,
    method: http::Method,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub cfg: ProbeConfig,
    expect: Vec<StatusRange>,
    body_regex: Option<regex::Regex>,
    tls: Option<TlsSetup>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish()
    }
}

impl Prepared {
    /// Compiles `cfg` (already validated by the config). Reading `ca_file` / the client
    /// certificate can still fail: the error says which file.
    pub fn new(cfg: &ProbeConfig) -> Result<Prepared, String> {
        let url = reqwest::Url::parse(&cfg.url).map_err(|e| format!("url: {e}"))?;
        let host = Host::parse(
            url.host_str()
                .ok_or_else(|| "url has no host".to_string())?,
        );
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            s => return Err(format!("scheme {s}: only http and https")),
        };
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        let mut path = url.path().to_string();
        if let Some(q) = url.query() {
            path.push('?');
            path.push_str(q);
        }
        let host_text = match &host {
            Host::Name(d) => d.clone(),
            Host::Ip(a @ std::net::IpAddr::V4(_)) => a.to_string(),
            Host::Ip(a) => format!("[{a}]"),
        };
        let name_host = cfg.server_name.clone().unwrap_or_else(|| match &host {
            Host::Ip(a) => a.to_string(),
            Host::Name(d) => d.clone(),
        });
        let default_port = if https { 443 } else { 80 };
        let authority_host = cfg.server_name.clone().unwrap_or(host_text);
        let authority = if port == default_port {
            authority_host
        } else {
            format!("{authority_host}:{port}")
        };
        let method = http::Method::from_bytes(cfg.method.as_bytes())
            .map_err(|_| format!("method {:?}", cfg.method))?;
        let mut headers = Vec::new();
        for (k, v) in &cfg.headers {
            let name = http::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("header name {k:?}"))?;
            let value =
                http::HeaderValue::from_str(v).map_err(|_| format!("header value of {k:?}"))?;
            headers.push((name, value));
        }
        let body_regex = match &cfg.body_regex {
            Some(re) => Some(
                regex::RegexBuilder::new(re)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("body_regex: {e}"))?,
            ),
            None => None,
        };
        let tls = if https {
            let sn = ServerName::try_from(name_host.clone())
                .map_err(|_| format!("server name {name_host:?}"))?;
            Some(tls_setup(cfg, sn)?)
        } else {
            None
        };
        Ok(Prepared {
            name: cfg.name.clone(),
            url: cfg.url.clone(),
            host,
            port,
            path: if path.is_empty() { "/".into() } else { path },
            authority,
            method,
            headers,
            expect: cfg.expect_status.clone(),
            body_regex,
            tls,
            cfg: cfg.clone(),
        })
    }

    fn status_ok(&self, code: u16) -> bool {
        if self.expect.is_empty() {
            (200..300).contains(&code)
        } else {
            self.expect.iter().any(|r| r.contains(code))
        }
    }
}

/// A probe's TLS: one client config over ondeck's recording verifier (`crate::tls`), whose
/// slot holds what the last handshake presented, even when verification failed. Resumption is
/// off, so every attempt makes (and measures) a full handshake and is verified. A probe runs
/// one attempt at a time, so one slot per probe is enough.
#[derive(Clone)]
struct TlsSetup {
    config: Arc<rustls::ClientConfig>,
    slot: Arc<std::sync::Mutex<Option<crate::tls::Recorded>>>,
    name: ServerName<'static>,
}

fn tls_setup(cfg: &ProbeConfig, name: ServerName<'static>) -> Result<TlsSetup, String> {
    use crate::tls::handshake::{ClientIdentity, Trust, provider};
    let trust = match &cfg.ca_file {
        Some(path) => Trust::File(path.clone()),
        None => Trust::System,
    };
    let roots = trust.load().map_err(|e| e.to_string())?;
    let verifier = crate::tls::RecordingVerifier::new(roots, provider(), None)
        .map_err(|e| format!("TLS setup: {e}"))?;
    let slot = verifier.slot();
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match (&cfg.client_cert, &cfg.client_key) {
        (Some(cert), Some(key)) => {
            let read = |p: &std::path::Path, what: &str| {
                std::fs::read(p).map_err(|e| format!("{what} {}: {e}", p.display()))
            };
            let id =
                ClientIdentity::from_pem(&read(cert, "client_cert")?, &read(key, "client_key")?)
                    .map_err(|e| e.to_string())?;
            builder
                .with_client_auth_cert(id.chain, id.key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    Ok(TlsSetup {
        config: Arc::new(config),
        slot,
        name,
    })
}

impl TlsSetup {
    fn take(&self) -> Option<crate::tls::Recorded> {
        self.slot.lock().ok().and_then(|mut g| g.take())
    }
}

/// The URL's host: an address (no DNS phase) or a name to resolve.
#[derive(Debug, Clone)]
enum Host {
    Ip(std::net::IpAddr),
    Name(String),
}

impl Host {
    fn parse(text: &str) -> Host {
        let bare = text.trim_start_matches('[').trim_end_matches(']');
        match bare.parse() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(text.to_string()),
        }
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A kept connection (`reuse = true`): the request sender, the task driving the connection
/// (aborted when dropped) and what the cold attempt learnt about the peer.
pub struct Warm {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    _driver: Driver,
    peer: Option<SocketAddr>,
    tls: Option<TlsFacts>,
}

/// Aborts the connection's task when the attempt ends (a stalled server must not keep it).
struct Driver(Option<tokio::task::JoinHandle<()>>);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

/// A failure: the phase, the words, and how long that phase ran.
struct Failure {
    phase: Phase,
    words: String,
}

fn fail(phase: Phase, words: impl Into<String>) -> Failure {
    Failure {
        phase,
        words: words.into(),
    }
}

/// The deadline of a phase: its own, cut by what is left of the total.
struct Budget {
    start: Instant,
    total: Duration,
}

impl Budget {
    /// `(limit, cut_by_total)` for a phase with deadline `own`.
    fn limit(&self, own: Duration) -> (Duration, bool) {
        let left = self.total.saturating_sub(self.start.elapsed());
        if left < own {
            (left, true)
        } else {
            (own, false)
        }
    }

    fn timed_out(&self, phase: &str, own_words: String, by_total: bool) -> String {
        if by_total {
            format!(
                "{phase}: total deadline {} reached",
                deadline_words(self.total)
            )
        } else {
            own_words
        }
    }
}

/// One attempt. `warm` holds the kept connection of a `reuse = true` probe (taken and put
/// back); other probes pass `None` each time.
pub async fn attempt(p: &Prepared, warm: &mut Option<Warm>) -> Attempt {
    let wall = jiff::Timestamp::now();
    let start = Instant::now();
    let mut timings = Timings::default();
    let mut out = Attempt {
        at: wall,
        ok: false,
        status_code: None,
        failed: None,
        error: None,
        timings,
        peer: None,
        tls: None,
        header_bytes: None,
        body_bytes: 0,
        reused: false,
    };
    let result = run(p, warm, &mut out, &mut timings, start).await;
    timings.total = start.elapsed();
    out.timings = timings;
    match result {
        Ok(()) => out.ok = true,
        Err(f) => {
            out.failed = Some(f.phase);
            out.error = Some(Clean::from_string(f.words));
        }
    }
    out
}

async fn run(
    p: &Prepared,
    warm: &mut Option<Warm>,
    out: &mut Attempt,
    timings: &mut Timings,
    start: Instant,
) -> Result<(), Failure> {
    let budget = Budget {
        start,
        total: p.cfg.timeouts.total.0,
    };
    let t = p.cfg.timeouts;
    // A kept connection is used when it is open and takes a request within the connect
    // deadline (its driver may not have seen the last response's end yet).
    let mut kept = match warm.take() {
        Some(mut w) if p.cfg.reuse && !w.sender.is_closed() => {
            match tokio::time::timeout(t.connect.0, w.sender.ready()).await {
                Ok(Ok(())) => Some(w),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(w) = &kept {
        out.reused = true;
        out.peer = w.peer;
        out.tls = w.tls.clone();
    } else {
        // DNS.
        let t0 = Instant::now();
        let (limit, by_total) = budget.limit(t.dns.0);
        let addrs: Vec<SocketAddr> = match &p.host {
            Host::Ip(a) => vec![SocketAddr::new(*a, p.port)],
            Host::Name(d) => {
                let looked = super::dns::resolve(d, p.port, limit).await;
                timings.dns = Some(t0.elapsed());
                match looked {
                    Err(super::dns::DnsError::TimedOut) => {
                        return Err(fail(
                            Phase::Dns,
                            budget.timed_out(
                                "DNS",
                                format!("DNS timed out after {}", deadline_words(limit)),
                                by_total,
                            ),
                        ));
                    }
                    Err(super::dns::DnsError::Busy) => {
                        return Err(fail(
                            Phase::Dns,
                            format!(
                                "DNS: resolver busy ({} lookups outstanding)",
                                super::dns::MAX_OUTSTANDING
                            ),
                        ));
                    }
                    Err(super::dns::DnsError::Failed(e)) => {
                        return Err(fail(Phase::Dns, dns_words(&e)));
                    }
                    Ok(addrs) => addrs,
                }
            }
        };
        let addr = pick(&addrs, p.cfg.ip).ok_or_else(|| {
            fail(
                Phase::Dns,
                match (addrs.is_empty(), p.cfg.ip) {
                    (true, _) => "DNS: no such host".to_string(),
                    (false, IpPreference::Ipv6) => "DNS: no IPv6 address".to_string(),
                    (false, _) => "DNS: no IPv4 address".to_string(),
                },
            )
        })?;
        out.peer = Some(addr);
        // Connect.
        let t1 = Instant::now();
        let (limit, by_total) = budget.limit(t.connect.0);
        let tcp = match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
            Err(_) => {
                timings.connect = Some(t1.elapsed());
                return Err(fail(
                    Phase::Connect,
                    budget.timed_out(
                        "connect",
                        format!("connect timed out after {}", deadline_words(limit)),
                        by_total,
                    ),
                ));
            }
            Ok(Err(e)) => {
                timings.connect = Some(t1.elapsed());
                return Err(fail(Phase::Connect, connect_words(&e)));
            }
            Ok(Ok(s)) => s,
        };
        let connect_took = t1.elapsed();
        timings.connect = Some(connect_took);
        let _ = tcp.set_nodelay(true);
        // TLS.
        let io: Box<dyn Io> = match &p.tls {
            None => Box::new(tcp),
            Some(setup) => {
                let t2 = Instant::now();
                let (limit, by_total) = budget.limit(t.tls.0);
                let _ = setup.take();
                let connector = tokio_rustls::TlsConnector::from(setup.config.clone());
                let shook =
                    tokio::time::timeout(limit, connector.connect(setup.name.clone(), tcp)).await;
                timings.tls = Some(t2.elapsed());
                let recorded = setup.take();
                if let Some(r) = &recorded {
                    out.tls = Some(recorded_facts(r));
                }
                match shook {
                    Err(_) => {
                        return Err(fail(
                            Phase::Tls,
                            budget.timed_out(
                                "TLS handshake",
                                format!(
                                    "TLS handshake timed out after {} (connect took {})",
                                    deadline_words(limit),
                                    ms_words(connect_took)
                                ),
                                by_total,
                            ),
                        ));
                    }
                    Ok(Err(e)) => {
                        let words = match &recorded {
                            Some(r) if !r.outcome.is_ok() => verdict_words(r),
                            _ => tls_words(&e),
                        };
                        return Err(fail(Phase::Tls, words));
                    }
                    Ok(Ok(s)) => {
                        // The recording verifier lets every handshake finish and records
                        // its verdict: a chain it did not accept fails the attempt here.
                        match &recorded {
                            Some(r) if r.outcome.is_ok() => {}
                            Some(r) => return Err(fail(Phase::Tls, verdict_words(r))),
                            None => {
                                return Err(fail(
                                    Phase::Tls,
                                    "TLS: handshake completed without a verified certificate",
                                ));
                            }
                        }
                        let facts = out.tls.get_or_insert_with(TlsFacts::default);
                        facts.version = version_of(s.get_ref().1);
                        facts.cipher = s
                            .get_ref()
                            .1
                            .negotiated_cipher_suite()
                            .map(|c| Clean::from_string(format!("{:?}", c.suite())));
                        Box::new(s)
                    }
                }
            }
        };
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| fail(Phase::Headers, format!("HTTP handshake: {e}")))?;
        let handle = tokio::spawn(async move {
            let _ = conn.await;
        });
        kept = Some(Warm {
            sender,
            _driver: Driver(Some(handle)),
            peer: out.peer,
            tls: out.tls.clone(),
        });
    }
    let Some(mut w) = kept else {
        return Err(fail(Phase::Headers, "no connection"));
    };
    // Request -> response headers.
    let mut req = http::Request::builder()
        .method(p.method.clone())
        .uri(p.path.as_str())
        .header(http::header::HOST, p.authority.as_str())
        .header(http::header::ACCEPT, "*/*");
    if !p.headers.iter().any(|(k, _)| k == http::header::USER_AGENT) {
        req = req.header(http::header::USER_AGENT, USER_AGENT.as_str());
    }
    for (k, v) in &p.headers {
        req = req.header(k, v);
    }
    if !p.cfg.reuse {
        req = req.header(http::header::CONNECTION, "close");
    }
    let req = req
        .body(Empty::<Bytes>::new())
        .map_err(|e| fail(Phase::Headers, format!("request: {e}")))?;
    let t3 = Instant::now();
    let (limit, by_total) = budget.limit(t.headers.0);
    let sent = tokio::time::timeout(limit, w.sender.send_request(req)).await;
    timings.headers = Some(t3.elapsed());
    let resp = match sent {
        Err(_) => {
            return Err(fail(
                Phase::Headers,
                budget.timed_out(
                    "headers",
                    format!("headers: no response within {}", deadline_words(limit)),
                    by_total,
                ),
            ));
        }
        Ok(Err(e)) => {
            let words = if e.is_incomplete_message() || e.is_closed() {
                "headers: connection closed before a response".to_string()
            } else {
                format!("headers: {e}")
            };
            return Err(fail(Phase::Headers, words));
        }
        Ok(Ok(r)) => r,
    };
    let code = resp.status().as_u16();
    out.status_code = Some(code);
    out.header_bytes = Some(header_bytes(&resp));
    if !p.status_ok(code) {
        return Err(fail(Phase::Status, format!("status {code}")));
    }
    // Body.
    let t4 = Instant::now();
    let mut body = resp.into_body();
    let mut kept_body: Vec<u8> = Vec::new();
    let want_body = p.body_regex.is_some();
    loop {
        let left = budget.total.saturating_sub(budget.start.elapsed());
        match tokio::time::timeout(left, body.frame()).await {
            Err(_) => {
                timings.transfer = Some(t4.elapsed());
                return Err(fail(
                    Phase::Body,
                    format!(
                        "body: transfer not done within the total deadline {} ({} bytes read)",
                        deadline_words(budget.total),
                        out.body_bytes
                    ),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                timings.transfer = Some(t4.elapsed());
                return Err(fail(Phase::Body, format!("body: {e}")));
            }
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    out.body_bytes += data.len();
                    if want_body && kept_body.len() < BODY_CAP {
                        let room = BODY_CAP - kept_body.len();
                        kept_body.extend_from_slice(&data[..data.len().min(room)]);
                    }
                    if out.body_bytes >= BODY_CAP {
                        break;
                    }
                }
            }
        }
    }
    timings.transfer = Some(t4.elapsed());
    if let Some(re) = &p.body_regex
        && !re.is_match(&String::from_utf8_lossy(&kept_body))
    {
        return Err(fail(Phase::Body, "body did not match"));
    }
    if p.cfg.reuse && out.body_bytes < BODY_CAP {
        *warm = Some(w);
    }
    Ok(())
}

/// The address to connect to, by the probe's IP preference.
fn pick(addrs: &[SocketAddr], ip: IpPreference) -> Option<SocketAddr> {
    let v4 = addrs.iter().find(|a| a.is_ipv4()).copied();
    let v6 = addrs.iter().find(|a| a.is_ipv6()).copied();
    match ip {
        IpPreference::PreferIpv4 => v4.or(v6),
        IpPreference::PreferIpv6 => v6.or(v4),
        IpPreference::Ipv4 => v4,
        IpPreference::Ipv6 => v6,
    }
}

fn dns_words(e: &std::io::Error) -> String {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("not known")
        || lower.contains("no address")
        || lower.contains("nodename nor servname")
        || lower.contains("no such host")
    {
        "DNS: no such host".into()
    } else if lower.contains("temporary failure") {
        "DNS: temporary failure in name resolution".into()
    } else {
        format!("DNS: {text}")
    }
}

fn connect_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connect refused".into(),
        ConnectionReset => "connect: reset by peer".into(),
        HostUnreachable => "connect: host unreachable".into(),
        NetworkUnreachable => "connect: network unreachable".into(),
        AddrNotAvailable => "connect: address not available".into(),
        _ => format!("connect: {e}"),
    }
}

fn tls_words(e: &std::io::Error) -> String {
    use rustls::CertificateError as C;
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    let Some(err) = inner else {
        return match e.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "TLS: connection closed during the handshake".into()
            }
            std::io::ErrorKind::ConnectionReset => {
                "TLS: connection reset during the handshake".into()
            }
            _ => format!("TLS: {e}"),
        };
    };
    match err {
        rustls::Error::InvalidCertificate(c) => match c {
            C::ExpiredContext { not_after, .. } => {
                format!("certificate expired on {}", date(not_after.as_secs()))
            }
            C::Expired => "certificate expired".into(),
            C::NotValidYetContext { not_before, .. } => {
                format!(
                    "certificate not valid before {}",
                    date(not_before.as_secs())
                )
            }
            C::NotValidYet => "certificate not valid yet".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "certificate is not valid for this host name".into()
            }
            C::UnknownIssuer => "certificate not trusted (unknown issuer)".into(),
            C::BadSignature => "certificate has a bad signature".into(),
            C::Revoked => "certificate revoked".into(),
            other => format!("certificate rejected: {other:?}"),
        },
        rustls::Error::AlertReceived(a) => format!("TLS: the server refused the handshake ({a:?})"),
        other => format!("TLS: {other}"),
    }
}

/// `2026-01-01`.
fn date(unix_secs: u64) -> String {
    i64::try_from(unix_secs)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "an unknown date".into())
}

/// `3 ms`, `0.4 ms`.
fn ms_words(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn header_bytes<B>(resp: &http::Response<B>) -> usize {
    let status = resp.status();
    // "HTTP/1.1 200 OK\r\n" + "name: value\r\n" each + "\r\n".
    let line = 9 + 4 + status.canonical_reason().map(str::len).unwrap_or(0) + 2;
    line + resp
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + 2 + v.len() + 2)
        .sum::<usize>()
        + 2
}

fn version_of(conn: &rustls::ClientConnection) -> Option<&'static str> {
    conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "TLS (other)",
    })
}

/// The leaf's facts as the recording verifier saw them (also when verification failed).
fn recorded_facts(r: &crate::tls::Recorded) -> TlsFacts {
    let leaf = r.facts().into_iter().next();
    TlsFacts {
        version: None,
        cipher: None,
        subject: leaf.as_ref().map(|f| f.subject.clone()),
        issuer: leaf.as_ref().map(|f| f.issuer.clone()),
        not_after: leaf.as_ref().and_then(|f| f.not_after),
        presented: Some(std::sync::Arc::new(r.clone())),
    }
}

/// A failed verification in words, with the date when the certificate expired.
fn verdict_words(r: &crate::tls::Recorded) -> String {
    use crate::tls::Outcome;
    let leaf = r.facts().into_iter().next();
    let day = |t: Option<jiff::Timestamp>| t.map(|t| t.strftime("%Y-%m-%d").to_string());
    match &r.outcome {
        Outcome::Expired => match day(leaf.as_ref().and_then(|f| f.not_after)) {
            Some(d) => format!("certificate expired on {d}"),
            None => "certificate expired".into(),
        },
        Outcome::NotYetValid => match day(leaf.as_ref().and_then(|f| f.not_before)) {
            Some(d) => format!("certificate not valid before {d}"),
            None => "certificate not valid yet".into(),
        },
        Outcome::NameMismatch => format!(
            "certificate is not valid for {}",
            crate::sanitize::display_line(&r.server_name)
        ),
        Outcome::UnknownIssuer => "certificate not trusted (unknown issuer)".into(),
        Outcome::IncompleteChain => format!("certificate chain {}", other_words(&r.outcome)),
        other => other.words(),
    }
}

fn other_words(o: &crate::tls::Outcome) -> String {
    o.words()
}
