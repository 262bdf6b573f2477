//! Exec throughput of the simulated cluster: `tar czf -` of a generated volume streamed through
//! the real kube client over a local socket, stdout read and discarded. Prints MB/s and the
//! process's peak RSS (VmHWM) after a small and after a 1 GiB volume: memory must stay flat.
//!
//! `ONDECK_BENCH_EXEC_MIB` overrides the big volume's size (default 1024).

use axum::extract::{Request, State};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use ondeck::sim::exec::{ExecQuery, ExecRequest, Mount, exec_response};
use ondeck::sim::volumes::{GeneratedFiles, VolumeContents, VolumeStore};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

async fn handler(State(dir): State<Arc<PathBuf>>, mut req: Request) -> axum::response::Response {
    let q = ExecQuery::parse(req.uri().query().unwrap_or(""));
    let exec = ExecRequest {
        mounts: vec![Mount {
            mount_path: "/data".into(),
            host_dir: (*dir).clone(),
            read_only: true,
        }],
        ..q.into_request()
    };
    exec_response(&mut req, exec)
}

async fn serve(dir: PathBuf) -> Api<Pod> {
    let app = axum::Router::new()
        .route(
            "/api/v1/namespaces/{ns}/pods/{pod}/exec",
            axum::routing::any(handler),
        )
        .with_state(Arc::new(dir));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let config = kube::Config::new(format!("http://{addr}").parse().expect("url"));
    Api::namespaced(kube::Client::try_from(config).expect("client"), "bench")
}

/// One backup-style exec; returns the archive size.
async fn tar_once(api: &Api<Pod>) -> u64 {
    let ap = AttachParams::default()
        .stdout(true)
        .stderr(true)
        .max_stdout_buf_size(1 << 20);
    let mut p = api
        .exec("pod", ["tar", "czf", "-", "-C", "/data", "."], &ap)
        .await
        .expect("exec");
    let mut out = p.stdout().expect("stdout");
    let status = p.take_status().expect("status");
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = out.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    let status = status.await.expect("status arrives");
    assert_eq!(status.status.as_deref(), Some("Success"));
    total
}

fn volume(store: &VolumeStore, name: &str, mib: u64) -> PathBuf {
    let contents = VolumeContents {
        files: vec![],
        generate: Some(GeneratedFiles {
            dir: "bulk".into(),
            count: mib / 8,
            size: 8 << 20,
            seed: 1,
        }),
    };
    let started = Instant::now();
    let dir = store.create(name, &contents).expect("volume");
    eprintln!("created {name}: {mib} MiB in {:.2?}", started.elapsed());
    dir
}

fn bench(c: &mut Criterion) {
    let big_mib: u64 = std::env::var("ONDECK_BENCH_EXEC_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let store = VolumeStore::new_temp().expect("store");
    let small = volume(&store, "small", 64);
    let big = volume(&store, "big", big_mib);

    let api_small = rt.block_on(serve(small));
    let api_big = rt.block_on(serve(big));

    let t = Instant::now();
    let bytes = rt.block_on(tar_once(&api_small));
    let hwm_small = vm_hwm_kib();
    eprintln!(
        "64 MiB volume: archive {bytes} bytes in {:.2?}; VmHWM {hwm_small} KiB",
        t.elapsed()
    );

    let t = Instant::now();
    let bytes = rt.block_on(tar_once(&api_big));
    let secs = t.elapsed().as_secs_f64();
    let hwm_big = vm_hwm_kib();
    eprintln!(
        "{big_mib} MiB volume: archive {bytes} bytes in {secs:.2}s = {:.0} MB/s of volume data; VmHWM {hwm_big} KiB (+{} KiB over the 64 MiB run)",
        (big_mib << 20) as f64 / secs / 1e6,
        hwm_big.saturating_sub(hwm_small)
    );

    let mut g = c.benchmark_group("sim_exec");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Bytes(big_mib << 20));
    g.bench_function(format!("tar_czf_{big_mib}MiB_via_kube"), |b| {
        b.iter(|| rt.block_on(tar_once(&api_big)))
    });
    g.finish();
    eprintln!("after the benchmark: VmHWM {} KiB", vm_hwm_kib());
}

criterion_group!(benches, bench);
criterion_main!(benches);
