//! Per-process open file descriptors against the soft RLIMIT_NOFILE.
//!
//! The open count comes from `stat(/proc/PID/fd).st_size`, which Linux >= 6.2 sets to the
//! number of open fds (a bitmap count in the kernel: no directory walk, no readlink); when it is
//! 0 (older kernels) the directory entries are counted instead. Soft limits come from
//! /proc/PID/limits and are cached per pid for a minute, since they rarely change.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use super::procdir::{self, DentsBuf};

use crate::domain::sockets::FdUsage;

const LIMITS_TTL: Duration = Duration::from_secs(60);

/// The soft "Max open files" limit from /proc/PID/limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NofileLimit {
    Limited(u64),
    Unlimited,
}

/// Parses /proc/PID/limits: `Max open files  <soft>  <hard>  files`.
/// `None` if the row is missing or odd. By hand, not with procfs: procfs parses the whole table
/// into a map (45 us per file against 0.7 us here, measured), and a cold fd scan reads one file
/// per process.
pub fn parse_nofile_soft(limits: &str) -> Option<NofileLimit> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .get("Max open files".len()..)?
        .split_ascii_whitespace()
        .next()?;
    if soft == "unlimited" {
        Some(NofileLimit::Unlimited)
    } else {
        soft.parse().ok().map(NofileLimit::Limited)
    }
}

/// Whether `stat(PROC/PID/fd).st_size` is an fd count under `proc_root` (a real procfs on
/// Linux >= 6.2). A test tree of plain directories reports byte sizes instead.
pub fn fd_dir_size_is_count(proc_root: &Path) -> bool {
    procdir::open_dir(proc_root).is_ok_and(|root| size_is_count_in(root.as_fd()))
}

/// [`fd_dir_size_is_count`] for the open proc root `root`.
pub(crate) fn size_is_count_in(root: BorrowedFd<'_>) -> bool {
    procdir::size_at(root, c"self/fd").is_ok_and(|n| n > 0)
        && procdir::size_at(root, c"self/stat").is_ok_and(|n| n == 0)
}

/// Number of open fds of the process whose fd directory is `fd_dir`: from the directory's size
/// when `size_is_count`, else by counting its entries.
pub fn count_open_fds(fd_dir: &Path, size_is_count: bool) -> io::Result<u64> {
    let meta = std::fs::metadata(fd_dir)?;
    if size_is_count && meta.len() > 0 {
        return Ok(meta.len());
    }
    let dir = procdir::open_dir(fd_dir)?;
    procdir::count_entries(dir.as_fd(), &mut procdir::dents_buf())
}

/// [`count_open_fds`] for `PID/fd` under the open proc root `root`, without allocating.
pub(crate) fn count_open_fds_in(
    root: BorrowedFd<'_>,
    pid: u32,
    size_is_count: bool,
    buf: &mut DentsBuf,
) -> io::Result<u64> {
    let path = procdir::pid_path(pid, "fd")?;
    let size = procdir::size_at(root, path.as_cstr())?;
    if size_is_count && size > 0 {
        return Ok(size);
    }
    let dir = procdir::open_dir_at(root, path.as_cstr())?;
    procdir::count_entries(dir.as_fd(), buf)
}

/// The comm of `pid` under the open proc root `root` (the file read into `buf`), without its
/// trailing newline; `None` if it cannot be read or is not UTF-8.
pub(crate) fn read_comm_in<'b>(
    root: BorrowedFd<'_>,
    pid: u32,
    buf: &'b mut Vec<u8>,
) -> Option<&'b str> {
    let path = procdir::pid_path(pid, "comm").ok()?;
    procdir::read_at(root, path.as_cstr(), buf).ok()?;
    Some(std::str::from_utf8(buf).ok()?.trim_end_matches('\n'))
}

/// The result of one fd scan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FdScan {
    /// Top N by percentage of the soft limit (processes without a known limit sort last, by
    /// open count).
    pub top: Vec<FdUsage>,
    /// Processes whose fd directory could not be read (permission, or gone mid-scan).
    pub unreadable: u64,
}

/// Runs fd scans and caches soft limits per pid. Its buffers (the pid list, the rows, the
/// text of a file) are kept between scans: a scan of an unchanged machine allocates only the
/// rows it returns.
pub struct FdScanner {
    limits: HashMap<u32, (Option<NofileLimit>, Instant)>,
    size_is_count: bool,
    pids: Vec<u32>,
    /// (pct or -1, open, pid, soft limit)
    rows: Vec<(f64, u64, u32, Option<u64>)>,
    text: Vec<u8>,
    dents: Box<DentsBuf>,
}

impl std::fmt::Debug for FdScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdScanner")
            .field("limits", &self.limits.len())
            .field("size_is_count", &self.size_is_count)
            .finish_non_exhaustive()
    }
}

impl FdScanner {
    pub fn new(proc_root: &Path) -> Self {
        FdScanner {
            limits: HashMap::new(),
            size_is_count: fd_dir_size_is_count(proc_root),
            pids: Vec::new(),
            rows: Vec::new(),
            text: Vec::new(),
            dents: Box::new(procdir::dents_buf()),
        }
    }

