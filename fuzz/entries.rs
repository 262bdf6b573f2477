//! One entry point per fuzz target: each feeds one input through a parser of outside input and
//! what consumes its result, and asserts the cheap properties that must hold. Shared by the
//! cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, nightly) and by the stable regression test
//! `tests/fuzz_corpus.rs`, which runs every committed corpus file through the same functions.
//!
//! A failure is a panic: either one from the code under test or one of the asserts below.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, PersistentVolume, PersistentVolumeClaim, Pod};
use ondeck::config::Config;
use ondeck::domain::compact::CompactPod;
use ondeck::sources::kube::client::{self, KubeEnv, TargetArgs};
use ondeck::sources::kube::pvcs::UsageMap;
use ondeck::sources::sockets::netlink::{self, DiagMsg, DumpStats};
use ondeck::sources::sockets::{conntrack, fds, netstat, owners, procnet, sysctl, tally};

/// One fuzz target: its name and its entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name: `(name, entry point)`.
pub const TARGETS: &[Target] = &[
    ("netlink", netlink_datagram),
    ("proc_net_tcp", proc_net_tcp),
    ("proc_text", proc_text),
    ("config_toml", config_toml),
    ("kubeconfig", kubeconfig),
    ("pem", pem),
    ("scenario_yaml", scenario_yaml),
    ("sanitizer", sanitizer),
    ("kube_pods", kube_pods),
    ("kube_pvcs", kube_pvcs),
    ("kube_events", kube_events),
    ("kube_certs", kube_certs),
];

/// A fixed "now" so that a corpus file replays the same way on any day.
fn now() -> Timestamp {
    Timestamp::from_second(1_796_169_600).unwrap_or(Timestamp::UNIX_EPOCH)
}

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

/// Removes this process's scratch directory, if it made one, and returns its path (the corpus
/// test calls it when done, so no `/dev/shm/ondeck-fuzz-PID` is left behind).
#[allow(dead_code)]
pub fn remove_scratch_dir() -> Option<PathBuf> {
    let dir = SCRATCH.get()?;
    let _ = std::fs::remove_dir_all(dir);
    Some(dir.clone())
}

/// A private scratch directory for targets whose parser reads a file by path.
fn scratch_dir() -> &'static Path {
    SCRATCH.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("ondeck-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    })
}

/// netlink sock_diag: the first 4 bytes are the expected sequence number, the rest one datagram.
/// Every record goes through the counting hot path and both decoders; when both decode, they
/// agree.
pub fn netlink_datagram(data: &[u8]) {
    let Some((seq, datagram)) = data.split_first_chunk::<4>() else {
        return;
    };
    let seq = u32::from_ne_bytes(*seq);
    let mut stats = DumpStats::default();
    let mut tally = tally::Tally::default();
    let mut records = 0u64;
    let _ = netlink::walk_datagram(datagram, seq, &mut stats, &mut |payload| {
        records += 1;
        tally.add_raw(payload);
        let own = DiagMsg::parse(payload);
        if let (Some(a), Some(b)) = (own, DiagMsg::parse_with_crate(payload)) {
            assert_eq!(a, b, "the two inet_diag decoders disagree");
        }
        if let Some(m) = own {
            assert_eq!(DiagMsg::peek_state(payload), Some(m.state));
            tally.add(&m);
        }
    });
    assert_eq!(stats.records, records);
    let _ = tally.state_counts();
}

/// /proc/net/tcp and /proc/net/tcp6 images.
pub fn proc_net_tcp(data: &[u8]) {
    for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
        let mut seen = 0u64;
        let stats = procnet::parse_file(data, family, |m| {
            seen += 1;
            assert_eq!(m.family, family);
            let v4 = m.src.is_ipv4() && m.dst.is_ipv4();
            assert_eq!(v4, family == libc::AF_INET as u8, "address family mixed up");
        });
        assert_eq!(stats.records, seen);
        let lines = data.split(|c| *c == b'\n').count() as u64;
        assert!(stats.records + stats.skipped <= lines);
    }
}

/// The small /proc and /proc/sys texts: netstat, PID/limits, conntrack, sysctls, fd links.
pub fn proc_text(data: &[u8]) {
    let _ = owners::parse_socket_link(data);
    let text = String::from_utf8_lossy(data);
    let mut rates = netstat::ListenRates::default();
    let start = std::time::Instant::now();
    // The same file read twice, then half of it: rates between readings, counters that go back.
    let half = (0..=text.len() / 2)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    for (i, part) in [&text[..], &text[..], &text[..half]].iter().enumerate() {
        if let Some(c) = netstat::parse_netstat(part) {
            let _ = rates.update(start + std::time::Duration::from_millis(i as u64), c);
        }
    }
    let _ = fds::parse_nofile_soft(&text);
    let (a, b) = text.split_once('\u{0}').unwrap_or((&text, &text));
    let _ = conntrack::parse_conntrack(Some(a), Some(b));
    let _ = sysctl::parse_u32(&text);
    let _ = sysctl::parse_u64(&text);
    if let Some((lo, hi)) = sysctl::parse_port_range(&text) {
        let _ = (lo, hi);
    }
}

