//! [`SocketCollector`]: one blocking poll of everything the sockets pane shows, with the state
//! that makes the next poll cheap (netlink socket and buffers, owner cache, counter history).

use std::net::IpAddr;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use netlink_packet_sock_diag::{AF_INET, AF_INET6};

use super::fds::FdScanner;
use super::netlink::{ALL_STATES, DiagSocket, NetlinkError};
use super::netstat::ListenRates;
use super::owners::{Lookup, Owners};
use super::tally::{FastMap, Tally};
use super::{conntrack, procdir, procnet, sysctl};
use crate::domain::sockets::{
    Attribution, FdUsage, ListenStats, Listener, PeerCount, PortCount, ProcessCount, SocketBackend,
    SocketSnapshot,
};
use crate::sources::SourceError;

/// Comm of the bucket for sockets whose owner could not be read.
pub const UNKNOWN_OWNER: &str = "(unknown)";
/// Comm of the bucket for sockets not looked up yet (attribution throttled or not requested).
pub const PENDING_OWNER: &str = "(not yet attributed)";

/// How long Auto mode stays on /proc/net/tcp after netlink failed before trying netlink again.
const NETLINK_RETRY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// Netlink, falling back to /proc/net/tcp when netlink fails (logged with the reason).
    #[default]
    Auto,
    Netlink,
    ProcNet,
}

#[derive(Debug, Clone)]
pub struct SocketOptions {
    pub backend: BackendChoice,
    /// Length of each grouping (processes, peers, ports, listeners, fd usage).
    pub top_n: usize,
    /// Minimum time between two owner scans (/proc/PID/fd readlinks).
    pub attribution_interval: Duration,
    /// Minimum time between two fd-usage scans; `None` disables them.
    pub fd_scan_interval: Option<Duration>,
    /// "/proc", overridable for tests.
    pub proc_root: PathBuf,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            backend: BackendChoice::Auto,
            top_n: 20,
            attribution_interval: Duration::from_secs(5),
            fd_scan_interval: Some(Duration::from_secs(5)),
            proc_root: PathBuf::from("/proc"),
        }
    }
}

pub struct SocketCollector {
    opts: SocketOptions,
    netlink: Option<DiagSocket>,
    netlink_retry_at: Option<Instant>,
    /// Whether the kernel takes the legacy one-walk dump of both families (`None`: not tried
    /// yet; `Some(false)`: it refused, so one dump per family).
    one_walk: Option<bool>,
    file_buf: Vec<u8>,
    tally: Tally,
    owners: Owners,
    missing: Vec<u32>,
    /// Last poll's misses, sorted: a socket is looked up once it survives one poll.
    prev_missing: Vec<u32>,
    polls: u64,
    fds: FdScanner,
    last_fd_scan: Option<Instant>,
    /// The last fd scan's rows, handed to every snapshot until the next scan (cheap to
    /// clone: their comms are shared).
    fd_usage: Vec<FdUsage>,
    fd_unreadable: u64,
    rates: ListenRates,
    /// Scratch kept between polls: CLOSE_WAIT counts per pid, and the peer and port counts
    /// being ranked.
    by_pid: FastMap<u32, u64>,
    peer_counts: Vec<(IpAddr, u64)>,
    port_counts: Vec<(u16, u64)>,
}

fn netlink_to_source_error(e: &NetlinkError) -> SourceError {
    let permission = |io: &std::io::Error| io.kind() == std::io::ErrorKind::PermissionDenied;
    match e {
        NetlinkError::Open(io) | NetlinkError::Kernel(io) if permission(io) => {
            SourceError::Forbidden(format!("netlink sock_diag: {e}"))
        }
        _ => SourceError::Other(format!("netlink sock_diag: {e}")),
    }
}

fn due(last: Option<Instant>, now: Instant, every: Duration) -> bool {
    last.is_none_or(|t| now.saturating_duration_since(t) >= every)
}

