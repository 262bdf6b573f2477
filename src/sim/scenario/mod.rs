//! Scenarios: YAML descriptions of a simulated cluster, built in (`assets/scenarios/*.yaml`,
//! embedded in the binary) or read from a file. Parse errors carry file, line and column.

pub mod build;
pub mod certs;
pub mod generate;
pub mod model;
mod pods;

pub use model::Scenario;
use std::path::PathBuf;

/// Where a scenario comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioSource {
    /// A built-in scenario: `incident` (default), `healthy`, `cleanup`, `large`, `safety`.
    Named(String),
    Path(PathBuf),
    Yaml(String),
}

impl Default for ScenarioSource {
    fn default() -> Self {
        ScenarioSource::Named("incident".into())
    }
}

/// The built-in scenarios, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "incident",
        include_str!("../../../assets/scenarios/incident.yaml"),
    ),
    (
        "healthy",
        include_str!("../../../assets/scenarios/healthy.yaml"),
    ),
    (
        "cleanup",
        include_str!("../../../assets/scenarios/cleanup.yaml"),
    ),
    (
        "large",
        include_str!("../../../assets/scenarios/large.yaml"),
    ),
    (
        "safety",
        include_str!("../../../assets/scenarios/safety.yaml"),
    ),
];

pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        file: String,
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("unknown scenario {name:?} (built in: {})", built_in_names().join(", "))]
    Unknown { name: String },
    #[error("cannot read scenario {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// Parses scenario YAML; `file` names it in errors.
pub fn parse(yaml: &str, file: &str) -> Result<Scenario, ScenarioError> {
    serde_saphyr::from_str::<Scenario>(yaml).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        ScenarioError::Parse {
            file: file.to_string(),
            line,
            column,
            message: e.to_string(),
        }
    })
}

impl ScenarioSource {
    /// Reads and parses the scenario. Returns it with the name used in errors.
    pub fn load(&self) -> Result<(Scenario, String), ScenarioError> {
        match self {
            ScenarioSource::Named(name) => {
                let (_, yaml) = BUILT_IN
                    .iter()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| ScenarioError::Unknown { name: name.clone() })?;
                let file = format!("assets/scenarios/{name}.yaml");
                Ok((parse(yaml, &file)?, file))
            }
            ScenarioSource::Path(p) => {
                let file = p.display().to_string();
                let yaml = std::fs::read_to_string(p).map_err(|source| ScenarioError::Io {
                    file: file.clone(),
                    source,
                })?;
                Ok((parse(&yaml, &file)?, file))
            }
            ScenarioSource::Yaml(y) => Ok((
                parse(y, "<inline scenario>")?,
                "<inline scenario>".to_string(),
            )),
        }
    }
}

impl std::str::FromStr for ScenarioSource {
    type Err = std::convert::Infallible;

    /// A built-in name, or else a path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(if BUILT_IN.iter().any(|(n, _)| *n == s) {
            ScenarioSource::Named(s.into())
        } else {
            ScenarioSource::Path(s.into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::resources::ALL;
    use crate::sim::store::Store;
    use crate::sim::volumes::VolumeStore;

    fn load(name: &str) -> Result<Store, Box<dyn std::error::Error>> {
        let (sc, file) = ScenarioSource::Named(name.into()).load()?;
        let store = Store::new(100);
        let volumes = VolumeStore::new_temp()?;
        build::build(
            &sc,
            &mut store.lock(),
            &volumes,
            jiff::Timestamp::now(),
            &file,
        )?;
        Ok(store)
    }

    #[test]
    fn built_in_scenarios_load_and_every_object_is_real_kubernetes_json()
    -> Result<(), Box<dyn std::error::Error>> {
        for name in ["incident", "healthy", "cleanup"] {
            let store = load(name)?;
            let s = store.lock();
            for r in ALL {
                for obj in s.list(r.kind, None) {
                    let normalized = r.kind.normalize((*obj).clone()).map_err(|e| {
                        format!("{name}: {} {}: {e}", r.plural, obj["metadata"]["name"])
                    })?;
                    // Nothing the scenario builder writes may be dropped by the typed round trip.
                    assert_eq!(
                        normalized, *obj,
                        "{name}: {} {} is not canonical",
                        r.plural, obj["metadata"]["name"]
                    );
                }
            }
        }
        Ok(())
    }

    #[test]
    fn incident_has_the_grafana_look_alikes_and_a_terminating_in_use_pvc()
    -> Result<(), Box<dyn std::error::Error>> {
        let store = load("incident")?;
        let s = store.lock();
        use crate::sim::resources::Kind;
        assert!(
            s.get(Kind::PersistentVolumeClaim, "monitoring", "grafana-data")
                .is_some()
        );
        assert!(
            s.get(
                Kind::PersistentVolumeClaim,
                "monitoring",
                "grafana-data-old"
            )
            .is_some()
        );
        let loki = s
            .get(Kind::PersistentVolumeClaim, "logging", "loki-storage")
            .ok_or("loki pvc")?;
        assert!(crate::sim::store::is_deleting(&loki));
        let pods = s.list(Kind::Pod, None);
        let reasons: Vec<String> = pods
            .iter()
            .map(|p| {
                crate::sim::api::table::table(
                        Kind::Pod.info(),
                        std::slice::from_ref(p),
                        0,
                        None,
                    )["rows"][0]["cells"][2]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
            })
            .collect();
        for want in [
            "CrashLoopBackOff",
            "ImagePullBackOff",
            "Pending",
            "Terminating",
            "CreateContainerConfigError",
            "Completed",
            "Running",
        ] {
            assert!(
                reasons.iter().any(|r| r == want),
                "{want} missing from {reasons:?}"
            );
        }
        assert!(
            s.list(Kind::Event, None)
                .iter()
                .any(|e| e["message"].as_str().is_some_and(|m| m.contains('\u{1b}')))
        );
        Ok(())
    }

    #[test]
    fn large_scenario_has_the_promised_counts() -> Result<(), Box<dyn std::error::Error>> {
        let store = load("large")?;
        let s = store.lock();
        use crate::sim::resources::Kind;
        assert_eq!(s.count(Kind::Pod), 5000);
        assert_eq!(s.count(Kind::PersistentVolumeClaim), 2000);
        assert_eq!(s.count(Kind::Secret), 1000);
        let sample = s.list(Kind::Pod, Some("team-007"));
        for p in sample.iter().take(50) {
            Kind::Pod.normalize((**p).clone())?;
        }
        Ok(())
    }

    #[test]
    fn errors_name_file_and_line() {
        let yaml = "name: broken\npods:\n  - namespace: a\n    name: b\n    state: Exploded\n";
        let err = parse(yaml, "broken.yaml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("broken.yaml:5:"), "{err}");
        let yaml = "name: x\npods:\n  - namespace: a\n    name: b\n    started: yesterday\n";
        let err = parse(yaml, "t.yaml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("t.yaml:5:"), "{err}");
        let err = parse("nmae: typo\n", "t.yaml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("t.yaml:1:"), "{err}");
    }

    #[test]
    fn unknown_claims_are_reported() -> Result<(), Box<dyn std::error::Error>> {
        let yaml =
            "pods:\n  - namespace: a\n    name: b\n    volumes: [{ claim: nope, mountPath: /d }]\n";
        let sc = parse(yaml, "t.yaml")?;
        let store = Store::new(10);
        let volumes = VolumeStore::new_temp()?;
        let err = build::build(
            &sc,
            &mut store.lock(),
            &volumes,
            jiff::Timestamp::now(),
            "t.yaml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("t.yaml") && err.contains("nope"), "{err}");
        Ok(())
    }
}
