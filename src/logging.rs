//! Logs go to a file under the XDG state dir (never to the terminal the TUI owns).
//! `ONDECK_LOG` sets the filter (default `info`), e.g. `ONDECK_LOG=ondeck=debug`.

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Starts file logging. Returns the guard that flushes on drop and the log directory; `None`
/// when no state dir can be found or created (ondeck then runs without logs rather than failing).
pub fn init() -> Option<(WorkerGuard, PathBuf)> {
    let dir = std::env::var_os("ONDECK_LOG_DIR")
        .map(PathBuf::from)
        .or_else(crate::config::state_dir)?;
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("ondeck")
        .filename_suffix("log")
        .max_log_files(7)
        .build(&dir)
        .ok()?;
    // At most 1,000 lines waiting for the writer (lossy beyond): the default queue of 128,000
    // takes 4 MiB up front, for a log that is quiet while nothing happens.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(1_000)
        .lossy(true)
        .finish(appender);
    let filter = EnvFilter::try_from_env("ONDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some((guard, dir))
}
