//! The small utilities a simulated container offers besides `tar`: `cat`, `ls`, `du`, `find`,
//! `test`/`[`, `echo`, `sleep`, `pwd`. Messages and exit codes follow GNU coreutils.

use super::container::{Container, Node, follow_stays_within, normalize};
use super::shell::{ExitCode, Io};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

/// The container's working directory.
pub const CWD: &str = "/";

/// Upper bound on `sleep`, so a stray command cannot pin a thread for long.
pub const MAX_SLEEP: Duration = Duration::from_secs(600);

/// Runs a built-in utility; `None` when there is no such command.
pub fn run(name: &str, args: &[String], c: &Container, io: &mut Io<'_>) -> Option<ExitCode> {
    Some(match name {
        "cat" => cat(args, c, io),
        "ls" => ls(args, c, io),
        "du" => du(args, c, io),
        "find" => find(args, c, io),
        "test" => test(args, c, io),
        "[" => match args.split_last() {
            Some((last, rest)) if last == "]" => test(rest, c, io),
            _ => {
                io.err_line("[: missing ']'");
                2
            }
        },
        "echo" => echo(args, io),
        "sleep" => sleep(args, io),
        "pwd" => {
            let _ = writeln!(io.stdout, "{CWD}");
            0
        }
        _ => return None,
    })
}

fn os_msg(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code)
            .to_string()
            .split(" (os error")
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => e.to_string(),
    }
}

const ENOENT: &str = "No such file or directory";

fn cat(args: &[String], c: &Container, io: &mut Io<'_>) -> ExitCode {
    let mut status = 0;
    let files: Vec<&String> = args.iter().filter(|a| *a != "--").collect();
    if files.is_empty() || files.iter().all(|f| *f == "-") {
        return match std::io::copy(io.stdin, io.stdout) {
            Ok(_) => 0,
            Err(_) => 1,
        };
    }
    for f in files {
        if f.starts_with('-') && f.len() > 1 {
            continue; // -u, -v...: no effect on plain bytes
        }
        let abs = normalize(CWD, f);
        match c.lookup(&abs) {
            None => {
                io.err_line(format_args!("cat: {f}: {ENOENT}"));
                status = 1;
            }
            Some(Node::File { content }) => {
                if io.stdout.write_all(content.as_bytes()).is_err() {
                    return 1;
                }
            }
            Some(n) if n.is_dir() => {
                io.err_line(format_args!("cat: {f}: Is a directory"));
                status = 1;
            }
            Some(Node::Host { host, mount }) => {
                if !follow_stays_within(&host, &mount.host_dir) {
                    io.err_line(format_args!("cat: {f}: {ENOENT}"));
                    status = 1;
                    continue;
                }
                let copied =
                    std::fs::File::open(&host).and_then(|mut file| copy_cancellable(&mut file, io));
                if let Err(e) = copied {
                    io.err_line(format_args!("cat: {f}: {}", os_msg(&e)));
                    status = 1;
                }
            }
            Some(Node::VirtualDir) => status = 1,
        }
    }
    status
}

/// Copies `r` to stdout in 64 KiB pieces, stopping when the client is gone.
pub fn copy_cancellable(r: &mut dyn Read, io: &mut Io<'_>) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        if io.cancelled() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "client went away",
            ));
        }
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        io.stdout.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// Size, mode and times of a node, as `ls -l` and `du` need them.
struct Stat {
    mode: u32,
    nlink: u64,
    uid: u32,
    gid: u32,
    size: u64,
    blocks: u64,
    mtime: i64,
    link_target: Option<String>,
}

