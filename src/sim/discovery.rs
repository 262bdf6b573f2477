//! Discovery documents (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`) in the
//! plain (non-aggregated) form: kubectl 1.32 asks for aggregated discovery first and falls back
//! to this when the response's content type says it is plain JSON.

use super::resources::{ALL, ResourceInfo, verbs};
use serde_json::{Value, json};

/// Groups served besides the core group, with their resource lists.
const EXTRA_GROUPS: &[&str] = &[
    "storage.k8s.io",
    "authorization.k8s.io",
    "authentication.k8s.io",
    "networking.k8s.io",
    "admissionregistration.k8s.io",
    "apiregistration.k8s.io",
];

/// The groups served, with those of the installed CRDs (`crd_groups`).
fn served(group: &str, crd_groups: &[&str]) -> bool {
    EXTRA_GROUPS.contains(&group) || crd_groups.contains(&group)
}

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-ondeck-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn api_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]
    })
}

fn group_doc(group: &str) -> Value {
    let gv = format!("{group}/v1");
    json!({
        "name": group,
        "versions": [{"groupVersion": gv, "version": "v1"}],
        "preferredVersion": {"groupVersion": gv, "version": "v1"}
    })
}

pub fn api_group_list(crd_groups: &[&str]) -> Value {
    let groups: Vec<Value> = EXTRA_GROUPS
        .iter()
        .chain(crd_groups)
        .map(|g| group_doc(g))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn api_group(group: &str, crd_groups: &[&str]) -> Option<Value> {
    served(group, crd_groups).then(|| {
        let mut g = group_doc(group);
        if let Some(o) = g.as_object_mut() {
            o.insert("kind".into(), json!("APIGroup"));
            o.insert("apiVersion".into(), json!("v1"));
        }
        g
    })
}

fn resource_entries(r: &ResourceInfo) -> Vec<Value> {
    let mut out = vec![json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind_name,
        "verbs": verbs(),
        "shortNames": r.short_names,
    })];
    if r.has_status {
        out.push(json!({"name": format!("{}/status", r.plural), "singularName": "", "namespaced": r.namespaced, "kind": r.kind_name, "verbs": ["get", "patch", "update"]}));
    }
    if r.plural == "pods" {
        out.push(json!({"name": "pods/log", "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get"]}));
        out.push(json!({"name": "pods/exec", "singularName": "", "namespaced": true, "kind": "PodExecOptions", "verbs": ["create", "get"]}));
    }
    if r.plural == "nodes" {
        out.push(json!({"name": "nodes/proxy", "singularName": "", "namespaced": false, "kind": "NodeProxyOptions", "verbs": ["get"]}));
    }
    out
}

/// `APIResourceList` for a group version, or None when not served.
pub fn resource_list(group: &str, version: &str, crd_groups: &[&str]) -> Option<Value> {
    if version != "v1" || (!group.is_empty() && !served(group, crd_groups)) {
        return None;
    }
    let gv = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    let resources: Vec<Value> = match group {
        "authorization.k8s.io" => vec![json!({
            "name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview",
            "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"]
        })],
        "authentication.k8s.io" => vec![json!({
            "name": "selfsubjectreviews", "singularName": "selfsubjectreview",
            "namespaced": false, "kind": "SelfSubjectReview", "verbs": ["create"]
        })],
        _ => {
            let rs: Vec<Value> = ALL
                .iter()
                .filter(|r| r.group == group)
                .flat_map(resource_entries)
                .collect();
            if rs.is_empty() {
                return None;
            }
            rs
        }
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_lists_every_resource() {
        let core = resource_list("", "v1", &[]).unwrap_or_default();
        let names: Vec<&str> = core["resources"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["name"].as_str()).collect())
            .unwrap_or_default();
        for n in [
            "pods",
            "pods/log",
            "pods/exec",
            "persistentvolumeclaims",
            "persistentvolumes",
            "secrets",
            "events",
            "nodes",
            "namespaces",
        ] {
            assert!(names.contains(&n), "{n}");
        }
        assert!(resource_list("storage.k8s.io", "v1", &[]).is_some());
        assert!(resource_list("networking.k8s.io", "v1", &[]).is_some());
        assert!(resource_list("apps", "v1", &[]).is_none());
        assert!(api_group("authorization.k8s.io", &[]).is_some());
        // A CRD's group is served only while it is installed.
        assert!(resource_list("cert-manager.io", "v1", &[]).is_none());
        assert!(api_group("cert-manager.io", &[]).is_none());
        assert!(resource_list("cert-manager.io", "v1", &["cert-manager.io"]).is_some());
        let groups = api_group_list(&["cert-manager.io"]).to_string();
        assert!(groups.contains("cert-manager.io/v1"), "{groups}");
    }
}
