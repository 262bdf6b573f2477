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
