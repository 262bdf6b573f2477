//! Freshness from the source of truth, against the simulated cluster's `freeze` (accepts TCP,
//! answers nothing: a SIGSTOP'd API server) and `silent-after-tls` faults: the pods and PVC
//! panes of the app model go STALE with the sources' error within three refresh intervals of
//! the server's last answer (or the request deadline when it never answered), their data age
//! keeps counting from that answer, and they come back when the server does; `check` says
//! UNKNOWN (exit 3) within its deadline.

use std::time::{Duration, Instant};

use ondeck::app::feed::Freshness;
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::check::{SourceStatus, build_report, collect};
use ondeck::config::{Config, HumanDuration, KubernetesConfig};
use ondeck::domain::CheckStatus;
use ondeck::sim::{Fault, SimCluster, SimOptions};
use ondeck::sources::kube::{KubeEnv, TargetArgs, connect};
use ondeck::sources::{SourceId, SourceUpdate};
use tokio::sync::mpsc;

const REFRESH: Duration = Duration::from_millis(500);
const DEADLINE: Duration = Duration::from_secs(2);

fn cfg() -> Config {
    Config {
        refresh: HumanDuration(REFRESH),
        kubernetes: KubernetesConfig {
            connect_timeout: HumanDuration(DEADLINE),
            request_timeout: HumanDuration(DEADLINE),
            backoff_initial: HumanDuration(Duration::from_millis(100)),
            backoff_max: HumanDuration(Duration::from_secs(1)),
        },
        ..Config::default()
    }
}

struct Env {
    sim: SimCluster,
    _dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
}

