//! One sanitizer for every string that comes from outside (process names, pod names, labels,
//! event messages, logs, certificate subjects) before it reaches a terminal: escape sequences
//! are removed whole, other control characters and bidi overrides are replaced, tabs become
//! spaces. Clean strings are returned borrowed, so the common case costs one scan.

use std::borrow::Cow;

fn is_bad(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Bidirectional overrides and isolates can make text display differently from what it is
/// ("Trojan Source"); zero-width joiners are harmless and kept.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Sanitizes one line of outside text: newlines become spaces too.
pub fn line(s: &str) -> Cow<'_, str> {
    clean(s, false)
}

/// [`line`], with replacement characters shown as `?` so that output stays ASCII-safe: the form
/// every outside string takes when it enters ondeck ([`crate::domain::text::Clean`]) and the
/// TUI's.
pub fn display_line(s: &str) -> Cow<'_, str> {
    match line(s) {
        Cow::Borrowed(b) => Cow::Borrowed(b),
        Cow::Owned(o) if o.contains('\u{FFFD}') => Cow::Owned(o.replace('\u{FFFD}', "?")),
        owned => owned,
    }
}

/// Sanitizes multi-line outside text (logs): newlines are kept, everything else as [`line`].
pub fn multiline(s: &str) -> Cow<'_, str> {
    clean(s, true)
}

fn clean(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !s.chars().any(is_bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI introducer: a sequence follows just like ESC [.
            '\u{9b}' => skip_csi(&mut chars),
            '\n' if keep_newlines => out.push('\n'),
            '\r' if keep_newlines => {}
            '\t' => out.push_str("    "),
            c if is_bad(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        // OSC (ESC ]), DCS (ESC P), SOS, PM, APC: up to BEL or ST (ESC \).
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        // Two-character sequences (ESC c, ESC 7, ESC ( B ...): drop the next char too, plus a
        // charset designator's final byte.
        Some('(' | ')' | '*' | '+') => {
            chars.next();
            chars.next();
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

/// CSI: parameter and intermediate bytes (0x20..=0x3F) then one final byte (0x40..=0x7E).
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(line("grafana-data"), Cow::Borrowed(_)));
        assert!(matches!(line("ünïcødé ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_are_removed_whole() {
        assert_eq!(line("\u{1b}[31mred\u{1b}[0m text"), "red text");
        assert_eq!(line("a\u{1b}[2J\u{1b}[Hb"), "ab");
        assert_eq!(line("title\u{1b}]0;pwned\u{7}done"), "titledone");
        assert_eq!(
            line("x\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\y"),
            "xlinky"
        );
        assert_eq!(line("\u{9b}1;1Hz"), "z");
        assert_eq!(line("end\u{1b}"), "end");
    }

    #[test]
    fn controls_and_bidi_are_replaced() {
        assert_eq!(line("a\u{7}b"), "a\u{FFFD}b");
        assert_eq!(line("a\nb\r"), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(multiline("a\r\nb"), "a\nb");
        assert_eq!(line("a\tb"), "a    b");
        assert_eq!(line("abc\u{202E}fed"), "abc\u{FFFD}fed");
        assert_eq!(line("\u{85}x"), "\u{FFFD}x");
    }
}
