//! Validating admission the simulated API server applies on create, worded as the real
//! plugins word it: ResourceQuota (claims and storage per namespace) and Pod Security admission
//! (the namespace's `pod-security.kubernetes.io/enforce` label: `privileged`, `baseline`,
//! `restricted`). Also the quota controller's status (`status.hard`, `status.used`).

use super::resources::Kind;
use super::status::ApiError;
use super::store::{Inner, meta_str};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";

/// Runs the admission plugins for a new object `v` of `kind` in `ns`.
pub fn admit_create(
    s: &Inner,
    kind: Kind,
    ns: &str,
    name: &str,
    v: &Value,
) -> Result<(), ApiError> {
    match kind {
        Kind::PersistentVolumeClaim => quota(s, ns, name, v),
        Kind::Pod => pod_security(s, ns, name, v),
        _ => Ok(()),
    }
}

// ---- ResourceQuota ------------------------------------------------------------------------

/// What a claim counts for, per quota resource name.
fn claim_usage(claim: &Value) -> BTreeMap<String, u64> {
    let class = claim
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let bytes = claim
        .pointer("/spec/resources/requests/storage")
        .and_then(Value::as_str)
        .and_then(super::faults::parse_bytes)
        .unwrap_or(0);
    let mut out = BTreeMap::from([
        ("persistentvolumeclaims".to_string(), 1),
        ("count/persistentvolumeclaims".to_string(), 1),
        ("requests.storage".to_string(), bytes),
    ]);
    if !class.is_empty() {
        out.insert(
            format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
            1,
        );
        out.insert(
            format!("{class}.storageclass.storage.k8s.io/requests.storage"),
            bytes,
        );
    }
    out
}

fn is_storage(resource: &str) -> bool {
    resource.ends_with("requests.storage")
}

