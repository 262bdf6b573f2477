//! Certificate parsing rate (issue 12: 10,000 PEM certificates per second or better on one
//! core): `tls::facts::parse_pem` over a bundle of 1,000 rcgen-made certificates (every fact
//! the pane shows: names, SANs, serial, SHA-256, validity, key, signature algorithm).
//! `benches/certs_parse.sh` compares with `openssl x509 -noout -enddate` per file.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ondeck::tls::facts::parse_pem;
use ondeck::tls::pki;

fn bundle(n: usize) -> String {
    let ca = pki::ca("Bench Root", -10, 3650);
    let mut out = String::new();
    for i in 0..n {
        let name = format!("svc-{i}.example.com");
        let leaf = pki::leaf(&ca, &name, &[name.as_str()], -1, 90);
        out.push_str(&leaf.cert_pem);
    }
    out
}

fn parse(c: &mut Criterion) {
    let pem = bundle(1000);
    let mut g = c.benchmark_group("certs");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("parse_pem_1000", |b| {
        b.iter(|| {
            let v = parse_pem(std::hint::black_box(pem.as_bytes())).expect("parses");
            assert_eq!(v.len(), 1000);
            v
        })
    });
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
