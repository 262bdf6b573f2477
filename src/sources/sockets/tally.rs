//! One poll's aggregation of socket records (from either backend): counts per state and the
//! CLOSE_WAIT / LISTEN details the groupings need. Reused across polls so a steady state does
//! not allocate.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, SocketAddr};

use super::netlink::DiagMsg;
use crate::domain::sockets::{StateCounts, TcpState};

pub const TCP_CLOSE_WAIT: u8 = 8;
pub const TCP_LISTEN: u8 = 10;

/// A small multiplicative hasher for integer and address keys (inodes, ports, IPs): the keys
/// come from the kernel, not from an attacker who could choose collisions cheaply, and SipHash
/// costs more than the rest of the per-socket work.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_ne_bytes(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// A listening socket as dumped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenSock {
    pub local: SocketAddr,
    pub queued: u32,
    pub backlog: u32,
    pub inode: u32,
}

#[derive(Debug, Default)]
pub struct Tally {
    /// Indexed by the kernel's state number (0..=12; 12 = NEW_SYN_RECV).
    pub by_kernel_state: [u64; 13],
    /// Inodes of CLOSE_WAIT sockets (0 for sockets no process has accepted yet).
    pub close_wait_inodes: Vec<u32>,
    pub peers: FastMap<IpAddr, u64>,
    pub ports: FastMap<u16, u64>,
    pub listeners: Vec<ListenSock>,
    /// Records that could not be read (short, unknown family or state).
    pub skipped: u64,
}

impl Tally {
    pub fn clear(&mut self) {
        self.by_kernel_state = [0; 13];
        self.close_wait_inodes.clear();
        self.peers.clear();
        self.ports.clear();
        self.listeners.clear();
        self.skipped = 0;
    }

    /// Hot path for netlink: most records are only counted, from their state byte.
    #[inline]
    pub fn add_raw(&mut self, payload: &[u8]) {
        match DiagMsg::peek_state(payload) {
            Some(TCP_CLOSE_WAIT | TCP_LISTEN) => match DiagMsg::parse(payload) {
                Some(m) => self.add(&m),
                None => self.skipped += 1,
            },
            Some(st) if (st as usize) < self.by_kernel_state.len() => {
                self.by_kernel_state[st as usize] += 1;
            }
            _ => self.skipped += 1,
        }
    }

    pub fn add(&mut self, m: &DiagMsg) {
        let Some(slot) = self.by_kernel_state.get_mut(m.state as usize) else {
            self.skipped += 1;
            return;
        };
        *slot += 1;
        match m.state {
            TCP_CLOSE_WAIT => {
                self.close_wait_inodes.push(m.inode);
                *self.peers.entry(m.dst.to_canonical()).or_insert(0) += 1;
                *self.ports.entry(m.sport).or_insert(0) += 1;
            }
            TCP_LISTEN => self.listeners.push(ListenSock {
                local: SocketAddr::new(m.src, m.sport),
                queued: m.rqueue,
                backlog: m.wqueue,
                inode: m.inode,
            }),
            _ => {}
        }
    }

    pub fn state_counts(&self) -> StateCounts {
        let mut c = StateCounts::default();
        for (n, count) in self.by_kernel_state.iter().enumerate() {
            if let Some(s) = TcpState::from_kernel(n as u8) {
                c.add(s, *count);
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::sockets::netlink::encode;
    use netlink_packet_sock_diag::{AF_INET, AF_INET6};

    fn msg(family: u8, state: u8, src: &str, sport: u16, dst: &str) -> DiagMsg {
        DiagMsg {
            family,
            state,
            src: src.parse().unwrap(),
            sport,
            dst: dst.parse().unwrap(),
            dport: 40000,
            rqueue: 3,
            wqueue: 8,
            uid: 0,
            inode: 77,
        }
    }

    #[test]
    fn counts_and_groups_records() {
        let mut t = Tally::default();
        t.add_raw(&encode(&msg(AF_INET, 8, "127.0.0.1", 80, "10.0.0.1")));
        t.add_raw(&encode(&msg(AF_INET6, 8, "::1", 80, "::ffff:10.0.0.1")));
        t.add_raw(&encode(&msg(AF_INET, 1, "127.0.0.1", 80, "10.0.0.2")));
        t.add_raw(&encode(&msg(AF_INET, 12, "127.0.0.1", 80, "10.0.0.2")));
        t.add_raw(&encode(&msg(AF_INET, 10, "0.0.0.0", 80, "0.0.0.0")));
        t.add_raw(&encode(&msg(AF_INET, 99, "0.0.0.0", 80, "0.0.0.0")));
        t.add_raw(&[8u8; 10]);
        let c = t.state_counts();
        assert_eq!(c.get(TcpState::CloseWait), 2);
        assert_eq!(c.get(TcpState::Established), 1);
        assert_eq!(
            c.get(TcpState::SynRecv),
            1,
            "NEW_SYN_RECV folds into SYN_RECV"
        );
        assert_eq!(c.get(TcpState::Listen), 1);
        assert_eq!(c.total(), 5);
        assert_eq!(t.skipped, 2);
        assert_eq!(
            t.peers.get(&"10.0.0.1".parse::<IpAddr>().unwrap()),
            Some(&2),
            "v4-mapped folds"
        );
        assert_eq!(t.ports.get(&80), Some(&2));
        assert_eq!(t.close_wait_inodes, vec![77, 77]);
        assert_eq!(
            t.listeners,
            vec![ListenSock {
                local: "0.0.0.0:80".parse().unwrap(),
                queued: 3,
                backlog: 8,
                inode: 77
            }]
        );
        t.clear();
        assert_eq!(t.state_counts().total(), 0);
        assert!(t.peers.is_empty() && t.listeners.is_empty() && t.close_wait_inodes.is_empty());
    }
}
