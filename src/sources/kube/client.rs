//! Connecting to Kubernetes the way kubectl does: `--kubeconfig`, else `KUBECONFIG` (several
//! files merged with client-go's rules, missing files skipped), else `~/.kube/config`, else the
//! in-cluster service account; `--context` overrides the current context; the namespace comes
//! from `-A`, `-n` or the context. Every client gets explicit deadlines from
//! [`KubernetesConfig`]: connect (TCP + TLS), and a read deadline per request; the watch client's
//! read deadline is a little longer than the server-side watch timeout so a healthy watch is
//! never cut.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ::kube::Client;
use ::kube::config::{Config as KubeConfig, KubeConfigOptions, Kubeconfig};
use jiff::Timestamp;

use crate::config::KubernetesConfig;
use crate::domain::pods::NamespaceScope;
use crate::sources::SourceError;

/// Server-side timeout asked of every watch (`timeoutSeconds`); the server ends the watch
/// cleanly after it and the watcher re-watches from its last resourceVersion.
pub const WATCH_TIMEOUT_SECS: u32 = 60;
/// The watch client's read deadline is the server-side timeout plus this margin.
pub const WATCH_READ_MARGIN: Duration = Duration::from_secs(15);

/// What the command line says about the target (`--kubeconfig`, `--context`, `-n`, `-A`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetArgs {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub all_namespaces: bool,
}

impl TargetArgs {
    /// One kubeconfig file, all namespaces (the demo cluster, tests).
    pub fn for_kubeconfig(path: &Path) -> Self {
        TargetArgs {
            kubeconfig: Some(path.to_path_buf()),
            all_namespaces: true,
            ..Default::default()
        }
    }
}

/// `:ctx NAME` / `:ns NAME` in the console: switch the Kubernetes target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retarget {
    Context(String),
    /// A namespace name, or `all` / `*` / `-A` for every namespace.
    Namespace(String),
}

impl Retarget {
    /// Applies the switch to the command line's target.
    pub fn apply(&self, args: &mut TargetArgs) {
        match self {
            Retarget::Context(c) => args.context = Some(c.clone()),
            Retarget::Namespace(n) if matches!(n.as_str(), "all" | "*" | "-A") => {
                args.namespace = None;
                args.all_namespaces = true;
            }
            Retarget::Namespace(n) => {
                args.namespace = Some(n.clone());
                args.all_namespaces = false;
            }
        }
    }
}

/// The parts of the environment kubeconfig resolution reads, injectable for tests.
#[derive(Debug, Clone, Default)]
pub struct KubeEnv {
    /// `KUBECONFIG`.
    pub kubeconfig: Option<OsString>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// Running in a pod: `KUBERNETES_SERVICE_HOST` set and a service account token mounted.
    pub in_cluster: bool,
}

impl KubeEnv {
    pub fn from_process() -> Self {
        KubeEnv {
            kubeconfig: std::env::var_os("KUBECONFIG"),
            home: std::env::var_os("HOME").map(PathBuf::from),
            in_cluster: std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
                && Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").exists(),
        }
    }
}

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOrigin {
    Files(Vec<PathBuf>),
    InCluster,
}

impl std::fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigOrigin::Files(p) => {
                let names: Vec<String> = p.iter().map(|p| p.display().to_string()).collect();
                f.write_str(&names.join(":"))
            }
            ConfigOrigin::InCluster => f.write_str("in-cluster service account"),
        }
    }
}

/// A resolved kubeconfig, before any client is built.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub origin: ConfigOrigin,
    /// `None` for in-cluster.
    pub kubeconfig: Option<Kubeconfig>,
    pub context: String,
    pub user: Option<String>,
    pub scope: NamespaceScope,
}

/// A connected target: clients with deadlines, and what the header shows about it.
#[derive(Clone)]
pub struct KubeTarget {
    /// For list/get/logs: read deadline = `request_timeout`.
    pub client: Client,
    /// For watches: read deadline = watch timeout + margin.
    pub watch_client: Client,
    pub context: String,
    pub cluster_url: String,
    pub scope: NamespaceScope,
    pub user: Option<String>,
    /// notAfter of the kubeconfig's client certificate, if it uses one.
    pub client_cert_not_after: Option<Timestamp>,
    pub origin: ConfigOrigin,
    pub request_timeout: Duration,
    /// When the API server last answered any of this target's sources (shared by clones).
    pub contact: super::liveness::Contact,
}

impl std::fmt::Debug for KubeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeTarget")
            .field("context", &self.context)
            .field("cluster_url", &self.cluster_url)
            .field("scope", &self.scope)
            .field("user", &self.user)
            .field("client_cert_not_after", &self.client_cert_not_after)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn read_file(path: &Path) -> Result<Kubeconfig, SourceError> {
    read_kubeconfig_file(path).map_err(|e| {
        SourceError::Other(format!("kubeconfig {} cannot be used: {e}", path.display()))
    })
}

