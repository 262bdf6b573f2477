//! Simulated cluster benchmarks: a full list of the `large` scenario's 5,000 pods through the
//! kube client over HTTPS (the target: well under a second), and a PVC list.

use criterion::{Criterion, criterion_group, criterion_main};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams};
use ondeck::sim::SimCluster;
use std::time::{Duration, Instant};

fn bench_large(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    };
    let started = Instant::now();
    let sim = match rt.block_on(SimCluster::scenario("large")) {
        Ok(s) => s,
        Err(e) => panic!("large scenario: {e}"),
    };
    eprintln!("large scenario started in {:?}", started.elapsed());
    let client = match rt.block_on(sim.client()) {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    };
    let raw_client = client.clone();
    let pods: Api<Pod> = Api::all(client.clone());
    let pvcs: Api<PersistentVolumeClaim> = Api::all(client);
    let mut group = c.benchmark_group("sim");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("list 5000 pods via kube", |b| {
        b.iter(|| {
            let list = rt.block_on(pods.list(&ListParams::default()));
            match list {
                Ok(l) => assert_eq!(l.items.len(), 5000),
                Err(e) => panic!("list: {e}"),
            }
        })
    });
    // The same list without decoding into typed Pods: server + TLS + transfer only.
    group.bench_function("list 5000 pods raw JSON", |b| {
        b.iter(|| {
            let req = match http::Request::get("/api/v1/pods").body(Vec::new()) {
                Ok(r) => r,
                Err(e) => panic!("request: {e}"),
            };
            match rt.block_on(raw_client.request_text(req)) {
                Ok(t) => assert!(t.len() > 1_000_000),
                Err(e) => panic!("list: {e}"),
            }
        })
    });
    group.bench_function("list 2000 pvcs via kube", |b| {
        b.iter(|| {
            let list = rt.block_on(pvcs.list(&ListParams::default()));
            match list {
                Ok(l) => assert_eq!(l.items.len(), 2000),
                Err(e) => panic!("list: {e}"),
            }
        })
    });
    group.finish();
    rt.block_on(sim.shutdown());
}

criterion_group!(benches, bench_large);
criterion_main!(benches);
