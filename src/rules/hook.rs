//! The optional `alerts.command`: run through `sh -c` once per group transition (a group
//! starts pending or firing, clears, or is acknowledged), with the group and a representative
//! alert in `ONDECK_ALERT_*` environment variables, killed after a timeout. Its output never
//! reaches the terminal (the TUI owns it): it is logged.
//!
//! Runs happen on their own bounded pool ([`HookPool`]): a few at a time behind a bounded
//! queue. When the queue is full a run is dropped and counted, never waited for, so a storm of
//! transitions and a slow command can never hold up user input or a guarded flow.

use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};

use super::GroupTransition;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("alert command could not start: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("alert command killed after {0:?}")]
    Timeout(Duration),
    #[error("alert command failed: {0}")]
    Wait(#[source] std::io::Error),
}

/// The environment the command sees. For a single alert the variables are those of that alert
/// (as before groups existed); for a group of several, `SUBJECT` and `MESSAGE` summarize the
/// group and `ONDECK_ALERT_SUBJECTS` lists the first members, one per line.
pub fn alert_env(t: &GroupTransition) -> Vec<(&'static str, String)> {
    let a = &t.alert;
    let (subject, message) = if t.count <= 1 {
        (a.key.subject.to_string(), a.message.clone())
    } else {
        (
            format!("{} and {} more", a.key.subject, t.count - 1),
            format!(
                "{} {} ({}); first: {}",
                t.title,
                where_text(t),
                a.key.rule,
                a.message
            ),
        )
    };
    vec![
        ("ONDECK_ALERT_STATE", t.kind.label().to_string()),
        ("ONDECK_ALERT_LEVEL", a.key.level.label().to_string()),
        ("ONDECK_ALERT_SOURCE", a.key.source.name().to_string()),
        ("ONDECK_ALERT_RULE", a.key.rule.to_string()),
        ("ONDECK_ALERT_TITLE", t.title.to_string()),
        ("ONDECK_ALERT_SUBJECT", subject),
        ("ONDECK_ALERT_VALUE", format!("{}", a.value)),
        (
            "ONDECK_ALERT_THRESHOLD",
            format!("{} {}", a.op.symbol(), a.threshold),
        ),
        ("ONDECK_ALERT_VALUE_TEXT", a.value_text(t.at_wall).into()),
        ("ONDECK_ALERT_LIMIT_TEXT", a.limit_text().into()),
        ("ONDECK_ALERT_MESSAGE", message),
        ("ONDECK_ALERT_SINCE", a.since_wall.to_string()),
        ("ONDECK_ALERT_AT", t.at_wall.to_string()),
        (
            "ONDECK_ALERT_ACK_NOTE",
            a.ack.as_ref().map(|k| k.note.clone()).unwrap_or_default(),
        ),
        ("ONDECK_ALERT_COUNT", t.count.to_string()),
        ("ONDECK_ALERT_NAMESPACES", t.namespaces.to_string()),
        ("ONDECK_ALERT_OLDEST", t.oldest.to_string()),
        ("ONDECK_ALERT_SUBJECTS", t.subjects.join("\n")),
    ]
    .into_iter()
    .map(|(k, v)| (k, env_clean(k, &v)))
    .collect()
}

/// The last boundary before a shell sees the text: no control character or escape sequence
/// in any value, whatever a source forgot (the strings are cleaned where they enter; this makes
/// the hook's contract hold by construction). `ONDECK_ALERT_SUBJECTS` keeps its newlines as
/// separators, each subject cleaned.
fn env_clean(key: &str, value: &str) -> String {
    if key == "ONDECK_ALERT_SUBJECTS" {
        value
            .split('\n')
            .map(|l| crate::sanitize::display_line(l).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        crate::sanitize::display_line(value).into_owned()
    }
}

/// `x150 in 12 namespaces`.
fn where_text(t: &GroupTransition) -> String {
    let n = super::display::group(t.count as u64);
    match t.namespaces {
        0 => format!("x{n}"),
        1 => format!("x{n} in 1 namespace"),
        k => format!("x{n} in {k} namespaces"),
    }
}

/// Runs `cmd` for transition `t`, waiting at most `timeout` (then the process is killed).
pub async fn run_alert_command(
    cmd: &str,
    t: &GroupTransition,
    timeout: Duration,
) -> Result<ExitStatus, HookError> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .envs(alert_env(t))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(HookError::Spawn)?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            tracing::info!(
                status = %out.status,
                stdout = %String::from_utf8_lossy(&out.stdout).trim(),
                stderr = %String::from_utf8_lossy(&out.stderr).trim(),
                rule = %t.alert.key.rule,
                count = t.count,
                state = t.kind.label(),
                "alert command finished"
            );
            Ok(out.status)
        }
        Ok(Err(e)) => Err(HookError::Wait(e)),
        // Dropping the future drops the child, which kill_on_drop kills.
        Err(_) => Err(HookError::Timeout(timeout)),
    }
}

