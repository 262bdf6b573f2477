//! The PVC and PV rules of SPEC.md, as pure functions of the API objects and an injected `now`:
//! rows for the PVC pane, `check` and the alert book.
//!
//! - A claim Terminating while a pod still holds it is critical (incident 5): the sentence says
//!   which pod, and what happens to the data when it stops (reclaim policy of the bound PV).
//! - Lost is critical; Pending longer than `pending_for` is a warning.
//! - A claim bound to a PV with reclaimPolicy Delete is "AT RISK" (info by default: a marker,
//!   not an alert). A claim no pod holds is "UNUSED", else "IN USE".
//! - A PV Released or Failed is orphaned storage (warning by default).

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};

use crate::config::{Comparison, PvcRules};
use crate::domain::Level;
use crate::domain::pvcs::{
    Marker, PvRow, PvcReason, PvcRow, PvcRule, PvcUser, PvcsSnapshot, Short, UsedSpace,
    parse_quantity_bytes, short_access_mode,
};
use crate::domain::{SourceError, SourceId};
use crate::rules::{AlertKey, Condition, Shown, short_duration, title_or_id};

fn secs_since(now: Timestamp, since: Timestamp) -> f64 {
    now.duration_since(since).as_secs().max(0) as f64
}

/// The bound PV's reclaim policy, when the PV is known.
fn reclaim_of(pv: Option<&PersistentVolume>) -> Option<String> {
    pv.and_then(|pv| pv.spec.as_ref())
        .and_then(|s| s.persistent_volume_reclaim_policy.clone())
        .filter(|p| !p.is_empty())
}

