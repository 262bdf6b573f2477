//! The pod detail view's data, built from a (stripped) store pod, its row and its recent
//! events: containers with state and last state, probes, limits, conditions, owner.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, ContainerState, ContainerStatus, Pod, Probe};

use crate::domain::pods::{
    ConditionLine, ContainerDetail, PodDetail, PodEvent, PodRow, TerminationInfo, container_role,
};

fn probe_text(kind: &str, p: &Probe) -> String {
    let how = if let Some(h) = &p.http_get {
        let port = match &h.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!("http-get :{port}{}", h.path.as_deref().unwrap_or("/"))
    } else if let Some(t) = &p.tcp_socket {
        let port = match &t.port {
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
            k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
        };
        format!("tcp-socket :{port}")
    } else if p.exec.is_some() {
        "exec".to_string()
    } else if p.grpc.is_some() {
        "grpc".to_string()
    } else {
        "?".to_string()
    };
    format!(
        "{kind}: {how} delay={}s timeout={}s period={}s #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(1),
        p.period_seconds.unwrap_or(10),
        p.failure_threshold.unwrap_or(3)
    )
}

fn state_text(s: Option<&ContainerState>) -> String {
    let Some(s) = s else {
        return "unknown".into();
    };
    if let Some(r) = &s.running {
        match r.started_at.as_ref() {
            Some(t) => format!("Running since {}", t.0.strftime("%Y-%m-%d %H:%M:%S UTC")),
            None => "Running".into(),
        }
    } else if let Some(w) = &s.waiting {
        let reason = w.reason.as_deref().unwrap_or("Waiting");
        match w.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!("Waiting: {reason}: {m}"),
            None => format!("Waiting: {reason}"),
        }
    } else if let Some(t) = &s.terminated {
        format!(
            "Terminated: {} (exit {})",
            t.reason.as_deref().unwrap_or("-"),
            t.exit_code
        )
    } else {
        "unknown".into()
    }
}

fn termination(s: Option<&ContainerState>) -> Option<TerminationInfo> {
    let t = s?.terminated.as_ref()?;
    Some(TerminationInfo {
        reason: t.reason.clone(),
        exit_code: t.exit_code,
        signal: t.signal,
        finished_at: t.finished_at.as_ref().map(|f| f.0),
        message: t.message.clone().filter(|m| !m.is_empty()),
    })
}

fn container_detail(c: &Container, st: Option<&ContainerStatus>, init: bool) -> ContainerDetail {
    let mut probes = Vec::new();
    if let Some(p) = &c.startup_probe {
        probes.push(probe_text("startup", p));
    }
    if let Some(p) = &c.liveness_probe {
        probes.push(probe_text("liveness", p));
    }
    if let Some(p) = &c.readiness_probe {
        probes.push(probe_text("readiness", p));
    }
    let limits = c
        .resources
        .as_ref()
        .and_then(|r| r.limits.as_ref())
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.iter()
                .map(|(k, v)| format!("{k} {}", v.0))
                .collect::<Vec<_>>()
                .join(", ")
        });
    ContainerDetail {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        role: container_role(Some(c), init),
        ready: st.is_some_and(|s| s.ready),
        restarts: st.map(|s| s.restart_count.max(0) as u32).unwrap_or(0),
        state: state_text(st.and_then(|s| s.state.as_ref())),
        last_state: termination(st.and_then(|s| s.last_state.as_ref())),
        probes,
        limits,
    }
}

/// Everything the detail view shows about one pod. Raw strings: the UI sanitizes them.
pub fn pod_detail(pod: &Pod, row: PodRow, events: Vec<PodEvent>) -> PodDetail {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let find = |list: Option<&Vec<ContainerStatus>>, name: &str| {
        list.and_then(|v| v.iter().find(|s| s.name == name))
            .cloned()
    };
    let mut containers = Vec::new();
    for c in spec
        .and_then(|s| s.init_containers.as_ref())
        .into_iter()
        .flatten()
    {
        let st = find(
            status.and_then(|s| s.init_container_statuses.as_ref()),
            &c.name,
        );
        containers.push(container_detail(c, st.as_ref(), true));
    }
    for c in spec.map(|s| s.containers.as_slice()).unwrap_or(&[]) {
        let st = find(status.and_then(|s| s.container_statuses.as_ref()), &c.name);
        containers.push(container_detail(c, st.as_ref(), false));
    }
    let conditions = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .map(|c| ConditionLine {
            type_: c.type_.clone(),
            status: c.status.clone(),
            since: c.last_transition_time.as_ref().map(|t| t.0),
            reason: c.reason.clone(),
            message: c.message.clone(),
        })
        .collect();
    PodDetail {
        row,
        ip: status.and_then(|s| s.pod_ip.clone()),
        qos: status.and_then(|s| s.qos_class.clone()),
        containers,
        conditions,
        events,
    }
}

/// "finished 3m ago" helper for the UI.
pub fn ago(now: Timestamp, t: Timestamp) -> String {
    crate::domain::pods::human_duration(now.duration_since(t))
}
