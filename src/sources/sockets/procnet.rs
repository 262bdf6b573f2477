//! The /proc/net/tcp and /proc/net/tcp6 fallback: each file is read whole into a reused buffer
//! (never line-by-line I/O), then parsed from memory. Odd or truncated lines are skipped and
//! counted, never a panic.
//!
//! Limitation: /proc/net/tcp has no listen backlog (its tx_queue is 0 for listeners), so
//! listeners from this backend carry `wqueue == 0`.

use std::fs::File;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use netlink_packet_sock_diag::{AF_INET, AF_INET6};

use super::netlink::DiagMsg;

/// What one parse of a /proc/net/tcp* file found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    pub records: u64,
    /// Lines that were not a valid socket row (truncated, garbage); the header is not counted.
    pub skipped: u64,
}

/// Reads `path` whole into `buf` (cleared first; its capacity is kept for the next poll).
pub fn read_whole(path: &Path, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let mut f = File::open(path)?;
    // seq_file hands out as much as fits per read(): a large spare capacity keeps this to a
    // few syscalls.
    if buf.capacity() < 64 * 1024 {
        buf.reserve(64 * 1024);
    }
    f.read_to_end(buf)?;
    Ok(())
}

fn hex_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 8 {
        return None;
    }
    let mut v: u32 = 0;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u32::from(d);
    }
    Some(v)
}

fn dec_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 10 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(c - b'0');
    }
    u32::try_from(v).ok()
}

