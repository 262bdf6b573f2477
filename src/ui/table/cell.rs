//! One cell's text as a table draws it: most cells are one piece of text in one style (a name,
//! a number, an age), drawn straight into the frame's buffer without building a ratatui
//! `Line` (a vector of spans) or `Text` (a vector of lines) for it; a cell with several styles
//! is a [`Line`].
//!
//! An idle console redraws its visible rows about once a second; at 200x60 that is a few
//! thousand cells a frame. Every allocation a cell costs is paid again each frame, and on a
//! long-running process glibc serves them from cold free lists: per-cell `Line`s and formatted
//! `String`s were most of an idle wall screen's CPU. Short formatted text (an age, a count)
//! fits a [`CompactString`] inline (up to 24 bytes) and costs no allocation at all.

use std::borrow::Cow;

use compact_str::CompactString;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// The text of a plain cell: borrowed from the row, or owned (inline when short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellStr<'a> {
    Borrowed(&'a str),
    Owned(CompactString),
}

impl std::ops::Deref for CellStr<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            CellStr::Borrowed(s) => s,
            CellStr::Owned(s) => s,
        }
    }
}

/// What a table cell shows.
#[derive(Debug, Clone, PartialEq)]
pub enum CellText<'a> {
    /// One text in one style (the style also covers the cell's padding, as a styled `Line`'s
    /// does).
    Plain(CellStr<'a>, Style),
    /// Several styles.
    Line(Line<'a>),
}

impl<'a> CellText<'a> {
    /// Unstyled text.
    pub fn raw(s: impl Into<CellStr<'a>>) -> CellText<'a> {
        CellText::Plain(s.into(), Style::new())
    }

    /// Text in one style.
    pub fn styled(s: impl Into<CellStr<'a>>, style: Style) -> CellText<'a> {
        CellText::Plain(s.into(), style)
    }

    /// Nothing (an empty cell).
    pub fn empty() -> CellText<'a> {
        CellText::raw("")
    }

    /// Its width in terminal cells.
    pub fn width(&self) -> usize {
        match self {
            CellText::Plain(s, _) => str_width(s),
            CellText::Line(l) => l.width(),
        }
    }

    /// As a span, for a line that is not a table cell (a detail view); a several-style cell
    /// keeps its first span's style.
    pub fn into_span(self) -> Span<'a> {
        match self {
            CellText::Plain(CellStr::Borrowed(s), style) => Span::styled(s, style),
            CellText::Plain(CellStr::Owned(s), style) => Span::styled(s.into_string(), style),
            CellText::Line(l) => {
                let style = l
                    .spans
                    .first()
                    .map_or(l.style, |sp| l.style.patch(sp.style));
                Span::styled(String::from(CellText::Line(l).text()), style)
            }
        }
    }

    /// The characters shown, without styles (tests, filters).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            CellText::Plain(s, _) => Cow::Borrowed(s),
            CellText::Line(l) => Cow::Owned(l.spans.iter().map(|s| s.content.as_ref()).collect()),
        }
    }
}

/// The width of `s` in terminal cells; ASCII (most cells) without looking up each character.
pub fn str_width(s: &str) -> usize {
    if s.is_ascii() {
        // Control characters never reach a cell (outside text is cleaned when it enters).
        s.len()
    } else {
        s.width()
    }
}

impl<'a> From<&'a str> for CellStr<'a> {
    fn from(s: &'a str) -> Self {
        CellStr::Borrowed(s)
    }
}

impl<'a> From<&'a String> for CellStr<'a> {
    fn from(s: &'a String) -> Self {
        CellStr::Borrowed(s)
    }
}

impl From<String> for CellStr<'_> {
    fn from(s: String) -> Self {
        CellStr::Owned(CompactString::from(s))
    }
}

impl From<CompactString> for CellStr<'_> {
    fn from(s: CompactString) -> Self {
        CellStr::Owned(s)
    }
}

impl<'a> From<Cow<'a, str>> for CellStr<'a> {
    fn from(s: Cow<'a, str>) -> Self {
        match s {
            Cow::Borrowed(b) => CellStr::Borrowed(b),
            Cow::Owned(o) => CellStr::from(o),
        }
    }
}

impl<'a> From<Line<'a>> for CellText<'a> {
    fn from(l: Line<'a>) -> Self {
        CellText::Line(l)
    }
}

impl<'a> From<Span<'a>> for CellText<'a> {
    fn from(s: Span<'a>) -> Self {
        CellText::Plain(CellStr::from(s.content), s.style)
    }
}

impl<'a> From<&'a str> for CellText<'a> {
    fn from(s: &'a str) -> Self {
        CellText::raw(s)
    }
}

impl From<String> for CellText<'_> {
    fn from(s: String) -> Self {
        CellText::raw(s)
    }
}

impl From<CompactString> for CellText<'_> {
    fn from(s: CompactString) -> Self {
        CellText::raw(s)
    }
}

impl<'a> From<Cow<'a, str>> for CellText<'a> {
    fn from(s: Cow<'a, str>) -> Self {
        CellText::raw(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_terminal_cells() {
        assert_eq!(CellText::raw("abc").width(), 3);
        assert_eq!(CellText::raw("日本").width(), 4);
        assert_eq!(CellText::raw("✖ CRITICAL").width(), 10);
        let l = Line::from(vec![Span::raw("ab"), Span::raw("日")]);
        assert_eq!(CellText::from(l).width(), 4);
    }

    #[test]
    fn a_span_keeps_its_style_and_short_owned_text_is_inline() {
        let bold = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        let c = CellText::from(Span::styled("x".to_string(), bold));
        assert_eq!(c, CellText::Plain(CellStr::Owned("x".into()), bold));
        let CellText::Plain(CellStr::Owned(s), _) = CellText::from(String::from("12m ago")) else {
            panic!("owned text stays plain");
        };
        assert!(!s.is_heap_allocated());
    }
}
