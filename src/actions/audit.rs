//! The audit trail of guarded operations: one JSON object per line in `audit.jsonl` (0600),
//! appended and fsync'd before the operation is reported done.

use super::{ActionError, Result};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// One guarded operation, as recorded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditRecord {
    pub time: String,
    /// `delete`, `rescue`, `restore`, `backup`.
    pub action: String,
    pub os_user: String,
    pub kube_user: Option<String>,
    pub context: String,
    pub server: String,
    /// `namespace/name` of the claim.
    pub object: String,
    pub uid: Option<String>,
    pub pv: Option<String>,
    pub policy_before: Option<String>,
    pub policy_after: Option<String>,
    pub backup_path: Option<String>,
    pub sha256: Option<String>,
    pub bytes: Option<u64>,
    /// `deleted`, `terminating: ...`, `aborted: ...`, `failed: ...`, `rescued`, `restored`.
    pub outcome: String,
}

/// The user running ondeck: `$USER`/`$LOGNAME`, else the passwd entry, else the uid.
pub fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var)
            && !u.is_empty()
        {
            return u;
        }
    }
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    passwd_name(uid).unwrap_or_else(|| format!("uid {uid}"))
}

/// The login name of `uid` from the passwd database (reentrant lookup).
fn passwd_name(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: passwd is plain data filled by getpwuid_r, which writes only into `pwd` and
    // `buf` (its length is passed); `result` is null or points at `pwd`.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = std::ffi::CStr::from_ptr(pwd.pw_name)
            .to_string_lossy()
            .into_owned();
        (!name.is_empty()).then_some(name)
    }
}

/// The default audit log: `$XDG_STATE_HOME/ondeck/audit.jsonl`.
pub fn default_path() -> Option<PathBuf> {
    crate::config::state_dir().map(|d| d.join("audit.jsonl"))
}

/// `record` with every string field cleaned of control characters and escape sequences.
pub fn clean_record(record: &AuditRecord) -> AuditRecord {
    let c = |s: &str| crate::sanitize::display_line(s).into_owned();
    let o = |s: &Option<String>| s.as_deref().map(c);
    AuditRecord {
        time: c(&record.time),
        action: c(&record.action),
        os_user: c(&record.os_user),
        kube_user: o(&record.kube_user),
        context: c(&record.context),
        server: c(&record.server),
        object: c(&record.object),
        uid: o(&record.uid),
        pv: o(&record.pv),
        policy_before: o(&record.policy_before),
        policy_after: o(&record.policy_after),
        backup_path: o(&record.backup_path),
        sha256: o(&record.sha256),
        bytes: record.bytes,
        outcome: c(&record.outcome),
    }
}

/// Appends `record` as one line and fsyncs the file.
pub fn append(path: &Path, record: &AuditRecord) -> Result<()> {
    let what = || format!("audit log {}", path.display());
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(|e| ActionError::io(what(), e))?;
    }
    // Names, users and outcomes carry text from the cluster: the audit line holds none of its
    // control characters or escape sequences (not even JSON-escaped).
    let record = clean_record(record);
    let mut line = serde_json::to_vec(&record).map_err(|e| ActionError::io(what(), e.into()))?;
    line.push(b'\n');
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ActionError::io(what(), e))?;
    // One write call for the whole line: appends from concurrent ondecks do not interleave.
    f.write_all(&line).map_err(|e| ActionError::io(what(), e))?;
    f.sync_all().map_err(|e| ActionError::io(what(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn record(outcome: &str) -> AuditRecord {
        AuditRecord {
            time: "2026-11-21T10:00:00Z".into(),
            action: "delete".into(),
            os_user: "sre".into(),
            kube_user: Some("alice".into()),
            context: "prod".into(),
            server: "https://k:6443".into(),
            object: "monitoring/grafana-old".into(),
            uid: Some("u-1".into()),
            pv: Some("pv-1".into()),
            policy_before: Some("Delete".into()),
            policy_after: Some("Retain".into()),
            backup_path: Some("/b/x".into()),
            sha256: Some("ab".into()),
            bytes: Some(10),
            outcome: outcome.into(),
        }
    }

    #[test]
    fn appends_one_json_line_per_record_private() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| ActionError::io("tempdir", e))?;
        let path = dir.path().join("state/audit.jsonl");
        append(&path, &record("deleted"))?;
        append(&path, &record("aborted: wrong name"))?;
        let text = std::fs::read_to_string(&path).map_err(|e| ActionError::io("read", e))?;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let first: serde_json::Value =
            serde_json::from_str(lines[0]).map_err(|e| ActionError::io("json", e.into()))?;
        for key in [
            "time",
            "os_user",
            "kube_user",
            "context",
            "server",
            "object",
            "uid",
            "pv",
            "policy_before",
            "policy_after",
            "backup_path",
            "sha256",
            "bytes",
            "outcome",
        ] {
            assert!(first.get(key).is_some(), "missing {key}");
        }
        assert_eq!(first["outcome"], "deleted");
        let back: AuditRecord =
            serde_json::from_str(lines[1]).map_err(|e| ActionError::io("json", e.into()))?;
        assert_eq!(back, record("aborted: wrong name"));
        let mode = std::fs::metadata(&path)
            .map_err(|e| ActionError::io("stat", e))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        Ok(())
    }

    #[test]
    fn audit_lines_hold_no_control_characters_whatever_the_cluster_sent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let hostile = "x\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\r\nFAKE\u{202e}txt";
        let mut r = record(&format!("terminating: {hostile}"));
        r.object = format!("ns/{hostile}");
        r.kube_user = Some(hostile.into());
        r.context = hostile.into();
        append(&path, &r).expect("appended");
        let bytes = std::fs::read(&path).expect("read");
        let text = String::from_utf8(bytes.clone()).expect("UTF-8");
        assert_eq!(text.matches('\n').count(), 1, "one line: {text:?}");
        for (i, b) in bytes.iter().enumerate() {
            assert!(
                *b >= 0x20 || (*b == b'\n' && i == bytes.len() - 1),
                "byte {b:#x} at {i}: {text:?}"
            );
        }
        assert!(
            !text.contains("\\u001b") && !text.contains("\\u0007"),
            "{text}"
        );
        assert!(
            !text
                .chars()
                .any(|c| ('\u{80}'..='\u{9f}').contains(&c) || c == '\u{202e}'),
            "{text}"
        );
        let back: AuditRecord = serde_json::from_str(text.trim_end()).expect("parses");
        assert!(back.object.starts_with("ns/x") && back.object.contains("FAKE"));
    }
}
