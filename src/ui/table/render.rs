//! Drawing a table: fit the columns to the area, cut each cell to its column (with a visible
//! ellipsis), align it, draw the header with the sort arrow and the visible rows only.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::column::{Align, Column, ColumnSpec, Cut, Fitted, Grow, SPACING, fit};
use crate::app::table::{Sort, TableState};
use crate::ui::widgets::ViewCtx;

/// What to draw: a table state's visible window (scrolled to the cursor, the cursor
/// highlighted when focused, the sort arrow in the header) or a plain list of rows.
#[derive(Debug, Clone, Copy)]
pub struct TableView<'a> {
    state: Option<&'a TableState>,
    plain: &'a [usize],
    focused: bool,
    empty: &'a str,
    no_match: &'a str,
}

impl<'a> TableView<'a> {
    /// The rows of `state` (its filtered, sorted order).
    pub fn new(state: &'a TableState) -> TableView<'a> {
        TableView {
            state: Some(state),
            plain: &[],
            focused: false,
            empty: "none",
            no_match: "no rows match the filter",
        }
    }

    /// These rows in this order, no selection, no sort arrow (e.g. a secondary list).
    pub fn plain(rows: &'a [usize]) -> TableView<'a> {
        TableView {
            state: None,
            plain: rows,
            focused: false,
            empty: "none",
            no_match: "none",
        }
    }

    /// Highlight the cursor row.
    pub fn focused(mut self, focused: bool) -> TableView<'a> {
        self.focused = focused;
        self
    }

    /// What the table says when it has no rows, and when the filter hides them all.
    pub fn empty(mut self, empty: &'a str, no_match: &'a str) -> TableView<'a> {
        self.empty = empty;
        self.no_match = no_match;
        self
    }

    /// `(first shown position, rows to draw, highlighted position, sort)` for `height` rows.
    fn window(&self, height: usize) -> (usize, &'a [usize], Option<usize>, Option<Sort>) {
        match self.state {
            Some(s) => {
                let (off, rows) = s.visible(height);
                (off, rows, self.focused.then_some(s.cursor), Some(s.sort))
            }
            None => (0, &self.plain[..self.plain.len().min(height)], None, None),
        }
    }

    fn empty_text(&self) -> &'a str {
        match self.state {
            Some(s) if !s.filter.is_empty() => self.no_match,
            _ => self.empty,
        }
    }

    fn is_empty(&self) -> bool {
        match self.state {
            Some(s) => s.order.is_empty(),
            None => self.plain.is_empty(),
        }
    }
}

