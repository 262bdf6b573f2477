//! Socket inode -> owning process, through `/proc/PID/fd/*` readlinks (`socket:[INODE]`).
//!
//! Readlinks cost kernel time per open fd, so this is done only for inodes the cache cannot
//! answer, and a scan stops as soon as every wanted inode is found. Processes are visited in
//! the order most likely to end a scan early: previous owners first, then by descending open-fd
//! count (a CLOSE_WAIT leak is a process with many fds). Inodes not found by a complete scan are
//! cached as unknown for [`NEGATIVE_TTL`]. Entries for inodes that vanished are evicted.

use std::collections::HashMap;
use std::io;
use std::ops::ControlFlow;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::fds::{count_open_fds_in, read_comm_in, size_is_count_in};
use super::procdir;
use super::tally::FastMap;
use crate::domain::sockets::Comm;

/// How long "no process owns this inode" is believed before it is looked up again.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// `None`: a complete scan found no readable owner.
    pid: Option<u32>,
    found_at: Instant,
    /// The poll that last asked for this inode (for eviction).
    seen: u64,
}

/// What a cache lookup knows about an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Owner(u32),
    /// A complete scan found no readable owner (another user's process, or it went away).
    Unknown,
    /// Not in the cache (or a stale negative entry): needs a scan.
    Miss,
}

/// What one scan did, for logs and the snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    pub processes: u64,
    pub fds: u64,
    pub found: u64,
    pub unreadable: u64,
}

/// The inode -> owner cache with its scan.
#[derive(Debug, Default)]
pub struct Owners {
    by_inode: FastMap<u32, Entry>,
    comms: HashMap<u32, Comm>,
    poll: u64,
    hits: usize,
    pub last_scan: Option<Instant>,
    pub last_stats: ScanStats,
}

/// `readlinkat(dir, name)` into `buf`: the target, or an error (also when it does not fit,
/// which a `socket:[N]` link never does). Resolving the name relative to the open fd directory
/// skips walking `/proc/PID/fd` again for every fd, the bulk of a scan's kernel time.
fn readlink_in<'b>(
    dir: BorrowedFd<'_>,
    name: &[u8],
    buf: &'b mut [u8; 64],
) -> io::Result<&'b [u8]> {
    // fd names are decimal numbers: anything else is not ours to look at.
    if name.is_empty() || name.len() > 20 || !name.iter().all(u8::is_ascii_digit) {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let mut cname = [0u8; 21];
    cname[..name.len()].copy_from_slice(name);
    // SAFETY: `dir` is an open directory fd for the whole call; `cname` is NUL-terminated (the
    // name is at most 20 bytes of digits, the array 21 zeroed bytes); `buf` is valid for
    // writes of `buf.len()` bytes and the kernel writes at most that many. readlinkat has no
    // safe wrapper in std.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            cname.as_ptr().cast(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = n as usize;
    if n >= buf.len() {
        return Err(io::Error::from(io::ErrorKind::InvalidData)); // possibly truncated
    }
    Ok(&buf[..n])
}

