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
        "[sockets]\ntop_n = 1000\n\n[rules.sockets]\nclose_wait = [\n  {{ level = \"warning\", op = \">\", value = {warn_above}, for = \"15m\" }},\n  {{ level = \"critical\", op = \">\", value = {crit_above}, for = \"5m\" }},\n]\n"
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
