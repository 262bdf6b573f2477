//! What the PVC source keeps of claims, PVs and StorageClasses between lists: lean forms
//! decoded straight from the list and watch ([`LeanPvc`], [`LeanPv`]: only the fields the pane
//! reads), the compact forms the console's store keeps of them ([`CompactPvc`], [`CompactPv`]:
//! the same without a typed `ObjectMeta`), the strip functions that give the typed forms the
//! same fields, and the [`PvcLike`] / [`PvLike`] views the row builder reads any of them
//! through.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimStatus, PersistentVolumeSpec, VolumeResourceRequirements,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::domain::pvcs::StorageClassInfo;

const DEFAULT_CLASS_ANNOTATIONS: &[&str] = &[
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];
const BETA_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

fn keep_annotations(m: &ObjectMeta, keep: &[&str]) -> Option<BTreeMap<String, String>> {
    let a: BTreeMap<String, String> = m
        .annotations
        .as_ref()?
        .iter()
        .filter(|(k, _)| keep.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!a.is_empty()).then_some(a)
}

fn lean_meta(m: &ObjectMeta, keep: &[&str]) -> ObjectMeta {
    ObjectMeta {
        name: m.name.clone(),
        namespace: m.namespace.clone(),
        uid: m.uid.clone(),
        resource_version: m.resource_version.clone(),
        creation_timestamp: m.creation_timestamp.clone(),
        deletion_timestamp: m.deletion_timestamp.clone(),
        finalizers: m.finalizers.clone(),
        annotations: keep_annotations(m, keep),
        ..Default::default()
    }
}

/// Keeps what the PVC pane uses (drops managedFields, labels, most annotations, dataSource...).
pub fn strip_pvc(c: &mut PersistentVolumeClaim) {
    c.metadata = lean_meta(&c.metadata, &[BETA_CLASS_ANNOTATION]);
    c.spec = c.spec.as_ref().map(|s| PersistentVolumeClaimSpec {
        access_modes: s.access_modes.clone(),
        resources: s.resources.as_ref().map(|r| VolumeResourceRequirements {
            requests: r.requests.clone(),
            ..Default::default()
        }),
        storage_class_name: s.storage_class_name.clone(),
        volume_name: s.volume_name.clone(),
        volume_mode: s.volume_mode.clone(),
        ..Default::default()
    });
    c.status = c.status.as_ref().map(|s| PersistentVolumeClaimStatus {
        phase: s.phase.clone(),
        capacity: s.capacity.clone(),
        access_modes: s.access_modes.clone(),
        ..Default::default()
    });
}

/// Keeps what the PV view uses (drops the volume source, node affinity, managedFields...).
pub fn strip_pv(p: &mut PersistentVolume) {
    p.metadata = lean_meta(&p.metadata, &[]);
    p.spec = p.spec.as_ref().map(|s| PersistentVolumeSpec {
        access_modes: s.access_modes.clone(),
        capacity: s.capacity.clone(),
        claim_ref: s
            .claim_ref
            .as_ref()
            .map(|c| k8s_openapi::api::core::v1::ObjectReference {
                namespace: c.namespace.clone(),
                name: c.name.clone(),
                uid: c.uid.clone(),
                ..Default::default()
            }),
        persistent_volume_reclaim_policy: s.persistent_volume_reclaim_policy.clone(),
        storage_class_name: s.storage_class_name.clone(),
        volume_mode: s.volume_mode.clone(),
        ..Default::default()
    });
}

/// A PersistentVolume as the PVC source keeps it between lists: decoded straight from the list
/// and watch with only the fields [`strip_pv`] keeps. A typed `PersistentVolume` carries every
/// volume source inline (kilobytes per object even when stripped); this is a few hundred bytes.
/// [`LeanPv::to_pv`] gives the rules a short-lived typed one, equal to the stripped object.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct LeanPv {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<LeanPvSpec>,
    #[serde(default)]
    pub status: Option<LeanPvStatus>,
}

/// Short text a claim or PV keeps (a phase, a class, an access mode, a namespace): inline up
/// to 24 bytes, so the thousands of `Bound`, `standard`, `Filesystem` and `RWO` in a store
/// cost no allocation each (a heap string costs a 32-byte chunk however short).
pub type Short = compact_str::CompactString;
/// A list of short texts (access modes), exactly as long as it is.
pub type Shorts = Option<Box<[Short]>>;

fn short(s: Option<String>) -> Option<Short> {
    s.map(Short::from)
}

