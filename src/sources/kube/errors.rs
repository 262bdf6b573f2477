//! Turning kube / hyper / rustls errors into plain [`SourceError`]s an on-call person can act
//! on: which verb on which resource in which namespace was forbidden, whether the API server was
//! refused, unresolvable or silent, and for TLS exactly why, with the date when the server's
//! certificate has expired (incident 6).

use std::error::Error as StdError;

use ::kube::runtime::watcher;
use jiff::Timestamp;
use rustls::{CertificateError, Error as TlsError};

use crate::domain::pods::NamespaceScope;
use crate::sources::SourceError;

/// What was being attempted, for the message: "list pods in namespace shop".
#[derive(Debug, Clone)]
pub struct Op<'a> {
    pub verb: &'a str,
    pub resource: &'a str,
    pub scope: &'a NamespaceScope,
    pub server: &'a str,
    pub user: Option<&'a str>,
}

impl Op<'_> {
    fn what(&self) -> String {
        if cluster_scoped(self.resource) {
            return format!("{} {} (cluster-scoped)", self.verb, self.resource);
        }
        match self.scope {
            NamespaceScope::All => {
                format!("{} {} in all namespaces", self.verb, self.resource)
            }
            NamespaceScope::One(ns) => {
                format!("{} {} in namespace {ns}", self.verb, self.resource)
            }
        }
    }
}

/// Kinds that live outside namespaces: a message about them names no namespace.
fn cluster_scoped(resource: &str) -> bool {
    let kind = resource.split('/').next().unwrap_or(resource);
    matches!(
        kind,
        "persistentvolumes"
            | "storageclasses"
            | "nodes"
            | "namespaces"
            | "validatingwebhookconfigurations"
            | "mutatingwebhookconfigurations"
            | "apiservices"
            | "customresourcedefinitions"
            | "clusterroles"
            | "clusterrolebindings"
            | "version"
    )
}

fn date(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn unix(t: rustls_pki_types::UnixTime) -> Option<Timestamp> {
    let secs = i64::try_from(t.as_secs()).ok()?;
    Timestamp::from_second(secs).ok()
}

/// The plain-words reason for a rustls certificate error.
fn certificate_message(e: &CertificateError, server: &str) -> String {
    match e {
        CertificateError::ExpiredContext { time, not_after } => {
            match (unix(*not_after), unix(*time)) {
                (Some(na), Some(now)) => {
                    let days = now.duration_since(na).as_secs() / 86_400;
                    format!(
                        "the API server's certificate ({server}) expired on {} ({days} days ago): \
                         kubectl and every client will fail until it is renewed",
                        date(na)
                    )
                }
                _ => format!("the API server's certificate ({server}) has expired"),
            }
        }
        CertificateError::Expired => {
            format!("the API server's certificate ({server}) has expired")
        }
        CertificateError::NotValidYetContext { not_before, .. } => match unix(*not_before) {
            Some(nb) => format!(
                "the API server's certificate ({server}) is not valid before {} (check the clock)",
                date(nb)
            ),
            None => format!("the API server's certificate ({server}) is not valid yet"),
        },
        CertificateError::NotValidYet => {
            format!("the API server's certificate ({server}) is not valid yet (check the clock)")
        }
        CertificateError::UnknownIssuer => format!(
            "the API server's certificate ({server}) is signed by an unknown authority \
             (check certificate-authority in the kubeconfig)"
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let detail = match e {
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => format!(
                    ": expected {}, certificate is for {}",
                    expected.to_str(),
                    if presented.is_empty() {
                        "no names".to_string()
                    } else {
                        presented.join(", ")
                    }
                ),
                _ => String::new(),
            };
            format!("the API server's certificate does not match the host name ({server}){detail}")
        }
        CertificateError::BadSignature => {
            format!(
                "the API server's certificate ({server}) has a bad signature (is \
                 certificate-authority in the kubeconfig the cluster's CA?)"
            )
        }
        CertificateError::Revoked => {
            format!("the API server's certificate ({server}) has been revoked")
        }
        other => format!("the API server's certificate ({server}) was rejected: {other}"),
    }
}

/// Looks for a rustls error anywhere in the chain, including inside `io::Error`s (whose
/// `source()` skips the wrapped error itself).
fn find_tls<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a TlsError> {
    let mut cur: Option<&'a (dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<TlsError>() {
            return Some(t);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            if let Some(t) = inner.downcast_ref::<TlsError>() {
                return Some(t);
            }
            if let Some(t) = find_tls(inner) {
                return Some(t);
            }
        }
        cur = e.source();
    }
    None
}

