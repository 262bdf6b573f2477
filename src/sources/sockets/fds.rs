//! Per-process open file descriptors against the soft RLIMIT_NOFILE.
//!
//! The open count comes from `stat(/proc/PID/fd).st_size`, which Linux >= 6.2 sets to the
//! number of open fds (a bitmap count in the kernel: no directory walk, no readlink); when it is
//! 0 (older kernels) the directory entries are counted instead. Soft limits come from
//! /proc/PID/limits (parsed by procfs) and are cached per pid for a minute, since they rarely
//! change.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::domain::sockets::FdUsage;

const LIMITS_TTL: Duration = Duration::from_secs(60);

/// The soft "Max open files" limit from /proc/PID/limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NofileLimit {
    Limited(u64),
    Unlimited,
}

/// Parses /proc/PID/limits with procfs and returns the soft "Max open files" limit. `None` if
/// the file is not a whole, well-formed limits table.
pub fn parse_nofile_soft(limits: &str) -> Option<NofileLimit> {
    use procfs::FromBufRead as _;
    use procfs::process::{LimitValue, Limits};
    // procfs indexes each row from its end (soft, hard, units): a row of fewer than four
    // fields is not a limits table, and must not reach that arithmetic.
    let well_formed = limits
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Limit"))
        .all(|l| l.split_whitespace().count() >= 4);
    if !well_formed {
        return None;
    }
    let parsed = Limits::from_buf_read(limits.as_bytes()).ok()?;
    Some(match parsed.max_open_files.soft_limit {
        LimitValue::Unlimited => NofileLimit::Unlimited,
        LimitValue::Value(v) => NofileLimit::Limited(v),
    })
}

/// Whether `stat(PROC/PID/fd).st_size` is an fd count under `proc_root` (a real procfs on
/// Linux >= 6.2). A test tree of plain directories reports byte sizes instead.
pub fn fd_dir_size_is_count(proc_root: &Path) -> bool {
    std::fs::metadata(proc_root.join("self/fd")).is_ok_and(|m| m.len() > 0)
        && std::fs::metadata(proc_root.join("self/stat")).is_ok_and(|m| m.len() == 0)
}

/// Number of open fds of the process whose fd directory is `fd_dir`: from the directory's size
/// when `size_is_count`, else by counting its entries.
pub fn count_open_fds(fd_dir: &Path, size_is_count: bool) -> io::Result<u64> {
    let meta = std::fs::metadata(fd_dir)?;
    if size_is_count && meta.len() > 0 {
        return Ok(meta.len());
    }
    let mut n = 0u64;
    for e in std::fs::read_dir(fd_dir)? {
        if e.is_ok() {
            n += 1;
        }
    }
    Ok(n)
}

pub(crate) fn read_comm(proc_root: &Path, pid: u32) -> Option<String> {
    let mut s = std::fs::read_to_string(proc_root.join(pid.to_string()).join("comm")).ok()?;
    let trimmed = s.trim_end_matches('\n').len();
    s.truncate(trimmed);
    Some(s)
}

/// The numeric entries of `proc_root`, ascending. An unreadable /proc gives an empty list.
pub(crate) fn list_pids(proc_root: &Path) -> Vec<u32> {
    let mut pids: Vec<u32> = match std::fs::read_dir(proc_root) {
        Ok(rd) => rd
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    pids.sort_unstable();
    pids
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

/// Runs fd scans and caches soft limits per pid.
#[derive(Debug)]
pub struct FdScanner {
    limits: HashMap<u32, (Option<NofileLimit>, Instant)>,
    size_is_count: bool,
}

impl FdScanner {
    pub fn new(proc_root: &Path) -> Self {
        FdScanner {
            limits: HashMap::new(),
            size_is_count: fd_dir_size_is_count(proc_root),
        }
    }

    pub fn scan(&mut self, proc_root: &Path, now: Instant, top_n: usize) -> FdScan {
        let pids = list_pids(proc_root);
        let mut unreadable = 0u64;
        // (pct or -1, open, pid, soft limit)
        let mut rows: Vec<(f64, u64, u32, Option<u64>)> = Vec::with_capacity(pids.len());
        for &pid in &pids {
            let dir = proc_root.join(pid.to_string());
            let open = match count_open_fds(&dir.join("fd"), self.size_is_count) {
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
                    let l = std::fs::read_to_string(dir.join("limits"))
                        .ok()
                        .and_then(|t| parse_nofile_soft(&t));
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
            rows.push((pct, open, pid, soft));
        }
        // Forget limits of processes that are gone (bounded cache).
        if self.limits.len() > pids.len() {
            self.limits.retain(|pid, _| pids.binary_search(pid).is_ok());
        }
        rows.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        rows.truncate(top_n);
        let top = rows
            .into_iter()
            .map(|(_, open, pid, soft_limit)| FdUsage {
                pid,
                comm: read_comm(proc_root, pid).unwrap_or_else(|| "(gone)".to_string()),
                open,
                soft_limit,
            })
            .collect();
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
        // A table cut short, or a row with a field missing: not a limits table.
        let cut: String = LIMITS.lines().take(8).map(|l| format!("{l}\n")).collect();
        assert_eq!(parse_nofile_soft(&cut), None);
        let broken = LIMITS.replace(
            "Max open files            1024                 524288",
            "Max open files 1024",
        );
        assert_eq!(parse_nofile_soft(&broken), None);
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
