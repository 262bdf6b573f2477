//! Pods source benchmark against the simulated cluster's `large` scenario (5,000 pods):
//! time from start to the first full pod snapshot (connect, paginated list, reflector sync,
//! rows + rules, sorted), side by side with `kubectl get pods -A` against the same server,
//! the resident memory of this process after sync, the cost of rebuilding every row, and what
//! the row book costs per refresh tick (pods whose verdict time can change, every RECHECK).
//!
//! The simulated cluster runs in a child process (this same binary, re-executed) so that the
//! memory figure is ondeck's alone. Run with:
//!
//! ```text
//! cargo bench --bench pods                 # optimized
//! cargo bench --bench pods --profile dev   # quicker to build; slower figures
//! ```
//!
//! The kubectl side is `kubectl --kubeconfig K get pods -A --no-headers > /dev/null` (server-side
//! table printing by the simulated API server, as against a real one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ondeck::config::Config;
use ondeck::domain::pods::PodsSnapshot;
use ondeck::sources::Payload;
use ondeck::sources::kube::pods::{RECHECK, RowBook, StoreChanges, build_rows, spawn};
use ondeck::sources::kube::{KubeEnv, TargetArgs, connect};

const SERVE_ENV: &str = "ONDECK_BENCH_SIM_KUBECONFIG";
const PODS: usize = 5000;

fn rss_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn serve(kubeconfig: &Path) {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            return;
        }
    };
    rt.block_on(async {
        let sim = match ondeck::sim::SimCluster::scenario("large").await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("sim: {e}");
                return;
            }
        };
        let tmp = kubeconfig.with_extension("tmp");
        if sim.write_kubeconfig(&tmp).is_err() || std::fs::rename(&tmp, kubeconfig).is_err() {
            eprintln!("cannot write kubeconfig");
            return;
        }
        // Until the parent kills us.
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    });
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn kubectl(kubeconfig: &Path) -> Option<(Duration, usize)> {
    let bin = PathBuf::from("/usr/bin/kubectl");
    if !bin.exists() {
        return None;
    }
    let start = Instant::now();
    let out = Command::new(bin)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "pods", "-A", "--no-headers"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let took = start.elapsed();
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    Some((took, lines))
}

