//! Panics contained (issue 10): a source task that panics becomes that source's error in its
//! pane ([`SourceError::Other`] "panicked: ...") and a log line; the console stays in the TUI.
//!
//! - [`spawn`]: starts a source's future under `catch_unwind`; a panic is logged and sent to
//!   the UI as the source's error.
//! - [`monitor`]: the same for a task already spawned (a registry entry's `spawn_local`
//!   handle): awaits it and reports a panic; dropping or aborting the monitor aborts the task.
//! - The terminal side is `crate::tui`'s panic hook: only a panic on the UI task itself
//!   restores the terminal; any other is logged and left to the code that catches it.
//!
//! A test-only fault: with `ONDECK_TEST_PANIC_SOURCE=<source name>` (e.g. `sockets`) in the
//! environment, a task started by [`spawn`] for that source panics before it starts, so tests
//! (and the pty smoke test on the real binary) can prove the containment end to end.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::sources::{SourceError, SourceId, SourceUpdate, next_generation};

/// The environment variable of the test-only fault (see the module doc).
pub const PANIC_FAULT_ENV: &str = "ONDECK_TEST_PANIC_SOURCE";

/// Spawns `fut` as `source`'s task; a panic in it is logged and reported as the source's
/// error (its pane shows it), never taken down with the terminal.
pub fn spawn<F>(source: SourceId, tx: mpsc::Sender<SourceUpdate>, fut: F) -> JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let run = async move {
            if fault_requested(source) {
                panic!("test fault: {PANIC_FAULT_ENV}={}", source.name());
            }
            fut.await
        };
        if let Err(payload) = AssertUnwindSafe(run).catch_unwind().await {
            report(source, &tx, &panic_message(payload.as_ref())).await;
        }
    })
}

/// Watches a task already spawned for `source`: when it ends in a panic, the panic is logged
/// and reported as the source's error. Aborting (or dropping) the returned handle's task
/// aborts the watched one.
pub fn monitor(
    source: SourceId,
    tx: mpsc::Sender<SourceUpdate>,
    task: JoinHandle<()>,
) -> JoinHandle<()> {
    let abort = AbortOnDrop(task.abort_handle());
    tokio::spawn(async move {
        let _abort = abort;
        match task.await {
            Err(e) if e.is_panic() => {
                let msg = panic_message(e.into_panic().as_ref());
                report(source, &tx, &msg).await;
            }
            _ => {}
        }
    })
}

/// The text of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// The error a source's pane shows after its task panicked.
pub fn panic_error(source: SourceId, message: &str) -> SourceError {
    SourceError::Other(format!(
        "the {} source stopped: it panicked ({}); its last data is kept, details in the log",
        source.name(),
        crate::sanitize::line(message)
    ))
}

async fn report(source: SourceId, tx: &mpsc::Sender<SourceUpdate>, message: &str) {
    tracing::error!(source = source.name(), panic = %message, "source task panicked; contained");
    let update = SourceUpdate {
        source,
        // Above everything the task sent before (every source takes its generations from
        // `next_generation`), below what a `:ctx`/`:ns` switch sends after it.
        generation: next_generation(),
        at: Instant::now(),
        wall: jiff::Timestamp::now(),
        result: Err(panic_error(source, message)),
    };
    let _ = tx.send(update).await;
}

fn fault_requested(source: SourceId) -> bool {
    std::env::var(PANIC_FAULT_ENV).is_ok_and(|v| v == source.name())
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_panicking_source_task_becomes_its_error() {
        let (tx, mut rx) = mpsc::channel(4);
        let task = spawn(SourceId::Sockets, tx.clone(), async {
            let v: Vec<u8> = Vec::new();
            let i = v.len() + 3;
            let _ = v[i];
        });
        let u = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("reported before the deadline")
            .expect("an update");
        assert_eq!(u.source, SourceId::Sockets);
        let err = u.result.err().expect("an error");
        let text = err.to_string();
        assert!(text.contains("sockets source stopped"), "{text}");
        assert!(text.contains("index out of bounds"), "{text}");
        assert!(task.await.is_ok(), "the panic was caught in the task");
    }

    #[tokio::test]
    async fn a_monitored_task_panic_is_reported_and_a_clean_end_is_not() {
        let (tx, mut rx) = mpsc::channel(4);
        let m = monitor(
            SourceId::Pods,
            tx.clone(),
            tokio::spawn(async { panic!("boom {}", 7) }),
        );
        let u = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("reported")
            .expect("an update");
        assert_eq!(u.source, SourceId::Pods);
        assert!(format!("{:?}", u.result.err()).contains("boom 7"));
        let _ = m.await;
        let ok = monitor(SourceId::Pods, tx, tokio::spawn(async {}));
        let _ = ok.await;
        assert!(rx.try_recv().is_err(), "nothing reported for a clean end");
    }

    #[tokio::test]
    async fn aborting_the_monitor_aborts_the_task() {
        let (tx, _rx) = mpsc::channel(4);
        let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
        let inner = tokio::spawn(async move {
            let _keep = alive_tx;
            std::future::pending::<()>().await
        });
        let m = monitor(SourceId::Sockets, tx, inner);
        m.abort();
        let closed = tokio::time::timeout(Duration::from_secs(10), alive_rx.recv()).await;
        assert_eq!(closed, Ok(None), "the watched task was dropped");
    }
}
