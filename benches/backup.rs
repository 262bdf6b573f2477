//! Backup throughput and peak memory: a volume of N MiB (default 1024; `ONDECK_BENCH_MIB`)
//! of incompressible files, backed up through the simulated cluster (tar.gz over exec
//! WebSocket to a file, then the archive read end to end for verification).
//!
//! Peak RSS is the process's VmHWM, reset (`/proc/self/clear_refs` = 5) before each backup,
//! measured for a small volume first and then the large one: it must not grow with the volume.
//! The simulated cluster runs in the same process, so the figure covers both sides.
//!
//! Run: `cargo bench --bench backup`
//!
//! Measured 2026-11-21 (2 shared cores, other builds running): 64 MiB: stream 95 MiB/s,
//! verify 169 MiB/s, VmHWM 19 MiB; 1024 MiB: stream 120 MiB/s (8.6 s), verify 147 MiB/s
//! (7.0 s), VmHWM 20 MiB: flat.

use ondeck::actions::PvcRef;
use ondeck::actions::backup::{self, BackupOptions, BackupStage};
use ondeck::actions::executor::Executor;
use ondeck::actions::preflight;
use ondeck::actions::target::KubeTarget;
use ondeck::sim::{ScenarioSource, SimCluster, SimOptions};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn scenario(mib: u64) -> String {
    // 16 MiB files; pseudo-random bytes (incompressible, like real database files).
    let count = (mib / 16).max(1);
    format!(
        r#"
name: bench-backup
nodes: [{{ name: worker-1 }}]
namespaces: [bench]
storageClasses:
  - {{ name: standard, provisioner: rancher.io/local-path, reclaimPolicy: Delete, default: true }}
pvcs:
  - namespace: bench
    name: data
    size: 100Gi
    contents:
      generate: {{ dir: blobs, count: {count}, size: 16777216, seed: 42 }}
pods:
  - namespace: bench
    name: app-0
    volumes: [{{ claim: data, mountPath: /data }}]
"#
    )
}

fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

struct Figures {
    mib: u64,
    stream: Duration,
    verify: Duration,
    archive_bytes: u64,
    hwm_kib: Option<u64>,
}

async fn one(mib: u64, out: &std::path::Path) -> BenchResult<Figures> {
    let sim = SimCluster::start(SimOptions {
        scenario: ScenarioSource::Yaml(scenario(mib)),
        ..SimOptions::default()
    })
    .await?;
    let client = sim.client().await?;
    let target = KubeTarget {
        context: ondeck::sim::CONTEXT.into(),
        server: sim.url(),
        kubeconfig_user: None,
    };
    let exec = Executor::new(client, target, false, Duration::from_secs(30));
    let pvc: PvcRef = "bench/data".parse()?;
    let pf = preflight::preflight(&exec, &pvc).await?;
    let opts = BackupOptions {
        dir: out.to_path_buf(),
        helper_image: "busybox".into(),
        helper_start_timeout: Duration::from_secs(30),
        no_progress_timeout: Duration::from_secs(30),
    };
    let verifying_at = Mutex::new(None::<Instant>);
    let progress = |p: backup::BackupProgress| {
        if p.stage == BackupStage::Verifying {
            let mut v = verifying_at.lock().unwrap_or_else(|e| e.into_inner());
            v.get_or_insert_with(Instant::now);
        }
    };
    reset_peak_rss();
    let started = Instant::now();
    let b = backup::backup(&exec, &pf, &opts, &progress, &CancellationToken::new()).await?;
    let done = Instant::now();
    let hwm_kib = proc_status_kib("VmHWM:");
    let verify_start = verifying_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or(done);
    assert_eq!(b.manifest.summary.file_bytes, mib / 16 * 16 * 1024 * 1024);
    let _ = std::fs::remove_dir_all(&b.dir);
    sim.shutdown().await;
    Ok(Figures {
        mib,
        stream: verify_start - started,
        verify: done - verify_start,
        archive_bytes: b.manifest.summary.archive_bytes,
        hwm_kib,
    })
}

fn main() -> BenchResult<()> {
    let big: u64 = std::env::var("ONDECK_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let out = tempfile::tempdir()?;
    println!("backup benchmark (in-process simulated cluster; VmHWM reset before each backup)");
    for mib in [64, big] {
        let f = rt.block_on(one(mib, out.path()))?;
        let mb = f.mib as f64;
        println!(
            "{:>5} MiB: stream {:>6.2}s ({:>6.1} MiB/s), verify {:>6.2}s ({:>6.1} MiB/s), archive {} bytes, peak RSS (VmHWM) {} MiB",
            f.mib,
            f.stream.as_secs_f64(),
            mb / f.stream.as_secs_f64().max(1e-9),
            f.verify.as_secs_f64(),
            mb / f.verify.as_secs_f64().max(1e-9),
            f.archive_bytes,
            f.hwm_kib
                .map(|k| (k / 1024).to_string())
                .unwrap_or_else(|| "?".into()),
        );
    }
    Ok(())
}