/// The configuration file and a theme file (both TOML from the user).
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_toml(text, Path::new("fuzz.toml")) {
        Ok(_) => {}
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("fuzz.toml"), "error without the path: {msg}");
        }
    }
    let _ = ondeck::ui::theme::Theme::parse("fuzz", text, "fuzz-theme.toml", false);
}

/// A kubeconfig file: resolved with kubectl's precedence (explicit file, then KUBECONFIG with
/// the file merged with itself), then the client certificate's expiry from inline data.
pub fn kubeconfig(data: &[u8]) {
    let path = scratch_dir().join("kubeconfig");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let mut args = TargetArgs {
        kubeconfig: Some(path.clone()),
        ..Default::default()
    };
    let env = KubeEnv::default();
    if let Ok(mut r) = client::resolve(&args, &env)
        && let Some(k) = r.kubeconfig.as_mut()
    {
        // Never read files named by the input (a path could be /dev/zero).
        for a in &mut k.auth_infos {
            if let Some(info) = a.auth_info.as_mut() {
                info.client_certificate = None;
            }
        }
        if let Some(k) = r.kubeconfig.clone() {
            let _ = client::client_cert_not_after_for_fuzz(&k, &r);
        }
    }
    args.kubeconfig = None;
    args.all_namespaces = true;
    let joined = std::env::join_paths([&path, &path]).unwrap_or_default();
    let env = KubeEnv {
        kubeconfig: Some(joined),
        ..Default::default()
    };
    let _ = client::resolve(&args, &env);
}

/// PEM bundles (the kubeconfig client certificate's notAfter).
pub fn pem(data: &[u8]) {
    let _ = client::pem_not_after(data);
}

/// Scenario YAML: parsed; small ones without volume contents are also built into a store.
pub fn scenario_yaml(data: &[u8]) {
    use ondeck::sim::scenario;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sc = match scenario::parse(text, "fuzz.yaml") {
        Ok(sc) => sc,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.yaml"), "{e}");
            return;
        }
    };
    let small = sc.generate.as_ref().is_none_or(|g| {
        g.namespaces <= 3 && g.nodes <= 3 && g.pods <= 20 && g.pvcs <= 20 && g.secrets <= 3
    });
    let writes_files = sc.volumes.iter().any(|v| v.contents.is_some())
        || sc.pvcs.iter().any(|c| c.contents.is_some());
    // Each webhook and APIService caBundle is a freshly generated CA: keep the count small.
    let ca_bundles =
        sc.webhooks.iter().map(|w| w.webhooks.len()).sum::<usize>() + sc.api_services.len();
    if !small || writes_files || sc.secrets.len() > 3 || ca_bundles > 3 {
        return;
    }
    static VOLUMES: OnceLock<Option<ondeck::sim::volumes::VolumeStore>> = OnceLock::new();
    let Some(volumes) = VOLUMES
        .get_or_init(|| ondeck::sim::volumes::VolumeStore::at(scratch_dir().join("volumes")).ok())
    else {
        return;
    };
    let store = ondeck::sim::store::Store::new(16);
    let _ = scenario::build::build(&sc, &mut store.lock(), volumes, now(), "fuzz.yaml");
}