fn shorts(v: Option<Vec<String>>) -> Shorts {
    v.map(|v| v.into_iter().map(Short::from).collect())
}

fn long(s: &Option<Short>) -> Option<String> {
    s.as_ref().map(Short::to_string)
}

fn longs(v: &Shorts) -> Option<Vec<String>> {
    v.as_ref().map(|v| v.iter().map(Short::to_string).collect())
}

/// The claim a PV is bound to: what [`strip_pv`] keeps of its `claimRef`.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct LeanClaimRef {
    #[serde(default)]
    pub namespace: Option<Short>,
    #[serde(default)]
    pub name: Option<Short>,
    #[serde(default)]
    pub uid: Option<Short>,
}

impl LeanClaimRef {
    fn from_ref(c: k8s_openapi::api::core::v1::ObjectReference) -> LeanClaimRef {
        LeanClaimRef {
            namespace: short(c.namespace),
            name: short(c.name),
            uid: short(c.uid),
        }
    }

    fn to_ref(&self) -> k8s_openapi::api::core::v1::ObjectReference {
        k8s_openapi::api::core::v1::ObjectReference {
            namespace: long(&self.namespace),
            name: long(&self.name),
            uid: long(&self.uid),
            ..Default::default()
        }
    }
}

/// A PV's status as the API sends it (every field: [`strip_pv`] keeps the status whole).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeanPvStatus {
    #[serde(default)]
    pub last_phase_transition_time: Option<Time>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub phase: Option<Short>,
    #[serde(default)]
    pub reason: Option<Short>,
}

impl LeanPvStatus {
    fn from_status(s: k8s_openapi::api::core::v1::PersistentVolumeStatus) -> LeanPvStatus {
        LeanPvStatus {
            last_phase_transition_time: s.last_phase_transition_time,
            message: s.message,
            phase: short(s.phase),
            reason: short(s.reason),
        }
    }

    fn to_status(&self) -> k8s_openapi::api::core::v1::PersistentVolumeStatus {
        k8s_openapi::api::core::v1::PersistentVolumeStatus {
            last_phase_transition_time: self.last_phase_transition_time.clone(),
            message: self.message.clone(),
            phase: long(&self.phase),
            reason: long(&self.reason),
        }
    }
}

/// The part of a PV's spec the PV view and the claims' rows read.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeanPvSpec {
    #[serde(default)]
    pub access_modes: Shorts,
    #[serde(default)]
    pub capacity: Quantities,
    #[serde(default)]
    pub claim_ref: Option<LeanClaimRef>,
    #[serde(default)]
    pub persistent_volume_reclaim_policy: Option<Short>,
    #[serde(default)]
    pub storage_class_name: Option<Short>,
    #[serde(default)]
    pub volume_mode: Option<Short>,
}

impl k8s_openapi::Resource for LeanPv {
    const API_VERSION: &'static str = "v1";
    const GROUP: &'static str = "";
    const KIND: &'static str = "PersistentVolume";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "persistentvolumes";
    type Scope = k8s_openapi::ClusterResourceScope;
}

impl k8s_openapi::Metadata for LeanPv {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl LeanPv {
    /// The lean form of a (full or stripped) PV.
    pub fn from_pv(p: &PersistentVolume) -> LeanPv {
        let mut p = p.clone();
        strip_pv(&mut p);
        LeanPv {
            metadata: p.metadata,
            spec: p.spec.map(|s| LeanPvSpec {
                access_modes: shorts(s.access_modes),
                capacity: s.capacity.as_ref().map(LeanQuantities::from_map),
                claim_ref: s.claim_ref.map(LeanClaimRef::from_ref),
                persistent_volume_reclaim_policy: short(s.persistent_volume_reclaim_policy),
                storage_class_name: short(s.storage_class_name),
                volume_mode: short(s.volume_mode),
            }),
            status: p.status.map(LeanPvStatus::from_status),
        }
    }

