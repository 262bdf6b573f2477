//! The UI's door to the crate's one sanitizer (`crate::sanitize::line`): every outside string
//! (process names, peers, pod names, event messages, notes) passes here before a widget sees
//! it. Replacement characters become `?` so `--ascii` output stays ASCII.

use std::borrow::Cow;

/// Text that is already [`Clean`](crate::domain::text::Clean) comes back borrowed after one scan.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    crate::sanitize::display_line(s)
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
        assert_eq!(sanitize("trailing\x1b"), "trailing");
    }

    #[test]
    fn controls_become_question_marks_and_tabs_spaces() {
        assert_eq!(sanitize("a\tb"), "a    b");
        assert_eq!(sanitize("bell\x07del\x7f"), "bell?del?");
        assert_eq!(sanitize("nul\0"), "nul?");
        assert_eq!(sanitize("c1\u{85}"), "c1?");
        assert_eq!(sanitize("abc\u{202e}txt.exe"), "abc?txt.exe");
        assert!(!sanitize("line1\nline2\r").contains(['\n', '\r']));
    }

    #[test]
    fn output_never_contains_controls_or_replacement_chars() {
        let nasty: String = (0u32..0x300).filter_map(char::from_u32).collect();
        let s = sanitize(&nasty);
        assert!(
            !s.chars().any(|c| c.is_control() || c == '\u{FFFD}'),
            "{s:?}"
        );
    }
}
