//! The sockets source against the real kernel: sockets this test creates and holds in
//! CLOSE_WAIT (and a listener with a full accept queue) are counted and attributed to this
//! process by both backends. Other tests create sockets concurrently, so only sockets on this
//! test's own ports are compared exactly.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use netlink_packet_sock_diag::{AF_INET, AF_INET6};
use ondeck::domain::sockets::{Attribution, SocketBackend, SocketSnapshot, TcpState};
use ondeck::sources::sockets::netlink::{ALL_STATES, DiagMsg, DiagSocket, state_bit};
use ondeck::sources::sockets::{BackendChoice, SocketCollector, SocketOptions};

const N: usize = 300;

/// A listener whose `n` accepted connections sit in CLOSE_WAIT (the clients closed).
struct CloseWaitArmy {
    listener: TcpListener,
    _accepted: Vec<TcpStream>,
}

impl CloseWaitArmy {
    fn new(bind: &str, n: usize) -> std::io::Result<CloseWaitArmy> {
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let mut clients = Vec::with_capacity(n);
        let mut accepted = Vec::with_capacity(n);
        for _ in 0..n {
            clients.push(TcpStream::connect(addr)?);
            accepted.push(listener.accept()?.0);
        }
        drop(clients); // FIN from each client: the accepted side goes to CLOSE_WAIT
        Ok(CloseWaitArmy {
            listener,
            _accepted: accepted,
        })
    }
    fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }
}

fn opts(backend: BackendChoice) -> SocketOptions {
    SocketOptions {
        backend,
        top_n: 100_000,
        attribution_interval: Duration::ZERO,
        ..SocketOptions::default()
    }
}

fn port_count(s: &SocketSnapshot, port: u16) -> u64 {
    s.close_wait_by_local_port
        .iter()
        .find(|p| p.port == port)
        .map_or(0, |p| p.count)
}

/// Polls until the port shows `n` CLOSE_WAIT sockets (the FINs are processed asynchronously)
/// or two seconds pass; returns the last snapshot.
fn poll_until(c: &mut SocketCollector, port: u16, n: u64) -> SocketSnapshot {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let s = c.poll(Instant::now(), true).expect("poll");
        if port_count(&s, port) == n || Instant::now() > deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn own_comm() -> String {
    std::fs::read_to_string("/proc/self/comm")
        .unwrap()
        .trim_end()
        .to_string()
}

fn check_army(backend: BackendChoice, expect: SocketBackend, army: &CloseWaitArmy) {
    let port = army.port();
    let mut c = SocketCollector::new(opts(backend));
    let s = poll_until(&mut c, port, N as u64);
    assert_eq!(s.backend, Some(expect));
    assert_eq!(
        port_count(&s, port),
        N as u64,
        "{expect:?}: CLOSE_WAIT on port {port}"
    );
    assert!(s.states.get(TcpState::CloseWait) >= N as u64);
    assert!(s.states.get(TcpState::Listen) >= 1);
    assert_eq!(s.attribution, Attribution::Done);
    let me = std::process::id();
    let mine = s
        .close_wait_by_process
        .iter()
        .find(|p| p.pid == Some(me))
        .unwrap_or_else(|| {
            panic!(
                "{expect:?}: no bucket for pid {me}: {:?}",
                s.close_wait_by_process
            )
        });
    assert!(mine.count >= N as u64, "{expect:?}: {} < {N}", mine.count);
    assert_eq!(mine.comm, own_comm());
    let peers: u64 = s
        .close_wait_by_peer
        .iter()
        .filter(|p| p.peer.is_loopback())
        .map(|p| p.count)
        .sum();
    assert!(peers >= N as u64);
    let l = s
        .listeners
        .iter()
        .find(|l| l.local.port() == port)
        .unwrap_or_else(|| panic!("{expect:?}: listener on {port} missing"));
    assert_eq!(l.pid, Some(me));
    assert_eq!(l.comm.as_deref(), Some(own_comm().as_str()));
    assert_eq!(l.queued, 0);
    // Second poll without a scan: ours come from the cache. (Sockets other tests opened
    // meanwhile may be pending, so `attribution` is not asserted here.)
    let s2 = c.poll(Instant::now(), false).expect("second poll");
    assert!(
        s2.close_wait_by_process
            .iter()
            .any(|p| p.pid == Some(me) && p.count >= N as u64)
    );
}

#[test]
fn close_wait_ipv4_counted_and_attributed_by_both_backends() {
    let army = CloseWaitArmy::new("127.0.0.1:0", N).expect("loopback sockets");
    check_army(BackendChoice::Netlink, SocketBackend::Netlink, &army);
    check_army(BackendChoice::ProcNet, SocketBackend::ProcNet, &army);
    check_army(BackendChoice::Auto, SocketBackend::Netlink, &army);
}

#[test]
fn close_wait_ipv6_counted_and_attributed_by_both_backends() {
    let army = match CloseWaitArmy::new("[::1]:0", N) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("SKIPPED: no IPv6 loopback here ({e})");
            return;
        }
    };
    check_army(BackendChoice::Netlink, SocketBackend::Netlink, &army);
    check_army(BackendChoice::ProcNet, SocketBackend::ProcNet, &army);
}

