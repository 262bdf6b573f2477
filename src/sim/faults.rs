//! Injected faults: parsed from CLI strings (`latency=200ms`, `forbid=delete:persistentvolumeclaims`)
//! and changeable at run time through a [`FaultHandle`].

use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// One fault. See `assets/scenarios/README.md` for the CLI syntax.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// `latency=200ms`: every request waits this long before being served.
    Latency(Duration),
    /// `drop-watch=30s`: watch streams are cut (cleanly) after this long.
    DropWatch(Duration),
    /// `error-rate=0.2`: this fraction of requests fails with a 500 Status.
    ErrorRate(f64),
    /// `forbid=delete:persistentvolumeclaims[:namespace]`: 403 for that verb on that resource.
    Forbid {
        verb: String,
        resource: String,
        namespace: Option<String>,
    },
    /// `expired-cert`: the server presents an expired serving certificate.
    ExpiredCert,
    /// `no-kubelet`: pods never start (stay Pending), graceful deletions never finish, and the
    /// node proxy (kubelet stats summary) answers 503.
    NoKubelet,
    /// `exec-break=1MiB`: exec streams break after this many bytes of stdout.
    ExecBreak(u64),
    /// `unschedulable`: pods waiting to start stay Pending with `PodScheduled=False
    /// reason=Unschedulable` (every node carries an untolerated taint), as the scheduler says.
    Unschedulable,
    /// `image-pull-backoff[=IMAGE]`: pods (using IMAGE, or any) are scheduled but their
    /// containers wait in `ErrImagePull`, then `ImagePullBackOff`.
    ImagePullBackOff(Option<String>),
    /// `exec-fail`: exec upgrades (101) and then reports an error status with no exit code,
    /// as the API server does when the kubelet does not answer.
    ExecFail,
    /// `freeze`: the server as if stopped by SIGSTOP: the kernel still accepts TCP connections,
    /// but nothing is answered (no TLS handshake on new connections, no response to requests,
    /// no watch event or bookmark) until the fault is removed, when everything held resumes.
    Freeze,
    /// `silent-after-tls`: new connections complete the TLS handshake, then get no answer
    /// while the fault is active.
    SilentAfterTls,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid fault {input:?}: {why} (expected one of latency=200ms, drop-watch=30s, error-rate=0.2, forbid=VERB:RESOURCE[:NAMESPACE], expired-cert, no-kubelet, exec-break=1MiB, unschedulable, image-pull-backoff[=IMAGE], exec-fail, freeze, silent-after-tls)"
)]
pub struct FaultParseError {
    pub input: String,
    pub why: String,
}

