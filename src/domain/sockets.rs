//! What the sockets source reports each poll: counts per TCP state and the groupings an on-call
//! engineer needs (who holds CLOSE_WAIT, listen queues, fd usage, conntrack). Owned, plain data.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

/// A process name (`comm`) that every snapshot can hold without copying it: the collector
/// keeps one per process and hands the same text to each poll's listeners and fd-usage rows,
/// so cloning a row does not allocate. Reads, compares, orders, hashes, formats and
/// serializes exactly like the `String` it replaces.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Comm(Arc<str>);

impl Comm {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Comm {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Comm {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Comm {
    fn from(s: &str) -> Comm {
        Comm(Arc::from(s))
    }
}

impl From<String> for Comm {
    fn from(s: String) -> Comm {
        Comm(Arc::from(s))
    }
}

impl PartialEq<str> for Comm {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Comm {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Comm {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl fmt::Display for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl fmt::Debug for Comm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Comm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Comm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Comm, D::Error> {
        String::deserialize(d).map(Comm::from)
    }
}

/// TCP states as the kernel numbers them (include/net/tcp_states.h). `NEW_SYN_RECV` (12) is
/// folded into `SynRecv`, as `ss` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
}

impl TcpState {
    pub const ALL: [TcpState; 11] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
    ];

    /// From the kernel's numeric state (1..=12). Unknown numbers give `None`.
    pub fn from_kernel(n: u8) -> Option<TcpState> {
        Some(match n {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 | 12 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Close,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            _ => return None,
        })
    }

    /// The kernel's number for this state.
    pub fn kernel_number(self) -> u8 {
        self.index() as u8 + 1
    }

    /// netstat-style name, the key used in `check --json` (`sockets.states.CLOSE_WAIT`).
    pub fn netstat_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait1 => "FIN_WAIT1",
            TcpState::FinWait2 => "FIN_WAIT2",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Count of sockets per state, IPv4 and IPv6 together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts(pub [u64; 11]);

impl StateCounts {
    pub fn get(&self, s: TcpState) -> u64 {
        self.0[s.index()]
    }
    pub fn add(&mut self, s: TcpState, n: u64) {
        self.0[s.index()] += n;
    }
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// Where the socket list came from; the pane says which is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketBackend {
    /// NETLINK_SOCK_DIAG / INET_DIAG dumps (fast, kernel-side state filters).
    Netlink,
    /// One whole read each of /proc/net/tcp and /proc/net/tcp6 (fallback).
    ProcNet,
}

impl SocketBackend {
    pub fn label(self) -> &'static str {
        match self {
            SocketBackend::Netlink => "netlink sock_diag",
            SocketBackend::ProcNet => "/proc/net/tcp",
        }
    }
}

/// CLOSE_WAIT sockets held by one process. `pid == None` is the bucket for sockets whose owner
/// could not be read (another user's process without privileges, or already gone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessCount {
    pub pid: Option<u32>,
    pub comm: String,
    pub count: u64,
}

/// CLOSE_WAIT sockets per remote peer address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerCount {
    pub peer: IpAddr,
    pub count: u64,
}

/// CLOSE_WAIT sockets per local port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortCount {
    pub port: u16,
    pub count: u64,
}

/// A listening socket with its accept queue: `queued` is the current accept-queue length (Recv-Q
/// of `ss -lnt`), `backlog` the configured maximum (Send-Q of `ss -lnt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    pub local: SocketAddr,
    pub queued: u32,
    pub backlog: u32,
    pub pid: Option<u32>,
    pub comm: Option<Comm>,
}

impl Listener {
    /// Accept-queue fill as a percentage of the backlog (0 when the backlog is 0).
    pub fn fill_pct(&self) -> f64 {
        if self.backlog == 0 {
            0.0
        } else {
            self.queued as f64 * 100.0 / self.backlog as f64
        }
    }
}

/// Open file descriptors of one process against its soft RLIMIT_NOFILE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdUsage {
    pub pid: u32,
    pub comm: Comm,
    pub open: u64,
    /// `None` when the limit is "unlimited" or unreadable.
    pub soft_limit: Option<u64>,
}