fn stat(node: &Node<'_>) -> std::io::Result<Stat> {
    match node {
        Node::Host { host, .. } => {
            let m = std::fs::symlink_metadata(host)?;
            let link_target = m.file_type().is_symlink().then(|| {
                std::fs::read_link(host)
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            Ok(Stat {
                mode: m.permissions().mode(),
                nlink: m.nlink(),
                uid: m.uid(),
                gid: m.gid(),
                size: m.len(),
                blocks: m.blocks(),
                mtime: m.mtime(),
                link_target,
            })
        }
        Node::VirtualDir => Ok(Stat {
            mode: 0o040555,
            nlink: 2,
            uid: 0,
            gid: 0,
            size: 0,
            blocks: 0,
            mtime: 0,
            link_target: None,
        }),
        Node::File { content } => Ok(Stat {
            mode: 0o100444,
            nlink: 1,
            uid: 0,
            gid: 0,
            size: content.len() as u64,
            blocks: 0,
            mtime: 0,
            link_target: None,
        }),
    }
}

pub fn mode_string(mode: u32) -> String {
    let kind = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        0o010000 => 'p',
        0o140000 => 's',
        0o060000 => 'b',
        0o020000 => 'c',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(kind);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

fn owner(id: u32) -> String {
    if id == 0 {
        "root".into()
    } else {
        id.to_string()
    }
}

fn ls_time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%b %e %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| "Jan  1 00:00".into())
}

fn ls(args: &[String], c: &Container, io: &mut Io<'_>) -> ExitCode {
    let (mut long, mut all, mut almost, mut dir_only) = (false, false, false, false);
    let mut paths = Vec::new();
    for a in args {
        match a.strip_prefix('-') {
            Some(flags) if !flags.is_empty() && !a.starts_with("--") => {
                for f in flags.chars() {
                    match f {
                        'l' => long = true,
                        'a' => all = true,
                        'A' => almost = true,
                        'd' => dir_only = true,
                        '1' | 'h' | 'n' | 'F' => {}
                        other => {
                            io.err_line(format_args!("ls: invalid option -- '{other}'"));
                            io.err_line("Try 'ls --help' for more information.");
                            return 2;
                        }
                    }
                }
            }
            _ => paths.push(a.clone()),
        }
    }
    if paths.is_empty() {
        paths.push(".".into());
    }
    let mut status = 0;
    let many = paths.len() > 1;
    for (i, p) in paths.iter().enumerate() {
        let abs = normalize(CWD, p);
        let Some(node) = c.lookup(&abs) else {
            io.err_line(format_args!("ls: cannot access '{p}': {ENOENT}"));
            status = 2;
            continue;
        };
        if dir_only || !node.is_dir() {
            ls_entry(io, p, &node, long);
            continue;
        }
        if many {
            let _ = writeln!(io.stdout, "{}{p}:", if i > 0 { "\n" } else { "" });
        }
        let names = match c.children(&abs, &node) {
            Ok(n) => n,
            Err(e) => {
                io.err_line(format_args!(
                    "ls: cannot open directory '{p}': {}",
                    os_msg(&e)
                ));
                status = 2;
                continue;
            }
        };
        let mut entries: Vec<(String, Node<'_>)> = Vec::new();
        if all {
            entries.push((".".into(), node.clone()));
            let parent = normalize(&abs, "..");
            entries.push(("..".into(), c.lookup(&parent).unwrap_or(Node::VirtualDir)));
        }
        for name in names {
            if name.starts_with('.') && !(all || almost) {
                continue;
            }
            let child = normalize(&abs, &name);
            if let Some(n) = c.lookup(&child) {
                entries.push((name, n));
            }
        }
        if long {
            let blocks: u64 = entries
                .iter()
                .filter_map(|(_, n)| stat(n).ok())
                .map(|s| s.blocks / 2)
                .sum();
            let _ = writeln!(io.stdout, "total {blocks}");
        }
        for (name, n) in &entries {
            ls_entry(io, name, n, long);
        }
    }
    status
}

fn ls_entry(io: &mut Io<'_>, name: &str, node: &Node<'_>, long: bool) {
    if !long {
        let _ = writeln!(io.stdout, "{name}");
        return;
    }
    let Ok(st) = stat(node) else { return };
    let link = st
        .link_target
        .map(|t| format!(" -> {t}"))
        .unwrap_or_default();
    let _ = writeln!(
        io.stdout,
        "{} {:>2} {} {} {:>8} {} {name}{link}",
        mode_string(st.mode),
        st.nlink,
        owner(st.uid),
        owner(st.gid),
        st.size,
        ls_time(st.mtime)
    );
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DuUnit {
    Bytes,
    Kib,
    Mib,
    Human,
}

fn du(args: &[String], c: &Container, io: &mut Io<'_>) -> ExitCode {
    let (mut summarize, mut apparent, mut unit) = (false, false, DuUnit::Kib);
    let mut paths = Vec::new();
    for a in args {
        match a.as_str() {
            "--summarize" => summarize = true,
            "--bytes" => {
                apparent = true;
                unit = DuUnit::Bytes;
            }
            "--apparent-size" => apparent = true,
            "--human-readable" => unit = DuUnit::Human,
            s if s.starts_with('-') && s.len() > 1 && !s.starts_with("--") => {
                for f in s[1..].chars() {
                    match f {
                        's' => summarize = true,
                        'b' => {
                            apparent = true;
                            unit = DuUnit::Bytes;
                        }
                        'k' => unit = DuUnit::Kib,
                        'm' => unit = DuUnit::Mib,
                        'h' => unit = DuUnit::Human,
                        'x' | 'c' => {}
                        other => {
                            io.err_line(format_args!("du: invalid option -- '{other}'"));
                            return 1;
                        }
                    }
                }
            }
            s if s.starts_with("--") => {
                io.err_line(format_args!("du: unrecognized option '{s}'"));
                return 1;
            }
            _ => paths.push(a.clone()),
        }
    }
    if paths.is_empty() {
        paths.push(".".into());
    }
    let mut status = 0;
    for p in &paths {
        let abs = normalize(CWD, p);
        let Some(node) = c.lookup(&abs) else {
            io.err_line(format_args!("du: cannot access '{p}': {ENOENT}"));
            status = 1;
            continue;
        };
        let mut walk = DuWalk {
            c,
            io: &mut *io,
            summarize,
            apparent,
            unit,
        };
        let total = walk.size(&abs, p, &node);
        print_du(walk.io, total, unit, p);
    }
    status
}

struct DuWalk<'c, 'i, 'o> {
    c: &'c Container,
    io: &'i mut Io<'o>,
    summarize: bool,
    apparent: bool,
    unit: DuUnit,
}

impl DuWalk<'_, '_, '_> {
    /// Total size below `abs`, printing subdirectories unless summarizing.
    fn size(&mut self, abs: &str, shown: &str, node: &Node<'_>) -> u64 {
        let own = stat(node).map_or(0, |s| {
            if self.apparent {
                s.size
            } else {
                s.blocks * 512
            }
        });
        if !node.is_dir() || self.io.cancelled() {
            return own;
        }
        let mut total = own;
        for name in self.c.children(abs, node).unwrap_or_default() {
            let child_abs = normalize(abs, &name);
            let child_shown = format!("{}/{name}", shown.trim_end_matches('/'));
            if let Some(child) = self.c.lookup(&child_abs) {
                let sub = self.size(&child_abs, &child_shown, &child);
                if !self.summarize && child.is_dir() {
                    print_du(self.io, sub, self.unit, &child_shown);
                }
                total += sub;
            }
        }
        total
    }
}

fn print_du(io: &mut Io<'_>, bytes: u64, unit: DuUnit, path: &str) {
    let shown = match unit {
        DuUnit::Bytes => bytes.to_string(),
        DuUnit::Kib => bytes.div_ceil(1024).to_string(),
        DuUnit::Mib => bytes.div_ceil(1024 * 1024).to_string(),
        DuUnit::Human => human(bytes),
    };
    let _ = writeln!(io.stdout, "{shown}\t{path}");
}

fn human(bytes: u64) -> String {
    let units = ["K", "M", "G", "T", "P"];
    if bytes < 1024 {
        return if bytes == 0 {
            "0".into()
        } else {
            "4.0K".into()
        };
    }
    let mut v = bytes as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if v < 10.0 {
        format!("{:.1}{}", (v * 10.0).ceil() / 10.0, units[i])
    } else {
        format!("{}{}", v.ceil(), units[i])
    }
}

fn find(args: &[String], c: &Container, io: &mut Io<'_>) -> ExitCode {
    let mut paths = Vec::new();
    let mut kind: Option<char> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-type" => match it.next().map(String::as_str) {
                Some("f") => kind = Some('f'),
                Some("d") => kind = Some('d'),
                Some(other) => {
                    io.err_line(format_args!("find: Unknown argument to -type: {other}"));
                    return 1;
                }
                None => {
                    io.err_line("find: missing argument to `-type'");
                    return 1;
                }
            },
            "-print" => {}
            s if s.starts_with('-') => {
                io.err_line(format_args!("find: unknown predicate `{s}'"));
                return 1;
            }
            _ => paths.push(a.clone()),
        }
    }
    if paths.is_empty() {
        paths.push(".".into());
    }
    let mut status = 0;
    for p in &paths {
        let abs = normalize(CWD, p);
        let Some(node) = c.lookup(&abs) else {
            io.err_line(format_args!("find: '{p}': {ENOENT}"));
            status = 1;
            continue;
        };
        let mut stack = vec![(abs, p.clone(), node)];
        while let Some((abs, shown, node)) = stack.pop() {
            if io.cancelled() {
                return 1;
            }
            let is_dir = node.is_dir();
            let matches = match kind {
                Some('f') => node.is_file(),
                Some(_) => is_dir,
                None => true,
            };
            if matches && writeln!(io.stdout, "{shown}").is_err() {
                return 1;
            }
            if is_dir {
                let mut kids = c.children(&abs, &node).unwrap_or_default();
                kids.reverse();
                for name in kids {
                    let child_abs = normalize(&abs, &name);
                    if let Some(n) = c.lookup(&child_abs) {
                        stack.push((
                            child_abs,
                            format!("{}/{name}", shown.trim_end_matches('/')),
                            n,
                        ));
                    }
                }
            }
        }
    }
    status
}