/// Alert-command runs at once.
pub const HOOK_WORKERS: usize = 4;
/// Runs waiting for a worker before new ones are dropped.
pub const HOOK_QUEUE: usize = 32;

/// How one run ended, for the UI (only failures are reported).
#[derive(Debug, Clone)]
pub struct HookFailure {
    pub rule: String,
    pub subject: String,
    /// `Ok(code)`: exited non-zero (`None`: killed by a signal); `Err`: did not run or timed out.
    pub outcome: Result<Option<i32>, String>,
}

/// The alert command's own pool: a bounded queue in front of [`HOOK_WORKERS`] workers on their
/// own task. [`HookPool::submit`] never waits: a full queue drops the run and counts it.
#[derive(Debug, Clone)]
pub struct HookPool {
    queue: mpsc::Sender<GroupTransition>,
    dropped: Arc<AtomicU64>,
    started: Arc<AtomicU64>,
}

impl HookPool {
    /// Starts the pool for `cmd`. Failures go to `failures` when it has room (they are logged
    /// either way).
    pub fn spawn(
        cmd: String,
        timeout: Duration,
        workers: usize,
        queue: usize,
        failures: Option<mpsc::Sender<HookFailure>>,
    ) -> HookPool {
        let (tx, mut rx) = mpsc::channel::<GroupTransition>(queue.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let started = Arc::new(AtomicU64::new(0));
        let started_in = started.clone();
        let slots = Arc::new(Semaphore::new(workers.max(1)));
        tokio::spawn(async move {
            while let Some(t) = rx.recv().await {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                started_in.fetch_add(1, Ordering::Relaxed);
                let cmd = cmd.clone();
                let failures = failures.clone();
                tokio::spawn(async move {
                    let outcome = run_alert_command(&cmd, &t, timeout).await;
                    drop(permit);
                    let outcome = match outcome {
                        Ok(status) if status.success() => return,
                        Ok(status) => Ok(status.code()),
                        Err(e) => {
                            tracing::warn!(rule = %t.alert.key.rule, error = %e, "alert command failed");
                            Err(e.to_string())
                        }
                    };
                    if let Some(f) = failures {
                        let _ = f.try_send(HookFailure {
                            rule: t.alert.key.rule.to_string(),
                            subject: t.alert.key.subject.to_string(),
                            outcome,
                        });
                    }
                });
            }
        });
        HookPool {
            queue: tx,
            dropped,
            started,
        }
    }

    /// Queues a run; `false` (and counted) when the queue is full or the pool is gone.
    pub fn submit(&self, t: GroupTransition) -> bool {
        match self.queue.try_send(t) {
            Ok(()) => true,
            Err(e) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                let t = match &e {
                    mpsc::error::TrySendError::Full(t) | mpsc::error::TrySendError::Closed(t) => t,
                };
                tracing::warn!(rule = %t.alert.key.rule, dropped = n, "alert command queue full: run dropped");
                false
            }
        }
    }

    /// Runs dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Runs started so far.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Comparison, ThresholdRule};
    use crate::domain::Level;
    use crate::domain::SourceId;
    use crate::rules::{AlertBook, Condition, Shown};
    use std::time::Instant;

