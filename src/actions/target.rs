//! Which cluster a guarded flow talks to: the kube context and API server recorded at the
//! preflight, the client built for it, and the check that the target is still the same
//! before anything is changed (a context switched mid-flow aborts the flow).

use super::{ActionError, Result};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

/// The cluster a flow acts on, as recorded at the preflight.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KubeTarget {
    /// Kube context name (empty when the client was not built from a kubeconfig).
    pub context: String,
    /// API server URL.
    pub server: String,
    /// The kubeconfig's user name for the context, if any.
    pub kubeconfig_user: Option<String>,
}

impl std::fmt::Display for KubeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "context {:?} at {}", self.context, self.server)
    }
}

/// Where the current target is read from when the flow checks it again.
#[derive(Debug, Clone)]
pub enum TargetSource {
    /// A kubeconfig: `path` (or `$KUBECONFIG` / `~/.kube/config`) and an explicit context
    /// (or the file's current-context, re-read at every check).
    Kubeconfig {
        path: Option<PathBuf>,
        context: Option<String>,
    },
    /// The UI's idea of the current target (the TUI updates it on `:ctx`).
    Watch(watch::Receiver<KubeTarget>),
    /// A fixed target (tests, clients built by hand).
    Fixed(KubeTarget),
}

impl TargetSource {
    /// Resolves the target this source points at now.
    pub fn current(&self) -> Result<KubeTarget> {
        match self {
            TargetSource::Kubeconfig { path, context } => {
                let kc = read_kubeconfig(path.as_ref())?;
                resolve(&kc, context.as_deref())
            }
            TargetSource::Watch(rx) => Ok(rx.borrow().clone()),
            TargetSource::Fixed(t) => Ok(t.clone()),
        }
    }

    /// Errors with [`ActionError::ContextChanged`] when the target is no longer `expected`.
    pub fn ensure_unchanged(&self, expected: &KubeTarget) -> Result<()> {
        let now = self.current()?;
        if now.context != expected.context || now.server != expected.server {
            return Err(ActionError::ContextChanged {
                before: expected.to_string(),
                now: now.to_string(),
            });
        }
        Ok(())
    }
}

fn read_kubeconfig(path: Option<&PathBuf>) -> Result<Kubeconfig> {
    use crate::sources::kube::client::{KubeEnv, read_kubeconfig_like_kubectl};
    let (_, kc) =
        read_kubeconfig_like_kubectl(path.map(PathBuf::as_path), &KubeEnv::from_process())
            .map_err(|e| ActionError::Kubeconfig(e.to_string()))?;
    kc.ok_or_else(|| {
        ActionError::Kubeconfig(
            "no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config"
                .into(),
        )
    })
}

/// The context name, server and user a kubeconfig resolves to.
pub fn resolve(kc: &Kubeconfig, context: Option<&str>) -> Result<KubeTarget> {
    let name = context
        .map(str::to_string)
        .or_else(|| kc.current_context.clone())
        .ok_or_else(|| ActionError::Kubeconfig("no context given and no current-context".into()))?;
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.clone())
        .ok_or_else(|| ActionError::Kubeconfig(format!("context {name:?} not found")))?;
    let server = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .ok_or_else(|| {
            ActionError::Kubeconfig(format!("cluster {:?} has no server", ctx.cluster))
        })?;
    Ok(KubeTarget {
        context: name,
        server,
        kubeconfig_user: ctx.user.clone(),
    })
}

/// A client for a kubeconfig context with the configured connect timeout, and the target it
/// resolved to.
pub async fn connect(
    path: Option<PathBuf>,
    context: Option<String>,
    connect_timeout: Duration,
) -> Result<(kube::Client, KubeTarget, TargetSource)> {
    let kc = read_kubeconfig(path.as_ref())?;
    let target = resolve(&kc, context.as_deref())?;
    let opts = KubeConfigOptions {
        // Pin the context resolved now: a later change of current-context must not redirect
        // this client; the flow notices it through `TargetSource::ensure_unchanged`.
        context: Some(target.context.clone()),
        cluster: None,
        user: None,
    };
    let mut config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| ActionError::Kubeconfig(e.to_string()))?;
    config.connect_timeout = Some(connect_timeout);
    let ua = crate::sources::kube::client::user_agent(&target.context);
    let client = kube::client::ClientBuilder::try_from(config)
        .map(|b| {
            b.with_layer(&crate::sources::kube::client::UserAgentLayer(ua))
                .build()
        })
        .map_err(|e| ActionError::Kubeconfig(super::sanitize(&e.to_string())))?;
    Ok((client, target, TargetSource::Kubeconfig { path, context }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KC: &str = r#"
apiVersion: v1
kind: Config
current-context: a
clusters:
- name: ca
  cluster: {server: "https://127.0.0.1:6443"}
- name: cb
  cluster: {server: "https://10.0.0.1:6443"}
contexts:
- name: a
  context: {cluster: ca, user: alice}
- name: b
  context: {cluster: cb, user: bob}
users:
- name: alice
  user: {token: x}
- name: bob
  user: {token: y}
"#;

    #[test]
    fn resolves_current_and_explicit_context() -> Result<()> {
        let kc = Kubeconfig::from_yaml(KC).map_err(|e| ActionError::Kubeconfig(e.to_string()))?;
        let a = resolve(&kc, None)?;
        assert_eq!(a.context, "a");
        assert_eq!(a.server, "https://127.0.0.1:6443");
        assert_eq!(a.kubeconfig_user.as_deref(), Some("alice"));
        let b = resolve(&kc, Some("b"))?;
        assert_eq!(b.server, "https://10.0.0.1:6443");
        assert!(resolve(&kc, Some("nope")).is_err());
        Ok(())
    }

    #[test]
    fn a_switched_current_context_is_detected() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| ActionError::io("tempdir", e))?;
        let path = dir.path().join("config");
        std::fs::write(&path, KC).map_err(|e| ActionError::io("write", e))?;
        let src = TargetSource::Kubeconfig {
            path: Some(path.clone()),
            context: None,
        };
        let before = src.current()?;
        src.ensure_unchanged(&before)?;
        std::fs::write(
            &path,
            KC.replace("current-context: a", "current-context: b"),
        )
        .map_err(|e| ActionError::io("write", e))?;
        assert!(matches!(
            src.ensure_unchanged(&before),
            Err(ActionError::ContextChanged { .. })
        ));
        Ok(())
    }
}
