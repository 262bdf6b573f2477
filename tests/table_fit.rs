//! The table component's fitter (`ui::table::fit`): property tests over random column sets
//! and widths. Chosen columns fit the width with their separators; each gets at least its
//! minimum (a column is shown whole or hidden); a more important column is never hidden while
//! a less important one shows; content-sized columns stay within their cap unless their
//! minimum is larger.

use ondeck::ui::table::{ColumnSpec, Grow, fit, shown_columns};
use proptest::prelude::*;

const HEADERS: [&str; 8] = [
    "A", "BB", "NAME", "STATUS", "RESTARTS", "X", "REASONS", "AGE",
];

fn spec() -> impl Strategy<Value = ColumnSpec> {
    (
        0usize..HEADERS.len(),
        1u16..30,
        0u8..6,
        0u8..3,
        1u16..60,
        any::<bool>(),
    )
        .prop_map(|(h, min, priority, grow, cap, right)| {
            let s = ColumnSpec::new(HEADERS[h], min).priority(priority);
            let s = match grow {
                0 => s,
                1 => s.grow_to(cap),
                _ => s.rest(),
            };
            if right { s.right() } else { s }
        })
}

proptest! {
    #[test]
    fn fitted_columns_fit_whole_and_by_priority(
        specs in prop::collection::vec(spec(), 0..12),
        width in 0u16..260,
        content in prop::collection::vec(0u16..80, 12),
    ) {
        let f = fit(&specs, width, |i| content[i]);
        // Everything shown fits, separators included.
        let total: u32 = f.columns.iter().map(|&(_, w)| u32::from(w)).sum::<u32>()
            + f.columns.len().saturating_sub(1) as u32;
        prop_assert!(total <= u32::from(width), "{total} > {width}: {f:?}");
        prop_assert_eq!(u32::from(f.total_width()), total);
        // Display order, no duplicates.
        prop_assert!(f.columns.windows(2).all(|w| w[0].0 < w[1].0), "{:?}", f);
        for &(i, w) in &f.columns {
            // Whole: at least the minimum (and the header).
            prop_assert!(w >= specs[i].min_width(), "col {i} width {w} < min {}", specs[i].min_width());
            prop_assert!(w >= specs[i].header.chars().count() as u16);
            if let Grow::Content(cap) = specs[i].grow {
                prop_assert!(w <= cap.max(specs[i].min_width()), "col {i} grew past its cap: {w}");
            }
            if specs[i].grow == Grow::Fixed {
                prop_assert_eq!(w, specs[i].min_width());
            }
        }
        // Priority: a hidden column never matters more than a shown one.
        for hidden in (0..specs.len()).filter(|i| !f.shows(*i)) {
            for &(shown, _) in &f.columns {
                prop_assert!(
                    specs[hidden].priority >= specs[shown].priority,
                    "column {hidden} (priority {}) hidden while {shown} (priority {}) shows",
                    specs[hidden].priority, specs[shown].priority
                );
            }
        }
        // The fitter and `shown_columns` agree on the set.
        let set: Vec<usize> = f.columns.iter().map(|&(i, _)| i).collect();
        prop_assert_eq!(set, shown_columns(&specs, width));
    }

    #[test]
    fn a_rest_column_takes_what_is_left(
        min in 1u16..20,
        width in 40u16..200,
    ) {
        let specs = [
            ColumnSpec::new("DANGER", 10),
            ColumnSpec::new("REASONS", min).rest().priority(1),
        ];
        let f = fit(&specs, width, |_| 0);
        prop_assert_eq!(f.total_width(), width);
    }

    #[test]
    fn more_width_never_hides_a_column(
        specs in prop::collection::vec(spec(), 0..12),
        width in 0u16..200,
        extra in 0u16..60,
    ) {
        let narrow = shown_columns(&specs, width);
        let wide = shown_columns(&specs, width + extra);
        prop_assert!(narrow.iter().all(|c| wide.contains(c)), "{narrow:?} not in {wide:?}");
    }
}