    fn firing() -> GroupTransition {
        let rule = ThresholdRule::new(Level::Critical, Comparison::Above, 2000.0, 0);
        let c = Condition::check(
            SourceId::Sockets,
            "close_wait",
            "host",
            &rule,
            2500.0,
            "2,500 sockets in CLOSE_WAIT".into(),
        )
        .shown(Shown::Count {
            n: 2500,
            noun: "sockets",
        });
        let mut book = AlertBook::new(10);
        let wall = jiff::Timestamp::from_second(1_700_000_000).expect("valid");
        book.observe_changes(SourceId::Sockets, &[c], Instant::now(), wall)
            .groups
            .remove(0)
    }

    #[tokio::test]
    async fn command_sees_the_alert_in_its_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let cmd = format!(
            "printf '%s|%s|%s|%s|%s|%s|%s|%s' \"$ONDECK_ALERT_STATE\" \"$ONDECK_ALERT_LEVEL\" \"$ONDECK_ALERT_RULE\" \"$ONDECK_ALERT_VALUE\" \"$ONDECK_ALERT_MESSAGE\" \"$ONDECK_ALERT_COUNT\" \"$ONDECK_ALERT_TITLE\" \"$ONDECK_ALERT_VALUE_TEXT\" > {}",
            out.display()
        );
        let status = run_alert_command(&cmd, &firing(), Duration::from_secs(10))
            .await
            .expect("runs");
        assert!(status.success());
        let text = std::fs::read_to_string(&out).expect("written");
        assert_eq!(
            text,
            "firing|CRITICAL|close_wait|2500|2,500 sockets in CLOSE_WAIT|1|CLOSE_WAIT sockets|2,500 sockets"
        );
    }

    /// Hostile text in every field that can carry it: ESC sequences, BEL, C1, newlines, bidi.
    const HOSTILE: &str = "web/x\u{1b}[31mred\u{1b}[0m\u{7}\u{9b}2J\r\nFAKE=1\u{202e}gpj.exe";

    fn assert_clean(what: &str, v: &str, newline_ok: bool) {
        for c in v.chars() {
            let bad = (c < ' ' && !(newline_ok && c == '\n'))
                || c == '\u{7f}'
                || ('\u{80}'..='\u{9f}').contains(&c)
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            assert!(!bad, "{what} holds {:?}: {v:?}", c);
        }
    }

    #[test]
    fn the_environment_is_clean_whatever_the_alert_carries() {
        let rule = ThresholdRule::new(Level::Critical, Comparison::Above, 0.0, 0);
        let conds: Vec<Condition> = (0..3)
            .map(|i| {
                Condition::check(
                    SourceId::Pods,
                    "pod_waiting_reason",
                    format!("{HOSTILE}-{i}"),
                    &rule,
                    1.0,
                    format!("{HOSTILE}: CrashLoopBackOff\nsecond line"),
                )
            })
            .collect();
        let mut book = AlertBook::new(10);
        let wall = jiff::Timestamp::from_second(1_700_000_000).expect("valid");
        let groups = book
            .observe_changes(SourceId::Pods, &conds, Instant::now(), wall)
            .groups;
        assert!(!groups.is_empty());
        for g in &groups {
            for (k, v) in alert_env(g) {
                assert_clean(k, &v, k == "ONDECK_ALERT_SUBJECTS");
            }
            let env = alert_env(g);
            let subject = &env
                .iter()
                .find(|(k, _)| *k == "ONDECK_ALERT_SUBJECT")
                .expect("subject")
                .1;
            assert!(
                subject.contains("web/x") && subject.contains("red"),
                "{subject}"
            );
        }
    }

    #[tokio::test]
    async fn a_hanging_command_is_killed_at_the_timeout() {
        let started = Instant::now();
        let r = run_alert_command("sleep 30", &firing(), Duration::from_millis(200)).await;
        assert!(matches!(r, Err(HookError::Timeout(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_full_pool_drops_runs_and_counts_them_without_waiting() {
        let pool = HookPool::spawn("sleep 5".into(), Duration::from_secs(10), 1, 2, None);
        let mut accepted = 0;
        for _ in 0..50 {
            if pool.submit(firing()) {
                accepted += 1;
            }
        }
        // One may already be running, two queued: the rest are dropped.
        assert!(accepted <= 3, "{accepted}");
        assert_eq!(pool.dropped(), 50 - accepted);
    }
}