/// `socket:[12345]` -> 12345.
pub fn parse_socket_link(link: &[u8]) -> Option<u32> {
    let digits = link.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

impl Owners {
    /// Starts a poll: lookups from now on mark entries as still alive.
    pub fn begin_poll(&mut self) {
        self.poll += 1;
        self.hits = 0;
    }

    pub fn lookup(&mut self, inode: u32, now: Instant) -> Lookup {
        match self.by_inode.get_mut(&inode) {
            Some(e) => {
                if e.seen != self.poll {
                    e.seen = self.poll;
                    self.hits += 1;
                }
                match e.pid {
                    Some(pid) => Lookup::Owner(pid),
                    None if now.saturating_duration_since(e.found_at) < NEGATIVE_TTL => {
                        Lookup::Unknown
                    }
                    None => Lookup::Miss,
                }
            }
            None => Lookup::Miss,
        }
    }

    pub fn comm(&self, pid: u32) -> Option<&str> {
        self.comms.get(&pid).map(Comm::as_str)
    }

    /// The comm of `pid` as shared text (cloning it does not allocate).
    pub fn shared_comm(&self, pid: u32) -> Option<&Comm> {
        self.comms.get(&pid)
    }

    pub fn len(&self) -> usize {
        self.by_inode.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_inode.is_empty()
    }

    /// Ends a poll: drops entries no lookup asked for (their sockets are gone) and the comms of
    /// pids no entry refers to. Cheap when nothing vanished.
    pub fn end_poll(&mut self) {
        if self.hits == self.by_inode.len() {
            return;
        }
        let poll = self.poll;
        self.by_inode.retain(|_, e| e.seen == poll);
        let live: std::collections::HashSet<u32> =
            self.by_inode.values().filter_map(|e| e.pid).collect();
        self.comms.retain(|pid, _| live.contains(pid));
    }

    /// Looks for the owners of `wanted` (inodes the cache missed) in `proc_root/*/fd`.
    ///
    /// Processes are taken from a shared queue (previous owners first, then by descending fd
    /// count) by up to four threads when there are enough fds to make threads worth starting;
    /// each wanted inode is claimed once through an atomic flag, and every worker stops as soon
    /// as all are found.
    pub fn scan(&mut self, proc_root: &Path, wanted: &[u32], now: Instant) -> ScanStats {
        let mut wanted = wanted.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        // An unreadable root is a scan of no process: every wanted inode is unknown.
        let root = procdir::open_dir(proc_root).ok();
        let (order, total_fds) = match &root {
            Some(r) => self.scan_order(r.as_fd()),
            None => (Vec::new(), 0),
        };
        let job = ScanJob {
            root: root.as_ref().map(|r| r.as_fd()),
            order: &order,
            wanted: &wanted,
            claimed: wanted.iter().map(|_| AtomicBool::new(false)).collect(),
            found: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_SCAN_THREADS);
        let outcomes: Vec<WorkerOutcome> = if threads > 1 && total_fds >= PARALLEL_SCAN_MIN_FDS {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads).map(|_| s.spawn(|| job.work())).collect();
                // A worker that panicked just contributes nothing: its inodes stay unknown.
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            })
        } else {
            vec![job.work()]
        };

        let mut stats = ScanStats::default();
        let mut matched_pids: Vec<u32> = Vec::new();
        for o in outcomes {
            stats.processes += o.stats.processes;
            stats.fds += o.stats.fds;
            stats.unreadable += o.stats.unreadable;
            stats.found += o.found.len() as u64;
            for (inode, pid) in o.found {
                self.by_inode.insert(
                    inode,
                    Entry {
                        pid: Some(pid),
                        found_at: now,
                        seen: self.poll,
                    },
                );
                matched_pids.push(pid);
            }
        }
        for (i, inode) in wanted.iter().enumerate() {
            if !job.claimed[i].load(Ordering::Relaxed) {
                self.by_inode.insert(
                    *inode,
                    Entry {
                        pid: None,
                        found_at: now,
                        seen: self.poll,
                    },
                );
            }
        }
        matched_pids.sort_unstable();
        matched_pids.dedup();
        let mut text = Vec::new();
        for pid in matched_pids {
            self.comms.entry(pid).or_insert_with(|| {
                root.as_ref()
                    .and_then(|r| read_comm_in(r.as_fd(), pid, &mut text))
                    .unwrap_or("(gone)")
                    .into()
            });
        }
        self.last_scan = Some(now);
        self.last_stats = stats;
        stats
    }

    /// Known owners first, then every other process by descending open-fd count; and the total
    /// fd count (to decide whether threads are worth it).
    fn scan_order(&self, root: BorrowedFd<'_>) -> (Vec<u32>, u64) {
        let size_is_count = size_is_count_in(root);
        let mut dents = Box::new(procdir::dents_buf());
        let mut pids = Vec::new();
        procdir::list_pids_in(root, &mut dents, &mut pids);
        let mut total = 0u64;
        let mut rest: Vec<(u64, u32)> = Vec::with_capacity(pids.len());
        for p in pids {
            let n = count_open_fds_in(root, p, size_is_count, &mut dents).unwrap_or(0);
            total += n;
            if !self.comms.contains_key(&p) {
                rest.push((n, p));
            }
        }
        rest.sort_unstable_by(|a, b| b.cmp(a));
        let mut order: Vec<u32> = self.comms.keys().copied().collect();
        order.sort_unstable();
        order.extend(rest.into_iter().map(|(_, p)| p));
        (order, total)
    }
}

/// Threads for a big scan: readlinks are kernel time that parallelises across cores.
const MAX_SCAN_THREADS: usize = 4;
/// Below this many fds on the machine a scan takes a few ms: not worth starting threads.
const PARALLEL_SCAN_MIN_FDS: u64 = 4096;

