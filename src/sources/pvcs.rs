//! The PVC source's registry entry ([`Pvcs`]): the console's watchers (`kube::pvcs`, joined
//! with the pods source's store), `check`'s one list and its `pvcs`, `pvs` and `pvc_summary`
//! members, its rules and its pane.

use std::any::Any;
use std::fmt::Write as _;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde::Serialize;

use crate::domain::pane::{Action, PaneKind, PaneSpec};
use crate::domain::pvcs::{PvcCounts, PvcsSnapshot, StorageClassInfo, UsageStatus};
use crate::domain::{SourceError, SourceId};
use crate::rules;
use crate::sanitize;
use crate::sources::kube;
use crate::sources::registry::{CheckData, CheckSection, CollectCtx, KubeCtx, SectionCtx, Source};

/// This source, by the name the source list (`registry::with_sources!`) finds it under.
pub const SOURCE: &dyn Source = &Pvcs;

/// PersistentVolumeClaims, their PVs and StorageClasses, and who mounts them.
pub struct Pvcs;

impl Source for Pvcs {
    fn id(&self) -> SourceId {
        SourceId::Pvcs
    }

    fn kubernetes(&self) -> bool {
        true
    }

    fn spawn_kube(&self, ctx: &mut KubeCtx<'_>) -> Option<Box<dyn Any + Send>> {
        // Registered after pods: the claims' users come from the pods source's store.
        let Some(pods) = ctx.pods.clone() else {
            tracing::warn!("PVC source not started: the pods source is not registered before it");
            return None;
        };
        Some(Box::new(kube::pvcs::spawn(
            ctx.target.clone(),
            pods,
            ctx.cfg,
            ctx.tx.clone(),
        )))
    }

    fn collect_once<'a>(
        &'a self,
        ctx: &'a CollectCtx<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn CheckData>, SourceError>> {
        async move {
            let env = kube::KubeEnv::from_process();
            let snap = kube::collect_pvcs_once(ctx.cfg, ctx.kube, &env).await?;
            Ok(Box::new(snap) as Box<dyn CheckData>)
        }
        .boxed()
    }

    fn rule_ids(&self) -> &'static [&'static str] {
        &[
            "pvc_terminating_in_use",
            "pvc_lost",
            "pvc_pending",
            "pvc_reclaim_delete",
            "pv_released",
        ]
    }

    fn pane(&self) -> PaneSpec {
        PaneSpec {
            kind: PaneKind::Pvcs,
            name: "pvc",
            title: "PVCs",
            aliases: &["pvcs"],
            source: Some(SourceId::Pvcs),
            available: true,
            actions: &[Action::DeletePvc, Action::RescuePvc],
            help: &[(
                "1 2 v F9 C-d R",
                "PVCs: claims / PVs (v); guarded delete; R rescue",
            )],
        }
    }

    fn empty(&self) -> Box<dyn CheckData> {
        Box::new(PvcsSnapshot {
            context: String::new(),
            server: String::new(),
            scope: crate::domain::pods::NamespaceScope::All,
            rows: Vec::new(),
            pvs: Vec::new(),
            pv_error: None,
            storage_classes: Vec::new(),
            usage: UsageStatus::NotCollected,
            api: Default::default(),
            synced: true,
            at: jiff::Timestamp::UNIX_EPOCH,
        })
    }
}

impl CheckData for PvcsSnapshot {
    fn section(&self, ctx: &SectionCtx<'_>) -> CheckSection {
        // Subjects and messages carry names and messages from the cluster.
        let checks = rules::one_shot(&rules::pvcs::evaluate(self))
            .into_iter()
            .map(|mut c| {
                c.subject = sanitize::line(&c.subject).into_owned();
                c.message = sanitize::line(&c.message).into_owned();
                c
            })
            .collect();
        let summary = PvcSummary::from_snapshot(self);
        let text = summary.text(ctx.scope_words);
        let prometheus = summary.prometheus();
        CheckSection {
            checks,
            json: vec![
                ("pvcs", kube::pvcs_check_json(&self.rows, ctx.now)),
                ("pvs", kube::pvs_check_json(&self.pvs, ctx.now)),
                (
                    "pvc_summary",
                    serde_json::to_value(&summary).unwrap_or(serde_json::Value::Null),
                ),
            ],
            text,
            perfdata: Vec::new(),
            prometheus,
        }
    }
}

/// Counts and caveats of the PVC source, for the summary line and Prometheus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PvcSummary {
    pub claims: usize,
    pub pvs: usize,
    pub counts: SummaryCounts,
    /// Why the claims' users are unknown (pods not listable): `unused` is then null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_unknown: Option<String>,
    /// Why PVs could not be listed (reclaim policies then unknown: no AT RISK markers).
    pub pv_error: Option<String>,
    /// Whether used space could be collected (`ok`, `unavailable` with `why`, `not_collected`).
    pub usage: UsageStatus,
    pub storage_classes: Vec<StorageClassInfo>,
}

