//! Column specs and the fitter: which columns a width can show, and how wide each gets.
//!
//! A column has hard bounds (bottom's `DataTable`): it is shown at least at its minimum width
//! or not at all, never squashed to a few characters. Columns are dropped by priority (0 is
//! kept longest); a column is never dropped while one of a lower priority (a larger number)
//! is shown. What is left after every shown column has its minimum goes to the growing
//! columns: first to the content-sized ones up to what their visible cells need, then the
//! rest to the [`Grow::Rest`] column(s).

use crate::app::table::ColumnId;

/// How a cell is aligned in its column. Numbers are right-aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Where a cell too wide for its column is cut, with an ellipsis (`…`, `~` under `--ascii`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// In the middle, both ends kept: names (`monitoring…-data-old` vs `monitoring…fana-data`).
    Middle,
    /// At the end: prose (reasons).
    End,
}

/// How a column takes space beyond its minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grow {
    /// Always its minimum.
    Fixed,
    /// Up to the widest visible cell, at most this many cells, when there is room.
    Content(u16),
    /// Whatever is left (e.g. REASONS). Several `Rest` columns share it.
    Rest,
}

/// One column: its header, bounds, priority, alignment and cut. Built with the `const`
/// builders: `ColumnSpec::new("AGE", 4).right().priority(5)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    pub header: &'static str,
    /// Shown at least this wide or hidden (never less than the header's width).
    pub min: u16,
    pub grow: Grow,
    /// 0 is kept longest when the width runs out.
    pub priority: u8,
    pub align: Align,
    pub cut: Cut,
    /// Shown only when its visible cells say something and every other shown column still
    /// gets the width its visible cells need (an alert's LIMIT and ACK): extra detail never
    /// costs the main columns their cells.
    pub optional: bool,
    /// How wide a content-sized column grows before the others have grown (the fitter's
    /// first pass): [`FAIR_WIDTH`], or more for the column a table is about.
    pub fair: u16,
}

impl ColumnSpec {
    pub const fn new(header: &'static str, min: u16) -> ColumnSpec {
        ColumnSpec {
            header,
            min,
            grow: Grow::Fixed,
            priority: 0,
            align: Align::Left,
            cut: Cut::Middle,
            optional: false,
            fair: FAIR_WIDTH,
        }
    }

    /// Grows up to `fair` cells before the other columns grow (default [`FAIR_WIDTH`]): the
    /// column the table is about (an alert's subject).
    pub const fn fair(mut self, fair: u16) -> ColumnSpec {
        self.fair = fair;
        self
    }

    /// See [`ColumnSpec::optional`] (the field).
    pub const fn optional(mut self) -> ColumnSpec {
        self.optional = true;
        self
    }

    pub const fn priority(mut self, priority: u8) -> ColumnSpec {
        self.priority = priority;
        self
    }

    /// Right-aligned (numbers).
    pub const fn right(mut self) -> ColumnSpec {
        self.align = Align::Right;
        self
    }

    /// Grows with its content up to `max` cells.
    pub const fn grow_to(mut self, max: u16) -> ColumnSpec {
        self.grow = Grow::Content(max);
        self
    }

    /// Takes the width left over.
    pub const fn rest(mut self) -> ColumnSpec {
        self.grow = Grow::Rest;
        self
    }

    /// Cut at the end instead of the middle (prose).
    pub const fn cut_end(mut self) -> ColumnSpec {
        self.cut = Cut::End;
        self
    }

    /// The width below which the column is hidden: its `min`, at least its header.
    pub fn min_width(&self) -> u16 {
        self.min
            .max(u16::try_from(self.header.chars().count()).unwrap_or(u16::MAX))
    }
}

/// How a table's typed columns look: the view side of [`ColumnId`] (an enum with one variant
/// per column).
///
/// A column's position in [`ColumnId::ALL`] is its index in [`crate::app::table::TableState`]
/// (its `sort.column`) and in the row set's `sort_key` / `compare`.
pub trait Column: ColumnId {
    fn spec(self) -> ColumnSpec;