fn chain_has(
    err: &(dyn StdError + 'static),
    pred: &dyn Fn(&(dyn StdError + 'static)) -> bool,
) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if pred(e) {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && chain_has(inner, pred)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

fn io_kind(err: &(dyn StdError + 'static), kind: std::io::ErrorKind) -> bool {
    chain_has(err, &|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
    })
}

fn mentions(err: &(dyn StdError + 'static), needle: &str) -> bool {
    chain_has(err, &|e| e.to_string().contains(needle))
}

/// The innermost message of the chain (the most specific one).
fn root_message(err: &(dyn StdError + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Classifies a transport-level error (no HTTP status).
pub fn classify_transport(err: &(dyn StdError + 'static), op: &Op<'_>) -> SourceError {
    let server = op.server;
    if let Some(tls) = find_tls(err) {
        return SourceError::Tls(match tls {
            TlsError::InvalidCertificate(c) => certificate_message(c, server),
            TlsError::AlertReceived(a) => format!(
                "the API server ({server}) refused the TLS handshake ({a:?}): is the client \
                 certificate expired or not trusted?"
            ),
            other => format!("TLS handshake with {server} failed: {other}"),
        });
    }
    if io_kind(err, std::io::ErrorKind::ConnectionRefused) {
        return SourceError::Unreachable(format!(
            "connection refused by {server}: is the API server running?"
        ));
    }
    if mentions(err, "dns error") || mentions(err, "failed to lookup address") {
        return SourceError::Unreachable(format!(
            "cannot resolve the API server's host name ({server}): {}",
            root_message(err)
        ));
    }
    if io_kind(err, std::io::ErrorKind::TimedOut)
        || chain_has(err, &|e| e.is::<tokio::time::error::Elapsed>())
    {
        return SourceError::Timeout(format!("no answer from {server} in time for {}", op.what()));
    }
    if io_kind(err, std::io::ErrorKind::ConnectionReset)
        || io_kind(err, std::io::ErrorKind::UnexpectedEof)
        || io_kind(err, std::io::ErrorKind::BrokenPipe)
        || mentions(err, "connection closed")
    {
        return SourceError::Unreachable(format!(
            "connection to {server} was closed during {}: {}",
            op.what(),
            root_message(err)
        ));
    }
    if io_kind(err, std::io::ErrorKind::HostUnreachable)
        || io_kind(err, std::io::ErrorKind::NetworkUnreachable)
        || mentions(err, "client error (Connect)")
    {
        return SourceError::Unreachable(format!(
            "cannot connect to {server}: {}",
            root_message(err)
        ));
    }
    SourceError::Other(format!("{} failed: {}", op.what(), root_message(err)))
}

/// A 401 in words: "unauthorized", and when the user's client certificate is expired (or not
/// yet valid) the one-sentence diagnosis kubectl does not give ("You must be logged in to the
/// server" is all it says).
pub fn unauthorized(op: &Op<'_>, msg: &str) -> String {
    let cert = op
        .user
        .and_then(|u| crate::sources::certs::apiserver::client_cert_for(op.server, u));
    let words = crate::sources::certs::apiserver::unauthorized_words(
        op.user,
        cert.as_ref(),
        Timestamp::now(),
    );
    let msg = if msg.is_empty() { "Unauthorized" } else { msg };
    format!(
        "unauthorized: {words} ({} at {}: {msg})",
        op.what(),
        op.server
    )
}

/// Classifies a kube client error.
pub fn classify(err: &::kube::Error, op: &Op<'_>) -> SourceError {
    match err {
        ::kube::Error::Api(status) => {
            let msg = status.message.trim();
            let as_user = op.user.map(|u| format!(" as {u}")).unwrap_or_default();
            match status.code {
                403 => SourceError::Forbidden(format!("cannot {}{as_user}: {msg}", op.what())),
                401 => SourceError::Other(unauthorized(op, msg)),
                504 | 408 => SourceError::Timeout(format!(
                    "{} timed out on the server ({}): {msg}",
                    op.what(),
                    status.code
                )),
                code => SourceError::Other(format!(
                    "{} failed: {} {}: {msg}",
                    op.what(),
                    code,
                    status.reason
                )),
            }
        }
        ::kube::Error::SerdeError(e) => SourceError::Other(format!(
            "{}: the server's answer could not be decoded: {e}",
            op.what()
        )),
        ::kube::Error::Auth(e) => {
            SourceError::Forbidden(format!("cannot get credentials for {}: {e}", op.server))
        }
        other => classify_transport(other, op),
    }
}

/// Classifies an error a watcher yielded.
pub fn classify_watcher(err: &watcher::Error, op: &Op<'_>) -> SourceError {
    match err {
        watcher::Error::InitialListFailed(e) => classify(e, op),
        watcher::Error::WatchStartFailed(e) | watcher::Error::WatchFailed(e) => classify(
            e,
            &Op {
                verb: "watch",
                ..op.clone()
            },
        ),
        watcher::Error::WatchError(status) => {
            let e = ::kube::Error::Api(status.clone());
            classify(
                &e,
                &Op {
                    verb: "watch",
                    ..op.clone()
                },
            )
        }
        watcher::Error::NoResourceVersion => {
            SourceError::Other(format!("{}: the server sent no resourceVersion", op.what()))
        }
    }
}

/// The error for a request that hit ondeck's own deadline.
pub fn deadline(op: &Op<'_>, after: std::time::Duration) -> SourceError {
    SourceError::Timeout(format!(
        "no answer from {} within {} for {}",
        op.server,
        crate::rules::short_duration(after),
        op.what()
    ))
}
