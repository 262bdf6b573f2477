//! The collector keeps its buffers between polls (pid lists, rows, file text, getdents
//! buffers, ranking scratch): a kept collector must report what a fresh one reports for the
//! same fake /proc tree, through changes to the tree. And the owner scan's getdents walk must
//! find owners past the first buffer of entries and with parallel workers.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

use ondeck::domain::sockets::SocketSnapshot;
use ondeck::sources::sockets::owners::{Lookup, Owners};
use ondeck::sources::sockets::{BackendChoice, SocketCollector, SocketOptions};

const HDR4: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
const HDR6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

fn row(local: &str, remote: &str, st: u8, rq: u32, inode: u32) -> String {
    format!(
        "   0: {local} {remote} {st:02X} 00000000:{rq:08X} 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0\n"
    )
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, text).expect("write");
}

fn limits(soft: &str) -> String {
    format!(
        "Limit                     Soft Limit           Hard Limit           Units     \n\
Max processes             63429                63429                processes \n\
Max open files            {soft:<20} 4096                 files     \n"
    )
}

fn process(root: &Path, pid: u32, comm: &str, soft: &str, sockets: &[u32]) {
    let dir = root.join(pid.to_string());
    fs::create_dir_all(dir.join("fd")).expect("mkdir");
    fs::write(dir.join("comm"), format!("{comm}\n")).expect("write");
    fs::write(dir.join("limits"), limits(soft)).expect("write");
    symlink("/dev/null", dir.join("fd/0")).expect("symlink");
    for (i, inode) in sockets.iter().enumerate() {
        symlink(
            format!("socket:[{inode}]"),
            dir.join(format!("fd/{}", i + 3)),
        )
        .expect("symlink");
    }
}

/// CLOSE_WAIT rows for `inodes` (peers and ports varied), and the listeners of java (5001,
/// while it runs) and nginx (5002).
fn tcp(inodes: &[u32], java_listens: bool) -> String {
    let mut t = String::from(HDR4);
    if java_listens {
        t += &row("00000000:1F90", "00000000:0000", 0x0A, 5, 5001);
    }
    t += &row("0100007F:2382", "00000000:0000", 0x0A, 0, 5002);
    for (i, inode) in inodes.iter().enumerate() {
        let peer = format!("0{}00000A:9C41", 1 + i % 7);
        let local = if i % 3 == 0 {
            "0100007F:1F90"
        } else {
            "0100007F:2382"
        };
        t += &row(local, &peer, 0x08, 0, *inode);
    }
    t += &row("0100007F:1F90", "0100000A:9C41", 0x01, 0, 7001);
    t
}