    /// The stripped typed PV (what [`strip_pv`] leaves of the object listed).
    pub fn to_pv(&self) -> PersistentVolume {
        typed_pv(
            self.metadata.clone(),
            self.spec.as_ref(),
            self.status.as_ref(),
        )
    }
}

/// The typed PV of these lean parts.
fn typed_pv(
    metadata: ObjectMeta,
    spec: Option<&LeanPvSpec>,
    status: Option<&LeanPvStatus>,
) -> PersistentVolume {
    PersistentVolume {
        metadata,
        spec: spec.map(|s| PersistentVolumeSpec {
            access_modes: longs(&s.access_modes),
            capacity: s.capacity.as_ref().map(LeanQuantities::to_map),
            claim_ref: s.claim_ref.as_ref().map(LeanClaimRef::to_ref),
            persistent_volume_reclaim_policy: long(&s.persistent_volume_reclaim_policy),
            storage_class_name: long(&s.storage_class_name),
            volume_mode: long(&s.volume_mode),
            ..Default::default()
        }),
        status: status.map(LeanPvStatus::to_status),
    }
}

/// [`strip_pv`] for the lean form: the metadata trimmed the same way (the claim reference
/// keeps only namespace, name and uid as it is decoded).
pub fn strip_lean_pv(p: &mut LeanPv) {
    p.metadata = lean_meta(&p.metadata, &[]);
}

/// A claim as the PVC source keeps it between lists: decoded straight from the list and watch
/// with only the fields [`strip_pvc`] keeps (a typed claim keeps room inline for every field
/// of its spec and status). [`LeanPvc::to_pvc`] gives the rules a short-lived typed one, equal
/// to the stripped object.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct LeanPvc {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<LeanPvcSpec>,
    #[serde(default)]
    pub status: Option<LeanPvcStatus>,
}

type Quantity = k8s_openapi::apimachinery::pkg::api::resource::Quantity;
type Quantities = Option<LeanQuantities>;

/// A resource list (`{"storage": "10Gi"}`) as a boxed slice: a `BTreeMap` allocates a whole
/// B-tree leaf (over 500 bytes) for its one entry, once per claim and per PV.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeanQuantities(Box<[(Box<str>, Quantity)]>);

impl LeanQuantities {
    pub fn from_map(m: &BTreeMap<String, Quantity>) -> LeanQuantities {
        LeanQuantities(
            m.iter()
                .map(|(k, v)| (k.as_str().into(), v.clone()))
                .collect(),
        )
    }

    pub fn to_map(&self) -> BTreeMap<String, Quantity> {
        self.0
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}

impl<'de> serde::Deserialize<'de> for LeanQuantities {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, Quantity>::deserialize(d)?;
        Ok(LeanQuantities::from_map(&m))
    }
}

/// The part of a claim's spec the pane reads.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeanPvcSpec {
    #[serde(default)]
    pub access_modes: Shorts,
    #[serde(default)]
    pub resources: Option<LeanRequests>,
    #[serde(default)]
    pub storage_class_name: Option<Short>,
    #[serde(default)]
    pub volume_name: Option<Short>,
    #[serde(default)]
    pub volume_mode: Option<Short>,
}

/// A claim's `resources`: the requests only.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct LeanRequests {
    #[serde(default)]
    pub requests: Quantities,
}

/// The part of a claim's status the pane reads.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeanPvcStatus {
    #[serde(default)]
    pub phase: Option<Short>,
    #[serde(default)]
    pub capacity: Quantities,
    #[serde(default)]
    pub access_modes: Shorts,
}

impl k8s_openapi::Resource for LeanPvc {
    const API_VERSION: &'static str = "v1";
    const GROUP: &'static str = "";
    const KIND: &'static str = "PersistentVolumeClaim";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "persistentvolumeclaims";
    type Scope = k8s_openapi::NamespaceResourceScope;
}

impl k8s_openapi::Metadata for LeanPvc {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl LeanPvc {
    /// The lean form of a (full or stripped) claim.
    pub fn from_pvc(c: &PersistentVolumeClaim) -> LeanPvc {
        let mut c = c.clone();
        strip_pvc(&mut c);
        LeanPvc {
            metadata: c.metadata,
            spec: c.spec.map(|s| LeanPvcSpec {
                access_modes: shorts(s.access_modes),
                resources: s.resources.map(|r| LeanRequests {
                    requests: r.requests.as_ref().map(LeanQuantities::from_map),
                }),
                storage_class_name: short(s.storage_class_name),
                volume_name: short(s.volume_name),
                volume_mode: short(s.volume_mode),
            }),
            status: c.status.map(|s| LeanPvcStatus {
                phase: short(s.phase),
                capacity: s.capacity.as_ref().map(LeanQuantities::from_map),
                access_modes: shorts(s.access_modes),
            }),
        }
    }

