//! The process's use of the C allocator (glibc): one arena for the whole process, and freed
//! memory given back after a big list. Both are no-ops off glibc.

/// Gives the heap freed after a big list (pages of JSON, decoded API objects, a replaced store)
/// back to the system. glibc keeps freed memory in its per-thread arenas; without this an idle
/// console would hold its first list's peak for ever (memory proportional to what is shown,
/// not to the largest list ever made). A few milliseconds; call it once per list, not per event.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas and returns unused pages to the
    // kernel; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Makes glibc keep one heap for the whole process instead of one arena per thread that ever
/// allocated (up to 8 per core). The runtime's workers take turns decoding, evaluating and
/// drawing, so with an arena each, what one worker frees sits in its arena while another grows
/// its own: at 20k pods that was 7 MiB of an idle console's resident memory for nothing. The
/// console and `check` do little work at once, so one arena's lock is not contended. Call it
/// first thing, before any thread starts (it only affects arenas created later).
pub fn one_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a glibc tunable; M_ARENA_MAX takes any positive count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// How often a long-running console gives freed heap back (see [`spawn_release_loop`]).
pub const RELEASE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Gives freed heap back to the system every `every` for as long as the process runs. glibc
/// returns memory on its own only from the top of the heap; what an idle console frees in the
/// middle (the rows and snapshots a recheck replaces, a redrawn frame's buffers) stays
/// resident: the console's resident size crept up by ~2 MiB a minute at 20k pods until
/// trimmed, and at 5k pods each minute's re-evaluation left 3-4 MiB that a 30 s period kept
/// for half a minute (a saw-tooth of +4 MiB); every 10 s keeps it under 10 s. One `malloc_trim` walks glibc's free lists (well under a millisecond at a 60 MB
/// heap), on a blocking thread so it never delays a frame.
pub fn spawn_release_loop(every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    spawn_every(every, release_freed_memory)
}

/// Runs `f` on a blocking thread every `every`, the first time one interval from now.
fn spawn_every(every: std::time::Duration, f: fn()) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is now: the first list does its own
        loop {
            tick.tick().await;
            if tokio::task::spawn_blocking(f).await.is_err() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    fn count() {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[tokio::test]
    async fn the_release_loop_runs_every_interval_but_not_at_start() {
        let started = Instant::now();
        let task = super::spawn_every(Duration::from_millis(300), count);
        tokio::task::yield_now().await;
        if started.elapsed() < Duration::from_millis(250) {
            assert_eq!(CALLS.load(Ordering::SeqCst), 0, "not at start");
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while CALLS.load(Ordering::SeqCst) < 3 {
            assert!(
                Instant::now() < deadline,
                "three intervals passed, not three runs"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Three runs take at least three intervals.
        assert!(started.elapsed() >= Duration::from_millis(900));
        task.abort();
        // The real one runs without panicking.
        super::release_freed_memory();
    }
}