async fn sim(faults: Vec<Fault>) -> Env {
    let sim = SimCluster::start(SimOptions {
        faults,
        ..SimOptions::named("incident")
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("config");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    Env {
        sim,
        _dir: dir,
        kubeconfig,
    }
}

fn args(env: &Env) -> TargetArgs {
    TargetArgs::for_kubeconfig(&env.kubeconfig)
}

/// The pods and PVC sources as the console runs them, feeding one app model.
struct Console {
    _pods: ondeck::sources::kube::pods::PodsSource,
    _pvcs: ondeck::sources::kube::pvcs::PvcsSource,
    rx: mpsc::Receiver<SourceUpdate>,
    model: Model,
    /// The last error text each source sent.
    errors: std::collections::HashMap<SourceId, String>,
}

impl Console {
    async fn start(env: &Env) -> Console {
        let cfg = cfg();
        let target = connect(&args(env), &KubeEnv::default(), &cfg.kubernetes)
            .await
            .expect("connects");
        let (tx, rx) = mpsc::channel(256);
        let pods = ondeck::sources::kube::pods::spawn(target.clone(), &cfg, tx.clone());
        let pvcs = ondeck::sources::kube::pvcs::spawn(target, pods.store.clone(), &cfg, tx);
        Console {
            _pods: pods,
            _pvcs: pvcs,
            rx,
            model: Model::new(
                Settings::from_config(&cfg),
                Instant::now(),
                jiff::Timestamp::now(),
            ),
            errors: Default::default(),
        }
    }

    /// Feeds what the sources sent to the model, then ticks it at the current time.
    fn pump(&mut self) {
        while let Ok(u) = self.rx.try_recv() {
            if let Err(e) = &u.result {
                self.errors.insert(u.source, e.to_string());
            }
            update(&mut self.model, Msg::Source(u));
        }
        update(
            &mut self.model,
            Msg::Tick {
                now: Instant::now(),
                wall: jiff::Timestamp::now(),
            },
        );
    }

    fn freshness(&self, s: SourceId) -> Option<Freshness> {
        self.model.freshness(s)
    }

    /// Pumps until `f` holds for both Kubernetes sources, or panics after `within`.
    async fn until(&mut self, within: Duration, what: &str, f: impl Fn(&Freshness) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            self.pump();
            let ok = [SourceId::Pods, SourceId::Pvcs]
                .iter()
                .all(|s| self.freshness(*s).as_ref().is_some_and(&f));
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what} not reached within {within:?}: pods {:?}, pvcs {:?}, errors {:?}",
                self.freshness(SourceId::Pods),
                self.freshness(SourceId::Pvcs),
                self.errors
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The error the pane of source `s` shows.
fn pane_error(m: &Model, s: SourceId) -> Option<String> {
    use ondeck::ui::panes::PaneKind;
    let kind = match s {
        SourceId::Pods => PaneKind::Pods,
        _ => PaneKind::Pvcs,
    };
    m.pane(kind)?.last_error().map(|e| e.to_string())
}

fn fresh(f: &Freshness) -> bool {
    matches!(f, Freshness::Fresh { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_freezes_goes_stale_with_its_error_within_three_intervals() {
    let env = sim(vec![]).await;
    let mut c = Console::start(&env).await;
    c.until(Duration::from_secs(20), "fresh data", fresh).await;
    // Fresh for a while with nothing changing: heartbeats keep it fresh (the liveness check
    // answers), never STALE.
    let calm = Instant::now() + REFRESH * 6;
    while Instant::now() < calm {
        c.pump();
        for s in [SourceId::Pods, SourceId::Pvcs] {
            assert!(
                c.freshness(s).as_ref().is_some_and(fresh),
                "{s:?} not fresh while the server answers: {:?}",
                c.freshness(s)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    env.sim.faults().add(Fault::Freeze);
    let frozen_at = Instant::now();
    // The last answer came at most about one interval before the freeze; three intervals
    // after it the data is STALE (one more interval of slack for the tick and a loaded machine).
    c.until(REFRESH * 5, "STALE after the freeze", |f| f.is_stale())
        .await;
    let detected = frozen_at.elapsed();
    assert!(detected >= REFRESH * 2, "STALE too early: {detected:?}");
    // The age is the server's silence, not the time since a heartbeat.
    tokio::time::sleep(REFRESH * 4).await;
    c.pump();
    for s in [SourceId::Pods, SourceId::Pvcs] {
        match c.freshness(s) {
            Some(Freshness::Stale { age }) => assert!(
                age + REFRESH >= frozen_at.elapsed(),
                "{s:?}: age {age:?} is less than the silence {:?}",
                frozen_at.elapsed()
            ),
            other => panic!("{s:?} should be STALE with an age: {other:?}"),
        }
        let err = c.errors.get(&s).cloned().unwrap_or_default();
        assert!(
            err.contains("API server has not answered for"),
            "{s:?} error: {err:?}"
        );
        let pane_err =
            pane_error(&c.model, s).unwrap_or_else(|| panic!("{s:?} pane shows no error"));
        assert!(pane_err.contains("has not answered"), "{pane_err}");
    }

    // The server runs again: fresh again, by itself.
    env.sim.faults().remove(&Fault::Freeze);
    c.until(Duration::from_secs(15), "fresh after the thaw", fresh)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_silent_after_tls_is_stale_with_its_error_after_the_deadline() {
    let env = sim(vec![Fault::SilentAfterTls]).await;
    let started = Instant::now();
    let mut c = Console::start(&env).await;
    // Never answered: STALE with an error after max(3 intervals, request deadline), not the
    // 12-50 s of `loading…` the audit found. Slack: one interval and a second for a busy box.
    let limit = (REFRESH * 3).max(DEADLINE) + REFRESH + Duration::from_secs(1);
    c.until(limit, "STALE without ever loading", |f| {
        matches!(f, Freshness::NeverLoaded { .. })
    })
    .await;
    for s in [SourceId::Pods, SourceId::Pvcs] {
        let err = c.errors.get(&s).cloned().unwrap_or_default();
        assert!(
            err.contains("has not answered") || err.contains("no answer from"),
            "{s:?} error after {:?}: {err:?}",
            started.elapsed()
        );
    }
    env.sim.faults().remove(&Fault::SilentAfterTls);
    c.until(
        Duration::from_secs(20),
        "fresh once the server answers",
        fresh,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_against_a_frozen_server_is_unknown_within_its_deadline() {
    let env = sim(vec![]).await;
    // Answers first (the kubeconfig and the server are fine), then freezes.
    let client = env.sim.client().await.expect("client");
    client.apiserver_version().await.expect("answers before");
    env.sim.faults().add(Fault::Freeze);
    let cfg = cfg();
    let t0 = Instant::now();
    let collected = collect(&cfg, &[SourceId::Pods, SourceId::Pvcs], &args(&env)).await;
    let took = t0.elapsed();
    let report = build_report(&cfg, &collected, true, jiff::Timestamp::now());
    assert_eq!(report.status, CheckStatus::Unknown);
    assert_eq!(report.status.exit_code(), 3);
    for s in ["pods", "pvcs"] {
        assert_eq!(report.sources[s].status, SourceStatus::Failed, "{s}");
    }
    // One deadline (connect or request), not a hang: a little slack for a busy machine.
    assert!(took < DEADLINE * 2 + Duration::from_secs(2), "{took:?}");
    env.sim.faults().remove(&Fault::Freeze);
    env.sim.shutdown().await;
}