fn test(args: &[String], c: &Container, io: &mut Io<'_>) -> ExitCode {
    let (negate, args) = match args.split_first() {
        Some((bang, rest)) if bang == "!" => (true, rest),
        _ => (false, args),
    };
    let result = match args {
        [] => false,
        [s] => !s.is_empty(),
        [op, path] if op.len() == 2 && op.starts_with('-') => {
            let node = || c.lookup(&normalize(CWD, path));
            match op.as_str() {
                "-d" => node().is_some_and(|n| n.is_dir()),
                "-f" => node().is_some_and(|n| n.is_file()),
                "-e" | "-r" => node().is_some(),
                "-w" => node().is_some_and(|n| n.writable()),
                "-s" => node()
                    .and_then(|n| stat(&n).ok())
                    .is_some_and(|s| s.size > 0),
                "-z" => path.is_empty(),
                "-n" => !path.is_empty(),
                other => {
                    io.err_line(format_args!("test: {other}: unary operator expected"));
                    return 2;
                }
            }
        }
        [a, op, b] if op == "=" || op == "==" => a == b,
        [a, op, b] if op == "!=" => a != b,
        _ => {
            io.err_line("test: too many arguments");
            return 2;
        }
    };
    if result != negate { 0 } else { 1 }
}

fn echo(args: &[String], io: &mut Io<'_>) -> ExitCode {
    let (newline, words) = match args.split_first() {
        Some((n, rest)) if n == "-n" => (false, rest),
        _ => (true, args),
    };
    let mut line = words.join(" ");
    if newline {
        line.push('\n');
    }
    match io.stdout.write_all(line.as_bytes()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

fn sleep(args: &[String], io: &mut Io<'_>) -> ExitCode {
    let Some(arg) = args.first() else {
        io.err_line("sleep: missing operand");
        return 1;
    };
    let secs = match arg.trim_end_matches('s').parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => s,
        _ => {
            io.err_line(format_args!("sleep: invalid time interval '{arg}'"));
            return 1;
        }
    };
    let total = Duration::from_secs_f64(secs).min(MAX_SLEEP);
    let deadline = std::time::Instant::now() + total;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        if io.cancelled() {
            return 130;
        }
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
    0
}
