//! Label and field selectors as the apiserver parses them from list/watch query strings.

use super::resources::Kind;
use super::status::ApiError;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<LabelReq>);

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn set_values(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = |part: &str| {
            ApiError::bad_request(format!(
                "unable to parse requirement: invalid label selector {part:?}"
            ))
        };
        let mut reqs = Vec::new();
        for part in split_top(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let req = if let Some(k) = part.strip_prefix('!') {
                LabelReq::NotExists(k.trim().to_string())
            } else if let Some((k, v)) = part.split_once("!=") {
                LabelReq::NotEq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once("==") {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once('=') {
                LabelReq::Eq(k.trim().to_string(), v.trim().to_string())
            } else if let Some((k, v)) = part.split_once(" notin ") {
                LabelReq::NotIn(
                    k.trim().to_string(),
                    set_values(v).ok_or_else(|| bad(part))?,
                )
            } else if let Some((k, v)) = part.split_once(" in ") {
                LabelReq::In(
                    k.trim().to_string(),
                    set_values(v).ok_or_else(|| bad(part))?,
                )
            } else if part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                LabelReq::Exists(part.to_string())
            } else {
                return Err(bad(part));
            };
            reqs.push(req);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = obj.pointer("/metadata/labels").and_then(Value::as_object);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed `fieldSelector` (only `=`, `==` and `!=`, on the fields the apiserver supports).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

/// JSON pointer of a selectable field for a resource type.
fn field_pointer(kind: Kind, field: &str) -> Option<&'static str> {
    match (kind, field) {
        (_, "metadata.name") => Some("/metadata/name"),
        (_, "metadata.namespace") => Some("/metadata/namespace"),
        (Kind::Pod, "status.phase") => Some("/status/phase"),
        (Kind::Pod, "spec.nodeName") => Some("/spec/nodeName"),
        (Kind::Pod, "spec.restartPolicy") => Some("/spec/restartPolicy"),
        (Kind::Pod, "spec.serviceAccountName") => Some("/spec/serviceAccountName"),
        (Kind::Pod, "status.podIP") => Some("/status/podIP"),
        (Kind::Secret, "type") => Some("/type"),
        (Kind::Event, "type") => Some("/type"),
        (Kind::Event, "reason") => Some("/reason"),
        (Kind::Event, "involvedObject.name") => Some("/involvedObject/name"),
        (Kind::Event, "involvedObject.kind") => Some("/involvedObject/kind"),
        (Kind::Event, "involvedObject.namespace") => Some("/involvedObject/namespace"),
        (Kind::Event, "involvedObject.uid") => Some("/involvedObject/uid"),
        (Kind::Event, "involvedObject.fieldPath") => Some("/involvedObject/fieldPath"),
        (Kind::Namespace, "status.phase") => Some("/status/phase"),
        (Kind::PersistentVolumeClaim, "status.phase") => Some("/status/phase"),
        (Kind::PersistentVolume, "status.phase") => Some("/status/phase"),
        _ => None,
    }
}

impl FieldSelector {
    pub fn parse(kind: Kind, s: &str) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if field_pointer(kind, field).is_none() {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {field}"
                )));
            }
            reqs.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    pub fn matches(&self, kind: Kind, obj: &Value) -> bool {
        self.0.iter().all(|(field, eq, value)| {
            let actual = field_pointer(kind, field)
                .and_then(|p| obj.pointer(p))
                .and_then(Value::as_str)
                .unwrap_or("");
            (actual == value) == *eq
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selector_forms() {
        let obj = json!({"metadata": {"labels": {"app": "grafana", "tier": "web"}}});
        let ok = |s: &str| {
            LabelSelector::parse(s)
                .map(|l| l.matches(&obj))
                .unwrap_or(false)
        };
        assert!(ok("app=grafana"));
        assert!(ok("app==grafana,tier"));
        assert!(!ok("app!=grafana"));
        assert!(ok("app in (grafana, loki)"));
        assert!(!ok("app notin (grafana)"));
        assert!(ok("!missing"));
        assert!(!ok("missing"));
        assert!(LabelSelector::parse("a b c").is_err());
    }

    #[test]
    fn field_selector_on_pods() {
        let obj = json!({"metadata": {"name": "p"}, "status": {"phase": "Running"}, "spec": {"nodeName": "n1"}});
        let f = FieldSelector::parse(Kind::Pod, "status.phase=Running,spec.nodeName!=n2")
            .unwrap_or_default();
        assert!(f.matches(Kind::Pod, &obj));
        let f = FieldSelector::parse(Kind::Pod, "status.phase!=Running").unwrap_or_default();
        assert!(!f.matches(Kind::Pod, &obj));
        assert!(FieldSelector::parse(Kind::Pod, "spec.bogus=1").is_err());
        assert!(FieldSelector::parse(Kind::Event, "involvedObject.name=x").is_ok());
    }
}
