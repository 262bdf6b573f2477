//! `ondeck check --format prometheus` read by the real consumers: `promtool check metrics` must
//! accept it, and node_exporter's textfile collector must read it without a scrape error and
//! serve `ondeck_status` over loopback. CI installs both (Debian's `prometheus` and
//! `prometheus-node-exporter`); there (CI set) a missing tool fails the test, elsewhere it is
//! skipped with the reason printed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The tool's path, or `None` (skip) outside CI; in CI a missing tool is a failure.
fn tool(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !ci,
        "{} not installed: CI must install it (.ci/run installs Debian's prometheus and \
         prometheus-node-exporter)",
        names.join(" or ")
    );
    println!("skipped: {} not installed", names.join(" or "));
    None
}

/// `ondeck check --format prometheus ARGS` with an empty config home.
fn check_prometheus(args: &[&str], home: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--format", "prometheus"])
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run ondeck check");
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    // Exit codes 0-3 are the Nagios status; anything else (101: a panic) is a failure.
    assert!(
        matches!(out.status.code(), Some(0..=3)),
        "ondeck check exited {:?}: {}\n{text}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("\nondeck_status "), "{text}");
    text
}

fn promtool_accepts(promtool: &Path, metrics: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    child
        .stdin
        .take()
        .expect("promtool stdin")
        .write_all(metrics.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool result");
    assert!(
        out.status.success(),
        "promtool check metrics rejected the output:\n{}{}\n--- output ---\n{metrics}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Kills the child (our own node_exporter) when the test ends, however it ends.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_loopback_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One plain HTTP/1.0 GET over loopback; `None` while nothing listens yet.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

/// node_exporter with only the textfile collector, reading `dir`; its /metrics once it answers.
fn scrape_textfile(exporter: &Path, dir: &Path) -> String {
    let port = free_loopback_port();
    let child = Command::new(exporter)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--collector.disable-defaults")
        .arg("--collector.textfile")
        .arg(format!("--collector.textfile.directory={}", dir.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node_exporter");
    let mut reaper = Reaper(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(r) = get(port, "/metrics")
            && r.starts_with("HTTP/1.")
        {
            return r;
        }
        if let Ok(Some(status)) = reaper.0.try_wait() {
            panic!("node_exporter exited before serving: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "node_exporter did not answer on 127.0.0.1:{port} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every `ondeck_check_level` series of `metrics` is served: node_exporter drops (and only logs)
/// series it has seen before, so a duplicate shows up as a missing line here.
fn served_every_check(metrics: &str, scraped: &str) {
    assert!(
        scraped.lines().any(|l| l == "node_textfile_scrape_error 0"),
        "node_exporter reported a textfile scrape error:\n{scraped}"
    );
    let count = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("ondeck_check_level{"))
            .count()
    };
    assert_eq!(
        count(metrics),
        count(scraped),
        "node_exporter does not serve every check:\n--- written ---\n{metrics}\n--- served ---\n{scraped}"
    );
}

#[test]
fn promtool_and_node_exporter_accept_check_output() {
    let Some(promtool) = tool(&["promtool"]) else {
        return;
    };
    let Some(exporter) = tool(&["prometheus-node-exporter", "node_exporter"]) else {
        return;
    };
    let home = tempfile::tempdir().expect("temp dir");
    let metrics = check_prometheus(&["--demo"], home.path());
    assert!(metrics.contains("ondeck_check_level{"), "{metrics}");
    promtool_accepts(&promtool, &metrics);

    let dir = tempfile::tempdir().expect("textfile dir");
    std::fs::write(dir.path().join("ondeck.prom"), &metrics).expect("write textfile");
    let scraped = scrape_textfile(&exporter, dir.path());
    let status = metrics
        .lines()
        .find(|l| l.starts_with("ondeck_status "))
        .expect("ondeck_status in the output");
    assert!(
        scraped.lines().any(|l| l == status),
        "node_exporter does not serve `{status}`:\n{scraped}"
    );
    served_every_check(&metrics, &scraped);
}

/// Three pods whose names clean up to the same text (`api\u{7}x`, `api\u{8}x` and `api\u{FFFD}x`
/// all read `api\u{FFFD}x`): still three series each, accepted by both consumers.
#[test]
fn names_that_clean_up_alike_stay_separate_series() {
    let Some(promtool) = tool(&["promtool"]) else {
        return;
    };
    let Some(exporter) = tool(&["prometheus-node-exporter", "node_exporter"]) else {
        return;
    };
    let home = tempfile::tempdir().expect("temp dir");
    let scenario = home.path().join("alike.yaml");
    std::fs::write(
        &scenario,
        "pods:\n\
         \x20 - { namespace: web, name: \"api\\u0007x\", state: CrashLoopBackOff }\n\
         \x20 - { namespace: web, name: \"api\\u0008x\", state: CrashLoopBackOff }\n\
         \x20 - { namespace: web, name: \"api\\ufffdx\", state: CrashLoopBackOff }\n",
    )
    .expect("write scenario");
    let kubeconfig = home.path().join("kubeconfig");
    let sim = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["sim", "serve", "--scenario"])
        .arg(&scenario)
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ondeck sim serve");
    let mut sim = Reaper(sim);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&kubeconfig).is_ok_and(|k| k.contains("current-context")) {
        if let Ok(Some(status)) = sim.0.try_wait() {
            panic!("ondeck sim serve exited: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "no kubeconfig from sim serve within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let kc = kubeconfig.to_str().expect("UTF-8 path");
    let metrics = check_prometheus(&["--kubeconfig", kc, "-A", "--only", "pods"], home.path());
    // Each pod is its own series (names that clean up alike get a hash suffix where they enter).
    let waiting: std::collections::HashSet<&str> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("ondeck_check_level{") && l.contains("name=\"pod_waiting_reason\"")
        })
        .filter(|l| l.contains("subject=\"web/api"))
        .collect();
    assert!(
        waiting.len() >= 3,
        "three pods, three series each:\n{metrics}"
    );
    assert!(
        !metrics.contains('\u{7}') && !metrics.contains('\u{8}'),
        "{metrics}"
    );
    promtool_accepts(&promtool, &metrics);

    let dir = tempfile::tempdir().expect("textfile dir");
    std::fs::write(dir.path().join("ondeck.prom"), &metrics).expect("write textfile");
    let scraped = scrape_textfile(&exporter, dir.path());
    served_every_check(&metrics, &scraped);
}

/// `check --demo --only probes --format prometheus`: the probe metrics (success, per-phase
/// durations, status code) of the demo's endpoints, accepted by promtool.
#[test]
fn probe_metrics_pass_promtool() {
    let Some(promtool) = tool(&["promtool"]) else {
        return;
    };
    let home = tempfile::tempdir().expect("temp dir");
    let metrics = check_prometheus(&["--demo", "--only", "probes"], home.path());
    for want in [
        "ondeck_probe_success{name=\"demo-healthy\"} 1",
        "ondeck_probe_success{name=\"demo-refused\"} 0",
        "ondeck_probe_status_code{name=\"demo-healthy\"} 200",
        "ondeck_probe_duration_seconds{name=\"demo-healthy-tls\",phase=\"tls\"} ",
    ] {
        assert!(metrics.contains(want), "no `{want}` in:\n{metrics}");
    }
    promtool_accepts(&promtool, &metrics);
}
