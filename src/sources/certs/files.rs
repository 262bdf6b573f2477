//! Local PEM files, directories and globs (`/etc/kubernetes/pki/*.crt`): every certificate of
//! every file, re-read only when a file's (mtime, size, inode) changes.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::{CertBatch, CertRow, CertSource, pem_rows};
use crate::domain::text::Clean;

/// Files in a directory taken as certificates.
const CERT_EXTENSIONS: &[&str] = &["crt", "pem", "cer", "cert"];
/// Files bigger than this are not certificates (and are not read).
const MAX_FILE: u64 = 4 << 20;
/// At most this many files per pattern.
const MAX_FILES: usize = 10_000;

type Stamp = (i64, i64, u64, u64);

/// Remembers each file's stamp and rows.
#[derive(Debug, Default)]
pub struct FileCache {
    entries: HashMap<PathBuf, (Stamp, Vec<CertRow>)>,
    /// How many files were (re-)read by the last scan (tests, benches).
    pub last_reads: usize,
}

fn stamp(m: &std::fs::Metadata) -> Stamp {
    (m.mtime(), m.mtime_nsec(), m.size(), m.ino())
}

/// `*` and `?` matching of one path component.
pub fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The files a pattern names, or why none.
pub fn expand(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(pattern);
    let has_wild = pattern.contains(['*', '?']);
    if !has_wild {
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        if meta.is_dir() {
            let mut out = Vec::new();
            for e in std::fs::read_dir(path)
                .map_err(|e| e.to_string())?
                .flatten()
            {
                let p = e.path();
                let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
                if CERT_EXTENSIONS.contains(&ext) && p.is_file() {
                    out.push(p);
                }
                if out.len() >= MAX_FILES {
                    break;
                }
            }
            out.sort();
            return Ok(out);
        }
        return Ok(vec![path.to_path_buf()]);
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(file_pat) = path.file_name().and_then(|f| f.to_str()) else {
        return Err("a pattern must end in a file name".into());
    };
    if dir.to_string_lossy().contains(['*', '?']) {
        return Err("wildcards only in the last path component".into());
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
    {
        let name = e.file_name();
        if let Some(n) = name.to_str()
            && wildcard(file_pat, n)
            && e.path().is_file()
        {
            out.push(e.path());
            if out.len() >= MAX_FILES {
                break;
            }
        }
    }
    if out.is_empty() {
        return Err("no file matches".into());
    }
    out.sort();
    Ok(out)
}

impl FileCache {
    /// The rows of every pattern, re-reading only changed files.
    pub fn scan(&mut self, patterns: &[String]) -> Vec<CertRow> {
        self.last_reads = 0;
        let mut rows = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for pat in patterns {
            let files = match expand(pat) {
                Ok(f) => f,
                Err(why) => {
                    rows.push(CertRow::unknown(CertSource::File, Clean::new(pat), why));
                    continue;
                }
            };
            for f in files {
                if !seen.insert(f.clone()) {
                    continue;
                }
                rows.extend(self.file_rows(&f));
            }
        }
        self.entries.retain(|p, _| seen.contains(p));
        rows
    }

    fn file_rows(&mut self, path: &Path) -> Vec<CertRow> {
        let loc = path.display().to_string();
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                return vec![CertRow::unknown(
                    CertSource::File,
                    Clean::new(&loc),
                    e.to_string(),
                )];
            }
        };
        let st = stamp(&meta);
        if let Some((old, rows)) = self.entries.get(path)
            && *old == st
        {
            return rows.clone();
        }
        self.last_reads += 1;
        let rows = if meta.len() > MAX_FILE {
            vec![CertRow::unknown(
                CertSource::File,
                Clean::new(&loc),
                "larger than 4 MiB: not a certificate file",
            )]
        } else {
            match std::fs::read(path) {
                Ok(data) => pem_rows(CertSource::File, &loc, &data),
                Err(e) => vec![CertRow::unknown(
                    CertSource::File,
                    Clean::new(&loc),
                    e.to_string(),
                )],
            }
        };
        self.entries.insert(path.to_path_buf(), (st, rows.clone()));
        rows
    }

    /// One scan as a batch.
    pub fn batch(&mut self, patterns: &[String]) -> CertBatch {
        CertBatch {
            origin: CertSource::File,
            rows: self.scan(patterns),
            error: None,
            at: Timestamp::now(),
            diagnoses: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::pki;

    #[test]
    fn wildcards() {
        assert!(wildcard("*.crt", "ca.crt"));
        assert!(wildcard("api?.pem", "api1.pem"));
        assert!(!wildcard("*.crt", "ca.key"));
        assert!(wildcard("*", "x"));
    }

    #[test]
    fn files_are_reread_only_when_they_change() {
        let dir = tempfile::tempdir().unwrap();
        let ca = pki::ca("File Root", -10, 3650);
        let leaf = pki::leaf(&ca, "etcd", &["etcd"], -1, 20);
        std::fs::write(
            dir.path().join("a.crt"),
            format!("{}{}", leaf.cert_pem, ca.cert_pem),
        )
        .unwrap();
        std::fs::write(dir.path().join("b.key"), "garbage").unwrap();
        let pat = vec![format!("{}/*.crt", dir.path().display())];
        let mut cache = FileCache::default();
        let rows = cache.scan(&pat);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(cache.last_reads, 1);
        assert_eq!(rows[0].facts.as_ref().unwrap().subject, "etcd");
        assert!(rows[1].location.ends_with("a.crt#2"));
        assert_eq!(cache.scan(&pat).len(), 2);
        assert_eq!(cache.last_reads, 0, "unchanged file re-read");
        std::fs::write(dir.path().join("a.crt"), leaf.cert_pem.as_bytes()).unwrap();
        assert_eq!(cache.scan(&pat).len(), 1);
        assert_eq!(cache.last_reads, 1);
        let none = cache.scan(&[format!("{}/*.nothing", dir.path().display())]);
        assert!(none[0].unknown.is_some());
    }
}
