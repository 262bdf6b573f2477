//! The pods source's registry entry ([`Pods`]): the console's watchers (`kube::pods`), `check`'s
//! one list and its `pods` section, its rules and its pane.

use std::any::Any;
use std::fmt::Write as _;

use futures::FutureExt as _;
use futures::future::BoxFuture;

use crate::domain::pane::{PaneKind, PaneSpec};
use crate::domain::pods::PodRow;
use crate::domain::{Level, SourceError, SourceId};
use crate::rules;
use crate::sources::kube;
use crate::sources::registry::{CheckData, CheckSection, CollectCtx, KubeCtx, SectionCtx, Source};

/// This source, by the name the source list (`registry::with_sources!`) finds it under.
pub const SOURCE: &dyn Source = &Pods;

/// Kubernetes pods: one watch (plus events and an API probe) per target.
pub struct Pods;

impl Source for Pods {
    fn id(&self) -> SourceId {
        SourceId::Pods
    }

    fn kubernetes(&self) -> bool {
        true
    }

    fn spawn_kube(&self, ctx: &mut KubeCtx<'_>) -> Option<Box<dyn Any + Send>> {
        let pods = kube::pods::spawn(ctx.target.clone(), ctx.cfg, ctx.tx.clone());
        ctx.pods = Some(pods.store.clone());
        Some(Box::new(pods))
    }

    fn collect_once<'a>(
        &'a self,
        ctx: &'a CollectCtx<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn CheckData>, SourceError>> {
        async move {
            let env = kube::KubeEnv::from_process();
            let rows = kube::collect_pods_once(ctx.cfg, ctx.kube, &env).await?;
            Ok(Box::new(rows) as Box<dyn CheckData>)
        }
        .boxed()
    }

    fn rule_ids(&self) -> &'static [&'static str] {
        &[
            "pod_waiting_reason",
            "pod_oom_killed",
            "pod_restarts_increased",
            "pod_not_ready",
            "pod_pending",
            "pod_terminating",
            "pod_failed",
        ]
    }

    fn pane(&self) -> PaneSpec {
        PaneSpec {
            kind: PaneKind::Pods,
            name: "pods",
            title: "Pods",
            aliases: &["pod", "po"],
            source: Some(SourceId::Pods),
            available: true,
            actions: &[],
            help: &[("l L", "pods: log of the previous / current instance")],
        }
    }

    fn empty(&self) -> Box<dyn CheckData> {
        Box::new(Vec::<PodRow>::new())
    }
}

/// The pods of one list, ranked by danger.
impl CheckData for Vec<PodRow> {
    fn section(&self, ctx: &SectionCtx<'_>) -> CheckSection {
        let count = |l: Level| self.iter().filter(|r| r.level == l).count();
        let (critical, warning) = (count(Level::Critical), count(Level::Warning));
        let mut prometheus = String::new();
        let _ = writeln!(prometheus, "# HELP ondeck_pods Pods by level.");
        let _ = writeln!(prometheus, "# TYPE ondeck_pods gauge");
        for (level, n) in [
            ("ok", self.len() - critical - warning),
            ("warning", warning),
            ("critical", critical),
        ] {
            let _ = writeln!(prometheus, "ondeck_pods{{level=\"{level}\"}} {n}");
        }
        CheckSection {
            checks: rules::one_shot(&rules::pods::evaluate(self)),
            // Every pod as JSON only when JSON is printed: at 20k pods the tree is several
            // times the rows' own memory.
            json: vec![(
                "pods",
                if ctx.rows_json {
                    kube::check_json(self, ctx.now)
                } else {
                    serde_json::Value::Array(Vec::new())
                },
            )],
            text: vec![format!(
                "pods: {} {}: {critical} critical, {warning} warning",
                rules::sockets::group(self.len() as u64),
                ctx.scope_words,
            )],
            perfdata: Vec::new(),
            prometheus,
        }
    }
}
