//! The resource types the simulated cluster serves: names, groups, scope, verbs, and the
//! round trip through the k8s-openapi types that keeps stored JSON real Kubernetes JSON.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::core::v1::{
    Event, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota, Secret,
};
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use serde_json::Value;

/// A stored resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    Node,
    Pod,
    Event,
    PersistentVolumeClaim,
    PersistentVolume,
    StorageClass,
    Secret,
    ResourceQuota,
    Ingress,
    /// cert-manager's `Certificate`: a CRD, served only when the scenario has any (a cluster
    /// without cert-manager answers 404 for it).
    Certificate,
    ValidatingWebhookConfiguration,
    MutatingWebhookConfiguration,
    ApiService,
}

/// Static facts about a resource type, as discovery reports them.
#[derive(Debug, Clone, Copy)]
pub struct ResourceInfo {
    pub kind: Kind,
    pub kind_name: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Has a `/status` subresource (status is ignored on the main resource).
    pub has_status: bool,
}

impl ResourceInfo {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

pub fn verbs() -> &'static [&'static str] {
    VERBS
}

pub const ALL: &[ResourceInfo] = &[
    ResourceInfo {
        kind: Kind::Namespace,
        kind_name: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        group: "",
        version: "v1",
        namespaced: false,
        short_names: &["ns"],
        has_status: true,
    },
    ResourceInfo {
        kind: Kind::Node,
        kind_name: "Node",
        plural: "nodes",
        singular: "node",
        group: "",
        version: "v1",
        namespaced: false,
        short_names: &["no"],
        has_status: true,
    },
    ResourceInfo {
        kind: Kind::Pod,
        kind_name: "Pod",
        plural: "pods",
        singular: "pod",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["po"],
        has_status: true,
    },
    ResourceInfo {
        kind: Kind::Event,
        kind_name: "Event",
        plural: "events",
        singular: "event",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["ev"],
        has_status: false,
    },
    ResourceInfo {
        kind: Kind::PersistentVolumeClaim,
        kind_name: "PersistentVolumeClaim",
        plural: "persistentvolumeclaims",
        singular: "persistentvolumeclaim",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["pvc"],
        has_status: true,
    },
    ResourceInfo {
        kind: Kind::PersistentVolume,
        kind_name: "PersistentVolume",
        plural: "persistentvolumes",
        singular: "persistentvolume",
        group: "",
        version: "v1",
        namespaced: false,
        short_names: &["pv"],
        has_status: true,
    },
    ResourceInfo {
        kind: Kind::StorageClass,
        kind_name: "StorageClass",
        plural: "storageclasses",
        singular: "storageclass",
        group: "storage.k8s.io",
        version: "v1",
        namespaced: false,
        short_names: &["sc"],
        has_status: false,
    },
    ResourceInfo {
        kind: Kind::Secret,
        kind_name: "Secret",
        plural: "secrets",
        singular: "secret",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &[],
        has_status: false,
    },
    ResourceInfo {
        kind: Kind::ResourceQuota,
        kind_name: "ResourceQuota",
        plural: "resourcequotas",
        singular: "resourcequota",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["quota"],
        has_status: true,
    },
    ResourceInfo {
        kind: Kind::Ingress,
        kind_name: "Ingress",
        plural: "ingresses",
        singular: "ingress",
        group: "networking.k8s.io",
        version: "v1",
        namespaced: true,
        short_names: &["ing"],
        has_status: true,
    },
    ResourceInfo {
        kind: Kind::Certificate,
        kind_name: "Certificate",
        plural: "certificates",
        singular: "certificate",
        group: "cert-manager.io",
        version: "v1",
        namespaced: true,
        short_names: &["cert", "certs"],
        has_status: true,
    },
    ResourceInfo {
        kind: Kind::ValidatingWebhookConfiguration,
        kind_name: "ValidatingWebhookConfiguration",
        plural: "validatingwebhookconfigurations",
        singular: "validatingwebhookconfiguration",
        group: "admissionregistration.k8s.io",
        version: "v1",
        namespaced: false,
        short_names: &[],
        has_status: false,
    },
    ResourceInfo {
        kind: Kind::MutatingWebhookConfiguration,
        kind_name: "MutatingWebhookConfiguration",
        plural: "mutatingwebhookconfigurations",
        singular: "mutatingwebhookconfiguration",
        group: "admissionregistration.k8s.io",
        version: "v1",
        namespaced: false,
        short_names: &[],
        has_status: false,
    },
    ResourceInfo {
        kind: Kind::ApiService,
        kind_name: "APIService",
        plural: "apiservices",
        singular: "apiservice",
        group: "apiregistration.k8s.io",
        version: "v1",
        namespaced: false,
        short_names: &[],
        has_status: true,
    },
];

