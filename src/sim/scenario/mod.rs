//! Scenarios: YAML descriptions of a simulated cluster, built in (`assets/scenarios/*.yaml`,
//! embedded in the binary) or read from a file. Parse errors carry file, line and column.

pub mod build;
pub mod generate;
pub mod model;

pub use model::Scenario;
use std::path::PathBuf;

/// Where a scenario comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioSource {
    /// A built-in scenario: `incident` (default), `healthy`, `cleanup`, `large`.
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
    ("incident", include_str!("../../../assets/scenarios/incident.yaml")),
    ("healthy", include_str!("../../../assets/scenarios/healthy.yaml")),
    ("cleanup", include_str!("../../../assets/scenarios/cleanup.yaml")),
    ("large", include_str!("../../../assets/scenarios/large.yaml")),
];

pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}:{line}:{column}: {message}")]
    Parse { file: String, line: u64, column: u64, message: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("unknown scenario {name:?} (built in: {})", built_in_names().join(", "))]
    Unknown { name: String },
    #[error("cannot read scenario {file}: {source}")]
    Io { file: String, source: std::io::Error },
}

/// Parses scenario YAML; `file` names it in errors.
pub fn parse(yaml: &str, file: &str) -> Result<Scenario, ScenarioError> {
    serde_saphyr::from_str::<Scenario>(yaml).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        ScenarioError::Parse { file: file.to_string(), line, column, message: e.to_string() }
    })
}

impl ScenarioSource {
    /// Reads and parses the scenario. Returns it with the name used in errors.
    pub fn load(&self) -> Result<(Scenario, String), ScenarioError> {
        match self {
            ScenarioSource::Named(name) => {
                let (_, yaml) = BUILT_IN.iter().find(|(n, _)| n == name).ok_or_else(|| ScenarioError::Unknown { name: name.clone() })?;
                let file = format!("assets/scenarios/{name}.yaml");
                Ok((parse(yaml, &file)?, file))
            }
            ScenarioSource::Path(p) => {
                let file = p.display().to_string();
                let yaml = std::fs::read_to_string(p).map_err(|source| ScenarioError::Io { file: file.clone(), source })?;
                Ok((parse(&yaml, &file)?, file))
            }
            ScenarioSource::Yaml(y) => Ok((parse(y, "<inline scenario>")?, "<inline scenario>".to_string())),
        }
    }
}

impl std::str::FromStr for ScenarioSource {
    type Err = std::convert::Infallible;

    /// A built-in name, or else a path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(if BUILT_IN.iter().any(|(n, _)| *n == s) { ScenarioSource::Named(s.into()) } else { ScenarioSource::Path(s.into()) })
    }
}
