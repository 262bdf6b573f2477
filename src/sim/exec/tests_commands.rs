//! Unit tests of the container's command line: parsing, the built-in utilities and `tar`,
//! run directly on in-memory streams (the WebSocket path is covered by tests/sim_exec.rs).

use super::Mount;
use super::container::Container;
use super::shell::{self, Connector, Counter, Io};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;

struct Run {
    code: i32,
    out: Vec<u8>,
    err: String,
}

fn run_with(c: &Container, argv: &[&str], stdin: &[u8]) -> Run {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = stdin;
    let cancel = AtomicBool::new(false);
    let code = {
        let mut io = Io {
            stdin: &mut input,
            stdout: &mut out,
            stderr: &mut err,
            cancel: &cancel,
        };
        shell::run_argv(&argv, c, &mut io)
    };
    Run {
        code,
        out,
        err: String::from_utf8_lossy(&err).into_owned(),
    }
}

fn sh(c: &Container, script: &str) -> Run {
    run_with(c, &["sh", "-c", script], b"")
}

fn fixture(tmp: &Path) -> Container {
    let data = tmp.join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("a.txt"), "hello\n").unwrap();
    std::fs::write(data.join("sub/b.bin"), vec![7u8; 5000]).unwrap();
    std::fs::create_dir_all(tmp.join("ro")).unwrap();
    std::fs::create_dir_all(tmp.join("restore")).unwrap();
    let mounts = vec![
        Mount {
            mount_path: "/data".into(),
            host_dir: data,
            read_only: false,
        },
        Mount {
            mount_path: "/ro".into(),
            host_dir: tmp.join("ro"),
            read_only: true,
        },
        Mount {
            mount_path: "/restore".into(),
            host_dir: tmp.join("restore"),
            read_only: false,
        },
    ];
    let files = BTreeMap::from([(
        "/proc/net/tcp".to_owned(),
        "  sl  local_address\n   0: 0100007F:1F90\n".to_owned(),
    )]);
    Container::new(mounts, files)
}

#[test]
fn parses_scripts() {
    let s = shell::parse("tar czf - -C /data . 2>/dev/null && echo 'a b' \"c\\\"d\" ; find /data -type f | wc -l || true").unwrap();
    assert_eq!(s.len(), 4);
    assert_eq!(
        s[0].1.command.argv,
        vec!["tar", "czf", "-", "-C", "/data", "."]
    );
    assert!(s[0].1.command.stderr_null);
    assert_eq!(
        (s[1].0, s[1].1.command.argv.clone()),
        (
            Connector::And,
            vec!["echo".into(), "a b".into(), "c\"d".into()]
        )
    );
    assert_eq!(
        (s[2].0, s[2].1.counter),
        (Connector::Always, Some(Counter::Lines))
    );
    assert_eq!(s[3].0, Connector::Or);
    assert!(
        shell::parse("cat x 2>&1").unwrap()[0]
            .1
            .command
            .stderr_to_stdout
    );
    assert!(shell::parse("echo 'open").is_err());
    assert!(shell::parse("&& true").is_err());
    assert!(shell::parse("true &&").is_err());
    assert!(shell::parse("ls | grep x").is_err());
    assert!(shell::parse("echo x > /tmp/f").is_err());
    assert!(shell::parse("sleep 1 &").is_err());
    assert_eq!(shell::parse("  ;; # nothing\n").unwrap().len(), 0);
}

#[test]
fn cat_echo_and_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let c = fixture(tmp.path());
    let r = sh(&c, "cat /proc/net/tcp");
    assert_eq!(
        (r.code, r.out.as_slice()),
        (0, "  sl  local_address\n   0: 0100007F:1F90\n".as_bytes())
    );
    let r = run_with(&c, &["/bin/cat", "/data/a.txt"], b"");
    assert_eq!(r.out, b"hello\n");
    let r = run_with(&c, &["cat", "/etc/shadow"], b"");
    assert_eq!(
        (r.code, r.err.as_str()),
        (1, "cat: /etc/shadow: No such file or directory\n")
    );
    let r = run_with(&c, &["cat", "/data"], b"");
    assert_eq!(
        (r.code, r.err.as_str()),
        (1, "cat: /data: Is a directory\n")
    );
    let r = run_with(&c, &["cat", "/data/../../../etc/passwd"], b"");
    assert_eq!(r.code, 1);
    let r = run_with(&c, &["cat"], b"piped");
    assert_eq!(r.out, b"piped");
    let r = run_with(&c, &["kubectl", "version"], b"");
    assert_eq!((r.code, r.err.as_str()), (127, "sh: kubectl: not found\n"));
    let r = sh(
        &c,
        "echo one; false || echo two && echo three; true && exit 4; echo never",
    );
    assert_eq!(
        (r.code, String::from_utf8_lossy(&r.out).as_ref()),
        (4, "one\ntwo\nthree\n")
    );
    let r = sh(&c, "nosuch 2>&1");
    assert_eq!(
        (r.code, r.out.as_slice()),
        (127, b"sh: nosuch: not found\n".as_slice())
    );
    let r = run_with(&c, &["sh"], b"echo from-stdin");
    assert_eq!(r.out, b"from-stdin\n");
}