    /// The specs of [`ColumnId::ALL`], in display order.
    fn specs() -> Vec<ColumnSpec> {
        Self::ALL.iter().map(|c| c.spec()).collect()
    }
}

/// Cells between two columns.
pub const SPACING: u16 = 1;

/// How wide every content-sized column may get before any grows further (most names fit):
/// one long name never takes all the room from the others.
pub const FAIR_WIDTH: u16 = 32;

/// The columns a width shows, in display order, with their widths.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fitted {
    /// `(index in the specs, width)`.
    pub columns: Vec<(usize, u16)>,
}

impl Fitted {
    pub fn shows(&self, index: usize) -> bool {
        self.columns.iter().any(|&(i, _)| i == index)
    }

    pub fn width_of(&self, index: usize) -> Option<u16> {
        self.columns
            .iter()
            .find(|&&(i, _)| i == index)
            .map(|&(_, w)| w)
    }

    /// Cells used, separators included.
    pub fn total_width(&self) -> u16 {
        let cols: u16 = self.columns.iter().map(|&(_, w)| w).sum();
        cols + SPACING * (self.columns.len() as u16).saturating_sub(1)
    }
}

/// Which columns fit in `width` cells at their minimum, in display order. Columns are taken
/// by priority (ties: display order) until the next one does not fit; nothing of a lower
/// priority is taken after that, so a more important column is never hidden while a less
/// important one shows.
pub fn shown_columns(specs: &[ColumnSpec], width: u16) -> Vec<usize> {
    let mut by_priority: Vec<usize> = (0..specs.len()).collect();
    by_priority.sort_by_key(|&i| (specs[i].priority, i));
    let mut used = 0u32;
    let mut shown = Vec::with_capacity(specs.len());
    for i in by_priority {
        let need = u32::from(specs[i].min_width())
            + if shown.is_empty() {
                0
            } else {
                u32::from(SPACING)
            };
        if used + need > u32::from(width) {
            break;
        }
        used += need;
        shown.push(i);
    }
    shown.sort_unstable();
    shown
}

/// The columns shown in `width` cells and their widths. `content(i)` is the width the visible
/// cells of column `i` need (only asked for [`Grow::Content`] columns).
pub fn fit(specs: &[ColumnSpec], width: u16, content: impl Fn(usize) -> u16) -> Fitted {
    let mut shown = shown_columns(specs, width);
    drop_optional(specs, width, &content, &mut shown);
    let mut widths: Vec<u16> = shown.iter().map(|&i| specs[i].min_width()).collect();
    let used = widths.iter().sum::<u16>() + SPACING * (shown.len() as u16).saturating_sub(1);
    let mut left = width.saturating_sub(used);
    let mut by_priority: Vec<usize> = (0..shown.len()).collect();
    by_priority.sort_by_key(|&k| (specs[shown[k]].priority, shown[k]));
    let wants: Vec<u16> = shown
        .iter()
        .map(|&i| match specs[i].grow {
            Grow::Content(max) => content(i).min(max),
            _ => 0,
        })
        .collect();
    // Two passes: every content-sized column first up to its fair width (FAIR_WIDTH unless
    // set), then to what it needs.
    for first in [true, false] {
        for &k in &by_priority {
            if matches!(specs[shown[k]].grow, Grow::Content(_)) {
                let cap = if first {
                    specs[shown[k]].fair
                } else {
                    u16::MAX
                };
                let want = wants[k].min(cap).max(widths[k]);
                let extra = (want - widths[k]).min(left);
                widths[k] += extra;
                left -= extra;
            }
        }
    }
    let rest: Vec<usize> = (0..shown.len())
        .filter(|&k| specs[shown[k]].grow == Grow::Rest)
        .collect();
    if !rest.is_empty() {
        let n = rest.len() as u16;
        let (each, mut odd) = (left / n, left % n);
        for k in rest {
            widths[k] += each + u16::from(odd > 0);
            odd = odd.saturating_sub(1);
        }
    }
    Fitted {
        columns: shown.into_iter().zip(widths).collect(),
    }
}