    /// The stripped typed claim (what [`strip_pvc`] leaves of the object listed).
    pub fn to_pvc(&self) -> PersistentVolumeClaim {
        typed_pvc(
            self.metadata.clone(),
            self.spec.as_ref(),
            self.status.as_ref(),
        )
    }
}

/// The typed claim of these lean parts.
fn typed_pvc(
    metadata: ObjectMeta,
    spec: Option<&LeanPvcSpec>,
    status: Option<&LeanPvcStatus>,
) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata,
        spec: spec.map(|s| PersistentVolumeClaimSpec {
            access_modes: longs(&s.access_modes),
            resources: s.resources.as_ref().map(|r| VolumeResourceRequirements {
                requests: r.requests.as_ref().map(LeanQuantities::to_map),
                ..Default::default()
            }),
            storage_class_name: long(&s.storage_class_name),
            volume_name: long(&s.volume_name),
            volume_mode: long(&s.volume_mode),
            ..Default::default()
        }),
        status: status.map(|s| PersistentVolumeClaimStatus {
            phase: long(&s.phase),
            capacity: s.capacity.as_ref().map(LeanQuantities::to_map),
            access_modes: longs(&s.access_modes),
            ..Default::default()
        }),
    }
}

/// [`strip_pvc`] for the lean form: the metadata trimmed the same way.
pub fn strip_lean_pvc(c: &mut LeanPvc) {
    c.metadata = lean_meta(&c.metadata, &[BETA_CLASS_ANNOTATION]);
}

/// A claim as the row builder reads it: a typed one (`check`'s list, tests), a lean one, or
/// the console's compact one (inflated for the rules one at a time).
pub trait PvcLike {
    fn namespace(&self) -> Option<&str>;
    fn name(&self) -> Option<&str>;
    fn volume_name(&self) -> Option<&str>;
    fn typed(&self) -> std::borrow::Cow<'_, PersistentVolumeClaim>;
}

impl PvcLike for PersistentVolumeClaim {
    fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }

    fn name(&self) -> Option<&str> {
        self.metadata.name.as_deref()
    }

    fn volume_name(&self) -> Option<&str> {
        self.spec.as_ref().and_then(|s| s.volume_name.as_deref())
    }

    fn typed(&self) -> std::borrow::Cow<'_, PersistentVolumeClaim> {
        std::borrow::Cow::Borrowed(self)
    }
}

impl PvcLike for LeanPvc {
    fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }

    fn name(&self) -> Option<&str> {
        self.metadata.name.as_deref()
    }

    fn volume_name(&self) -> Option<&str> {
        self.spec.as_ref().and_then(|s| s.volume_name.as_deref())
    }

    fn typed(&self) -> std::borrow::Cow<'_, PersistentVolumeClaim> {
        std::borrow::Cow::Owned(self.to_pvc())
    }
}

/// A PV as the row builders read it: a typed one (`check`'s list, tests) or the console's lean
/// one (inflated for the rules one at a time, never all at once).
pub trait PvLike {
    fn pv_name(&self) -> Option<&str>;
    fn typed(&self) -> std::borrow::Cow<'_, PersistentVolume>;
}

impl PvLike for PersistentVolume {
    fn pv_name(&self) -> Option<&str> {
        self.metadata.name.as_deref()
    }

    fn typed(&self) -> std::borrow::Cow<'_, PersistentVolume> {
        std::borrow::Cow::Borrowed(self)
    }
}

impl PvLike for LeanPv {
    fn pv_name(&self) -> Option<&str> {
        self.metadata.name.as_deref()
    }

    fn typed(&self) -> std::borrow::Cow<'_, PersistentVolume> {
        std::borrow::Cow::Owned(self.to_pv())
    }
}

/// The metadata a claim's or PV's row reads (what [`lean_meta`] keeps, the resource version
/// aside: the store keys objects by name), without a typed `ObjectMeta`'s room for every
/// field (some 350 bytes per object, most of them empty options).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeptMeta {
    pub name: Option<Arc<str>>,
    pub namespace: Option<Arc<str>>,
    pub uid: Option<Box<str>>,
    pub created: Option<Time>,
    pub deleted: Option<Time>,
    pub finalizers: Option<Box<[String]>>,
    pub annotations: Option<Box<[Annotation]>>,
}

type Time = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
/// A kept annotation: key and value.
type Annotation = (Box<str>, Box<str>);