/// Draws the table in `area` (first line the header) and returns the columns shown.
///
/// `cell(row, column, width)` formats one cell of data row `row` for a column `width` cells
/// wide (`u16::MAX` while measuring what a content-sized column needs), so a row can choose a
/// shorter form when narrow; a cell still too wide is cut by the column's [`Cut`]. `None`
/// skips the row (it vanished).
pub fn render<'c, C: Column>(
    f: &mut Frame,
    area: Rect,
    ctx: ViewCtx<'_>,
    view: TableView<'_>,
    cell: impl Fn(usize, C, u16) -> Option<Line<'c>>,
) -> Fitted {
    let specs = C::specs();
    let body_h = area.height.saturating_sub(1) as usize;
    let (off, visible, cursor, sort) = view.window(body_h);
    // Each content-sized column's visible cells are formatted once, at full width, to measure
    // them; a measured cell that fits its column is drawn as it is, so most cells are
    // formatted once per frame, not twice. Only a cell too wide for its column is asked again
    // at the width it got (it may have a shorter form). The width is kept with the cells: the
    // fitter asks for it once per optional column it weighs.
    type Measured<'c> = (Vec<Option<Line<'c>>>, u16);
    let measured: Vec<std::cell::OnceCell<Measured<'c>>> =
        specs.iter().map(|_| std::cell::OnceCell::new()).collect();
    let measure = |i: usize| {
        measured[i].get_or_init(|| {
            let lines: Vec<Option<Line<'c>>> = match C::at(i) {
                Some(col) => visible.iter().map(|&r| cell(r, col, u16::MAX)).collect(),
                None => Vec::new(),
            };
            let width = lines
                .iter()
                .flatten()
                .map(|l| u16::try_from(l.width()).unwrap_or(u16::MAX))
                .max()
                .unwrap_or(0);
            (lines, width)
        })
    };
    let fitted = fit(&specs, area.width, |i| measure(i).1);
    let mut measured: Vec<Option<Vec<Option<Line<'c>>>>> = measured
        .into_iter()
        .map(|m| m.into_inner().map(|(lines, _)| lines))
        .collect();
    let mut rows: Vec<Row> = Vec::with_capacity(visible.len());
    'rows: for (n, &r) in visible.iter().enumerate() {
        let mut cells: Vec<Line> = Vec::with_capacity(fitted.columns.len());
        for &(i, w) in &fitted.columns {
            let Some(col) = C::at(i) else { continue 'rows };
            let line = match measured.get_mut(i).and_then(Option::as_mut) {
                Some(lines) => match lines.get_mut(n).and_then(Option::take) {
                    Some(l) if l.width() <= w as usize => Some(l),
                    Some(_) => cell(r, col, w),
                    // The row vanished while measuring.
                    None => None,
                },
                None => cell(r, col, w),
            };
            let Some(line) = line else { continue 'rows };
            cells.push(fit_cell(line, &specs[i], w, ctx.sym.ellipsis));
        }
        let row = Row::new(cells);
        rows.push(if cursor == Some(off + n) {
            row.style(ctx.theme.selection)
        } else {
            row
        });
    }
    let header = Row::new(
        fitted
            .columns
            .iter()
            .map(|&(i, w)| header_cell(ctx, &specs[i], w, sort.filter(|s| s.column == i)))
            .collect::<Vec<_>>(),
    );
    let widths: Vec<Constraint> = fitted
        .columns
        .iter()
        .map(|&(_, w)| Constraint::Length(w))
        .collect();
    f.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(SPACING),
        area,
    );
    if view.is_empty() && area.height > 1 {
        f.render_widget(
            Paragraph::new(view.empty_text()).style(ctx.theme.muted),
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
        );
    }
    fitted
}

/// The columns `C` shows in `width` cells (the set does not depend on the content): e.g. to
/// say "sort: AGE" when the sort column is hidden.
pub fn shown<C: Column>(width: u16) -> Vec<C> {
    super::column::shown_columns(&C::specs(), width)
        .into_iter()
        .filter_map(C::at)
        .collect()
}

fn header_cell(
    ctx: ViewCtx<'_>,
    spec: &ColumnSpec,
    width: u16,
    sort: Option<Sort>,
) -> Line<'static> {
    let line = match sort {
        Some(s) => {
            let arrow = if s.descending {
                ctx.sym.sort_desc
            } else {
                ctx.sym.sort_asc
            };
            // The arrow always shows: the name gives way if both do not fit.
            let room = (width as usize).saturating_sub(arrow.chars().count());
            let name: String = spec.header.chars().take(room).collect();
            Line::styled(format!("{name}{arrow}"), ctx.theme.accent)
        }
        None => Line::styled(spec.header, ctx.theme.muted),
    };
    align(line, spec, width)
}

fn fit_cell<'a>(line: Line<'a>, spec: &ColumnSpec, width: u16, ellipsis: &str) -> Line<'a> {
    align(cut_line(line, width, spec.cut, ellipsis), spec, width)
}

fn align<'a>(line: Line<'a>, spec: &ColumnSpec, width: u16) -> Line<'a> {
    // A `Rest` column's right alignment would float numbers away from their header.
    if spec.align == Align::Right && spec.grow != Grow::Rest && line.width() < width as usize {
        line.right_aligned()
    } else {
        line
    }
}

/// `line` cut to `width` cells with a visible ellipsis: in the middle (both ends kept, so
/// `monitoring/grafana-data-old` and `monitoring/grafana-data` never look alike when cut) or
/// at the end. Styles of the kept characters are kept.
pub fn cut_line<'a>(line: Line<'a>, width: u16, cut: Cut, ellipsis: &str) -> Line<'a> {
    let width = width as usize;
    if line.width() <= width {
        return line;
    }
    // One style throughout (most cells): cut the text itself, in one allocation.
    if let [span] = line.spans.as_slice() {
        let style = line.style.patch(span.style);
        let mut l = Line::from(Span::styled(
            cut_str(&span.content, width, cut, ellipsis),
            style,
        ));
        l.alignment = line.alignment;
        return l;
    }
    let chars: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|sp| {
            let style = line.style.patch(sp.style);
            sp.content.chars().map(move |c| (c, style))
        })
        .collect();
    let ell = ellipsis.chars().count();
    if width <= ell {
        // No room to say it was cut: the first characters only.
        return rebuild(chars.iter().take(width).copied(), line.alignment);
    }
    let room = width - ell;
    let (head, tail) = match cut {
        Cut::Middle => (room - room / 2, room / 2),
        Cut::End => (room, 0),
    };
    let mid_style = chars.get(head).map(|&(_, st)| st).unwrap_or_default();
    let kept = chars
        .iter()
        .take(head)
        .copied()
        .chain(ellipsis.chars().map(|c| (c, mid_style)))
        .chain(
            chars
                .iter()
                .skip(chars.len().saturating_sub(tail).max(head))
                .copied(),
        );
    rebuild(kept, line.alignment)
}