/// A quantity as the quota plugin prints it: counts plain, bytes in binary units when exact.
fn quantity(resource: &str, n: u64) -> String {
    if !is_storage(resource) || n == 0 {
        return n.to_string();
    }
    for (unit, size) in [
        ("Ti", 1u64 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ] {
        if n % size == 0 {
            return format!("{}{unit}", n / size);
        }
    }
    n.to_string()
}

/// Current usage of the quota's resources in `ns` (every claim counts, Terminating too).
fn used_in(s: &Inner, ns: &str, resources: &[String]) -> BTreeMap<String, u64> {
    let mut used: BTreeMap<String, u64> = resources.iter().map(|r| (r.clone(), 0)).collect();
    for c in s.list(Kind::PersistentVolumeClaim, Some(ns)) {
        for (r, n) in claim_usage(&c) {
            if let Some(u) = used.get_mut(&r) {
                *u += n;
            }
        }
    }
    used
}

fn hard_of(q: &Value) -> BTreeMap<String, u64> {
    q.pointer("/spec/hard")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| {
                    let n = v.as_str().and_then(super::faults::parse_bytes)?;
                    Some((k.clone(), n))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pretty(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", quantity(k, *v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn quota(s: &Inner, ns: &str, name: &str, claim: &Value) -> Result<(), ApiError> {
    let wants = claim_usage(claim);
    for q in s.list(Kind::ResourceQuota, Some(ns)) {
        let hard = hard_of(&q);
        let resources: Vec<String> = hard.keys().cloned().collect();
        let used = used_in(s, ns, &resources);
        let mut requested = BTreeMap::new();
        let mut used_x = BTreeMap::new();
        let mut limited = BTreeMap::new();
        for (r, limit) in &hard {
            let want = wants.get(r).copied().unwrap_or(0);
            if want == 0 {
                continue;
            }
            let u = used.get(r).copied().unwrap_or(0);
            if u + want > *limit {
                requested.insert(r.clone(), want);
                used_x.insert(r.clone(), u);
                limited.insert(r.clone(), *limit);
            }
        }
        if !requested.is_empty() {
            return Err(ApiError::new(
                403,
                "Forbidden",
                format!(
                    "persistentvolumeclaims \"{name}\" is forbidden: exceeded quota: {}, requested: {}, used: {}, limited: {}",
                    meta_str(&q, "name"),
                    pretty(&requested),
                    pretty(&used_x),
                    pretty(&limited)
                ),
            )
            .with_details(json!({"name": name, "kind": "persistentvolumeclaims"})));
        }
    }
    Ok(())
}

/// The quota controller: `status.hard` mirrors `spec.hard`, `status.used` counts the claims.
pub fn quota_status(s: &mut Inner) {
    for q in s.list(Kind::ResourceQuota, None) {
        let ns = meta_str(&q, "namespace").to_string();
        let hard = hard_of(&q);
        let resources: Vec<String> = hard.keys().cloned().collect();
        let used: serde_json::Map<String, Value> = used_in(s, &ns, &resources)
            .into_iter()
            .map(|(k, n)| {
                let v = json!(quantity(&k, n));
                (k, v)
            })
            .collect();
        let status = json!({
            "hard": q.pointer("/spec/hard").cloned().unwrap_or(json!({})),
            "used": used,
        });
        if q.get("status") != Some(&status) {
            let name = meta_str(&q, "name").to_string();
            s.modify(Kind::ResourceQuota, &ns, &name, |v| v["status"] = status);
        }
    }
}

// ---- Pod Security admission ---------------------------------------------------------------

/// Capabilities `baseline` allows containers to add.
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn containers_word(n: usize) -> &'static str {
    if n == 1 { "container" } else { "containers" }
}

fn all_containers(pod: &Value) -> Vec<&Value> {
    [
        "/spec/initContainers",
        "/spec/containers",
        "/spec/ephemeralContainers",
    ]
    .iter()
    .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
    .flatten()
    .collect()
}

fn cname(c: &Value) -> String {
    c.get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// The `(reason, detail)` pairs a pod violates at `level`, in the real plugin's order.
pub fn pod_security_violations(pod: &Value, level: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if level == "privileged" || level.is_empty() {
        return out;
    }
    let containers = all_containers(pod);
    let psc = pod
        .pointer("/spec/securityContext")
        .cloned()
        .unwrap_or(json!({}));
    // baseline
    if pod.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true)
        || pod.pointer("/spec/hostPID").and_then(Value::as_bool) == Some(true)
        || pod.pointer("/spec/hostIPC").and_then(Value::as_bool) == Some(true)
    {
        out.push((
            "host namespaces".to_string(),
            "hostNetwork=true, hostPID=true or hostIPC=true".to_string(),
        ));
    }
    let privileged: Vec<String> = containers
        .iter()
        .filter(|c| {
            c.pointer("/securityContext/privileged")
                .and_then(Value::as_bool)
                == Some(true)
        })
        .map(|c| cname(c))
        .collect();
    if !privileged.is_empty() {
        out.push((
            "privileged".into(),
            format!(
                "{} {} must not set securityContext.privileged=true",
                containers_word(privileged.len()),
                quote_list(&privileged)
            ),
        ));
    }
    let mut adds_beyond_baseline = Vec::new();
    let mut beyond_caps = Vec::new();
    for c in &containers {
        let adds: Vec<String> = c
            .pointer("/securityContext/capabilities/add")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let bad: Vec<String> = adds
            .into_iter()
            .filter(|a| !BASELINE_CAPS.contains(&a.as_str()))
            .collect();
        if !bad.is_empty() {
            adds_beyond_baseline.push(cname(c));
            beyond_caps.extend(bad);
        }
    }
    if !adds_beyond_baseline.is_empty() {
        beyond_caps.sort();
        beyond_caps.dedup();
        out.push((
            "non-default capabilities".into(),
            format!(
                "{} {} must not include {} in securityContext.capabilities.add",
                containers_word(adds_beyond_baseline.len()),
                quote_list(&adds_beyond_baseline),
                quote_list(&beyond_caps)
            ),
        ));
    }
    let host_path: Vec<String> = pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| v.get("hostPath").is_some())
                .map(|v| {
                    v.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    if !host_path.is_empty() {
        out.push((
            "hostPath volumes".into(),
            format!(
                "{} {}",
                if host_path.len() == 1 {
                    "volume"
                } else {
                    "volumes"
                },
                quote_list(&host_path)
            ),
        ));
    }
    if level != "restricted" {
        return out;
    }
    // restricted
    let no_ape: Vec<String> = containers
        .iter()
        .filter(|c| {
            c.pointer("/securityContext/allowPrivilegeEscalation")
                .and_then(Value::as_bool)
                != Some(false)
        })
        .map(|c| cname(c))
        .collect();
    if !no_ape.is_empty() {
        out.push((
            "allowPrivilegeEscalation != false".into(),
            format!(
                "{} {} must set securityContext.allowPrivilegeEscalation=false",
                containers_word(no_ape.len()),
                quote_list(&no_ape)
            ),
        ));
    }
    let mut missing_drop = Vec::new();
    let mut adding = Vec::new();
    let mut added = Vec::new();
    for c in &containers {
        let drops_all = c
            .pointer("/securityContext/capabilities/drop")
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|x| x == "ALL"));
        if !drops_all {
            missing_drop.push(cname(c));
        }
        let bad: Vec<String> = c
            .pointer("/securityContext/capabilities/add")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|x| *x != "NET_BIND_SERVICE")
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        if !bad.is_empty() {
            adding.push(cname(c));
            added.extend(bad);
        }
    }
    if !missing_drop.is_empty() || !adding.is_empty() {
        let mut details = Vec::new();
        if !missing_drop.is_empty() {
            details.push(format!(
                "{} {} must set securityContext.capabilities.drop=[\"ALL\"]",
                containers_word(missing_drop.len()),
                quote_list(&missing_drop)
            ));
        }
        if !adding.is_empty() {
            added.sort();
            added.dedup();
            details.push(format!(
                "{} {} must not include {} in securityContext.capabilities.add",
                containers_word(adding.len()),
                quote_list(&adding),
                quote_list(&added)
            ));
        }
        out.push(("unrestricted capabilities".into(), details.join("; ")));
    }
    let pod_non_root = psc.get("runAsNonRoot").and_then(Value::as_bool);
    let not_non_root: Vec<String> = containers
        .iter()
        .filter(|c| {
            match c
                .pointer("/securityContext/runAsNonRoot")
                .and_then(Value::as_bool)
            {
                Some(v) => !v,
                None => pod_non_root != Some(true),
            }
        })
        .map(|c| cname(c))
        .collect();
    if !not_non_root.is_empty() {
        out.push((
            "runAsNonRoot != true".into(),
            format!(
                "pod or {} {} must set securityContext.runAsNonRoot=true",
                containers_word(not_non_root.len()),
                quote_list(&not_non_root)
            ),
        ));
    }
    let pod_root = psc.get("runAsUser").and_then(Value::as_i64) == Some(0);
    let root_containers: Vec<String> = containers
        .iter()
        .filter(|c| {
            c.pointer("/securityContext/runAsUser")
                .and_then(Value::as_i64)
                == Some(0)
        })
        .map(|c| cname(c))
        .collect();
    if pod_root || !root_containers.is_empty() {
        let detail = if pod_root {
            "pod must not set runAsUser=0".to_string()
        } else {
            format!(
                "{} {} must not set runAsUser=0",
                containers_word(root_containers.len()),
                quote_list(&root_containers)
            )
        };
        out.push(("runAsUser=0".into(), detail));
    }
    let ok_profile = |v: Option<&Value>| {
        matches!(
            v.and_then(Value::as_str),
            Some("RuntimeDefault" | "Localhost")
        )
    };
    let pod_profile = psc.pointer("/seccompProfile/type");
    let bad_seccomp: Vec<String> = containers
        .iter()
        .filter(
            |c| match c.pointer("/securityContext/seccompProfile/type") {
                Some(t) => !ok_profile(Some(t)),
                None => !ok_profile(pod_profile),
            },
        )
        .map(|c| cname(c))
        .collect();
    if !bad_seccomp.is_empty() {
        out.push((
            "seccompProfile".into(),
            format!(
                "pod or {} {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_word(bad_seccomp.len()),
                quote_list(&bad_seccomp)
            ),
        ));
    }
    out
}

