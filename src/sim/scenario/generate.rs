//! The compact `generate:` block: thousands of namespaces' worth of pods, PVCs and secrets,
//! deterministic for a seed, for benchmarks and the `large` scenario.

use super::ScenarioError;
use super::model::*;

fn bucket<T: Copy>(i: u32, seed: u64, items: &[T]) -> T {
    let h = (u64::from(i).wrapping_mul(0x9e3779b97f4a7c15) ^ seed).rotate_left(13);
    items[(h % items.len() as u64) as usize]
}

/// Appends the generated objects to the scenario.
pub fn expand(
    g: &GenerateSpec,
    sc: &mut Scenario,
    nodes: &mut Vec<NodeSpec>,
) -> Result<(), ScenarioError> {
    let n_ns = g.namespaces.max(1);
    for i in 0..g.nodes {
        nodes.push(NodeSpec {
            name: format!("node-{i:03}"),
            ready: true,
            roles: if i == 0 {
                vec!["control-plane".into()]
            } else {
                vec![]
            },
            ..NodeSpec::default()
        });
    }
    let ns = |i: u32| format!("team-{:03}", i % n_ns);
    for i in 0..n_ns {
        sc.namespaces.push(ns(i));
    }
    let class = g
        .storage_class
        .clone()
        .or_else(|| sc.storage_classes.first().map(|c| c.name.clone()));
    let sizes = ["1Gi", "5Gi", "10Gi", "20Gi", "50Gi", "100Gi"];
    for i in 0..g.pvcs {
        sc.pvcs.push(PvcSpec {
            namespace: ns(i),
            name: format!("data-{i:05}"),
            size: Size(bucket(i, g.seed, &sizes).to_string()),
            storage_class: class.clone(),
            reclaim_policy: Some(if i % 4 == 0 {
                "Retain".into()
            } else {
                "Delete".into()
            }),
            created: Some(RelTime(-i64::from(i % 90 + 1) * 86_400)),
            ..PvcSpec::default()
        });
    }
    let states = [
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::NotReady,
        PodState::CrashLoopBackOff,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::OOMKilled,
        PodState::Running,
        PodState::Running,
        PodState::ImagePullBackOff,
        PodState::Running,
        PodState::Pending,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Running,
        PodState::Evicted,
    ];
    for i in 0..g.pods {
        let app = format!("app-{:04}", i / 3);
        let state = bucket(i, g.seed, &states);
        let volumes = if i < g.pvcs && i % 4 != 3 && state != PodState::Pending {
            vec![MountSpec {
                claim: format!("data-{i:05}"),
                mount_path: "/data".into(),
                read_only: false,
            }]
        } else {
            vec![]
        };
        sc.pods.push(PodSpec {
            namespace: ns(i),
            name: format!(
                "{app}-{}-{}",
                super::build::name_hash(&app, 10),
                super::build::name_hash(&format!("{i}"), 5)
            ),
            state,
            owner: Some(OwnerSpec {
                kind: "Deployment".into(),
                name: app.clone(),
            }),
            created: Some(RelTime(-i64::from(i % 20 + 1) * 3600)),
            restarts: if state == PodState::CrashLoopBackOff {
                3 + i % 40
            } else {
                0
            },
            volumes,
            ..PodSpec::default()
        });
    }
    let expiries = [
        RelTime(-2 * 86_400),
        RelTime(3 * 86_400),
        RelTime(20 * 86_400),
        RelTime(365 * 86_400),
    ];
    for i in 0..g.secrets {
        let e = expiries[(i % 4) as usize];
        sc.secrets.push(SecretSpec {
            namespace: ns(i),
            name: format!("tls-{i:05}"),
            expires: Some(e),
            common_name: Some(format!("bulk-{}.example.com", i % 4)),
            ..SecretSpec::default()
        });
    }
    for i in 0..g.ingresses.min(g.secrets) {
        sc.ingresses.push(IngressSpec {
            namespace: ns(i),
            name: format!("web-{i:05}"),
            class: Some("nginx".into()),
            tls: vec![IngressTlsSpec {
                secret_name: format!("tls-{i:05}"),
                hosts: vec![format!("app-{i:05}.example.com")],
            }],
            created: None,
        });
    }
    Ok(())
}