/// Parses `1MiB`, `512KiB`, `10MB`, `1000`.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "K" | "KB" | "k" => 1e3,
        "M" | "MB" => 1e6,
        "G" | "GB" => 1e9,
        "T" | "TB" => 1e12,
        "Ki" | "KiB" => 1024.0,
        "Mi" | "MiB" => 1024.0 * 1024.0,
        "Gi" | "GiB" => 1024.0 * 1024.0 * 1024.0,
        "Ti" | "TiB" => 1024.0f64.powi(4),
        _ => return None,
    };
    (num >= 0.0).then_some((num * mult) as u64)
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: &str| FaultParseError {
            input: s.to_string(),
            why: why.to_string(),
        };
        let (name, arg) = match s.split_once('=') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (s.trim(), None),
        };
        let dur = |a: Option<&str>| {
            let a = a.ok_or_else(|| err("needs a duration"))?;
            humantime::parse_duration(a).map_err(|e| err(&e.to_string()))
        };
        match name {
            "latency" => Ok(Fault::Latency(dur(arg)?)),
            "drop-watch" => Ok(Fault::DropWatch(dur(arg)?)),
            "error-rate" => {
                let r: f64 = arg
                    .ok_or_else(|| err("needs a rate"))?
                    .parse()
                    .map_err(|_| err("not a number"))?;
                if !(0.0..=1.0).contains(&r) {
                    return Err(err("rate must be between 0 and 1"));
                }
                Ok(Fault::ErrorRate(r))
            }
            "forbid" => {
                let a = arg.ok_or_else(|| err("needs VERB:RESOURCE"))?;
                let mut parts = a.split(':');
                let verb = parts.next().unwrap_or("").trim();
                let resource = parts.next().unwrap_or("").trim();
                let namespace = parts
                    .next()
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty());
                if verb.is_empty() || resource.is_empty() || parts.next().is_some() {
                    return Err(err("needs VERB:RESOURCE[:NAMESPACE]"));
                }
                Ok(Fault::Forbid {
                    verb: verb.to_string(),
                    resource: resource.to_string(),
                    namespace,
                })
            }
            "expired-cert" if arg.is_none() => Ok(Fault::ExpiredCert),
            "no-kubelet" if arg.is_none() => Ok(Fault::NoKubelet),
            "unschedulable" if arg.is_none() => Ok(Fault::Unschedulable),
            "exec-fail" if arg.is_none() => Ok(Fault::ExecFail),
            "freeze" if arg.is_none() => Ok(Fault::Freeze),
            "silent-after-tls" if arg.is_none() => Ok(Fault::SilentAfterTls),
            "image-pull-backoff" => Ok(Fault::ImagePullBackOff(
                arg.filter(|a| !a.is_empty()).map(str::to_string),
            )),
            "exec-break" => {
                let a = arg.ok_or_else(|| err("needs a size"))?;
                Ok(Fault::ExecBreak(
                    parse_bytes(a).ok_or_else(|| err("bad size"))?,
                ))
            }
            _ => Err(err("unknown fault")),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Latency(d) => write!(f, "latency={}", humantime::format_duration(*d)),
            Fault::DropWatch(d) => write!(f, "drop-watch={}", humantime::format_duration(*d)),
            Fault::ErrorRate(r) => write!(f, "error-rate={r}"),
            Fault::Forbid {
                verb,
                resource,
                namespace: Some(ns),
            } => write!(f, "forbid={verb}:{resource}:{ns}"),
            Fault::Forbid {
                verb,
                resource,
                namespace: None,
            } => write!(f, "forbid={verb}:{resource}"),
            Fault::ExpiredCert => write!(f, "expired-cert"),
            Fault::NoKubelet => write!(f, "no-kubelet"),
            Fault::ExecBreak(n) => write!(f, "exec-break={n}"),
            Fault::Unschedulable => write!(f, "unschedulable"),
            Fault::ImagePullBackOff(None) => write!(f, "image-pull-backoff"),
            Fault::ImagePullBackOff(Some(i)) => write!(f, "image-pull-backoff={i}"),
            Fault::ExecFail => write!(f, "exec-fail"),
            Fault::Freeze => write!(f, "freeze"),
            Fault::SilentAfterTls => write!(f, "silent-after-tls"),
        }
    }
}

/// How often a held connection looks whether `freeze` / `silent-after-tls` was lifted.
const FAULT_POLL: Duration = Duration::from_millis(25);

/// Shared, run-time adjustable set of active faults.
#[derive(Debug, Clone, Default)]
pub struct FaultHandle {
    faults: Arc<RwLock<Vec<Fault>>>,
}

