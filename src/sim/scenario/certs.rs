//! The scenario's TLS-related objects besides Secrets: Ingresses (whose `spec.tls` names the
//! Secrets they serve), cert-manager `Certificate`s (their CRD is installed only when there
//! are any), and admission webhook configurations and APIServices whose `caBundle` is a real
//! CA certificate with the requested expiry.

use super::ScenarioError;
use super::build::Ctx;
use super::model::*;
use crate::sim::resources::Kind;
use crate::sim::store::Inner;
use crate::sim::tls;
use serde_json::{Value, json};

fn service_ref(ctx: &Ctx, what: &str, s: &str) -> Result<(String, String), ScenarioError> {
    s.split_once('/')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .ok_or_else(|| ctx.invalid(format!("{what}: service {s:?} must be namespace/name")))
}

/// A CA certificate (PEM, base64 for `caBundle`) that expires at `expires`.
fn ca_bundle(ctx: &Ctx, what: &str, cn: &str, expires: RelTime) -> Result<String, ScenarioError> {
    let now = ctx.now.as_second();
    let not_after = now + expires.0;
    let not_before = not_after.min(now) - 365 * 86_400;
    let pem =
        tls::ca_cert(cn, not_before, not_after).map_err(|e| ctx.invalid(format!("{what}: {e}")))?;
    Ok(tls::base64(pem.cert_pem.as_bytes()))
}

fn ingress(ctx: &Ctx, s: &mut Inner, i: &IngressSpec) -> Result<(), ScenarioError> {
    let mut hosts: Vec<&str> = Vec::new();
    for t in &i.tls {
        if t.secret_name.is_empty() {
            return Err(ctx.invalid(format!(
                "ingresses {}/{}: tls.secretName must not be empty",
                i.namespace, i.name
            )));
        }
        hosts.extend(t.hosts.iter().map(String::as_str));
    }
    let backend = json!({"service": {"name": i.name, "port": {"number": 80}}});
    let rules: Vec<Value> = hosts
        .iter()
        .map(|h| json!({"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}))
        .collect();
    let tls: Vec<Value> = i
        .tls
        .iter()
        .map(|t| json!({"hosts": t.hosts, "secretName": t.secret_name}))
        .collect();
    let mut spec = json!({"rules": rules, "tls": tls});
    if let Some(c) = &i.class {
        spec["ingressClassName"] = json!(c);
    }
    let obj = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": i.name, "namespace": i.namespace, "creationTimestamp": ctx.at(i.created.unwrap_or(RelTime(-60 * 86_400)))},
        "spec": spec,
        "status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}},
    });
    let obj = Kind::Ingress
        .normalize(obj)
        .map_err(|e| ctx.invalid(format!("ingresses {}/{}: {e}", i.namespace, i.name)))?;
    s.insert(Kind::Ingress, obj);
    Ok(())
}

fn certificate(ctx: &Ctx, s: &mut Inner, c: &CertificateSpec) -> Result<(), ScenarioError> {
    let issuer = c
        .issuer
        .clone()
        .unwrap_or_else(|| "letsencrypt-prod".into());
    let mut status = serde_json::Map::new();
    if let Some(na) = c.not_after {
        status.insert("notAfter".into(), json!(ctx.at(na)));
        let nb = RelTime((na.0 - 90 * 86_400).min(-86_400));
        status.insert("notBefore".into(), json!(ctx.at(nb)));
        let renew = c.renewal_time.unwrap_or(RelTime(na.0 - 30 * 86_400));
        status.insert("renewalTime".into(), json!(ctx.at(renew)));
        status.insert("revision".into(), json!(1));
    }
    let (reason, message) = if c.ready {
        (
            c.reason.clone().unwrap_or_else(|| "Ready".into()),
            c.message
                .clone()
                .unwrap_or_else(|| "Certificate is up to date and has not expired".into()),
        )
    } else {
        (
            c.reason.clone().unwrap_or_else(|| "Failed".into()),
            c.message.clone().unwrap_or_else(|| {
                "The certificate request has failed to complete and will be retried".into()
            }),
        )
    };
    status.insert(
        "conditions".into(),
        json!([{
            "type": "Ready",
            "status": if c.ready { "True" } else { "False" },
            "reason": reason,
            "message": message,
            "lastTransitionTime": ctx.at(c.since.unwrap_or(RelTime(-86_400))),
            "observedGeneration": 1,
        }]),
    );
    let obj = json!({
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": c.name, "namespace": c.namespace, "generation": 1, "creationTimestamp": ctx.at(RelTime(-120 * 86_400))},
        "spec": {
            "secretName": c.secret_name,
            "dnsNames": c.dns_names,
            "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
        },
        "status": status,
    });
    let obj = Kind::Certificate
        .normalize(obj)
        .map_err(|e| ctx.invalid(format!("certificates {}/{}: {e}", c.namespace, c.name)))?;
    s.insert(Kind::Certificate, obj);
    Ok(())
}

fn webhook_config(ctx: &Ctx, s: &mut Inner, w: &WebhookConfigSpec) -> Result<(), ScenarioError> {
    let mut hooks = Vec::new();
    for h in &w.webhooks {
        let what = format!("webhooks {}/{}", w.name, h.name);
        let bundle = ca_bundle(ctx, &what, &format!("{}-ca", h.name), h.ca_expires)?;
        let (ns, name) = match &h.service {
            Some(sv) => service_ref(ctx, &what, sv)?,
            None => ("default".to_string(), w.name.clone()),
        };
        let mut hook = json!({
            "name": h.name,
            "clientConfig": {"service": {"namespace": ns, "name": name, "path": "/validate", "port": 443}, "caBundle": bundle},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"], "scope": "*"}],
            "failurePolicy": "Fail",
            "matchPolicy": "Equivalent",
            "sideEffects": "None",
            "timeoutSeconds": 10,
            "admissionReviewVersions": ["v1"],
            "namespaceSelector": {},
            "objectSelector": {},
        });
        if w.kind == WebhookKind::Mutating {
            hook["reinvocationPolicy"] = json!("Never");
        }
        hooks.push(hook);
    }
    let (kind, kind_name) = match w.kind {
        WebhookKind::Validating => (
            Kind::ValidatingWebhookConfiguration,
            "ValidatingWebhookConfiguration",
        ),
        WebhookKind::Mutating => (
            Kind::MutatingWebhookConfiguration,
            "MutatingWebhookConfiguration",
        ),
    };
    let obj = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind_name,
        "metadata": {"name": w.name, "creationTimestamp": ctx.at(RelTime(-200 * 86_400))},
        "webhooks": hooks,
    });
    let obj = kind
        .normalize(obj)
        .map_err(|e| ctx.invalid(format!("webhooks {}: {e}", w.name)))?;
    s.insert(kind, obj);
    Ok(())
}

