//! The `[rules]` section: every danger rule's thresholds and levels, per source, with the
//! spec's defaults (`ondeck config init` writes them out).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{HumanDuration, secs};
use crate::domain::Level;

/// How a measured value is compared with a rule's threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
}

impl Comparison {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::AtLeast => value >= threshold,
            Comparison::Below => value < threshold,
            Comparison::AtMost => value <= threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Above => ">",
            Comparison::AtLeast => ">=",
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
        }
    }
}

/// Threshold + comparison + `for` duration + level: "CLOSE_WAIT > 1000 for 15m -> warning".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    pub level: Level,
    pub op: Comparison,
    pub value: f64,
    /// How long the condition must hold before the alert fires (0 = at once).
    #[serde(rename = "for", default)]
    pub for_: HumanDuration,
}

impl ThresholdRule {
    pub const fn new(level: Level, op: Comparison, value: f64, for_secs: u64) -> Self {
        ThresholdRule {
            level,
            op,
            value,
            for_: HumanDuration(Duration::from_secs(for_secs)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    pub sockets: SocketRules,
    pub pods: PodRules,
    pub pvcs: PvcRules,
    pub certs: CertRules,
    pub probes: ProbeRules,
}

/// Socket rules. Each list holds one threshold per level (e.g. warning and critical).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SocketRules {
    /// Number of sockets in CLOSE_WAIT (all processes).
    pub close_wait: Vec<ThresholdRule>,
    /// Number of sockets in TIME_WAIT.
    pub time_wait: Vec<ThresholdRule>,
    /// ListenOverflows per second (from /proc/net/netstat).
    pub listen_overflows_per_sec: Vec<ThresholdRule>,
    /// Accept-queue fill of a listen socket, % of its backlog.
    pub accept_queue_pct: Vec<ThresholdRule>,
    /// Open fds of a process, % of its soft RLIMIT_NOFILE.
    pub process_fd_pct: Vec<ThresholdRule>,
    /// conntrack table fill, % of nf_conntrack_max.
    pub conntrack_pct: Vec<ThresholdRule>,
}

impl Default for SocketRules {
    fn default() -> Self {
        use Comparison::*;
        use Level::*;
        SocketRules {
            close_wait: vec![
                ThresholdRule::new(Warning, Above, 1000.0, 15 * 60),
                ThresholdRule::new(Critical, Above, 2000.0, 5 * 60),
            ],
            time_wait: vec![ThresholdRule::new(Warning, Above, 20000.0, 0)],
            listen_overflows_per_sec: vec![ThresholdRule::new(Warning, Above, 0.0, 0)],
            accept_queue_pct: vec![ThresholdRule::new(Critical, AtLeast, 90.0, 0)],
            process_fd_pct: vec![
                ThresholdRule::new(Warning, Above, 80.0, 0),
                ThresholdRule::new(Critical, Above, 95.0, 0),
            ],
            conntrack_pct: vec![
                ThresholdRule::new(Warning, Above, 80.0, 0),
                ThresholdRule::new(Critical, Above, 95.0, 0),
            ],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PodRules {
    /// Waiting reasons that are critical as soon as they are seen.
    pub critical_reasons: Vec<String>,
    /// Waiting reasons that are a warning.
    pub warning_reasons: Vec<String>,
    /// An OOMKilled termination within this window is critical.
    pub oom_window: HumanDuration,
    /// Restarts that increased within this window are a warning.
    pub restart_window: HumanDuration,
    /// Running but not Ready for longer than this is a warning.
    pub not_ready_for: HumanDuration,
    pub pending_for: HumanDuration,
    pub terminating_for: HumanDuration,
}

impl Default for PodRules {
    fn default() -> Self {
        PodRules {
            critical_reasons: vec![
                "CrashLoopBackOff".into(),
                "CreateContainerConfigError".into(),
            ],
            warning_reasons: vec!["ImagePullBackOff".into(), "ErrImagePull".into()],
            oom_window: secs(3600),
            restart_window: secs(600),
            not_ready_for: secs(120),
            pending_for: secs(300),
            terminating_for: secs(300),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PvcRules {
    /// A PVC Terminating while a pod still uses it.
    pub terminating_in_use: Level,
    pub lost: Level,
    pub pending_for: HumanDuration,
    pub pending_level: Level,
    /// Bound PV with reclaimPolicy Delete: deleting the claim destroys the data ("AT RISK").
    pub reclaim_delete: Level,
    /// PV Released or Failed (orphaned storage).
    pub pv_released: Level,
}

impl Default for PvcRules {
    fn default() -> Self {
        PvcRules {
            terminating_in_use: Level::Critical,
            lost: Level::Critical,
            pending_for: secs(300),
            pending_level: Level::Warning,
            reclaim_delete: Level::Info,
            pv_released: Level::Warning,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CertRules {
    /// Fewer days left than this: critical (expired and not-yet-valid are always critical).
    pub critical_days: f64,
    /// Fewer days left than this: warning.
    pub warning_days: f64,
    pub hostname_mismatch: Level,
    pub untrusted_chain: Level,
}

impl Default for CertRules {
    fn default() -> Self {
        CertRules {
            critical_days: 7.0,
            warning_days: 30.0,
            hostname_mismatch: Level::Critical,
            untrusted_chain: Level::Warning,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeRules {
    /// Consecutive failures (timeout, refused, TLS, 5xx) before critical.
    pub failures_before_critical: u32,
    /// p99 latency above the probe's SLO.
    pub slo_breach: Level,
}

impl Default for ProbeRules {
    fn default() -> Self {
        ProbeRules {
            failures_before_critical: 3,
            slo_breach: Level::Warning,
        }
    }
}