/// "pod loki-0 uses it; when loki-0 stops" / "pods a, b use it; when they stop".
fn holders_phrase(holders: &[&PvcUser]) -> (String, String) {
    match holders {
        [one] => (
            format!("pod {} uses it", one.pod),
            format!("when {} stops", one.pod),
        ),
        many => (
            format!(
                "pods {} use it",
                many.iter()
                    .map(|u| u.pod.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "when they stop".to_string(),
        ),
    }
}

/// What happens to the data once the claim is gone, by the PV's reclaim policy.
fn fate(policy: Option<&str>, volume: Option<&str>) -> String {
    let pv = volume
        .map(|v| format!("PV {v}"))
        .unwrap_or_else(|| "the PV".into());
    match policy {
        Some("Delete") => "the PV and its data are deleted (reclaim policy Delete)".into(),
        Some("Retain") => {
            format!("{pv} is kept Released with the data (reclaim policy Retain)")
        }
        Some("Recycle") => {
            format!("{pv} is scrubbed and its data erased (reclaim policy Recycle)")
        }
        Some(other) => format!("{pv} follows reclaim policy {other}"),
        None => format!(
            "what happens to {pv} and its data depends on its reclaim policy, which is unknown"
        ),
    }
}

/// The instant after which a claim has been Pending longer than `pending_for` (its warning is
/// due for any `now` past it); `None` for a claim the rule does not watch (not Pending, being
/// deleted, no creation time) or a threshold past the end of time. [`assess`] and
/// [`next_change`] both ask this, so the schedule cannot drift from the rule.
fn pending_over_after(
    phase: Option<&str>,
    deleted: bool,
    created: Option<Timestamp>,
    rules: &PvcRules,
) -> Option<Timestamp> {
    if phase != Some("Pending") || deleted {
        return None;
    }
    let limit = jiff::SignedDuration::try_from(rules.pending_for.0).ok()?;
    created?.checked_add(limit).ok()
}

/// Every rule against one claim (`pv` is its bound PV, if known; `holders` the pods that still
/// hold the volume). Loudest first.
fn assess(
    pvc: &PersistentVolumeClaim,
    volume: Option<&str>,
    policy: Option<&str>,
    holders: &[&PvcUser],
    rules: &PvcRules,
    now: Timestamp,
) -> Vec<PvcReason> {
    let mut out = Vec::new();
    let phase = pvc
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("");
    let deleted = pvc.metadata.deletion_timestamp.as_ref().map(|t| t.0);
    let created = pvc.metadata.creation_timestamp.as_ref().map(|t| t.0);

    if let Some(del) = deleted
        && !holders.is_empty()
    {
        let (uses, when) = holders_phrase(holders);
        out.push(PvcReason {
            rule: PvcRule::TerminatingInUse,
            level: rules.terminating_in_use,
            text: format!("deleted while {uses}; {when}, {}", fate(policy, volume)),
            since: Some(del),
            value: secs_since(now, del),
            threshold: 0.0,
        });
    }

    if phase == "Lost" {
        let pv = volume
            .map(|v| format!("PV {v}"))
            .unwrap_or_else(|| "PV".into());
        out.push(PvcReason {
            rule: PvcRule::Lost,
            level: rules.lost,
            text: format!("Lost: its {pv} is gone; the data may be lost"),
            since: None,
            value: 1.0,
            threshold: 0.0,
        });
    }

    if let (Some(c), Some(over)) = (
        created,
        pending_over_after(Some(phase), deleted.is_some(), created, rules),
    ) && now > over
    {
        let d = now.duration_since(c).unsigned_abs();
        out.push(PvcReason {
            rule: PvcRule::Pending,
            level: rules.pending_level,
            text: format!("Pending for {}", short_duration(d)),
            since: Some(c),
            value: secs_since(now, c),
            threshold: rules.pending_for.0.as_secs_f64(),
        });
    }

    if policy == Some("Delete") && volume.is_some() {
        out.push(PvcReason {
            rule: PvcRule::ReclaimDelete,
            level: rules.reclaim_delete,
            text: format!(
                "AT RISK: reclaim policy Delete — deleting this claim deletes PV {} and its data",
                volume.unwrap_or("?")
            ),
            since: None,
            value: 1.0,
            threshold: 0.0,
        });
    }

    out.sort_by(|a, b| b.level.cmp(&a.level).then(a.rule.cmp(&b.rule)));
    out
}

/// One row of the PVC table: the claim joined with its bound PV (if visible), the pods that mount
/// it and its used space.
pub fn row(
    pvc: &PersistentVolumeClaim,
    pv: Option<&PersistentVolume>,
    users: &[PvcUser],
    used: UsedSpace,
    rules: &PvcRules,
    now: Timestamp,
) -> PvcRow {
    let spec = pvc.spec.as_ref();
    let status = pvc.status.as_ref();
    let volume = spec
        .and_then(|s| s.volume_name.clone())
        .filter(|v| !v.is_empty());
    // Only the PV this claim is bound to counts.
    let pv = pv.filter(|p| volume.is_some() && p.metadata.name == volume);
    let reclaim_policy = reclaim_of(pv);
    let mut users = users.to_vec();
    users.sort_by(|a, b| a.pod.cmp(&b.pod));
    let holders: Vec<&PvcUser> = users.iter().filter(|u| u.holds_volume()).collect();
    let reasons = assess(
        pvc,
        volume.as_deref(),
        reclaim_policy.as_deref(),
        &holders,
        rules,
        now,
    );
    let level = reasons.iter().map(|r| r.level).max().unwrap_or(Level::Ok);

    let mut markers = Vec::new();
    if reclaim_policy.as_deref() == Some("Delete") {
        markers.push(Marker::AtRisk);
    }
    markers.push(if holders.is_empty() {
        Marker::Unused
    } else {
        Marker::InUse
    });

    let capacity = status
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .or_else(|| {
            spec.and_then(|s| s.resources.as_ref())
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
        })
        .map(|q| q.0.clone());
    let access_modes = status
        .and_then(|s| s.access_modes.as_ref())
        .filter(|m| !m.is_empty())
        .or_else(|| spec.and_then(|s| s.access_modes.as_ref()))
        .map(|ms| ms.iter().map(|m| short_access_mode(m)).collect())
        .unwrap_or_default();
    let storage_class = spec
        .and_then(|s| s.storage_class_name.clone())
        .or_else(|| {
            pvc.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class").cloned())
        })
        .or_else(|| {
            pv.and_then(|p| p.spec.as_ref())
                .and_then(|s| s.storage_class_name.clone())
        });
    let phase = status.and_then(|s| s.phase.clone());
    let deletion_timestamp = pvc.metadata.deletion_timestamp.as_ref().map(|t| t.0);
    PvcRow {
        namespace: pvc.metadata.namespace.clone().unwrap_or_default(),
        name: pvc.metadata.name.clone().unwrap_or_default(),
        uid: pvc.metadata.uid.clone(),
        status: if deletion_timestamp.is_some() {
            "Terminating".into()
        } else {
            phase.as_deref().unwrap_or("Unknown").into()
        },
        phase: phase.map(Short::from),
        deletion_timestamp,
        finalizers: pvc.metadata.finalizers.clone().unwrap_or_default(),
        capacity_bytes: capacity.as_deref().and_then(parse_quantity_bytes),
        capacity: capacity.map(Short::from),
        storage_class: storage_class.map(Short::from),
        volume,
        reclaim_policy: reclaim_policy.map(Short::from),
        access_modes,
        users,
        users_unknown: None,
        used,
        created: pvc.metadata.creation_timestamp.as_ref().map(|t| t.0),
        markers,
        level,
        reasons,
    }
}

/// Why the pods that mount claims are unknown, from the pods list's error: "pods are
/// forbidden", "pods could not be listed: ...", or "pods are not listed yet".
pub fn pods_unknown_why(err: Option<&SourceError>) -> String {
    match err {
        Some(SourceError::Forbidden(_)) => "pods are forbidden".into(),
        Some(e) => format!("pods could not be listed: {e}"),
        None => "pods are not listed yet".into(),
    }
}

/// The claim's users cannot be known (`why`, see [`pods_unknown_why`]): no UNUSED / IN USE
/// marker, no users, used space unknown, and a Terminating claim stays critical — it may well
/// be in use, and an on-call engineer must look ("Terminating; who mounts it is unknown: pods
/// are forbidden"). The console and `check` both call this, so they agree.
pub fn users_unknown(row: &mut PvcRow, why: &str, rules: &PvcRules, now: Timestamp) {
    row.markers.retain(|m| *m == Marker::AtRisk);
    row.users.clear();
    row.users_unknown = Some(why.to_string());
    row.used = UsedSpace::unknown(format!("who mounts it is unknown: {why}"));
    if let Some(del) = row.deletion_timestamp
        && !row
            .reasons
            .iter()
            .any(|r| r.rule == PvcRule::TerminatingInUse)
    {
        let policy = match row.reclaim_policy.as_deref() {
            Some(p) => format!(
                "; if a pod holds it, {}",
                fate(Some(p), row.volume.as_deref())
            ),
            None => String::new(),
        };
        row.reasons.push(PvcReason {
            rule: PvcRule::TerminatingInUse,
            level: rules.terminating_in_use,
            text: format!("Terminating; who mounts it is unknown: {why}{policy}"),
            since: Some(del),
            value: secs_since(now, del),
            threshold: 0.0,
        });
        row.reasons
            .sort_by(|a, b| b.level.cmp(&a.level).then(a.rule.cmp(&b.rule)));
    }
    row.level = row
        .reasons
        .iter()
        .map(|r| r.level)
        .max()
        .unwrap_or(Level::Ok);
}

/// One row of the PV view. Released or Failed PVs are orphaned storage.
pub fn pv_row(pv: &PersistentVolume, rules: &PvcRules, now: Timestamp) -> PvRow {
    let name = pv.metadata.name.clone().unwrap_or_default();
    let spec = pv.spec.as_ref();
    let status = pv.status.as_ref();
    let api_phase = status
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    let deleting = pv.metadata.deletion_timestamp.is_some();
    let reclaim_policy = reclaim_of(Some(pv));
    let claim = spec.and_then(|s| s.claim_ref.as_ref()).and_then(|c| {
        let n = c.name.as_deref().filter(|n| !n.is_empty())?;
        Some(format!("{}/{n}", c.namespace.as_deref().unwrap_or("")))
    });
    let capacity = spec
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .map(|q| q.0.clone());
    let orphaned = matches!(api_phase.as_str(), "Released" | "Failed");
    let mut reasons = Vec::new();
    if orphaned {
        let since = status
            .and_then(|s| s.last_phase_transition_time.as_ref())
            .map(|t| t.0);
        let policy = match reclaim_policy.as_deref() {
            Some(p) => format!("reclaim {p}"),
            None => "reclaim policy unknown".into(),
        };
        let claim_text = claim
            .as_deref()
            .map(|c| format!("claim {c} is gone"))
            .unwrap_or_else(|| "its claim is gone".into());
        let text = if api_phase == "Released" {
            format!("Released: {claim_text}; the data is still on PV {name} ({policy})")
        } else {
            let why = status
                .and_then(|s| s.message.as_deref())
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({})", m.chars().take(160).collect::<String>()))
                .unwrap_or_default();
            format!(
                "Failed: reclaiming PV {name} failed{why}; {claim_text}, the data may still be on it ({policy})"
            )
        };
        reasons.push(PvcReason {
            rule: PvcRule::PvReleased,
            level: rules.pv_released,
            text,
            since,
            value: since.map(|s| secs_since(now, s)).unwrap_or(1.0),
            threshold: 0.0,
        });
    }
    let level = reasons.iter().map(|r| r.level).max().unwrap_or(Level::Ok);
    PvRow {
        phase: if deleting {
            "Terminating".into()
        } else {
            api_phase.into()
        },
        reclaim_policy: reclaim_policy.map(Short::from),
        claim,
        storage_class: spec.and_then(|s| s.storage_class_name.as_deref().map(Short::from)),
        capacity_bytes: capacity.as_deref().and_then(parse_quantity_bytes),
        capacity: capacity.map(Short::from),
        access_modes: spec
            .and_then(|s| s.access_modes.as_ref())
            .map(|ms| ms.iter().map(|m| short_access_mode(m)).collect())
            .unwrap_or_default(),
        created: pv.metadata.creation_timestamp.as_ref().map(|t| t.0),
        orphaned,
        level,
        reasons,
        name,
    }
}

/// When the rows of [`row`] and [`pv_row`] (after [`users_unknown`], if applied) can next
/// change with nothing but time passing: what the console's PVC source schedules its next
/// rebuild by when no claim, PV, pod or used-space figure changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NextChange {
    /// The earliest verdict change: a reason appearing or going, and with it the level and the
    /// order of the rows. The verdict is different for any `now` past this instant.
    pub flip: Option<Timestamp>,
    /// The earliest change of a reason's wording ("Pending for 14m" becoming "15m").
    pub wording: Option<Timestamp>,
}

/// [`NextChange`] of these rows at `now`. What time alone changes in them:
///
/// - A claim Pending not yet longer than `pending_for` gets its warning after
///   `created + pending_for` (a flip). Once over it, only its wording changes: "Pending for 8m"
///   is the one reason text that counts time.
/// - Nothing else: Terminating-in-use (with or without the pods known), Lost, AT RISK, the
///   markers (who mounts it) and a PV's Released/Failed are decided by the objects alone and
///   their texts show no duration. What shows how long a state has lasted (the alert pane's
///   "deleted 3m ago", "Released for 1h"; AGE) renders it from `since`/`created` at draw time.
/// - Each reason's `value` (seconds in the state) grows with the clock but schedules nothing:
///   it would mean a rebuild every second for every Terminating claim or Released PV, and
///   nothing draws it (the alert book keeps it for sorting and the hook's environment); it
///   is as recent as the rows' last rebuild.
pub fn next_change(rows: &[PvcRow], pvs: &[PvRow], rules: &PvcRules, now: Timestamp) -> NextChange {
    let mut next = NextChange::default();
    let sooner = |slot: &mut Option<Timestamp>, at: Timestamp| {
        *slot = Some(slot.map_or(at, |s| s.min(at)));
    };
    for r in rows {
        if let Some(over) = pending_over_after(
            r.phase.as_deref(),
            r.deletion_timestamp.is_some(),
            r.created,
            rules,
        ) && now <= over
        {
            sooner(&mut next.flip, over);
        }
    }
    let reasons = rows
        .iter()
        .flat_map(|r| &r.reasons)
        .chain(pvs.iter().flat_map(|p| &p.reasons));
    for r in reasons {
        if r.rule == PvcRule::Pending
            && let Some(since) = r.since
        {
            sooner(&mut next.wording, super::next_wording(since, now));
        }
    }
    next
}

fn condition(subject: String, r: &PvcReason) -> Condition {
    let shown = match (r.rule, r.since) {
        (PvcRule::TerminatingInUse, Some(at)) => Shown::Ago {
            what: "deleted".into(),
            at,
        },
        (PvcRule::Pending, Some(since)) => Shown::For {
            what: "Pending".into(),
            since,
        },
        (PvcRule::PvReleased, Some(since)) => Shown::For {
            what: r.text.split(':').next().unwrap_or("Released").to_string(),
            since,
        },
        (PvcRule::Lost, _) => Shown::Text("Lost".into()),
        (PvcRule::ReclaimDelete, _) => Shown::Text("reclaim Delete".into()),
        _ => Shown::Text(r.text.split(':').next().unwrap_or_default().to_string()),
    };
    Condition {
        title: title_or_id(r.rule.name()),
        shown,
        key: AlertKey::new(SourceId::Pvcs, r.rule.name(), subject.as_str(), r.level),
        breached: true,
        value: r.value,
        threshold: r.threshold,
        op: Comparison::Above,
        for_: std::time::Duration::ZERO,
        // Self-contained: Nagios' summary line and the alert hook show only this.
        message: format!("{subject}: {}", r.text),
    }
}

/// The alert book's conditions for one snapshot: one per reason of every claim and PV at
/// Warning or above. Info reasons (AT RISK markers) are not alerts: 2,000 claims on a Delete
/// StorageClass are not 2,000 alerts.
pub fn evaluate(snap: &PvcsSnapshot) -> Vec<Condition> {
    let claims = snap.rows.iter().flat_map(|row| {
        row.reasons
            .iter()
            .filter(|r| r.level >= Level::Warning)
            .map(move |r| condition(format!("{}/{}", row.namespace, row.name), r))
    });
    let pvs = snap.pvs.iter().flat_map(|pv| {
        pv.reasons
            .iter()
            .filter(|r| r.level >= Level::Warning)
            .map(move |r| condition(format!("pv/{}", pv.name), r))
    });
    claims.chain(pvs).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HumanDuration;
    use crate::domain::pods::{ApiHealth, NamespaceScope};
    use crate::domain::pvcs::UsageStatus;
    use serde_json::json;
    use std::time::Duration;

    fn now() -> Timestamp {
        "2026-11-21T12:00:00Z".parse().expect("valid")
    }

    fn pvc(v: serde_json::Value) -> PersistentVolumeClaim {
        serde_json::from_value(v).expect("pvc")
    }

    fn pv(name: &str, policy: &str, phase: &str, claim: Option<(&str, &str)>) -> PersistentVolume {
        let mut v = json!({
            "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"persistentVolumeReclaimPolicy": policy, "capacity": {"storage": "10Gi"},
                     "accessModes": ["ReadWriteOnce"], "storageClassName": "standard"},
            "status": {"phase": phase, "lastPhaseTransitionTime": "2026-11-21T11:00:00Z"}
        });
        if let Some((ns, n)) = claim {
            v["spec"]["claimRef"] = json!({"namespace": ns, "name": n});
        }
        serde_json::from_value(v).expect("pv")
    }

    fn bound(ns: &str, name: &str, volume: &str) -> PersistentVolumeClaim {
        pvc(json!({
            "metadata": {"namespace": ns, "name": name, "uid": "u1",
                         "creationTimestamp": "2025-10-05T12:00:00Z",
                         "finalizers": ["kubernetes.io/pvc-protection"]},
            "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": volume,
                     "storageClassName": "standard",
                     "resources": {"requests": {"storage": "10Gi"}}},
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"},
                       "accessModes": ["ReadWriteOnce"]}
        }))
    }

    fn terminating(mut c: PersistentVolumeClaim, ago_secs: i64) -> PersistentVolumeClaim {
        let t = now() - jiff::SignedDuration::from_secs(ago_secs);
        c.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t));
        c
    }

    fn user(pod: &str, phase: &str) -> PvcUser {
        PvcUser {
            pod: pod.into(),
            phase: Some(phase.into()),
            node: Some("worker-1".into()),
            mounts: vec![format!("{pod}:/data")],
            terminating: false,
        }
    }

    fn unknown() -> UsedSpace {
        UsedSpace::unknown("not collected yet")
    }

    #[test]
    fn terminating_in_use_names_the_pod_and_the_fate_of_the_data() {
        let rules = PvcRules::default();
        let c = terminating(bound("logging", "loki-storage", "pvc-1"), 180);
        let p = pv(
            "pvc-1",
            "Delete",
            "Bound",
            Some(("logging", "loki-storage")),
        );
        let r = row(
            &c,
            Some(&p),
            &[user("loki-0", "Running")],
            unknown(),
            &rules,
            now(),
        );
        assert_eq!(r.status, "Terminating");
        assert_eq!(r.level, Level::Critical);
        assert_eq!(r.reasons[0].rule, PvcRule::TerminatingInUse);
        assert_eq!(
            r.reasons[0].text,
            "deleted while pod loki-0 uses it; when loki-0 stops, the PV and its data are \
             deleted (reclaim policy Delete)"
        );
        assert_eq!(r.reasons[0].value, 180.0);
        assert_eq!(r.markers, vec![Marker::AtRisk, Marker::InUse]);

        // Several pods.
        let r = row(
            &c,
            Some(&p),
            &[user("b", "Running"), user("a", "Pending")],
            unknown(),
            &rules,
            now(),
        );
        assert!(
            r.reasons[0]
                .text
                .starts_with("deleted while pods a, b use it; when they stop, the PV and its data"),
            "{}",
            r.reasons[0].text
        );

        // Retain: the PV is kept.
        let p = pv("pvc-1", "Retain", "Bound", None);
        let r = row(
            &c,
            Some(&p),
            &[user("loki-0", "Running")],
            unknown(),
            &rules,
            now(),
        );
        assert_eq!(
            r.reasons[0].text,
            "deleted while pod loki-0 uses it; when loki-0 stops, PV pvc-1 is kept Released \
             with the data (reclaim policy Retain)"
        );
        assert_eq!(r.markers, vec![Marker::InUse], "Retain is not AT RISK");

        // PV not visible: say the policy is unknown, no AT RISK marker.
        let r = row(
            &c,
            None,
            &[user("loki-0", "Running")],
            unknown(),
            &rules,
            now(),
        );
        assert!(
            r.reasons[0].text.contains("unknown"),
            "{}",
            r.reasons[0].text
        );
        assert_eq!(r.reclaim_policy, None);
        assert_eq!(r.markers, vec![Marker::InUse]);

        // A finished pod does not hold it: no terminating_in_use, and UNUSED.
        let p = pv("pvc-1", "Delete", "Bound", None);
        let r = row(
            &c,
            Some(&p),
            &[user("job", "Succeeded")],
            unknown(),
            &rules,
            now(),
        );
        assert!(
            r.reasons
                .iter()
                .all(|x| x.rule != PvcRule::TerminatingInUse)
        );
        assert_eq!(r.markers, vec![Marker::AtRisk, Marker::Unused]);
        assert_eq!(r.level, Level::Info);
    }

    #[test]
    fn markers_and_columns() {
        let rules = PvcRules::default();
        let p = pv("pvc-9", "Delete", "Bound", None);
        let r = row(
            &bound("monitoring", "grafana-data", "pvc-9"),
            Some(&p),
            &[user("grafana", "Running")],
            unknown(),
            &rules,
            now(),
        );
        assert_eq!(r.status, "Bound");
        assert_eq!(r.markers, vec![Marker::AtRisk, Marker::InUse]);
        assert_eq!(r.level, Level::Info);
        assert_eq!(
            r.reasons[0].text,
            "AT RISK: reclaim policy Delete — deleting this claim deletes PV pvc-9 and its data"
        );
        assert_eq!(r.capacity.as_deref(), Some("10Gi"));
        assert_eq!(r.capacity_bytes, Some(10 << 30));
        assert_eq!(r.access_modes, vec!["RWO"]);
        assert_eq!(r.age_text(now()), "412d");
        // A PV that is not the bound one is ignored.
        let other = pv("other", "Delete", "Bound", None);
        let r = row(
            &bound("monitoring", "x", "pvc-9"),
            Some(&other),
            &[],
            unknown(),
            &rules,
            now(),
        );
        assert_eq!(r.reclaim_policy, None);
        assert_eq!(r.markers, vec![Marker::Unused]);
        assert_eq!(r.level, Level::Ok);
    }

    #[test]
    fn lost_and_pending() {
        let mut rules = PvcRules::default();
        let mut c = bound("ns", "gone", "pvc-x");
        c.status.as_mut().expect("status").phase = Some("Lost".into());
        let r = row(&c, None, &[], unknown(), &rules, now());
        assert_eq!(r.level, Level::Critical);
        assert_eq!(
            r.reasons[0].text,
            "Lost: its PV pvc-x is gone; the data may be lost"
        );

        let pending = |ago: i64| {
            let created = now() - jiff::SignedDuration::from_secs(ago);
            pvc(json!({
                "metadata": {"namespace": "web", "name": "uploads",
                             "creationTimestamp": created.to_string()},
                "spec": {"storageClassName": "nfs", "resources": {"requests": {"storage": "5Gi"}}},
                "status": {"phase": "Pending"}
            }))
        };
        let r = row(&pending(480), None, &[], unknown(), &rules, now());
        assert_eq!(r.status, "Pending");
        assert_eq!(r.level, Level::Warning);
        assert_eq!(r.reasons[0].text, "Pending for 8m");
        assert_eq!(r.reasons[0].threshold, 300.0);
        assert_eq!(r.capacity.as_deref(), Some("5Gi"));
        let r = row(&pending(120), None, &[], unknown(), &rules, now());
        assert!(r.reasons.is_empty());
        assert_eq!(r.status, "Pending");
        rules.pending_for = HumanDuration(Duration::from_secs(60));
        let r = row(&pending(120), None, &[], unknown(), &rules, now());
        assert_eq!(r.reasons[0].text, "Pending for 2m");
    }

    /// A claim Pending since `ago_secs` before `now()`, on a class nothing provisions.
    fn pending_claim(name: &str, ago_secs: i64) -> PersistentVolumeClaim {
        let created = now() - jiff::SignedDuration::from_secs(ago_secs);
        pvc(json!({
            "metadata": {"namespace": "web", "name": name,
                         "creationTimestamp": created.to_string()},
            "spec": {"storageClassName": "nfs", "resources": {"requests": {"storage": "5Gi"}}},
            "status": {"phase": "Pending"}
        }))
    }

    fn rows_at(claims: &[PersistentVolumeClaim], rules: &PvcRules, at: Timestamp) -> Vec<PvcRow> {
        claims
            .iter()
            .map(|c| row(c, None, &[], unknown(), rules, at))
            .collect()
    }

    fn secs(n: i64) -> jiff::SignedDuration {
        jiff::SignedDuration::from_secs(n)
    }

    #[test]
    fn a_pending_claim_under_pending_for_flips_when_it_gets_there() {
        let rules = PvcRules::default(); // pending_for 5m
        let claims = [pending_claim("young", 120)];
        let next = next_change(&rows_at(&claims, &rules, now()), &[], &rules, now());
        assert_eq!(next.flip, Some(now() + secs(180)), "created + pending_for");
        assert_eq!(next.wording, None, "no reason yet, so no wording");
        // Created ahead of the clock (skew): still created + pending_for.
        let claims = [pending_claim("ahead", -30)];
        let next = next_change(&rows_at(&claims, &rules, now()), &[], &rules, now());
        assert_eq!(next.flip, Some(now() + secs(330)));
    }

    #[test]
    fn a_claim_already_over_pending_for_schedules_only_its_wording() {
        let rules = PvcRules::default();
        let claims = [pending_claim("old", 480 + 20)];
        let rows = rows_at(&claims, &rules, now());
        assert_eq!(rows[0].reasons[0].text, "Pending for 8m");
        let next = next_change(&rows, &[], &rules, now());
        assert_eq!(next.flip, None);
        assert_eq!(next.wording, Some(now() + secs(40)), "when it reads 9m");
    }

    #[test]
    fn rows_nothing_in_time_can_change_schedule_nothing() {
        let rules = PvcRules::default();
        let p = pv("pvc-1", "Delete", "Bound", None);
        let mut lost = bound("ns", "gone", "pvc-x");
        lost.status.as_mut().expect("status").phase = Some("Lost".into());
        // Pending but being deleted: the Pending rule does not watch it.
        let deleted_pending = terminating(pending_claim("going", 10), 5);
        let mut rows = vec![
            row(
                &terminating(bound("logging", "loki-storage", "pvc-1"), 60),
                Some(&p),
                &[user("loki-0", "Running")],
                unknown(),
                &rules,
                now(),
            ),
            row(
                &bound("a", "b", "pvc-1"),
                Some(&p),
                &[],
                unknown(),
                &rules,
                now(),
            ),
            row(&lost, None, &[], unknown(), &rules, now()),
            row(&deleted_pending, None, &[], unknown(), &rules, now()),
        ];
        let mut forgotten = row(
            &terminating(bound("x", "y", "pvc-1"), 60),
            Some(&p),
            &[],
            unknown(),
            &rules,
            now(),
        );
        users_unknown(&mut forgotten, "pods are forbidden", &rules, now());
        rows.push(forgotten);
        let pvs = [
            pv_row(&pv("pv-r", "Retain", "Released", None), &rules, now()),
            pv_row(&pv("pv-f", "Delete", "Failed", None), &rules, now()),
            pv_row(&pv("pv-b", "Delete", "Bound", None), &rules, now()),
        ];
        assert_eq!(
            next_change(&rows, &pvs, &rules, now()),
            NextChange::default()
        );
        assert_eq!(next_change(&[], &[], &rules, now()), NextChange::default());
    }

    #[test]
    fn the_earliest_of_several_wins() {
        let rules = PvcRules::default();
        let claims = [
            pending_claim("later", 60),
            pending_claim("soonest", 250),
            pending_claim("over-a", 400),
            pending_claim("over-b", 3600 + 59 * 60 + 50),
            pending_claim("soon", 200),
        ];
        let next = next_change(&rows_at(&claims, &rules, now()), &[], &rules, now());
        assert_eq!(next.flip, Some(now() + secs(50)));
        // over-a reads 6m for 20 s more; over-b "1h59m" becomes "2h" in 10 s.
        assert_eq!(next.wording, Some(now() + secs(10)));
    }

    /// The schedule against the rules themselves: the rows (their `value`s aside, which
    /// schedule nothing) stay the same until the next change and differ right after it.
    #[test]
    fn rows_change_with_time_exactly_when_next_change_says() {
        let rules = PvcRules {
            pending_for: HumanDuration(Duration::from_secs(90)),
            ..PvcRules::default()
        };
        let p = pv("pvc-1", "Delete", "Bound", None);
        let claims = [
            pending_claim("young", 30),
            pending_claim("old", 150),
            terminating(bound("logging", "loki-storage", "pvc-1"), 60),
            bound("a", "b", "pvc-1"),
        ];
        let pvs = [
            pv("pv-r", "Retain", "Released", None),
            pv("pv-b", "Delete", "Bound", None),
        ];
        let build = |at: Timestamp| {
            let mut rows: Vec<PvcRow> = claims
                .iter()
                .map(|c| {
                    row(
                        c,
                        Some(&p),
                        &[user("loki-0", "Running")],
                        unknown(),
                        &rules,
                        at,
                    )
                })
                .collect();
            let mut pv_rows: Vec<PvRow> = pvs.iter().map(|v| pv_row(v, &rules, at)).collect();
            let reasons = rows
                .iter_mut()
                .flat_map(|r| &mut r.reasons)
                .chain(pv_rows.iter_mut().flat_map(|p| &mut p.reasons));
            for r in reasons {
                r.value = 0.0;
            }
            (rows, pv_rows)
        };
        let at_now = build(now());
        let next = next_change(&at_now.0, &at_now.1, &rules, now());
        let (flip, wording) = (
            next.flip.expect("young flips"),
            next.wording.expect("old's wording"),
        );
        assert_eq!(flip, now() + secs(60));
        assert_eq!(wording, now() + secs(30), "2m30s reads 3m at 3m");
        let tick = jiff::SignedDuration::from_nanos(1);
        assert_eq!(build(now() + secs(1)), at_now);
        assert_eq!(
            build(wording - tick),
            at_now,
            "nothing changes before the wording"
        );
        assert_ne!(build(wording), at_now, "\"Pending for 3m\"");
        let at_wording = build(wording);
        assert_eq!(
            next_change(&at_wording.0, &at_wording.1, &rules, wording).flip,
            Some(flip)
        );
        assert_eq!(
            build(flip),
            build(wording),
            "at the threshold, not over it yet"
        );
        let after = build(flip + tick);
        assert_ne!(after, at_wording, "young's warning");
        assert_eq!(
            row(&claims[0], None, &[], unknown(), &rules, flip + tick).level,
            Level::Warning
        );
        assert_eq!(
            next_change(&after.0, &after.1, &rules, flip + tick).flip,
            None
        );
    }

    #[test]
    fn released_pvs_are_orphaned() {
        let rules = PvcRules::default();
        let r = pv_row(
            &pv("pv-old", "Retain", "Released", Some(("batch", "reports"))),
            &rules,
            now(),
        );
        assert!(r.orphaned);
        assert_eq!(r.level, Level::Warning);
        assert_eq!(
            r.reasons[0].text,
            "Released: claim batch/reports is gone; the data is still on PV pv-old (reclaim Retain)"
        );
        assert_eq!(r.claim.as_deref(), Some("batch/reports"));
        assert_eq!(r.reasons[0].value, 3600.0);
        let r = pv_row(&pv("pv-b", "Delete", "Bound", None), &rules, now());
        assert!(!r.orphaned && r.reasons.is_empty() && r.level == Level::Ok);
    }

    #[test]
    fn evaluate_alerts_at_warning_and_above_only() {
        let rules = PvcRules::default();
        let p = pv("pvc-1", "Delete", "Bound", None);
        let rows = vec![
            row(
                &terminating(bound("logging", "loki-storage", "pvc-1"), 60),
                Some(&p),
                &[user("loki-0", "Running")],
                unknown(),
                &rules,
                now(),
            ),
            row(
                &bound("a", "b", "pvc-1"),
                Some(&p),
                &[],
                unknown(),
                &rules,
                now(),
            ),
        ];
        let snap = PvcsSnapshot {
            context: "c".into(),
            server: "s".into(),
            scope: NamespaceScope::All,
            rows,
            pvs: vec![pv_row(
                &pv("pv-old", "Retain", "Released", Some(("batch", "r"))),
                &rules,
                now(),
            )],
            pv_error: None,
            storage_classes: vec![],
            usage: UsageStatus::NotCollected,
            api: ApiHealth {
                reachable: true,
                last_latency: None,
                last_error: None,
                last_contact: None,
                reconnects: 0,
            },
            synced: true,
            at: now(),
        };
        let conds = evaluate(&snap);
        let keys: Vec<(&str, &str, Level)> = conds
            .iter()
            .map(|c| (c.key.rule.as_str(), c.key.subject.as_str(), c.key.level))
            .collect();
        assert_eq!(
            keys,
            vec![
                (
                    "pvc_terminating_in_use",
                    "logging/loki-storage",
                    Level::Critical
                ),
                ("pv_released", "pv/pv-old", Level::Warning),
            ]
        );
        assert!(
            conds
                .iter()
                .all(|c| c.key.source == SourceId::Pvcs && c.breached)
        );
        assert!(
            conds[0]
                .message
                .starts_with("logging/loki-storage: deleted while pod loki-0")
        );
        assert_eq!(conds[0].title, "PVC deleted while in use");
        assert_eq!(conds[0].shown.render(now()), "deleted 1m ago");
        assert_eq!(conds[1].title, "PV orphaned");
        assert_eq!(conds[1].shown.render(now()), "Released for 1h");
        assert_eq!(snap.counts().at_risk, 2);
        assert_eq!(snap.counts().critical, 1);
        assert_eq!(snap.counts().orphaned_pvs, 1);
    }
}
