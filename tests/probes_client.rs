//! The probes' client against real sockets on loopback: every failure kind names its phase
//! and words, the elapsed time respects that phase's deadline, and a stalled probe does not
//! delay another one.

use std::time::{Duration, Instant};

use ondeck::config::HumanDuration;
use ondeck::domain::probes::{Attempt, Phase};
use ondeck::sources::probes::client::{Prepared, attempt};
use ondeck::sources::probes::config::ProbeConfig;
use ondeck::sources::probes::demo::Endpoints;

fn ms(n: u64) -> HumanDuration {
    HumanDuration(Duration::from_millis(n))
}

/// A probe of `url` with short deadlines: connect 400ms, TLS 400ms, headers 400ms, total 3s.
fn probe(url: &str) -> ProbeConfig {
    let mut p = ProbeConfig::new("t", url);
    p.timeouts.dns = ms(2000);
    p.timeouts.connect = ms(400);
    p.timeouts.tls = ms(400);
    p.timeouts.headers = ms(400);
    p.timeouts.total = ms(3000);
    p
}

async fn run(cfg: &ProbeConfig) -> (Attempt, Duration) {
    let p = Prepared::new(cfg).expect("probe compiles");
    let started = Instant::now();
    let a = attempt(&p, &mut None).await;
    (a, started.elapsed())
}

fn error(a: &Attempt) -> String {
    a.error.as_deref().unwrap_or("").to_string()
}

/// The attempt failed in `phase`, and no sooner than `deadline` nor much later.
fn assert_timed_out(a: &Attempt, elapsed: Duration, phase: Phase, deadline: Duration) {
    assert!(!a.ok, "{a:?}");
    assert_eq!(a.failed, Some(phase), "{a:?}");
    assert!(
        elapsed >= deadline,
        "{phase:?} gave up after {elapsed:?}, before its deadline {deadline:?}"
    );
    assert!(
        elapsed < deadline + Duration::from_millis(400),
        "{phase:?} took {elapsed:?}, well past its deadline {deadline:?}"
    );
}

#[tokio::test]
async fn healthy_http_and_https_attempts_time_every_phase() {
    let e = Endpoints::start().await.expect("endpoints");
    let mut cfg = probe(&e.healthy);
    cfg.body_regex = Some("^ok".into());
    let (a, _) = run(&cfg).await;
    assert!(a.ok, "{a:?}");
    assert_eq!(a.status_code, Some(200));
    assert_eq!(a.failed, None);
    assert!(a.timings.connect.is_some() && a.timings.headers.is_some());
    assert!(a.timings.transfer.is_some());
    assert_eq!(a.timings.tls, None, "no TLS on http://");
    assert_eq!(a.body_bytes, 3);
    assert!(a.header_bytes.is_some_and(|h| h > 20));
    assert_eq!(a.peer.map(|p| p.ip().to_string()), Some("127.0.0.1".into()));

    let mut tls = probe(&e.healthy_tls);
    tls.ca_file = Some(e.ca_file.clone());
    tls.timeouts.tls = ms(2000);
    let (a, _) = run(&tls).await;
    assert!(a.ok, "{a:?}");
    assert!(a.timings.dns.is_some(), "localhost is resolved");
    assert!(a.timings.tls.is_some_and(|t| !t.is_zero()));
    let facts = a.tls.expect("TLS facts");
    assert_eq!(facts.version, Some("TLSv1.3"));
    assert!(facts.not_after.is_some());
    // Untrusted without the CA file: the certificate is named, not a generic error.
    let mut untrusted = probe(&e.healthy_tls);
    untrusted.timeouts.tls = ms(2000);
    let (a, _) = run(&untrusted).await;
    assert_eq!(a.failed, Some(Phase::Tls), "{a:?}");
    assert!(error(&a).contains("certificate"), "{a:?}");
}

#[tokio::test]
async fn refused_connect_fails_at_once() {
    let e = Endpoints::start().await.expect("endpoints");
    let (a, elapsed) = run(&probe(&e.refused)).await;
    assert_eq!(a.failed, Some(Phase::Connect), "{a:?}");
    assert_eq!(error(&a), "connect refused");
    assert!(elapsed < Duration::from_millis(400), "{elapsed:?}");
}

#[tokio::test]
async fn a_full_accept_queue_makes_connect_time_out() {
    let e = Endpoints::start().await.expect("endpoints");
    let (a, elapsed) = run(&probe(&e.full_backlog)).await;
    assert_timed_out(&a, elapsed, Phase::Connect, Duration::from_millis(400));
    assert_eq!(error(&a), "connect timed out after 400ms");
}

#[tokio::test]
async fn a_stalled_tls_handshake_names_tls_and_the_connect_time() {
    let e = Endpoints::start().await.expect("endpoints");
    let (a, elapsed) = run(&probe(&e.tls_stall)).await;
    assert_timed_out(&a, elapsed, Phase::Tls, Duration::from_millis(400));
    let words = error(&a);
    assert!(
        words.starts_with("TLS handshake timed out after 400ms (connect took ")
            && words.ends_with(" ms)"),
        "{words}"
    );
    assert!(a.timings.connect.is_some());
}