impl KeptMeta {
    /// What [`lean_meta`] would keep of `m` (its annotations filtered by `keep`).
    fn of(m: ObjectMeta, keep: &[&str]) -> KeptMeta {
        let annotations = keep_annotations(&m, keep).map(|a| {
            a.into_iter()
                .map(|(k, v)| (k.into_boxed_str(), v.into_boxed_str()))
                .collect::<Box<[_]>>()
        });
        KeptMeta {
            name: m.name.map(Arc::from),
            namespace: m.namespace.map(Arc::from),
            uid: m.uid.map(String::into_boxed_str),
            created: m.creation_timestamp,
            deleted: m.deletion_timestamp,
            finalizers: m.finalizers.map(Vec::into_boxed_slice),
            annotations,
        }
    }

    /// The typed metadata [`lean_meta`] gives (without the resource version).
    fn to_meta(&self) -> ObjectMeta {
        ObjectMeta {
            name: self.name.as_deref().map(str::to_string),
            namespace: self.namespace.as_deref().map(str::to_string),
            uid: self.uid.as_deref().map(str::to_string),
            creation_timestamp: self.created.clone(),
            deletion_timestamp: self.deleted.clone(),
            finalizers: self.finalizers.as_deref().map(<[String]>::to_vec),
            annotations: self.annotations.as_ref().map(|a| {
                a.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }),
            ..Default::default()
        }
    }
}

/// A claim as the console's store keeps it between lists: the lean claim with its metadata
/// kept as [`KeptMeta`], so no typed k8s-openapi object (not even its `ObjectMeta`) is
/// retained. [`PvcLike::typed`] inflates it for the rules one claim at a time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompactPvc {
    pub meta: KeptMeta,
    pub spec: Option<LeanPvcSpec>,
    pub status: Option<LeanPvcStatus>,
}

impl From<LeanPvc> for CompactPvc {
    fn from(c: LeanPvc) -> CompactPvc {
        CompactPvc {
            meta: KeptMeta::of(c.metadata, &[BETA_CLASS_ANNOTATION]),
            spec: c.spec,
            status: c.status,
        }
    }
}

impl PvcLike for CompactPvc {
    fn namespace(&self) -> Option<&str> {
        self.meta.namespace.as_deref()
    }

    fn name(&self) -> Option<&str> {
        self.meta.name.as_deref()
    }

    fn volume_name(&self) -> Option<&str> {
        self.spec.as_ref().and_then(|s| s.volume_name.as_deref())
    }

    fn typed(&self) -> std::borrow::Cow<'_, PersistentVolumeClaim> {
        std::borrow::Cow::Owned(typed_pvc(
            self.meta.to_meta(),
            self.spec.as_ref(),
            self.status.as_ref(),
        ))
    }
}

/// A PV as the console's store keeps it: [`LeanPv`] with its metadata as [`KeptMeta`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompactPv {
    pub meta: KeptMeta,
    pub spec: Option<LeanPvSpec>,
    pub status: Option<LeanPvStatus>,
}

impl From<LeanPv> for CompactPv {
    fn from(p: LeanPv) -> CompactPv {
        CompactPv {
            meta: KeptMeta::of(p.metadata, &[]),
            spec: p.spec,
            status: p.status,
        }
    }
}

impl PvLike for CompactPv {
    fn pv_name(&self) -> Option<&str> {
        self.meta.name.as_deref()
    }

    fn typed(&self) -> std::borrow::Cow<'_, PersistentVolume> {
        std::borrow::Cow::Owned(typed_pv(
            self.meta.to_meta(),
            self.spec.as_ref(),
            self.status.as_ref(),
        ))
    }
}

pub fn strip_storage_class(c: &mut StorageClass) {
    c.metadata = lean_meta(&c.metadata, DEFAULT_CLASS_ANNOTATIONS);
    c.parameters = None;
    c.mount_options = None;
    c.allowed_topologies = None;
}

/// The StorageClass as the detail view and the plan show it.
pub fn storage_class_info(c: &StorageClass) -> StorageClassInfo {
    let is_default = c.metadata.annotations.as_ref().is_some_and(|a| {
        DEFAULT_CLASS_ANNOTATIONS
            .iter()
            .any(|k| a.get(*k).is_some_and(|v| v == "true"))
    });
    StorageClassInfo {
        name: c.metadata.name.clone().unwrap_or_default(),
        provisioner: c.provisioner.clone(),
        reclaim_policy: c
            .reclaim_policy
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "Delete".into()),
        volume_binding_mode: c.volume_binding_mode.clone(),
        allow_volume_expansion: c.allow_volume_expansion.unwrap_or(false),
        is_default,
    }
}
