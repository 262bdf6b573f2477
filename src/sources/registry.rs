//! The source registry: every data source ondeck has, in one list (`with_sources!`), each
//! behind one trait ([`Source`]) that says how the console starts it, how `ondeck check`
//! collects it once and renders its section (JSON, text, Prometheus), which rules it evaluates
//! and which pane shows it (title, `:` names, help keys, actions).
//!
//! # Adding a source and its pane (the recipe)
//!
//! Certificates are the example (module `certs`, variant `Certs`). Steps 1 to 5 are the
//! source's own files (each declared in its parent module, `pub mod certs;`, as any Rust file
//! is) and its variant in the domain's two enums, which are its domain types too; step 6 is
//! the one line that registers it.
//! 1. Its domain types, in `src/domain/`: the plain rows and snapshot (`src/domain/certs.rs`),
//!    and its variant in the two enums that name sources and panes, `SourceId::Certs` (with
//!    its `name()`, `"certs"`, in `src/domain/source.rs`) and `PaneKind::Certs` (in
//!    `PaneKind::ALL`, which is the tab order, and its placeholder names, in
//!    `src/domain/pane.rs`).
//! 2. Its rules, in `src/rules/certs.rs`: `evaluate(&snapshot, &thresholds) -> Vec<Condition>`,
//!    pure.
//! 3. Its collector, in `src/sources/certs/`, and a unit struct implementing [`Source`]
//!    (`src/sources/certs/source.rs`), exposed as `pub const SOURCE: &dyn Source` at the root
//!    of the module (`crate::sources::certs::SOURCE`):
//!    - `id()`: `SourceId::Certs`;
//!    - `spawn_local` (a task that polls and sends [`Payload::new(snapshot)`](Payload::new)
//!      with [`next_generation`](crate::sources::next_generation)) and/or `spawn_kube` (watchers
//!      on a connected cluster; return their guard, dropped on `:ctx`/`:ns` and at exit);
//!    - `collect_once`: one evaluation for `check`, returning the snapshot boxed as
//!      [`CheckData`], whose `section` evaluates the rules and renders the JSON object(s), text
//!      lines, Prometheus metrics and perfdata of the source;
//!    - `rule_ids()`: the rule names its conditions carry;
//!    - `pane()`: the [`PaneSpec`] (kind `PaneKind::Certs`, title, `:` names, help keys,
//!      actions).
//! 4. Its pane's state, in `src/app/panes/certs.rs`: a type implementing `app::panes::Pane`
//!    (its `apply` takes the snapshot back with [`Payload::downcast`]; its table data, sort
//!    keys and keys), with `pub fn new(settings: &Settings, started: Instant) -> Self` and
//!    published as `pub type State = CertsPane;`.
//! 5. Its pane's drawing, in `src/ui/panes/certs.rs`: `ui::panes::PaneView` implemented for
//!    that type (render, header meter, detail view, how its columns look).
//! 6. **One line** in `with_sources!`: `Certs => certs,`.
//!
//! That line is the whole registration: [`SOURCES`] (what `check` and the console run),
//! `app::panes::registry` (which builds `app::panes::certs::State` for `PaneKind::Certs`) and
//! `ui::panes::view_of` (which finds its `PaneView`) are all generated from the list. A line
//! without step 3, 4 or 5 does not compile (no `SOURCE`, no `State`, or no `PaneView` for it);
//! the tests here and in `app::panes` and `ui::panes` check that the line's variant is the
//! one the source and its pane report. Until the line is there, `PaneKind::Certs` shows a
//! placeholder that says the pane "arrives" later (not an all-clear).
//!
//! Why [`Payload`] is a boxed `Any` and not an enum: a new source's snapshot type travels
//! through the channel without a line in a shared enum; each pane downcasts only its own
//! source's payload (the update's [`SourceId`] says whose it is), so a mismatch is a bug caught
//! by the registry test, not a silent drop.

use std::any::Any;
use std::fmt::Write as _;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::domain::pane::PaneSpec;
use crate::rules::CheckResult;
use crate::sanitize;
use crate::sources::kube::{KubeTarget, TargetArgs};
use crate::sources::{SourceError, SourceId, SourceUpdate};

pub use crate::sources::Payload;

/// The list of sources, in the order `check` lists them and the console starts them: one line
/// each, `Variant => module`, where `Variant` names the source in both `SourceId` and
/// `PaneKind` and `module` is its module under `sources` and `app::panes` (its view's file in
/// `ui::panes` goes by the same name, by convention only). See the module doc.
///
/// It hands the list to the macro `$then`, which expands where the list is used: [`SOURCES`]
/// here, the panes in `app::panes::registry` and their views in `ui::panes::view_of`. So the
/// list lives with the sources while the code that names `app` and `ui` stays in those
/// modules (`sources` depends on neither).
macro_rules! with_sources {
    ($then:ident) => {
        $then! {
            Sockets => sockets,
            Pods => pods,
            Pvcs => pvcs,
            Probes => probes,
            Certs => certs,
        }
    };
}
pub(crate) use with_sources;