impl FaultHandle {
    pub fn new(faults: Vec<Fault>) -> Self {
        FaultHandle {
            faults: Arc::new(RwLock::new(faults)),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Fault>> {
        self.faults.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Fault>> {
        self.faults.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, fault: Fault) {
        self.write().push(fault);
    }

    /// Removes every fault equal to `fault`.
    pub fn remove(&self, fault: &Fault) {
        self.write().retain(|f| f != fault);
    }

    pub fn clear(&self) {
        self.write().clear();
    }

    pub fn list(&self) -> Vec<Fault> {
        self.read().clone()
    }

    pub fn latency(&self) -> Option<Duration> {
        self.read()
            .iter()
            .filter_map(|f| {
                if let Fault::Latency(d) = f {
                    Some(*d)
                } else {
                    None
                }
            })
            .max()
    }

    pub fn drop_watch(&self) -> Option<Duration> {
        self.read()
            .iter()
            .filter_map(|f| {
                if let Fault::DropWatch(d) = f {
                    Some(*d)
                } else {
                    None
                }
            })
            .min()
    }

    pub fn error_rate(&self) -> f64 {
        self.read()
            .iter()
            .filter_map(|f| {
                if let Fault::ErrorRate(r) = f {
                    Some(*r)
                } else {
                    None
                }
            })
            .fold(0.0, f64::max)
    }

    pub fn expired_cert(&self) -> bool {
        self.read().contains(&Fault::ExpiredCert)
    }

    pub fn no_kubelet(&self) -> bool {
        self.read().contains(&Fault::NoKubelet)
    }

    pub fn exec_break(&self) -> Option<u64> {
        self.read()
            .iter()
            .filter_map(|f| {
                if let Fault::ExecBreak(n) = f {
                    Some(*n)
                } else {
                    None
                }
            })
            .min()
    }

    pub fn unschedulable(&self) -> bool {
        self.read().contains(&Fault::Unschedulable)
    }

    /// Whether a pod using `image` cannot pull it.
    pub fn image_pull_fails(&self, image: &str) -> bool {
        self.read().iter().any(|f| match f {
            Fault::ImagePullBackOff(None) => true,
            Fault::ImagePullBackOff(Some(i)) => i == image,
            _ => false,
        })
    }

    /// Exec cannot reach a kubelet: `exec-fail`, or `no-kubelet`.
    pub fn exec_fails(&self) -> bool {
        self.read()
            .iter()
            .any(|f| matches!(f, Fault::ExecFail | Fault::NoKubelet))
    }

    /// `freeze` is active: answer nothing.
    pub fn frozen(&self) -> bool {
        self.read().contains(&Fault::Freeze)
    }

    /// `silent-after-tls` is active.
    pub fn silent_after_tls(&self) -> bool {
        self.read().contains(&Fault::SilentAfterTls)
    }

    /// Waits while `freeze` is active (returns at once otherwise). Polls: the fault is toggled
    /// by tests and the CLI, rarely.
    pub async fn wait_unfrozen(&self) {
        while self.frozen() {
            tokio::time::sleep(FAULT_POLL).await;
        }
    }

    /// Waits while `silent-after-tls` is active.
    pub async fn wait_not_silent(&self) {
        while self.silent_after_tls() {
            tokio::time::sleep(FAULT_POLL).await;
        }
    }

    /// Whether a `forbid=` fault covers this request.
    pub fn forbids(&self, verb: &str, resource: &str, namespace: Option<&str>) -> bool {
        self.read().iter().any(|f| match f {
            Fault::Forbid {
                verb: v,
                resource: r,
                namespace: n,
            } => {
                (v == verb || v == "*")
                    && (r == resource || r == "*")
                    && n.as_deref().is_none_or(|n| Some(n) == namespace)
            }
            _ => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault() {
        assert_eq!(
            "latency=200ms".parse(),
            Ok(Fault::Latency(Duration::from_millis(200)))
        );
        assert_eq!(
            "drop-watch=30s".parse(),
            Ok(Fault::DropWatch(Duration::from_secs(30)))
        );
        assert_eq!("error-rate=0.2".parse(), Ok(Fault::ErrorRate(0.2)));
        assert_eq!(
            "forbid=delete:persistentvolumeclaims:monitoring".parse(),
            Ok(Fault::Forbid {
                verb: "delete".into(),
                resource: "persistentvolumeclaims".into(),
                namespace: Some("monitoring".into())
            })
        );
        assert_eq!("expired-cert".parse(), Ok(Fault::ExpiredCert));
        assert_eq!("no-kubelet".parse(), Ok(Fault::NoKubelet));
        assert_eq!("exec-break=1MiB".parse(), Ok(Fault::ExecBreak(1024 * 1024)));
        assert_eq!("unschedulable".parse(), Ok(Fault::Unschedulable));
        assert_eq!("exec-fail".parse(), Ok(Fault::ExecFail));
        assert_eq!("freeze".parse(), Ok(Fault::Freeze));
        assert_eq!("silent-after-tls".parse(), Ok(Fault::SilentAfterTls));
        assert_eq!(
            "image-pull-backoff=nosuch:1".parse(),
            Ok(Fault::ImagePullBackOff(Some("nosuch:1".into())))
        );
        assert_eq!(
            "image-pull-backoff".parse(),
            Ok(Fault::ImagePullBackOff(None))
        );
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "latency",
            "error-rate=2",
            "forbid=delete",
            "frobnicate",
            "exec-break=lots",
            "no-kubelet=1",
            "freeze=1s",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "latency=200ms",
            "error-rate=0.2",
            "forbid=delete:pods",
            "expired-cert",
            "no-kubelet",
            "unschedulable",
            "image-pull-backoff=x:1",
            "exec-fail",
            "freeze",
            "silent-after-tls",
        ] {
            let f: Fault = s.parse().unwrap_or(Fault::NoKubelet);
            assert_eq!(f.to_string().parse::<Fault>().ok(), Some(f));
        }
    }

    #[test]
    fn forbid_scopes_by_namespace() {
        let h = FaultHandle::new(vec![
            "forbid=delete:persistentvolumeclaims:monitoring"
                .parse()
                .unwrap_or(Fault::NoKubelet),
        ]);
        assert!(h.forbids("delete", "persistentvolumeclaims", Some("monitoring")));
        assert!(!h.forbids("delete", "persistentvolumeclaims", Some("default")));
        assert!(!h.forbids("get", "persistentvolumeclaims", Some("monitoring")));
    }
}
