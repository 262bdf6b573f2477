//! The real binary in a pseudo-terminal (portable-pty + vt100): it starts without a cluster,
//! shows the sockets pane, filters, opens and closes help, quits with `q`, and leaves the
//! terminal restored (main screen, cursor visible, echo back on). Also: SIGHUP and SIGTERM
//! (an ssh session dropping, a service manager stopping it) restore the terminal too.
//! Waits poll the screen with generous timeouts; no fixed sleep is an assertion.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, SlavePty, native_pty_system};

const TIMEOUT: Duration = Duration::from_secs(15);

struct Session {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    // Kept open so the line discipline still echoes after the child exits.
    _slave: Box<dyn SlavePty + Send>,
    _home: tempfile::TempDir,
}

impl Session {
    fn start(rows: u16, cols: u16) -> Session {
        Session::start_program(rows, cols, env!("CARGO_BIN_EXE_ondeck"), &[], &[])
    }

    fn start_program(
        rows: u16,
        cols: u16,
        program: &str,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> Session {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let home = tempfile::tempdir().expect("tempdir");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_STATE_HOME", home.path().join("state"));
        cmd.env_remove("NO_COLOR");
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
            _home: home,
        }
    }

    fn screen_text(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Polls the screen until `pred` holds; panics with the screen on timeout.
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

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!("ondeck did not exit; screen:\n{}", self.screen_text());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Main screen back, cursor visible, and the tty in cooked mode (it echoes our typing).
    fn assert_restored(&mut self) {
        self.wait_for("main screen", |s| !s.alternate_screen());
        self.wait_for("visible cursor", |s| !s.hide_cursor());
        self.send(b"echo-probe-42");
        self.wait_text("echo-probe-42");
    }
}

#[test]
fn starts_filters_shows_help_and_quits_restoring_the_terminal() {
    let mut s = Session::start(24, 80);
    s.wait_for("alternate screen", |sc| sc.alternate_screen());
    s.wait_text("Sockets");
    s.wait_text("F10Quit");
    let text = s.screen_text();
    assert!(text.contains("TCP"), "header meters: {text}");
    assert!(text.contains("Alerts"), "alerts meter/tab: {text}");

    // The real sockets source delivers: the summary and the view tabs appear.
    s.wait_text("CLOSE_WAIT by process");
    assert!(s.screen_text().contains("ESTAB "), "{}", s.screen_text());

    // `/` + filter: applied as typed (the table empties), shown in the footer; Enter keeps it.
    s.send(b"/");
    s.wait_text("Enter keep, Esc clear");
    s.send(b"zzqq");
    s.wait_text("/zzqq");
    s.wait_text("no rows match the filter");
    s.send(b"\r");
    s.wait_for("footer key bar back", |sc| {
        sc.contents().contains("F10Quit") && !sc.contents().contains("Esc clear")
    });
    assert!(s.screen_text().contains("filter: zzqq"));
    // Esc in normal mode clears the filter.
    s.send(b"\x1b");
    s.wait_for("filter cleared", |sc| {
        !sc.contents().contains("filter: zzqq")
    });

    // Help opens and closes.
    s.send(b"?");
    s.wait_text("Help - ondeck keys");
    assert!(s.screen_text().contains("filter as you type"));
    s.send(b"\x1b");
    s.wait_for("help closed", |sc| {
        !sc.contents().contains("Help - ondeck keys")
    });

    // `:` command line with completion hints.
    s.send(b":p");
    s.wait_text("pods pvc probes");
    s.send(b"\x1b");
    // ESC and `q` in one read would be Alt-q: wait for the command line to close, as a user
    // sees it close before typing on.
    s.wait_for("command line closed", |sc| {
        !sc.contents().contains("pods pvc probes") && sc.contents().contains("F10Quit")
    });

    s.send(b"q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

fn signal_restores(sig: libc::c_int) {
    let mut s = Session::start(24, 80);
    s.wait_for("alternate screen", |sc| sc.alternate_screen());
    s.wait_text("F10Quit");
    let pid = s.child.process_id().expect("pid") as libc::pid_t;
    // SAFETY: sending a signal to our own child process.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0);
    s.wait_exit();
    s.assert_restored();
}

#[test]
fn sighup_exits_and_restores_the_terminal() {
    signal_restores(libc::SIGHUP);
}

#[test]
fn sigterm_exits_and_restores_the_terminal() {
    signal_restores(libc::SIGTERM);
}

/// Runs only as the child of `panic_restores_the_terminal_and_shows_the_message`: enters TUI
/// mode, forgets the guard (so only the panic hook can restore), and panics on the UI task
/// (a panic in another task is contained: see `a_panicking_source_keeps_the_tui_running`).
#[test]
fn panic_child() {
    if std::env::var_os("ONDECK_PANIC_CHILD").is_none() {
        return;
    }
    let guard = ondeck::tui::TerminalGuard::enter(false).expect("enter TUI mode");
    std::mem::forget(guard);
    futures::executor::block_on(ondeck::tui::UiTask::new(async {
        panic!("deliberate panic for the restore test");
    }));
}

/// Issue 10: a source task that panics (the test-only fault `ONDECK_TEST_PANIC_SOURCE`) leaves
/// the console in the TUI (alternate screen, keys answered) with the source's error in its
/// pane; quitting restores the terminal as usual.
#[test]
fn a_panicking_source_keeps_the_tui_running() {
    let mut s = Session::start_program(
        24,
        80,
        env!("CARGO_BIN_EXE_ondeck"),
        &[],
        &[("ONDECK_TEST_PANIC_SOURCE", "sockets")],
    );
    s.wait_for("alternate screen", |sc| sc.alternate_screen());
    s.wait_text("F10Quit");
    s.wait_text("panicked");
    // Whole in the pane's error strip (wrapped; words are never split).
    s.wait_text("ONDECK_TEST_PANIC_SOURCE=sockets);");
    s.wait_text("error (above)");
    // Still in the TUI and answering keys.
    s.send(b"?");
    s.wait_text("Help - ondeck keys");
    assert!(
        s.parser
            .lock()
            .map(|p| p.screen().alternate_screen())
            .unwrap_or(false)
    );
    s.send(b"\x1b");
    s.wait_for("help closed", |sc| {
        !sc.contents().contains("Help - ondeck keys")
    });
    s.send(b"q");
    let status = s.wait_exit();
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[test]
fn panic_restores_the_terminal_and_shows_the_message() {
    let exe = std::env::current_exe().expect("test binary");
    let exe = exe.to_string_lossy().to_string();
    let mut s = Session::start_program(
        24,
        80,
        &exe,
        &["panic_child", "--exact", "--nocapture", "--test-threads=1"],
        &[("ONDECK_PANIC_CHILD", "1"), ("RUST_BACKTRACE", "0")],
    );
    let status = s.wait_exit();
    assert!(!status.success(), "the child test panicked");
    s.wait_text("deliberate panic for the restore test");
    s.assert_restored();
}
