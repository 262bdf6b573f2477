//! The typed confirmation: the name must be typed as `namespace/name`, exactly, and typed
//! rather than pasted. [`NameEntry`] decides from the raw bursts a terminal delivers (a paste
//! arrives as one burst of many characters, or between bracketed-paste markers);
//! [`read_typed_name`] drives it on `/dev/tty`.

use super::PvcRef;

/// How typed text compares with the expected `namespace/name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameCheck {
    /// Exactly the name.
    Exact,
    /// A prefix of it (the TUI shows this as "keep typing").
    Partial,
    /// Not the name.
    Mismatch,
}

/// Compares typed text with the claim's `namespace/name`: exact, byte for byte (no trimming,
/// no case folding: a near miss is a miss).
pub fn check_name(expected: &PvcRef, typed: &str) -> NameCheck {
    let want = expected.to_string();
    if typed == want {
        NameCheck::Exact
    } else if want.starts_with(typed) {
        NameCheck::Partial
    } else {
        NameCheck::Mismatch
    }
}

/// What came out of the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedInput {
    /// Typed, key by key, then Enter.
    Typed(String),
    /// Text arrived as a paste: refused.
    Pasted,
    /// Esc, Ctrl-C, Ctrl-D or end of input.
    Cancelled,
}

const PASTE_START: &[u8] = b"\x1b[200~";
const MAX_LEN: usize = 600;

/// Line entry from raw terminal bursts, refusing pastes.
#[derive(Debug, Default)]
pub struct NameEntry {
    text: String,
}

impl NameEntry {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Feeds one `read()` worth of bytes; returns the result once the entry is over.
    pub fn feed(&mut self, burst: &[u8]) -> Option<TypedInput> {
        if burst.is_empty() {
            return Some(TypedInput::Cancelled);
        }
        if burst.windows(PASTE_START.len()).any(|w| w == PASTE_START) {
            return Some(TypedInput::Pasted);
        }
        if burst[0] == 0x1b {
            // A lone Esc cancels; other escape sequences (arrows, function keys) are ignored.
            return (burst.len() == 1).then_some(TypedInput::Cancelled);
        }
        let printable = burst.iter().filter(|b| !b.is_ascii_control()).count();
        if printable > 1 || (printable == 1 && burst.len() > 1 && !is_enter(burst[burst.len() - 1]))
        {
            // A human types one key per read; many characters at once is a paste (or a
            // script typing for the human): refused either way.
            return Some(TypedInput::Pasted);
        }
        for &b in burst {
            match b {
                b'\r' | b'\n' => return Some(TypedInput::Typed(std::mem::take(&mut self.text))),
                0x03 | 0x04 => return Some(TypedInput::Cancelled),
                0x7f | 0x08 => {
                    self.text.pop();
                }
                0x15 => self.text.clear(),
                b if !b.is_ascii_control() && b.is_ascii() && self.text.len() < MAX_LEN => {
                    self.text.push(b as char);
                }
                _ => {}
            }
        }
        None
    }
}

fn is_enter(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

/// Asks for `expected` on the controlling terminal (`/dev/tty`), in non-canonical mode with
/// bracketed paste on, echoing what is typed. Blocking: run it on a blocking thread. The
/// terminal's modes are restored on every path.
pub fn read_typed_name(prompt: &str) -> std::io::Result<TypedInput> {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for a valid fd.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    struct Restore(i32, libc::termios);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: restoring attributes read from the same fd.
            unsafe {
                libc::tcsetattr(self.0, libc::TCSANOW, &self.1);
            }
            let _ = std::io::Write::write_all(&mut unsafe_tty_writer(self.0), b"\x1b[?2004l");
        }
    }
    let mut raw = saved;
    raw.c_lflag &= !(libc::ICANON | libc::ECHO | libc::ISIG | libc::IEXTEN);
    raw.c_iflag &= !(libc::IXON | libc::ICRNL);
    raw.c_cc[libc::VMIN] = 1;
    raw.c_cc[libc::VTIME] = 0;
    // SAFETY: valid fd and termios.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let _restore = Restore(fd, saved);
    write!(tty, "\x1b[?2004h{prompt}")?;
    tty.flush()?;
    let mut entry = NameEntry::default();
    let mut buf = [0u8; 256];
    loop {
        let n = tty.read(&mut buf)?;
        let before = entry.text().len();
        let done = entry.feed(&buf[..n]);
        let after = entry.text().len();
        if after > before {
            tty.write_all(&entry.text().as_bytes()[before..])?;
        } else if after < before {
            for _ in after..before {
                tty.write_all(b"\x08 \x08")?;
            }
        }
        tty.flush()?;
        if let Some(result) = done {
            tty.write_all(b"\r\n")?;
            return Ok(result);
        }
    }
}

/// A writer on a borrowed fd for the restore path (does not close it).
fn unsafe_tty_writer(fd: i32) -> impl std::io::Write {
    struct W(i32);
    impl std::io::Write for W {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            // SAFETY: writing a valid buffer to an fd that outlives this writer.
            let n = unsafe { libc::write(self.0, buf.as_ptr().cast(), buf.len()) };
            if n < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    W(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &[&[u8]]) -> Option<TypedInput> {
        let mut e = NameEntry::default();
        keys.iter().find_map(|k| e.feed(k))
    }

    #[test]
    fn names_match_exactly() {
        let r = PvcRef::new("monitoring", "grafana");
        assert_eq!(check_name(&r, "monitoring/grafana"), NameCheck::Exact);
        assert_eq!(check_name(&r, "monitoring/gra"), NameCheck::Partial);
        assert_eq!(check_name(&r, ""), NameCheck::Partial);
        for bad in [
            "monitoring/grafana ",
            " monitoring/grafana",
            "Monitoring/grafana",
            "monitoring/grafana-old",
            "grafana",
            "monitoring/grafana\n",
        ] {
            assert_eq!(check_name(&r, bad), NameCheck::Mismatch, "{bad:?}");
        }
    }

    #[test]
    fn key_by_key_is_typed() {
        let keys: Vec<&[u8]> = vec![b"a", b"/", b"x", b"\x7f", b"b", b"\r"];
        assert_eq!(typed(&keys), Some(TypedInput::Typed("a/b".into())));
    }

    #[test]
    fn pastes_are_refused() {
        assert_eq!(typed(&[b"a/b\r"]), Some(TypedInput::Pasted));
        assert_eq!(typed(&[b"a", b"/b"]), Some(TypedInput::Pasted));
        assert_eq!(typed(&[b"\x1b[200~a/b\x1b[201~"]), Some(TypedInput::Pasted));
        assert_eq!(typed(&[b"a", b"\x1b[200~"]), Some(TypedInput::Pasted));
    }

    #[test]
    fn last_key_with_enter_in_one_burst_is_still_typed() {
        assert_eq!(typed(&[b"a", b"b\r"]), Some(TypedInput::Typed("ab".into())));
    }

    #[test]
    fn esc_and_ctrl_c_cancel_arrows_do_not() {
        assert_eq!(typed(&[b"a", b"\x1b"]), Some(TypedInput::Cancelled));
        assert_eq!(typed(&[b"\x03"]), Some(TypedInput::Cancelled));
        assert_eq!(typed(&[b""]), Some(TypedInput::Cancelled));
        assert_eq!(
            typed(&[b"a", b"\x1b[A", b"\r"]),
            Some(TypedInput::Typed("a".into()))
        );
    }
}
