//! Drawing a table: fit the columns to the area, cut each cell to its column (with a visible
//! ellipsis), align it, draw the header with the sort arrow and the visible rows only.

use compact_str::CompactString;
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::cell::{CellText, str_width};
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
/// skips the row (it vanished). A cell is anything that becomes a [`CellText`]: a `&str`, a
/// `String`, a `Span`, a `Line`, or a [`CellText`] itself (plain text in one style, drawn
/// without building a `Line`).
///
/// Cells are drawn straight into the frame's buffer, column by column as ratatui's `Table`
/// lays them out (each column at its fitted width, [`SPACING`] apart): no `Row`, `Cell` or
/// `Text` is built per cell, so an unchanged frame costs no allocation per cell.
pub fn render<'c, C: Column, T: Into<CellText<'c>>>(
    f: &mut Frame,
    area: Rect,
    ctx: ViewCtx<'_>,
    view: TableView<'_>,
    cell: impl Fn(usize, C, u16) -> Option<T>,
) -> Fitted {
    let specs = C::specs();
    let body_h = area.height.saturating_sub(1) as usize;
    let (off, visible, cursor, sort) = view.window(body_h);
    let cell = |r: usize, col: C, w: u16| cell(r, col, w).map(Into::into);
    // Each content-sized column's visible cells are formatted once, at full width, to measure
    // them; a measured cell that fits its column is drawn as it is, so most cells are
    // formatted once per frame, not twice. Only a cell too wide for its column is asked again
    // at the width it got (it may have a shorter form). The width is kept with the cells: the
    // fitter asks for it once per optional column it weighs.
    type Measured<'c> = (Vec<Option<CellText<'c>>>, u16);
    let measured: Vec<std::cell::OnceCell<Measured<'c>>> =
        specs.iter().map(|_| std::cell::OnceCell::new()).collect();
    let measure = |i: usize| {
        measured[i].get_or_init(|| {
            let cells: Vec<Option<CellText<'c>>> = match C::at(i) {
                Some(col) => visible.iter().map(|&r| cell(r, col, u16::MAX)).collect(),
                None => Vec::new(),
            };
            let width = cells
                .iter()
                .flatten()
                .map(|c| u16::try_from(c.width()).unwrap_or(u16::MAX))
                .max()
                .unwrap_or(0);
            (cells, width)
        })
    };
    let fitted = fit(&specs, area.width, |i| measure(i).1);
    let mut measured: Vec<Option<Vec<Option<CellText<'c>>>>> = measured
        .into_iter()
        .map(|m| m.into_inner().map(|(cells, _)| cells))
        .collect();
    // Where each shown column starts, as ratatui's `Table` places fixed-width columns.
    let mut x = area.x;
    let columns: Vec<(usize, Rect)> = fitted
        .columns
        .iter()
        .map(|&(i, w)| {
            let r = Rect {
                x,
                y: area.y,
                width: w.min(area.right().saturating_sub(x)),
                height: 1,
            };
            x = x.saturating_add(w).saturating_add(SPACING);
            (i, r)
        })
        .collect();
    let buf = f.buffer_mut();
    if area.height == 0 {
        return fitted;
    }
    for &(i, r) in &columns {
        let h = header_cell(ctx, &specs[i], r.width, sort.filter(|s| s.column == i));
        draw_cell(buf, r, h, &specs[i], ctx.sym.ellipsis);
    }
    let mut y = area.y + 1;
    // One row's cells, gathered before any is drawn (a vanished row is skipped whole, as a
    // `Table` without it); the vector is reused from row to row.
    let mut cells: Vec<CellText<'c>> = Vec::with_capacity(columns.len());
    'rows: for (n, &row) in visible.iter().enumerate() {
        if y >= area.bottom() {
            break;
        }
        cells.clear();
        for &(i, r) in &columns {
            let Some(col) = C::at(i) else { continue 'rows };
            let text = match measured.get_mut(i).and_then(Option::as_mut) {
                Some(measured) => match measured.get_mut(n).and_then(Option::take) {
                    Some(c) if c.width() <= r.width as usize => Some(c),
                    Some(_) => cell(row, col, r.width),
                    // The row vanished while measuring.
                    None => None,
                },
                None => cell(row, col, r.width),
            };
            let Some(text) = text else { continue 'rows };
            cells.push(text);
        }
        let row_area = Rect {
            y,
            height: 1,
            ..area
        };
        if cursor == Some(off + n) {
            buf.set_style(row_area, ctx.theme.selection);
        }
        for (text, &(i, r)) in cells.drain(..).zip(&columns) {
            draw_cell(buf, Rect { y, ..r }, text, &specs[i], ctx.sym.ellipsis);
        }
        y += 1;
    }
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

/// One cell in `r` (one line): cut to its width, aligned, its style over the whole cell (as
/// a styled `Line` in a `Table` cell is drawn).
fn draw_cell(buf: &mut Buffer, r: Rect, text: CellText<'_>, spec: &ColumnSpec, ellipsis: &str) {
    let r = r.intersection(buf.area);
    if r.is_empty() {
        return;
    }
    let w = r.width as usize;
    // A `Rest` column's right alignment would float numbers away from their header.
    let right = spec.align == Align::Right && spec.grow != Grow::Rest;
    match text {
        CellText::Plain(s, style) => {
            let width = str_width(&s);
            if width == 0 {
                return;
            }
            buf.set_style(r, style);
            if width <= w {
                let x = if right { r.x + (w - width) as u16 } else { r.x };
                buf.set_stringn(x, r.y, &*s, w, Style::new());
            } else {
                let cut = cut_str(&s, w, spec.cut, ellipsis);
                buf.set_stringn(r.x, r.y, &cut, w, Style::new());
            }
        }
        CellText::Line(line) => {
            let line = cut_line(line, r.width, spec.cut, ellipsis);
            let width = line.width();
            if width == 0 {
                return;
            }
            buf.set_style(r, line.style);
            let x = if right && width < w {
                r.x + (w - width) as u16
            } else {
                r.x
            };
            buf.set_line(x, r.y, &line, r.width.saturating_sub(x - r.x));
        }
    }
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
) -> CellText<'static> {
    match sort {
        Some(s) => {
            let arrow = if s.descending {
                ctx.sym.sort_desc
            } else {
                ctx.sym.sort_asc
            };
            // The arrow always shows: the name gives way if both do not fit.
            let room = (width as usize).saturating_sub(arrow.chars().count());
            let mut name: CompactString = spec.header.chars().take(room).collect();
            name.push_str(arrow);
            CellText::styled(name, ctx.theme.accent)
        }
        None => CellText::styled(spec.header, ctx.theme.muted),
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
            cut_str(&span.content, width, cut, ellipsis).into_string(),
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
fn cut_str(s: &str, width: usize, cut: Cut, ellipsis: &str) -> CompactString {
    let count = s.chars().count();
    let byte_at = |n: usize| s.char_indices().nth(n).map_or(s.len(), |(b, _)| b);
    let ell = ellipsis.chars().count();
    if width <= ell {
        return CompactString::from(&s[..byte_at(width)]);
    }
    let room = width - ell;
    let (head, tail) = match cut {
        Cut::Middle => (room - room / 2, room / 2),
        Cut::End => (room, 0),
    };
    let (head_end, tail_start) = (byte_at(head), byte_at(count.saturating_sub(tail)));
    let mut out = CompactString::with_capacity(head_end + ellipsis.len() + (s.len() - tail_start));
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

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Col {
        Level,
        Name,
        Count,
        Note,
    }

    impl crate::app::table::ColumnId for Col {
        const ALL: &'static [Self] = &[Col::Level, Col::Name, Col::Count, Col::Note];
    }

    impl Column for Col {
        fn spec(self) -> ColumnSpec {
            match self {
                Col::Level => ColumnSpec::new("LEVEL", 6),
                Col::Name => ColumnSpec::new("NAME", 8).grow_to(12).priority(1),
                Col::Count => ColumnSpec::new("COUNT", 5).right().priority(2),
                Col::Note => ColumnSpec::new("NOTE", 4).rest().cut_end().priority(3),
            }
        }
    }

    /// The cells of the equivalence test: plain, styled, wide, cut, right-aligned, several
    /// styles in one cell, an empty cell.
    fn sample(row: usize, col: Col, bold: Style, red: Style) -> CellText<'static> {
        let names = ["api", "monitoring/grafana-data-old", "日本語の名前", "x"];
        match col {
            Col::Level if row.is_multiple_of(2) => CellText::styled("CRIT", red),
            Col::Level => CellText::from(Line::from(vec![
                Span::styled("!", red),
                Span::styled(" WARN", bold),
            ])),
            Col::Name => CellText::raw(names[row % names.len()]),
            Col::Count => CellText::raw(format!("{}", row * 37)),
            Col::Note if row == 2 => CellText::empty(),
            Col::Note => CellText::styled(
                format!("the reason number {row} is a long sentence that gets cut"),
                bold,
            ),
        }
    }

    /// The cell drawn into the buffer is exactly what ratatui's `Table` drew for the same
    /// cells as `Line`s (text, styles, alignment, cut, the selected row), at several widths:
    /// drawing without `Row`/`Cell`/`Text` changed no cell of the screen.
    #[test]
    fn cells_are_drawn_as_a_ratatui_table_draws_them() {
        use crate::app::table::{Sort, TableState};
        use ratatui::Terminal;
        use ratatui::backend::TestBackend;
        use ratatui::layout::Constraint;
        use ratatui::widgets::{Row, Table};

        let theme = crate::ui::Theme::builtin_dark(false);
        let ctx = ViewCtx {
            theme: &theme,
            sym: &crate::ui::symbols::UNICODE,
        };
        let bold = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        let red = Style::new().fg(ratatui::style::Color::Red);
        let mut state = TableState::new(
            4,
            Sort {
                column: 2,
                descending: true,
            },
        );
        state.order = vec![0, 1, 2, 3, 4, 5];
        state.cursor = 1;
        for (w, h) in [(80u16, 6u16), (40, 8), (23, 4), (120, 10), (9, 3)] {
            let area = Rect::new(0, 0, w, h);
            let mut ours = Terminal::new(TestBackend::new(w, h)).expect("test backend");
            let mut fitted = Fitted::default();
            ours.draw(|f| {
                fitted = render(
                    f,
                    area,
                    ctx,
                    TableView::new(&state).focused(true),
                    |r, c: Col, _| Some(sample(r, c, bold, red)),
                );
            })
            .expect("draw");
            let specs = Col::specs();
            let line_of = |c: CellText<'static>, spec: &ColumnSpec, width: u16| -> Line<'static> {
                let l = match c {
                    CellText::Plain(s, st) => Line::styled(s.to_string(), st),
                    CellText::Line(l) => l,
                };
                let l = cut_line(l, width, spec.cut, ctx.sym.ellipsis);
                if spec.align == Align::Right
                    && spec.grow != Grow::Rest
                    && l.width() < width as usize
                {
                    l.right_aligned()
                } else {
                    l
                }
            };
            let (off, rows_shown) = state.visible(h.saturating_sub(1) as usize);
            let rows: Vec<Row> = rows_shown
                .iter()
                .enumerate()
                .map(|(n, &r)| {
                    let row = Row::new(fitted.columns.iter().map(|&(i, cw)| {
                        let col = <Col as crate::app::table::ColumnId>::ALL[i];
                        line_of(sample(r, col, bold, red), &specs[i], cw)
                    }));
                    if state.cursor == off + n {
                        row.style(ctx.theme.selection)
                    } else {
                        row
                    }
                })
                .collect();
            let header = Row::new(fitted.columns.iter().map(|&(i, cw)| {
                let sort = Some(state.sort).filter(|s| s.column == i);
                line_of(header_cell(ctx, &specs[i], cw, sort), &specs[i], cw)
            }));
            let widths: Vec<Constraint> = fitted
                .columns
                .iter()
                .map(|&(_, cw)| Constraint::Length(cw))
                .collect();
            let mut theirs = Terminal::new(TestBackend::new(w, h)).expect("test backend");
            theirs
                .draw(|f| {
                    f.render_widget(
                        Table::new(rows, widths)
                            .header(header)
                            .column_spacing(SPACING),
                        area,
                    )
                })
                .expect("draw");
            assert!(!fitted.columns.is_empty(), "{w}x{h}: some column fits");
            assert_eq!(
                ours.backend().buffer(),
                theirs.backend().buffer(),
                "{w}x{h}: columns {:?}",
                fitted.columns
            );
        }
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