#[tokio::test]
async fn a_server_that_never_answers_fails_in_headers() {
    let e = Endpoints::start().await.expect("endpoints");
    let (a, elapsed) = run(&probe(&e.stall_after_accept)).await;
    assert_timed_out(&a, elapsed, Phase::Headers, Duration::from_millis(400));
    assert_eq!(error(&a), "headers: no response within 400ms");
}

#[tokio::test]
async fn slow_headers_within_the_deadline_succeed_and_past_it_fail() {
    let e = Endpoints::start().await.expect("endpoints");
    // 2.5 s to the headers: over a 400 ms deadline...
    let (a, elapsed) = run(&probe(&e.slow_headers)).await;
    assert_timed_out(&a, elapsed, Phase::Headers, Duration::from_millis(400));
    // ...and within a 3 s one, where the time to first byte is what was measured.
    let mut patient = probe(&e.slow_headers);
    patient.timeouts.headers = ms(3000);
    patient.timeouts.total = ms(5000);
    let (a, _) = run(&patient).await;
    assert!(a.ok, "{a:?}");
    assert!(
        a.timings
            .headers
            .is_some_and(|h| h >= Duration::from_millis(2500)),
        "{a:?}"
    );
}

#[tokio::test]
async fn a_slow_body_fails_in_body_under_the_total_deadline() {
    let e = Endpoints::start().await.expect("endpoints");
    let mut cfg = probe(&e.slow_body);
    cfg.timeouts.total = ms(1000);
    let (a, elapsed) = run(&cfg).await;
    assert_timed_out(&a, elapsed, Phase::Body, Duration::from_millis(1000));
    assert_eq!(a.status_code, Some(200));
    assert!(
        error(&a).starts_with("body: transfer not done within the total deadline 1s"),
        "{a:?}"
    );
}

#[tokio::test]
async fn status_503_and_a_wrong_body_are_named() {
    let e = Endpoints::start().await.expect("endpoints");
    // The flapping endpoint answers 200 three times, then 503 three times.
    let p = Prepared::new(&probe(&e.flapping)).expect("compiles");
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(attempt(&p, &mut None).await);
    }
    assert!(seen[..3].iter().all(|a| a.ok), "{seen:?}");
    for a in &seen[3..] {
        assert_eq!(a.failed, Some(Phase::Status), "{a:?}");
        assert_eq!(error(a), "status 503");
        assert_eq!(a.status_code, Some(503));
    }
    let mut wrong = probe(&e.wrong_body);
    wrong.body_regex = Some("^ok".into());
    let (a, _) = run(&wrong).await;
    assert_eq!(a.failed, Some(Phase::Body), "{a:?}");
    assert_eq!(error(&a), "body did not match");
}

#[tokio::test]
async fn an_expired_certificate_says_when_it_expired() {
    let e = Endpoints::start().await.expect("endpoints");
    let mut cfg = probe(&e.expired_tls);
    cfg.ca_file = Some(e.expired_ca_file());
    cfg.timeouts.tls = ms(2000);
    let (a, _) = run(&cfg).await;
    assert_eq!(a.failed, Some(Phase::Tls), "{a:?}");
    assert_eq!(error(&a), "certificate expired on 2025-01-01");
}

#[tokio::test]
async fn unknown_hosts_fail_in_dns() {
    let (a, elapsed) = run(&probe("http://no-such-host.invalid/")).await;
    assert_eq!(a.failed, Some(Phase::Dns), "{a:?}");
    let words = error(&a);
    assert!(
        words == "DNS: no such host" || words.starts_with("DNS"),
        "{words}"
    );
    assert!(elapsed < Duration::from_millis(2400), "{elapsed:?}");
}

/// Stalled probes run next to a healthy one: the healthy one is not held up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_probe_does_not_delay_the_others() {
    let e = Endpoints::start().await.expect("endpoints");
    let stalled = [
        probe(&e.stall_after_accept),
        probe(&e.tls_stall),
        probe(&e.full_backlog),
    ];
    let healthy = Prepared::new(&probe(&e.healthy)).expect("compiles");
    let stalls = futures::future::join_all(stalled.iter().map(run));
    let quick = async {
        let mut worst = Duration::ZERO;
        for _ in 0..5 {
            let a = attempt(&healthy, &mut None).await;
            assert!(a.ok, "{a:?}");
            worst = worst.max(a.timings.total);
        }
        worst
    };
    let (stalls, worst) = tokio::join!(stalls, quick);
    assert!(stalls.iter().all(|(a, _)| !a.ok));
    assert!(
        worst < Duration::from_millis(300),
        "a healthy attempt took {worst:?} next to stalled ones"
    );
}

