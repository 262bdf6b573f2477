//! The filesystem a simulated container sees: its volume mounts (mount path -> host directory,
//! read-only honoured), scenario-defined read-only files, and the virtual directories above
//! them (`/`, `/proc`, ...). Nothing outside those exists; host paths never leak through
//! `..` or symlinks.

use super::Mount;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What a container path names.
#[derive(Debug, Clone)]
pub enum Node<'a> {
    /// A path inside a mount (file, directory or symlink on the host).
    Host { host: PathBuf, mount: &'a Mount },
    /// A directory that exists only because mounts or files live below it.
    VirtualDir,
    /// A scenario-defined read-only file.
    File { content: &'a str },
}

impl Node<'_> {
    pub fn is_dir(&self) -> bool {
        match self {
            Node::Host { host, .. } => std::fs::symlink_metadata(host).is_ok_and(|m| m.is_dir()),
            Node::VirtualDir => true,
            Node::File { .. } => false,
        }
    }

    pub fn is_file(&self) -> bool {
        match self {
            Node::Host { host, .. } => std::fs::symlink_metadata(host).is_ok_and(|m| m.is_file()),
            Node::VirtualDir => false,
            Node::File { .. } => true,
        }
    }

    /// Whether writes below this node are allowed.
    pub fn writable(&self) -> bool {
        matches!(self, Node::Host { mount, .. } if !mount.read_only)
    }
}

/// The container's view of the world.
#[derive(Debug, Clone)]
pub struct Container {
    mounts: Vec<Mount>,
    files: BTreeMap<String, String>,
}

impl Container {
    pub fn new(mounts: Vec<Mount>, files: BTreeMap<String, String>) -> Self {
        let mut mounts: Vec<Mount> = mounts
            .into_iter()
            .map(|m| Mount {
                mount_path: normalize("/", &m.mount_path),
                ..m
            })
            .collect();
        // Longest mount path first, so nested mounts win.
        mounts.sort_by_key(|m| std::cmp::Reverse(m.mount_path.len()));
        let files = files
            .into_iter()
            .map(|(k, v)| (normalize("/", &k), v))
            .collect();
        Container { mounts, files }
    }

    /// The mount that holds `abs` (already normalized) and the host path for it, whether or
    /// not it exists yet.
    pub fn host_path(&self, abs: &str) -> Option<(PathBuf, &Mount)> {
        self.mounts.iter().find_map(|m| {
            let rest = strip_dir_prefix(abs, &m.mount_path)?;
            let host = if rest.is_empty() {
                m.host_dir.clone()
            } else {
                m.host_dir.join(rest)
            };
            Some((host, m))
        })
    }

    /// Resolves an absolute, normalized container path to what exists there.
    pub fn lookup(&self, abs: &str) -> Option<Node<'_>> {
        if let Some(content) = self.files.get(abs) {
            return Some(Node::File { content });
        }
        if let Some((host, mount)) = self.host_path(abs) {
            std::fs::symlink_metadata(&host).ok()?;
            if !within(&host, &mount.host_dir) {
                return None;
            }
            return Some(Node::Host { host, mount });
        }
        let is_ancestor = |p: &str| strip_dir_prefix(p, abs).is_some_and(|rest| !rest.is_empty());
        if abs == "/"
            || self.mounts.iter().any(|m| is_ancestor(&m.mount_path))
            || self.files.keys().any(|f| is_ancestor(f))
        {
            return Some(Node::VirtualDir);
        }
        None
    }

    /// Entries of a directory, sorted by name. Host directories are read from disk; virtual
    /// directories list the next path component of every mount and file below them.
    pub fn children(&self, abs: &str, node: &Node<'_>) -> std::io::Result<Vec<String>> {
        match node {
            Node::Host { host, .. } => {
                let mut names = Vec::new();
                for e in std::fs::read_dir(host)? {
                    names.push(e?.file_name().to_string_lossy().into_owned());
                }
                names.sort();
                Ok(names)
            }
            Node::VirtualDir => {
                let mut names = BTreeSet::new();
                let paths = self
                    .mounts
                    .iter()
                    .map(|m| m.mount_path.as_str())
                    .chain(self.files.keys().map(String::as_str));
                for p in paths {
                    if let Some(rest) = strip_dir_prefix(p, abs)
                        && let Some(first) = rest.split('/').find(|s| !s.is_empty())
                    {
                        names.insert(first.to_owned());
                    }
                }
                Ok(names.into_iter().collect())
            }
            Node::File { .. } => Err(std::io::Error::from_raw_os_error(libc::ENOTDIR)),
        }
    }
}

