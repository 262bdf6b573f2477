//! create, update (PUT), patch (merge, strategic-as-merge, JSON patch; also on `/status`) and
//! delete (preconditions, dryRun, grace periods, finalizers).

use super::{ResPath, param, read_body};
use crate::sim::controllers;
use crate::sim::patch;
use crate::sim::resources::Kind;
use crate::sim::server::SimState;
use crate::sim::status::{ApiError, bytes_response};
use crate::sim::store::{is_deleting, meta_str, new_uid, now_str};
use axum::body::Body;
use http::{Request, Response};
use serde_json::{Value, json};
use std::sync::Arc;

fn dry_run(params: &[(String, String)], body: Option<&Value>) -> Result<bool, ApiError> {
    let from_body = body
        .and_then(|b| b.get("dryRun"))
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v == "All"));
    match param(params, "dryRun") {
        None | Some("") => Ok(from_body),
        Some("All") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "Invalid dry run value: {other:?}: supported values: \"All\""
        ))),
    }
}

fn obj_response(code: u16, v: &Value) -> Response<Body> {
    bytes_response(
        code,
        "application/json",
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

fn check_type(p: &ResPath, v: &Value) -> Result<(), ApiError> {
    let want = p.info.api_version();
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    if !api.is_empty() && api != want {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api}) does not match the expected API version ({want})"
        )));
    }
    if !kind.is_empty() && kind != p.info.kind_name {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            p.info.kind_name
        )));
    }
    Ok(())
}

fn normalize(p: &ResPath, name: &str, v: Value) -> Result<Value, ApiError> {
    p.info
        .kind
        .normalize(v)
        .map_err(|e| ApiError::invalid(p.info.kind_name, name, e))
}

pub async fn create(
    state: &Arc<SimState>,
    req: Request<Body>,
    p: &ResPath,
    params: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let body = read_body(req).await?;
    let mut v = parse_json(&body)?;
    check_type(p, &v)?;
    let dry = dry_run(params, None)?;
    if !v.get("metadata").is_some_and(Value::is_object) {
        v["metadata"] = json!({});
    }
    let mut name = meta_str(&v, "name").to_string();
    if name.is_empty() {
        let gen_name = meta_str(&v, "generateName").to_string();
        if gen_name.is_empty() {
            return Err(ApiError::invalid(
                p.info.kind_name,
                "",
                "metadata.name: Required value: name or generateName is required",
            ));
        }
        let suffix: String = (0..5)
            .map(|_| {
                fastrand::choice(b"bcdfghjklmnpqrstvwxz2456789".iter()).map_or('x', |c| *c as char)
            })
            .collect();
        name = format!("{gen_name}{suffix}");
        v["metadata"]["name"] = json!(name);
    }
    if p.info.namespaced {
        let path_ns = p.namespace.clone().unwrap_or_default();
        let body_ns = meta_str(&v, "namespace");
        if !body_ns.is_empty() && body_ns != path_ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        v["metadata"]["namespace"] = json!(path_ns);
    }
    for f in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        if let Some(m) = v["metadata"].as_object_mut() {
            m.remove(f);
        }
    }
    let mut v = normalize(p, &name, v)?;
    let ns = p.namespace.clone().unwrap_or_default();
    let mut s = state.store.lock();
    if p.info.namespaced && s.get(Kind::Namespace, "", &ns).is_none() {
        return Err(ApiError::not_found("namespaces", "", &ns));
    }
    if p.info.namespaced
        && s.get(Kind::Namespace, "", &ns)
            .is_some_and(|n| is_deleting(&n))
    {
        return Err(ApiError::new(
            403,
            "Forbidden",
            format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                p.info.plural
            ),
        ));
    }
    crate::sim::admission::admit_create(&s, p.info.kind, &ns, &name, &v)?;
    if s.get(p.info.kind, &ns, &name).is_some() {
        return Err(ApiError::already_exists(p.info.plural, p.info.group, &name));
    }
    controllers::prepare_new(p.info.kind, &mut v, &s);
    if dry {
        v["metadata"]["uid"] = json!(new_uid());
        v["metadata"]["creationTimestamp"] = json!(now_str());
        return Ok(obj_response(201, &v));
    }
    let stored = s.insert(p.info.kind, v);
    if p.info.kind == Kind::Pod {
        s.pending_starts
            .insert((ns, name), std::time::Instant::now());
    }
    Ok(obj_response(201, &stored))
}