/// Reads one kubeconfig file. Every caller goes through here rather than
/// `Kubeconfig::read_from`/`Kubeconfig::read`: kube-client 5.0.0 panics (index out of bounds in
/// its UTF-16 decoding) on a file that starts with a UTF-16 byte order mark and has an odd
/// number of bytes (found by the `kubeconfig` fuzz target). Such a file is refused here, with
/// the reason, before kube reads it.
pub fn read_kubeconfig_file(path: &Path) -> Result<Kubeconfig, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() % 2 == 1
        && (bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]))
    {
        return Err(format!(
            "it starts with a UTF-16 byte order mark but has an odd number of bytes ({}): not valid UTF-16",
            bytes.len()
        ));
    }
    Kubeconfig::read_from(path).map_err(|e| e.to_string())
}

/// The kubeconfig kubectl would read (`path`, else `KUBECONFIG` merged, else `~/.kube/config`),
/// every file through [`read_kubeconfig_file`], and the files it came from. `None` when there
/// is none.
pub fn read_kubeconfig_like_kubectl(
    path: Option<&Path>,
    env: &KubeEnv,
) -> Result<(ConfigOrigin, Option<Kubeconfig>), SourceError> {
    let found = if let Some(path) = path {
        // An explicit --kubeconfig must exist, as with kubectl.
        if !path.exists() {
            return Err(SourceError::Other(format!(
                "kubeconfig {} does not exist",
                path.display()
            )));
        }
        (
            ConfigOrigin::Files(vec![path.to_path_buf()]),
            Some(read_file(path)?),
        )
    } else if let Some(list) = env.kubeconfig.as_ref().filter(|v| !v.is_empty()) {
        // client-go: ignore empty and missing files, merge the rest, first one wins.
        let mut used = Vec::new();
        let mut merged: Option<Kubeconfig> = None;
        for p in std::env::split_paths(list).filter(|p| !p.as_os_str().is_empty()) {
            if !p.exists() {
                continue;
            }
            let k = read_file(&p)?;
            merged = Some(match merged {
                None => k,
                Some(m) => m.merge(k).map_err(|e| {
                    SourceError::Other(format!("kubeconfig {} cannot be merged: {e}", p.display()))
                })?,
            });
            used.push(p);
        }
        (ConfigOrigin::Files(used), merged)
    } else {
        match env.home.as_ref().map(|h| h.join(".kube").join("config")) {
            Some(p) if p.exists() => {
                let k = read_file(&p)?;
                (ConfigOrigin::Files(vec![p]), Some(k))
            }
            _ => (ConfigOrigin::Files(vec![]), None),
        }
    };
    Ok(found)
}

/// Resolves the kubeconfig with kubectl's precedence. `Ok(None)` means in-cluster; a missing
/// configuration everywhere is `NotConfigured`.
pub fn resolve(args: &TargetArgs, env: &KubeEnv) -> Result<Resolved, SourceError> {
    let (origin, config) = read_kubeconfig_like_kubectl(args.kubeconfig.as_deref(), env)?;
    let config = config.filter(|k| !k.contexts.is_empty() || !k.clusters.is_empty());
    let Some(config) = config else {
        if env.in_cluster && args.kubeconfig.is_none() {
            let ns = match (&args.namespace, args.all_namespaces) {
                (_, true) => NamespaceScope::All,
                (Some(n), false) => NamespaceScope::One(n.clone()),
                (None, false) => NamespaceScope::One(
                    std::fs::read_to_string(
                        "/var/run/secrets/kubernetes.io/serviceaccount/namespace",
                    )
                    .map(|s| s.trim().to_string())
                    .ok()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "default".into()),
                ),
            };
            return Ok(Resolved {
                origin: ConfigOrigin::InCluster,
                kubeconfig: None,
                context: "in-cluster".into(),
                user: None,
                scope: ns,
            });
        }
        let where_ = match &origin {
            ConfigOrigin::Files(f) if !f.is_empty() => format!(" ({origin} has no contexts)"),
            _ => String::new(),
        };
        return Err(SourceError::NotConfigured(format!(
            "no kubeconfig found{where_}: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config"
        )));
    };

    let context = match args
        .context
        .clone()
        .or_else(|| config.current_context.clone())
    {
        Some(c) if !c.is_empty() => c,
        _ => {
            // A kubeconfig without a context to use is a broken setup, not "no cluster":
            // `check` must say UNKNOWN, never OK.
            return Err(SourceError::Other(format!(
                "kubeconfig {origin} has no current-context: pass --context NAME"
            )));
        }
    };
    let Some(ctx) = config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref())
    else {
        return Err(SourceError::Other(format!(
            "context {context:?} not found in kubeconfig {origin}"
        )));
    };
    let scope = match (&args.namespace, args.all_namespaces) {
        (_, true) => NamespaceScope::All,
        (Some(n), false) => NamespaceScope::One(n.clone()),
        (None, false) => NamespaceScope::One(
            ctx.namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "default".into()),
        ),
    };
    let user = ctx.user.clone();
    Ok(Resolved {
        origin,
        kubeconfig: Some(config),
        context,
        user,
        scope,
    })
}