/// [`cut_line`] of plain text, counting characters as it does.
fn cut_str(s: &str, width: usize, cut: Cut, ellipsis: &str) -> String {
    let count = s.chars().count();
    let byte_at = |n: usize| s.char_indices().nth(n).map_or(s.len(), |(b, _)| b);
    let ell = ellipsis.chars().count();
    if width <= ell {
        return s[..byte_at(width)].to_string();
    }
    let room = width - ell;
    let (head, tail) = match cut {
        Cut::Middle => (room - room / 2, room / 2),
        Cut::End => (room, 0),
    };
    let (head_end, tail_start) = (byte_at(head), byte_at(count.saturating_sub(tail)));
    let mut out = String::with_capacity(head_end + ellipsis.len() + (s.len() - tail_start));
    out.push_str(&s[..head_end]);
    out.push_str(ellipsis);
    out.push_str(&s[tail_start.max(head_end)..]);
    out
}

/// One span per run of equal style.
fn rebuild<'a>(
    chars: impl Iterator<Item = (char, Style)>,
    alignment: Option<ratatui::layout::HorizontalAlignment>,
) -> Line<'a> {
    let mut spans: Vec<Span<'a>> = Vec::new();
    for (c, st) in chars {
        match spans.last_mut() {
            Some(last) if last.style == st => last.content.to_mut().push(c),
            _ => spans.push(Span::styled(c.to_string(), st)),
        }
    }
    let mut l = Line::from(spans);
    l.alignment = alignment;
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_cut_name_keeps_both_ends_and_says_it_was_cut() {
        let cut = |s: &str, w| text(&cut_line(Line::from(s.to_string()), w, Cut::Middle, "…"));
        let old = cut("monitoring/grafana-data-old", 20);
        let live = cut("monitoring/grafana-data", 20);
        assert_eq!(old, "monitoring…-data-old");
        assert_eq!(live, "monitoring…fana-data");
        assert_eq!((old.chars().count(), live.chars().count()), (20, 20));
        assert_eq!(cut("short", 20), "short");
        assert_eq!(cut("abcdef", 3), "a…f");
        assert_eq!(cut("abcdef", 1), "a");
    }

    /// A one-span line is cut by its text (the fast path) exactly as a styled line of the same
    /// characters is cut span by span.
    #[test]
    fn plain_and_styled_lines_are_cut_alike() {
        let bold = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        for s in [
            "monitoring/grafana-data-old",
            "abcdef",
            "日本語のテキストです",
            "x",
        ] {
            for w in 0..12 {
                for cut in [Cut::Middle, Cut::End] {
                    let plain = cut_line(Line::from(s.to_string()), w, cut, "…");
                    let (a, b) = s.split_at(s.char_indices().nth(1).map_or(s.len(), |(i, _)| i));
                    let styled = Line::from(vec![Span::styled(a, bold), Span::raw(b)]);
                    let styled = cut_line(styled, w, cut, "…");
                    assert_eq!(text(&plain), text(&styled), "{s:?} {w} {cut:?}");
                }
            }
        }
    }

    #[test]
    fn prose_is_cut_at_the_end_and_styles_survive() {
        let bold = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        let l = Line::from(vec![
            Span::styled("CrashLoop", bold),
            Span::raw("BackOff for 3h"),
        ]);
        let c = cut_line(l, 12, Cut::End, "~");
        assert_eq!(text(&c), "CrashLoopBa~");
        assert_eq!(c.spans[0].content, "CrashLoop");
        assert_eq!(c.spans[0].style, bold);
    }
}