macro_rules! source_refs {
    ($($variant:ident => $module:ident,)*) => {
        &[$(crate::sources::$module::SOURCE,)*]
    };
}

/// Every source, in the order of `with_sources!`.
pub static SOURCES: &[&dyn Source] = with_sources!(source_refs);

/// The registered source with this id.
pub fn source(id: SourceId) -> Option<&'static dyn Source> {
    SOURCES.iter().copied().find(|s| s.id() == id)
}

/// The registered source with this `check --only` name.
pub fn by_name(name: &str) -> Option<&'static dyn Source> {
    SOURCES.iter().copied().find(|s| s.id().name() == name)
}

/// One data source (see the module doc for the recipe).
pub trait Source: Send + Sync {
    fn id(&self) -> SourceId;

    /// Whether it reads the Kubernetes API: then the console starts it through `spawn_kube`
    /// once connected, restarts it on `:ctx` / `:ns`, and `check` gives it the target.
    fn kubernetes(&self) -> bool {
        false
    }

    /// Console: start the source's task (local sources: sockets, files, probes). `None` when
    /// it does not run here (disabled, or a Kubernetes source).
    fn spawn_local(&self, _ctx: &mut LocalCtx<'_>) -> Option<JoinHandle<()>> {
        None
    }

    /// Console: start watchers on a connected cluster. The returned guard stops them when
    /// dropped (a target switch, or exit).
    fn spawn_kube(&self, _ctx: &mut KubeCtx<'_>) -> Option<Box<dyn Any + Send>> {
        None
    }

    /// `check`: one collection (no watch), under the caller's deadline.
    fn collect_once<'a>(
        &'a self,
        ctx: &'a CollectCtx<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn CheckData>, SourceError>>;

    /// The rule names (`AlertKey::rule`, `check`'s `name`) this source's conditions carry.
    fn rule_ids(&self) -> &'static [&'static str];

    /// The pane that shows it: title, `:` names, help keys, actions.
    fn pane(&self) -> PaneSpec;

    /// Its `check` data when it found nothing (no sockets, an empty cluster): what the
    /// registry test renders to prove every section exists.
    fn empty(&self) -> Box<dyn CheckData>;
}

/// What a local source gets from the console to start.
pub struct LocalCtx<'a> {
    pub cfg: &'a Config,
    pub tx: &'a mpsc::Sender<SourceUpdate>,
    pub cancel: &'a CancellationToken,
    /// F5 subscribers: [`LocalCtx::refresh`] adds one.
    pub refresh: &'a mut Vec<mpsc::Sender<()>>,
}

impl LocalCtx<'_> {
    /// A receiver that gets a message on each F5 (at most one queued).
    pub fn refresh(&mut self) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel(1);
        self.refresh.push(tx);
        rx
    }
}

/// What a Kubernetes source gets once the cluster is connected.
pub struct KubeCtx<'a> {
    pub target: &'a KubeTarget,
    pub cfg: &'a Config,
    pub tx: &'a mpsc::Sender<SourceUpdate>,
    /// The pod store the pods source started, for sources that join pods (PVC users);
    /// sources registered after pods find it here.
    pub pods: Option<crate::sources::kube::pods::PodStore>,
}

/// What a source gets for one `check` collection.
pub struct CollectCtx<'a> {
    pub cfg: &'a Config,
    pub kube: &'a TargetArgs,
}

/// One source's data as `check` collected it: evaluates its rules and renders its section.
pub trait CheckData: Send + Sync + std::fmt::Debug {
    fn section(&self, ctx: &SectionCtx<'_>) -> CheckSection;
}

/// What rendering a section may need besides the data.
pub struct SectionCtx<'a> {
    pub cfg: &'a Config,
    pub now: jiff::Timestamp,
    /// `in all namespaces (context prod)`: how Kubernetes sections name their scope.
    pub scope_words: &'a str,
    /// Whether the JSON output will be printed: a section may then leave out its per-object
    /// JSON (20k pods as a JSON tree are most of `check`'s memory, for an output that is text).
    pub rows_json: bool,
}

