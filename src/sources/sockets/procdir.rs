//! Reads under the proc root that do not allocate: the root is opened once per scan and
//! everything below it is reached with `*at()` calls on paths built on the stack
//! (`PID/fd`, `PID/limits`), directories are listed with getdents into a caller's buffer, and
//! files are read into reused buffers.
//!
//! `std::fs` allocates for each of these: a `PathBuf` per `join`, a `String` per pid, a
//! `CString` and an `OsString` per directory entry (two allocations per fd of an owner scan),
//! and a fresh `String` per file read. The idle console runs the fd scan every few seconds and
//! reads the kernel settings every second, so these were most of the sockets poll's heap
//! traffic.

use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Read};
use std::mem::MaybeUninit;
use std::ops::ControlFlow;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, Mode, OFlags, RawDir};

/// Size of a getdents buffer: about 600 `/proc/PID/fd` entries per system call.
pub const DENTS_BUF: usize = 16 * 1024;

/// A getdents buffer (on the stack of whoever lists a directory).
pub type DentsBuf = [MaybeUninit<u8>; DENTS_BUF];

/// A fresh getdents buffer.
pub const fn dents_buf() -> DentsBuf {
    [MaybeUninit::uninit(); DENTS_BUF]
}

/// Opens the directory `path` (the proc root, or a test tree).
pub fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Opens the directory `rel` under `dir`.
pub fn open_dir_at(dir: BorrowedFd<'_>, rel: &CStr) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat(
        dir,
        rel,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// `stat(dir/rel).st_size` (following symlinks, like `std::fs::metadata`).
pub fn size_at(dir: BorrowedFd<'_>, rel: &CStr) -> io::Result<u64> {
    let st = rustix::fs::statat(dir, rel, AtFlags::empty())?;
    Ok(u64::try_from(st.st_size).unwrap_or(0))
}

/// Reads the whole file `rel` under `dir` into `buf` (cleared first; its capacity is kept).
pub fn read_at(dir: BorrowedFd<'_>, rel: &CStr, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.clear();
    let fd = rustix::fs::openat(dir, rel, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    // /proc files report size 0: start with room for any of the small files read here, so a
    // reused buffer never grows after its first use.
    if buf.capacity() < 4096 {
        buf.reserve(4096);
    }
    File::from(fd).read_to_end(buf)?;
    Ok(())
}

/// Calls `each` with the name of every entry of the open directory `dir` but `.` and `..`,
/// until it breaks. Stops at the first read error (as `std::fs::read_dir` does), after
/// reporting the entries before it. `dir` must be freshly opened (listing starts at its
/// current position).
pub fn for_each_name(
    dir: BorrowedFd<'_>,
    buf: &mut DentsBuf,
    mut each: impl FnMut(&[u8]) -> ControlFlow<()>,
) -> io::Result<()> {
    let mut it = RawDir::new(dir, &mut buf[..]);
    while let Some(entry) = it.next() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if each(name).is_break() {
            break;
        }
    }
    Ok(())
}

/// The numeric entries of the open directory `root`, ascending, into `out` (cleared first).
/// Entries whose names are not a `u32` (`self`, `net`, ...) are left out; a read error ends
/// the list early, as `std::fs::read_dir` would.
pub fn list_pids_in(root: BorrowedFd<'_>, buf: &mut DentsBuf, out: &mut Vec<u32>) {
    out.clear();
    let _ = for_each_name(root, buf, |name| {
        if let Some(pid) = std::str::from_utf8(name)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        {
            out.push(pid);
        }
        ControlFlow::Continue(())
    });
    out.sort_unstable();
}

/// Number of entries (but `.` and `..`) in the open directory `dir`.
pub fn count_entries(dir: BorrowedFd<'_>, buf: &mut DentsBuf) -> io::Result<u64> {
    let mut n = 0u64;
    for_each_name(dir, buf, |_| {
        n += 1;
        ControlFlow::Continue(())
    })?;
    Ok(n)
}

/// `PID/leaf` as a NUL-terminated path, on the stack.
pub struct PidPath {
    buf: [u8; 48],
    len: usize,
}

impl PidPath {
    /// `leaf` is one of this module's callers' fixed names (`fd`, `limits`, `comm`); one too
    /// long for the buffer, or with a NUL, gives `None`.
    pub fn new(pid: u32, leaf: &str) -> Option<PidPath> {
        use std::io::Write;
        let mut buf = [0u8; 48];
        if leaf.as_bytes().contains(&0) {
            return None;
        }
        // Writing into the array's slice: no allocation; too long fails (and keeps a NUL).
        let room = buf.len() - 1;
        let mut w = &mut buf[..room];
        write!(w, "{pid}/{leaf}").ok()?;
        let len = room - w.len();
        Some(PidPath { buf, len })
    }

    pub fn as_cstr(&self) -> &CStr {
        // Built above: digits, '/', a leaf without NUL, then at least one zero byte.
        CStr::from_bytes_until_nul(&self.buf[..=self.len]).unwrap_or(c"")
    }
}

/// `dir/PID/leaf`.
pub fn pid_path(pid: u32, leaf: &str) -> io::Result<PidPath> {
    PidPath::new(pid, leaf).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn pid_paths_are_nul_terminated_decimal() {
        let p = PidPath::new(4_294_967_295, "limits").expect("fits");
        assert_eq!(p.as_cstr().to_bytes(), b"4294967295/limits");
        assert_eq!(
            PidPath::new(0, "fd").expect("fits").as_cstr().to_bytes(),
            b"0/fd"
        );
        // 47 bytes and the NUL fill the buffer; one more does not fit.
        let longest = PidPath::new(1, &"x".repeat(45)).expect("fits");
        assert_eq!(longest.as_cstr().to_bytes().len(), 47);
        assert!(PidPath::new(1, &"x".repeat(46)).is_none());
        assert!(PidPath::new(1, "a\0b").is_none());
    }

    /// More entries than one buffer holds (it is refilled): the same names as `std::fs::read_dir`.
    #[test]
    fn lists_like_read_dir() {
        let d = tempfile::tempdir().expect("tempdir");
        for name in ["1", "22", "333", "self", "4x", "4294967296", "0"] {
            std::fs::create_dir(d.path().join(name)).expect("mkdir");
        }
        for i in 0..1500 {
            std::fs::write(d.path().join(format!("f{i}")), "").expect("write");
        }
        let root = open_dir(d.path()).expect("open");
        let mut buf = dents_buf();
        let mut pids = vec![99];
        list_pids_in(root.as_fd(), &mut buf, &mut pids);
        assert_eq!(pids, vec![0, 1, 22, 333]);
        let std_count = std::fs::read_dir(d.path()).expect("read_dir").count() as u64;
        let root = open_dir(d.path()).expect("open");
        let counted = count_entries(root.as_fd(), &mut buf).expect("count");
        assert_eq!(counted, std_count);
        assert_eq!(
            counted, 1507,
            "the seven directories and 1,500 files, without . and .."
        );
    }
}
