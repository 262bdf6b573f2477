//! `tar` inside a simulated container: create (optionally gzip) to stdout, extract or list from
//! stdin, with GNU tar's option forms (`czf - -C /data .`, `-czf - /data`, `-C /data -czf - .`,
//! `--gzip --file=- --directory=/data`, `xzf - -C /restore --strip-components=1`) and its
//! messages and exit codes. Archives are streamed entry by entry, never held in memory.

use super::container::{Container, Node, normalize};
use super::shell::{ExitCode, Io};
use flate2::Compression;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// gzip level for archives we write: fast, because the data is usually incompressible and
/// backups should be limited by the network, not by deflate.
const GZIP_LEVEL: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Extract,
    List,
}

/// A parsed `tar` command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TarArgs {
    pub mode: Option<Mode>,
    pub gzip: bool,
    pub file: Option<String>,
    pub verbose: bool,
    pub strip_components: usize,
    /// Members in order, each with the directory (`-C`) in force when it was named.
    pub members: Vec<(String, String)>,
    /// The last `-C` given, as written.
    pub directory: Option<String>,
    /// The directory in force after every `-C` (where extraction happens).
    pub cwd: String,
}

/// A command line tar refuses, with GNU's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TarUsage {
    #[error("tar: unrecognized option '{0}'")]
    Unrecognized(String),
    #[error("tar: invalid option -- '{0}'")]
    Invalid(char),
    #[error("tar: option requires an argument -- '{0}'")]
    MissingArg(String),
    #[error("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options")]
    NoMode,
    #[error(
        "tar: You may not specify more than one '-Acdtrux', '--delete' or  '--test-label' option"
    )]
    TwoModes,
    #[error("tar: {0}: Invalid number of elements")]
    BadNumber(String),
}

fn set_mode(a: &mut TarArgs, m: Mode) -> Result<(), TarUsage> {
    match a.mode {
        Some(old) if old != m => Err(TarUsage::TwoModes),
        _ => {
            a.mode = Some(m);
            Ok(())
        }
    }
}

/// Applies a short option letter; letters that take an argument get it from `value`.
fn short(
    a: &mut TarArgs,
    cwd: &mut String,
    letter: char,
    value: &mut dyn FnMut() -> Option<String>,
) -> Result<(), TarUsage> {
    match letter {
        'c' => set_mode(a, Mode::Create)?,
        'x' => set_mode(a, Mode::Extract)?,
        't' => set_mode(a, Mode::List)?,
        'z' => a.gzip = true,
        'v' => a.verbose = true,
        'p' | 'o' | 'S' | 'h' | 'P' | 'm' | 'O' => {}
        'f' => a.file = Some(value().ok_or_else(|| TarUsage::MissingArg("f".into()))?),
        'C' => {
            let dir = value().ok_or_else(|| TarUsage::MissingArg("C".into()))?;
            *cwd = normalize(cwd, &dir);
            a.directory = Some(dir);
        }
        other => return Err(TarUsage::Invalid(other)),
    }
    Ok(())
}

