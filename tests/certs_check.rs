//! `ondeck check --demo --only certs`: every source and verdict of the demo in the JSON rows,
//! the expired ones critical, exit 2; the text lines say the same.

use std::process::{Command, Stdio};

fn check(args: &[&str]) -> (Option<i32>, String) {
    let home = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--demo", "--only", "certs"])
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run ondeck check");
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

#[test]
fn demo_certs_json_rows_and_exit_2() {
    let (code, out) = check(&["--json"]);
    assert_eq!(code, Some(2), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["status"], "critical");
    let rows = v["certs"].as_array().expect("certs rows");
    let find = |pred: &dyn Fn(&serde_json::Value) -> bool| rows.iter().find(|r| pred(r)).cloned();
    let loc =
        |r: &serde_json::Value, s: &str| r["location"].as_str().is_some_and(|l| l.contains(s));
    // Every row has the documented shape.
    for r in rows {
        for k in [
            "source",
            "location",
            "subject",
            "issuer",
            "sans",
            "serial",
            "sha256",
            "not_before",
            "not_after",
            "days_left",
            "chain_position",
            "verify",
            "level",
            "reasons",
        ] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
    }
    let expired_ep = find(&|r| loc(r, "(demo: expired)")).expect("expired endpoint");
    assert_eq!(expired_ep["level"], "critical");
    assert_eq!(expired_ep["verify"], "expired");
    assert!(expired_ep["days_left"].as_f64().is_some_and(|d| d < 0.0));
    assert_eq!(expired_ep["chain_position"], "leaf");
    let secret =
        find(&|r| r["source"] == "secret" && loc(r, "web/frontend-tls")).expect("expired secret");
    assert_eq!(secret["level"], "critical");
    assert!(
        secret["reasons"][0]
            .as_str()
            .is_some_and(|s| s.starts_with("EXPIRED")),
        "{secret}"
    );
    for (what, verify) in [
        ("(demo: name mismatch)", "name_mismatch"),
        ("(demo: self-signed)", "untrusted"),
        ("(demo: incomplete chain)", "incomplete_chain"),
        ("(demo: 2 days left)", "ok"),
    ] {
        let r = find(&|r| loc(r, what)).unwrap_or_else(|| panic!("{what} missing"));
        assert_eq!(r["verify"], verify, "{r}");
    }
    assert_eq!(
        find(&|r| loc(r, "(demo: name mismatch)")).expect("row")["level"],
        "critical"
    );
    assert_eq!(
        find(&|r| loc(r, "(demo: 2 days left)")).expect("row")["level"],
        "critical"
    );
    assert_eq!(
        find(&|r| loc(r, "(demo: self-signed)")).expect("row")["level"],
        "warning"
    );
    // The demo kubeconfig's client certificate expires in 3 days; the API server is fine.
    let client = find(&|r| r["source"] == "kubeconfig" && r["chain_position"] == "leaf")
        .expect("client cert");
    assert!(
        client["days_left"]
            .as_f64()
            .is_some_and(|d| (2.0..=3.1).contains(&d)),
        "{client}"
    );
    assert_eq!(client["level"], "critical");
    let api = find(&|r| r["source"] == "apiserver").expect("apiserver row");
    assert_eq!(api["verify"], "ok");
    assert!(
        rows.iter()
            .any(|r| r["source"] == "kubeconfig" && r["chain_position"] == "root")
    );
    // Checks carry the certificate rules.
    let checks = v["checks"].as_array().expect("checks");
    assert!(
        checks.iter().any(|c| c["source"] == "certs"
            && c["name"] == "cert_expiry"
            && c["level"] == "critical")
    );
}

#[test]
fn demo_certs_text_names_the_expired_ones() {
    let (code, out) = check(&["--format", "text"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.starts_with("ONDECK CRITICAL"), "{out}");
    assert!(
        out.contains("certs: CRITICAL secret web/frontend-tls (shop.example.com): EXPIRED"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("certs: ") && l.contains("next expiry")),
        "{out}"
    );
}
