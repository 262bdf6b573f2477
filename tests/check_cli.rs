//! `ondeck check` end to end with the real kernel and the real binary: this test holds 1,500
//! sockets in CLOSE_WAIT, then runs `ondeck check --json --only sockets` and checks the count on
//! its port, the owning process (this test), the peer, and the Nagios exit code for a warning
//! and for a critical threshold.
//!
//! Other processes on the machine may hold CLOSE_WAIT sockets too, so the thresholds are set
//! relative to the count measured just before, with wide margins.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const N: u64 = 1500;

struct CloseWaitArmy {
    listener: TcpListener,
    _accepted: Vec<TcpStream>,
}

impl CloseWaitArmy {
    fn new(n: u64) -> CloseWaitArmy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut clients = Vec::new();
        let mut accepted = Vec::new();
        for _ in 0..n {
            clients.push(TcpStream::connect(addr).expect("connect"));
            accepted.push(listener.accept().expect("accept").0);
        }
        drop(clients); // each client's FIN puts the accepted socket in CLOSE_WAIT
        CloseWaitArmy {
            listener,
            _accepted: accepted,
        }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().expect("addr").port()
    }
}

fn check_json(config: &Path) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--json", "--only", "sockets", "--config"])
        .arg(config)
        .env("XDG_STATE_HOME", config.parent().expect("dir"))
        .output()
        .expect("run ondeck check");
    let code = out.status.code().expect("exit code");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check --json printed invalid JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (code, v)
}

fn write_config(dir: &Path, warn_above: u64, crit_above: u64) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        // Only CLOSE_WAIT is judged: the host's other figures (a `--demo` started by a test
        // running alongside holds a full-backlog listener) must not decide the exit code.
        "[sockets]\ntop_n = 1000\n\n[rules.sockets]\ntime_wait = []\nlisten_overflows_per_sec = []\naccept_queue_pct = []\nprocess_fd_pct = []\nconntrack_pct = []\nclose_wait = [\n  {{ level = \"warning\", op = \">\", value = {warn_above}, for = \"15m\" }},\n  {{ level = \"critical\", op = \">\", value = {crit_above}, for = \"5m\" }},\n]\n"
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn port_count(v: &serde_json::Value, port: u16) -> u64 {
    v["sockets"]["close_wait_by_local_port"]
        .as_array()
        .expect("close_wait_by_local_port")
        .iter()
        .find(|p| p["port"] == port)
        .and_then(|p| p["count"].as_u64())
        .unwrap_or(0)
}

#[test]
fn check_counts_attributes_and_exits_with_nagios_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Baseline: CLOSE_WAIT sockets that other processes hold right now.
    let (_, before) = check_json(&write_config(dir.path(), 1_000_000, 2_000_000));
    let baseline = before["sockets"]["states"]["CLOSE_WAIT"]
        .as_u64()
        .expect("count");

    let army = CloseWaitArmy::new(N);
    let port = army.port();

    // Warning: over the warning threshold, far below the critical one.
    let config = write_config(dir.path(), baseline + N / 2, baseline + N + 50_000);
    let deadline = Instant::now() + Duration::from_secs(5);
    let (code, v) = loop {
        let (code, v) = check_json(&config);
        if port_count(&v, port) == N || Instant::now() > deadline {
            break (code, v);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(port_count(&v, port), N, "CLOSE_WAIT on our port: {v}");
    assert!(
        v["sockets"]["states"]["CLOSE_WAIT"]
            .as_u64()
            .expect("count")
            >= N
    );
    let me = std::process::id();
    let mine = v["sockets"]["top_close_wait"]
        .as_array()
        .expect("top_close_wait")
        .iter()
        .find(|p| p["pid"] == me)
        .unwrap_or_else(|| panic!("this test (pid {me}) not among the holders: {v}"));
    assert!(mine["count"].as_u64().expect("count") >= N);
    assert!(
        v["sockets"]["top_close_wait_peers"]
            .as_array()
            .expect("peers")
            .iter()
            .any(|p| p["peer"] == "127.0.0.1" && p["count"].as_u64().unwrap_or(0) >= N)
    );
    assert_eq!(v["status"], "warning", "{v}");
    assert_eq!(code, 1, "warning exits 1");
    let cw = v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "close_wait")
        .expect("close_wait check");
    assert_eq!(cw["level"], "warning");
    assert_eq!(cw["for_evaluated"], false);

    // Critical: the same sockets over the critical threshold.
    let config = write_config(dir.path(), baseline + N / 4, baseline + N / 2);
    let (code, v) = check_json(&config);
    assert_eq!(v["status"], "critical", "{v}");
    assert_eq!(code, 2, "critical exits 2");

    // Cleared: with the sockets closed, the same thresholds are ok again.
    drop(army);
    let deadline = Instant::now() + Duration::from_secs(5);
    let code = loop {
        let (code, v) = check_json(&config);
        if port_count(&v, port) == 0 || Instant::now() > deadline {
            break code;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, 0, "ok exits 0 once the sockets are closed");
}

#[test]
fn bad_config_is_unknown_with_path_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "refresh = \"1s\"\n[sockets]\nbogus = 1\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3), "UNKNOWN on a bad config");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ONDECK UNKNOWN - config: "), "{text}");
    assert!(text.contains(&format!("{}:3:1", path.display())), "{text}");
    assert!(text.contains("bogus"), "{text}");

    // The console refuses it too, with the same position, and a non-zero exit.
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .arg("--config")
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:1", path.display())), "{err}");
}