fn api_service(ctx: &Ctx, s: &mut Inner, a: &ApiServiceSpec) -> Result<(), ScenarioError> {
    let what = format!("apiServices {}", a.name);
    let Some((version, group)) = a.name.split_once('.') else {
        return Err(ctx.invalid(format!("{what}: the name must be VERSION.GROUP")));
    };
    let (ns, name) = service_ref(ctx, &what, &a.service)?;
    let bundle = ca_bundle(ctx, &what, &format!("{name}-ca"), a.ca_expires)?;
    let obj = json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": a.name, "creationTimestamp": ctx.at(RelTime(-200 * 86_400))},
        "spec": {
            "group": group, "version": version,
            "service": {"namespace": ns, "name": name, "port": 443},
            "caBundle": bundle,
            "groupPriorityMinimum": 100, "versionPriority": 100,
        },
        "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Passed", "message": "all checks passed", "lastTransitionTime": ctx.at(RelTime(-86_400))}]},
    });
    let obj = Kind::ApiService
        .normalize(obj)
        .map_err(|e| ctx.invalid(format!("{what}: {e}")))?;
    s.insert(Kind::ApiService, obj);
    Ok(())
}

/// Stores every Ingress, Certificate, webhook configuration and APIService of the scenario.
pub fn build(ctx: &Ctx, s: &mut Inner, sc: &Scenario) -> Result<(), ScenarioError> {
    for i in &sc.ingresses {
        ingress(ctx, s, i)?;
    }
    if !sc.certificates.is_empty() {
        s.crds.insert(Kind::Certificate);
    }
    for c in &sc.certificates {
        certificate(ctx, s, c)?;
    }
    for w in &sc.webhooks {
        webhook_config(ctx, s, w)?;
    }
    for a in &sc.api_services {
        api_service(ctx, s, a)?;
    }
    Ok(())
}