#[test]
fn full_accept_queue_shows_queued_vs_backlog() {
    const BACKLOG: i32 = 3;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    // SAFETY: re-listening on our own valid listening fd only changes its backlog; std has no
    // API for the backlog.
    let rc = unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) };
    assert_eq!(rc, 0);
    let overflows_before = SocketCollector::new(opts(BackendChoice::Netlink))
        .poll(Instant::now(), false)
        .unwrap()
        .listen
        .overflows;
    // Never accepted: the kernel queues backlog + 1, then drops SYNs (ListenOverflows).
    let mut clients = Vec::new();
    for _ in 0..(BACKLOG + 4) {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(c) => clients.push(c),
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock),
                "{e}"
            ),
        }
    }
    let mut c = SocketCollector::new(opts(BackendChoice::Netlink));
    let s = c.poll(Instant::now(), true).unwrap();
    let l = s
        .listeners
        .iter()
        .find(|l| l.local == addr)
        .expect("our listener");
    assert_eq!(l.backlog, BACKLOG as u32);
    assert_eq!(
        l.queued,
        BACKLOG as u32 + 1,
        "accept queue holds backlog + 1"
    );
    assert!(l.fill_pct() >= 100.0);
    assert_eq!(l.pid, Some(std::process::id()));
    assert!(
        s.listen.overflows > overflows_before,
        "ListenOverflows went up"
    );
    // Sorted by fill: nothing can be fuller than an overflowing queue... except another full one.
    assert!(s.listeners[0].fill_pct() >= l.fill_pct());

    let p = SocketCollector::new(opts(BackendChoice::ProcNet))
        .poll(Instant::now(), true)
        .unwrap();
    let l = p
        .listeners
        .iter()
        .find(|l| l.local == addr)
        .expect("our listener via /proc");
    assert_eq!(l.queued, BACKLOG as u32 + 1);
    assert_eq!(l.backlog, 0, "/proc/net/tcp has no backlog");
    drop(clients);
}

