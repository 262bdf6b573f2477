//! Name resolution with its own deadline and a bound on what a hung resolver can hold.
//!
//! The system resolver (`getaddrinfo`, which reads /etc/hosts, /etc/resolv.conf and nsswitch)
//! blocks a thread and cannot be cancelled: past the probe's DNS deadline the attempt fails at
//! once, but the thread stays until the resolver gives up. So at most [`MAX_OUTSTANDING`]
//! resolutions may be outstanding (running or abandoned) at once; one more fails immediately
//! as `DNS: resolver busy` instead of piling up threads behind a resolver that never answers.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

/// Blocking resolutions outstanding at once, process-wide.
pub const MAX_OUTSTANDING: usize = 32;

static PERMITS: LazyLock<Arc<Semaphore>> =
    LazyLock::new(|| Arc::new(Semaphore::new(MAX_OUTSTANDING)));

/// Why a name was not resolved.
#[derive(Debug)]
pub enum DnsError {
    /// The deadline passed (the resolution goes on in its thread, holding its permit).
    TimedOut,
    /// Every permit is held by an outstanding resolution.
    Busy,
    /// The resolver answered with an error (no such host, temporary failure).
    Failed(std::io::Error),
}

/// Resolves `host:port` with the system resolver under `deadline`.
pub async fn resolve(
    host: &str,
    port: u16,
    deadline: Duration,
) -> Result<Vec<SocketAddr>, DnsError> {
    let host = host.to_string();
    resolve_with(&PERMITS, deadline, move || {
        (host.as_str(), port)
            .to_socket_addrs()
            .map(Iterator::collect)
    })
    .await
}

/// Runs the blocking `lookup` on the blocking pool with a permit of `permits` (held until the
/// lookup returns, even after the deadline), under `deadline`; [`DnsError::Busy`] at once when
/// no permit is free.
pub async fn resolve_with<F>(
    permits: &Arc<Semaphore>,
    deadline: Duration,
    lookup: F,
) -> Result<Vec<SocketAddr>, DnsError>
where
    F: FnOnce() -> std::io::Result<Vec<SocketAddr>> + Send + 'static,
{
    let permit = permits
        .clone()
        .try_acquire_owned()
        .map_err(|_| DnsError::Busy)?;
    let job = tokio::task::spawn_blocking(move || {
        let _held = permit;
        lookup()
    });
    match tokio::time::timeout(deadline, job).await {
        Err(_) => Err(DnsError::TimedOut),
        Ok(Err(e)) => Err(DnsError::Failed(std::io::Error::other(e.to_string()))),
        Ok(Ok(r)) => r.map_err(DnsError::Failed),
    }
}