#[test]
fn ls_du_find_test() {
    let tmp = tempfile::tempdir().unwrap();
    let c = fixture(tmp.path());
    assert_eq!(run_with(&c, &["ls", "/data"], b"").out, b"a.txt\nsub\n");
    assert_eq!(
        run_with(&c, &["ls", "/"], b"").out,
        b"data\nproc\nrestore\nro\n"
    );
    let r = run_with(&c, &["ls", "-la", "/data"], b"");
    let text = String::from_utf8_lossy(&r.out);
    assert!(text.starts_with("total "), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("-rw") && l.ends_with(" a.txt") && l.contains(" 6 ")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with('d') && l.ends_with(" ..")),
        "{text}"
    );
    let r = run_with(&c, &["ls", "/nope"], b"");
    assert_eq!(
        (r.code, r.err.as_str()),
        (2, "ls: cannot access '/nope': No such file or directory\n")
    );
    let r = run_with(&c, &["du", "-sb", "/data"], b"");
    let dirs = std::fs::metadata(tmp.path().join("data")).unwrap().len()
        + std::fs::metadata(tmp.path().join("data/sub"))
            .unwrap()
            .len();
    assert_eq!(
        String::from_utf8_lossy(&r.out),
        format!("{}\t/data\n", 6 + 5000 + dirs)
    );
    let r = run_with(&c, &["du", "-sk", "/data"], b"");
    assert!(String::from_utf8_lossy(&r.out).ends_with("\t/data\n"));
    assert_eq!(run_with(&c, &["du", "-sb", "/x"], b"").code, 1);
    assert_eq!(sh(&c, "find /data -type f | wc -l").out, b"2\n");
    assert_eq!(
        run_with(&c, &["find", "/data", "-type", "f"], b"").out,
        b"/data/a.txt\n/data/sub/b.bin\n"
    );
    assert_eq!(run_with(&c, &["test", "-d", "/data/sub"], b"").code, 0);
    assert_eq!(run_with(&c, &["test", "-d", "/data/a.txt"], b"").code, 1);
    assert_eq!(
        run_with(&c, &["[", "-f", "/proc/net/tcp", "]"], b"").code,
        0
    );
    assert_eq!(run_with(&c, &["test", "-w", "/ro"], b"").code, 1);
}

#[test]
fn sleep_is_bounded_and_cancellable() {
    let tmp = tempfile::tempdir().unwrap();
    let c = fixture(tmp.path());
    let started = std::time::Instant::now();
    assert_eq!(run_with(&c, &["sleep", "0.1"], b"").code, 0);
    assert!(started.elapsed() >= std::time::Duration::from_millis(100));
    assert_eq!(run_with(&c, &["sleep", "soon"], b"").code, 1);
    let cancel = AtomicBool::new(true);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut io = Io {
        stdin: &mut &b""[..],
        stdout: &mut out,
        stderr: &mut err,
        cancel: &cancel,
    };
    assert_eq!(
        shell::run_argv(&["sleep".into(), "100".into()], &c, &mut io),
        130
    );
}

#[test]
fn tar_round_trip_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let c = fixture(tmp.path());
    let r = run_with(&c, &["tar", "czf", "-", "-C", "/data", "."], b"");
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    assert_eq!(&r.out[..2], &[0x1f, 0x8b]);
    let x = run_with(&c, &["tar", "xzf", "-", "-C", "/restore"], &r.out);
    assert_eq!((x.code, x.err.as_str()), (0, ""));
    assert_eq!(
        std::fs::read(tmp.path().join("restore/sub/b.bin")).unwrap(),
        vec![7u8; 5000]
    );
    assert_eq!(
        std::fs::read(tmp.path().join("restore/a.txt")).unwrap(),
        b"hello\n"
    );

    let ro = run_with(&c, &["tar", "xzf", "-", "-C", "/ro"], &r.out);
    assert_eq!(ro.code, 2);
    assert!(ro.err.contains("Read-only file system"), "{}", ro.err);
    assert_eq!(std::fs::read_dir(tmp.path().join("ro")).unwrap().count(), 0);

    let abs = run_with(&c, &["tar", "-czf", "-", "/data"], b"");
    assert_eq!(abs.code, 0);
    assert!(abs.err.contains("Removing leading"));
    let listed = run_with(&c, &["tar", "tzf", "-"], &abs.out);
    let names = String::from_utf8_lossy(&listed.out);
    assert!(names.lines().any(|l| l == "data/sub/b.bin"), "{names}");

    let missing = run_with(&c, &["tar", "czf", "-", "/x"], b"");
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .err
            .contains("tar: /x: Cannot stat: No such file or directory"),
        "{}",
        missing.err
    );

    let plain = run_with(&c, &["tar", "-C", "/data", "-cf", "-", "sub"], b"");
    let strip = run_with(
        &c,
        &["tar", "-xf", "-", "-C", "/restore", "--strip-components=1"],
        &plain.out,
    );
    assert_eq!(strip.code, 0, "{}", strip.err);
    assert!(tmp.path().join("restore/b.bin").is_file());

    let garbage = run_with(
        &c,
        &["tar", "xzf", "-", "-C", "/restore"],
        b"not a gzip stream at all",
    );
    assert_eq!(garbage.code, 2);
    let usage = run_with(&c, &["tar", "--frobnicate"], b"");
    assert_eq!(usage.code, 2);
    assert!(
        usage
            .err
            .starts_with("tar: unrecognized option '--frobnicate'")
    );
}

#[test]
fn tar_extract_cannot_escape_through_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    let c = fixture(tmp.path());
    let mut b = ::tar::Builder::new(Vec::new());
    let mut h = ::tar::Header::new_gnu();
    h.set_entry_type(::tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "evil", tmp.path()).unwrap();
    let mut f = ::tar::Header::new_gnu();
    f.set_size(3);
    f.set_mode(0o644);
    b.append_data(&mut f, "evil/pwned", &b"bad"[..]).unwrap();
    let bytes = b.into_inner().unwrap();
    let r = run_with(&c, &["tar", "xf", "-", "-C", "/restore"], &bytes);
    assert_eq!(r.code, 2, "{}", r.err);
    assert!(!tmp.path().join("pwned").exists());
}
