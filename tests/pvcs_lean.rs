//! The PVC source decodes claims and PVs lean (`LeanPvc`, `LeanPv`: only what the pane reads)
//! instead of keeping typed objects. The lean form must give the rules exactly the stripped
//! typed object (`strip_pvc` / `strip_pv`), so every row, marker and reason stays the same; and
//! so must the compact form the console's store keeps (`CompactPvc`, `CompactPv`).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use ondeck::config::PvcRules;
use ondeck::sources::kube::pvcs::{
    CompactPv, CompactPvc, LeanPv, LeanPvc, PvLike, PvcLike, UsageMap, build_pv_rows, build_rows,
    strip_lean_pv, strip_lean_pvc, strip_pv, strip_pvc,
};
use serde_json::json;

fn pv_json(name: &str, phase: &str, claim: Option<(&str, &str)>) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "uid": format!("uid-{name}"),
            "resourceVersion": "42",
            "creationTimestamp": "2026-11-01T10:00:00Z",
            "finalizers": ["kubernetes.io/pv-protection"],
            "labels": {"topology": "zone-a"},
            "annotations": {"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"},
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}]
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": "10Gi"},
            "claimRef": claim.map(|(ns, n)| json!({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "namespace": ns, "name": n, "uid": format!("uid-{n}"),
                "resourceVersion": "7"
            })),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
            "hostPath": {"path": "/var/local-path/x", "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-1"]}
            ]}]}},
            "mountOptions": ["noatime"]
        },
        "status": {"phase": phase, "lastPhaseTransitionTime": "2026-11-02T10:00:00Z"}
    })
}

fn pvc_json(ns: &str, name: &str, phase: &str, volume: Option<&str>) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": format!("uid-{name}"),
            "resourceVersion": "7",
            "creationTimestamp": "2026-11-01T10:00:00Z",
            "finalizers": ["kubernetes.io/pvc-protection"],
            "labels": {"app": "db"},
            "annotations": {
                "volume.beta.kubernetes.io/storage-class": "standard",
                "kubectl.kubernetes.io/last-applied-configuration": "{}"
            }
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "10Gi"}, "limits": {"storage": "20Gi"}},
            "storageClassName": "standard",
            "volumeName": volume,
            "volumeMode": "Filesystem",
            "selector": {"matchLabels": {"tier": "fast"}},
            "dataSource": {"kind": "VolumeSnapshot", "name": "snap", "apiGroup": "x"}
        },
        "status": {
            "phase": phase,
            "capacity": {"storage": "10Gi"},
            "accessModes": ["ReadWriteOnce"],
            "conditions": [{"type": "Resizing", "status": "True"}]
        }
    })
}

fn lean_pv(v: &serde_json::Value) -> LeanPv {
    let mut p: LeanPv = serde_json::from_value(v.clone()).expect("a lean PV");
    strip_lean_pv(&mut p);
    p
}

fn typed_pv(v: &serde_json::Value) -> PersistentVolume {
    let mut p: PersistentVolume = serde_json::from_value(v.clone()).expect("a PV");
    strip_pv(&mut p);
    p
}

fn lean_pvc(v: &serde_json::Value) -> LeanPvc {
    let mut c: LeanPvc = serde_json::from_value(v.clone()).expect("a lean claim");
    strip_lean_pvc(&mut c);
    c
}

fn typed_pvc(v: &serde_json::Value) -> PersistentVolumeClaim {
    let mut c: PersistentVolumeClaim = serde_json::from_value(v.clone()).expect("a claim");
    strip_pvc(&mut c);
    c
}

#[test]
fn a_lean_pv_is_the_stripped_pv() {
    for v in [
        pv_json("pv-a", "Bound", Some(("db", "data-a"))),
        pv_json("pv-b", "Released", None),
        json!({"metadata": {"name": "bare"}}),
    ] {
        let lean = lean_pv(&v);
        assert_eq!(lean.to_pv(), typed_pv(&v), "{v}");
        assert_eq!(LeanPv::from_pv(&typed_pv(&v)), lean, "{v}");
        // The console's store keeps the compact form: the same PV for the rules, less the
        // resource version (the store keys by name; no row reads it).
        let mut want = typed_pv(&v);
        want.metadata.resource_version = None;
        assert_eq!(CompactPv::from(lean).typed().into_owned(), want, "{v}");
    }
    // What the stripped form keeps, to be sure the comparison above compares something.
    let pv = lean_pv(&pv_json("pv-a", "Bound", Some(("db", "data-a")))).to_pv();
    let spec = pv.spec.expect("a spec");
    assert_eq!(
        spec.persistent_volume_reclaim_policy.as_deref(),
        Some("Delete")
    );
    assert_eq!(
        spec.claim_ref.and_then(|c| c.name).as_deref(),
        Some("data-a")
    );
    assert!(spec.host_path.is_none() && spec.node_affinity.is_none());
    assert!(pv.metadata.managed_fields.is_none() && pv.metadata.labels.is_none());
}

