//! Which columns fit a pane's width, how wide each gets, and cutting a cell with a visible ellipsis.

use super::*;

/// How a column takes space beyond its minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grow {
    /// Always its minimum.
    No,
    /// Up to the widest visible value, at most this many cells, when there is room.
    Fit(u16),
    /// Whatever is left (the REASONS column).
    Rest,
}

/// One column: its header, its minimum width, how it grows, and how much it matters when the
/// pane is narrow (`keep` 0 is dropped last).
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    pub min: u16,
    pub grow: Grow,
    pub keep: u8,
}

pub(super) const fn col(name: &'static str, min: u16, grow: Grow, keep: u8) -> Col {
    Col {
        name,
        min,
        grow,
        keep,
    }
}

/// The PVC view. At 80 columns DANGER, NAMESPACE, NAME, STATUS, MARKERS and USED stay; the
/// selected claim's reasons show below the table.
pub const PVC_COLUMNS: &[Col] = &[
    col("DANGER", 10, Grow::No, 0),
    col("NAMESPACE", 10, Grow::Fit(20), 2),
    col("NAME", 16, Grow::Fit(48), 1),
    col("STATUS", 11, Grow::No, 3),
    col("CAPACITY", 8, Grow::No, 7),
    col("USED", 9, Grow::No, 5),
    col("STORAGECLASS", 12, Grow::No, 11),
    col("VOLUME", 16, Grow::Fit(40), 12),
    col("RECLAIM", 7, Grow::No, 8),
    col("ACCESS", 6, Grow::No, 13),
    col("USED BY", 20, Grow::Fit(48), 10),
    col("AGE", 5, Grow::No, 9),
    col("MARKERS", 14, Grow::No, 4),
    col("REASONS", 20, Grow::Rest, 6),
];

/// The PV view.
pub const PV_COLUMNS: &[Col] = &[
    col("NAME", 16, Grow::Fit(48), 0),
    col("PHASE", 11, Grow::No, 1),
    col("RECLAIM", 7, Grow::No, 4),
    col("CLAIM", 20, Grow::Fit(48), 5),
    col("STORAGECLASS", 12, Grow::No, 9),
    col("CAPACITY", 8, Grow::No, 7),
    col("AGE", 5, Grow::No, 8),
    col("DANGER", 10, Grow::No, 2),
    col("FLAG", 8, Grow::No, 3),
    col("REASONS", 20, Grow::Rest, 6),
];

pub(super) const PV_DANGER: usize = 7;

/// Which columns fit in `width` cells at their minimum (one space between columns), in their
/// display order.
pub fn fit_columns(cols: &[Col], width: u16) -> Vec<usize> {
    let mut by_keep: Vec<usize> = (0..cols.len()).collect();
    by_keep.sort_by_key(|&i| cols[i].keep);
    let mut used = 0u16;
    let mut shown = Vec::with_capacity(cols.len());
    for i in by_keep {
        let need = cols[i].min + u16::from(!shown.is_empty());
        if used + need <= width {
            used += need;
            shown.push(i);
        }
    }
    shown.sort_unstable();
    shown
}

/// How wide every growing column may get before any grows further (most names fit).
pub(super) const FAIR_WIDTH: u16 = 32;

/// `line` cut to `width` cells with the ellipsis in the middle, so both ends stay visible:
/// `monitoring/grafana-data-old` and `monitoring/grafana-data` never look alike when cut.
pub fn fit_line<'a>(line: Line<'a>, width: u16, ellipsis: &str) -> Line<'a> {
    let width = width as usize;
    if line.width() <= width || width == 0 {
        return line;
    }
    let chars: Vec<(char, ratatui::style::Style)> = line
        .spans
        .iter()
        .flat_map(|sp| {
            let style = line.style.patch(sp.style);
            sp.content.chars().map(move |c| (c, style))
        })
        .collect();
    let room = width.saturating_sub(ellipsis.chars().count());
    let tail = room / 2;
    let head = room - tail;
    let mut spans: Vec<Span<'a>> = Vec::new();
    let mut push = |c: char, st: ratatui::style::Style| match spans.last_mut() {
        Some(last) if last.style == st => last.content.to_mut().push(c),
        _ => spans.push(Span::styled(c.to_string(), st)),
    };
    for &(c, st) in chars.iter().take(head) {
        push(c, st);
    }
    let mid_style = chars.get(head).map(|&(_, st)| st).unwrap_or_default();
    for c in ellipsis.chars() {
        push(c, mid_style);
    }
    for &(c, st) in chars.iter().skip(chars.len().saturating_sub(tail)) {
        push(c, st);
    }
    Line::from(spans)
}

/// The columns shown in `width` cells and their widths: the columns that fit at their
/// minimum, then the room left given to the growing ones (most important first) up to their
/// widest visible value (`content`); the REASONS column takes the rest.
pub fn layout_columns(
    cols: &[Col],
    width: u16,
    content: impl Fn(usize) -> u16,
) -> (Vec<usize>, Vec<Constraint>) {
    let shown = fit_columns(cols, width);
    let used: u16 =
        shown.iter().map(|&c| cols[c].min).sum::<u16>() + (shown.len() as u16).saturating_sub(1);
    let mut left = width.saturating_sub(used);
    let mut widths: Vec<u16> = shown.iter().map(|&c| cols[c].min).collect();
    let mut by_keep: Vec<usize> = (0..shown.len()).collect();
    by_keep.sort_by_key(|&k| cols[shown[k]].keep);
    // Two passes: every growing column first up to FAIR_WIDTH (so a claim's full
    // `namespace/name` fits before a PV's long uid-based name takes the room), then to its max.
    let wants: Vec<u16> = shown.iter().map(|&c| content(c)).collect();
    for cap in [FAIR_WIDTH, u16::MAX] {
        for &k in &by_keep {
            if let Grow::Fit(max) = cols[shown[k]].grow {
                let want = wants[k].clamp(widths[k], max.min(cap).max(widths[k]));
                let extra = (want - widths[k]).min(left);
                widths[k] += extra;
                left -= extra;
            }
        }
    }
    let constraints = shown
        .iter()
        .zip(widths)
        .map(|(&c, w)| match cols[c].grow {
            Grow::Rest => Constraint::Min(w),
            _ => Constraint::Length(w),
        })
        .collect();
    (shown, constraints)
}

#[cfg(test)]
mod fit_tests {
    use super::*;

    #[test]
    fn a_cut_name_keeps_both_ends_and_says_it_was_cut() {
        let cut = |s: &str, w| {
            fit_line(Line::from(s.to_string()), w, "…")
                .spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
        };
        let old = cut("monitoring/grafana-data-old", 20);
        let live = cut("monitoring/grafana-data", 20);
        assert_eq!(old, "monitoring…-data-old");
        assert_eq!(live, "monitoring…fana-data");
        assert_eq!((old.chars().count(), live.chars().count()), (20, 20));
        assert_eq!(cut("short", 20), "short");
        assert_eq!(cut("abcdef", 3), "a…f");
    }

    #[test]
    fn growing_columns_share_before_one_takes_everything() {
        let cols = [
            col("NAME", 16, Grow::Fit(48), 0),
            col("CLAIM", 20, Grow::Fit(48), 1),
        ];
        // 40-wide PV names and a 27-wide claim in 70 cells: the claim fits whole.
        let (_, w) = layout_columns(&cols, 70, |c| if c == 0 { 40 } else { 27 });
        assert_eq!(w[1], Constraint::Length(27), "{w:?}");
    }
}
