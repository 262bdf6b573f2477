//! Connection-tracking table fill from /proc/sys/net/netfilter/nf_conntrack_{count,max}, when
//! the module is loaded (absent files give `None`).

use std::path::Path;

use super::sysctl::{parse_u64, read_small};
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

#[cfg(test)]
mod tests {
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
