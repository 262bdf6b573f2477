//! TcpExt ListenOverflows / ListenDrops from /proc/net/netstat, and their per-second rates
//! between polls. Parsed here: procfs 0.18 reads /proc/net/snmp but has no parser for the TcpExt
//! table of /proc/net/netstat.

use std::os::fd::BorrowedFd;
use std::time::Instant;

use crate::domain::sockets::ListenStats;

/// Cumulative counters as read from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenCounters {
    pub overflows: u64,
    pub drops: u64,
}

/// Finds the `TcpExt:` header/value line pair and reads ListenOverflows and ListenDrops.
/// `None` if the section or either counter is missing or unparsable.
pub fn parse_netstat(text: &str) -> Option<ListenCounters> {
    let mut lines = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let names = lines.next()?;
    let values = lines.next()?;
    let (mut overflows, mut drops) = (None, None);
    let pairs = names
        .split_ascii_whitespace()
        .zip(values.split_ascii_whitespace())
        .skip(1);
    for (name, value) in pairs {
        match name {
            "ListenOverflows" => overflows = value.parse().ok(),
            "ListenDrops" => drops = value.parse().ok(),
            _ => {}
        }
    }
    Some(ListenCounters {
        overflows: overflows?,
        drops: drops?,
    })
}

/// Turns successive readings into [`ListenStats`] with rates (first poll: `None`; a counter that
/// went backwards, e.g. a netns reset, also gives `None` rather than a huge number).
#[derive(Debug, Default)]
pub struct ListenRates {
    prev: Option<(Instant, ListenCounters)>,
}

impl ListenRates {
    /// Reads `net/netstat` under the open proc root `root` (through `buf`) and updates; an
    /// unreadable or odd file gives the default stats (no rates), as before.
    pub fn read(&mut self, root: BorrowedFd<'_>, buf: &mut Vec<u8>, now: Instant) -> ListenStats {
        match super::sysctl::read_text_in(root, c"net/netstat", buf).and_then(parse_netstat) {
            Some(c) => self.update(now, c),
            None => ListenStats::default(),
        }
    }

    pub fn update(&mut self, now: Instant, cur: ListenCounters) -> ListenStats {
        let rate = |prev: u64, cur: u64, secs: f64| {
            (cur >= prev && secs > 0.0).then(|| (cur - prev) as f64 / secs)
        };
        let (overflows_per_sec, drops_per_sec) = match self.prev {
            Some((t, p)) => {
                let secs = now.saturating_duration_since(t).as_secs_f64();
                (
                    rate(p.overflows, cur.overflows, secs),
                    rate(p.drops, cur.drops, secs),
                )
            }
            None => (None, None),
        };
        self.prev = Some((now, cur));
        ListenStats {
            overflows: cur.overflows,
            drops: cur.drops,
            overflows_per_sec,
            drops_per_sec,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SAMPLE: &str = "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPHPHits\n\
TcpExt: 0 0 17 21 12345\n\
IpExt: InNoRoutes ListenOverflows\n\
IpExt: 0 999\n";

    #[test]
    fn reads_listen_counters() {
        assert_eq!(
            parse_netstat(SAMPLE),
            Some(ListenCounters {
                overflows: 17,
                drops: 21
            })
        );
    }

    #[test]
    fn missing_truncated_or_odd_input_gives_none() {
        assert_eq!(parse_netstat(""), None);
        assert_eq!(parse_netstat("TcpExt: ListenOverflows ListenDrops\n"), None);
        assert_eq!(
            parse_netstat("TcpExt: ListenOverflows ListenDrops\nTcpExt: 5\n"),
            None
        );
        assert_eq!(
            parse_netstat("TcpExt: ListenOverflows ListenDrops\nTcpExt: 5 x\n"),
            None
        );
        assert_eq!(
            parse_netstat("IpExt: ListenOverflows ListenDrops\nIpExt: 1 2\n"),
            None
        );
        assert_eq!(parse_netstat("\u{0}\u{1b}[2J garbage"), None);
    }

    #[test]
    fn reads_the_real_file() {
        let text = std::fs::read_to_string("/proc/net/netstat").unwrap();
        assert!(parse_netstat(&text).is_some());
    }

    #[test]
    fn rates_between_polls() {
        let t0 = Instant::now();
        let mut r = ListenRates::default();
        let first = r.update(
            t0,
            ListenCounters {
                overflows: 10,
                drops: 20,
            },
        );
        assert_eq!((first.overflows_per_sec, first.drops_per_sec), (None, None));
        assert_eq!(first.overflows, 10);
        let s = r.update(
            t0 + Duration::from_secs(2),
            ListenCounters {
                overflows: 14,
                drops: 20,
            },
        );
        assert_eq!(s.overflows_per_sec, Some(2.0));
        assert_eq!(s.drops_per_sec, Some(0.0));
        let back = r.update(
            t0 + Duration::from_secs(3),
            ListenCounters {
                overflows: 1,
                drops: 25,
            },
        );
        assert_eq!(back.overflows_per_sec, None);
        assert_eq!(back.drops_per_sec, Some(5.0));
    }
}
