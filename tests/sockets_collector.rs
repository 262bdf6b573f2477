//! The collector over a fake /proc tree (ProcNet backend): groupings, the unknown and pending
//! owner buckets, attribution throttling, cache eviction, unreadable processes, fd usage,
//! ListenOverflows rates, conntrack and sysctls, odd lines counted. Deterministic: no kernel.

use std::fs;
use std::net::IpAddr;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

use ondeck::domain::sockets::{Attribution, SocketBackend, SocketSnapshot, TcpState};
use ondeck::sources::sockets::{
    BackendChoice, PENDING_OWNER, SocketCollector, SocketOptions, UNKNOWN_OWNER,
};

const HDR4: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const HDR6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

/// One /proc/net/tcp row. `ip` as the kernel prints it (hex of the native u32).
fn row(local: &str, remote: &str, st: u8, rq: u32, inode: u32) -> String {
    format!(
        "   0: {local} {remote} {st:02X} 00000000:{rq:08X} 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0\n"
    )
}

const LO_8080: &str = "0100007F:1F90";
const ANY_8080: &str = "00000000:1F90";
const LO_9090: &str = "0100007F:2382";
const PEER1: &str = "0100000A:9C41"; // 10.0.0.1
const PEER2: &str = "0200000A:9C43"; // 10.0.0.2
const PEER3: &str = "0300000A:9C44"; // 10.0.0.3
const NONE: &str = "00000000:0000";

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn process(root: &Path, pid: u32, comm: &str, soft: &str, sockets: &[u32]) {
    let dir = root.join(pid.to_string());
    fs::create_dir_all(dir.join("fd")).unwrap();
    fs::write(dir.join("comm"), format!("{comm}\n")).unwrap();
    // The whole table, as the kernel writes it (the parser wants every row).
    let limits = [
        "Limit                     Soft Limit           Hard Limit           Units     ",
        "Max cpu time              unlimited            unlimited            seconds   ",
        "Max file size             unlimited            unlimited            bytes     ",
        "Max data size             unlimited            unlimited            bytes     ",
        "Max stack size            8388608              unlimited            bytes     ",
        "Max core file size        0                    unlimited            bytes     ",
        "Max resident set          unlimited            unlimited            bytes     ",
        "Max processes             63429                63429                processes ",
        "Max open files            SOFT                 4096                 files     ",
        "Max locked memory         8388608              8388608              bytes     ",
        "Max address space         unlimited            unlimited            bytes     ",
        "Max file locks            unlimited            unlimited            locks     ",
        "Max pending signals       63429                63429                signals   ",
        "Max msgqueue size         819200               819200               bytes     ",
        "Max nice priority         0                    0                    ",
        "Max realtime priority     0                    0                    ",
        "Max realtime timeout      unlimited            unlimited            us        ",
    ]
    .join("\n")
    .replace("SOFT", soft);
    fs::write(dir.join("limits"), limits + "\n").unwrap();
    symlink("/dev/null", dir.join("fd/0")).unwrap();
    for (i, inode) in sockets.iter().enumerate() {
        symlink(
            format!("socket:[{inode}]"),
            dir.join(format!("fd/{}", i + 3)),
        )
        .unwrap();
    }
}

fn tcp4(extra: &str) -> String {
    let mut t = String::from(HDR4);
    t += &row(ANY_8080, NONE, 0x0A, 5, 5001);
    t += &row(LO_9090, NONE, 0x0A, 0, 5002);
    t += &row(LO_8080, PEER1, 0x08, 0, 6001);
    t += &row(LO_8080, PEER1, 0x08, 0, 6002);
    t += &row(LO_8080, PEER2, 0x08, 0, 6003);
    t += &row(LO_9090, PEER2, 0x08, 0, 6004); // nobody holds it: unknown
    t += &row(LO_8080, PEER3, 0x08, 0, 0); // never accepted: unknown, no scan
    t += &row(LO_8080, PEER1, 0x01, 0, 7001);
    t += &row(LO_8080, PEER1, 0x06, 0, 0);
    t += "   9: garbage that is not a socket row\n";
    t += extra;
    t
}

fn fake_proc() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    write(r, "net/tcp", &tcp4(""));
    let mut t6 = String::from(HDR6);
    t6 += &row(
        "0000000000000000FFFF00000100007F:1F90",
        "0000000000000000FFFF00000100000A:9C45",
        0x08,
        0,
        6005,
    );
    write(r, "net/tcp6", &t6);
    write(
        r,
        "net/netstat",
        "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 10 12\n",
    );
    write(r, "sys/net/core/somaxconn", "4096\n");
    write(r, "sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
    write(r, "sys/net/ipv4/tcp_fin_timeout", "60\n");
    write(r, "sys/net/netfilter/nf_conntrack_count", "50\n");
    write(r, "sys/net/netfilter/nf_conntrack_max", "100\n");
    process(r, 100, "java", "10", &[5001, 6001, 6002, 6005]);
    process(r, 200, "nginx", "unlimited", &[5002, 6003]);
    // A process whose fd directory cannot be read.
    write(r, "300/fd", "not a directory");
    d
}