pub fn parse_args(args: &[String]) -> Result<TarArgs, TarUsage> {
    let mut a = TarArgs::default();
    let mut cwd = "/".to_owned();
    let mut rest = args.iter().peekable();
    // Old style: the first word is a bundle of letters without a dash (`czf - -C /data .`).
    if let Some(first) = rest.peek().copied()
        && !first.starts_with('-')
    {
        rest.next();
        for letter in first.chars() {
            let mut next = || rest.next().cloned();
            short(&mut a, &mut cwd, letter, &mut next)?;
        }
    }
    let mut only_members = false;
    while let Some(arg) = rest.next() {
        if only_members || !arg.starts_with('-') || arg == "-" {
            a.members.push((cwd.clone(), arg.clone()));
        } else if arg == "--" {
            only_members = true;
        } else if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| rest.next().cloned())
                    .ok_or_else(|| TarUsage::MissingArg(format!("--{name}")))
            };
            match name {
                "create" => set_mode(&mut a, Mode::Create)?,
                "extract" | "get" => set_mode(&mut a, Mode::Extract)?,
                "list" => set_mode(&mut a, Mode::List)?,
                "gzip" | "gunzip" | "ungzip" => a.gzip = true,
                "verbose" => a.verbose = true,
                "file" => a.file = Some(value()?),
                "directory" => {
                    let dir = value()?;
                    cwd = normalize(&cwd, &dir);
                    a.directory = Some(dir);
                }
                "strip-components" => {
                    let v = value()?;
                    a.strip_components = v.parse().map_err(|_| TarUsage::BadNumber(v))?;
                }
                "numeric-owner"
                | "no-same-owner"
                | "same-owner"
                | "no-same-permissions"
                | "same-permissions"
                | "preserve-permissions"
                | "one-file-system"
                | "sparse"
                | "ignore-failed-read"
                | "totals"
                | "no-overwrite-dir"
                | "overwrite"
                | "touch"
                | "warning"
                | "blocking-factor"
                | "checkpoint" => {
                    if inline.is_none() && matches!(name, "blocking-factor") {
                        value()?;
                    }
                }
                _ => return Err(TarUsage::Unrecognized(arg.clone())),
            }
        } else {
            let letters: Vec<char> = arg.chars().skip(1).collect();
            let mut i = 0;
            while i < letters.len() {
                let letter = letters[i];
                i += 1;
                let attached: String = letters[i..].iter().collect();
                let takes_value = matches!(letter, 'f' | 'C');
                let mut value = || {
                    if !attached.is_empty() {
                        Some(attached.clone())
                    } else {
                        rest.next().cloned()
                    }
                };
                short(&mut a, &mut cwd, letter, &mut value)?;
                if takes_value && !attached.is_empty() {
                    break;
                }
            }
        }
    }
    if a.mode.is_none() {
        return Err(TarUsage::NoMode);
    }
    a.cwd = cwd;
    Ok(a)
}

pub fn run(args: &[String], c: &Container, io: &mut Io<'_>) -> ExitCode {
    let a = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            io.err_line(e);
            io.err_line("Try 'tar --help' or 'tar --usage' for more information.");
            return 2;
        }
    };
    if let Some(f) = a.file.as_deref().filter(|f| *f != "-") {
        io.err_line(format_args!("tar: {f}: Cannot open: only '-f -' (stdin/stdout) is supported by the simulated container"));
        io.err_line("tar: Error is not recoverable: exiting now");
        return 2;
    }
    match a.mode {
        Some(Mode::Create) => create(&a, c, io),
        Some(Mode::Extract) => extract(&a, c, io, false),
        Some(Mode::List) | None => extract(&a, c, io, true),
    }
}

fn create(a: &TarArgs, c: &Container, io: &mut Io<'_>) -> ExitCode {
    if a.members.is_empty() {
        io.err_line("tar: Cowardly refusing to create an empty archive");
        io.err_line("Try 'tar --help' or 'tar --usage' for more information.");
        return 2;
    }
    let out: &mut dyn Write = &mut *io.stdout;
    let mut w = Walker {
        c,
        stderr: &mut *io.stderr,
        cancel: io.cancel,
        verbose: a.verbose,
        failed: false,
        warned_root: false,
    };
    let result = if a.gzip {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            out,
            Compression::new(GZIP_LEVEL),
        ));
        w.members(&mut b, &a.members)
            .and_then(|()| b.into_inner()?.finish().map(drop))
    } else {
        let mut b = tar::Builder::new(out);
        w.members(&mut b, &a.members)
            .and_then(|()| b.into_inner().map(drop))
    };
    let failed = w.failed;
    if let Err(e) = result {
        io.err_line(format_args!("tar: -: Cannot write: {}", short_err(&e)));
        io.err_line("tar: Error is not recoverable: exiting now");
        return 2;
    }
    if failed {
        io.err_line("tar: Exiting with failure status due to previous errors");
        return 2;
    }
    0
}

fn short_err(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or_default().to_owned()
}

