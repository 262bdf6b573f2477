//! The TUI's sockets task: polls on an interval inside `spawn_blocking` and sends owned
//! snapshots as [`SourceUpdate`]s with increasing generations.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::collector::{SocketCollector, SocketOptions};
use crate::sources::{Payload, SourceError, SourceId, SourceUpdate};

/// Polls every `interval` (each poll in `spawn_blocking`, owners wanted on every poll and
/// throttled by `attribution_interval`), sends one [`SourceUpdate`] per poll, and stops when
/// `tx` closes or `cancel` fires. A slow poll delays the next tick rather than queueing ticks.
pub fn spawn(
    opts: SocketOptions,
    interval: Duration,
    tx: Sender<SourceUpdate>,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    spawn_with_refresh(opts, interval, tx, cancel, None)
}

/// [`spawn`], plus `refresh`: each message (F5) polls at once instead of waiting for the tick.
pub fn spawn_with_refresh(
    opts: SocketOptions,
    interval: Duration,
    tx: Sender<SourceUpdate>,
    cancel: CancellationToken,
    mut refresh: Option<tokio::sync::mpsc::Receiver<()>>,
) -> JoinHandle<()> {
    // A panic in this task becomes the pane's error (the terminal stays in the TUI).
    crate::sources::supervise::spawn(SourceId::Sockets, tx.clone(), async move {
        let mut collector = Some(SocketCollector::new(opts.clone()));
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticker.tick() => {}
                Some(()) = recv_opt(&mut refresh) => {
                    // The next tick counts from this poll.
                    ticker.reset();
                }
            }
            let Some(mut c) = collector.take() else { break };
            let polled = tokio::task::spawn_blocking(move || {
                let r = c.poll(Instant::now(), true);
                (c, r)
            });
            let (c, result) = tokio::select! {
                _ = cancel.cancelled() => break,
                joined = polled => match joined {
                    Ok(v) => v,
                    Err(e) => {
                        // The poll panicked: report it, start again with a fresh collector.
                        tracing::error!(error = %e, "sockets poll task failed");
                        let generation = crate::sources::next_generation();
                        let update = SourceUpdate {
                            source: SourceId::Sockets,
                            generation,
                            at: Instant::now(),
                            wall: jiff::Timestamp::now(),
                            result: Err(SourceError::Other(format!("sockets poll failed: {e}"))),
                        };
                        if tx.send(update).await.is_err() {
                            break;
                        }
                        collector = Some(SocketCollector::new(opts.clone()));
                        continue;
                    }
                },
            };
            collector = Some(c);
            // From the process-wide counter, so a report made for this source elsewhere (a
            // contained panic, `sources::supervise`) orders after everything sent here.
            let generation = crate::sources::next_generation();
            let update = SourceUpdate {
                source: SourceId::Sockets,
                generation,
                at: Instant::now(),
                wall: jiff::Timestamp::now(),
                result: result.map(Payload::new),
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                sent = tx.send(update) => if sent.is_err() { break },
            }
        }
    })
}

/// The next refresh request; never resolves without a channel (or once it is closed).
async fn recv_opt(rx: &mut Option<tokio::sync::mpsc::Receiver<()>>) -> Option<()> {
    match rx {
        Some(r) => match r.recv().await {
            Some(()) => Some(()),
            None => {
                *rx = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// F5: with an hour-long interval, a refresh request still polls (the first tick is
    /// immediate; the second update can only come from the refresh).
    #[tokio::test]
    async fn a_refresh_request_polls_at_once() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        let (refresh_tx, refresh_rx) = tokio::sync::mpsc::channel(1);
        let cancel = CancellationToken::new();
        let task = spawn_with_refresh(
            SocketOptions::default(),
            Duration::from_secs(3600),
            tx,
            cancel.clone(),
            Some(refresh_rx),
        );
        let wait = Duration::from_secs(30);
        let first = tokio::time::timeout(wait, rx.recv())
            .await
            .expect("first poll");
        let first = first.map(|u| u.generation).unwrap_or_default();
        assert!(first >= 1);
        assert!(
            tokio::time::timeout(Duration::from_millis(300), rx.recv())
                .await
                .is_err(),
            "no second poll before the refresh"
        );
        refresh_tx.send(()).await.expect("task listens");
        let second = tokio::time::timeout(wait, rx.recv())
            .await
            .expect("refreshed poll");
        assert!(second.map(|u| u.generation).unwrap_or_default() > first);
        cancel.cancel();
        let _ = task.await;
    }
}
