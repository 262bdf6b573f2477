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
    tokio::spawn(async move {
        let mut collector = Some(SocketCollector::new(opts.clone()));
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut generation = 0u64;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticker.tick() => {}
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
                        generation += 1;
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
            generation += 1;
            let update = SourceUpdate {
                source: SourceId::Sockets,
                generation,
                at: Instant::now(),
                wall: jiff::Timestamp::now(),
                result: result.map(|s| Payload::Sockets(Box::new(s))),
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                sent = tx.send(update) => if sent.is_err() { break },
            }
        }
    })
}