struct Walker<'c, 'e> {
    c: &'c Container,
    stderr: &'e mut dyn Write,
    cancel: &'e std::sync::atomic::AtomicBool,
    verbose: bool,
    failed: bool,
    warned_root: bool,
}

impl Walker<'_, '_> {
    fn members<W: Write>(
        &mut self,
        b: &mut tar::Builder<W>,
        members: &[(String, String)],
    ) -> std::io::Result<()> {
        b.follow_symlinks(false);
        for (cwd, member) in members {
            let abs = normalize(cwd, member);
            let mut name = member.trim_end_matches('/').to_owned();
            if name.starts_with('/') {
                if !self.warned_root {
                    let _ = writeln!(self.stderr, "tar: Removing leading `/' from member names");
                    self.warned_root = true;
                }
                name = name.trim_start_matches('/').to_owned();
            }
            if name.is_empty() {
                name = ".".into();
            }
            match self.c.lookup(&abs) {
                Some(node) => self.walk(b, &abs, &name, &node)?,
                None => {
                    let _ = writeln!(
                        self.stderr,
                        "tar: {member}: Cannot stat: No such file or directory"
                    );
                    self.failed = true;
                }
            }
        }
        Ok(())
    }

    /// Appends `node` as `name`, and everything below it. Errors returned are write errors
    /// (the archive is unusable); read errors are reported and skipped, as GNU tar does.
    fn walk<W: Write>(
        &mut self,
        b: &mut tar::Builder<W>,
        abs: &str,
        name: &str,
        node: &Node<'_>,
    ) -> std::io::Result<()> {
        if self.cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "client went away",
            ));
        }
        if self.verbose {
            let _ = writeln!(self.stderr, "{name}");
        }
        match node {
            Node::File { content } => {
                let mut h = synthetic_header(tar::EntryType::Regular, 0o444, content.len() as u64);
                b.append_data(&mut h, name, content.as_bytes())?;
            }
            Node::VirtualDir => {
                let mut h = synthetic_header(tar::EntryType::Directory, 0o755, 0);
                b.append_data(&mut h, name, std::io::empty())?;
            }
            Node::Host { host, .. } => {
                let meta = match std::fs::symlink_metadata(host) {
                    Ok(m) => m,
                    Err(e) => {
                        let _ =
                            writeln!(self.stderr, "tar: {name}: Cannot stat: {}", short_err(&e));
                        self.failed = true;
                        return Ok(());
                    }
                };
                if meta.is_dir() {
                    b.append_dir(name, host)?;
                } else if meta.is_file() {
                    let mut file = match std::fs::File::open(host) {
                        Ok(f) => f,
                        Err(e) => {
                            let _ = writeln!(
                                self.stderr,
                                "tar: {name}: Cannot open: {}",
                                short_err(&e)
                            );
                            self.failed = true;
                            return Ok(());
                        }
                    };
                    let mut h = tar::Header::new_gnu();
                    h.set_metadata(&meta);
                    b.append_data(&mut h, name, &mut file)?;
                    return Ok(());
                } else if meta.file_type().is_symlink() {
                    b.append_path_with_name(host, name)?;
                    return Ok(());
                } else {
                    let _ = writeln!(self.stderr, "tar: {name}: socket ignored");
                    return Ok(());
                }
            }
        }
        if node.is_dir() {
            let children = match self.c.children(abs, node) {
                Ok(c) => c,
                Err(e) => {
                    let _ = writeln!(self.stderr, "tar: {name}: Cannot open: {}", short_err(&e));
                    self.failed = true;
                    return Ok(());
                }
            };
            for child in children {
                let child_abs = normalize(abs, &child);
                let child_name = if name == "." {
                    format!("./{child}")
                } else {
                    format!("{name}/{child}")
                };
                if let Some(n) = self.c.lookup(&child_abs) {
                    self.walk(b, &child_abs, &child_name, &n)?;
                }
            }
        }
        Ok(())
    }
}

fn synthetic_header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    h.set_mtime(now);
    h
}

