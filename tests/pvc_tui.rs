//! The guarded PVC delete through the real TUI in a pseudo-terminal: `ondeck --demo` ->
//! `:pvc` -> `/grafana-data-old` -> F9 -> the name typed key by key -> DONE, with the audit
//! record written under `$XDG_STATE_HOME`; the same name pasted (bracketed, or as one burst of
//! keys) is refused and nothing is deleted; the terminal is restored at the end.
//!
//! Waits poll the screen with generous timeouts; no fixed sleep is an assertion (the
//! pause between typed keys only makes the typing human).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, SlavePty, native_pty_system};

const TIMEOUT: Duration = Duration::from_secs(60);
const NAME: &str = "monitoring/grafana-data-old";
const F9: &[u8] = b"\x1b[20~";

struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    _slave: Box<dyn SlavePty + Send>,
    home: tempfile::TempDir,
}

impl Session {
    fn start(args: &[&str]) -> Session {
        let (rows, cols) = (40, 160);
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let home = tempfile::tempdir().expect("tempdir");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_ondeck"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_STATE_HOME", home.path().join("state"));
        cmd.env_remove("NO_COLOR");
        cmd.env_remove("KUBECONFIG");
        cmd.cwd(home.path());
        let child = pair.slave.spawn_command(cmd).expect("spawn ondeck");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let p = Arc::clone(&parser);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut parser) = p.lock() {
                    parser.process(&buf[..n]);
                }
            }
        });
        let writer = pair.master.take_writer().expect("writer");
        Session {
            parser,
            writer,
            child,
            _master: pair.master,
            _slave: pair.slave,
            home,
        }
    }

    fn screen_text(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&vt100::Screen) -> bool) {
        let start = Instant::now();
        loop {
            if let Ok(p) = self.parser.lock()
                && pred(p.screen())
            {
                return;
            }
            if start.elapsed() > TIMEOUT {
                panic!(
                    "timed out waiting for {what}; screen:\n{}",
                    self.screen_text()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn wait_text(&self, text: &str) {
        self.wait_for(text, |s| s.contents().contains(text));
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    /// One key per write, at a person's pace.
    fn type_slowly(&mut self, text: &str) {
        for b in text.bytes() {
            self.send(&[b]);
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    fn audit_path(&self) -> PathBuf {
        self.home.path().join("state/ondeck/audit.jsonl")
    }

    fn audit_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.audit_path())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// `--demo`, the PVC pane, the unused claim selected, F9: the dialog waits for the name.
    fn open_dialog(&mut self) {
        self.wait_for("alternate screen", |sc| sc.alternate_screen());
        self.wait_text("DEMO");
        self.send(b":pvc\r");
        self.wait_text("grafana-data-old");
        self.send(b"/grafana-data-old\r");
        self.wait_for("filter kept", |sc| sc.contents().contains("F10Quit"));
        self.send(F9);
        self.wait_text("Delete PVC monitoring/grafana-data-old");
        self.wait_text("TYPE THE NAME");
        self.wait_text("type monitoring/grafana-data-old to delete it");
    }

    fn quit(&mut self) {
        self.send(b"\x1b");
        self.wait_for("dialog closed", |sc| {
            !sc.contents()
                .contains("Delete PVC monitoring/grafana-data-old")
        });
        self.send(b"q");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                assert!(status.success(), "exit status {status:?}");
                break;
            }
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!("ondeck did not exit; screen:\n{}", self.screen_text());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        self.wait_for("main screen", |s| !s.alternate_screen());
        self.send(b"echo-probe-42");
        self.wait_text("echo-probe-42");
    }
}

#[test]
fn the_name_typed_key_by_key_deletes_the_claim_and_writes_the_audit_record() {
    let mut s = Session::start(&["--demo"]);
    s.open_dialog();
    assert!(s.screen_text().contains("backup verified"));
    s.type_slowly("monitoring/graf");
    s.wait_text("so far so good");
    s.type_slowly("ana-data-old");
    s.wait_text("matches: Enter deletes the claim");
    s.send(b"\r");
    s.wait_text("DONE monitoring/grafana-data-old: deleted");
    s.wait_text("audit log");
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["object"], NAME);
    assert_eq!(audit[0]["outcome"], "deleted");
    assert_eq!(audit[0]["policy_after"], "Retain");
    s.quit();
}

#[test]
fn the_name_pasted_is_refused_and_nothing_is_deleted() {
    let mut s = Session::start(&["--demo"]);
    s.open_dialog();
    // Bracketed paste.
    s.send(format!("\x1b[200~{NAME}\x1b[201~").as_bytes());
    s.wait_text("pasted text is refused: type the name");
    // A paste without bracketed paste: the whole name (and Enter) in one write.
    s.send(b"x");
    s.wait_for("refusal cleared by a typed key", |sc| {
        !sc.contents().contains("pasted text is refused")
    });
    s.send(b"\x7f");
    s.send(format!("{NAME}\r").as_bytes());
    s.wait_text("pasted text is refused: type the name");
    assert!(!s.screen_text().contains("DELETING"), "{}", s.screen_text());
    // Esc: cancelled at the confirmation, nothing deleted.
    s.send(b"\x1b");
    s.wait_text("FAILED");
    s.wait_text("nothing was deleted");
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["outcome"], "cancelled");
    s.quit();
}

#[test]
fn f10_at_the_confirmation_cancels_the_flow_then_quits() {
    let mut s = Session::start(&["--demo"]);
    s.open_dialog();
    s.type_slowly("monitoring/");
    s.send(b"\x1b[21~"); // F10
    let start = Instant::now();
    loop {
        if let Some(status) = s.child.try_wait().expect("try_wait") {
            assert!(status.success(), "exit status {status:?}");
            break;
        }
        if start.elapsed() > TIMEOUT {
            let _ = s.child.kill();
            panic!("ondeck did not exit; screen:\n{}", s.screen_text());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["outcome"], "cancelled");
    s.wait_for("main screen", |sc| !sc.alternate_screen());
}

#[test]
fn a_hangup_at_the_confirmation_cancels_the_flow_before_exiting() {
    let mut s = Session::start(&["--demo"]);
    s.open_dialog();
    let pid = s.child.process_id().expect("pid") as libc::pid_t;
    // SAFETY: signalling the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let start = Instant::now();
    while s.child.try_wait().expect("try_wait").is_none() {
        if start.elapsed() > TIMEOUT {
            let _ = s.child.kill();
            panic!("ondeck did not exit; screen:\n{}", s.screen_text());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    // The flow was cancelled (nothing deleted) and audited before the process ended.
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["outcome"], "cancelled");
}