/// `reuse = true`: the second attempt skips DNS, connect and TLS on the kept connection;
/// without it every attempt connects anew.
#[tokio::test]
async fn reuse_measures_the_warm_path() {
    let e = Endpoints::start().await.expect("endpoints");
    let mut cfg = probe(&e.healthy);
    cfg.reuse = true;
    let p = Prepared::new(&cfg).expect("compiles");
    let mut warm = None;
    let first = attempt(&p, &mut warm).await;
    assert!(first.ok && !first.reused, "{first:?}");
    assert!(first.timings.connect.is_some());
    let second = attempt(&p, &mut warm).await;
    assert!(second.ok, "{second:?}");
    assert!(second.reused, "{second:?}");
    assert_eq!(second.timings.connect, None);
    assert_eq!(second.peer, first.peer);

    let cold = Prepared::new(&probe(&e.healthy)).expect("compiles");
    let mut none = None;
    for _ in 0..2 {
        let a = attempt(&cold, &mut none).await;
        assert!(a.ok && !a.reused && a.timings.connect.is_some(), "{a:?}");
    }
}

/// Every probe request says `User-Agent: ondeck/VERSION (OS; probe)`, as the server reads it;
/// a probe whose `headers` set one sends that one alone.
#[tokio::test]
async fn every_request_carries_ondecks_user_agent() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(4);
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut got = Vec::new();
            let mut buf = [0u8; 2048];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
            let _ = tx.send(String::from_utf8_lossy(&got).into_owned()).await;
        }
    });
    let url = format!("http://{addr}/healthz");
    let (a, _) = run(&probe(&url)).await;
    assert!(a.ok, "{a:?}");
    let request = rx.recv().await.expect("the server saw the request");
    let agents: Vec<&str> = request
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        .map(|(_, v)| v.trim())
        .collect();
    let want = format!(
        "ondeck/{} ({}; probe)",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS
    );
    assert_eq!(agents, [want.as_str()], "{request}");

    let mut own = probe(&url);
    own.headers
        .insert("User-Agent".into(), "health-checker/2".into());
    let (a, _) = run(&own).await;
    assert!(a.ok, "{a:?}");
    let request = rx.recv().await.expect("the server saw the request");
    let agents: Vec<&str> = request
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
        .map(|(_, v)| v.trim())
        .collect();
    assert_eq!(agents, ["health-checker/2"], "{request}");
    server.abort();
}

/// A resolver that never answers: each lookup fails at its deadline; the threads it holds
/// stay bounded (with every permit held, the next lookup fails at once as busy, without a
/// thread); once the resolver answers, the permits come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_resolver_costs_its_deadline_and_at_most_n_threads() {
    use ondeck::sources::probes::dns::{DnsError, resolve_with};
    use std::sync::Arc;
    use tokio::sync::Semaphore;

    let permits = Arc::new(Semaphore::new(2));
    let deadline = Duration::from_millis(300);
    let mut release = Vec::new();
    for _ in 0..2 {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        release.push(tx);
        let started = Instant::now();
        let r = resolve_with(&permits, deadline, move || {
            // The resolver that never answers (until the test lets it).
            let _ = rx.recv();
            Ok(vec!["127.0.0.1:80".parse().expect("addr")])
        })
        .await;
        let took = started.elapsed();
        assert!(matches!(r, Err(DnsError::TimedOut)), "{r:?}");
        assert!(
            took >= deadline && took < deadline + Duration::from_millis(300),
            "{took:?}"
        );
    }
    assert_eq!(
        permits.available_permits(),
        0,
        "the hung lookups hold theirs"
    );
    let started = Instant::now();
    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ran2 = ran.clone();
    let r = resolve_with(&permits, deadline, move || {
        ran2.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(Vec::new())
    })
    .await;
    assert!(matches!(r, Err(DnsError::Busy)), "{r:?}");
    assert!(started.elapsed() < Duration::from_millis(50));
    assert!(
        !ran.load(std::sync::atomic::Ordering::SeqCst),
        "no thread started"
    );
    // The resolver answers: the abandoned lookups end and give their permits back.
    for tx in release {
        let _ = tx.send(());
    }
    let until = Instant::now() + Duration::from_secs(5);
    while permits.available_permits() < 2 {
        assert!(Instant::now() < until, "the permits did not come back");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let r = resolve_with(&permits, deadline, || {
        Ok(vec!["10.0.0.1:443".parse().expect("addr")])
    })
    .await;
    assert!(matches!(r, Ok(ref a) if a.len() == 1), "{r:?}");
    // The real resolver through the same path: /etc/hosts' localhost.
    let r = ondeck::sources::probes::dns::resolve("localhost", 80, Duration::from_secs(5)).await;
    assert!(
        matches!(&r, Ok(a) if a.iter().any(|a| a.ip().is_loopback())),
        "{r:?}"
    );
}
