//! HTTP probes at scale (run: `cargo bench --bench probes`; `PROBES_SECS=60` for a longer run):
//!
//! 1. 500 probes at a 10 s interval against a local HTTP server in another process (python3's
//!    http.server, so its CPU is not counted): the console's probe task's CPU time over the run
//!    as % of one core (target: <= 2%).
//! 2. A sweep of 50 black-holed endpoints (a listener whose accept queue is full: connects
//!    hang) with connect 1s / total 2s: it finishes within the largest deadline + 10%.
//!
//! Prints the figures; exits non-zero when a target is missed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ondeck::config::{HumanDuration, ProbeRules};
use ondeck::sources::probes::config::{ProbeConfig, ProbeSettings};
use ondeck::sources::probes::demo::Endpoints;
use ondeck::sources::probes::source::run_once;
use ondeck::sources::probes::task::{TaskOptions, spawn};
use tokio_util::sync::CancellationToken;

fn cpu_time() -> Duration {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    if rc != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(u.ru_utime) + tv(u.ru_stime)
}

struct Kill(std::process::Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut failed = false;
    rt.block_on(async {
        // 1. 500 probes at 10 s.
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("healthz"), "ok\n").expect("write");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
            l.local_addr().expect("addr").port()
        };
        let server = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 http.server");
        let _server = Kill(server);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "http.server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let probes: Vec<ProbeConfig> = (0..500)
            .map(|i| {
                let mut p = ProbeConfig::new(
                    &format!("p{i:03}"),
                    &format!("http://127.0.0.1:{port}/healthz"),
                );
                p.interval = HumanDuration(Duration::from_secs(10));
                p.body_regex = Some("ok".into());
                p
            })
            .collect();
        let secs: u64 = std::env::var("PROBES_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(30);
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let cancel = CancellationToken::new();
        let drain = tokio::spawn(async move {
            let mut n = 0u64;
            while rx.recv().await.is_some() {
                n += 1;
            }
            n
        });
        let cpu0 = cpu_time();
        let t0 = Instant::now();
        let task = spawn(
            TaskOptions {
                probes,
                settings: ProbeSettings::default(),
                rules: ProbeRules::default(),
                refresh: Duration::from_secs(2),
                more: None,
                audits: None,
                certs: None,
            },
            tx,
            cancel.clone(),
        );
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let cpu = cpu_time().saturating_sub(cpu0);
        let wall = t0.elapsed();
        cancel.cancel();
        let _ = task.await;
        let updates = drain.await.unwrap_or(0);
        let pct = cpu.as_secs_f64() / wall.as_secs_f64() * 100.0;
        println!(
            "500 probes at 10s for {:.0}s: CPU {:.3}s = {pct:.2}% of a core ({} UI updates); target <= 2%",
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            updates
        );
        failed |= pct > 2.0;

        // 2. 50 black-holed endpoints.
        let e = Endpoints::start().await.expect("endpoints");
        let holes: Vec<ProbeConfig> = (0..50)
            .map(|i| {
                let mut p = ProbeConfig::new(&format!("hole{i:02}"), &e.full_backlog);
                p.timeouts.connect = HumanDuration(Duration::from_secs(1));
                p.timeouts.total = HumanDuration(Duration::from_secs(2));
                p
            })
            .collect();
        let t0 = Instant::now();
        let r = run_once(&holes, &ProbeSettings::default(), &ProbeRules::default(), 1).await;
        let took = t0.elapsed();
        let all_connect = r.snap.rows.iter().all(|row| {
            row.last()
                .is_some_and(|a| a.failed == Some(ondeck::domain::probes::Phase::Connect))
        });
        println!(
            "sweep of 50 black-holed endpoints: {:.3}s (largest deadline 2s, limit 2.2s); all failed in connect: {all_connect}",
            took.as_secs_f64()
        );
        failed |= took > Duration::from_millis(2200) || !all_connect;
    });
    if failed {
        std::process::exit(1);
    }
}
