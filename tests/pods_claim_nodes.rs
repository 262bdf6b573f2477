//! The used-space poller asks the pod store which nodes to ask for stats (`claim_nodes`)
//! without building every claim's users: it must name exactly the nodes that
//! `usage_nodes(claim_users(..))` names, whatever the pods.

use k8s_openapi::api::core::v1::Pod;
use ondeck::domain::compact::CompactPod;
use ondeck::domain::text::Interner;
use ondeck::sources::kube::pods::{PodStore, claim_nodes, claim_users};
use ondeck::sources::kube::pvcs::usage_nodes;
use serde_json::json;

fn pod(i: usize, node: Option<&str>, phase: &str, claims: usize, helper: bool) -> Pod {
    let volumes: Vec<_> = (0..claims)
        .map(|c| json!({"name": format!("v{c}"), "persistentVolumeClaim": {"claimName": format!("data-{i}-{c}")}}))
        .chain([json!({"name": "tmp", "emptyDir": {}})])
        .collect();
    let mounts: Vec<_> = (0..claims)
        .map(|c| json!({"name": format!("v{c}"), "mountPath": format!("/d{c}")}))
        .collect();
    let labels = if helper {
        json!({"app.kubernetes.io/managed-by": "ondeck"})
    } else {
        json!({"app": "x"})
    };
    serde_json::from_value(json!({
        "metadata": {"name": format!("p{i}"), "namespace": format!("ns{}", i % 3),
                     "uid": format!("u{i}"), "labels": labels},
        "spec": {"nodeName": node, "volumes": volumes,
                 "containers": [{"name": "c", "image": "i", "volumeMounts": mounts}]},
        "status": {"phase": phase}
    }))
    .expect("a pod")
}

#[test]
fn the_nodes_to_poll_are_the_nodes_of_the_claims_users() {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut interner = Interner::default();
    let mut pods: Vec<CompactPod> = Vec::new();
    for i in 0..400 {
        let node = match rng.u8(..8) {
            0 => None,
            1 => Some(""),
            n => Some(["w1", "w2", "w3", "w10", "a-node", "w2"][usize::from(n) - 2]),
        };
        let phase = ["Running", "Pending", "Succeeded", "Failed", "Unknown"][rng.usize(..5)];
        let p = pod(i, node, phase, rng.usize(..3), rng.u8(..10) == 0);
        pods.push(CompactPod::from_pod(&p, &mut interner));
        let want = usage_nodes(&claim_users(pods.iter()));
        assert_eq!(claim_nodes(pods.iter()), want, "after {} pods", pods.len());
    }
    let want = usage_nodes(&claim_users(pods.iter()));
    // Something to compare: most nodes, not all (Succeeded, Failed, helpers, no claims).
    assert!(want.len() >= 4, "{want:?}");
    assert!(!want.iter().any(|n| n.is_empty()));
    assert_eq!(PodStore::from_pods(pods).claim_nodes(), want);
    // A node whose only claim user is done, or is one of ondeck's helpers, is not asked.
    let done = [
        CompactPod::from_pod(&pod(1, Some("w9"), "Succeeded", 1, false), &mut interner),
        CompactPod::from_pod(&pod(2, Some("w8"), "Running", 1, true), &mut interner),
        CompactPod::from_pod(&pod(3, Some("w7"), "Running", 0, false), &mut interner),
        CompactPod::from_pod(&pod(4, Some("w6"), "Running", 2, false), &mut interner),
    ];
    assert_eq!(claim_nodes(done.iter()), ["w6"]);
}