fn pod_security(s: &Inner, ns: &str, name: &str, pod: &Value) -> Result<(), ApiError> {
    let Some(nsobj) = s.get(Kind::Namespace, "", ns) else {
        return Ok(());
    };
    let level = nsobj
        .pointer(&format!(
            "/metadata/labels/{}",
            ENFORCE_LABEL.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .unwrap_or("privileged")
        .to_string();
    let version = nsobj
        .pointer("/metadata/labels/pod-security.kubernetes.io~1enforce-version")
        .and_then(Value::as_str)
        .unwrap_or("latest")
        .to_string();
    let violations = pod_security_violations(pod, &level);
    if violations.is_empty() {
        return Ok(());
    }
    let list = violations
        .iter()
        .map(|(r, d)| format!("{r} ({d})"))
        .collect::<Vec<_>>()
        .join(", ");
    Err(ApiError::new(
        403,
        "Forbidden",
        format!("pods \"{name}\" is forbidden: violates PodSecurity \"{level}:{version}\": {list}"),
    )
    .with_details(json!({"name": name, "kind": "pods"})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_pod_violates_restricted_in_the_real_plugins_words() {
        let pod = json!({"spec": {"containers": [{"name": "bad-pod", "image": "nginx"}]}});
        let v = pod_security_violations(&pod, "restricted");
        let list = v
            .iter()
            .map(|(r, d)| format!("{r} ({d})"))
            .collect::<Vec<_>>()
            .join(", ");
        assert_eq!(
            list,
            "allowPrivilegeEscalation != false (container \"bad-pod\" must set securityContext.allowPrivilegeEscalation=false), \
             unrestricted capabilities (container \"bad-pod\" must set securityContext.capabilities.drop=[\"ALL\"]), \
             runAsNonRoot != true (pod or container \"bad-pod\" must set securityContext.runAsNonRoot=true), \
             seccompProfile (pod or container \"bad-pod\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        assert!(pod_security_violations(&pod, "baseline").is_empty());
        assert!(pod_security_violations(&pod, "privileged").is_empty());
    }

    #[test]
    fn a_hardened_pod_passes_restricted_and_added_caps_do_not() {
        let mut pod = json!({"spec": {
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "h", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}});
        assert!(pod_security_violations(&pod, "restricted").is_empty());
        pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] =
            json!(["DAC_OVERRIDE"]);
        let v = pod_security_violations(&pod, "restricted");
        assert_eq!(v.len(), 1);
        assert!(
            v[0].1.contains("must not include \"DAC_OVERRIDE\""),
            "{v:?}"
        );
        assert!(pod_security_violations(&pod, "baseline").is_empty());
    }

    #[test]
    fn quantities_print_like_the_quota_plugin() {
        assert_eq!(quantity("requests.storage", 1 << 30), "1Gi");
        assert_eq!(quantity("persistentvolumeclaims", 2), "2");
        let m = BTreeMap::from([
            ("persistentvolumeclaims".to_string(), 1),
            ("requests.storage".to_string(), 512 << 20),
        ]);
        assert_eq!(
            pretty(&m),
            "persistentvolumeclaims=1,requests.storage=512Mi"
        );
    }
}