impl FdUsage {
    pub fn pct(&self) -> Option<f64> {
        self.soft_limit
            .filter(|l| *l > 0)
            .map(|l| self.open as f64 * 100.0 / l as f64)
    }
}

/// TcpExt counters from /proc/net/netstat (cumulative since boot) and their per-second rates
/// since the previous poll (`None` on the first poll).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ListenStats {
    pub overflows: u64,
    pub drops: u64,
    pub overflows_per_sec: Option<f64>,
    pub drops_per_sec: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conntrack {
    pub count: u64,
    pub max: u64,
}

impl Conntrack {
    pub fn pct(&self) -> f64 {
        if self.max == 0 {
            0.0
        } else {
            self.count as f64 * 100.0 / self.max as f64
        }
    }
}

/// Kernel settings worth seeing next to the listen queues (detail view).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketSysctls {
    pub somaxconn: Option<u32>,
    pub local_port_range: Option<(u16, u16)>,
    pub tcp_fin_timeout: Option<u32>,
}

/// How complete the process attribution of this snapshot is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribution {
    /// Some sockets are not attributed yet (they sit in the "(not yet attributed)" bucket):
    /// owner scans are throttled, and a socket is looked up only once it survives a poll.
    #[default]
    Skipped,
    /// Nothing is pending: every socket that needed an owner got one, from the cache or this
    /// poll's scan, or was counted in the "(unknown)" bucket.
    Done,
}

/// One poll of the sockets source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SocketSnapshot {
    pub backend: Option<SocketBackend>,
    pub states: StateCounts,
    pub ipv6_included: bool,
    /// Sorted by count, descending.
    pub close_wait_by_process: Vec<ProcessCount>,
    /// Sorted by count, descending.
    pub close_wait_by_peer: Vec<PeerCount>,
    /// Sorted by count, descending.
    pub close_wait_by_local_port: Vec<PortCount>,
    /// Sorted by fill percentage, descending.
    pub listeners: Vec<Listener>,
    pub listen: ListenStats,
    /// Top N processes by fd usage percentage, descending.
    pub fd_usage: Vec<FdUsage>,
    /// Processes whose fds or limits could not be read (other users): counted, not an error.
    pub unreadable_processes: u64,
    pub conntrack: Option<Conntrack>,
    /// Why the conntrack table could not be read when `conntrack` is `None` (module not
    /// loaded, permission denied, unreadable figures): shown and reported, never silence.
    #[serde(default)]
    pub conntrack_unknown: Option<String>,
    pub sysctls: SocketSysctls,
    pub attribution: Attribution,
    /// Time the poll took, for the pane's footer and the benchmarks.
    #[serde(with = "duration_micros")]
    pub poll_duration: Duration,
    /// Socket records the backend could not read (odd /proc/net/tcp lines, short netlink
    /// records): skipped and counted, never an error.
    #[serde(default)]
    pub skipped_records: u64,
}

mod duration_micros {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_micros(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_state_numbers_round_trip() {
        for s in TcpState::ALL {
            assert_eq!(TcpState::from_kernel(s.kernel_number()), Some(s));
        }
        assert_eq!(TcpState::from_kernel(12), Some(TcpState::SynRecv));
        assert_eq!(TcpState::from_kernel(8), Some(TcpState::CloseWait));
        assert_eq!(TcpState::from_kernel(0), None);
        assert_eq!(TcpState::from_kernel(13), None);
    }

    #[test]
    fn fill_and_pct_handle_zero() {
        let l = Listener {
            local: "127.0.0.1:80".parse().unwrap(),
            queued: 9,
            backlog: 10,
            pid: None,
            comm: None,
        };
        assert!((l.fill_pct() - 90.0).abs() < 1e-9);
        let z = Listener { backlog: 0, ..l };
        assert_eq!(z.fill_pct(), 0.0);
        let f = FdUsage {
            pid: 1,
            comm: "x".into(),
            open: 10,
            soft_limit: None,
        };
        assert_eq!(f.pct(), None);
    }
}
