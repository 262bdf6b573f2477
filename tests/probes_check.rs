//! `ondeck check --demo --only probes`: the real binary probes the demo's local endpoints and
//! reports each failing one with its phase, in JSON (the documented row shape) and in text.

use std::process::{Command, Stdio};

fn check(args: &[&str]) -> (i32, String) {
    let home = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--demo", "--only", "probes"])
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run ondeck check");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn check_demo_reports_failing_endpoints_with_their_phases() {
    let (code, out) = check(&["--json"]);
    assert_eq!(code, 2, "a failing probe is critical in one shot:\n{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["status"], "critical");
    let rows = v["probes"].as_array().expect("probes rows");
    let by_name = |n: &str| {
        rows.iter()
            .find(|r| r["name"] == n)
            .unwrap_or_else(|| panic!("no row {n} in {out}"))
    };
    for (name, phase, words) in [
        ("demo-refused", "connect", "connect refused"),
        ("demo-backlog-full", "connect", "connect timed out after 1s"),
        ("demo-stalled", "headers", "headers: no response within 3s"),
        (
            "demo-tls-stall",
            "tls",
            "TLS handshake timed out after 2s (connect took ",
        ),
        ("demo-wrong-body", "body", "body did not match"),
        ("demo-slow-body", "body", "body: transfer not done"),
        (
            "demo-expired-cert",
            "tls",
            "certificate expired on 2025-01-01",
        ),
    ] {
        let r = by_name(name);
        assert_eq!(r["ok"], false, "{r}");
        assert_eq!(r["level"], "critical", "{r}");
        assert_eq!(r["failed_phase"], phase, "{r}");
        let e = r["error"].as_str().unwrap_or("");
        assert!(e.starts_with(words), "{name}: {e}");
        assert_eq!(r["consecutive_failures"], 1, "{r}");
        assert!(r["timings_ms"]["total"].as_f64().is_some(), "{r}");
    }
    // Healthy ones: every documented member, phases timed, no failure.
    let ok = by_name("demo-healthy-tls");
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["level"], "ok");
    assert_eq!(ok["status_code"], 200);
    assert!(ok["failed_phase"].is_null() && ok["error"].is_null());
    for phase in ["dns", "connect", "tls", "headers", "transfer", "total"] {
        assert!(ok["timings_ms"][phase].as_f64().is_some(), "{phase}: {ok}");
    }
    assert!(
        ok["peer"]
            .as_str()
            .is_some_and(|p| p.starts_with("127.0.0.1:"))
    );
    assert!(ok["reasons"].as_array().is_some_and(|r| r.is_empty()));
    // The slow endpoint answers within its 3 s headers deadline.
    let slow = by_name("demo-slow-db");
    assert_eq!(slow["ok"], true, "{slow}");
    assert!(
        slow["timings_ms"]["headers"]
            .as_f64()
            .is_some_and(|h| h >= 2500.0)
    );
    // One check per probe and rule.
    let checks = v["checks"].as_array().expect("checks");
    assert!(
        checks.iter().any(|c| c["name"] == "probe_failing"
            && c["subject"] == "demo-refused"
            && c["level"] == "critical"),
        "{out}"
    );

    // The Kubernetes probe audit of the demo cluster: a readiness timeout below its p99.
    let audit = v["probe_audit"]["rows"]
        .as_array()
        .expect("probe_audit rows");
    let finding = audit
        .iter()
        .find(|r| !r["finding"].is_null())
        .unwrap_or_else(|| panic!("no audit finding in {out}"));
    assert!(
        finding["finding"]
            .as_str()
            .is_some_and(|f| f.starts_with("readiness timeout 1s is below this endpoint's p99 ")),
        "{finding}"
    );
    assert_eq!(finding["timeout_seconds"], 1);
    assert_eq!(finding["level"], "warning");
    assert!(
        checks
            .iter()
            .any(|c| c["name"] == "probe_timeout_below_p99" && c["level"] == "warning"),
        "{out}"
    );

    let (_, text) = check(&[]);
    assert!(text.contains("probe audit "), "{text}");
    assert!(
        text.contains("probe demo-refused: CRITICAL failed in connect: connect refused"),
        "{text}"
    );
    assert!(text.contains("probe demo-healthy: OK 200 in "), "{text}");

    // --attempts N: each probe N times in a row; every one failed is still critical.
    let (code, out) = check(&["--json", "--attempts", "2"]);
    assert_eq!(code, 2, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let refused = v["probes"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["name"] == "demo-refused"))
        .expect("demo-refused")
        .clone();
    assert_eq!(refused["consecutive_failures"], 2, "{refused}");
    assert_eq!(refused["attempts"], 2, "{refused}");
    assert_eq!(refused["level"], "critical", "{refused}");
}
