//! The terminal guard: raw mode, alternate screen, hidden cursor, bracketed paste (so pasted
//! text arrives as one `Event::Paste`), optional mouse capture. Restored on Drop, on error, by
//! the panic hook (restore first, then print the panic) and by the signal path in
//! `console::runtime::run`.

use std::io::{self, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Whether the terminal is currently in TUI mode (so restore is idempotent and the panic hook
/// only writes when needed).
static ACTIVE: AtomicBool = AtomicBool::new(false);
static MOUSE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

pub type Term = Terminal<CrosstermBackend<Stdout>>;

pub struct TerminalGuard {
    pub terminal: Term,
}

impl TerminalGuard {
    /// Enters TUI mode. On failure half-way, whatever was switched on is switched off again.
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        // Checked before anything is written: without a terminal (a pipe, a file, cron) not
        // one escape code may reach stdout ahead of the error.
        require_terminal()?;
        install_panic_hook();
        MOUSE.store(mouse, Ordering::SeqCst);
        ACTIVE.store(true, Ordering::SeqCst);
        let setup = || -> io::Result<Term> {
            enable_raw_mode()?;
            let mut out = io::stdout();
            execute!(out, EnterAlternateScreen, EnableBracketedPaste, Hide)?;
            if mouse {
                execute!(out, EnableMouseCapture)?;
            }
            // Not `terminal.clear()`: it asks the terminal for the cursor position, which some
            // terminals (and ssh links that drop replies) never answer.
            execute!(out, Clear(ClearType::All))?;
            Terminal::new(CrosstermBackend::new(io::stdout()))
        };
        match setup() {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// Restores explicitly (also done on Drop).
    pub fn restore(&mut self) {
        restore();
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves TUI mode if in it. Errors are ignored: after an ssh drop (SIGHUP) the terminal may be
/// gone, and restoring must never turn a clean exit into a failure.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    if MOUSE.load(Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, DisableBracketedPaste, LeaveAlternateScreen, Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Panic hook: restore the terminal first so the message is readable, then the previous hook.
pub fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // A panic in another task (a source, the executor, a hook) is contained where it
            // is caught and reported in its pane: the console stays in the TUI, the panic
            // goes to the log (printing it would scribble over the screen).
            if is_active() && !on_ui_task() && std::thread::current().name() != Some("main") {
                tracing::error!(panic = %info, "a task panicked (contained)");
                return;
            }
            restore();
            previous(info);
        }));
    });
}

thread_local! {
    /// Set while this thread polls the UI task ([`UiTask`]).
    static UI_POLLING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is polling the UI task: only a panic there (or on the main
/// thread) takes the terminal down (restore, then the message).
pub fn on_ui_task() -> bool {
    UI_POLLING.with(|c| c.get())
}

/// The UI task's future, marked so the panic hook can tell its panics from other tasks'.
pub struct UiTask<F>(pub std::pin::Pin<Box<F>>);

impl<F: std::future::Future> UiTask<F> {
    pub fn new(fut: F) -> UiTask<F> {
        UiTask(Box::pin(fut))
    }
}

impl<F: std::future::Future> std::future::Future for UiTask<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        struct Reset(bool);
        impl Drop for Reset {
            fn drop(&mut self) {
                UI_POLLING.with(|c| c.set(self.0));
            }
        }
        let _reset = Reset(UI_POLLING.with(|c| c.replace(true)));
        self.0.as_mut().poll(cx)
    }
}

/// The console draws on stdout: it must be a terminal.
pub fn require_terminal() -> io::Result<()> {
    use std::io::IsTerminal as _;
    if io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(io::Error::other(
            "the console needs a terminal, and stdout is not one (for scripts use `ondeck check`)",
        ))
    }
}

pub fn is_active() -> bool {
    ACTIVE.load(Ordering::SeqCst)
}
