//! Scope: the real `ondeck check` binary against the simulated cluster over HTTPS. With an
//! ordinary kubeconfig (a context without a namespace) it covers every pod of every namespace
//! and says `all namespaces` (text and JSON `scope`); `-n NS` narrows to one and says so; a
//! context WITH a namespace still covers all namespaces unless `-n`. A kubeconfig with no
//! current context, and a command line `check` cannot use, are UNKNOWN (3), never OK or 2.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use ondeck::sim::{Kind, SimCluster, SimOptions};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Writes the sim's kubeconfig after `edit` (JSON is YAML: kubeconfig readers take it).
fn write_kubeconfig(
    sim: &SimCluster,
    dir: &Path,
    name: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let mut v = serde_json::to_value(sim.kubeconfig())?;
    edit(&mut v);
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&v)?)?;
    Ok(path)
}

fn context_namespace(ns: Option<&str>) -> impl FnOnce(&mut serde_json::Value) {
    move |v| {
        let ctx = &mut v["contexts"][0]["context"];
        match ns {
            Some(ns) => ctx["namespace"] = ns.into(),
            None => {
                if let Some(o) = ctx.as_object_mut() {
                    o.remove("namespace");
                }
            }
        }
    }
}

/// Runs the binary off the test's runtime (the sim serves on it meanwhile).
async fn ondeck(dir: &Path, args: Vec<String>) -> Result<Output, Box<dyn std::error::Error>> {
    let dir = dir.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ondeck"))
            .args(&args)
            .env("HOME", &dir)
            .env("XDG_CONFIG_HOME", &dir)
            .env("XDG_STATE_HOME", &dir)
            .env_remove("KUBECONFIG")
            .output()
    })
    .await??;
    Ok(out)
}

