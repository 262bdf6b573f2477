//! Every non-letter glyph the UI draws, in a Unicode and an ASCII (`--ascii`) set, so ASCII
//! mode is one switch and no view hard-codes box-drawing or block characters.

use ratatui::symbols::border;

use crate::domain::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbols {
    pub ascii: bool,
    pub border: border::Set<'static>,
    pub sparkline: &'static [char],
    pub bar_full: char,
    pub bar_empty: char,
    pub selected: &'static str,
    pub sort_asc: &'static str,
    pub sort_desc: &'static str,
    pub dash: &'static str,
    pub heartbeat: [&'static str; 2],
    pub pending: &'static str,
    pub acked: &'static str,
    pub stale: &'static str,
    pub ellipsis: &'static str,
}

pub const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

pub const UNICODE: Symbols = Symbols {
    ascii: false,
    border: border::PLAIN,
    sparkline: &[' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
    bar_full: '|',
    bar_empty: ' ',
    selected: "▶ ",
    sort_asc: "▲",
    sort_desc: "▼",
    dash: "—",
    heartbeat: ["♥", "♡"],
    pending: "◷",
    acked: "✔ack",
    stale: "⚠ STALE",
    ellipsis: "…",
};

pub const ASCII: Symbols = Symbols {
    ascii: true,
    border: ASCII_BORDER,
    sparkline: &[' ', '.', ',', ':', '-', '=', '+', '*', '#'],
    bar_full: '|',
    bar_empty: ' ',
    selected: "> ",
    sort_asc: "^",
    sort_desc: "v",
    dash: "-",
    heartbeat: ["*", "."],
    pending: "~",
    acked: "ack",
    stale: "!! STALE",
    ellipsis: "~",
};

impl Symbols {
    pub fn for_mode(ascii: bool) -> &'static Symbols {
        if ascii { &ASCII } else { &UNICODE }
    }

    pub fn level_glyph(&self, level: Level) -> &'static str {
        level.glyph(self.ascii)
    }

    /// One character per value, scaled between the series' minimum and maximum so a trend is
    /// visible even when counts are high and close together; a flat series is a low line,
    /// an all-zero series blank. Keeps the newest `width` values.
    pub fn sparkline(&self, values: impl Iterator<Item = u64> + Clone, width: usize) -> String {
        let n = values.clone().count();
        let skip = n.saturating_sub(width);
        let shown = values.skip(skip);
        let max = shown.clone().max().unwrap_or(0);
        let min = shown.clone().min().unwrap_or(0);
        let top = self.sparkline.len() - 1;
        shown
            .map(|v| {
                if max == 0 {
                    self.sparkline[0]
                } else if max == min {
                    self.sparkline[1]
                } else {
                    let i = 1
                        + (((v - min) as f64 / (max - min) as f64) * (top - 1) as f64).round()
                            as usize;
                    self.sparkline[i.min(top)]
                }
            })
            .collect()
    }
}

/// The ASCII stand-in for a glyph the views did not pick from [`ASCII`] (text from the rules,
/// a name from outside): `--ascii` is a promise about every cell, so the last step of drawing
/// passes the frame through this.
pub fn ascii_fallback(symbol: &str) -> &'static str {
    match symbol.chars().next().unwrap_or(' ') {
        '…' => "~",
        '—' | '–' | '─' | '━' | '‐' | '−' => "-",
        '│' | '┃' => "|",
        '┌' | '┐' | '└' | '┘' | '├' | '┤' | '┬' | '┴' | '┼' => "+",
        '▲' | '△' => "^",
        '▼' | '▽' => "v",
        '▶' | '▸' | '→' => ">",
        '◀' | '◂' | '←' => "<",
        '▾' => "-",
        '✖' | '✗' | '×' => "x",
        '✓' | '✔' => "v",
        '⚠' => "!",
        '‘' | '’' => "'",
        '“' | '”' => "\"",
        '·' | '•' => "*",
        c if c.is_whitespace() => " ",
        _ => "?",
    }
}

/// Replaces every non-ASCII cell of `buf` with its [`ascii_fallback`].
pub fn asciify(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        if !cell.symbol().is_ascii() {
            let fallback = ascii_fallback(cell.symbol());
            cell.set_symbol(fallback);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_set_is_ascii() {
        let s = ASCII;
        let all = [
            s.selected,
            s.sort_asc,
            s.sort_desc,
            s.dash,
            s.heartbeat[0],
            s.heartbeat[1],
            s.pending,
            s.acked,
            s.stale,
            s.ellipsis,
        ];
        assert!(all.iter().all(|x| x.is_ascii()));
        assert!(s.sparkline.iter().all(|c| c.is_ascii()));
        for l in [Level::Ok, Level::Info, Level::Warning, Level::Critical] {
            assert!(s.level_glyph(l).is_ascii());
        }
    }

    #[test]
    fn asciify_leaves_only_ascii_and_keeps_meaning() {
        use ratatui::buffer::Buffer;
        use ratatui::layout::Rect;
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        buf.set_string(0, 0, "a…b—c✖ 名", ratatui::style::Style::default());
        asciify(&mut buf);
        let text: String = buf.content.iter().map(|c| c.symbol()).collect();
        assert!(text.is_ascii(), "{text:?}");
        assert!(text.starts_with("a~b-cx ?"), "{text:?}");
    }

    #[test]
    fn sparkline_scales_and_keeps_the_newest() {
        let v = [0u64, 5, 10];
        assert_eq!(UNICODE.sparkline(v.iter().copied(), 10), "▁▅█");
        assert_eq!(UNICODE.sparkline(v.iter().copied(), 2), "▁█");
        assert_eq!(UNICODE.sparkline([1500u64, 1500].iter().copied(), 5), "▁▁");
        assert_eq!(ASCII.sparkline([0u64, 0].iter().copied(), 5), "  ");
    }
}