fn fake_proc(root: &Path) {
    write(root, "net/tcp", &tcp(&[6001, 6002, 6003, 6004], true));
    write(root, "net/tcp6", HDR6);
    write(
        root,
        "net/netstat",
        "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 10 12\n",
    );
    write(root, "sys/net/core/somaxconn", "4096\n");
    write(root, "sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
    write(root, "sys/net/ipv4/tcp_fin_timeout", "60\n");
    write(root, "sys/net/netfilter/nf_conntrack_count", "50\n");
    write(root, "sys/net/netfilter/nf_conntrack_max", "100\n");
    process(root, 100, "java", "10", &[5001, 6001, 6002]);
    process(root, 200, "nginx", "unlimited", &[5002, 6003]);
    write(root, "300/fd", "not a directory");
}

fn options(root: &Path) -> SocketOptions {
    SocketOptions {
        backend: BackendChoice::ProcNet,
        top_n: 10,
        attribution_interval: Duration::ZERO,
        fd_scan_interval: Some(Duration::ZERO),
        proc_root: root.to_path_buf(),
    }
}

/// What a kept and a fresh collector can both know: the poll's duration and the listen
/// rates (which need an earlier poll) left out.
fn comparable(mut s: SocketSnapshot) -> SocketSnapshot {
    s.poll_duration = Duration::ZERO;
    s.listen.overflows_per_sec = None;
    s.listen.drops_per_sec = None;
    s
}

/// One change to the fake tree.
type Change = Box<dyn Fn(&Path)>;

#[test]
fn a_kept_collector_reports_what_a_fresh_one_does() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    fake_proc(root);
    let mut kept = SocketCollector::new(options(root));
    let t0 = Instant::now();
    let mut t = t0;
    // Each change, then two polls of the kept collector (a new socket is looked up once it
    // survives a poll), then one poll of a fresh collector at the same moment.
    let changes: Vec<Change> = vec![
        Box::new(|_| {}),
        // A new process with sockets, new CLOSE_WAIT rows.
        Box::new(|r| {
            process(r, 400, "postgres", "64", &[6005, 6006, 6007]);
            process(r, 500, "cron", "20", &[]);
            write(
                r,
                "net/tcp",
                &tcp(&[6001, 6002, 6003, 6004, 6005, 6006, 6007], true),
            );
        }),
        // A process gone, its sockets with it (the owner cache trusts a found owner for as
        // long as its socket lives); the kernel settings and counters moved.
        Box::new(|r| {
            fs::remove_dir_all(r.join("100")).expect("rm");
            write(r, "net/tcp", &tcp(&[6003, 6005, 6006], false));
            write(r, "sys/net/core/somaxconn", "128\n");
            write(
                r,
                "net/netstat",
                "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 40 50\n",
            );
            fs::remove_file(r.join("sys/net/netfilter/nf_conntrack_max")).expect("rm");
        }),
        // A comm that changed (exec; the fd scan reads it afresh, the owner cache keeps the
        // one it found), more fds for one process, an odd limit file.
        Box::new(|r| {
            fs::write(r.join("500/comm"), "cron-job\n").expect("write");
            for i in 20..60 {
                symlink("/dev/null", r.join(format!("400/fd/{i}"))).expect("symlink");
            }
            fs::write(r.join("400/limits"), "garbage\n").expect("write");
            write(r, "sys/net/netfilter/nf_conntrack_max", "lots\n");
        }),
        // Nothing left but the header.
        Box::new(|r| {
            write(r, "net/tcp", HDR4);
        }),
    ];
    for (step, change) in changes.iter().enumerate() {
        change(root);
        t += Duration::from_secs(70); // past the limits cache's minute
        kept.poll(t, true).expect("poll");
        let a = kept.poll(t + Duration::from_secs(1), true).expect("poll");
        let b = SocketCollector::new(options(root))
            .poll(t + Duration::from_secs(1), true)
            .expect("poll");
        assert_eq!(comparable(a), comparable(b), "step {step}");
    }
}

/// Two processes with 3,000 fds each (more than one getdents buffer, and enough for the
/// parallel scan): owners found anywhere in either list, the rest unknown.
#[test]
fn the_owner_scan_walks_every_buffer_of_entries() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    let a: Vec<u32> = (100_000..103_000).collect();
    let b: Vec<u32> = (200_000..203_000).collect();
    process(root, 10, "first", "65536", &a);
    process(root, 11, "second", "65536", &b);
    write(root, "12/fd", "not a directory");
    let wanted = [100_000, 102_999, 101_500, 200_001, 202_998, 999];
    let now = Instant::now();
    let mut o = Owners::default();
    o.begin_poll();
    let st = o.scan(root, &wanted, now);
    assert_eq!(st.found, 5);
    assert_eq!(st.unreadable, 1);
    for inode in [100_000, 102_999, 101_500] {
        assert_eq!(o.lookup(inode, now), Lookup::Owner(10), "{inode}");
    }
    for inode in [200_001, 202_998] {
        assert_eq!(o.lookup(inode, now), Lookup::Owner(11), "{inode}");
    }
    assert_eq!(o.lookup(999, now), Lookup::Unknown);
    assert_eq!(o.comm(10), Some("first"));
    assert_eq!(o.comm(11), Some("second"));
    // Not found means every fd was read: 3,001 per process.
    assert_eq!(st.fds, 6002);
}