fn main() {
    if let Some(path) = std::env::var_os(SERVE_ENV) {
        serve(Path::new(&path));
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` compatibility: nothing to enumerate.
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("tempdir: {e}");
            return;
        }
    };
    let kubeconfig = dir.path().join("kubeconfig");
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("current_exe: {e}");
            return;
        }
    };
    let mut child = match Command::new(exe)
        .env(SERVE_ENV, &kubeconfig)
        .stdout(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot start the simulated cluster: {e}");
            return;
        }
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !kubeconfig.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !kubeconfig.exists() {
        eprintln!("the simulated cluster did not start in 120s");
        let _ = child.kill();
        return;
    }

    // kubectl first (warms the server's caches equally for both sides after).
    let mut kubectl_times = Vec::new();
    let mut kubectl_lines = 0;
    for _ in 0..3 {
        if let Some((t, n)) = kubectl(&kubeconfig) {
            kubectl_times.push(t);
            kubectl_lines = n;
        }
    }

    let rss_before = rss_kib("VmRSS:");
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime: {e}");
            let _ = child.kill();
            return;
        }
    };
    let cfg = Config::default();
    let args = TargetArgs {
        kubeconfig: Some(kubeconfig.clone()),
        all_namespaces: true,
        ..Default::default()
    };
    let result = rt.block_on(async {
        let start = Instant::now();
        let target = connect(&args, &KubeEnv::default(), &cfg.kubernetes)
            .await
            .map_err(|e| e.to_string())?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let src = spawn(target, &cfg, tx);
        let first = loop {
            match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
                Ok(Some(u)) => match u.result.map(Payload::downcast::<PodsSnapshot>) {
                    Ok(Some(s)) if s.rows.len() >= PODS => break s,
                    Ok(_) => continue,
                    Err(e) => return Err(e.to_string()),
                },
                Ok(None) => return Err("source stopped".into()),
                Err(_) => return Err("no full snapshot in 120s".into()),
            }
        };
        let to_full = start.elapsed();
        // Keep draining like the UI does, so queued snapshots do not count as memory.
        let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
        // One rebuild of every row from the store: the cost of each refresh tick.
        let pods = src.store.pods();
        let mut hist = HashMap::new();
        let mut rebuilds = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let rows = build_rows(&pods, &mut hist, &cfg.rules.pods, jiff::Timestamp::now());
            rebuilds.push(t.elapsed());
            std::hint::black_box(rows);
        }
        // What a refresh tick costs now: the row book evaluates only pods whose verdict time
        // can change, and only once every RECHECK.
        let mut book = RowBook::default();
        let t = Instant::now();
        book.apply(
            StoreChanges::All(pods.clone()),
            &cfg.rules.pods,
            jiff::Timestamp::now(),
        );
        let first_eval = t.elapsed();
        let evals_first = book.evaluations();
        let later = jiff::Timestamp::now()
            + jiff::SignedDuration::try_from(RECHECK).unwrap_or_default();
        let t = Instant::now();
        book.recheck(&cfg.rules.pods, later);
        let recheck = (t.elapsed(), book.evaluations() - evals_first);
        let t = Instant::now();
        book.recheck(&cfg.rules.pods, later);
        let idle_tick = t.elapsed();
        drop(book);
        drop(pods);
        let rss_after = rss_kib("VmRSS:");
        // glibc keeps freed pages (the list pages, the reflector's init buffer); give them
        // back to see what is live.
        // SAFETY: malloc_trim only releases free heap memory; no pointers are invalidated.
        unsafe {
            libc::malloc_trim(0);
        }
        let rss_trimmed = rss_kib("VmRSS:");
        let store_len = src.store.len();
        let hwm = rss_kib("VmHWM:");
        drop(src);
        drain.abort();
        tokio::time::sleep(Duration::from_millis(200)).await;
        // SAFETY: as above.
        unsafe {
            libc::malloc_trim(0);
        }
        let rss_dropped = rss_kib("VmRSS:");
        let n_events: usize = first.events.values().map(|v| v.len()).sum();
        let (rows_n, ev_pods) = (first.rows.len(), first.events.len());
        drop(hist);
        let counts_copy = first.counts();
        drop(first);
        // SAFETY: as above.
        unsafe {
            libc::malloc_trim(0);
        }
        eprintln!(
            "  (after dropping rows/events/history: {:?} KiB; {rows_n} rows, {n_events} events on {ev_pods} pods)",
            rss_kib("VmRSS:")
        );
        eprintln!(
            "  (store {store_len} pods; RSS after malloc_trim {:?} KiB; after dropping the source {:?} KiB)",
            rss_trimmed, rss_dropped
        );
        eprintln!(
            "  row book: all {rows_n} pods evaluated in {:.1} ms; every {}s {} of them again in {:.1} ms; other ticks {:.3} ms",
            first_eval.as_secs_f64() * 1000.0,
            RECHECK.as_secs(),
            recheck.1,
            recheck.0.as_secs_f64() * 1000.0,
            idle_tick.as_secs_f64() * 1000.0
        );
        Ok((
            to_full,
            rows_n,
            counts_copy,
            median(rebuilds),
            rss_after,
            hwm,
        ))
    });
    let _ = child.kill();
    let _ = child.wait();
    match result {
        Ok((to_full, rows, counts, rebuild, rss_after, hwm)) => {
            let mib = |k: Option<u64>| {
                k.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
                    .unwrap_or_else(|| "?".into())
            };
            println!("pods bench (scenario large, {rows} pods)");
            println!(
                "  ondeck: start -> first full snapshot   {:>8.0} ms  ({} critical, {} warning, {} ok)",
                to_full.as_secs_f64() * 1000.0,
                counts.critical,
                counts.warning,
                counts.ok
            );
            if kubectl_times.is_empty() {
                println!("  kubectl get pods -A                     (kubectl not found)");
            } else {
                println!(
                    "  kubectl get pods -A (median of {})     {:>8.0} ms  ({kubectl_lines} lines)",
                    kubectl_times.len(),
                    median(kubectl_times).as_secs_f64() * 1000.0
                );
            }
            println!(
                "  all rows rebuilt, median of 5           {:>8.1} ms",
                rebuild.as_secs_f64() * 1000.0
            );
            println!(
                "  resident memory: before {} / after sync {} / peak {}",
                mib(rss_before),
                mib(rss_after),
                mib(hwm)
            );
        }
        Err(e) => eprintln!("pods bench failed: {e}"),
    }
}
