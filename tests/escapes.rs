//! Clean everywhere: the simulated cluster loaded with a scenario full of hostile strings
//! (tests/fixtures/scenarios/hostile.yaml: CSI and OSC escape sequences, BEL, the C1 CSI
//! U+009B, CR/LF, a bidi override, 300-character names) through the real binary
//! (`check --demo --scenario PATH`). No byte below 0x20 (but newline between lines), no DEL, no
//! C1 control and no bidi override reaches `check --json` string values (nor JSON-escaped ESC),
//! the Nagios text, or the Prometheus text, whose labels promtool must accept with no
//! duplicate series. (The alert hook's environment and audit lines have their own tests in
//! `rules::hook` and `actions::audit`.)

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/hostile.yaml")
}

fn check(args: &[&str]) -> (i32, String) {
    let home = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--demo", "--scenario"])
        .arg(scenario())
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    let code = out.status.code().expect("exit code");
    assert!(
        matches!(code, 0..=3),
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        code,
        String::from_utf8(out.stdout).expect("UTF-8 output (lossy at ingestion if need be)"),
    )
}

/// The characters no output may hold (a newline is allowed where `newline_ok`).
fn bad_chars(s: &str, newline_ok: bool) -> Vec<(usize, char)> {
    s.char_indices()
        .filter(|(_, c)| {
            let c = *c;
            (c < ' ' && !(newline_ok && c == '\n'))
                || c == '\u{7f}'
                || ('\u{80}'..='\u{9f}').contains(&c)
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

fn assert_clean(what: &str, s: &str, newline_ok: bool) {
    let bad = bad_chars(s, newline_ok);
    assert!(
        bad.is_empty(),
        "{what}: {} bad characters, first {:?} in {:?}",
        bad.len(),
        bad[0].1,
        &s[bad[0].0.saturating_sub(40)..(bad[0].0 + 10).min(s.len())]
    );
}

fn walk(path: &str, v: &serde_json::Value, strings: &mut usize) {
    match v {
        serde_json::Value::String(s) => {
            *strings += 1;
            assert_clean(path, s, false);
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(&format!("{path}[{i}]"), x, strings);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                assert_clean(&format!("{path} key"), k, false);
                walk(&format!("{path}.{k}"), x, strings);
            }
        }
        _ => {}
    }
}

#[test]
fn the_scenario_really_is_hostile() {
    let sc = ondeck::sim::scenario::ScenarioSource::Path(scenario())
        .load()
        .expect("the hostile scenario loads")
        .0;
    let names: Vec<&str> = sc.pods.iter().map(|p| p.name.as_str()).collect();
    assert!(names.iter().any(|n| n.contains('\u{1b}')), "{names:?}");
    assert!(names.iter().any(|n| n.contains('\u{9b}')), "{names:?}");
    assert!(names.iter().any(|n| n.contains('\n')), "{names:?}");
    assert!(names.iter().any(|n| n.contains('\u{202e}')), "{names:?}");
    assert!(names.iter().any(|n| n.len() >= 300), "{names:?}");
}

#[test]
fn check_json_string_values_are_clean() {
    let (code, out) = check(&["--json"]);
    assert_eq!(code, 2, "the crash-looping pod is critical: {out}");
    // No raw control byte anywhere, and none JSON-escaped either.
    assert_clean("check --json raw", &out, true);
    for esc in ["\\u001b", "\\u0007", "\\u009b", "\\r", "\\u202e"] {
        assert!(!out.contains(esc), "check --json holds {esc}");
    }
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let mut strings = 0;
    walk("$", &v, &mut strings);
    assert!(strings > 50, "{strings} strings only");
    // The hostile pod is there, cleaned (its readable parts kept).
    let text = v.to_string();
    assert!(text.contains("pod-RED"), "{text}");
    assert!(text.contains("FAKE=1"), "{text}");
}

#[test]
fn check_text_is_clean() {
    let (code, out) = check(&[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.starts_with("ONDECK CRITICAL "), "{out}");
    assert_clean("check text", &out, true);
    // A hostile newline never starts a line of its own: every line is ondeck's.
    assert!(
        !out.lines().any(|l| l.starts_with("FAKE=1")),
        "a name's newline reached the output:\n{out}"
    );
}

#[test]
fn prometheus_labels_are_clean_unique_and_promtool_accepts_them() {
    let (_, out) = check(&["--format", "prometheus"]);
    assert_clean("prometheus", &out, true);
    // No duplicate series (node_exporter rejects a file with one).
    let mut series: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s))
        .collect();
    let n = series.len();
    series.sort_unstable();
    series.dedup();
    assert_eq!(series.len(), n, "duplicate series:\n{out}");
    let promtool = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("promtool"))
        .find(|p| p.is_file());
    let Some(promtool) = promtool else {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(
            !ci,
            "promtool not installed: CI must install Debian's prometheus"
        );
        println!("skipped promtool: not installed");
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(out.as_bytes())
        .expect("write");
    let res = child.wait_with_output().expect("promtool");
    assert!(
        res.status.success(),
        "promtool check metrics: {}{}\n{out}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}
