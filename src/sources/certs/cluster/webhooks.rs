//! The `caBundle` of Validating/MutatingWebhookConfigurations and of APIServices: SOURCE
//! `webhook` / `apiservice`, WHERE = configuration/webhook or the APIService's name.

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhookConfiguration,
};
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::ResourceExt as _;

use super::super::{CertRow, CertSource, pem_rows};
use super::Item;
use crate::domain::text::Clean;

pub const VALIDATING: &str = "validatingwebhookconfigurations";
pub const MUTATING: &str = "mutatingwebhookconfigurations";
pub const APISERVICES: &str = "apiservices";

fn rules_words(rules: Option<&Vec<RuleWithOperations>>) -> String {
    let mut ops: Vec<String> = Vec::new();
    let mut res: Vec<String> = Vec::new();
    for r in rules.into_iter().flatten() {
        for o in r.operations.iter().flatten() {
            if !ops.contains(o) {
                ops.push(o.clone());
            }
        }
        for x in r.resources.iter().flatten() {
            if !res.contains(x) {
                res.push(x.clone());
            }
        }
    }
    if ops.is_empty() && res.is_empty() {
        return "the requests it intercepts".into();
    }
    format!(
        "{} {}",
        ops.join("/").to_lowercase(),
        if res.is_empty() {
            "resources".to_string()
        } else {
            res.join(", ")
        }
    )
}

#[allow(clippy::too_many_arguments)]
fn webhook_rows(
    config: &str,
    hook: &str,
    bundle: Option<&k8s_openapi::ByteString>,
    failure_policy: Option<&str>,
    rules: Option<&Vec<RuleWithOperations>>,
    out: &mut Vec<CertRow>,
) {
    let Some(b) = bundle.filter(|b| !b.0.is_empty()) else {
        return; // no caBundle: the API server's own trust store, nothing of ours to expire
    };
    let loc = format!("{}/{}", Clean::identifier(config), Clean::identifier(hook));
    let mut rows = pem_rows(CertSource::Webhook, &loc, &b.0);
    let fails = if failure_policy.unwrap_or("Fail") == "Fail" {
        "fail"
    } else {
        "skip the webhook (failurePolicy Ignore)"
    };
    if let Some(first) = rows.first_mut() {
        first.dependents = vec![Clean::new(&format!(
            "breaks when it expires: {} cluster-wide {fails} (webhook {})",
            rules_words(rules),
            Clean::identifier(hook)
        ))];
    }
    out.extend(rows);
}

pub fn validating_item(c: &ValidatingWebhookConfiguration) -> Item {
    let name = c.name_any();
    let mut rows = Vec::new();
    for w in c.webhooks.iter().flatten() {
        webhook_rows(
            &name,
            &w.name,
            w.client_config.ca_bundle.as_ref(),
            w.failure_policy.as_deref(),
            w.rules.as_ref(),
            &mut rows,
        );
    }
    Item::Rows(rows)
}

pub fn mutating_item(c: &MutatingWebhookConfiguration) -> Item {
    let name = c.name_any();
    let mut rows = Vec::new();
    for w in c.webhooks.iter().flatten() {
        webhook_rows(
            &name,
            &w.name,
            w.client_config.ca_bundle.as_ref(),
            w.failure_policy.as_deref(),
            w.rules.as_ref(),
            &mut rows,
        );
    }
    Item::Rows(rows)
}

pub fn apiservice_item(a: &APIService) -> Item {
    let name = a.name_any();
    let Some(spec) = &a.spec else {
        return Item::Rows(Vec::new());
    };
    let Some(b) = spec.ca_bundle.as_ref().filter(|b| !b.0.is_empty()) else {
        return Item::Rows(Vec::new());
    };
    let mut rows = pem_rows(CertSource::Apiservice, &Clean::identifier(&name), &b.0);
    if let Some(first) = rows.first_mut() {
        let gv = format!(
            "{}/{}",
            spec.group.as_deref().unwrap_or(""),
            spec.version.as_deref().unwrap_or("")
        );
        let svc = spec
            .service
            .as_ref()
            .map(|s| {
                format!(
                    " (service {}/{})",
                    Clean::identifier(s.namespace.as_deref().unwrap_or("")),
                    Clean::identifier(s.name.as_deref().unwrap_or(""))
                )
            })
            .unwrap_or_default();
        first.dependents = vec![Clean::new(&format!(
            "breaks when it expires: every request to {}{svc}",
            Clean::identifier(&gv)
        ))];
    }
    Item::Rows(rows)
}
