//! PVC source benchmarks against the simulated cluster's `large` scenario (2,000 PVCs, 5,000
//! pods, 20 nodes):
//!
//! - `spawn -> first snapshot`: connect, start the pods source and the PVC source (as the
//!   console does), until the first synced PVC snapshot with all 2,000 rows (claims, PVs,
//!   StorageClasses and pods listed, rows joined and sorted).
//! - `rows rebuild`: what every refresh tick costs once the stores are full: `claim_users()`
//!   over 5,000 pods, 2,000 claim rows joined with their PVs, 2,000+ PV rows.
//!
//! ```text
//! cargo bench --bench pvcs -- --sample-size 10
//! ```
//!
//! Measured 2026-11-21 on the shared 2-core machine (release, other builds running):
//! spawn -> first snapshot 257 ms (239–288 ms), rows rebuild 14.8 ms (13.6–15.5 ms).

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams};
use ondeck::config::Config;
use ondeck::domain::pvcs::PvcsSnapshot;
use ondeck::sim::SimCluster;
use ondeck::sources::Payload;
use ondeck::sources::kube::pvcs::{UsageMap, build_pv_rows, build_rows};
use ondeck::sources::kube::{KubeEnv, TargetArgs, connect};

const PVCS: usize = 2000;

fn bench(c: &mut Criterion) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let sim = match rt.block_on(SimCluster::scenario("large")) {
        Ok(s) => s,
        Err(e) => panic!("large scenario: {e}"),
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let kubeconfig = dir.path().join("kubeconfig");
    if let Err(e) = sim.write_kubeconfig(&kubeconfig) {
        panic!("kubeconfig: {e}");
    }
    let cfg = Config::default();
    let args = TargetArgs {
        kubeconfig: Some(kubeconfig),
        all_namespaces: true,
        ..Default::default()
    };

    let mut group = c.benchmark_group("pvcs");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function(
        "spawn -> first snapshot (2000 pvcs, pods source running)",
        |b| {
            b.iter(|| {
                rt.block_on(async {
                    let target = match connect(&args, &KubeEnv::default(), &cfg.kubernetes).await {
                        Ok(t) => t,
                        Err(e) => panic!("connect: {e}"),
                    };
                    let (ptx, mut prx) = tokio::sync::mpsc::channel(16);
                    let drain = tokio::spawn(async move { while prx.recv().await.is_some() {} });
                    let pods = ondeck::sources::kube::pods::spawn(target.clone(), &cfg, ptx);
                    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
                    let src =
                        ondeck::sources::kube::pvcs::spawn(target, pods.store.clone(), &cfg, tx);
                    loop {
                        match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
                            Ok(Some(u)) => match u.result.map(Payload::downcast::<PvcsSnapshot>) {
                                Ok(Some(s)) => {
                                    assert_eq!(s.rows.len(), PVCS);
                                    break;
                                }
                                Ok(_) => continue,
                                Err(e) => panic!("pvcs source: {e}"),
                            },
                            Ok(None) => panic!("source stopped"),
                            Err(_) => panic!("no snapshot in 120s"),
                        }
                    }
                    drop(src);
                    drop(pods);
                    drain.abort();
                })
            })
        },
    );

    // The stores' contents, listed once.
    let (pvcs, pvs, pods) = rt.block_on(async {
        let client = match sim.client().await {
            Ok(c) => c,
            Err(e) => panic!("client: {e}"),
        };
        let lp = ListParams::default();
        let pvcs = Api::<PersistentVolumeClaim>::all(client.clone())
            .list(&lp)
            .await;
        let pvs = Api::<PersistentVolume>::all(client.clone()).list(&lp).await;
        let pods = Api::<Pod>::all(client).list(&lp).await;
        match (pvcs, pvs, pods) {
            (Ok(a), Ok(b), Ok(c)) => (
                a.items.into_iter().map(Arc::new).collect::<Vec<_>>(),
                b.items.into_iter().map(Arc::new).collect::<Vec<_>>(),
                {
                    let mut interner = ondeck::domain::text::Interner::default();
                    c.items
                        .iter()
                        .map(|p| {
                            Arc::new(ondeck::domain::compact::CompactPod::from_pod(
                                p,
                                &mut interner,
                            ))
                        })
                        .collect::<Vec<_>>()
                },
            ),
            _ => panic!("list failed"),
        }
    });
    assert_eq!(pvcs.len(), PVCS);
    let usage = UsageMap::default();
    group.bench_function("rows rebuild (2000 pvcs, 5000 pods)", |b| {
        b.iter(|| {
            let now = jiff::Timestamp::now();
            let users = ondeck::sources::kube::pods::claim_users(pods.iter().map(|p| p.as_ref()));
            let rows = build_rows(&pvcs, &pvs, &users, &usage, &cfg.rules.pvcs, now);
            let pv_rows = build_pv_rows(&pvs, &cfg.rules.pvcs, now);
            assert_eq!(rows.len(), PVCS);
            std::hint::black_box((rows, pv_rows));
        })
    });
    group.finish();
    rt.block_on(sim.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
