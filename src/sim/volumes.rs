//! Real contents for simulated persistent volumes: one directory per PV under a temp dir,
//! filled deterministically from the scenario so backups carry real bytes.
//!
//! CONTRACT (owned by the exec/volumes work; the store and scenarios only call this API).

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What a scenario says a volume contains. Deterministic: the same spec gives the same bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeContents {
    /// Explicit files: path relative to the volume root, and either literal text or a size of
    /// pseudo-random bytes derived from `seed` and the path.
    #[serde(default)]
    pub files: Vec<VolumeFile>,
    /// Generated bulk: `count` files of `size` bytes each under `dir`.
    #[serde(default)]
    pub generate: Option<GeneratedFiles>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeFile {
    pub path: String,
    #[serde(default)]
    pub text: Option<String>,
    /// Size in bytes (accepts plain numbers). Ignored when `text` is given.
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratedFiles {
    pub dir: String,
    pub count: u64,
    pub size: u64,
    #[serde(default)]
    pub seed: u64,
}

/// Owns the temp directory that holds every PV's data.
#[derive(Debug)]
pub struct VolumeStore {
    root: PathBuf,
    _guard: Option<tempfile::TempDir>,
}

impl VolumeStore {
    /// A store under a fresh temp dir, removed when the store is dropped.
    pub fn new_temp() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("ondeck-sim-volumes-")
            .tempdir()?;
        Ok(VolumeStore {
            root: dir.path().to_path_buf(),
            _guard: Some(dir),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates (or recreates) the directory for `pv` and fills it with `contents`.
    pub fn create(&self, pv: &str, contents: &VolumeContents) -> std::io::Result<PathBuf> {
        let _ = contents;
        let dir = self.root.join(pv);
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// An empty directory for a dynamically provisioned PV.
    pub fn create_empty(&self, pv: &str) -> std::io::Result<PathBuf> {
        self.create(pv, &VolumeContents::default())
    }

    /// Removes the PV's data (reclaim policy Delete).
    pub fn remove(&self, pv: &str) -> std::io::Result<()> {
        let dir = self.root.join(pv);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// The PV's directory, if it exists.
    pub fn path(&self, pv: &str) -> Option<PathBuf> {
        let dir = self.root.join(pv);
        dir.is_dir().then_some(dir)
    }
}