fn args(list: &[&str], kubeconfig: &Path) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.push("--kubeconfig".into());
    v.push(kubeconfig.display().to_string());
    v
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn namespaces_of(rows: &serde_json::Value) -> BTreeSet<String> {
    rows.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["namespace"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_covers_all_namespaces_unless_n_names_one() -> TestResult {
    let sim = SimCluster::start(SimOptions::named("incident")).await?;
    let dir = tempfile::tempdir()?;
    let state = sim.state();
    let all_pods = state.list(Kind::Pod, None);
    let all_ns: BTreeSet<String> = all_pods
        .iter()
        .filter_map(|p| p["metadata"]["namespace"].as_str().map(str::to_string))
        .collect();
    // None in `default`: where the context's namespace used to confine `check`.
    assert!(
        all_ns.len() >= 3 && !all_ns.contains("default"),
        "the scenario spans namespaces: {all_ns:?}"
    );
    let mut it = all_ns.iter().cloned();
    let (narrow, other) = (
        it.next().ok_or("a namespace")?,
        it.next().ok_or("a second namespace")?,
    );

    // An ordinary kubeconfig: the context has no namespace.
    let plain = write_kubeconfig(&sim, dir.path(), "plain.json", context_namespace(None))?;
    let out = ondeck(
        dir.path(),
        args(&["check", "--json", "--only", "pods,pvcs"], &plain),
    )
    .await?;
    let v = json(&out);
    assert_eq!(v["sources"]["pods"]["status"], "ok", "{v}");
    assert_eq!(v["scope"]["namespaces"], "all", "{}", v["scope"]);
    assert_eq!(v["scope"]["context"], ondeck::sim::CONTEXT);
    assert_eq!(
        v["pods"].as_array().map(Vec::len),
        Some(all_pods.len()),
        "every pod of every namespace"
    );
    assert_eq!(namespaces_of(&v["pods"]), all_ns);
    let claim_ns = namespaces_of(&v["pvcs"]);
    assert!(
        claim_ns.len() >= 2,
        "claims of several namespaces: {claim_ns:?}"
    );

    let out = ondeck(dir.path(), args(&["check", "--only", "pods,pvcs"], &plain)).await?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.contains("all namespaces"), "{first}");
    let pods_line = format!(
        "pods: {} in all namespaces (context {})",
        ondeck::rules::sockets::group(all_pods.len() as u64),
        ondeck::sim::CONTEXT
    );
    assert!(text.contains(&pods_line), "{pods_line:?} in\n{text}");
    assert!(text.contains("claims in all namespaces"), "{text}");

    // -n narrows, and says so.
    let out = ondeck(
        dir.path(),
        args(
            &["check", "--json", "--only", "pods,pvcs", "-n", &narrow],
            &plain,
        ),
    )
    .await?;
    let v = json(&out);
    assert_eq!(v["scope"]["namespace"], narrow.as_str(), "{}", v["scope"]);
    assert!(v["scope"].get("namespaces").is_none());
    let in_narrow = all_pods
        .iter()
        .filter(|p| p["metadata"]["namespace"] == narrow.as_str())
        .count();
    assert_eq!(v["pods"].as_array().map(Vec::len), Some(in_narrow));
    assert_eq!(namespaces_of(&v["pods"]), BTreeSet::from([narrow.clone()]));
    assert!(namespaces_of(&v["pvcs"]).iter().all(|n| *n == narrow));
    let out = ondeck(
        dir.path(),
        args(&["check", "--only", "pods", "-n", &narrow], &plain),
    )
    .await?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("in namespace {narrow}")),
        "{narrow} named in\n{text}"
    );
    assert!(!text.contains("all namespaces"), "{text}");

    // A context WITH a namespace: still every namespace without -n.
    let with_ns = write_kubeconfig(
        &sim,
        dir.path(),
        "with-ns.json",
        context_namespace(Some(&narrow)),
    )?;
    let out = ondeck(
        dir.path(),
        args(&["check", "--json", "--only", "pods"], &with_ns),
    )
    .await?;
    let v = json(&out);
    assert_eq!(v["scope"]["namespaces"], "all");
    assert_eq!(namespaces_of(&v["pods"]), all_ns);
    // ... and -n wins over the context's namespace.
    let out = ondeck(
        dir.path(),
        args(
            &["check", "--json", "--only", "pods", "-n", &other],
            &with_ns,
        ),
    )
    .await?;
    let v = json(&out);
    assert_eq!(v["scope"]["namespace"], other.as_str());
    assert_eq!(namespaces_of(&v["pods"]), BTreeSet::from([other.clone()]));

    // Prometheus names the scope too.
    let out = ondeck(
        dir.path(),
        args(
            &["check", "--format", "prometheus", "--only", "pods"],
            &plain,
        ),
    )
    .await?;
    let prom = String::from_utf8_lossy(&out.stdout);
    let scope_line = format!(
        "ondeck_scope_info{{all_namespaces=\"true\",namespace=\"\",context=\"{}\"}} 1",
        ondeck::sim::CONTEXT
    );
    assert!(prom.lines().any(|l| l == scope_line), "{prom}");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_current_context_is_unknown_not_ok() -> TestResult {
    let sim = SimCluster::start(SimOptions::named("healthy")).await?;
    let dir = tempfile::tempdir()?;
    let kc = write_kubeconfig(&sim, dir.path(), "no-current.json", |v| {
        if let Some(o) = v.as_object_mut() {
            o.remove("current-context");
        }
    })?;
    let out = ondeck(
        dir.path(),
        args(&["check", "--json", "--only", "pods"], &kc),
    )
    .await?;
    assert_eq!(out.status.code(), Some(3), "{}", json(&out));
    let v = json(&out);
    assert_eq!(v["status"], "unknown");
    assert_eq!(v["sources"]["pods"]["status"], "failed");
    assert!(
        v["sources"]["pods"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("current-context")),
        "{v}"
    );
    // With --context the same kubeconfig works.
    let mut with_ctx = args(&["check", "--json", "--only", "pods"], &kc);
    with_ctx.extend(["--context".to_string(), ondeck::sim::CONTEXT.to_string()]);
    let out = ondeck(dir.path(), with_ctx).await?;
    assert_eq!(json(&out)["sources"]["pods"]["status"], "ok");
    sim.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn command_line_errors_of_check_are_unknown() -> TestResult {
    let dir = tempfile::tempdir()?;
    for bad in [
        vec!["check", "--bogus"],
        vec!["check", "--format", "xml"],
        vec!["check", "--only", "sockets,bogus"],
        vec!["-A", "-n", "x", "check"],
        vec!["--refresh", "1ms", "check"],
        vec!["check", "-n", ""],
    ] {
        let out = ondeck(dir.path(), bad.iter().map(|s| s.to_string()).collect()).await?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{bad:?}: {stdout}");
        assert!(stdout.starts_with("ONDECK UNKNOWN - "), "{bad:?}: {stdout}");
    }
    // Help is not an error; other subcommands keep clap's usage exit code.
    let out = ondeck(dir.path(), vec!["check".into(), "--help".into()]).await?;
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("NOT used as a default") && help.contains("-n wins"),
        "--help says which namespace wins: {help}"
    );
    let out = ondeck(dir.path(), vec!["config".into(), "--bogus".into()]).await?;
    assert_eq!(out.status.code(), Some(2));
    Ok(())
}
