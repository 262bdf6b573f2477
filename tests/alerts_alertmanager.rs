//! Alertmanager (issue 9, item 8): a real Alertmanager (Debian's `prometheus-alertmanager`,
//! installed by `.ci/run`) on a loopback port with a minimal config in a temp dir gets a storm of
//! 1,000 OOM-killed pods from ondeck's client and groups them into one alert group; resolving
//! them empties it. A receiver that accepts and never answers never blocks publishing.
//!
//! In CI (`CI=true`) a missing binary fails the test; locally it is skipped with a reason.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ondeck::config::{Comparison, ThresholdRule};
use ondeck::domain::Level;
use ondeck::rules::alertmanager::AlertmanagerClient;
use ondeck::rules::{AlertBook, Condition, Shown};
use ondeck::sources::SourceId;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| [d.join("prometheus-alertmanager"), d.join("alertmanager")])
        .find(|p| p.is_file())
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A running Alertmanager, killed on drop.
struct Am {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
    url: String,
}

async fn start_alertmanager() -> Result<Option<Am>, Box<dyn std::error::Error>> {
    let Some(bin) = binary() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err("prometheus-alertmanager is not installed (.ci/run installs it)".into());
        }
        eprintln!(
            "skipped: prometheus-alertmanager not installed (apt-get install prometheus-alertmanager)"
        );
        return Ok(None);
    };
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: 'null'\n  group_by: ['alertname']\n  group_wait: 1s\nreceivers:\n  - name: 'null'\n",
    )?;
    let port = free_port()?;
    let child = tokio::process::Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}");
    let http = client()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{url}/-/ready")).send().await
            && r.status().is_success()
        {
            break;
        }
        if Instant::now() > deadline {
            return Err("alertmanager did not become ready in 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(Some(Am {
        _child: child,
        _dir: dir,
        url,
    }))
}

fn client() -> Result<reqwest::Client, reqwest::Error> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
}

/// 1,000 pods OOM-killed 2 minutes ago over 12 namespaces, as the pods rules report them.
fn storm(book: &mut AlertBook, now: Instant, wall: jiff::Timestamp) {
    let rule = ThresholdRule::new(Level::Critical, Comparison::AtMost, 3600.0, 0);
    let conds: Vec<Condition> = (0..1000)
        .map(|i| {
            let subject = format!("team-{:02}/api-{i:04}", i % 12);
            Condition::check(
                SourceId::Pods,
                "pod_oom_killed",
                subject.clone(),
                &rule,
                120.0,
                format!("{subject}: OOMKilled 2m ago (container api)"),
            )
            .shown(Shown::Ago {
                what: "OOMKilled".into(),
                at: wall - jiff::SignedDuration::from_secs(120),
            })
        })
        .collect();
    book.observe(SourceId::Pods, &conds, now, wall);
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<serde_json::Value, reqwest::Error> {
    http.get(url).send().await?.json().await
}

/// Polls `url` until `ok` holds for its JSON, for at most 30 s.
async fn wait_json(
    http: &reqwest::Client,
    url: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> Result<serde_json::Value, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = serde_json::Value::Null;
    while Instant::now() < deadline {
        if let Ok(v) = get_json(http, url).await {
            if ok(&v) {
                return Ok(v);
            }
            last = v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!(
        "{url}: condition not met in 30 s; last: {}",
        last.to_string().chars().take(500).collect::<String>()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_oom_killed_pods_is_one_alertmanager_group() -> TestResult {
    let Some(am) = start_alertmanager().await? else {
        return Ok(());
    };
    let http = client()?;
    let ondeck =
        AlertmanagerClient::spawn(&am.url, Duration::from_secs(5), Duration::from_secs(60))?;
    let mut book = AlertBook::new(100);
    let (now, wall) = (Instant::now(), jiff::Timestamp::now());
    storm(&mut book, now, wall);
    assert_eq!(book.groups().len(), 1, "one group in ondeck too");
    ondeck.publish_book(&book, wall);

    let alerts = wait_json(&http, &format!("{}/api/v2/alerts", am.url), |v| {
        v.as_array().is_some_and(|a| a.len() == 1000)
    })
    .await?;
    let first = &alerts[0];
    assert_eq!(first["labels"]["alertname"], "pod_oom_killed");
    assert_eq!(first["labels"]["severity"], "critical");
    assert_eq!(first["labels"]["rule"], "pod_oom_killed");
    assert!(
        first["labels"]["namespace"]
            .as_str()
            .is_some_and(|n| n.starts_with("team-")),
        "{first}"
    );
    assert!(
        first["labels"]["instance"]
            .as_str()
            .is_some_and(|n| n.starts_with("api-")),
        "{first}"
    );
    assert!(
        first["annotations"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Pod OOM-killed: OOMKilled")),
        "{first}"
    );
    let namespaces: std::collections::BTreeSet<&str> = alerts
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["labels"]["namespace"].as_str())
        .collect();
    assert_eq!(namespaces.len(), 12);

    // Alertmanager's own grouping (route group_by alertname): one group of 1,000.
    let groups = get_json(&http, &format!("{}/api/v2/alerts/groups", am.url)).await?;
    let groups = groups.as_array().ok_or("groups is a list")?;
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["labels"]["alertname"], "pod_oom_killed");
    assert_eq!(groups[0]["alerts"].as_array().map(Vec::len), Some(1000));

    // They resolve: ondeck sends them once more with endsAt now.
    book.observe(SourceId::Pods, &[], now + Duration::from_secs(60), wall);
    assert!(book.groups().is_empty());
    ondeck.publish_book(&book, wall);
    wait_json(&http, &format!("{}/api/v2/alerts", am.url), |v| {
        v.as_array().is_some_and(|a| a.is_empty())
    })
    .await?;
    let stats = ondeck.stats();
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert!(
        stats.posted >= 4,
        "two batches firing, two resolving: {stats:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_never_blocks_publishing() -> TestResult {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let held = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = listener.accept().await {
            conns.push(c);
        }
    });
    let ondeck =
        AlertmanagerClient::spawn(&url, Duration::from_millis(300), Duration::from_secs(1))?;
    let mut book = AlertBook::new(100);
    let wall = jiff::Timestamp::now();
    storm(&mut book, Instant::now(), wall);
    // The UI publishes on every change of the book; each call returns without waiting for the
    // receiver (a watch channel holds only the latest set).
    for _ in 0..200 {
        ondeck.publish_book(&book, wall);
    }
    // The client meanwhile hits its deadline on the silent receiver and retries.
    let deadline = Instant::now() + Duration::from_secs(30);
    while ondeck.stats().attempts_failed < 2 {
        assert!(
            Instant::now() < deadline,
            "no timed-out attempt in 30 s: {:?}",
            ondeck.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = ondeck.stats();
    assert_eq!(stats.posted, 0, "{stats:?}");
    assert!(stats.last_error.is_none() || stats.failed >= 1, "{stats:?}");
    held.abort();
    Ok(())
}