/// Applies the status-subresource rules: the main resource cannot change status, `/status`
/// changes only status. Identity fields never change.
fn merge_rules(p: &ResPath, cur: &Value, mut next: Value) -> Value {
    for f in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        match cur.get("metadata").and_then(|m| m.get(f)) {
            Some(x) => next["metadata"][f] = x.clone(),
            None => {
                if let Some(m) = next.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove(f);
                }
            }
        }
    }
    if p.info.has_status {
        if p.sub.as_deref() == Some("status") {
            let status = next.get("status").cloned();
            next = cur.clone();
            match status {
                Some(st) => next["status"] = st,
                None => {
                    if let Some(o) = next.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
        } else {
            match cur.get("status") {
                Some(st) => next["status"] = st.clone(),
                None => {
                    if let Some(o) = next.as_object_mut() {
                        o.remove("status");
                    }
                }
            }
        }
    }
    next
}

fn validate_update(p: &ResPath, name: &str, cur: &Value, next: &Value) -> Result<(), ApiError> {
    if p.info.kind == Kind::PersistentVolumeClaim && p.sub.is_none() {
        let strip = |v: &Value| {
            let mut spec = v.get("spec").cloned().unwrap_or(Value::Null);
            if let Some(o) = spec.as_object_mut() {
                o.remove("resources");
                o.remove("volumeAttributesClassName");
                // The binder fills volumeName in on a Pending claim.
                if cur.pointer("/spec/volumeName").is_none() {
                    o.remove("volumeName");
                }
            }
            spec
        };
        if strip(cur) != strip(next) {
            return Err(ApiError::invalid(
                "PersistentVolumeClaim",
                name,
                "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
            ));
        }
    }
    Ok(())
}

fn store_update(
    state: &Arc<SimState>,
    p: &ResPath,
    name: &str,
    dry: bool,
    f: impl FnOnce(&Value) -> Result<Value, ApiError>,
) -> Result<Response<Body>, ApiError> {
    let ns = p.namespace.clone().unwrap_or_default();
    let mut s = state.store.lock();
    let cur = s
        .get(p.info.kind, &ns, name)
        .ok_or_else(|| ApiError::not_found(p.info.plural, p.info.group, name))?;
    let next = f(&cur)?;
    let want_rv = meta_str(&next, "resourceVersion");
    if !want_rv.is_empty() && want_rv != meta_str(&cur, "resourceVersion") {
        return Err(ApiError::conflict(
            p.info.plural,
            p.info.group,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        ));
    }
    let mut next = merge_rules(p, &cur, next);
    next = normalize(p, name, next)?;
    next["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"].clone();
    validate_update(p, name, &cur, &next)?;
    if next == *cur || dry {
        return Ok(obj_response(200, &next));
    }
    let stored = s.update(p.info.kind, next);
    Ok(obj_response(200, &stored))
}

pub async fn update(
    state: &Arc<SimState>,
    req: Request<Body>,
    p: &ResPath,
    params: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let name = p.name.clone().unwrap_or_default();
    let body = read_body(req).await?;
    let v = parse_json(&body)?;
    check_type(p, &v)?;
    if meta_str(&v, "name") != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            meta_str(&v, "name")
        )));
    }
    let dry = dry_run(params, None)?;
    store_update(state, p, &name, dry, |_| Ok(v))
}

pub async fn patch(
    state: &Arc<SimState>,
    req: Request<Body>,
    p: &ResPath,
    params: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let name = p.name.clone().unwrap_or_default();
    let ct = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let ct_base = ct.split(';').next().unwrap_or("").trim().to_string();
    let body = read_body(req).await?;
    let dry = dry_run(params, None)?;
    match ct_base.as_str() {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            let patch = parse_json(&body)?;
            if !patch.is_object() {
                return Err(ApiError::bad_request("a merge patch must be a JSON object"));
            }
            store_update(state, p, &name, dry, |cur| {
                let mut next = (*cur).clone();
                patch::merge_patch(&mut next, &patch);
                Ok(next)
            })
        }
        "application/json-patch+json" => {
            let patch = parse_json(&body)?;
            store_update(state, p, &name, dry, |cur| {
                let mut next = (*cur).clone();
                patch::json_patch(&mut next, &patch)
                    .map_err(|e| ApiError::new(422, "Invalid", e.0))?;
                Ok(next)
            })
        }
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
            Err(ApiError::not_implemented(
                "server-side apply is not implemented by the ondeck simulated cluster",
            ))
        }
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

pub async fn delete(
    state: &Arc<SimState>,
    req: Request<Body>,
    p: &ResPath,
    params: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let name = p.name.clone().unwrap_or_default();
    let ns = p.namespace.clone().unwrap_or_default();
    let body = read_body(req).await?;
    let opts: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        parse_json(&body)?
    };
    let dry = dry_run(params, Some(&opts))?;
    let grace: Option<i64> = match param(params, "gracePeriodSeconds") {
        Some(g) => Some(
            g.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid gracePeriodSeconds {g:?}")))?,
        ),
        None => opts.get("gracePeriodSeconds").and_then(Value::as_i64),
    };
    let propagation = param(params, "propagationPolicy")
        .map(String::from)
        .or_else(|| {
            opts.get("propagationPolicy")
                .and_then(Value::as_str)
                .map(String::from)
        });
    if let Some(pp) = &propagation
        && !matches!(pp.as_str(), "Orphan" | "Background" | "Foreground")
    {
        return Err(ApiError::bad_request(format!(
            "propagationPolicy: Unsupported value: {pp:?}: supported values: \"Foreground\", \"Background\", \"Orphan\""
        )));
    }
    let mut s = state.store.lock();
    let cur = s
        .get(p.info.kind, &ns, &name)
        .ok_or_else(|| ApiError::not_found(p.info.plural, p.info.group, &name))?;
    if let Some(pre) = opts.get("preconditions") {
        if let Some(uid) = pre.get("uid").and_then(Value::as_str) {
            let actual = meta_str(&cur, "uid");
            if uid != actual {
                return Err(ApiError::conflict(
                    p.info.plural,
                    p.info.group,
                    &name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"
                    ),
                ));
            }
        }
        if let Some(rv) = pre.get("resourceVersion").and_then(Value::as_str) {
            let actual = meta_str(&cur, "resourceVersion");
            if rv != actual {
                return Err(ApiError::conflict(
                    p.info.plural,
                    p.info.group,
                    &name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {actual}"
                    ),
                ));
            }
        }
    }
    let outcome =
        controllers::begin_delete(&mut s, p.info.kind, &ns, &name, grace, &state.timing, dry);
    match outcome {
        Some(v) => {
            let mut resp = obj_response(200, &v);
            if dry {
                resp.extensions_mut()
                    .insert(crate::sim::server::DryRunMarker);
            }
            Ok(resp)
        }
        None => Err(ApiError::not_found(p.info.plural, p.info.group, &name)),
    }
}