/// [`PvcCounts`] where a count that cannot be known is `None` (null in JSON, absent in
/// Prometheus, "unknown" in text): never a reassuring 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SummaryCounts {
    pub ok: usize,
    pub warning: usize,
    pub critical: usize,
    /// Unknown when the pods are.
    pub unused: Option<usize>,
    /// Unknown when the PVs are.
    pub at_risk: Option<usize>,
    /// Unknown when the PVs are.
    pub orphaned_pvs: Option<usize>,
}

impl SummaryCounts {
    pub fn of(s: &PvcsSnapshot) -> Self {
        let c: PvcCounts = s.counts();
        let pvs_known = s.pv_error.is_none();
        SummaryCounts {
            ok: c.ok,
            warning: c.warning,
            critical: c.critical,
            unused: s.users_unknown().is_none().then_some(c.unused),
            at_risk: pvs_known.then_some(c.at_risk),
            orphaned_pvs: pvs_known.then_some(c.orphaned_pvs),
        }
    }
}

impl PvcSummary {
    pub fn from_snapshot(s: &PvcsSnapshot) -> Self {
        let clean = |t: &str| sanitize::line(t).into_owned();
        PvcSummary {
            claims: s.rows.len(),
            pvs: s.pvs.len(),
            counts: SummaryCounts::of(s),
            users_unknown: s.users_unknown().map(clean),
            pv_error: s.pv_error.as_ref().map(|e| clean(&e.to_string())),
            usage: match &s.usage {
                UsageStatus::Unavailable { why } => UsageStatus::Unavailable { why: clean(why) },
                other => other.clone(),
            },
            storage_classes: s
                .storage_classes
                .iter()
                .map(|c| StorageClassInfo {
                    name: clean(&c.name),
                    provisioner: clean(&c.provisioner),
                    reclaim_policy: clean(&c.reclaim_policy),
                    volume_binding_mode: c.volume_binding_mode.as_deref().map(clean),
                    ..c.clone()
                })
                .collect(),
        }
    }
}

impl PvcSummary {
    fn text(&self, scope_words: &str) -> Vec<String> {
        let c = &self.counts;
        let or_unknown =
            |n: Option<usize>| n.map_or_else(|| "unknown".to_string(), |n| n.to_string());
        let pvs = if self.pv_error.is_some() {
            "PVs unknown".to_string()
        } else {
            format!("{} PVs, {} orphaned", self.pvs, or_unknown(c.orphaned_pvs))
        };
        let mut out = vec![format!(
            "pvcs: {} claims {scope_words}: {} critical, {} warning, {} unused, {} at risk \
             (reclaim Delete); {pvs}",
            rules::sockets::group(self.claims as u64),
            c.critical,
            c.warning,
            or_unknown(c.unused),
            or_unknown(c.at_risk),
        )];
        if let Some(why) = &self.users_unknown {
            out.push(format!(
                "pvcs: who mounts each claim is unknown: {}",
                sanitize::line(why)
            ));
        }
        if let Some(e) = &self.pv_error {
            out.push(format!(
                "pvcs: PVs not readable, reclaim policies unknown: {}",
                sanitize::line(e)
            ));
        }
        if let UsageStatus::Unavailable { why } = &self.usage {
            out.push(format!("pvcs: used space unknown: {}", sanitize::line(why)));
        }
        out
    }

    fn prometheus(&self) -> String {
        let c = &self.counts;
        let mut out = String::new();
        let _ = writeln!(out, "# HELP ondeck_pvcs PersistentVolumeClaims by level.");
        let _ = writeln!(out, "# TYPE ondeck_pvcs gauge");
        for (level, n) in [
            ("ok", c.ok),
            ("warning", c.warning),
            ("critical", c.critical),
        ] {
            let _ = writeln!(out, "ondeck_pvcs{{level=\"{level}\"}} {n}");
        }
        // A count that cannot be known is left out (absent, not a reassuring 0).
        for (name, help, n) in [
            (
                "ondeck_pvcs_unused",
                "PersistentVolumeClaims no pod mounts.",
                c.unused,
            ),
            (
                "ondeck_pvcs_at_risk",
                "PersistentVolumeClaims bound to a PV with reclaim policy Delete.",
                c.at_risk,
            ),
            (
                "ondeck_pvs_orphaned",
                "PersistentVolumes Released or Failed.",
                c.orphaned_pvs,
            ),
        ] {
            if let Some(n) = n {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} gauge");
                let _ = writeln!(out, "{name} {n}");
            }
        }
        out
    }
}