#[test]
fn a_lean_claim_is_the_stripped_claim() {
    for v in [
        pvc_json("db", "data-a", "Bound", Some("pv-a")),
        pvc_json("db", "data-b", "Pending", None),
        json!({"metadata": {"name": "bare", "namespace": "x"}}),
        json!({"metadata": {
            "name": "going", "namespace": "x", "uid": "u-1",
            "deletionTimestamp": "2026-11-02T10:00:00Z",
            "finalizers": ["kubernetes.io/pvc-protection", "example.com/backup"],
            "annotations": {"other": "dropped"}
        }}),
    ] {
        let lean = lean_pvc(&v);
        assert_eq!(lean.to_pvc(), typed_pvc(&v), "{v}");
        assert_eq!(LeanPvc::from_pvc(&typed_pvc(&v)), lean, "{v}");
        let mut want = typed_pvc(&v);
        want.metadata.resource_version = None;
        let compact = CompactPvc::from(lean);
        assert_eq!(compact.typed().into_owned(), want, "{v}");
        assert_eq!(compact.name(), want.metadata.name.as_deref());
        assert_eq!(compact.namespace(), want.metadata.namespace.as_deref());
    }
    let c = lean_pvc(&pvc_json("db", "data-a", "Bound", Some("pv-a"))).to_pvc();
    assert_eq!(
        c.metadata
            .annotations
            .as_ref()
            .map(|a| a.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["volume.beta.kubernetes.io/storage-class".to_string()])
    );
    let spec = c.spec.expect("a spec");
    assert_eq!(spec.volume_name.as_deref(), Some("pv-a"));
    assert!(spec.selector.is_none() && spec.data_source.is_none());
    assert!(
        spec.resources.and_then(|r| r.limits).is_none(),
        "limits are not read"
    );
}

#[test]
fn lean_and_typed_objects_give_the_same_rows() {
    let pvs = [
        pv_json("pv-a", "Bound", Some(("db", "data-a"))),
        pv_json("pv-b", "Released", Some(("db", "gone"))),
        pv_json("pv-c", "Available", None),
    ];
    let pvcs = [
        pvc_json("db", "data-a", "Bound", Some("pv-a")),
        pvc_json("db", "data-b", "Pending", None),
        pvc_json("web", "cache", "Lost", Some("pv-missing")),
    ];
    let rules = PvcRules::default();
    let now: jiff::Timestamp = "2026-11-03T10:00:00Z".parse().expect("a time");
    let users = BTreeMap::new();
    let usage = UsageMap::default();
    let lean_pvs: Vec<Arc<LeanPv>> = pvs.iter().map(|v| Arc::new(lean_pv(v))).collect();
    let typed_pvs: Vec<Arc<PersistentVolume>> = pvs.iter().map(|v| Arc::new(typed_pv(v))).collect();
    let lean_pvcs: Vec<Arc<LeanPvc>> = pvcs.iter().map(|v| Arc::new(lean_pvc(v))).collect();
    let typed_pvcs: Vec<Arc<PersistentVolumeClaim>> =
        pvcs.iter().map(|v| Arc::new(typed_pvc(v))).collect();
    let compact_pvs: Vec<Arc<CompactPv>> =
        pvs.iter().map(|v| Arc::new(lean_pv(v).into())).collect();
    let compact_pvcs: Vec<Arc<CompactPvc>> =
        pvcs.iter().map(|v| Arc::new(lean_pvc(v).into())).collect();
    let lean_rows = build_rows(&lean_pvcs, &lean_pvs, &users, &usage, &rules, now);
    let typed_rows = build_rows(&typed_pvcs, &typed_pvs, &users, &usage, &rules, now);
    let compact_rows = build_rows(&compact_pvcs, &compact_pvs, &users, &usage, &rules, now);
    assert_eq!(lean_rows.len(), 3);
    assert_eq!(lean_rows, typed_rows);
    assert_eq!(compact_rows, typed_rows);
    assert_eq!(
        build_pv_rows(&lean_pvs, &rules, now),
        build_pv_rows(&typed_pvs, &rules, now)
    );
    assert_eq!(
        build_pv_rows(&compact_pvs, &rules, now),
        build_pv_rows(&typed_pvs, &rules, now)
    );
    // The bound claim found its PV through the lean store (its reclaim policy is known).
    let bound = lean_rows
        .iter()
        .find(|r| r.name == "data-a")
        .expect("data-a");
    assert_eq!(bound.volume.as_deref(), Some("pv-a"), "{bound:?}");
    assert_eq!(bound.reclaim_policy.as_deref(), Some("Delete"), "{bound:?}");
    // A row's short texts are inline: thousands of rows cost no allocation for each.
    let inline = |s: &ondeck::domain::pvcs::Short| !s.is_heap_allocated();
    assert!(inline(&bound.status));
    assert!(
        [
            &bound.phase,
            &bound.capacity,
            &bound.storage_class,
            &bound.reclaim_policy
        ]
        .into_iter()
        .all(|f| f.as_ref().is_some_and(inline)),
        "{bound:?}"
    );
    assert!(!bound.access_modes.is_empty() && bound.access_modes.iter().all(inline));
}

