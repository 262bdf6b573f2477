//! Sockets source benchmarks with real loopback sockets held in CLOSE_WAIT.
//!
//! For each size (default 10k and 100k; `ONDECK_BENCH_SIZES=10000,50000` to choose) the bench
//! starts `benches/cw_holder.py` processes (the fd limit is 20,000 per process, so at most
//! 19,000 sockets each), then measures:
//! - `bare_dump_close_wait`: netlink dump of AF_INET + AF_INET6 with the CLOSE_WAIT state filter,
//!   records counted and nothing else: the floor.
//! - `bare_dump_all_states`: the same for every state (what a state count must dump).
//! - `poll_state_counts`: `SocketCollector::poll(now, false)`, fd scan off: counts, peers, ports,
//!   listeners, netstat, sysctls, conntrack, grouping by cached owner.
//! - `poll_owners_cached`: `poll(now, true)` with a warm owner cache (the TUI's steady state).
//! - `poll_owners_cold`: a fresh collector per poll, owners wanted (what `ondeck check` does).
//! - `parse_zero_copy` / `parse_crate`: aggregating one captured dump with the bounds-checked
//!   header parse vs `netlink-packet-sock-diag`'s `InetResponse::parse`.
//!
//! Skips with a message when python3 or the holders are unavailable.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use netlink_packet_sock_diag::{AF_INET, AF_INET6};
use ondeck::sources::sockets::netlink::{ALL_STATES, DiagMsg, DiagSocket, state_bit};
use ondeck::sources::sockets::owners::Owners;
use ondeck::sources::sockets::tally::Tally;
use ondeck::sources::sockets::{BackendChoice, SocketCollector, SocketOptions};

const PER_HOLDER: usize = 19_000;

struct Holders {
    children: Vec<Child>,
}