fn is_forbidden(c: char, keep_newlines: bool) -> bool {
    (c < ' ' && !(keep_newlines && c == '\n'))
        || ('\u{7f}'..='\u{9f}').contains(&c)
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Log and name bytes into the sanitizer: nothing below 0x20 survives (newlines only in
/// multi-line text), no DEL, no ESC, no C1, no bidi control; cleaning twice changes nothing.
pub fn sanitizer(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let one = ondeck::sanitize::line(&text);
    assert!(
        !one.chars().any(|c| is_forbidden(c, false)),
        "line() left a control character: {one:?}"
    );
    assert_eq!(
        ondeck::sanitize::line(&one),
        one,
        "line() is not idempotent"
    );
    let many = ondeck::sanitize::multiline(&text);
    assert!(
        !many.chars().any(|c| is_forbidden(c, true)),
        "multiline() left a control character: {many:?}"
    );
    assert_eq!(ondeck::sanitize::multiline(&many), many);
}

/// Elements of a JSON array (or the single object) that decode as `T`; others are skipped, as
/// one odd object in a list must not hide the rest.
fn decode_each<T: serde::de::DeserializeOwned>(v: Option<&serde_json::Value>) -> Vec<T> {
    let items: Vec<serde_json::Value> = match v {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(o @ serde_json::Value::Object(_)) => vec![o.clone()],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|i| serde_json::from_value(i).ok())
        .collect()
}

fn json(data: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(data).ok()
}

/// Pod JSON (one pod or a list) into the pods pane's rows, the detail view and `check --json`.
pub fn kube_pods(data: &[u8]) {
    let Some(v) = json(data) else {
        return;
    };
    let mut interner = ondeck::domain::text::Interner::default();
    let pods: Vec<Arc<CompactPod>> = decode_each::<Pod>(Some(&v))
        .into_iter()
        .map(|p| Arc::new(CompactPod::from_pod(&p, &mut interner)))
        .collect();
    let cfg = Config::default();
    let mut histories = HashMap::new();
    let t = now();
    let rows = ondeck::sources::kube::pods::build_rows(&pods, &mut histories, &cfg.rules.pods, t);
    // A second pass a minute later: restart histories see the same pods again.
    let later = t
        .checked_add(jiff::SignedDuration::from_secs(60))
        .unwrap_or(t);
    let rows2 =
        ondeck::sources::kube::pods::build_rows(&pods, &mut histories, &cfg.rules.pods, later);
    assert_eq!(rows.len(), pods.len());
    assert_eq!(rows2.len(), pods.len());
    for r in &rows {
        let _ = (
            r.age_text(t),
            r.restarts_text(t),
            r.reasons_text(),
            r.containers(),
        );
        if let Some(p) = &r.pod {
            let d = ondeck::sources::kube::detail::pod_detail(&p.to_pod(), r.clone(), Vec::new());
            let _ = d.containers.len();
        }
    }
    let mut out = ondeck::sources::kube::check_json(&rows, t);
    ondeck::sources::kube::sanitize_json(&mut out);
    let _ = serde_json::to_string(&out);
    let _ = ondeck::sources::kube::pods::claim_users(pods.iter().map(|p| p.as_ref()));
}

/// `{"pvcs": [...], "pvs": [...], "pods": [...], "summary": {...}}` into the PVCs pane's rows,
/// the PV rows and `check --json`; `summary` is a kubelet stats summary.
pub fn kube_pvcs(data: &[u8]) {
    let Some(v) = json(data) else {
        return;
    };
    let pvcs: Vec<Arc<PersistentVolumeClaim>> = decode_each(v.get("pvcs"))
        .into_iter()
        .map(|mut c| {
            ondeck::sources::kube::pvcs::strip_pvc(&mut c);
            Arc::new(c)
        })
        .collect();
    let pvs: Vec<Arc<PersistentVolume>> = decode_each(v.get("pvs"))
        .into_iter()
        .map(|mut p| {
            ondeck::sources::kube::pvcs::strip_pv(&mut p);
            Arc::new(p)
        })
        .collect();
    let mut interner = ondeck::domain::text::Interner::default();
    let pods: Vec<Arc<CompactPod>> = decode_each::<Pod>(v.get("pods"))
        .into_iter()
        .map(|p| Arc::new(CompactPod::from_pod(&p, &mut interner)))
        .collect();
    let users = ondeck::sources::kube::pods::claim_users(pods.iter().map(|p| p.as_ref()));
    let mut usage = UsageMap::default();
    // The console reads kubelet summaries from their text without building a JSON tree: it
    // must never panic on any text, and must agree with the tree reader on the same document.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ondeck::sources::kube::pvcs::parse_summary_text(text);
    }
    if let Some(s) = v.get("summary") {
        let from_text = ondeck::sources::kube::pvcs::parse_summary_text(&s.to_string())
            .ok()
            .flatten();
        let from_tree = ondeck::sources::kube::pvcs::parse_summary(s);
        assert_eq!(
            from_text.as_ref().map(Vec::len),
            from_tree.as_ref().map(Vec::len),
            "the text and tree readers of a kubelet summary agree"
        );
    }
    if let Some(s) = v.get("summary")
        && let Some(found) = ondeck::sources::kube::pvcs::parse_summary(s)
    {
        usage.by_claim.extend(found);
    }
    let cfg = Config::default();
    let t = now();
    let mut rows =
        ondeck::sources::kube::pvcs::build_rows(&pvcs, &pvs, &users, &usage, &cfg.rules.pvcs, t);
    assert_eq!(rows.len(), pvcs.len());
    let pv_rows = ondeck::sources::kube::pvcs::build_pv_rows(&pvs, &cfg.rules.pvcs, t);
    assert_eq!(pv_rows.len(), pvs.len());
    for r in &rows {
        let _ = (
            r.age_text(t),
            r.access_modes_text(),
            r.used_by_text(),
            r.markers_text(),
            r.reasons_text(),
            r.used.used_bytes(),
            r.users.iter().map(|u| u.text()).collect::<Vec<_>>(),
        );
    }
    for r in &pv_rows {
        let _ = (r.age_text(t), r.reasons_text());
    }
    let mut out = ondeck::sources::kube::pvcs_check_json(&rows, t);
    ondeck::sources::kube::sanitize_json(&mut out);
    let mut out2 = ondeck::sources::kube::pvs_check_json(&pv_rows, t);
    ondeck::sources::kube::sanitize_json(&mut out2);
    let _ = (serde_json::to_string(&out), serde_json::to_string(&out2));
    ondeck::sources::kube::pvcs::forget_users(&mut rows, "pods are forbidden", &cfg.rules.pvcs, t);
    for r in &rows {
        // Users unknown: never UNUSED, and a Terminating claim is critical.
        assert!(!r.has_marker(ondeck::domain::pvcs::Marker::Unused));
        if r.terminating() && cfg.rules.pvcs.terminating_in_use == ondeck::domain::Level::Critical {
            assert_eq!(r.level, ondeck::domain::Level::Critical);
        }
    }
}

/// Event JSON (one or a list) into the per-pod event book the detail view reads.
pub fn kube_events(data: &[u8]) {
    let Some(v) = json(data) else {
        return;
    };
    let events: Vec<Event> = decode_each(Some(&v));
    let mut book = ondeck::sources::kube::events::EventBook::default();
    for e in &events {
        let _ = ondeck::sources::kube::events::pod_event(e);
        book.apply(e);
    }
    let map = book.to_map();
    for list in map.values() {
        assert!(list.len() <= ondeck::sources::kube::events::PER_POD);
        let _ = ondeck::sources::kube::events::newest(list);
    }
    for e in &events {
        book.delete(e);
    }
    assert!(book.to_map().is_empty(), "deleting every event leaves none");
}

/// The certificates source's Kubernetes decoders: TLS Secrets (`tls.crt`/`ca.crt` base64 PEM,
/// `tls.key` never parsed), Ingresses (the hosts that break), cert-manager Certificates (status
/// through `DynamicObject`), webhook configurations and APIServices (`caBundle`), into rows that
/// the rules assess and a snapshot that counts them. JSON `{"secrets": [...], "ingresses": [...],
/// "certificates": [...], "validating": [...], "mutating": [...], "apiservices": [...]}`.
pub fn kube_certs(data: &[u8]) {
    use k8s_openapi::api::admissionregistration::v1::{
        MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
    };
    use k8s_openapi::api::core::v1::Secret;
    use k8s_openapi::api::networking::v1::Ingress;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
    use ondeck::domain::certs::{CertBatch, CertSource, CertsSnapshot};
    use ondeck::sources::certs::cluster::{self, Item};

    let Some(v) = json(data) else {
        return;
    };
    let mut rows = Vec::new();
    for s in decode_each::<Secret>(v.get("secrets")) {
        rows.extend(ondeck::sources::certs::secrets::secret_rows(&s));
    }
    for i in decode_each::<Ingress>(v.get("ingresses")) {
        if let Item::Uses(u) = cluster::ingress_item(&i) {
            for (_, text) in &u {
                assert!(
                    text.contains("(ingress "),
                    "a dependent names its Ingress: {text}"
                );
            }
        }
    }
    for c in decode_each::<kube::api::DynamicObject>(v.get("certificates")) {
        rows.push(cluster::certificate_row(&c));
    }
    let mut items = Vec::new();
    for c in decode_each::<ValidatingWebhookConfiguration>(v.get("validating")) {
        items.push(cluster::validating_item(&c));
    }
    for c in decode_each::<MutatingWebhookConfiguration>(v.get("mutating")) {
        items.push(cluster::mutating_item(&c));
    }
    for a in decode_each::<APIService>(v.get("apiservices")) {
        items.push(cluster::apiservice_item(&a));
    }
    for i in items {
        rows.extend(cluster::rows(i));
    }
    let cfg = Config::default();
    let t = now();
    for r in &rows {
        let _ = ondeck::rules::certs::assess(r, &cfg.rules.certs, t);
        let _ = ondeck::rules::certs::subject(r);
        let _ = (r.seconds_left(t), r.position(), r.key());
    }
    let _ = ondeck::rules::certs::evaluate(&rows, &cfg.rules.certs, t);
    let n = rows.len();
    let batch = CertBatch {
        origin: CertSource::Secret,
        rows,
        error: None,
        at: t,
        diagnoses: Vec::new(),
    };
    let snap = CertsSnapshot::from_batches([&batch]);
    assert_eq!(
        snap.rows.len(),
        n,
        "a snapshot keeps every row of its batch"
    );
}