/// `0100007F:1F90` -> (127.0.0.1, 8080). The kernel prints each 32-bit word of the address as
/// the host-order value of the network-order bytes, so `to_ne_bytes` restores them.
fn endpoint(s: &[u8], family: u8) -> Option<(IpAddr, u16)> {
    let colon = s.iter().position(|&c| c == b':')?;
    let (a, p) = (&s[..colon], &s[colon + 1..]);
    if p.len() != 4 {
        return None;
    }
    let port = u16::try_from(hex_u32(p)?).ok()?;
    let ip = match (family, a.len()) {
        (AF_INET, 8) => IpAddr::V4(Ipv4Addr::from(hex_u32(a)?.to_ne_bytes())),
        (AF_INET6, 32) => {
            let mut o = [0u8; 16];
            for (i, chunk) in a.chunks_exact(8).enumerate() {
                o[i * 4..i * 4 + 4].copy_from_slice(&hex_u32(chunk)?.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(o))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// One row of /proc/net/tcp{,6}: `sl local remote st tx:rx tr:when retrnsmt uid timeout inode ...`
pub fn parse_line(line: &[u8], family: u8) -> Option<DiagMsg> {
    let mut f = line
        .split(|c| *c == b' ' || *c == b'\t')
        .filter(|s| !s.is_empty());
    let sl = f.next()?;
    if sl.last() != Some(&b':') {
        return None;
    }
    let (src, sport) = endpoint(f.next()?, family)?;
    let (dst, dport) = endpoint(f.next()?, family)?;
    let st = f.next()?;
    if st.len() != 2 {
        return None;
    }
    let state = u8::try_from(hex_u32(st)?).ok()?;
    let q = f.next()?;
    let colon = q.iter().position(|&c| c == b':')?;
    let wqueue = hex_u32(&q[..colon])?;
    let rqueue = hex_u32(&q[colon + 1..])?;
    let _timer = f.next()?;
    let _retr = f.next()?;
    let uid = dec_u32(f.next()?)?;
    let _timeout = f.next()?;
    let inode = dec_u32(f.next()?)?;
    Some(DiagMsg {
        family,
        state,
        src,
        sport,
        dst,
        dport,
        rqueue,
        wqueue,
        uid,
        inode,
    })
}

/// Parses a whole /proc/net/tcp{,6} file image, calling `on_record` for each valid row.
pub fn parse_file(data: &[u8], family: u8, mut on_record: impl FnMut(&DiagMsg)) -> ParseStats {
    let mut stats = ParseStats::default();
    let mut lines = data.split(|c| *c == b'\n');
    // The header: "  sl  local_address rem_address ...".
    let _ = lines.next();
    for line in lines {
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        match parse_line(line, family) {
            Some(m) => {
                stats.records += 1;
                on_record(&m);
            }
            None => stats.skipped += 1,
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP4: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000005 00:00000000 00000000  1000        0 41234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0302010A:C822 08 00000000:00000000 00:00000000 00000000  1000        0 41240 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:A0F2 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
";

    #[test]
    fn parses_ipv4_rows() {
        let mut rows = Vec::new();
        let st = parse_file(TCP4.as_bytes(), AF_INET, |m| rows.push(*m));
        assert_eq!(
            st,
            ParseStats {
                records: 3,
                skipped: 0
            }
        );
        let l = rows[0];
        assert_eq!(
            (l.state, l.sport, l.rqueue, l.wqueue, l.inode, l.uid),
            (10, 8080, 5, 0, 41234, 1000)
        );
        assert_eq!(l.src, "127.0.0.1".parse::<IpAddr>().unwrap());
        let cw = rows[1];
        assert_eq!(cw.state, 8);
        assert_eq!(cw.dst, "10.1.2.3".parse::<IpAddr>().unwrap());
        assert_eq!(cw.dport, 0xC822);
        assert_eq!(rows[2].state, 6);
        assert_eq!(rows[2].inode, 0);
    }

    #[test]
    fn parses_ipv6_rows() {
        let data = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000302010A:D431 08 00000000:00000000 00:00000000 00000000     0        0 778 1 0000000000000000 100 0 0 10 0
";
        let mut rows = Vec::new();
        let st = parse_file(data.as_bytes(), AF_INET6, |m| rows.push(*m));
        assert_eq!(st.records, 2);
        assert_eq!(rows[0].src, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(rows[1].dst, "::ffff:10.1.2.3".parse::<IpAddr>().unwrap());
        assert_eq!(rows[1].dport, 0xD431);
    }

    #[test]
    fn truncated_and_garbage_lines_are_skipped_and_counted() {
        let mut data = String::from(TCP4);
        data.push_str("garbage line here\n");
        data.push_str("   4: 0100007F:1F90 0302010A:C822 08 000000\n"); // cut mid-row
        data.push_str("   5: 0100007F:1F90 0302010A:C822 ZZ 00000000:00000000 00:0 0 0 0 1\n");
        data.push_str("   6: 0100007F:1F9 0302010A:C822 08 00000000:00000000 00:0 0 0 0 1\n");
        data.push_str("   7: 0100007F1F90 0302010A:C822 08 00000000:00000000 00:0 0 0 0 1\n");
        data.push_str(
            "   8: 0100007F:1F90 0302010A:C822 08 00000000:00000000 00:0 0 99999999999 0 1\n",
        );
        data.push_str("\u{0}\u{ff}\n");
        data.push_str("   9: 0100007F:1F90 0302010A:C8"); // file cut mid-line, no newline
        let mut n = 0;
        let st = parse_file(data.as_bytes(), AF_INET, |_| n += 1);
        assert_eq!(st.records, 3);
        assert_eq!(n, 3);
        assert_eq!(st.skipped, 8);
        // A v6 file parsed as v4 (or the reverse) yields nothing, without panicking.
        let st = parse_file(TCP4.as_bytes(), AF_INET6, |_| {});
        assert_eq!(
            st,
            ParseStats {
                records: 0,
                skipped: 3
            }
        );
        assert_eq!(parse_file(b"", AF_INET, |_| {}), ParseStats::default());
    }

    #[test]
    fn reads_the_real_file_whole() {
        let mut buf = Vec::new();
        read_whole(Path::new("/proc/net/tcp"), &mut buf).unwrap();
        assert!(buf.starts_with(b"  sl"));
        let st = parse_file(&buf, AF_INET, |_| {});
        assert_eq!(st.skipped, 0);
    }
}
