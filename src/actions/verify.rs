//! Reading a backup archive end to end: gunzip + tar through every entry, counting files and
//! bytes, sha256 of the archive and of each file. The result is the backup's `manifest.json`;
//! a restore is verified by summarising the restored volume the same way and comparing.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// One regular file in an archive.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileDigest {
    /// Path relative to the volume root, without a leading `./`.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What an archive holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArchiveSummary {
    /// Size of the compressed archive.
    pub archive_bytes: u64,
    /// sha256 of the compressed archive.
    pub archive_sha256: String,
    /// Regular files, and the sum of their sizes.
    pub files: u64,
    pub file_bytes: u64,
    pub directories: u64,
    pub other_entries: u64,
    pub entries: Vec<FileDigest>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("archive unreadable at entry {entry}: {source}")]
    Corrupt {
        entry: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open archive: {0}")]
    Open(#[source] std::io::Error),
    #[error("archive sha256 is {actual}, expected {expected}")]
    ArchiveDigest { expected: String, actual: String },
    #[error("{0}")]
    Mismatch(String),
}

/// Counts the bytes and hashes everything read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn clean_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    s.trim_end_matches('/').to_string()
}

/// Reads a tar.gz stream to its very end (including the gzip trailer, so the CRC is checked)
/// and summarises it. Memory stays bounded: files are hashed as they stream by.
pub fn summarize<R: Read>(reader: R) -> Result<ArchiveSummary, VerifyError> {
    let mut hashing = HashingReader {
        inner: reader,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut out = ArchiveSummary::default();
    let mut entry_no = 0u64;
    let corrupt = |entry: u64| move |source| VerifyError::Corrupt { entry, source };
    {
        let gz = flate2::read::GzDecoder::new(&mut hashing);
        let mut archive = tar::Archive::new(gz);
        let entries = archive.entries().map_err(corrupt(0))?;
        let mut buf = vec![0u8; 64 * 1024];
        for entry in entries {
            entry_no += 1;
            let mut entry = entry.map_err(corrupt(entry_no))?;
            let path = clean_path(&entry.path().map_err(corrupt(entry_no))?);
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let mut h = Sha256::new();
                    let mut size = 0u64;
                    loop {
                        let n = entry.read(&mut buf).map_err(corrupt(entry_no))?;
                        if n == 0 {
                            break;
                        }
                        h.update(&buf[..n]);
                        size += n as u64;
                    }
                    out.files += 1;
                    out.file_bytes += size;
                    out.entries.push(FileDigest {
                        path,
                        size,
                        sha256: hex(&h.finalize()),
                    });
                }
                tar::EntryType::Directory => out.directories += 1,
                _ => out.other_entries += 1,
            }
        }
        // Past the end-of-archive blocks: drain the rest of the gzip stream so its trailer
        // (CRC32 and length) is checked.
        let mut gz = archive.into_inner();
        std::io::copy(&mut gz, &mut std::io::sink()).map_err(corrupt(entry_no + 1))?;
    }
    // Bytes after the gzip member would be ignored by `tar xzf`; hash them all the same so the
    // archive digest covers the whole file.
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(corrupt(entry_no + 1))?;
    out.archive_bytes = hashing.bytes;
    out.archive_sha256 = hex(&hashing.hasher.finalize());
    out.entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Verifies an archive file; `expected_sha256` (computed while it was written) must match.
pub fn verify_file(
    path: &Path,
    expected_sha256: Option<&str>,
) -> Result<ArchiveSummary, VerifyError> {
    let f = std::fs::File::open(path).map_err(VerifyError::Open)?;
    let summary = summarize(std::io::BufReader::with_capacity(256 * 1024, f))?;
    if let Some(exp) = expected_sha256
        && exp != summary.archive_sha256
    {
        return Err(VerifyError::ArchiveDigest {
            expected: exp.to_string(),
            actual: summary.archive_sha256,
        });
    }
    Ok(summary)
}

/// Compares the files of a restored volume with the backup's: same paths, sizes and digests.
pub fn compare_files(
    expected: &ArchiveSummary,
    actual: &ArchiveSummary,
) -> Result<(), VerifyError> {
    if expected.files != actual.files || expected.file_bytes != actual.file_bytes {
        return Err(VerifyError::Mismatch(format!(
            "expected {} files / {} bytes, found {} files / {} bytes",
            expected.files, expected.file_bytes, actual.files, actual.file_bytes
        )));
    }
    for (e, a) in expected.entries.iter().zip(&actual.entries) {
        if e != a {
            return Err(VerifyError::Mismatch(format!(
                "file {} differs (expected {} bytes sha256 {}, found {} {} bytes sha256 {})",
                e.path, e.size, e.sha256, a.path, a.size, a.sha256
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (p, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            let _ = b.append_data(&mut h, format!("./{p}"), *data);
        }
        b.into_inner()
            .and_then(|gz| gz.finish())
            .unwrap_or_default()
    }

    #[test]
    fn summarises_files_bytes_and_digests() -> Result<(), VerifyError> {
        let data = archive(&[("a.txt", b"hello"), ("d/b.bin", &[7u8; 70_000])]);
        assert!(!data.is_empty());
        let s = summarize(&data[..])?;
        assert_eq!(s.files, 2);
        assert_eq!(s.file_bytes, 70_005);
        assert_eq!(s.archive_bytes, data.len() as u64);
        assert_eq!(s.archive_sha256, hex(&Sha256::digest(&data)));
        assert_eq!(s.entries[0].path, "a.txt");
        assert_eq!(
            s.entries[0].sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        Ok(())
    }

    #[test]
    fn a_truncated_archive_fails() {
        let data = archive(&[("a.txt", b"hello"), ("big", &[1u8; 200_000])]);
        for cut in [10, data.len() / 2, data.len() - 4] {
            assert!(summarize(&data[..cut]).is_err(), "cut at {cut} passed");
        }
    }

    #[test]
    fn a_flipped_byte_fails() {
        let mut data = archive(&[("a.txt", b"hello world, hello world")]);
        let i = data.len() / 2;
        data[i] ^= 0xff;
        assert!(summarize(&data[..]).is_err());
    }

    #[test]
    fn a_digest_mismatch_fails() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let p = dir.path().join("a.tar.gz");
        std::fs::write(&p, archive(&[("x", b"1")]))?;
        assert!(verify_file(&p, None).is_ok());
        assert!(matches!(
            verify_file(&p, Some("00")),
            Err(VerifyError::ArchiveDigest { .. })
        ));
        Ok(())
    }

    #[test]
    fn compare_finds_a_changed_file() -> Result<(), VerifyError> {
        let a = summarize(&archive(&[("x", b"1"), ("y", b"2")])[..])?;
        let b = summarize(&archive(&[("x", b"1"), ("y", b"3")])[..])?;
        assert!(compare_files(&a, &a).is_ok());
        assert!(compare_files(&a, &b).is_err());
        Ok(())
    }
}
