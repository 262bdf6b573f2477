//! The pod detail view's data, built from a (stripped) store pod, its row and its recent
//! events: containers with state and last state, probes, limits, conditions, owner.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use crate::domain::pods::{ConditionLine, PodDetail, PodEvent, PodRow};

/// Everything the detail view shows about one pod. Raw strings: the UI sanitizes them.
pub fn pod_detail(pod: &Pod, row: PodRow, events: Vec<PodEvent>) -> PodDetail {
    let status = pod.status.as_ref();
    let containers = crate::domain::pods::containers_of(pod);
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
    crate::domain::pods::human_duration(now.duration_since(t)).into()
}