    pub fn scan(&mut self, proc_root: &Path, now: Instant, top_n: usize) -> FdScan {
        let root = procdir::open_dir(proc_root).ok();
        match &root {
            Some(r) => procdir::list_pids_in(r.as_fd(), &mut self.dents, &mut self.pids),
            None => self.pids.clear(),
        }
        let mut unreadable = 0u64;
        self.rows.clear();
        if let Some(root) = &root {
            let root = root.as_fd();
            for &pid in &self.pids {
                let open = match count_open_fds_in(root, pid, self.size_is_count, &mut self.dents) {
                    Ok(n) => n,
                    Err(_) => {
                        unreadable += 1;
                        continue;
                    }
                };
                if open == 0 {
                    continue; // kernel threads
                }
                let limit = match self.limits.get(&pid) {
                    Some((l, at)) if now.saturating_duration_since(*at) < LIMITS_TTL => *l,
                    _ => {
                        let l = procdir::pid_path(pid, "limits")
                            .and_then(|p| procdir::read_at(root, p.as_cstr(), &mut self.text))
                            .ok()
                            .and_then(|()| std::str::from_utf8(&self.text).ok())
                            .and_then(parse_nofile_soft);
                        self.limits.insert(pid, (l, now));
                        l
                    }
                };
                let soft = match limit {
                    Some(NofileLimit::Limited(n)) => Some(n),
                    _ => None,
                };
                let pct = soft
                    .filter(|s| *s > 0)
                    .map_or(-1.0, |s| open as f64 * 100.0 / s as f64);
                self.rows.push((pct, open, pid, soft));
            }
        }
        // Forget limits of processes that are gone (bounded cache).
        if self.limits.len() > self.pids.len() {
            let pids = &self.pids;
            self.limits.retain(|pid, _| pids.binary_search(pid).is_ok());
        }
        self.rows
            .sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        self.rows.truncate(top_n);
        let mut top = Vec::with_capacity(self.rows.len());
        for &(_, open, pid, soft_limit) in &self.rows {
            let comm = root
                .as_ref()
                .and_then(|r| read_comm_in(r.as_fd(), pid, &mut self.text))
                .unwrap_or("(gone)");
            top.push(FdUsage {
                pid,
                comm: comm.into(),
                open,
                soft_limit,
            });
        }
        FdScan { top, unreadable }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole /proc/PID/limits as Linux 6.x writes it.
    const LIMITS: &str = "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max file size             unlimited            unlimited            bytes     \n\
Max data size             unlimited            unlimited            bytes     \n\
Max stack size            8388608              unlimited            bytes     \n\
Max core file size        0                    unlimited            bytes     \n\
Max resident set          unlimited            unlimited            bytes     \n\
Max processes             63429                63429                processes \n\
Max open files            1024                 524288               files     \n\
Max locked memory         8388608              8388608              bytes     \n\
Max address space         unlimited            unlimited            bytes     \n\
Max file locks            unlimited            unlimited            locks     \n\
Max pending signals       63429                63429                signals   \n\
Max msgqueue size         819200               819200               bytes     \n\
Max nice priority         0                    0                    \n\
Max realtime priority     0                    0                    \n\
Max realtime timeout      unlimited            unlimited            us        \n";

    #[test]
    fn parses_soft_nofile() {
        assert_eq!(parse_nofile_soft(LIMITS), Some(NofileLimit::Limited(1024)));
        let unl = LIMITS.replace("1024     ", "unlimited");
        assert_eq!(parse_nofile_soft(&unl), Some(NofileLimit::Unlimited));
    }

    #[test]
    fn odd_or_truncated_limits_give_none() {
        assert_eq!(parse_nofile_soft(""), None);
        assert_eq!(parse_nofile_soft("Max open files"), None);
        assert_eq!(parse_nofile_soft("Max open files   \n"), None);
        assert_eq!(
            parse_nofile_soft("Max open files   lots  lots files\n"),
            None
        );
        assert_eq!(parse_nofile_soft("Max cpu time 1 1 seconds\n"), None);
        assert_eq!(parse_nofile_soft("Max open files   -5  5 files\n"), None);
        // A table cut before the row, or the row with a bad number.
        let cut: String = LIMITS.lines().take(8).map(|l| format!("{l}\n")).collect();
        assert_eq!(parse_nofile_soft(&cut), None);
        let negative = LIMITS.replace("1024     ", "-5       ");
        assert_eq!(parse_nofile_soft(&negative), None);
    }

    #[test]
    fn reads_this_process_limits() {
        let text = std::fs::read_to_string("/proc/self/limits").expect("readable");
        assert!(parse_nofile_soft(&text).is_some(), "{text}");
    }

    #[test]
    fn counts_own_fds_and_finds_self_in_scan() {
        let me = std::process::id();
        let dir = Path::new("/proc").join(me.to_string()).join("fd");
        assert!(
            fd_dir_size_is_count(Path::new("/proc")),
            "Linux >= 6.2 expected here"
        );
        let n = count_open_fds(&dir, true).unwrap();
        // readdir sees its own directory fd too, and other test threads open files.
        assert!(count_open_fds(&dir, false).unwrap() >= 3);
        assert!(n >= 3, "stdin/out/err at least, got {n}");
        let scan =
            FdScanner::new(Path::new("/proc")).scan(Path::new("/proc"), Instant::now(), 100_000);
        let mine = scan
            .top
            .iter()
            .find(|u| u.pid == me)
            .expect("own process in the scan");
        assert!(mine.open >= 3);
        assert!(mine.soft_limit.is_some());
        assert!(!mine.comm.is_empty());
        let pcts: Vec<f64> = scan.top.iter().map(|u| u.pct().unwrap_or(-1.0)).collect();
        assert!(pcts.windows(2).all(|w| w[0] >= w[1]), "sorted by pct desc");
        let empty = FdScanner::new(Path::new("/nonexistent")).scan(
            Path::new("/nonexistent"),
            Instant::now(),
            10,
        );
        assert_eq!(empty, FdScan::default());
    }
}
