//! PVCs and PVs as the PVC pane, its PV view and `check` see them: one owned [`PvcRow`] per
//! claim (joined with its PV, its StorageClass, the pods that mount it and its used space), one
//! [`PvRow`] per PersistentVolume, and the [`PvcsSnapshot`] the PVC source sends.
//!
//! Plain data plus pure helpers; the rows are computed by `rules::pvcs` from the API objects and
//! an injected `now`.

use std::borrow::Cow;

use compact_str::CompactString;

/// Short text a row keeps (a phase, a class, a size, an access mode, a node): inline up to
/// 24 bytes, so thousands of rows' `Bound`, `standard` and `RWO` cost no allocation each.
pub type Short = CompactString;
use jiff::Timestamp;
use serde::Serialize;

use crate::domain::Level;
use crate::domain::pods::{ApiHealth, NamespaceScope, human_duration};

/// `namespace/name`, the identity the UI, `check` and the guarded flows use for a claim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PvcKey {
    pub namespace: String,
    pub name: String,
}

impl PvcKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        PvcKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for PvcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Which PVC/PV rule produced a reason; also the rule name in `check`'s `checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PvcRule {
    /// Deleted (Terminating) while a pod still mounts it.
    TerminatingInUse,
    Lost,
    Pending,
    /// Bound to a PV with reclaimPolicy Delete ("AT RISK"; info by default).
    ReclaimDelete,
    /// A PV Released or Failed (orphaned storage).
    PvReleased,
}

impl PvcRule {
    pub fn name(self) -> &'static str {
        match self {
            PvcRule::TerminatingInUse => "pvc_terminating_in_use",
            PvcRule::Lost => "pvc_lost",
            PvcRule::Pending => "pvc_pending",
            PvcRule::ReclaimDelete => "pvc_reclaim_delete",
            PvcRule::PvReleased => "pv_released",
        }
    }
}

/// One reason a claim (or PV) is not OK, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PvcReason {
    pub rule: PvcRule,
    pub level: Level,
    /// e.g. "deleted while pod loki-0 uses it; when loki-0 stops, the PV and its data are
    /// deleted (reclaim policy Delete)".
    pub text: String,
    /// Since when it has been true (deletionTimestamp, creationTimestamp, ...), if known.
    pub since: Option<Timestamp>,
    /// The measured value (seconds in the state; 1 for "seen at all" rules).
    pub value: f64,
    /// The threshold it was compared with (0 for "seen at all" rules).
    pub threshold: f64,
}

/// The markers of the MARKERS column: what deleting this claim would mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Marker {
    /// The PV's reclaimPolicy is Delete: deleting the claim destroys the data.
    AtRisk,
    /// No pod mounts it: a cleanup candidate.
    Unused,
    /// At least one pod (not Succeeded/Failed) mounts it.
    InUse,
}

impl Marker {
    pub fn label(self) -> &'static str {
        match self {
            Marker::AtRisk => "AT RISK",
            Marker::Unused => "UNUSED",
            Marker::InUse => "IN USE",
        }
    }
}

/// A pod that mounts a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PvcUser {
    pub pod: String,
    pub phase: Option<String>,
    pub node: Option<String>,
    /// "container:/mount/path" per mount.
    pub mounts: Vec<String>,
    /// The pod itself is being deleted.
    pub terminating: bool,
}

impl PvcUser {
    /// A pod that still holds the volume: anything but Succeeded/Failed.
    pub fn holds_volume(&self) -> bool {
        !matches!(self.phase.as_deref(), Some("Succeeded") | Some("Failed"))
    }

    /// "grafana-5d8f7c9b6d-x2k4q (Running)".
    pub fn text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out);
        out
    }

    /// [`PvcUser::text`] appended to `out`.
    fn write_text(&self, out: &mut String) {
        let phase = if self.terminating {
            "Terminating"
        } else {
            self.phase.as_deref().unwrap_or("Unknown")
        };
        out.push_str(&self.pod);
        out.push_str(" (");
        out.push_str(phase);
        out.push(')');
    }
}

/// Used space of a claim's volume, from the kubelet stats summary (through the API server's
/// node proxy), or why it is not known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum UsedSpace {
    Known {
        used_bytes: u64,
        capacity_bytes: Option<u64>,
        available_bytes: Option<u64>,
    },
    /// Why not: "not mounted (the kubelet reports mounted volumes only)", "forbidden: get
    /// nodes/proxy", "node n1 unreachable", "not collected yet".
    Unknown { why: String },
}

impl UsedSpace {
    pub fn unknown(why: impl Into<String>) -> Self {
        UsedSpace::Unknown { why: why.into() }
    }

    pub fn used_bytes(&self) -> Option<u64> {
        match self {
            UsedSpace::Known { used_bytes, .. } => Some(*used_bytes),
            UsedSpace::Unknown { .. } => None,
        }
    }
}