fn bucket(s: &SocketSnapshot, pid: Option<u32>, comm: &str) -> u64 {
    s.close_wait_by_process
        .iter()
        .find(|p| p.pid == pid && p.comm == comm)
        .map_or(0, |p| p.count)
}

#[test]
fn groups_attributes_throttles_and_evicts() {
    let d = fake_proc();
    let root = d.path();
    let mut c = SocketCollector::new(SocketOptions {
        backend: BackendChoice::ProcNet,
        top_n: 10,
        attribution_interval: Duration::from_secs(10),
        fd_scan_interval: Some(Duration::from_secs(10)),
        proc_root: root.to_path_buf(),
    });
    let t0 = Instant::now();

    // Poll 1: owners not wanted: everything with an inode is pending, inode 0 unknown.
    let s = c.poll(t0, false).unwrap();
    assert_eq!(s.backend, Some(SocketBackend::ProcNet));
    assert!(s.ipv6_included);
    assert_eq!(s.states.get(TcpState::CloseWait), 6);
    assert_eq!(s.states.get(TcpState::Listen), 2);
    assert_eq!(s.states.get(TcpState::Established), 1);
    assert_eq!(s.states.get(TcpState::TimeWait), 1);
    assert_eq!(s.skipped_records, 1);
    assert_eq!(s.attribution, Attribution::Skipped);
    assert_eq!(bucket(&s, None, PENDING_OWNER), 5);
    assert_eq!(bucket(&s, None, UNKNOWN_OWNER), 1);
    assert_eq!(s.listen.overflows, 10);
    assert_eq!(s.listen.overflows_per_sec, None);
    assert_eq!(s.conntrack.map(|c| (c.count, c.max)), Some((50, 100)));
    assert_eq!(s.sysctls.somaxconn, Some(4096));
    assert_eq!(s.sysctls.local_port_range, Some((32768, 60999)));
    assert_eq!(s.sysctls.tcp_fin_timeout, Some(60));
    assert_eq!(s.unreadable_processes, 1);
    assert_eq!(s.fd_usage[0].pid, 100);
    assert_eq!(s.fd_usage[0].open, 5);
    assert_eq!(s.fd_usage[0].soft_limit, Some(10));
    assert_eq!(s.fd_usage[0].comm, "java");
    assert_eq!(s.fd_usage[1].pid, 200);
    assert_eq!(s.fd_usage[1].soft_limit, None);

    // Poll 2: owners wanted: one scan attributes them.
    write(
        root,
        "net/netstat",
        "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 30 12\n",
    );
    let s = c.poll(t0 + Duration::from_secs(2), true).unwrap();
    assert_eq!(s.attribution, Attribution::Done);
    assert_eq!(bucket(&s, Some(100), "java"), 3);
    assert_eq!(bucket(&s, Some(200), "nginx"), 1);
    assert_eq!(bucket(&s, None, UNKNOWN_OWNER), 2);
    assert_eq!(bucket(&s, None, PENDING_OWNER), 0);
    assert_eq!(s.close_wait_by_process[0].pid, Some(100), "sorted by count");
    assert_eq!(s.listen.overflows_per_sec, Some(10.0));
    assert_eq!(s.listen.drops_per_sec, Some(0.0));
    let peer = |ip: &str| {
        let ip: IpAddr = ip.parse().unwrap();
        s.close_wait_by_peer
            .iter()
            .find(|p| p.peer == ip)
            .map_or(0, |p| p.count)
    };
    assert_eq!(peer("10.0.0.1"), 3, "IPv4-mapped IPv6 peers count as IPv4");
    assert_eq!(peer("10.0.0.2"), 2);
    assert_eq!(peer("10.0.0.3"), 1);
    assert_eq!(
        s.close_wait_by_peer[0].peer,
        "10.0.0.1".parse::<IpAddr>().unwrap()
    );
    let ports: Vec<(u16, u64)> = s
        .close_wait_by_local_port
        .iter()
        .map(|p| (p.port, p.count))
        .collect();
    assert_eq!(ports, vec![(8080, 5), (9090, 1)]);
    assert_eq!(s.listeners.len(), 2);
    assert_eq!(s.listeners[0].local, "0.0.0.0:8080".parse().unwrap());
    assert_eq!(s.listeners[0].queued, 5);
    assert_eq!(s.listeners[0].pid, Some(100));
    assert_eq!(s.listeners[0].comm.as_deref(), Some("java"));
    assert_eq!(s.listeners[1].pid, Some(200));

    // Poll 3: a new CLOSE_WAIT socket of nginx, but the last scan was 1 s ago: pending.
    symlink("socket:[6006]", root.join("200/fd/9")).unwrap();
    write(root, "net/tcp", &tcp4(&row(LO_9090, PEER3, 0x08, 0, 6006)));
    let s = c.poll(t0 + Duration::from_secs(3), true).unwrap();
    assert_eq!(s.attribution, Attribution::Skipped);
    assert_eq!(bucket(&s, None, PENDING_OWNER), 1);
    assert_eq!(
        bucket(&s, Some(100), "java"),
        3,
        "cached owners still grouped"
    );

    // Poll 4: interval passed: scanned.
    let s = c.poll(t0 + Duration::from_secs(13), true).unwrap();
    assert_eq!(s.attribution, Attribution::Done);
    assert_eq!(bucket(&s, Some(200), "nginx"), 2);

    // Poll 5: java's sockets closed and the process went away: its entries are evicted and
    // nothing is attributed to a pid that no longer holds them.
    fs::remove_dir_all(root.join("100")).unwrap();
    let mut t = String::from(HDR4);
    t += &row(LO_8080, PEER2, 0x08, 0, 6003);
    write(root, "net/tcp", &t);
    write(root, "net/tcp6", HDR6);
    let s = c.poll(t0 + Duration::from_secs(14), true).unwrap();
    assert_eq!(s.attribution, Attribution::Done);
    assert_eq!(s.close_wait_by_process.len(), 1);
    assert_eq!(bucket(&s, Some(200), "nginx"), 1);
}