/// Installs ring as rustls' process-wide provider (idempotent; kube needs one).
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The largest read buffer one API connection keeps (hyper's default is about 408 KiB).
/// A page of a big list fills a connection's buffer to its maximum, and the connection keeps
/// that allocation for as long as it lives, watches included: with a dozen connections that
/// was 4 MiB of an idle console's memory. 64 KiB still reads a page in large gulps.
pub const READ_BUFFER_MAX: usize = 64 * 1024;

type Service = tower::util::BoxService<
    http::Request<::kube::client::Body>,
    http::Response<Box<::kube::client::DynBody>>,
    tower::BoxError,
>;

/// kube's own client stack (what `ClientBuilder::try_from` builds: HTTPS with the config's
/// TLS, connect/read/write deadlines, the base URI, kube's retry of server errors, auth and
/// extra headers), except that each connection's read buffer is capped at
/// [`READ_BUFFER_MAX`]. A proxy or an exec credential plugin (whose client certificate
/// expires and is refreshed by kube's own builder) get kube's builder unchanged.
fn client_builder(c: KubeConfig) -> Result<::kube::client::ClientBuilder<Service>, ::kube::Error> {
    use ::kube::client::ConfigExt;
    use http_body_util::BodyExt;
    use tower::{ServiceBuilder, ServiceExt};

    let exec = c.auth_info.exec.is_some();
    if c.proxy_url.is_some() || exec {
        return ::kube::client::ClientBuilder::try_from(c);
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    let mut connector =
        hyper_timeout::TimeoutConnector::new(c.rustls_https_connector_with_connector(http)?);
    connector.set_connect_timeout(c.connect_timeout);
    connector.set_read_timeout(c.read_timeout);
    connector.set_write_timeout(c.write_timeout);
    connector.set_reset_reader_on_write(c.reset_reader_on_write);
    let client: hyper_util::client::legacy::Client<_, ::kube::client::Body> =
        hyper_util::client::legacy::Builder::new(hyper_util::rt::TokioExecutor::new())
            .http1_max_buf_size(READ_BUFFER_MAX)
            .build(connector);
    let retry = c
        .default_retry
        .then(|| tower::retry::RetryLayer::new(::kube::client::retry::RetryPolicy::server_retry()));
    let service = ServiceBuilder::new()
        .layer(c.base_uri_layer())
        .option_layer(retry)
        .option_layer(c.auth_layer()?)
        .layer(c.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(client)
        .map_response(|r: http::Response<hyper::body::Incoming>| {
            r.map(|body| {
                Box::new(body.map_err(tower::BoxError::from)) as Box<::kube::client::DynBody>
            })
        })
        .boxed();
    Ok(::kube::client::ClientBuilder::new(
        service,
        c.default_namespace,
    ))
}

fn apply_deadlines(mut c: KubeConfig, cfg: &KubernetesConfig, read: Duration) -> KubeConfig {
    c.connect_timeout = Some(cfg.connect_timeout.0);
    c.read_timeout = Some(read);
    c.write_timeout = Some(cfg.request_timeout.0);
    // Count the read deadline from when the request was written, not from when a pooled
    // connection went idle.
    c.reset_reader_on_write = true;
    c
}

/// Builds the kube `Config` for a resolved target.
pub async fn kube_config(resolved: &Resolved) -> Result<KubeConfig, SourceError> {
    match &resolved.kubeconfig {
        None => KubeConfig::incluster().map_err(|e| {
            SourceError::Other(format!("in-cluster configuration cannot be used: {e}"))
        }),
        Some(k) => {
            let opts = KubeConfigOptions {
                context: Some(resolved.context.clone()),
                ..Default::default()
            };
            KubeConfig::from_custom_kubeconfig(k.clone(), &opts)
                .await
                .map_err(|e| {
                    SourceError::Other(format!(
                        "kubeconfig {} (context {}): {e}",
                        resolved.origin, resolved.context
                    ))
                })
        }
    }
}

/// Resolves and builds clients. No network I/O happens here; the first request does it.
pub async fn connect(
    args: &TargetArgs,
    env: &KubeEnv,
    cfg: &KubernetesConfig,
) -> Result<KubeTarget, SourceError> {
    install_crypto_provider();
    let resolved = resolve(args, env)?;
    let base = kube_config(&resolved).await?;
    let cluster_url = base.cluster_url.to_string();
    let client_cert_not_after = resolved
        .kubeconfig
        .as_ref()
        .and_then(|k| client_cert_not_after(k, &resolved));
    if let Some(k) = &resolved.kubeconfig {
        // For explaining a 401 from this server (an expired client certificate).
        crate::sources::certs::apiserver::remember_target_client_cert(
            k,
            resolved.user.as_deref(),
            cluster_url.trim_end_matches('/'),
        );
    }
    let req = apply_deadlines(base.clone(), cfg, cfg.request_timeout.0);
    let watch = apply_deadlines(
        base,
        cfg,
        Duration::from_secs(u64::from(WATCH_TIMEOUT_SECS)) + WATCH_READ_MARGIN,
    );
    let ua = user_agent(&resolved.context);
    let build = |c: KubeConfig| {
        client_builder(c)
            .map(|b| b.with_layer(&UserAgentLayer(ua.clone())).build())
            .map_err(|e| {
                SourceError::Other(format!(
                    "cannot build a client for context {}: {e}",
                    resolved.context
                ))
            })
    };
    Ok(KubeTarget {
        client: build(req)?,
        watch_client: build(watch)?,
        context: resolved.context.clone(),
        cluster_url: cluster_url.trim_end_matches('/').to_string(),
        scope: resolved.scope.clone(),
        user: resolved.user.clone(),
        client_cert_not_after,
        origin: resolved.origin.clone(),
        request_timeout: cfg.request_timeout.0,
        contact: Default::default(),
    })
}

/// `ondeck/VERSION (OS; CONTEXT)`: what every request to the API server says it is, so that an
/// operator can tell ondeck's traffic apart in the audit log and give it its own API priority
/// and fairness. The context is cut to printable ASCII (a header value must be).
pub fn user_agent(context: &str) -> http::HeaderValue {
    let ctx: String = context
        .chars()
        .take(128)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    let s = format!(
        "ondeck/{} ({}; {ctx})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    );
    http::HeaderValue::from_str(&s).unwrap_or_else(|_| http::HeaderValue::from_static("ondeck"))
}

/// A tower layer that sets `User-Agent` on every request (kube's `Config` has no field for it).
#[derive(Clone)]
pub struct UserAgentLayer(pub http::HeaderValue);

impl<S> tower_layer::Layer<S> for UserAgentLayer {
    type Service = UserAgentService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        UserAgentService {
            inner,
            value: self.0.clone(),
        }
    }
}

/// See [`UserAgentLayer`].
#[derive(Clone)]
pub struct UserAgentService<S> {
    inner: S,
    value: http::HeaderValue,
}

impl<S, B> tower_service::Service<http::Request<B>> for UserAgentService<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        req.headers_mut()
            .insert(http::header::USER_AGENT, self.value.clone());
        self.inner.call(req)
    }
}

/// notAfter of the context user's client certificate (inline data or file), if any.
fn client_cert_not_after(k: &Kubeconfig, r: &Resolved) -> Option<Timestamp> {
    let user = r.user.as_ref()?;
    let auth = k
        .auth_infos
        .iter()
        .find(|a| &a.name == user)?
        .auth_info
        .as_ref()?;
    let pem = match (&auth.client_certificate_data, &auth.client_certificate) {
        (Some(data), _) => base64_decode(data)?,
        (None, Some(path)) => std::fs::read(path).ok()?,
        (None, None) => return None,
    };
    pem_not_after(&pem)
}

/// Fuzzing entry point (`fuzz/entries.rs`): [`client_cert_not_after`] from outside the crate.
pub fn client_cert_not_after_for_fuzz(k: &Kubeconfig, r: &Resolved) -> Option<Timestamp> {
    client_cert_not_after(k, r)
}

/// notAfter of the first certificate in a PEM bundle.
pub fn pem_not_after(pem: &[u8]) -> Option<Timestamp> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let der = CertificateDer::pem_slice_iter(pem).next()?.ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Timestamp::from_second(cert.validity().not_after.timestamp()).ok()
}

/// Standard base64 (kubeconfig `*-data` fields), ignoring whitespace. `None` if malformed.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_version_os_and_context() {
        let ua = user_agent("prod-eu\u{1b}[31m");
        let s = ua.to_str().unwrap_or_default();
        assert!(
            s.starts_with(&format!("ondeck/{} (", env!("CARGO_PKG_VERSION"))),
            "{s}"
        );
        assert!(s.ends_with("; prod-eu?[31m)"), "{s}");
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64_decode("aGVsbG8K").as_deref(), Some(&b"hello\n"[..]));
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(base64_decode("a"), None);
        assert_eq!(base64_decode("a*bc"), None);
    }
}