/// Where an archive member goes, relative to the extraction directory: `None` to skip it
/// (it is the directory itself, or fully stripped), `Err` when it may not be written.
fn member_target(path: &Path, strip: usize) -> Result<Option<PathBuf>, String> {
    let mut out = PathBuf::new();
    let mut skipped = 0;
    for comp in path.components() {
        match comp {
            Component::Normal(p) if skipped < strip => {
                skipped += 1;
                let _ = p;
            }
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => return Err("Member name contains '..'".into()),
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

fn extract(a: &TarArgs, c: &Container, io: &mut Io<'_>, list_only: bool) -> ExitCode {
    let dir_shown = a.directory.clone().unwrap_or_else(|| ".".into());
    if !a.members.is_empty() {
        io.err_line(
            "tar: selecting members to extract is not supported by the simulated container",
        );
        io.err_line("tar: Error is not recoverable: exiting now");
        return 2;
    }
    let dest = a.cwd.clone();
    if !list_only {
        match c.lookup(&dest) {
            None => {
                io.err_line(format_args!(
                    "tar: {dir_shown}: Cannot open: No such file or directory"
                ));
                io.err_line("tar: Error is not recoverable: exiting now");
                return 2;
            }
            Some(n @ Node::Host { .. }) if !n.writable() => {
                io.err_line(format_args!(
                    "tar: {dir_shown}: Cannot open: Read-only file system"
                ));
                io.err_line("tar: Error is not recoverable: exiting now");
                return 2;
            }
            Some(n) if !n.is_dir() => {
                io.err_line(format_args!(
                    "tar: {dir_shown}: Cannot open: Not a directory"
                ));
                io.err_line("tar: Error is not recoverable: exiting now");
                return 2;
            }
            Some(_) => {}
        }
    }
    let stdin: &mut dyn Read = &mut *io.stdin;
    let reader: Box<dyn Read + '_> = if a.gzip {
        Box::new(flate2::read::GzDecoder::new(stdin))
    } else {
        Box::new(stdin)
    };
    let mut archive = tar::Archive::new(reader);
    let mut failed = false;
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(io.stderr, "tar: {}", short_err(&e));
            return 2;
        }
    };
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let _ = writeln!(
                    io.stderr,
                    "tar: {}\ntar: Error is not recoverable: exiting now",
                    archive_error(&e)
                );
                return 2;
            }
        };
        let raw = entry.path().map(|p| p.into_owned()).unwrap_or_default();
        let shown = raw.to_string_lossy().into_owned();
        if list_only || a.verbose {
            let _ = writeln!(io.stdout, "{shown}");
        }
        if list_only {
            continue;
        }
        let rel = match member_target(&raw, a.strip_components) {
            Ok(Some(rel)) => rel,
            Ok(None) => continue,
            Err(why) => {
                let _ = writeln!(io.stderr, "tar: {shown}: {why}");
                failed = true;
                continue;
            }
        };
        if let Err(why) = unpack_one(c, &dest, &rel, &mut entry) {
            let _ = writeln!(io.stderr, "tar: {shown}: {why}");
            failed = true;
        }
    }
    // Read what the client still sends (gzip trailer, padding) so its writes do not fail.
    drop(archive);
    let _ = std::io::copy(io.stdin, &mut std::io::sink());
    if failed {
        io.err_line("tar: Exiting with failure status due to previous errors");
        return 2;
    }
    0
}

fn archive_error(e: &std::io::Error) -> String {
    let s = short_err(e);
    if s.contains("invalid gzip header") || s.contains("corrupt deflate stream") {
        "Child returned status 1 (gzip: stdin: not in gzip format)".into()
    } else {
        s
    }
}

