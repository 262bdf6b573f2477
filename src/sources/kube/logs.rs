//! On-demand container logs for the detail view: the previous instance of a crash-looping
//! container (what it said before it died) and the current one, with a deadline and a bounded
//! size (`tailLines` + `limitBytes`). Raw text: the UI sanitizes it before display.

use ::kube::Api;
use ::kube::api::LogParams;
use k8s_openapi::api::core::v1::Pod;

use crate::domain::compact::CompactPod;
use crate::domain::pods::{NamespaceScope, PodKey};
use crate::sources::SourceError;

use super::client::KubeTarget;
use super::errors::{self, Op};

/// How much log to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    pub tail_lines: i64,
    pub limit_bytes: i64,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            tail_lines: 200,
            limit_bytes: 256 * 1024,
        }
    }
}

/// A fetched log tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTail {
    pub pod: PodKey,
    pub container: String,
    /// The previous (crashed) instance rather than the running one.
    pub previous: bool,
    pub text: String,
    /// The server stopped at `limit_bytes` (the text may end mid-line).
    pub truncated: bool,
}

/// The container whose logs matter most: a crash-looping / waiting / terminated-with-error one,
/// else kubectl's default-container annotation, else the first container.
pub fn default_container(pod: &Pod) -> Option<String> {
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref());
    let troubled = statuses.and_then(|cs| {
        cs.iter().find(|c| {
            let st = c.state.as_ref();
            st.and_then(|s| s.waiting.as_ref()).is_some()
                || st
                    .and_then(|s| s.terminated.as_ref())
                    .is_some_and(|t| t.exit_code != 0)
                || c.restart_count > 0
        })
    });
    if let Some(c) = troubled {
        return Some(c.name.clone());
    }
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
        .cloned();
    annotated.or_else(|| {
        pod.spec
            .as_ref()
            .and_then(|s| s.containers.first())
            .map(|c| c.name.clone())
    })
}

/// Whether the container has a previous instance (restarted at least once or has a last state).
pub fn has_previous(pod: &Pod, container: &str) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(
            pod.status
                .as_ref()
                .and_then(|s| s.init_container_statuses.as_ref())
                .into_iter()
                .flatten(),
        )
        .any(|c| {
            c.name == container
                && (c.restart_count > 0
                    || c.last_state
                        .as_ref()
                        .is_some_and(|s| s.terminated.is_some()))
        })
}

/// Bytes read beyond `limitBytes` at most (the server cuts at a line end after it).
const LOG_SLACK_BYTES: u64 = 64 * 1024;

/// A log's bytes as text: invalid UTF-8 is replaced (U+FFFD), never an error.
pub fn decode_log(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Fetches a log tail with the target's request deadline.
pub async fn fetch_logs(
    target: &KubeTarget,
    pod: &PodKey,
    container: &str,
    previous: bool,
    limits: LogLimits,
) -> Result<LogTail, SourceError> {
    let api: Api<Pod> = Api::namespaced(target.client.clone(), &pod.namespace);
    let lp = LogParams {
        container: Some(container.to_string()),
        previous,
        tail_lines: Some(limits.tail_lines),
        limit_bytes: Some(limits.limit_bytes),
        ..Default::default()
    };
    let scope = NamespaceScope::One(pod.namespace.to_string());
    let what = format!("pods/log ({}, container {container})", pod.name);
    let op = Op {
        verb: "get",
        resource: &what,
        scope: &scope,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    // Read as bytes, not as a `String`: a container may write anything, and one invalid UTF-8
    // byte must not fail the whole view (it is shown as U+FFFD). Bounded client-side too.
    let cap = u64::try_from(limits.limit_bytes)
        .unwrap_or(0)
        .saturating_add(LOG_SLACK_BYTES);
    let fetch = async {
        let stream = api.log_stream(&pod.name, &lp).await?;
        let mut buf = Vec::new();
        futures::AsyncReadExt::read_to_end(&mut futures::AsyncReadExt::take(stream, cap), &mut buf)
            .await
            .map_err(::kube::Error::ReadEvents)?;
        Ok::<_, ::kube::Error>(buf)
    };
    let bytes = tokio::time::timeout(target.request_timeout, fetch)
        .await
        .map_err(|_| errors::deadline(&op, target.request_timeout))?
        .map_err(|e| match &e {
            ::kube::Error::Api(s) if s.code == 400 && previous => SourceError::Other(format!(
                "no previous instance of container {container} in pod {pod}: {}",
                s.message
            )),
            _ => errors::classify(&e, &op),
        })?;
    let truncated = i64::try_from(bytes.len()).unwrap_or(i64::MAX) >= limits.limit_bytes;
    let text = decode_log(bytes);
    Ok(LogTail {
        pod: pod.clone(),
        container: container.to_string(),
        previous,
        text,
        truncated,
    })
}

/// What the console hands the UI's executor so that it can fetch logs on demand: a clone of
/// the connected target (clients with deadlines) and the size limits.
#[derive(Debug, Clone)]
pub struct LogFetcher {
    target: KubeTarget,
    limits: LogLimits,
}

impl LogFetcher {
    pub fn new(target: KubeTarget) -> Self {
        LogFetcher {
            target,
            limits: LogLimits::default(),
        }
    }

    pub async fn fetch(
        &self,
        pod: &PodKey,
        container: &str,
        previous: bool,
    ) -> Result<LogTail, SourceError> {
        fetch_logs(&self.target, pod, container, previous, self.limits).await
    }
}

/// A log view request from the UI: the pod's most telling container, and its previous
/// instance when there is one (a crash loop), else the current one.
pub fn plan(pod: &CompactPod, want_previous: bool) -> Option<(String, bool)> {
    let pod = pod.to_pod();
    let container = default_container(&pod)?;
    let previous = want_previous && has_previous(&pod, &container);
    Some((container, previous))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_in_a_log_is_shown_lossily() {
        let bytes = b"started\n\xff\xfe half \xe2\x82 cut\nok \xe2\x82\xac\n".to_vec();
        let text = decode_log(bytes);
        assert_eq!(
            text,
            "started\n\u{fffd}\u{fffd} half \u{fffd} cut\nok \u{20ac}\n"
        );
        assert_eq!(decode_log(b"plain\n".to_vec()), "plain\n");
    }
}
