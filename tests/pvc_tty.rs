//! `ondeck --demo pvc delete` in a pseudo-terminal: the name typed key by key deletes; the
//! same name pasted (one burst, or bracketed paste) is refused and nothing is deleted; Esc
//! cancels; the terminal is back in cooked mode (echo) afterwards.

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, SlavePty, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);
const NAME: &str = "monitoring/grafana-data-old";

struct Session {
    output: Arc<Mutex<String>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    _slave: Box<dyn SlavePty + Send>,
    home: tempfile::TempDir,
}

impl Session {
    fn start(args: &[&str]) -> Session {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 200,
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
        cmd.cwd(home.path());
        let child = pair.slave.spawn_command(cmd).expect("spawn ondeck");
        let output = Arc::new(Mutex::new(String::new()));
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let out = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut o) = out.lock() {
                    o.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let writer = pair.master.take_writer().expect("writer");
        Session {
            output,
            writer,
            child,
            _master: pair.master,
            _slave: pair.slave,
            home,
        }
    }

    fn text(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    fn wait_text(&self, text: &str) {
        let start = Instant::now();
        while !self.text().contains(text) {
            assert!(
                start.elapsed() < TIMEOUT,
                "timed out waiting for {text:?}; output:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
        self.writer.flush().expect("flush");
    }

    /// Types like a person: one key per write, with a pause.
    fn type_slowly(&mut self, text: &str) {
        for b in text.bytes() {
            self.send(&[b]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    fn wait_exit(&mut self) -> u32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.exit_code();
            }
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!("ondeck did not exit; output:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn audit(&self) -> String {
        std::fs::read_to_string(self.home.path().join("state/ondeck/audit.jsonl"))
            .unwrap_or_default()
    }

    /// The line discipline echoes again (the raw mode was undone).
    fn assert_cooked(&mut self) {
        self.send(b"echo-probe-42");
        self.wait_text("echo-probe-42");
    }
}

fn prompt() -> String {
    format!("type {NAME} to delete it")
}

#[test]
fn the_name_typed_key_by_key_deletes() {
    let mut s = Session::start(&["--demo", "pvc", "delete", NAME]);
    s.wait_text(&prompt());
    s.type_slowly(NAME);
    s.send(b"\r");
    s.wait_text(&format!("{NAME}: deleted"));
    assert_eq!(s.wait_exit(), 0, "{}", s.text());
    assert!(s.audit().contains("\"outcome\":\"deleted\""));
    s.assert_cooked();
}

#[test]
fn the_name_pasted_is_refused_and_nothing_is_deleted() {
    let mut s = Session::start(&["--demo", "pvc", "delete", NAME]);
    s.wait_text(&prompt());
    s.send(format!("{NAME}\r").as_bytes());
    s.wait_text("pasted text is refused");
    assert_eq!(s.wait_exit(), 1, "{}", s.text());
    assert!(!s.text().contains(": deleted"));
    assert!(s.text().contains("nothing deleted"));
    assert!(s.audit().contains("pasted"));
    s.assert_cooked();
}

#[test]
fn a_bracketed_paste_is_refused_even_after_typing() {
    let mut s = Session::start(&["--demo", "pvc", "delete", NAME]);
    s.wait_text(&prompt());
    s.type_slowly("monit");
    s.send(format!("\x1b[200~{}\x1b[201~", &NAME[5..]).as_bytes());
    s.wait_text("pasted text is refused");
    assert_eq!(s.wait_exit(), 1, "{}", s.text());
    s.assert_cooked();
}

#[test]
fn esc_at_the_prompt_cancels_and_a_typo_aborts() {
    let mut s = Session::start(&["--demo", "pvc", "delete", NAME]);
    s.wait_text(&prompt());
    s.type_slowly("monitoring/graf");
    s.send(b"\x1b");
    assert_eq!(s.wait_exit(), 1, "{}", s.text());
    assert!(s.text().contains("cancelled"));

    let mut s = Session::start(&["--demo", "pvc", "delete", NAME]);
    s.wait_text(&prompt());
    s.type_slowly("monitoring/grafana-data");
    s.send(b"\r");
    assert_eq!(s.wait_exit(), 1, "{}", s.text());
    assert!(s.text().contains("is not monitoring/grafana-data-old"));
}