fn unpack_one<R: Read>(
    c: &Container,
    dest: &str,
    rel: &Path,
    entry: &mut tar::Entry<'_, R>,
) -> Result<(), String> {
    let abs = normalize(dest, &rel.to_string_lossy());
    let Some((host, mount)) = c.host_path(&abs) else {
        return Err("Cannot open: Read-only file system".into());
    };
    if mount.read_only {
        return Err("Cannot open: Read-only file system".into());
    }
    if entry.header().entry_type().is_hard_link() {
        return Err("Cannot hard link: not supported by the simulated container".into());
    }
    let parent = host.parent().ok_or("Cannot open: Invalid argument")?;
    std::fs::create_dir_all(parent).map_err(|e| format!("Cannot mkdir: {}", short_err(&e)))?;
    let (Ok(canon_parent), Ok(canon_root)) = (parent.canonicalize(), mount.host_dir.canonicalize())
    else {
        return Err("Cannot open: No such file or directory".into());
    };
    if !canon_parent.starts_with(&canon_root) {
        return Err("Cannot open: Not a directory".into());
    }
    if entry.header().entry_type().is_dir() && host.is_dir() {
        return Ok(());
    }
    if std::fs::symlink_metadata(&host).is_ok_and(|m| m.file_type().is_symlink()) {
        let _ = std::fs::remove_file(&host);
    }
    entry.set_preserve_mtime(true);
    entry
        .unpack(&host)
        .map(drop)
        .map_err(|e| format!("Cannot open: {}", short_err(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_the_usual_backup_forms() {
        let a = parse_args(&args("czf - -C /data .")).unwrap();
        assert_eq!(
            (a.mode, a.gzip, a.file.as_deref()),
            (Some(Mode::Create), true, Some("-"))
        );
        assert_eq!(a.members, vec![("/data".into(), ".".into())]);

        let a = parse_args(&args("-czf - /data")).unwrap();
        assert_eq!(a.members, vec![("/".into(), "/data".into())]);

        let a = parse_args(&args("-C /data -czf - .")).unwrap();
        assert_eq!(a.members, vec![("/data".into(), ".".into())]);

        let a = parse_args(&args("--create --gzip --file=- --directory=/data .")).unwrap();
        assert_eq!((a.mode, a.gzip), (Some(Mode::Create), true));
        assert_eq!(a.members, vec![("/data".into(), ".".into())]);

        let a = parse_args(&args("-c -z -f - -C/data sub -C .. other")).unwrap();
        assert_eq!(
            a.members,
            vec![("/data".into(), "sub".into()), ("/".into(), "other".into())]
        );

        let a = parse_args(&args("xzf - -C /restore --strip-components=1")).unwrap();
        assert_eq!(
            (a.mode, a.strip_components, a.cwd.as_str()),
            (Some(Mode::Extract), 1, "/restore")
        );

        let a = parse_args(&args("-xzvf - --numeric-owner -C /r")).unwrap();
        assert!(a.verbose && a.gzip);
    }

    #[test]
    fn refuses_bad_command_lines() {
        assert_eq!(parse_args(&args("-zf -")), Err(TarUsage::NoMode));
        assert_eq!(parse_args(&args("-cxf -")), Err(TarUsage::TwoModes));
        assert_eq!(parse_args(&args("-cQ")), Err(TarUsage::Invalid('Q')));
        assert!(matches!(
            parse_args(&args("-c --bogus")),
            Err(TarUsage::Unrecognized(_))
        ));
        assert!(matches!(
            parse_args(&args("-cf")),
            Err(TarUsage::MissingArg(_))
        ));
        assert!(matches!(
            parse_args(&args("-x --strip-components=x")),
            Err(TarUsage::BadNumber(_))
        ));
    }

    #[test]
    fn member_targets_strip_and_refuse_parent_dirs() {
        assert_eq!(
            member_target(Path::new("./a/b"), 0),
            Ok(Some(PathBuf::from("a/b")))
        );
        assert_eq!(
            member_target(Path::new("./a/b"), 1),
            Ok(Some(PathBuf::from("b")))
        );
        assert_eq!(member_target(Path::new("./"), 0), Ok(None));
        assert_eq!(
            member_target(Path::new("/abs/x"), 0),
            Ok(Some(PathBuf::from("abs/x")))
        );
        assert!(member_target(Path::new("a/../../x"), 0).is_err());
    }
}