impl Drop for Holders {
    fn drop(&mut self) {
        for c in &mut self.children {
            drop(c.stdin.take()); // EOF: the holder exits and its sockets close
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
    }
}

fn start_holders(n: usize) -> Result<Holders, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/cw_holder.py");
    let mut holders = Holders {
        children: Vec::new(),
    };
    let mut left = n;
    while left > 0 {
        let k = left.min(PER_HOLDER);
        let child = Command::new("python3")
            .arg(&script)
            .arg(k.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start python3 {}: {e}", script.display()))?;
        holders.children.push(child);
        left -= k;
    }
    for c in &mut holders.children {
        let Some(out) = c.stdout.take() else {
            return Err("no holder stdout".into());
        };
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if !line.starts_with("READY") {
            return Err(format!("holder did not get ready: {line:?}"));
        }
    }
    Ok(holders)
}

fn close_wait_now(sock: &mut DiagSocket) -> u64 {
    let mut n = 0;
    for fam in [AF_INET, AF_INET6] {
        if let Ok(st) = sock.dump_tcp(fam, state_bit(8), |_| {}) {
            n += st.records;
        }
    }
    n
}

fn opts(fd_scan: bool) -> SocketOptions {
    SocketOptions {
        backend: BackendChoice::Netlink,
        top_n: 20,
        attribution_interval: Duration::ZERO,
        fd_scan_interval: fd_scan.then_some(Duration::from_secs(5)),
        ..SocketOptions::default()
    }
}

fn bench_size(c: &mut Criterion, n: usize) {
    let started = Instant::now();
    let _holders = match start_holders(n) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("sockets bench at {n}: SKIPPED ({e})");
            return;
        }
    };
    let Ok(mut sock) = DiagSocket::open() else {
        eprintln!("sockets bench at {n}: SKIPPED (no netlink sock_diag)");
        return;
    };
    eprintln!(
        "sockets bench at {n}: holders ready in {:.1?}, {} CLOSE_WAIT sockets on the machine",
        started.elapsed(),
        close_wait_now(&mut sock)
    );

    let mut g = c.benchmark_group(format!("sockets/{n}"));
    g.throughput(Throughput::Elements(n as u64));
    if n >= 50_000 {
        // Each iteration takes 100+ ms: a few dozen flat samples are plenty.
        g.sample_size(20);
        g.sampling_mode(SamplingMode::Flat);
        g.warm_up_time(Duration::from_secs(1));
        g.measurement_time(Duration::from_secs(10));
    }
    g.bench_function("bare_dump_close_wait", |b| {
        b.iter(|| {
            let mut count = 0u64;
            for fam in [AF_INET, AF_INET6] {
                if let Ok(st) = sock.dump_tcp(fam, state_bit(8), |_| {}) {
                    count += st.records;
                }
            }
            count
        })
    });
    g.bench_function("bare_dump_all_states", |b| {
        b.iter(|| {
            let mut count = 0u64;
            for fam in [AF_INET, AF_INET6] {
                if let Ok(st) = sock.dump_tcp(fam, ALL_STATES, |_| {}) {
                    count += st.records;
                }
            }
            count
        })
    });
    let mut collector = SocketCollector::new(opts(false));
    g.bench_function("poll_state_counts", |b| {
        b.iter(|| {
            collector
                .poll(Instant::now(), false)
                .map(|s| s.states.total())
        })
    });
    // The TUI's steady state: owners wanted every poll, scans throttled (default 5 s).
    let mut warm = SocketCollector::new(SocketOptions {
        attribution_interval: Duration::from_secs(5),
        ..opts(true)
    });
    let _ = warm.poll(Instant::now(), true);
    g.bench_function("poll_owners_cached", |b| {
        b.iter(|| {
            warm.poll(Instant::now(), true)
                .map(|s| s.close_wait_by_process.len())
        })
    });

    // The parse alone, over one captured dump.
    let mut records: Vec<Vec<u8>> = Vec::new();
    for fam in [AF_INET, AF_INET6] {
        let _ = sock.dump_tcp(fam, ALL_STATES, |p| records.push(p.to_vec()));
    }
    let mut tally = Tally::default();
    g.bench_function("parse_zero_copy", |b| {
        b.iter(|| {
            tally.clear();
            for r in &records {
                tally.add_raw(r);
            }
            tally.close_wait_inodes.len()
        })
    });
    g.bench_function("parse_crate", |b| {
        b.iter(|| {
            tally.clear();
            for r in &records {
                // The crate decodes header and attributes of every record.
                match DiagMsg::parse_with_crate(r) {
                    Some(m) => tally.add(&m),
                    None => tally.skipped += 1,
                }
            }
            tally.close_wait_inodes.len()
        })
    });

    g.sample_size(10);
    g.sampling_mode(SamplingMode::Flat);
    g.measurement_time(Duration::from_secs(if n >= 50_000 { 15 } else { 5 }));
    // The owner scan alone: every CLOSE_WAIT inode looked up in /proc/*/fd, cold cache.
    let mut wanted: Vec<u32> = Vec::new();
    for fam in [AF_INET, AF_INET6] {
        let _ = sock.dump_tcp(fam, state_bit(8), |p| {
            if let Some(m) = DiagMsg::parse(p) {
                wanted.push(m.inode);
            }
        });
    }
    wanted.sort_unstable();
    wanted.dedup();
    let proc_root = Path::new("/proc");
    g.bench_function("owner_scan_cold", |b| {
        b.iter(|| {
            Owners::default()
                .scan(proc_root, &wanted, Instant::now())
                .found
        })
    });
    g.bench_function("poll_owners_cold", |b| {
        b.iter_batched(
            || SocketCollector::new(opts(true)),
            |mut c| {
                c.poll(Instant::now(), true)
                    .map(|s| s.close_wait_by_process.len())
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// CPU time (user + kernel) of the calling thread: a dump's kernel work runs in our recvmsg, so
/// this is the cost of a poll without the waiting a loaded machine adds to wall time.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Medians of the floor and the state-count poll, measured interleaved (A B C A B C ...) so that
/// load from other processes on the machine hits all alike: wall time and thread CPU time.
fn paired_comparison(n: usize, rounds: usize) {
    let _holders = match start_holders(n) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("paired comparison at {n}: SKIPPED ({e})");
            return;
        }
    };
    let Ok(mut sock) = DiagSocket::open() else {
        return;
    };
    let mut collector = SocketCollector::new(opts(false));
    // [floor, all states, poll] x [wall, cpu]
    let mut samples: [[Vec<Duration>; 2]; 3] = Default::default();
    let mut timed = |slot: usize, f: &mut dyn FnMut()| {
        let (w, c) = (Instant::now(), thread_cpu());
        f();
        samples[slot][0].push(w.elapsed());
        samples[slot][1].push(thread_cpu().saturating_sub(c));
    };
    for _ in 0..rounds {
        timed(0, &mut || {
            for fam in [AF_INET, AF_INET6] {
                let _ = sock.dump_tcp(fam, state_bit(8), |_| {});
            }
        });
        timed(1, &mut || {
            for fam in [AF_INET, AF_INET6] {
                let _ = sock.dump_tcp(fam, ALL_STATES, |_| {});
            }
        });
        timed(2, &mut || {
            let _ = collector.poll(Instant::now(), false);
        });
    }
    let ms = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    let [mut f, mut a, mut p] = samples;
    let (fw, fc, aw, ac, pw, pc) = (
        ms(&mut f[0]),
        ms(&mut f[1]),
        ms(&mut a[0]),
        ms(&mut a[1]),
        ms(&mut p[0]),
        ms(&mut p[1]),
    );
    println!(
        "paired medians at {n} CLOSE_WAIT ({rounds} rounds), wall/cpu ms: bare dump CLOSE_WAIT {fw:.2}/{fc:.2}, bare dump all states {aw:.2}/{ac:.2}, poll_state_counts {pw:.2}/{pc:.2}; poll/bare = {:.2}x wall, {:.2}x cpu",
        pw / fw,
        pc / fc
    );
}

/// `ONDECK_BENCH_ONESHOT=1`: what `ondeck check --only sockets` will do, as a stand-in for the
/// comparison script while `check` does not exist: one cold poll with owners, a summary line.
fn oneshot() {
    let mut c = SocketCollector::new(SocketOptions::default());
    match c.poll(Instant::now(), true) {
        Ok(s) => {
            let top = s.close_wait_by_process.first();
            println!(
                "{{\"CLOSE_WAIT\": {}, \"top_pid\": {}, \"top_count\": {}, \"poll_ms\": {:.1}}}",
                s.states.get(ondeck::domain::sockets::TcpState::CloseWait),
                top.and_then(|p| p.pid)
                    .map_or("null".to_string(), |p| p.to_string()),
                top.map_or(0, |p| p.count),
                s.poll_duration.as_secs_f64() * 1e3
            );
        }
        Err(e) => {
            eprintln!("poll failed: {e}");
            std::process::exit(3);
        }
    }
}

/// Process CPU time (user + system, all threads) from /proc/self/stat (procfs), in seconds.
fn process_cpu_secs() -> f64 {
    let ticks = procfs::process::Process::myself()
        .and_then(|p| p.stat())
        .map_or(0, |s| s.utime + s.stime);
    ticks as f64 / procfs::ticks_per_second() as f64
}

/// `ONDECK_BENCH_IDLE=N,SECS`: the TUI's steady state (a poll every second, owners wanted,
/// default throttles) for SECS seconds with N CLOSE_WAIT sockets held; prints CPU % of one core.
fn idle(spec: &str) {
    let mut it = spec.split(',').filter_map(|x| x.trim().parse::<u64>().ok());
    let (n, secs) = (it.next().unwrap_or(10_000), it.next().unwrap_or(60));
    let _holders = match start_holders(n as usize) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("idle at {n}: SKIPPED ({e})");
            return;
        }
    };
    let mut c = SocketCollector::new(SocketOptions::default());
    let _ = c.poll(Instant::now(), true); // start-up scan, not part of the steady state
    let (t0, cpu0) = (Instant::now(), process_cpu_secs());
    let mut next = t0;
    let mut polls = 0;
    while t0.elapsed() < Duration::from_secs(secs) {
        next += Duration::from_secs(1);
        let _ = c.poll(Instant::now(), true);
        polls += 1;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let cpu = process_cpu_secs() - cpu0;
    println!(
        "idle at {n} CLOSE_WAIT: {polls} polls in {:.0} s, CPU {:.2} s = {:.2}% of one core",
        t0.elapsed().as_secs_f64(),
        cpu,
        cpu * 100.0 / t0.elapsed().as_secs_f64()
    );
}

fn main() {
    if std::env::var_os("ONDECK_BENCH_ONESHOT").is_some() {
        return oneshot();
    }
    if let Ok(spec) = std::env::var("ONDECK_BENCH_IDLE") {
        return idle(&spec);
    }
    if let Ok(spec) = std::env::var("ONDECK_BENCH_PAIRED") {
        // e.g. ONDECK_BENCH_PAIRED=10000,100000
        for n in spec.split(',').filter_map(|x| x.trim().parse().ok()) {
            paired_comparison(n, 60);
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let sizes: Vec<usize> = std::env::var("ONDECK_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    for n in sizes {
        bench_size(&mut c, n);
    }
    c.final_summary();
}