#[test]
fn matches_ss_on_our_port() {
    let army = CloseWaitArmy::new("127.0.0.1:0", N).expect("loopback sockets");
    let port = army.port();
    let mut c = SocketCollector::new(opts(BackendChoice::Auto));
    let s = poll_until(&mut c, port, N as u64);
    let out = Command::new("/usr/bin/ss")
        .args([
            "-tan",
            "state",
            "close-wait",
            &format!("( sport = :{port} )"),
        ])
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        other => {
            eprintln!("SKIPPED: /usr/bin/ss unavailable: {other:?}");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let ss_count = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    assert_eq!(ss_count, N as u64, "ss output:\n{text}");
    assert_eq!(port_count(&s, port), ss_count);
}

#[test]
fn zero_copy_parse_matches_the_crate_on_real_records() {
    let _army = CloseWaitArmy::new("127.0.0.1:0", 20).expect("loopback sockets");
    let mut sock = DiagSocket::open().expect("netlink");
    let mut n = 0;
    for family in [AF_INET, AF_INET6] {
        sock.dump_tcp(family, ALL_STATES, |p| {
            n += 1;
            let mine = DiagMsg::parse(p);
            assert!(mine.is_some());
            assert_eq!(mine, DiagMsg::parse_with_crate(p));
        })
        .expect("dump");
    }
    assert!(n >= 41);
    // The kernel-side state filter: only CLOSE_WAIT comes back.
    sock.dump_tcp(AF_INET, state_bit(8), |p| {
        assert_eq!(DiagMsg::peek_state(p), Some(8))
    })
    .expect("filtered dump");
}

/// The one-walk dump (legacy `TCPDIAG_GETSOCK`, both families) sees exactly what the two
/// per-family dumps see, for this test's own sockets of both families and several states.
#[test]
fn one_walk_dump_sees_what_the_per_family_dumps_see() {
    let v4 = CloseWaitArmy::new("127.0.0.1:0", 7).expect("loopback sockets");
    // IPv6 loopback may be missing in a container: the IPv4 side is still compared.
    let v6 = CloseWaitArmy::new("[::1]:0", 5).ok();
    let mut ports = vec![v4.port()];
    ports.extend(v6.as_ref().map(|a| a.port()));
    let mine = |p: &[u8], out: &mut Vec<(u8, u8, u16, u16, u32)>| {
        if let Some(m) = DiagMsg::parse(p)
            && ports.contains(&m.sport)
        {
            out.push((m.family, m.state, m.sport, m.dport, m.inode));
        }
    };
    let mut sock = DiagSocket::open().expect("netlink");
    let mut per_family = Vec::new();
    for family in [AF_INET, AF_INET6] {
        sock.dump_tcp(family, ALL_STATES, |p| mine(p, &mut per_family))
            .expect("per-family dump");
    }
    let mut one_walk = Vec::new();
    let st = sock
        .dump_tcp_all_families(ALL_STATES, |p| mine(p, &mut one_walk))
        .expect("this kernel takes the one-walk request (the collector falls back when not)");
    assert!(st.records > 0);
    per_family.sort_unstable();
    one_walk.sort_unstable();
    // The server side: the listener and every accepted connection in CLOSE_WAIT (the client
    // ends move from FIN_WAIT1 to FIN_WAIT2 between two dumps, so they are not compared).
    let expected = 1 + 7 + v6.as_ref().map_or(0, |_| 1 + 5);
    assert_eq!(per_family.len(), expected, "{per_family:?}");
    assert_eq!(one_walk, per_family);
    if v6.is_some() {
        assert!(one_walk.iter().any(|r| r.0 == AF_INET6));
    }
    assert!(one_walk.iter().any(|r| r.0 == AF_INET));
    // The state filter applies to the one walk too: only CLOSE_WAIT comes back.
    sock.dump_tcp_all_families(state_bit(8), |p| {
        assert_eq!(DiagMsg::peek_state(p), Some(8))
    })
    .expect("filtered dump");
}

#[test]
fn spawn_sends_increasing_generations_and_stops_on_cancel() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let cancel = tokio_util::sync::CancellationToken::new();
        let h = ondeck::sources::sockets::spawn(
            opts(BackendChoice::Auto),
            Duration::from_millis(50),
            tx,
            cancel.clone(),
        );
        let mut gens = Vec::new();
        for _ in 0..3 {
            let u = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(u.source, ondeck::sources::SourceId::Sockets);
            assert!(matches!(&u.result, Ok(p) if p.downcast_ref::<ondeck::domain::sockets::SocketSnapshot>().is_some()));
            gens.push(u.generation);
        }
        // Increasing (from the process-wide counter every source shares).
        assert!(gens.windows(2).all(|w| w[0] < w[1]), "{gens:?}");
        cancel.cancel();
        tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .expect("stops on cancel")
            .unwrap();

        // And it stops when the receiver goes away.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let h = ondeck::sources::sockets::spawn(
            opts(BackendChoice::Auto),
            Duration::from_millis(10),
            tx,
            tokio_util::sync::CancellationToken::new(),
        );
        drop(rx);
        tokio::time::timeout(Duration::from_secs(10), h)
            .await
            .expect("stops when tx closes")
            .unwrap();
    });
}
