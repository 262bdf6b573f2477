//! Connection-tracking table fill from /proc/sys/net/netfilter/nf_conntrack_{count,max}, when
//! the module is loaded (absent files give `None`).

use std::ffi::CStr;
use std::io;
use std::os::fd::BorrowedFd;
use std::path::Path;

use super::procdir;
use super::sysctl::{parse_u64, read_small, read_u64_in};
use crate::domain::sockets::Conntrack;

/// Pure: both file contents to a [`Conntrack`]; `None` if either is missing or odd.
pub fn parse_conntrack(count: Option<&str>, max: Option<&str>) -> Option<Conntrack> {
    Some(Conntrack {
        count: parse_u64(count?)?,
        max: parse_u64(max?)?,
    })
}

pub fn read_conntrack(proc_root: &Path) -> Option<Conntrack> {
    let dir = proc_root.join("sys/net/netfilter");
    let count = read_small(&dir.join("nf_conntrack_count"));
    let max = read_small(&dir.join("nf_conntrack_max"));
    parse_conntrack(count.as_deref(), max.as_deref())
}

/// [`read_conntrack`] under the open proc root `root`, reading through `buf` (no allocation).
pub fn read_conntrack_in(root: BorrowedFd<'_>, buf: &mut Vec<u8>) -> Option<Conntrack> {
    Some(Conntrack {
        count: read_u64_in(root, COUNT, buf)?,
        max: read_u64_in(root, MAX, buf)?,
    })
}

const COUNT: &CStr = c"sys/net/netfilter/nf_conntrack_count";
const MAX: &CStr = c"sys/net/netfilter/nf_conntrack_max";

/// [`unknown_why`] under the open proc root `root` (which is `proc_root`), reading through
/// `buf`: no allocation while the table reads fine or is simply absent; the rarer answers are
/// worded by [`unknown_why`] itself.
pub fn unknown_why_in(root: BorrowedFd<'_>, proc_root: &Path, buf: &mut Vec<u8>) -> Option<String> {
    for rel in [COUNT, MAX] {
        match procdir::read_at(root, rel, buf) {
            Ok(()) => match std::str::from_utf8(buf) {
                Ok(text) if parse_u64(text).is_some() => {}
                _ => return unknown_why(proc_root),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Some("nf_conntrack not loaded".to_string());
            }
            Err(_) => return unknown_why(proc_root),
        }
    }
    None
}

/// Why the table cannot be read, or `None` when it can: "nf_conntrack not loaded",
/// "permission denied reading nf_conntrack_count", "unreadable figure in nf_conntrack_max".
pub fn unknown_why(proc_root: &Path) -> Option<String> {
    let dir = proc_root.join("sys/net/netfilter");
    for name in ["nf_conntrack_count", "nf_conntrack_max"] {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) if parse_u64(&text).is_some() => {}
            Ok(_) => return Some(format!("unreadable figure in {name}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Some("nf_conntrack not loaded".to_string());
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Some(format!("permission denied reading {name}"));
            }
            Err(e) => return Some(format!("{}: {e}", path.display())),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unreadable_table_says_why() {
        let dir = tempfile::tempdir().expect("tempdir");
        let why = super::unknown_why(dir.path()).expect("unknown");
        assert!(why.starts_with("nf_conntrack not loaded"), "{why}");
        let nf = dir.path().join("sys/net/netfilter");
        std::fs::create_dir_all(&nf).expect("dirs");
        std::fs::write(nf.join("nf_conntrack_count"), "12\n").expect("write");
        std::fs::write(nf.join("nf_conntrack_max"), "lots\n").expect("write");
        let why = super::unknown_why(dir.path()).expect("unknown");
        assert!(why.starts_with("unreadable figure in"), "{why}");
        std::fs::write(nf.join("nf_conntrack_max"), "262144\n").expect("write");
        assert_eq!(super::unknown_why(dir.path()), None);
        assert!(super::read_conntrack(dir.path()).is_some());
    }

    /// The fd-relative readers answer as the path ones do, in every state of the files.
    #[test]
    fn reading_under_an_open_root_gives_the_same_answers() {
        use std::os::fd::AsFd;
        let dir = tempfile::tempdir().expect("tempdir");
        let nf = dir.path().join("sys/net/netfilter");
        let mut buf = Vec::new();
        let check = |buf: &mut Vec<u8>| {
            let root = super::procdir::open_dir(dir.path()).expect("open");
            assert_eq!(
                super::unknown_why_in(root.as_fd(), dir.path(), buf),
                super::unknown_why(dir.path())
            );
            assert_eq!(
                super::read_conntrack_in(root.as_fd(), buf),
                super::read_conntrack(dir.path())
            );
        };
        check(&mut buf);
        std::fs::create_dir_all(&nf).expect("dirs");
        std::fs::write(nf.join("nf_conntrack_count"), "12\n").expect("write");
        check(&mut buf);
        std::fs::write(nf.join("nf_conntrack_max"), "lots\n").expect("write");
        check(&mut buf);
        std::fs::write(nf.join("nf_conntrack_max"), [0xff, 0xfe]).expect("write");
        check(&mut buf);
        std::fs::write(nf.join("nf_conntrack_max"), "262144\n").expect("write");
        check(&mut buf);
        assert_eq!(
            super::read_conntrack_in(
                super::procdir::open_dir(dir.path()).expect("open").as_fd(),
                &mut buf
            ),
            Some(Conntrack {
                count: 12,
                max: 262_144
            })
        );
    }

    use super::*;

    #[test]
    fn parses_or_gives_none() {
        assert_eq!(
            parse_conntrack(Some("12\n"), Some("262144\n")),
            Some(Conntrack {
                count: 12,
                max: 262144
            })
        );
        assert_eq!(parse_conntrack(None, Some("1")), None);
        assert_eq!(parse_conntrack(Some("x"), Some("1")), None);
        assert_eq!(parse_conntrack(Some(""), Some("")), None);
        assert_eq!(read_conntrack(Path::new("/nonexistent")), None);
    }
}