/// One row of the PVC table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PvcRow {
    pub namespace: String,
    pub name: String,
    pub uid: Option<String>,
    /// Bound / Pending / Lost / Terminating (Terminating wins over the phase, as kubectl shows).
    pub status: Short,
    /// status.phase as the API reports it.
    pub phase: Option<Short>,
    pub deletion_timestamp: Option<Timestamp>,
    pub finalizers: Vec<String>,
    /// status.capacity.storage as written by the API ("10Gi"); the request when unbound.
    pub capacity: Option<Short>,
    pub capacity_bytes: Option<u64>,
    pub storage_class: Option<Short>,
    /// The bound PV's name (spec.volumeName).
    pub volume: Option<String>,
    /// The bound PV's persistentVolumeReclaimPolicy; `None` when unbound or the PV is unknown.
    pub reclaim_policy: Option<Short>,
    /// kubectl's short forms: RWO, ROX, RWX, RWOP.
    pub access_modes: Vec<Short>,
    /// Pods that mount it, sorted by name (empty when `users_unknown`).
    pub users: Vec<PvcUser>,
    /// Why the pods that mount it are not known ("pods are forbidden"): then `users` is empty
    /// but means nothing, there is no UNUSED / IN USE marker, and a Terminating claim is
    /// critical (it may be in use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_unknown: Option<String>,
    pub used: UsedSpace,
    pub created: Option<Timestamp>,
    /// Sorted: AT RISK, UNUSED, IN USE (at most one of the last two).
    pub markers: Vec<Marker>,
    pub level: Level,
    pub reasons: Vec<PvcReason>,
}

impl PvcRow {
    pub fn key(&self) -> PvcKey {
        PvcKey::new(self.namespace.clone(), self.name.clone())
    }

    /// kubectl's AGE column.
    pub fn age_text(&self, now: Timestamp) -> CompactString {
        match self.created {
            Some(c) => human_duration(now.duration_since(c)),
            None => "<unknown>".into(),
        }
    }

    /// "RWO,RWX".
    pub fn access_modes_text(&self) -> CompactString {
        let mut out = CompactString::default();
        for (i, m) in self.access_modes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(m);
        }
        out
    }

    /// "pod-a (Running), pod-b (Pending)", "-", or "unknown (pods are forbidden)".
    pub fn used_by_text(&self) -> Cow<'_, str> {
        if let Some(why) = &self.users_unknown {
            return Cow::Owned(format!("unknown ({why})"));
        }
        if self.users.is_empty() {
            return Cow::Borrowed("-");
        }
        let mut out = String::new();
        for (i, u) in self.users.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            u.write_text(&mut out);
        }
        Cow::Owned(out)
    }

    /// "AT RISK UNUSED".
    pub fn markers_text(&self) -> String {
        self.markers
            .iter()
            .map(|m| m.label())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn has_marker(&self, m: Marker) -> bool {
        self.markers.contains(&m)
    }

    /// A pod (not Succeeded/Failed) mounts it: the TUI refuses to delete it.
    pub fn in_use(&self) -> bool {
        self.users.iter().any(PvcUser::holds_volume)
    }

    pub fn terminating(&self) -> bool {
        self.deletion_timestamp.is_some()
    }

    pub fn reasons_text(&self) -> Cow<'_, str> {
        crate::domain::pods::join_reasons(self.reasons.iter().map(|r| r.text.as_str()))
    }

    pub fn trouble_since(&self) -> Option<Timestamp> {
        self.reasons.iter().filter_map(|r| r.since).max()
    }
}

/// One row of the PV view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PvRow {
    pub name: String,
    /// Available / Bound / Released / Failed / Pending; "Terminating" when being deleted.
    pub phase: Short,
    pub reclaim_policy: Option<Short>,
    /// claimRef as "namespace/name", if any.
    pub claim: Option<String>,
    pub storage_class: Option<Short>,
    pub capacity: Option<Short>,
    pub capacity_bytes: Option<u64>,
    pub access_modes: Vec<Short>,
    pub created: Option<Timestamp>,
    /// Released or Failed: storage nobody uses that still costs money (or holds the data a
    /// restore needs).
    pub orphaned: bool,
    pub level: Level,
    pub reasons: Vec<PvcReason>,
}

impl PvRow {
    pub fn age_text(&self, now: Timestamp) -> CompactString {
        match self.created {
            Some(c) => human_duration(now.duration_since(c)),
            None => "<unknown>".into(),
        }
    }

    pub fn reasons_text(&self) -> Cow<'_, str> {
        crate::domain::pods::join_reasons(self.reasons.iter().map(|r| r.text.as_str()))
    }
}

/// A StorageClass, for the detail view and the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageClassInfo {
    pub name: String,
    pub provisioner: String,
    /// Defaults to Delete when the API leaves it out (as Kubernetes does).
    pub reclaim_policy: String,
    pub volume_binding_mode: Option<String>,
    pub allow_volume_expansion: bool,
    pub is_default: bool,
}