/// `Some(rest)` when `path` is `dir` or below it; `rest` has no leading '/'.
fn strip_dir_prefix<'p>(path: &'p str, dir: &str) -> Option<&'p str> {
    if dir == "/" {
        return Some(path.trim_start_matches('/'));
    }
    let rest = path.strip_prefix(dir)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix('/')
    }
}

/// True when `host` (which exists) resolves, through any symlinks, inside `root`.
fn within(host: &Path, root: &Path) -> bool {
    // A symlink itself is fine to list; only where its parent resolves matters, and a final
    // symlink is resolved when it is followed (see `follow`).
    let parent = match host.parent() {
        Some(p) if host != root => p,
        _ => return true,
    };
    match (parent.canonicalize(), root.canonicalize()) {
        (Ok(p), Ok(r)) => p.starts_with(r),
        _ => false,
    }
}

/// Whether following the symlinks of `host` stays within `root`.
pub fn follow_stays_within(host: &Path, root: &Path) -> bool {
    match (host.canonicalize(), root.canonicalize()) {
        (Ok(p), Ok(r)) => p.starts_with(r),
        _ => false,
    }
}

/// Lexically resolves `path` against `cwd` into an absolute path without `.`, `..` or
/// doubled slashes. `..` at the root stays at the root, as in a real filesystem.
pub fn normalize(cwd: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let joined;
    let full = if path.starts_with('/') {
        path
    } else {
        joined = format!("{cwd}/{path}");
        &joined
    };
    for seg in full.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(dir: &Path) -> Container {
        let mounts = vec![
            Mount {
                mount_path: "/data/".into(),
                host_dir: dir.join("data"),
                read_only: false,
            },
            Mount {
                mount_path: "/ro".into(),
                host_dir: dir.join("ro"),
                read_only: true,
            },
        ];
        let files = BTreeMap::from([("/proc/net/tcp".to_owned(), "sl local\n".to_owned())]);
        Container::new(mounts, files)
    }

    #[test]
    fn normalize_is_lexical_and_clamped() {
        assert_eq!(normalize("/", "data/./x/../y"), "/data/y");
        assert_eq!(normalize("/data", "../../.."), "/");
        assert_eq!(normalize("/data", "/a//b/"), "/a/b");
        assert_eq!(normalize("/", "."), "/");
    }

    #[test]
    fn lookup_covers_mounts_files_and_virtual_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("data/sub")).unwrap();
        std::fs::create_dir_all(tmp.path().join("ro")).unwrap();
        std::fs::write(tmp.path().join("secret"), "host").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret"), tmp.path().join("data/link"))
            .unwrap();
        let c = container(tmp.path());
        assert!(matches!(c.lookup("/"), Some(Node::VirtualDir)));
        assert!(matches!(c.lookup("/proc/net"), Some(Node::VirtualDir)));
        assert!(matches!(c.lookup("/proc/net/tcp"), Some(Node::File { .. })));
        assert!(
            c.lookup("/data/sub")
                .is_some_and(|n| n.is_dir() && n.writable())
        );
        assert!(c.lookup("/ro").is_some_and(|n| !n.writable()));
        assert!(c.lookup("/etc").is_none());
        assert!(c.lookup("/data/missing").is_none());
        assert!(c.lookup(&normalize("/data", "../secret")).is_none());
        let root = c.lookup("/").unwrap();
        assert_eq!(c.children("/", &root).unwrap(), vec!["data", "proc", "ro"]);
        let link = c.lookup("/data/link").unwrap();
        let Node::Host { host, mount } = link else {
            panic!("host node")
        };
        assert!(!follow_stays_within(&host, &mount.host_dir));
    }
}
