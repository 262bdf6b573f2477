//! Kernel settings shown next to the listen queues: somaxconn, ip_local_port_range,
//! tcp_fin_timeout. Missing or odd files give `None`, never an error.

use std::ffi::CStr;
use std::os::fd::BorrowedFd;
use std::path::Path;

use super::procdir;
use crate::domain::sockets::SocketSysctls;

pub fn parse_u32(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

pub fn parse_u64(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// `"32768\t60999\n"` -> (32768, 60999).
pub fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut it = text.split_ascii_whitespace();
    let lo = it.next()?.parse().ok()?;
    let hi = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((lo, hi))
}

pub(crate) fn read_small(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

pub fn read_sysctls(proc_root: &Path) -> SocketSysctls {
    let sys = proc_root.join("sys/net");
    SocketSysctls {
        somaxconn: read_small(&sys.join("core/somaxconn")).and_then(|t| parse_u32(&t)),
        local_port_range: read_small(&sys.join("ipv4/ip_local_port_range"))
            .and_then(|t| parse_port_range(&t)),
        tcp_fin_timeout: read_small(&sys.join("ipv4/tcp_fin_timeout")).and_then(|t| parse_u32(&t)),
    }
}

/// The text of `rel` under `root`, read through `buf`; `None` if unreadable or not UTF-8 (as
/// [`read_small`] gives).
pub(crate) fn read_text_in<'b>(
    root: BorrowedFd<'_>,
    rel: &CStr,
    buf: &'b mut Vec<u8>,
) -> Option<&'b str> {
    procdir::read_at(root, rel, buf).ok()?;
    std::str::from_utf8(buf).ok()
}

pub(crate) fn read_u64_in(root: BorrowedFd<'_>, rel: &CStr, buf: &mut Vec<u8>) -> Option<u64> {
    read_text_in(root, rel, buf).and_then(parse_u64)
}

/// [`read_sysctls`] under the open proc root `root`, reading through `buf` (no allocation).
pub fn read_sysctls_in(root: BorrowedFd<'_>, buf: &mut Vec<u8>) -> SocketSysctls {
    SocketSysctls {
        somaxconn: read_text_in(root, c"sys/net/core/somaxconn", buf).and_then(parse_u32),
        local_port_range: read_text_in(root, c"sys/net/ipv4/ip_local_port_range", buf)
            .and_then(parse_port_range),
        tcp_fin_timeout: read_text_in(root, c"sys/net/ipv4/tcp_fin_timeout", buf)
            .and_then(parse_u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_and_rejects_odd_ones() {
        assert_eq!(parse_u32("4096\n"), Some(4096));
        assert_eq!(parse_u32(""), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("32768"), None);
        assert_eq!(parse_port_range("1 2 3"), None);
        assert_eq!(parse_port_range("1 99999"), None);
    }

    #[test]
    fn reads_this_machine() {
        let s = read_sysctls(Path::new("/proc"));
        assert!(s.somaxconn.is_some());
        assert!(s.local_port_range.is_some());
        assert!(s.tcp_fin_timeout.is_some());
        let none = read_sysctls(Path::new("/nonexistent"));
        assert_eq!(none, SocketSysctls::default());
        let root = procdir::open_dir(Path::new("/proc")).expect("open /proc");
        let mut buf = Vec::new();
        let s_in = read_sysctls_in(std::os::fd::AsFd::as_fd(&root), &mut buf);
        assert_eq!(s_in, s);
        assert!(
            buf.capacity() >= 4096,
            "the buffer is kept for the next read"
        );
    }
}