/// Sorts `(key, count)` by count descending then key, keeps the first `n`; `v` is the
/// caller's scratch (cleared first, its capacity kept).
fn top<K: Ord + Copy>(
    v: &mut Vec<(K, u64)>,
    map: impl Iterator<Item = (K, u64)>,
    n: usize,
) -> &[(K, u64)] {
    v.clear();
    v.extend(map);
    v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

impl SocketCollector {
    pub fn new(opts: SocketOptions) -> Self {
        SocketCollector {
            netlink: None,
            netlink_retry_at: None,
            one_walk: None,
            file_buf: Vec::new(),
            tally: Tally::default(),
            owners: Owners::default(),
            missing: Vec::new(),
            prev_missing: Vec::new(),
            polls: 0,
            fds: FdScanner::new(&opts.proc_root),
            last_fd_scan: None,
            fd_usage: Vec::new(),
            fd_unreadable: 0,
            rates: ListenRates::default(),
            by_pid: FastMap::default(),
            peer_counts: Vec::new(),
            port_counts: Vec::new(),
            opts,
        }
    }

    pub fn options(&self) -> &SocketOptions {
        &self.opts
    }

    /// One poll. `want_owners`: map CLOSE_WAIT and listen sockets to processes this poll if the
    /// cache cannot answer (at most once per `attribution_interval`).
    pub fn poll(&mut self, now: Instant, want_owners: bool) -> Result<SocketSnapshot, SourceError> {
        let started = Instant::now();
        self.tally.clear();
        let (backend, ipv6_included) = self.collect_sockets(now)?;

        // Owners: cache lookups (which also collect the misses), then a scan only for what the
        // cache cannot answer, then the grouping again with the new entries.
        self.owners.begin_poll();
        self.missing.clear();
        let mut close_wait_by_process = self.group_by_process(now);
        for i in 0..self.tally.listeners.len() {
            let inode = self.tally.listeners[i].inode;
            if self.owner_of(inode, now) == Some(Lookup::Miss) {
                self.missing.push(inode);
            }
        }
        let mut attribution = Attribution::Done;
        self.missing.sort_unstable();
        self.missing.dedup();
        if !self.missing.is_empty() {
            // Only sockets that were already missing last poll trigger a scan (except on the
            // first poll, e.g. `check`): short-lived CLOSE_WAIT sockets are common on a busy
            // host, and one that closes before the scan reaches its owner makes the scan read
            // every fd on the machine instead of stopping early.
            let wanted: Vec<u32> = if self.polls == 0 {
                self.missing.clone()
            } else {
                let prev = &self.prev_missing;
                self.missing
                    .iter()
                    .copied()
                    .filter(|i| prev.binary_search(i).is_ok())
                    .collect()
            };
            let scan = want_owners
                && !wanted.is_empty()
                && due(self.owners.last_scan, now, self.opts.attribution_interval);
            if scan {
                let st = self.owners.scan(&self.opts.proc_root, &wanted, now);
                tracing::debug!(?st, wanted = wanted.len(), "socket owner scan");
                self.missing.clear();
                close_wait_by_process = self.group_by_process(now);
                for i in 0..self.tally.listeners.len() {
                    let inode = self.tally.listeners[i].inode;
                    if self.owner_of(inode, now) == Some(Lookup::Miss) {
                        self.missing.push(inode);
                    }
                }
                self.missing.sort_unstable();
                self.missing.dedup();
            }
            if !self.missing.is_empty() {
                attribution = Attribution::Skipped;
            }
        }
        std::mem::swap(&mut self.prev_missing, &mut self.missing);
        self.polls += 1;
        let listeners = self.listeners(now);
        self.owners.end_poll();

        let top_n = self.opts.top_n;
        let peers = self.tally.peers.iter().map(|(k, v)| (*k, *v));
        let close_wait_by_peer = top(&mut self.peer_counts, peers, top_n)
            .iter()
            .map(|&(peer, count)| PeerCount { peer, count })
            .collect();
        let ports = self.tally.ports.iter().map(|(k, v)| (*k, *v));
        let close_wait_by_local_port = top(&mut self.port_counts, ports, top_n)
            .iter()
            .map(|&(port, count)| PortCount { port, count })
            .collect();

        if let Some(every) = self.opts.fd_scan_interval
            && due(self.last_fd_scan, now, every)
        {
            let scan = self.fds.scan(&self.opts.proc_root, now, top_n);
            self.fd_usage = scan.top;
            self.fd_unreadable = scan.unreadable;
            self.last_fd_scan = Some(now);
        }
        // The small files below are read relative to one open root, through `file_buf`.
        let root = procdir::open_dir(&self.opts.proc_root).ok();
        let (listen, conntrack, conntrack_unknown, sysctls) = match &root {
            Some(r) => {
                let r = r.as_fd();
                let buf = &mut self.file_buf;
                (
                    self.rates.read(r, buf, now),
                    conntrack::read_conntrack_in(r, buf),
                    conntrack::unknown_why_in(r, &self.opts.proc_root, buf),
                    sysctl::read_sysctls_in(r, buf),
                )
            }
            // No root (a test tree that is gone): what the path readers say about it.
            None => (
                ListenStats::default(),
                conntrack::read_conntrack(&self.opts.proc_root),
                conntrack::unknown_why(&self.opts.proc_root),
                sysctl::read_sysctls(&self.opts.proc_root),
            ),
        };

        Ok(SocketSnapshot {
            backend: Some(backend),
            states: self.tally.state_counts(),
            ipv6_included,
            close_wait_by_process,
            close_wait_by_peer,
            close_wait_by_local_port,
            listeners,
            listen,
            fd_usage: self.fd_usage.clone(),
            unreadable_processes: self.fd_unreadable.max(self.owners.last_stats.unreadable),
            conntrack,
            conntrack_unknown,
            sysctls,
            attribution,
            poll_duration: started.elapsed(),
            skipped_records: self.tally.skipped,
        })
    }

    /// Fills `self.tally` from netlink or /proc/net/tcp, per the backend choice.
    fn collect_sockets(&mut self, now: Instant) -> Result<(SocketBackend, bool), SourceError> {
        let try_netlink = match self.opts.backend {
            BackendChoice::Netlink => true,
            BackendChoice::ProcNet => false,
            BackendChoice::Auto => self.netlink_retry_at.is_none_or(|t| now >= t),
        };
        if try_netlink {
            match self.collect_netlink() {
                Ok(v6) => {
                    self.netlink_retry_at = None;
                    return Ok((SocketBackend::Netlink, v6));
                }
                Err(e) => {
                    self.netlink = None; // may hold the rest of an aborted dump
                    self.tally.clear();
                    if self.opts.backend == BackendChoice::Netlink {
                        return Err(netlink_to_source_error(&e));
                    }
                    tracing::warn!(error = %e, "netlink sock_diag failed; using /proc/net/tcp");
                    self.netlink_retry_at = Some(now + NETLINK_RETRY);
                }
            }
        }
        let v6 = self.collect_procnet()?;
        Ok((SocketBackend::ProcNet, v6))
    }

    fn collect_netlink(&mut self) -> Result<bool, NetlinkError> {
        if self.netlink.is_none() {
            self.netlink = Some(DiagSocket::open()?);
        }
        let Some(sock) = self.netlink.as_mut() else {
            return Err(NetlinkError::Malformed("no socket"));
        };
        let tally = &mut self.tally;
        let mut interrupted = None;
        if self.one_walk != Some(false) {
            match sock.dump_tcp_all_families(ALL_STATES, |p| tally.add_raw(p)) {
                Ok(st) => {
                    self.one_walk = Some(true);
                    interrupted = Some(st.interrupted);
                }
                // Refused the first time: this kernel has no legacy request. Per family from
                // now on, on a fresh socket (nothing of the refused dump left to read).
                Err(NetlinkError::Kernel(e)) if self.one_walk.is_none() => {
                    tracing::info!(
                        "sock_diag: one-walk TCP dump refused ({e}); one dump per family"
                    );
                    self.one_walk = Some(false);
                    tally.clear();
                    *sock = DiagSocket::open()?;
                }
                Err(e) => return Err(e),
            }
        }
        let interrupted = match interrupted {
            Some(i) => i,
            None => {
                let st4 = sock.dump_tcp(AF_INET, ALL_STATES, |p| tally.add_raw(p))?;
                let st6 = sock.dump_tcp(AF_INET6, ALL_STATES, |p| tally.add_raw(p))?;
                st4.interrupted || st6.interrupted
            }
        };
        if interrupted {
            tracing::debug!("sock_diag dump interrupted by table changes; counts approximate");
        }
        Ok(true)
    }

    fn collect_procnet(&mut self) -> Result<bool, SourceError> {
        let net = self.opts.proc_root.join("net");
        procnet::read_whole(&net.join("tcp"), &mut self.file_buf)
            .map_err(|e| SourceError::Other(format!("{}: {e}", net.join("tcp").display())))?;
        let tally = &mut self.tally;
        let st = procnet::parse_file(&self.file_buf, AF_INET, |m| tally.add(m));
        let mut skipped = st.skipped;
        // No tcp6 file: IPv6 is not available in this kernel, not an error.
        let v6 = match procnet::read_whole(&net.join("tcp6"), &mut self.file_buf) {
            Ok(()) => {
                let st6 = procnet::parse_file(&self.file_buf, AF_INET6, |m| tally.add(m));
                skipped += st6.skipped;
                true
            }
            Err(_) => false,
        };
        tally.skipped += skipped;
        if skipped > 0 {
            tracing::debug!(skipped, "odd lines in /proc/net/tcp*");
        }
        Ok(v6)
    }

    fn owner_of(&mut self, inode: u32, now: Instant) -> Option<Lookup> {
        (inode != 0).then(|| self.owners.lookup(inode, now))
    }

    fn group_by_process(&mut self, now: Instant) -> Vec<ProcessCount> {
        // Key: Some(pid), or None for unknown; pending ones are counted apart.
        let mut by_pid = std::mem::take(&mut self.by_pid);
        by_pid.clear();
        let (mut unknown, mut pending) = (0u64, 0u64);
        let inodes = std::mem::take(&mut self.tally.close_wait_inodes);
        for &inode in &inodes {
            match self.owner_of(inode, now) {
                Some(Lookup::Owner(pid)) => *by_pid.entry(pid).or_insert(0) += 1,
                Some(Lookup::Miss) => {
                    pending += 1;
                    self.missing.push(inode);
                }
                // Inode 0: accepted by nobody yet (still in a listener's queue).
                Some(Lookup::Unknown) | None => unknown += 1,
            }
        }
        self.tally.close_wait_inodes = inodes;
        let mut out: Vec<ProcessCount> = Vec::with_capacity(by_pid.len() + 2);
        out.extend(by_pid.iter().map(|(&pid, &count)| ProcessCount {
            pid: Some(pid),
            comm: self.owners.comm(pid).unwrap_or(UNKNOWN_OWNER).to_string(),
            count,
        }));
        self.by_pid = by_pid;
        for (n, comm) in [(unknown, UNKNOWN_OWNER), (pending, PENDING_OWNER)] {
            if n > 0 {
                out.push(ProcessCount {
                    pid: None,
                    comm: comm.to_string(),
                    count: n,
                });
            }
        }
        out.sort_unstable_by(|a, b| b.count.cmp(&a.count).then(a.pid.cmp(&b.pid)));
        out.truncate(self.opts.top_n);
        out
    }

    fn listeners(&mut self, now: Instant) -> Vec<Listener> {
        let socks = std::mem::take(&mut self.tally.listeners);
        let mut out: Vec<Listener> = socks
            .iter()
            .map(|l| {
                let pid = match self.owner_of(l.inode, now) {
                    Some(Lookup::Owner(pid)) => Some(pid),
                    _ => None,
                };
                Listener {
                    local: l.local,
                    queued: l.queued,
                    backlog: l.backlog,
                    pid,
                    comm: pid.and_then(|p| self.owners.shared_comm(p)).cloned(),
                }
            })
            .collect();
        self.tally.listeners = socks;
        out.sort_by(|a, b| {
            b.fill_pct()
                .total_cmp(&a.fill_pct())
                .then(b.queued.cmp(&a.queued))
                .then(a.local.cmp(&b.local))
        });
        out.truncate(self.opts.top_n);
        out
    }
}
