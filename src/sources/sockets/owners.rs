//! Socket inode -> owning process, through `/proc/PID/fd/*` readlinks (`socket:[INODE]`).
//!
//! Readlinks cost kernel time per open fd, so this is done only for inodes the cache cannot
//! answer, and a scan stops as soon as every wanted inode is found. Processes are visited in
//! the order most likely to end a scan early: previous owners first, then by descending open-fd
//! count (a CLOSE_WAIT leak is a process with many fds). Inodes not found by a complete scan are
//! cached as unknown for [`NEGATIVE_TTL`]. Entries for inodes that vanished are evicted.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use super::fds::{count_open_fds, fd_dir_size_is_count, list_pids, read_comm};
use super::tally::FastMap;

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
    comms: HashMap<u32, String>,
    poll: u64,
    hits: usize,
    pub last_scan: Option<Instant>,
    pub last_stats: ScanStats,
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
        self.comms.get(&pid).map(String::as_str)
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
    pub fn scan(&mut self, proc_root: &Path, wanted: &[u32], now: Instant) -> ScanStats {
        let mut remaining: FastMap<u32, ()> = wanted.iter().map(|i| (*i, ())).collect();
        let mut stats = ScanStats::default();
        let order = self.scan_order(proc_root);
        let mut link_path = proc_root.to_path_buf();
        for pid in order {
            if remaining.is_empty() {
                break;
            }
            let fd_dir = proc_root.join(pid.to_string()).join("fd");
            let rd = match std::fs::read_dir(&fd_dir) {
                Ok(rd) => rd,
                Err(_) => {
                    stats.unreadable += 1;
                    continue;
                }
            };
            stats.processes += 1;
            let mut matched = false;
            for entry in rd.flatten() {
                stats.fds += 1;
                link_path.clone_from(&fd_dir);
                link_path.push(entry.file_name());
                let Ok(link) = std::fs::read_link(&link_path) else {
                    continue;
                };
                let Some(inode) = parse_socket_link(link.as_os_str().as_bytes()) else {
                    continue;
                };
                if remaining.remove(&inode).is_some() {
                    stats.found += 1;
                    matched = true;
                    self.by_inode.insert(
                        inode,
                        Entry {
                            pid: Some(pid),
                            found_at: now,
                            seen: self.poll,
                        },
                    );
                    if remaining.is_empty() {
                        break;
                    }
                }
            }
            if matched && !self.comms.contains_key(&pid) {
                let comm = read_comm(proc_root, pid).unwrap_or_else(|| "(gone)".to_string());
                self.comms.insert(pid, comm);
            }
        }
        for (inode, ()) in remaining {
            self.by_inode.insert(
                inode,
                Entry {
                    pid: None,
                    found_at: now,
                    seen: self.poll,
                },
            );
        }
        self.last_scan = Some(now);
        self.last_stats = stats;
        stats
    }

    /// Known owners first, then every other process by descending open-fd count.
    fn scan_order(&self, proc_root: &Path) -> Vec<u32> {
        let size_is_count = fd_dir_size_is_count(proc_root);
        let mut rest: Vec<(u64, u32)> = list_pids(proc_root)
            .into_iter()
            .filter(|p| !self.comms.contains_key(p))
            .map(|p| {
                let dir = proc_root.join(p.to_string()).join("fd");
                let n = count_open_fds(&dir, size_is_count).unwrap_or(0);
                (n, p)
            })
            .collect();
        rest.sort_unstable_by(|a, b| b.cmp(a));
        let mut order: Vec<u32> = self.comms.keys().copied().collect();
        order.sort_unstable();
        order.extend(rest.into_iter().map(|(_, p)| p));
        order
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