#[test]
fn top_n_bounds_every_grouping() {
    let d = fake_proc();
    let mut c = SocketCollector::new(SocketOptions {
        backend: BackendChoice::ProcNet,
        top_n: 1,
        attribution_interval: Duration::ZERO,
        fd_scan_interval: Some(Duration::ZERO),
        proc_root: d.path().to_path_buf(),
    });
    let s = c.poll(Instant::now(), true).unwrap();
    assert_eq!(s.close_wait_by_process.len(), 1);
    assert_eq!(s.close_wait_by_peer.len(), 1);
    assert_eq!(s.close_wait_by_local_port.len(), 1);
    assert_eq!(s.listeners.len(), 1);
    assert_eq!(s.fd_usage.len(), 1);
}

#[test]
fn missing_proc_net_tcp_is_an_error_not_a_panic() {
    let d = tempfile::tempdir().unwrap();
    let mut c = SocketCollector::new(SocketOptions {
        backend: BackendChoice::ProcNet,
        proc_root: d.path().to_path_buf(),
        ..SocketOptions::default()
    });
    let e = c.poll(Instant::now(), true).unwrap_err();
    assert!(e.is_failure());
    assert!(e.to_string().contains("net/tcp"), "{e}");
}

#[test]
fn a_new_socket_is_looked_up_once_it_survives_a_poll() {
    let d = fake_proc();
    let root = d.path();
    let mut c = SocketCollector::new(SocketOptions {
        backend: BackendChoice::ProcNet,
        top_n: 10,
        attribution_interval: Duration::ZERO,
        fd_scan_interval: None,
        proc_root: root.to_path_buf(),
    });
    let t0 = Instant::now();
    // First poll (what `check` does): everything is looked up at once.
    let s = c.poll(t0, true).unwrap();
    assert_eq!(s.attribution, Attribution::Done);
    assert_eq!(bucket(&s, Some(100), "java"), 3);
    // A new CLOSE_WAIT socket: pending for one poll even though a scan would be allowed...
    symlink("socket:[6007]", root.join("100/fd/9")).unwrap();
    write(root, "net/tcp", &tcp4(&row(LO_8080, PEER3, 0x08, 0, 6007)));
    let s = c.poll(t0 + Duration::from_secs(1), true).unwrap();
    assert_eq!(s.attribution, Attribution::Skipped);
    assert_eq!(bucket(&s, None, PENDING_OWNER), 1);
    // ...and attributed on the next one, since it is still there.
    let s = c.poll(t0 + Duration::from_secs(2), true).unwrap();
    assert_eq!(s.attribution, Attribution::Done);
    assert_eq!(bucket(&s, Some(100), "java"), 4);
    assert_eq!(bucket(&s, None, PENDING_OWNER), 0);
}