/// Removes from `shown` the optional columns that are empty or that would take cells the
/// others' visible content needs, the least important first.
fn drop_optional(
    specs: &[ColumnSpec],
    width: u16,
    content: &impl Fn(usize) -> u16,
    shown: &mut Vec<usize>,
) {
    if !shown.iter().any(|&i| specs[i].optional) {
        return;
    }
    let want = |i: usize| -> u32 {
        let min = specs[i].min_width();
        u32::from(match specs[i].grow {
            Grow::Content(max) if !specs[i].optional => content(i).min(max).max(min),
            _ => min,
        })
    };
    let mut optional: Vec<usize> = shown
        .iter()
        .copied()
        .filter(|&i| specs[i].optional)
        .collect();
    optional.sort_by_key(|&i| std::cmp::Reverse((specs[i].priority, i)));
    for i in optional {
        let need: u32 = shown.iter().map(|&j| want(j)).sum::<u32>()
            + u32::from(SPACING) * (shown.len() as u32).saturating_sub(1);
        if content(i) == 0 || need > u32::from(width) {
            shown.retain(|&j| j != i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_at_the_first_column_that_does_not_fit() {
        let specs = [
            ColumnSpec::new("A", 10).priority(0),
            ColumnSpec::new("B", 20).priority(1),
            ColumnSpec::new("C", 3).priority(2),
        ];
        // B does not fit in 25; C would, but it matters less than B.
        assert_eq!(shown_columns(&specs, 25), vec![0]);
        assert_eq!(shown_columns(&specs, 31), vec![0, 1]);
        assert_eq!(shown_columns(&specs, 35), vec![0, 1, 2]);
        assert!(shown_columns(&specs, 5).is_empty());
    }

    #[test]
    fn optional_columns_give_way_to_the_others_content_and_hide_when_empty() {
        let specs = [
            ColumnSpec::new("A", 10),
            ColumnSpec::new("B", 10).grow_to(40).priority(1),
            ColumnSpec::new("LIMIT", 6)
                .grow_to(12)
                .optional()
                .priority(2),
        ];
        // B's cells need 30: 10 + 30 + 6 + 2 = 48 cells.
        let content = |c: usize| if c == 1 { 30 } else { 6 };
        assert!(fit(&specs, 48, content).shows(2));
        let f = fit(&specs, 47, content);
        assert!(!f.shows(2), "{f:?}");
        assert_eq!(f.width_of(1), Some(30), "B gets its cells: {f:?}");
        // Empty optional columns are not shown at any width.
        assert!(!fit(&specs, 200, |c| if c == 2 { 0 } else { 8 }).shows(2));
    }

    #[test]
    fn the_header_is_the_least_a_column_gets() {
        let s = ColumnSpec::new("RESTARTS", 3);
        assert_eq!(s.min_width(), 8);
    }

    #[test]
    fn content_columns_share_before_one_takes_everything_and_rest_takes_the_remainder() {
        let specs = [
            ColumnSpec::new("NAME", 16).grow_to(48),
            ColumnSpec::new("CLAIM", 20).grow_to(48).priority(1),
            ColumnSpec::new("REASONS", 10).rest().priority(2),
        ];
        // 40-wide names and a 27-wide claim in 90 cells: the claim fits whole.
        let f = fit(&specs, 90, |c| if c == 0 { 40 } else { 27 });
        assert_eq!(f.width_of(1), Some(27), "{f:?}");
        assert_eq!(f.total_width(), 90, "{f:?}");
        assert!(f.width_of(2).is_some_and(|w| w >= 10));
    }
}