/// One source's part of `check`'s output.
#[derive(Debug, Clone, Default)]
pub struct CheckSection {
    /// The one-shot results of its rules.
    pub checks: Vec<CheckResult>,
    /// Top-level JSON members it adds (e.g. `sockets`; `pvcs`, `pvs`, `pvc_summary`).
    pub json: Vec<(&'static str, serde_json::Value)>,
    /// Lines after the checks in the text output (already sanitized).
    pub text: Vec<String>,
    /// Nagios perfdata items for the first line (`close_wait=12`).
    pub perfdata: Vec<String>,
    /// Prometheus textfile lines, with their HELP and TYPE.
    pub prometheus: String,
}

/// `job` under `deadline`, with how long it took; a timeout is a failure naming the source.
pub async fn timed<T>(
    source: SourceId,
    deadline: Duration,
    job: impl std::future::Future<Output = Result<T, SourceError>>,
) -> (Result<T, SourceError>, Duration) {
    let started = std::time::Instant::now();
    let result = match tokio::time::timeout(deadline, job).await {
        Ok(r) => r,
        Err(_) => Err(SourceError::Timeout(format!(
            "{} took longer than {deadline:?}",
            source.name()
        ))),
    };
    (result, started.elapsed())
}

/// For the sections' Prometheus metrics: a label value for a name from outside that must stay
/// distinct: [`prometheus_label`], plus `~` and a
/// short hash of the raw text when sanitizing changed it. Two names that clean up alike (`a\x07b`
/// and `a\x08b` both read `a\u{FFFD}b`) then still give two series, the same ones on every run.
pub fn distinct_label(s: &str) -> String {
    let clean = prometheus_label(s);
    if sanitize::line(s) == s {
        return clean;
    }
    // FNV-1a over the raw bytes: stable across runs and builds, unlike std's hasher.
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{clean}~{:08x}", h >> 32)
}

/// The series written so far: a label set seen before (the same raw name twice) gets a
/// `series` label numbering it, so the file never holds a duplicate series, which node_exporter
/// and Prometheus reject.
#[derive(Default)]
pub struct Series {
    seen: std::collections::HashMap<String, u32>,
}

impl Series {
    pub fn write(
        &mut self,
        out: &mut String,
        metric: &str,
        labels: &str,
        value: impl std::fmt::Display,
    ) {
        let n = self
            .seen
            .entry(format!("{metric}{{{labels}}}"))
            .or_insert(0);
        *n += 1;
        if *n == 1 {
            let _ = writeln!(out, "{metric}{{{labels}}} {value}");
        } else {
            let _ = writeln!(out, "{metric}{{{labels},series=\"{n}\"}} {value}");
        }
    }
}

/// Escapes a Prometheus label value (backslash, double quote, newline) after sanitizing.
pub fn prometheus_label(s: &str) -> String {
    sanitize::line(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line of `with_sources!` names its source's own variant: a line like
    /// `Pods => pvcs` would build the PVC pane in the pods' tab.
    #[test]
    fn each_line_of_the_list_names_its_sources_variant() {
        use crate::domain::pane::PaneKind;
        macro_rules! lines {
            ($($variant:ident => $module:ident,)*) => {
                [$((SourceId::$variant, PaneKind::$variant, crate::sources::$module::SOURCE),)*]
            };
        }
        let lines = with_sources!(lines);
        assert_eq!(lines.len(), SOURCES.len());
        for (id, kind, source) in lines {
            assert_eq!(source.id(), id, "{}: its id is not its line's", id.name());
            assert_eq!(source.pane().kind, kind, "{}: its pane's kind", id.name());
        }
    }

    /// Every registered source is complete: a check section (even on empty data), rules, a
    /// pane that says it shows this source, help text, and a unique id.
    #[test]
    fn every_registered_source_has_a_check_section_rules_a_pane_and_help() {
        assert!(SOURCES.len() >= 3, "sockets, pods and PVCs are registered");
        let mut ids: Vec<SourceId> = SOURCES.iter().map(|s| s.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), SOURCES.len(), "one registration per source");
        for s in SOURCES {
            let name = s.id().name();
            assert!(!s.rule_ids().is_empty(), "{name}: no rules");
            let pane = s.pane();
            assert_eq!(
                pane.source,
                Some(s.id()),
                "{name}: its pane shows another source"
            );
            assert!(pane.available, "{name}: its pane is a placeholder");
            assert!(!pane.title.is_empty() && !pane.name.is_empty(), "{name}");
            assert!(!pane.help.is_empty(), "{name}: no help text");
            let section = s.empty().section(&SectionCtx {
                cfg: &Config::default(),
                now: jiff::Timestamp::UNIX_EPOCH,
                scope_words: "in all namespaces",
                rows_json: true,
            });
            assert!(
                section.json.iter().any(|(k, _)| *k == name),
                "{name}: no JSON member named after the source"
            );
            assert!(!section.text.is_empty(), "{name}: no text line");
            assert!(
                !section.prometheus.is_empty(),
                "{name}: no Prometheus metrics"
            );
        }
    }
}