/// What the scan workers share.
struct ScanJob<'a> {
    /// The open proc root (`None`: it could not be opened, nothing to scan).
    root: Option<BorrowedFd<'a>>,
    order: &'a [u32],
    /// Sorted, deduplicated.
    wanted: &'a [u32],
    /// `claimed[i]`: `wanted[i]` was found (by exactly one worker).
    claimed: Vec<AtomicBool>,
    found: AtomicUsize,
    /// Index of the next process in `order` to scan.
    next: AtomicUsize,
}

struct WorkerOutcome {
    found: Vec<(u32, u32)>,
    stats: ScanStats,
}

impl ScanJob<'_> {
    fn all_found(&self) -> bool {
        self.found.load(Ordering::Relaxed) >= self.wanted.len()
    }

    /// Takes processes from the queue until it is empty or every wanted inode is found. Per
    /// process: one open of `PID/fd`, listed with getdents into a stack buffer, and one
    /// readlinkat per fd relative to that directory; nothing is allocated but the findings.
    fn work(&self) -> WorkerOutcome {
        let mut out = WorkerOutcome {
            found: Vec::new(),
            stats: ScanStats::default(),
        };
        let Some(root) = self.root else { return out };
        let mut link_buf = [0u8; 64];
        let mut dents = procdir::dents_buf();
        while !self.all_found() {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&pid) = self.order.get(i) else { break };
            let dir = match procdir::pid_path(pid, "fd")
                .and_then(|p| procdir::open_dir_at(root, p.as_cstr()))
            {
                Ok(d) => d,
                Err(_) => {
                    out.stats.unreadable += 1;
                    continue;
                }
            };
            out.stats.processes += 1;
            let dir = dir.as_fd();
            // A listing error part way ends this process's walk, as it did with read_dir.
            let _ = procdir::for_each_name(dir, &mut dents, |name| {
                out.stats.fds += 1;
                let Ok(link) = readlink_in(dir, name, &mut link_buf) else {
                    return ControlFlow::Continue(());
                };
                let Some(inode) = parse_socket_link(link) else {
                    return ControlFlow::Continue(());
                };
                let Ok(idx) = self.wanted.binary_search(&inode) else {
                    return ControlFlow::Continue(());
                };
                if !self.claimed[idx].swap(true, Ordering::Relaxed) {
                    out.found.push((inode, pid));
                    if self.found.fetch_add(1, Ordering::Relaxed) + 1 >= self.wanted.len() {
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn parses_socket_links() {
        assert_eq!(parse_socket_link(b"socket:[12345]"), Some(12345));
        assert_eq!(parse_socket_link(b"socket:[]"), None);
        assert_eq!(parse_socket_link(b"socket:[12x]"), None);
        assert_eq!(parse_socket_link(b"socket:[99999999999]"), None);
        assert_eq!(parse_socket_link(b"pipe:[123]"), None);
        assert_eq!(parse_socket_link(b"/dev/null"), None);
        assert_eq!(parse_socket_link(b"socket:[123"), None);
    }

    #[test]
    fn finds_own_socket_and_evicts_it_when_gone() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let me = std::process::id();
        let fd = {
            use std::os::fd::AsRawFd;
            l.as_raw_fd()
        };
        let inode = std::fs::metadata(format!("/proc/self/fd/{fd}"))
            .unwrap()
            .ino() as u32;
        let now = Instant::now();
        let mut o = Owners::default();
        o.begin_poll();
        assert_eq!(o.lookup(inode, now), Lookup::Miss);
        let st = o.scan(Path::new("/proc"), &[inode, 1], now);
        assert_eq!(st.found, 1);
        assert_eq!(o.lookup(inode, now), Lookup::Owner(me));
        assert_eq!(o.lookup(1, now), Lookup::Unknown, "never a socket inode");
        assert_eq!(
            o.lookup(1, now + NEGATIVE_TTL),
            Lookup::Miss,
            "negative entries expire"
        );
        assert!(o.comm(me).is_some());
        o.end_poll();
        assert_eq!(o.len(), 2);
        // Next poll only asks for the listener: inode 1 is evicted.
        o.begin_poll();
        assert_eq!(o.lookup(inode, now), Lookup::Owner(me));
        o.end_poll();
        assert_eq!(o.len(), 1);
        o.begin_poll();
        o.end_poll();
        assert!(o.is_empty());
        assert_eq!(o.comm(me), None);
    }
}
