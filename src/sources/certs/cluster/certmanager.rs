//! cert-manager `Certificate`s (cert-manager.io/v1, a CRD, read as `DynamicObject`s): their
//! rows (notAfter, renewalTime, the Ready condition as "renewal failing since DATE: MESSAGE")
//! and the Secret each one writes.

use jiff::Timestamp;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Api, ResourceExt as _};
use serde_json::Value;

use super::super::{CertRow, CertSource};
use super::Item;
use crate::domain::pods::NamespaceScope;
use crate::domain::text::Clean;
use crate::sources::kube::KubeTarget;
use crate::tls::{CertFacts, ChainPosition};

pub const CERTIFICATES: &str = "certificates.cert-manager.io";

/// cert-manager's `Certificate` (cert-manager.io/v1).
pub fn certificate_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("cert-manager.io", "v1", "Certificate"),
        "certificates",
    )
}

pub fn certificate_api(target: &KubeTarget, watch: bool) -> Api<DynamicObject> {
    let c = if watch {
        target.watch_client.clone()
    } else {
        target.client.clone()
    };
    let ar = certificate_resource();
    match &target.scope {
        NamespaceScope::All => Api::all_with(c, &ar),
        NamespaceScope::One(ns) => Api::namespaced_with(c, ns, &ar),
    }
}

fn date(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn ts(v: &Value, ptr: &str) -> Option<Timestamp> {
    v.pointer(ptr)?.as_str()?.parse().ok()
}

/// The row of one cert-manager `Certificate`, from its spec and status.
pub fn certificate_row(o: &DynamicObject) -> CertRow {
    let ns = o.namespace().unwrap_or_default();
    let name = o.name_any();
    let loc = Clean::new(&format!(
        "{}/{}",
        Clean::identifier(&ns),
        Clean::identifier(&name)
    ));
    let d = &o.data;
    let str_at = |p: &str| {
        d.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let dns: Vec<String> = d
        .pointer("/spec/dnsNames")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let cn = str_at("/spec/commonName");
    let subject = if !cn.is_empty() {
        cn
    } else {
        dns.first()
            .cloned()
            .unwrap_or_else(|| str_at("/spec/secretName"))
    };
    let issuer = {
        let n = str_at("/spec/issuerRef/name");
        let k = str_at("/spec/issuerRef/kind");
        match (n.is_empty(), k.is_empty()) {
            (true, _) => "unknown (no issuerRef)".to_string(),
            (false, true) => format!("Issuer {n}"),
            (false, false) => format!("{k} {n}"),
        }
    };
    let ready = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| {
            c.iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
        });
    let ready_status = ready
        .and_then(|c| c.get("status"))
        .and_then(Value::as_str)
        .unwrap_or("Unknown");
    let ready_msg = ready
        .and_then(|c| c.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let since = ready.and_then(|c| ts(c, "/lastTransitionTime"));
    let not_after = ts(d, "/status/notAfter");
    let renewal = ts(d, "/status/renewalTime");
    let mut row = match not_after {
        Some(na) => {
            let facts = CertFacts {
                subject: Clean::new(&subject),
                subject_dn: Clean::new(&format!("CN={subject}")),
                issuer: Clean::new(&issuer),
                issuer_dn: Clean::new(&issuer),
                sans: dns.iter().map(|s| Clean::new(s)).collect(),
                serial: String::new(),
                sha256: String::new(),
                not_before: ts(d, "/status/notBefore"),
                not_after: Some(na),
                key: Clean::new("(in the Secret)"),
                signature_algorithm: Clean::new("(in the Secret)"),
                is_ca: d.pointer("/spec/isCA").and_then(Value::as_bool) == Some(true),
                self_issued: false,
                position: ChainPosition::Leaf,
            };
            let mut r = CertRow::known(CertSource::CertManager, loc, facts);
            // Only the status's dates: no certificate chain to show (the Secret's row has it).
            r.chain.clear();
            r
        }
        None => CertRow::unknown(
            CertSource::CertManager,
            loc,
            if ready_msg.is_empty() {
                format!("not issued yet: Ready is {ready_status}")
            } else {
                format!("not issued yet: Ready is {ready_status}: {ready_msg}")
            },
        ),
    };
    let secret = str_at("/spec/secretName");
    let mut note = format!("Ready {ready_status}");
    if !ready_msg.is_empty() {
        note.push_str(&format!(": {ready_msg}"));
    }
    if let Some(r) = renewal {
        note.push_str(&format!("; renewal at {}", date(r)));
    }
    if !secret.is_empty() {
        note.push_str(&format!("; Secret {}", Clean::identifier(&secret)));
    }
    row.note = Some(Clean::new(&note));
    if ready_status == "False" {
        let msg = if ready_msg.is_empty() {
            "Ready is False".to_string()
        } else {
            ready_msg
        };
        row.renewal_failing = Some(Clean::new(&match since {
            Some(t) => format!("renewal failing since {}: {msg}", date(t)),
            None => format!("renewal failing: {msg}"),
        }));
    }
    row
}

/// A cert-manager `Certificate` as an item: its row and the Secret it writes.
pub fn certificate_item(o: &DynamicObject) -> Item {
    Item::Issues {
        secret: o
            .data
            .pointer("/spec/secretName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        rows: vec![certificate_row(o)],
    }
}
