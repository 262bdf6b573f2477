//! The one gate every outside string (process names, peers, pod names, event messages, notes)
//! passes before it reaches the terminal: ESC/CSI/OSC sequences are removed, other C0/C1
//! controls and DEL become `?`, tabs become a space, newlines become spaces.

use std::borrow::Cow;

/// Returns the input unchanged (borrowed) when it is already safe, which is the common case.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_work) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // C1 CSI/OSC/DCS/APC/PM/SOS introducers: swallow their bodies too.
            '\u{9b}' => skip_csi_body(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{9f}' | '\u{9e}' | '\u{98}' => skip_string_body(&mut chars),
            '\t' | '\n' | '\r' => out.push(' '),
            c if is_control(c) => out.push('?'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_control(c: char) -> bool {
    let u = c as u32;
    u < 0x20 || u == 0x7f || (0x80..0xa0).contains(&u) || is_bidi_override(c)
}

/// Bidirectional overrides can make a name read differently from what it is ("Trojan Source").
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn needs_work(c: char) -> bool {
    is_control(c)
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi_body(chars);
        }
        Some(']') | Some('P') | Some('_') | Some('^') | Some('X') => {
            chars.next();
            skip_string_body(chars);
        }
        // Two-character escapes (ESC c, ESC 7, ESC ( B ...): drop the next char, and for the
        // charset designators the one after.
        Some('(') | Some(')') | Some('*') | Some('+') | Some('#') | Some('%') => {
            chars.next();
            chars.next();
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

/// CSI: parameters and intermediates until a final byte in 0x40..=0x7e.
fn skip_csi_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// OSC/DCS/APC/PM/SOS: until BEL, ST (ESC \) or C1 ST.
fn skip_string_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(sanitize("java"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(sanitize("kube-proxy ünïcode"), "kube-proxy ünïcode");
    }

    #[test]
    fn hostile_sequences_are_removed() {
        // Clear screen, move cursor, set title, colour, hyperlink, DCS, C1 CSI.
        assert_eq!(sanitize("a\x1b[2Jb"), "ab");
        assert_eq!(sanitize("a\x1b[10;20Hb"), "ab");
        assert_eq!(sanitize("x\x1b]0;owned\x07y"), "xy");
        assert_eq!(sanitize("\x1b[31mred\x1b[0m"), "red");
        assert_eq!(
            sanitize("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\"),
            "link"
        );
        assert_eq!(sanitize("p\x1bP1$r\x1b\\q"), "pq");
        assert_eq!(sanitize("c\u{9b}2Jd"), "cd");
        assert_eq!(sanitize("e\x1bcf"), "ef");
        assert_eq!(sanitize("g\x1b(Bh"), "gh");
        // Unterminated sequences do not swallow the terminal: the rest is simply dropped.
        assert_eq!(sanitize("ok\x1b]0;never ends"), "ok");
        assert_eq!(sanitize("trailing\x1b"), "trailing");
    }

    #[test]
    fn controls_become_visible_and_whitespace_flattens() {
        assert_eq!(sanitize("a\tb"), "a b");
        assert_eq!(sanitize("line1\nline2\r"), "line1 line2 ");
        assert_eq!(sanitize("bell\x07del\x7f"), "bell?del?");
        assert_eq!(sanitize("nul\0"), "nul?");
        assert_eq!(sanitize("c1\u{85}"), "c1?");
        assert_eq!(sanitize("abc\u{202e}txt.exe"), "abc?txt.exe");
    }

    #[test]
    fn output_never_contains_controls() {
        let nasty: String = (0u32..0x200).filter_map(char::from_u32).collect();
        let s = sanitize(&nasty);
        assert!(
            !s.chars()
                .any(|c| (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)))
        );
    }
}
