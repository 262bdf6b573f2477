//! Who the client is and what it may do: the bearer token, the user name, and the scenario's
//! permissions (allowed unless a deny rule matches), plus the `forbid=` fault.

use super::status::{ApiError, qualified};
use serde::Deserialize;
use serde_json::json;

/// A rule that denies verbs on resources, optionally only in some namespaces.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DenyRule {
    /// Verbs (`delete`, `patch`, `*`).
    pub verbs: Vec<String>,
    /// Resources (`persistentvolumeclaims`, `pods/exec`, `*`).
    pub resources: Vec<String>,
    /// Namespaces; empty means every namespace and cluster scope.
    #[serde(default)]
    pub namespaces: Vec<String>,
}

/// The simulated user's identity and permissions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Permissions {
    #[serde(default = "default_user")]
    pub user: String,
    #[serde(default = "default_groups")]
    pub groups: Vec<String>,
    #[serde(default)]
    pub deny: Vec<DenyRule>,
}

fn default_user() -> String {
    "ondeck-sim-admin".to_string()
}

fn default_groups() -> Vec<String> {
    vec![
        "system:masters".to_string(),
        "system:authenticated".to_string(),
    ]
}

impl Default for Permissions {
    fn default() -> Self {
        Permissions {
            user: default_user(),
            groups: default_groups(),
            deny: Vec::new(),
        }
    }
}

impl Permissions {
    /// `resource` may carry a subresource (`pods/log`).
    pub fn allows(&self, verb: &str, resource: &str, namespace: Option<&str>) -> bool {
        !self.deny.iter().any(|r| {
            r.verbs.iter().any(|v| v == verb || v == "*")
                && r.resources.iter().any(|x| x == resource || x == "*")
                && (r.namespaces.is_empty()
                    || namespace.is_some_and(|ns| r.namespaces.iter().any(|n| n == ns)))
        })
    }
}

/// The 403 the real RBAC authorizer returns, word for word.
pub fn forbidden(
    user: &str,
    verb: &str,
    plural: &str,
    group: &str,
    subresource: Option<&str>,
    namespace: Option<&str>,
    name: Option<&str>,
) -> ApiError {
    let res = match subresource {
        Some(s) => format!("{plural}/{s}"),
        None => plural.to_string(),
    };
    // As the apiserver words it: the object is the resource without its subresource
    // (`pods "x" is forbidden: ... cannot create resource "pods/exec" ...`).
    let what = match name {
        Some(n) => format!("{} \"{n}\"", qualified(plural, group)),
        None => qualified(plural, group),
    };
    let scope = match namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    ApiError::new(
        403,
        "Forbidden",
        format!("{what} is forbidden: User \"{user}\" cannot {verb} resource \"{res}\" in API group \"{group}\" {scope}"),
    )
    .with_details(json!({"name": name.unwrap_or(""), "group": group, "kind": plural}))
}

/// Constant-time comparison of the presented bearer token.
pub fn token_matches(header: Option<&str>, token: &str) -> bool {
    let Some(presented) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (presented.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_message_matches_rbac() {
        let e = forbidden(
            "alice",
            "delete",
            "persistentvolumeclaims",
            "",
            None,
            Some("monitoring"),
            Some("grafana-data"),
        );
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "persistentvolumeclaims \"grafana-data\" is forbidden: User \"alice\" cannot delete resource \"persistentvolumeclaims\" in API group \"\" in the namespace \"monitoring\""
        );
        let e = forbidden(
            "bob",
            "list",
            "storageclasses",
            "storage.k8s.io",
            None,
            None,
            None,
        );
        assert!(e.message.ends_with("at the cluster scope"), "{}", e.message);
    }

    #[test]
    fn deny_rules_scope() {
        let p = Permissions {
            deny: vec![DenyRule {
                verbs: vec!["delete".into()],
                resources: vec!["persistentvolumeclaims".into()],
                namespaces: vec!["prod".into()],
            }],
            ..Permissions::default()
        };
        assert!(!p.allows("delete", "persistentvolumeclaims", Some("prod")));
        assert!(p.allows("delete", "persistentvolumeclaims", Some("dev")));
        assert!(p.allows("get", "persistentvolumeclaims", Some("prod")));
    }

    #[test]
    fn token_check() {
        assert!(token_matches(Some("Bearer abc"), "abc"));
        assert!(!token_matches(Some("Bearer abd"), "abc"));
        assert!(!token_matches(None, "abc"));
        assert!(!token_matches(Some("Basic abc"), "abc"));
    }
}
