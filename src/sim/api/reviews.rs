//! SelfSubjectAccessReview (answered from the scenario's permissions and `forbid=` faults) and
//! SelfSubjectReview (who am I).

use super::{Review, read_body};
use crate::sim::server::SimState;
use crate::sim::status::{ApiError, json_response};
use axum::body::Body;
use http::{Request, Response};
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn review(
    state: &Arc<SimState>,
    req: Request<Body>,
    kind: Review,
) -> Result<Response<Body>, ApiError> {
    let protobuf = super::is_protobuf(&req);
    let body = read_body(req).await?;
    let mut v: Value = match (protobuf, kind) {
        (true, Review::SelfSubjectAccess) => super::protobuf::self_subject_access_review(&body)
            .ok_or_else(|| {
                ApiError::bad_request("the protobuf SelfSubjectAccessReview could not be decoded")
            })?,
        // A SelfSubjectReview has nothing to read.
        (true, Review::SelfSubject) => json!({"apiVersion": "authentication.k8s.io/v1"}),
        (false, _) => serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!("the request body is not valid JSON: {e}"))
        })?,
    };
    match kind {
        Review::SelfSubjectAccess => {
            let (allowed, reason) = match v.pointer("/spec/resourceAttributes") {
                Some(ra) => {
                    let s = |k: &str| ra.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    let (verb, resource, sub, ns) =
                        (s("verb"), s("resource"), s("subresource"), s("namespace"));
                    let full = if sub.is_empty() {
                        resource.clone()
                    } else {
                        format!("{resource}/{sub}")
                    };
                    let ns_opt = (!ns.is_empty()).then_some(ns.as_str());
                    let denied = state.faults.forbids(&verb, &resource, ns_opt)
                        || state.faults.forbids(&verb, &full, ns_opt)
                        || !state.permissions.allows(&verb, &full, ns_opt);
                    if denied {
                        (false, String::new())
                    } else {
                        (true, "RBAC: allowed by ClusterRoleBinding \"ondeck-sim\" of ClusterRole \"cluster-admin\" to User".to_string())
                    }
                }
                None => (true, String::new()),
            };
            v["status"] = json!({"allowed": allowed, "reason": reason});
            if !allowed {
                v["status"]["denied"] = json!(false);
            }
            if v.get("metadata").is_none() {
                v["metadata"] = json!({});
            }
            v["apiVersion"] = json!("authorization.k8s.io/v1");
            v["kind"] = json!("SelfSubjectAccessReview");
            Ok(json_response(201, &v))
        }
        Review::SelfSubject => {
            let out = json!({
                "kind": "SelfSubjectReview",
                "apiVersion": v.get("apiVersion").cloned().unwrap_or(json!("authentication.k8s.io/v1")),
                "metadata": {"creationTimestamp": null},
                "status": {"userInfo": {"username": state.permissions.user, "groups": state.permissions.groups}}
            });
            Ok(json_response(201, &out))
        }
    }
}
