//! Startup resolved once: the configuration (file + command line), the Kubernetes target
//! (kubeconfig, context, namespace scope) and the demo, built by the CLI from the flags and
//! handed to the console, `check` and `pvc`, so that none of them reads a flag itself and all
//! three cover the same namespaces.
//!
//! Scope: all namespaces unless `-n NAME` names one. The kubeconfig context's namespace is NOT
//! a default (an on-call health check must never silently check one namespace); `-n` wins over
//! it.

use std::path::PathBuf;

use crate::config::Config;
use crate::demo::Demo;
use crate::domain::pods::NamespaceScope;
use crate::sources::kube::TargetArgs;

/// Which cluster and which namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    /// `--kubeconfig` (else `$KUBECONFIG`, `~/.kube/config`, in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// `--context` (else the kubeconfig's current context).
    pub context: Option<String>,
    /// All namespaces, or the one `-n` names.
    pub scope: NamespaceScope,
}

impl Default for TargetSpec {
    fn default() -> Self {
        TargetSpec {
            kubeconfig: None,
            context: None,
            scope: NamespaceScope::All,
        }
    }
}

impl TargetSpec {
    /// The scope from `-n`: all namespaces without it.
    pub fn scope_from_flag(namespace: Option<&str>) -> Result<NamespaceScope, StartupError> {
        match namespace.map(str::trim) {
            None => Ok(NamespaceScope::All),
            Some("") => Err(StartupError::Namespace(
                "-n/--namespace needs a name (omit it for all namespaces)".into(),
            )),
            Some(n) => Ok(NamespaceScope::One(n.to_string())),
        }
    }

    /// What the Kubernetes sources connect with. The scope is always explicit, so the
    /// context's namespace is never used as a default.
    pub fn args(&self) -> TargetArgs {
        match &self.scope {
            NamespaceScope::All => TargetArgs {
                kubeconfig: self.kubeconfig.clone(),
                context: self.context.clone(),
                namespace: None,
                all_namespaces: true,
            },
            NamespaceScope::One(ns) => TargetArgs {
                kubeconfig: self.kubeconfig.clone(),
                context: self.context.clone(),
                namespace: Some(ns.clone()),
                all_namespaces: false,
            },
        }
    }
}

/// `--demo [--scenario NAME]`: the built-in simulated cluster replaces the kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DemoSpec {
    /// `None`: [`crate::demo::DEFAULT_SCENARIO`].
    pub scenario: Option<String>,
}

/// Everything the command line and the config file decide, resolved once.
#[derive(Debug, Clone, Default)]
pub struct Startup {
    /// The config file with the command line's overrides folded in.
    pub config: Config,
    /// The config file read, if any.
    pub config_path: Option<PathBuf>,
    pub target: TargetSpec,
    pub demo: Option<DemoSpec>,
}

/// The command line or the config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("config: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Namespace(String),
}

impl Startup {
    /// Starts what the startup asks for (the demo cluster, if any). The only place a demo
    /// cluster is started for the console, `check` and `pvc`.
    pub async fn launch(&self) -> anyhow::Result<Launched> {
        let demo = match &self.demo {
            Some(d) => Some(Demo::start(d.scenario.as_deref()).await?),
            None => None,
        };
        let target = match &demo {
            // The demo cluster replaces the kubeconfig and its context; the scope stays.
            Some(d) => TargetSpec {
                kubeconfig: Some(d.kubeconfig().to_path_buf()),
                context: None,
                scope: self.target.scope.clone(),
            },
            None => self.target.clone(),
        };
        Ok(Launched { demo, target })
    }
}

/// A startup with its demo cluster running (if any): the target every consumer connects to.
pub struct Launched {
    demo: Option<Demo>,
    target: TargetSpec,
}

impl Launched {
    /// The target as connected to: the demo cluster's kubeconfig under `--demo`.
    pub fn target(&self) -> &TargetSpec {
        &self.target
    }

    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    /// The demo scenario's name, for the DEMO banners.
    pub fn demo_scenario(&self) -> Option<String> {
        self.demo.as_ref().map(|d| d.scenario().to_string())
    }

    /// Stops the demo cluster (if any).
    pub async fn stop(self) {
        if let Some(d) = self.demo {
            d.stop().await;
        }
    }
}

/// `in all namespaces` / `in namespace foo`: how every output names its scope.
pub fn scope_phrase(scope: &NamespaceScope) -> String {
    match scope {
        NamespaceScope::All => "in all namespaces".into(),
        NamespaceScope::One(ns) => format!("in namespace {}", crate::sanitize::line(ns)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_all_namespaces_unless_named() {
        assert_eq!(
            TargetSpec::scope_from_flag(None).ok(),
            Some(NamespaceScope::All)
        );
        assert_eq!(
            TargetSpec::scope_from_flag(Some("shop")).ok(),
            Some(NamespaceScope::One("shop".into()))
        );
        assert!(TargetSpec::scope_from_flag(Some(" ")).is_err());
    }

    #[test]
    fn target_args_never_fall_back_to_the_context_namespace() {
        let all = TargetSpec::default().args();
        assert!(all.all_namespaces && all.namespace.is_none());
        let one = TargetSpec {
            scope: NamespaceScope::One("shop".into()),
            ..Default::default()
        }
        .args();
        assert!(!one.all_namespaces);
        assert_eq!(one.namespace.as_deref(), Some("shop"));
    }

    #[test]
    fn phrases_name_the_scope() {
        assert_eq!(scope_phrase(&NamespaceScope::All), "in all namespaces");
        assert_eq!(
            scope_phrase(&NamespaceScope::One("shop".into())),
            "in namespace shop"
        );
    }
}