/// The PVC builder keeps a fingerprint of what it last sent instead of a copy of every row:
/// a change in what the pane shows changes it, the time of computation does not.
#[test]
fn the_content_fingerprint_follows_what_the_pane_shows() {
    use ondeck::domain::pods::{ApiHealth, NamespaceScope};
    use ondeck::domain::pvcs::PvcsSnapshot;
    use ondeck::sources::kube::pvcs::content_fingerprint;
    let rules = PvcRules::default();
    let now: jiff::Timestamp = "2026-11-03T10:00:00Z".parse().expect("a time");
    let pvs: Vec<Arc<LeanPv>> = vec![Arc::new(lean_pv(&pv_json(
        "pv-a",
        "Bound",
        Some(("db", "data-a")),
    )))];
    let pvcs: Vec<Arc<LeanPvc>> = vec![
        Arc::new(lean_pvc(&pvc_json("db", "data-a", "Bound", Some("pv-a")))),
        Arc::new(lean_pvc(&pvc_json("db", "data-b", "Pending", None))),
    ];
    let snap = |at: jiff::Timestamp| PvcsSnapshot {
        context: "sim".into(),
        server: "https://127.0.0.1:6443".into(),
        scope: NamespaceScope::All,
        rows: build_rows(
            &pvcs,
            &pvs,
            &BTreeMap::new(),
            &UsageMap::default(),
            &rules,
            now,
        ),
        pvs: build_pv_rows(&pvs, &rules, now),
        pv_error: None,
        storage_classes: Vec::new(),
        usage: Default::default(),
        api: ApiHealth {
            reachable: true,
            last_latency: None,
            last_error: None,
            last_contact: Some(at),
            reconnects: 0,
        },
        synced: true,
        at,
    };
    let a = snap(now);
    let later = snap(now + jiff::SignedDuration::from_secs(30));
    assert_eq!(content_fingerprint(&a), content_fingerprint(&later));
    let mut b = snap(now);
    b.rows[0].phase = Some("Lost".into());
    assert_ne!(content_fingerprint(&a), content_fingerprint(&b));
    let mut c = snap(now);
    c.pvs.clear();
    assert_ne!(content_fingerprint(&a), content_fingerprint(&c));
    let mut d = snap(now);
    d.api.reconnects = 1;
    assert_ne!(content_fingerprint(&a), content_fingerprint(&d));
    let mut e = snap(now);
    e.scope = NamespaceScope::One("db".into());
    assert_ne!(content_fingerprint(&a), content_fingerprint(&e));
}

/// The short texts a store keeps per object (phase, class, mode, access modes, the claim's
/// namespace) are inline: thousands of claims cost no allocation for each `Bound`.
#[test]
fn short_texts_of_a_stored_object_are_inline() {
    let pv = lean_pv(&pv_json("pv-a", "Released", Some(("db", "data-a"))));
    let spec = pv.spec.as_ref().expect("a spec");
    let inline = |s: &ondeck::sources::kube::pvcs::Short| !s.is_heap_allocated();
    assert_eq!(spec.storage_class_name.as_deref(), Some("standard"));
    assert!(spec.storage_class_name.iter().all(inline));
    assert!(spec.volume_mode.iter().all(inline));
    assert!(spec.persistent_volume_reclaim_policy.iter().all(inline));
    assert_eq!(
        spec.access_modes.as_deref().map(|m| m.len()),
        Some(1),
        "one access mode, no spare room"
    );
    assert!(spec.access_modes.iter().flatten().all(inline));
    let claim = spec.claim_ref.as_ref().expect("a claim reference");
    assert_eq!(claim.namespace.as_deref(), Some("db"));
    assert!(claim.namespace.iter().all(inline));
    let status = pv.status.as_ref().expect("a status");
    assert_eq!(status.phase.as_deref(), Some("Released"));
    assert!(status.phase.iter().all(inline));
    let pvc = lean_pvc(&pvc_json("db", "data-a", "Bound", Some("pv-a")));
    let st = pvc.status.as_ref().expect("a status");
    assert!(st.phase.iter().all(inline));
}