#[test]
fn prometheus_and_text_formats_run_for_real() {
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--format", "prometheus", "--only", "sockets"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# TYPE ondeck_tcp_sockets gauge"), "{text}");
    assert!(
        text.contains("ondeck_tcp_sockets{state=\"LISTEN\"}"),
        "{text}"
    );
    assert!(
        text.contains("ondeck_source_up{source=\"sockets\"} 1"),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--only", "sockets"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("ONDECK "), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--only", "bogus"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
}

/// Argument errors are UNKNOWN (3), never clap's 2 (CRITICAL for Nagios), and they come in the
/// format asked for: a Prometheus textfile gets Prometheus (`ondeck_status 3`), JSON gets JSON.
#[test]
fn argument_errors_exit_3_in_the_format_asked_for() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
            .args(args)
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&["check", "--bogus"]);
    assert_eq!(code, Some(3));
    assert!(out.starts_with("ONDECK UNKNOWN - command line: "), "{out}");
    let (code, out, err) = run(&["check", "--format", "prometheus", "--bogus"]);
    assert_eq!(code, Some(3));
    assert!(
        !out.contains("ONDECK"),
        "Nagios text in a Prometheus file: {out}"
    );
    assert!(out.ends_with("ondeck_status 3\n"), "{out}");
    assert!(err.contains("--bogus"), "{err}");
    let (code, out, _) = run(&["check", "--format=json", "--only", "nope"]);
    assert_eq!(code, Some(3));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["status"], "unknown");
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains("nope")),
        "{v}"
    );
    let (code, out, _) = run(&["check", "--format", "prometheus", "--only", "nope"]);
    assert_eq!(code, Some(3));
    assert!(out.ends_with("ondeck_status 3\n"), "{out}");
}

/// An error whose message already quotes its cause is printed once, not
/// "Is a directory (os error 21): Is a directory (os error 21)".
#[test]
fn an_error_is_printed_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [vec!["--config"], vec!["check", "--config"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
            .args(&args)
            .arg(dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run");
        assert!(!out.status.success());
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(all.matches("Is a directory").count(), 1, "{args:?}: {all}");
    }
}

/// Started without a terminal (stdout a pipe), the console writes no terminal codes at all,
/// only its error on stderr, and exits non-zero.
#[test]
fn the_console_without_a_terminal_writes_no_terminal_codes() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !out.stderr.contains(&0x1b),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a terminal"), "{err}");
}

/// `--demo --scenario PATH`: a scenario file is accepted like a built-in name (and a missing
/// one is a clear UNKNOWN naming it).
#[test]
fn demo_takes_a_scenario_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.yaml");
    std::fs::write(
        &path,
        "name: mine\nnamespaces: [shop]\npods:\n  - namespace: shop\n    name: cart-0\n    state: CrashLoopBackOff\n    restarts: 3\n    lastRestart: -1m\n    created: -1h\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--json", "--only", "pods", "--demo", "--scenario"])
        .arg(&path)
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(out.status.code(), Some(2), "{v}");
    assert!(v.to_string().contains("cart-0"), "{v}");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--only", "pods", "--demo", "--scenario"])
        .arg(dir.path().join("missing.yaml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("missing.yaml"), "{text}");
}
