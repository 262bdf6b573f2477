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
    let fitted = fit(&specs, area.width, |i| {
        let Some(col) = C::at(i) else { return 0 };
        visible
            .iter()
            .filter_map(|&r| cell(r, col, u16::MAX))
            .map(|l| u16::try_from(l.width()).unwrap_or(u16::MAX))
            .max()
            .unwrap_or(0)
    });
    let rows = visible.iter().enumerate().filter_map(|(n, &r)| {
        let cells: Option<Vec<Line>> = fitted
            .columns
            .iter()
            .map(|&(i, w)| {
                let col = C::at(i)?;
                cell(r, col, w).map(|l| fit_cell(l, &specs[i], w, ctx.sym.ellipsis))
            })
            .collect();
        let row = Row::new(cells?);
        Some(if cursor == Some(off + n) {
            row.style(ctx.theme.selection)
        } else {
            row
        })
    });
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
        .chain(chars.iter().skip(chars.len().saturating_sub(tail)).copied());
    rebuild(kept, line.alignment)
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