impl Kind {
    pub fn info(self) -> &'static ResourceInfo {
        // ALL is indexed in declaration order of `Kind`.
        &ALL[self as usize]
    }

    /// Finds a resource by group and plural (`""`, `"pods"`).
    pub fn from_plural(group: &str, plural: &str) -> Option<Kind> {
        ALL.iter()
            .find(|r| r.group == group && r.plural == plural)
            .map(|r| r.kind)
    }

    /// A custom resource (served only while its CRD is installed).
    pub fn is_crd(self) -> bool {
        self == Kind::Certificate
    }

    /// Deserializes into the k8s-openapi type and back, so that stored JSON has exactly the
    /// fields Kubernetes knows (unknown fields are dropped, as the apiserver prunes them).
    pub fn normalize(self, value: Value) -> Result<Value, String> {
        fn rt<T: serde::de::DeserializeOwned + serde::Serialize>(
            v: Value,
        ) -> Result<Value, String> {
            let typed: T = serde_json::from_value(v).map_err(|e| e.to_string())?;
            serde_json::to_value(typed).map_err(|e| e.to_string())
        }
        match self {
            Kind::Namespace => rt::<Namespace>(value),
            Kind::Node => rt::<Node>(value),
            Kind::Pod => rt::<Pod>(value),
            Kind::Event => rt::<Event>(value),
            Kind::PersistentVolumeClaim => rt::<PersistentVolumeClaim>(value),
            Kind::PersistentVolume => rt::<PersistentVolume>(value),
            Kind::StorageClass => rt::<StorageClass>(value),
            Kind::Secret => rt::<Secret>(value),
            Kind::ResourceQuota => rt::<ResourceQuota>(value),
            Kind::Ingress => rt::<Ingress>(value),
            Kind::ValidatingWebhookConfiguration => rt::<ValidatingWebhookConfiguration>(value),
            Kind::MutatingWebhookConfiguration => rt::<MutatingWebhookConfiguration>(value),
            Kind::ApiService => rt::<APIService>(value),
            Kind::Certificate => certificate(value),
        }
    }
}

/// cert-manager's CRD schema, as far as the simulated cluster checks it: `spec.secretName`
/// and `spec.issuerRef.name` are required strings (the apiserver's structural-schema
/// validation refuses the object otherwise); the rest is kept as sent.
fn certificate(mut v: Value) -> Result<Value, String> {
    if !v.is_object() {
        return Err("a Certificate must be a JSON object".into());
    }
    if !v.get("metadata").is_some_and(Value::is_object) {
        return Err("metadata: Required value".into());
    }
    for (ptr, field) in [
        ("/spec/secretName", "spec.secretName"),
        ("/spec/issuerRef/name", "spec.issuerRef.name"),
    ] {
        if !v.pointer(ptr).is_some_and(Value::is_string) {
            return Err(format!("{field}: Required value"));
        }
    }
    if let Some(st) = v.get("status")
        && !st.is_object()
        && !st.is_null()
    {
        return Err("status: must be an object".into());
    }
    v["apiVersion"] = Value::String("cert-manager.io/v1".into());
    v["kind"] = Value::String("Certificate".into());
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order() {
        for (i, r) in ALL.iter().enumerate() {
            assert_eq!(r.kind as usize, i, "{}", r.plural);
            assert_eq!(r.kind.info().plural, r.plural);
        }
    }

    #[test]
    fn normalize_drops_unknown_fields_and_sets_kind() {
        let v =
            serde_json::json!({"metadata": {"name": "a"}, "bogus": 1, "spec": {"containers": []}});
        let out = Kind::Pod.normalize(v).unwrap_or_default();
        assert_eq!(out["kind"], "Pod");
        assert_eq!(out["apiVersion"], "v1");
        assert!(out.get("bogus").is_none());
    }

    #[test]
    fn normalize_rejects_wrong_types() {
        let v = serde_json::json!({"metadata": {"name": 5}});
        assert!(Kind::Pod.normalize(v).is_err());
    }
}