/// Counts for the header's PVCs meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PvcCounts {
    pub ok: usize,
    pub warning: usize,
    pub critical: usize,
    pub unused: usize,
    pub at_risk: usize,
    /// PVs Released or Failed.
    pub orphaned_pvs: usize,
}

/// Whether used space could be collected at all this round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum UsageStatus {
    #[default]
    NotCollected,
    Ok,
    /// e.g. forbidden for every node: "forbidden: get nodes/proxy (user x)".
    Unavailable {
        why: String,
    },
}

/// What the PVC source sends: every claim (sorted by danger), every PV, the StorageClasses.
#[derive(Debug, Clone)]
pub struct PvcsSnapshot {
    pub context: String,
    pub server: String,
    pub scope: NamespaceScope,
    pub rows: Vec<PvcRow>,
    /// Every PV (cluster-scoped; empty with a reason in `pv_error` when forbidden).
    pub pvs: Vec<PvRow>,
    pub pv_error: Option<super::SourceError>,
    pub storage_classes: Vec<StorageClassInfo>,
    pub usage: UsageStatus,
    pub api: ApiHealth,
    pub synced: bool,
    /// When the rows were computed (wall clock; ages are relative to it).
    pub at: Timestamp,
}

impl PvcsSnapshot {
    /// Why the claims' users are unknown (pods forbidden or failing), if they are.
    pub fn users_unknown(&self) -> Option<&str> {
        self.rows.iter().find_map(|r| r.users_unknown.as_deref())
    }

    pub fn counts(&self) -> PvcCounts {
        let mut c = PvcCounts::default();
        for r in &self.rows {
            match r.level {
                Level::Critical => c.critical += 1,
                Level::Warning => c.warning += 1,
                Level::Ok | Level::Info => c.ok += 1,
            }
            if r.has_marker(Marker::Unused) {
                c.unused += 1;
            }
            if r.has_marker(Marker::AtRisk) {
                c.at_risk += 1;
            }
        }
        c.orphaned_pvs = self.pvs.iter().filter(|p| p.orphaned).count();
        c
    }
}

/// Default order: loudest first, then the most recent trouble, then namespace/name.
pub fn sort_by_danger(rows: &mut [PvcRow]) {
    rows.sort_by(|a, b| {
        b.level
            .cmp(&a.level)
            .then_with(|| b.trouble_since().cmp(&a.trouble_since()))
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// kubectl's short access-mode names.
pub fn short_access_mode(mode: &str) -> Short {
    match mode {
        "ReadWriteOnce" => Short::const_new("RWO"),
        "ReadOnlyMany" => Short::const_new("ROX"),
        "ReadWriteMany" => Short::const_new("RWX"),
        "ReadWriteOncePod" => Short::const_new("RWOP"),
        other => Short::from(other),
    }
}

/// Bytes of a Kubernetes quantity ("10Gi", "500M", "1.5Gi", "1e9", "1024"); `None` when it is
/// not a plain non-negative byte quantity (e.g. "100m" millis).
pub fn parse_quantity_bytes(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse::<i32>().ok()?),
        _ => return None,
    };
    let v = (num * mult).round();
    (v.is_finite() && v >= 0.0 && v <= u64::MAX as f64).then_some(v as u64)
}

/// "1.5 GiB" for the USED column and the detail view.
pub fn human_bytes(n: u64) -> CompactString {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        compact_str::format_compact!("{n} B")
    } else {
        compact_str::format_compact!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_modes_read_like_kubectl() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(10 * 1024 * 1024 * 1024), "10.0 GiB");
        assert_eq!(short_access_mode("ReadWriteOncePod"), "RWOP");
        assert_eq!(short_access_mode("Odd"), "Odd");
    }

    #[test]
    fn quantities_in_bytes() {
        assert_eq!(parse_quantity_bytes("10Gi"), Some(10 << 30));
        assert_eq!(parse_quantity_bytes("1.5Ki"), Some(1536));
        assert_eq!(parse_quantity_bytes("500M"), Some(500_000_000));
        assert_eq!(parse_quantity_bytes("1e3"), Some(1000));
        assert_eq!(parse_quantity_bytes("1024"), Some(1024));
        assert_eq!(parse_quantity_bytes("100m"), None);
        assert_eq!(parse_quantity_bytes("Gi"), None);
        assert_eq!(parse_quantity_bytes(""), None);
    }

    #[test]
    fn users_that_hold_the_volume() {
        let u = |phase: &str| PvcUser {
            pod: "p".into(),
            phase: Some(phase.into()),
            node: None,
            mounts: vec![],
            terminating: false,
        };
        assert!(u("Running").holds_volume());
        assert!(u("Pending").holds_volume());
        assert!(!u("Succeeded").holds_volume());
        assert!(!u("Failed").holds_volume());
        assert_eq!(u("Running").text(), "p (Running)");
    }
}
