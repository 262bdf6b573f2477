//! Invalid config files fail with a specific message and the line and column of the offending
//! value (bottom's tests/invalid_configs style: one file per bad config in
//! tests/fixtures/invalid_configs/). Every number from the file is range-checked where it
//! enters; nothing reaches date arithmetic or the layout unchecked. Also through the binary:
//! a bad file is exit 3 for `check` with the message on stderr, never a panic.

use std::path::{Path, PathBuf};

use ondeck::config::{Config, ConfigError};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/invalid_configs")
        .join(name)
}

/// (file, line, column, the message after `path:line:col: `).
const CASES: &[(&str, usize, usize, &str)] = &[
    (
        "huge_duration.toml",
        4,
        14,
        "duration \"300000000y\" is out of range (at most 366 days)",
    ),
    (
        "overflowing_duration.toml",
        2,
        18,
        "invalid duration \"99999999999999999999s\": number is too large or cannot be represented \
         without a lack of precision (values below 1ns are not supported)",
    ),
    (
        "unknown_pane.toml",
        2,
        49,
        "layout.grid: unknown pane \"dashboard\" (valid: sockets, alerts, pods, pvcs, certs, probes)",
    ),
    (
        "too_many_panes_in_a_row.toml",
        3,
        9,
        "layout.grid row 1 has 5 panes but at most 4 fit in min_grid_cols = 160 (40 columns each)",
    ),
    (
        "too_many_rows.toml",
        3,
        8,
        "layout.grid has 6 rows but at most 5 fit in min_grid_rows = 45 (8 rows each)",
    ),
    (
        "duplicate_pane.toml",
        2,
        18,
        "layout.grid: pane \"pods\" appears more than once",
    ),
    (
        "zero_history.toml",
        2,
        11,
        "alerts.history = 0 is out of range (1 to 100000)",
    ),
    (
        "huge_history.toml",
        2,
        11,
        "alerts.history = 10000000000 is out of range (1 to 100000)",
    ),
    (
        "zero_backoff.toml",
        2,
        19,
        "kubernetes.backoff_initial = \"0s\" is too short (minimum 10ms)",
    ),
    (
        "backoff_max_below_initial.toml",
        3,
        15,
        "kubernetes.backoff_max must not be shorter than backoff_initial",
    ),
    (
        "tiny_request_timeout.toml",
        2,
        19,
        "kubernetes.request_timeout = \"1ms\" is too short (minimum 100ms)",
    ),
    (
        "percentage_over_100.toml",
        2,
        21,
        "rules.sockets.accept_queue_pct[0]: threshold 250 is not a percentage (0 to 100)",
    ),
    (
        "huge_threshold.toml",
        2,
        15,
        "rules.sockets.close_wait[0]: threshold 1e300 is out of range (a finite number up to 1e15)",
    ),
    (
        "nan_days.toml",
        2,
        16,
        "rules.certs.warning_days = NaN is out of range (0 to 3650 days)",
    ),
    (
        "zero_failures.toml",
        2,
        28,
        "rules.probes.failures_before_critical = 0 is out of range (1 to 1000)",
    ),
    (
        "huge_min_grid_cols.toml",
        2,
        17,
        "layout.min_grid_cols = 65535 is out of range (1 to 2000)",
    ),
    (
        "negative_top_n.toml",
        2,
        9,
        "invalid value: integer `-5`, expected usize",
    ),
    (
        "short_refresh.toml",
        1,
        11,
        "refresh = \"50ms\" is too short (minimum 100ms)",
    ),
];

#[test]
fn every_invalid_config_fails_with_its_message_and_position() {
    let mut failures = Vec::new();
    for (file, line, column, message) in CASES {
        let path = fixture(file);
        let err = match Config::load(Some(&path)) {
            Ok(_) => {
                failures.push(format!("{file}: accepted"));
                continue;
            }
            Err(e) => e,
        };
        let want = format!("{}:{line}:{column}: {message}", path.display());
        let got = err.to_string();
        if got != want {
            failures.push(format!("{file}:\n  want {want}\n  got  {got}"));
        }
        assert!(
            matches!(
                err,
                ConfigError::Parse { .. } | ConfigError::Invalid { at: Some(_), .. }
            ),
            "{file}: {err:?}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fixture_has_a_case() {
    let dir = fixture("");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for f in &files {
        assert!(
            CASES.iter().any(|(name, ..)| name == f),
            "{f} has no expected message"
        );
    }
}

#[test]
fn every_grid_name_is_a_pane_and_every_pane_has_a_grid_name() {
    use ondeck::ui::panes::PaneKind;
    for name in ondeck::config::PANE_NAMES {
        assert!(
            PaneKind::by_name(name).is_some(),
            "{name} is accepted in layout.grid but names no pane"
        );
    }
    for kind in PaneKind::ALL {
        let spec = kind.spec();
        assert!(
            ondeck::config::PANE_NAMES.contains(&spec.name),
            "pane {:?} ({}) cannot be put in layout.grid",
            kind,
            spec.name
        );
        for alias in spec.aliases {
            assert!(
                ondeck::config::PANE_NAMES.contains(alias),
                "alias {alias} of {} missing from config::PANE_NAMES",
                spec.name
            );
        }
    }
}

#[test]
fn the_biggest_grid_that_validates_is_small_and_the_defaults_pass() {
    // Every pane once, in as few rows as fit: accepted.
    let text = "[layout]\nmin_grid_cols = 240\nmin_grid_rows = 16\n\
                grid = [[\"sockets\", \"alerts\", \"pods\"], [\"pvcs\", \"certs\", \"probes\"]]\n";
    let cfg = Config::from_toml(text, Path::new("ok.toml")).expect("a full grid that fits");
    assert_eq!(cfg.layout.grid.len(), 2);
    Config::from_toml("", Path::new("empty.toml")).expect("defaults");
    // A grid of 10,000 panes is refused at once (the message, not a hang).
    let row = vec!["\"pods\""; 10_000].join(", ");
    let text = format!("[layout]\ngrid = [[{row}]]\n");
    let err = Config::from_toml(&text, Path::new("huge.toml")).expect_err("refused");
    assert!(
        err.to_string()
            .contains("layout.grid row 1 has 10000 panes but at most 4 fit"),
        "{err}"
    );
}

/// `check` with a bad config: exit 3 (UNKNOWN) in every format, the message where that
/// format's reader looks (Nagios: the status line; JSON: `error`; Prometheus: stderr, with only
/// `ondeck_status 3` on stdout), never a panic.
#[test]
fn check_with_a_bad_config_exits_3_in_the_format_asked_for() {
    let path = fixture("huge_duration.toml");
    let want = format!("{}:4:14: duration", path.display());
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ondeck"))
            .args(["check", "--only", "sockets", "--format", format, "--config"])
            .arg(&path)
            .env("KUBECONFIG", "/nonexistent")
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(3), "{format}: {out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{stderr}");
        (stdout, stderr)
    };
    let (out, _) = run("text");
    assert!(out.starts_with("ONDECK UNKNOWN - config: "), "{out}");
    assert!(out.contains(&want), "{out}");
    let (out, _) = run("json");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(v["status"], "unknown");
    assert!(
        v["error"].as_str().is_some_and(|e| e.contains(&want)),
        "{v}"
    );
    let (out, err) = run("prometheus");
    assert_eq!(
        out,
        "# HELP ondeck_status Overall check status: 0 ok, 1 warning, 2 critical, 3 unknown.\n\
         # TYPE ondeck_status gauge\n\
         ondeck_status 3\n"
    );
    assert!(err.contains(&want), "{err}");
}
