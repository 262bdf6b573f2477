//! Real contents for simulated persistent volumes: one directory per PV under a temp dir,
//! filled deterministically from the scenario so backups carry real bytes.
//!
//! CONTRACT (owned by the exec/volumes work; the store and scenarios only call this API).
//!
//! Pseudo-random file contents come from a small wyrand generator seeded from the file's `seed`
//! and its path (hashed with SHA-256), written in 1 MiB chunks: a 1 GiB volume takes a few
//! seconds, and the bytes never depend on a third-party crate's generator staying stable.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

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

/// Why a volume spec or PV name was refused. Surfaces as `io::ErrorKind::InvalidInput` from
/// [`VolumeStore::create`], with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeError {
    #[error("volume path {path:?} must be relative to the volume root (no leading '/')")]
    Absolute { path: String },
    #[error("volume path {path:?} escapes the volume root ('..' is not allowed)")]
    Escapes { path: String },
    #[error("volume path {path:?} is empty or names the volume root itself")]
    Empty { path: String },
    #[error("PV name {name:?} is not a plain directory name")]
    BadPvName { name: String },
    #[error("generated file count {count} is over the limit of {limit}")]
    TooManyFiles { count: u64, limit: u64 },
}

impl From<VolumeError> for std::io::Error {
    fn from(e: VolumeError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// Upper bound on `generate.count`: a typo in a scenario must not fill the disk with inodes.
pub const MAX_GENERATED_FILES: u64 = 1_000_000;

const CHUNK: usize = 1 << 20;

/// Checks that `path` is a non-empty path that stays inside the volume root, and returns it
/// with `.` components removed.
pub fn safe_relative_path(path: &str) -> Result<PathBuf, VolumeError> {
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(VolumeError::Escapes {
                    path: path.to_owned(),
                });
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(VolumeError::Absolute {
                    path: path.to_owned(),
                });
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(VolumeError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(out)
}

impl VolumeContents {
    /// Checks every path of the spec without touching the disk (scenario loading uses it to
    /// report errors early).
    pub fn validate(&self) -> Result<(), VolumeError> {
        for f in &self.files {
            safe_relative_path(&f.path)?;
        }
        if let Some(g) = &self.generate {
            safe_relative_path(&g.dir)?;
            if g.count > MAX_GENERATED_FILES {
                return Err(VolumeError::TooManyFiles {
                    count: g.count,
                    limit: MAX_GENERATED_FILES,
                });
            }
        }
        Ok(())
    }

    /// Total bytes this spec writes (text lengths plus sizes).
    pub fn total_bytes(&self) -> u64 {
        let explicit: u64 = self
            .files
            .iter()
            .map(|f| match &f.text {
                Some(t) => t.len() as u64,
                None => f.size.unwrap_or(0),
            })
            .sum();
        let generated = self
            .generate
            .as_ref()
            .map_or(0, |g| g.count.saturating_mul(g.size));
        explicit.saturating_add(generated)
    }
}

/// Name of the `index`-th generated file (zero-padded so listings sort naturally).
pub fn generated_file_name(index: u64, count: u64) -> String {
    let width = count.saturating_sub(1).max(1).to_string().len().max(5);
    format!("file-{index:0width$}.bin")
}

/// Fills `dir` (which must exist) with `contents`.
pub fn fill_dir(dir: &Path, contents: &VolumeContents) -> std::io::Result<()> {
    contents.validate()?;
    let mut buf = vec![0u8; CHUNK];
    for f in &contents.files {
        let rel = safe_relative_path(&f.path)?;
        let target = dir.join(&rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match &f.text {
            Some(text) => std::fs::write(&target, text.as_bytes())?,
            None => write_random_file(
                &target,
                f.size.unwrap_or(0),
                file_seed(f.seed, &rel),
                &mut buf,
            )?,
        }
    }
    if let Some(g) = &contents.generate {
        let rel_dir = safe_relative_path(&g.dir)?;
        let gen_dir = dir.join(&rel_dir);
        std::fs::create_dir_all(&gen_dir)?;
        for i in 0..g.count {
            let name = generated_file_name(i, g.count);
            let rel = rel_dir.join(&name);
            write_random_file(
                &gen_dir.join(&name),
                g.size,
                file_seed(g.seed, &rel),
                &mut buf,
            )?;
        }
    }
    Ok(())
}

/// The generator seed of one file: the spec's seed mixed with the file's relative path.
fn file_seed(seed: u64, rel: &Path) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(rel.to_string_lossy().as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// wyrand: tiny, fast, and fixed here so the bytes never change under us.
struct WyRand(u64);

impl WyRand {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(self.0).wrapping_mul(u128::from(self.0 ^ 0xe703_7ed1_a0b4_28db));
        ((t >> 64) as u64) ^ (t as u64)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let last = self.next_u64().to_le_bytes();
            rest.copy_from_slice(&last[..rest.len()]);
        }
    }
}

fn write_random_file(path: &Path, size: u64, seed: u64, buf: &mut [u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    let mut rng = WyRand(seed);
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        let chunk = &mut buf[..n];
        rng.fill(chunk);
        file.write_all(chunk)?;
        left -= n as u64;
    }
    Ok(())
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

    /// A store over an existing directory that the caller owns (nothing is removed on drop).
    pub fn at(root: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&root)?;
        Ok(VolumeStore { root, _guard: None })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn pv_dir(&self, pv: &str) -> Result<PathBuf, VolumeError> {
        let mut parts = Path::new(pv).components();
        match (parts.next(), parts.next()) {
            (Some(Component::Normal(_)), None) => Ok(self.root.join(pv)),
            _ => Err(VolumeError::BadPvName {
                name: pv.to_owned(),
            }),
        }
    }

    /// Creates (or recreates, emptied) the directory for `pv` and fills it with `contents`.
    /// A path that escapes the volume root fails with `InvalidInput` before anything is
    /// written.
    pub fn create(&self, pv: &str, contents: &VolumeContents) -> std::io::Result<PathBuf> {
        contents.validate()?;
        let dir = self.pv_dir(pv)?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::create_dir_all(&dir)?;
        fill_dir(&dir, contents)?;
        tracing::debug!(
            pv,
            bytes = contents.total_bytes(),
            "filled simulated volume"
        );
        Ok(dir)
    }

    /// An empty directory for a dynamically provisioned PV.
    pub fn create_empty(&self, pv: &str) -> std::io::Result<PathBuf> {
        self.create(pv, &VolumeContents::default())
    }

    /// Removes the PV's data (reclaim policy Delete).
    pub fn remove(&self, pv: &str) -> std::io::Result<()> {
        let dir = self.pv_dir(pv)?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// The PV's directory, if it exists.
    pub fn path(&self, pv: &str) -> Option<PathBuf> {
        let dir = self.pv_dir(pv).ok()?;
        dir.is_dir().then_some(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sha256 over every file's relative path and bytes, in sorted order.
    fn tree_digest(root: &Path) -> String {
        let mut files = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        files.sort();
        let mut h = Sha256::new();
        for f in files {
            h.update(f.strip_prefix(root).unwrap().to_string_lossy().as_bytes());
            h.update(std::fs::read(&f).unwrap());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn spec(seed: u64) -> VolumeContents {
        VolumeContents {
            files: vec![
                VolumeFile {
                    path: "etc/app.conf".into(),
                    text: Some("a=1\n".into()),
                    size: None,
                    seed: 0,
                },
                VolumeFile {
                    path: "data/blob.bin".into(),
                    text: None,
                    size: Some(3 * 1024 * 1024 + 5),
                    seed,
                },
            ],
            generate: Some(GeneratedFiles {
                dir: "gen".into(),
                count: 12,
                size: 4097,
                seed,
            }),
        }
    }

    #[test]
    fn same_spec_gives_same_bytes() {
        let store = VolumeStore::new_temp().unwrap();
        let a = store.create("pv-a", &spec(7)).unwrap();
        let b = store.create("pv-b", &spec(7)).unwrap();
        assert_eq!(tree_digest(&a), tree_digest(&b));
        assert_eq!(
            std::fs::metadata(a.join("data/blob.bin")).unwrap().len(),
            3 * 1024 * 1024 + 5
        );
        assert_eq!(
            std::fs::read_to_string(a.join("etc/app.conf")).unwrap(),
            "a=1\n"
        );
        assert!(a.join("gen").join(generated_file_name(11, 12)).is_file());
    }

    #[test]
    fn different_seed_gives_different_bytes() {
        let store = VolumeStore::new_temp().unwrap();
        let a = store.create("pv-a", &spec(1)).unwrap();
        let b = store.create("pv-b", &spec(2)).unwrap();
        assert_ne!(tree_digest(&a), tree_digest(&b));
        assert_ne!(
            std::fs::read(a.join("data/blob.bin")).unwrap(),
            std::fs::read(b.join("data/blob.bin")).unwrap()
        );
    }

    #[test]
    fn different_paths_get_different_bytes() {
        let store = VolumeStore::new_temp().unwrap();
        let a = store.create("pv", &spec(3)).unwrap();
        let g = a.join("gen");
        assert_ne!(
            std::fs::read(g.join(generated_file_name(0, 12))).unwrap(),
            std::fs::read(g.join(generated_file_name(1, 12))).unwrap()
        );
    }

    #[test]
    fn escaping_paths_are_rejected() {
        let store = VolumeStore::new_temp().unwrap();
        for bad in ["../x", "a/../../x", "/etc/passwd", "", "."] {
            let c = VolumeContents {
                files: vec![VolumeFile {
                    path: bad.into(),
                    text: Some("x".into()),
                    size: None,
                    seed: 0,
                }],
                generate: None,
            };
            let err = store.create("pv", &c).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
            assert!(!err.to_string().is_empty());
        }
        let c = VolumeContents {
            files: vec![],
            generate: Some(GeneratedFiles {
                dir: "../up".into(),
                count: 1,
                size: 1,
                seed: 0,
            }),
        };
        assert!(
            store
                .create("pv", &c)
                .unwrap_err()
                .to_string()
                .contains("escapes")
        );
        assert!(!store.root().parent().unwrap().join("up").exists());
        assert!(store.create_empty("../pv").is_err());
        assert!(store.create_empty("a/b").is_err());
        assert!(store.path("..").is_none());
    }

    #[test]
    fn recreate_empties_and_remove_deletes() {
        let store = VolumeStore::new_temp().unwrap();
        let dir = store.create("pv", &spec(1)).unwrap();
        let dir2 = store.create_empty("pv").unwrap();
        assert_eq!(dir, dir2);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        store.remove("pv").unwrap();
        assert!(store.path("pv").is_none());
        store.remove("pv").unwrap();
    }

    #[test]
    fn spec_parses_from_yaml() {
        let y = "files:\n  - path: a.txt\n    text: hi\n  - path: b.bin\n    size: 10\n    seed: 3\ngenerate:\n  dir: bulk\n  count: 2\n  size: 5\n";
        let c: VolumeContents = serde_saphyr::from_str(y).unwrap();
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.total_bytes(), 2 + 10 + 10);
    }
}
