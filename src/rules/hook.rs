//! The optional `alerts.command`: run through `sh -c` on every alert transition with the alert
//! in `ONDECK_ALERT_*` environment variables, killed after a timeout. Its output never reaches
//! the terminal (the TUI owns it): it is logged.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use super::Transition;

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("alert command could not start: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("alert command killed after {0:?}")]
    Timeout(Duration),
    #[error("alert command failed: {0}")]
    Wait(#[source] std::io::Error),
}

/// The environment the command sees.
pub fn alert_env(t: &Transition) -> Vec<(&'static str, String)> {
    let a = &t.alert;
    vec![
        ("ONDECK_ALERT_STATE", t.kind.label().to_string()),
        ("ONDECK_ALERT_LEVEL", a.key.level.label().to_string()),
        ("ONDECK_ALERT_SOURCE", a.key.source.name().to_string()),
        ("ONDECK_ALERT_RULE", a.key.rule.clone()),
        ("ONDECK_ALERT_SUBJECT", a.key.subject.clone()),
        ("ONDECK_ALERT_VALUE", format!("{}", a.value)),
        (
            "ONDECK_ALERT_THRESHOLD",
            format!("{} {}", a.op.symbol(), a.threshold),
        ),
        ("ONDECK_ALERT_MESSAGE", a.message.clone()),
        ("ONDECK_ALERT_SINCE", a.since_wall.to_string()),
        ("ONDECK_ALERT_AT", t.at_wall.to_string()),
        (
            "ONDECK_ALERT_ACK_NOTE",
            a.ack.as_ref().map(|k| k.note.clone()).unwrap_or_default(),
        ),
    ]
}

/// Runs `cmd` for transition `t`, waiting at most `timeout` (then the process is killed).
pub async fn run_alert_command(
    cmd: &str,
    t: &Transition,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Comparison, ThresholdRule};
    use crate::domain::Level;
    use crate::domain::SourceId;
    use crate::rules::{AlertBook, Condition};
    use std::time::Instant;

    fn firing() -> Transition {
        let rule = ThresholdRule::new(Level::Critical, Comparison::Above, 2000.0, 0);
        let c = Condition::check(
            SourceId::Sockets,
            "close_wait",
            "host",
            &rule,
            2500.0,
            "2,500 sockets in CLOSE_WAIT".into(),
        );
        let mut book = AlertBook::new(10);
        let wall = jiff::Timestamp::from_second(1_700_000_000).expect("valid");
        book.observe(SourceId::Sockets, &[c], Instant::now(), wall)
            .remove(0)
    }

    #[tokio::test]
    async fn command_sees_the_alert_in_its_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("out");
        let cmd = format!(
            "printf '%s|%s|%s|%s|%s' \"$ONDECK_ALERT_STATE\" \"$ONDECK_ALERT_LEVEL\" \"$ONDECK_ALERT_RULE\" \"$ONDECK_ALERT_VALUE\" \"$ONDECK_ALERT_MESSAGE\" > {}",
            out.display()
        );
        let status = run_alert_command(&cmd, &firing(), Duration::from_secs(10))
            .await
            .expect("runs");
        assert!(status.success());
        let text = std::fs::read_to_string(&out).expect("written");
        assert_eq!(
            text,
            "firing|CRITICAL|close_wait|2500|2,500 sockets in CLOSE_WAIT"
        );
    }

    #[tokio::test]
    async fn a_hanging_command_is_killed_at_the_timeout() {
        let started = Instant::now();
        let r = run_alert_command("sleep 30", &firing(), Duration::from_millis(200)).await;
        assert!(matches!(r, Err(HookError::Timeout(_))), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
