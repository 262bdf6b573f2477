//! The PVCs pane's drawing (incident 5; its state is `app::panes::pvcs`): every claim ranked by danger with what deleting it would mean
//! (AT RISK: its PV and data go with it; UNUSED: a cleanup candidate; IN USE), its used space and
//! the pods that mount it; a second view (`v`, `1`/`2`) of every PersistentVolume with the
//! orphaned ones (Released/Failed) flagged. F9 opens the guarded delete for the selected claim.
//! Narrow panes drop low-priority columns; the selected claim's reasons stay visible below the
//! table. Every string from the cluster goes through `sanitize` here.

mod columns;
mod detail;
mod view;

use compact_str::CompactString;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::PaneView;
use crate::app::model::{Danger, Model};
use crate::app::panes::pvcs::*;
use crate::app::table::ColumnId;
use crate::domain::Level;
use crate::domain::pvcs::{
    Marker, PvRow, PvcRow, PvcRule, PvcsSnapshot, StorageClassInfo, UsageStatus, UsedSpace,
    human_bytes,
};
use crate::sources::SourceError;
use crate::ui::sanitize;
use crate::ui::table::{self, CellText, Column, TableView};
use crate::ui::widgets::{ViewCtx, danger_span, danger_text, freshness_line, pane_block};

use detail::*;
use view::*;

impl PaneView for PvcsPane {
    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        render(self, model, ctx, f, area, focused);
    }

    fn header_meter(&self, model: &Model, ctx: ViewCtx<'_>, width: u16) -> Option<Line<'static>> {
        header_meter(self, model, ctx, width)
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        match self.view {
            PvcsView::Claims => claim_detail_lines(self, model, ctx),
            PvcsView::Volumes => volume_detail_lines(self, model, ctx),
        }
    }
}

/// The name of the view's column `index`.
pub fn column_name(view: PvcsView, index: usize) -> Option<&'static str> {
    match view {
        PvcsView::Claims => ClaimColumn::at(index).map(|c| c.spec().header),
        PvcsView::Volumes => VolumeColumn::at(index).map(|c| c.spec().header),
    }
}

/// Whether column `index` shows in `width` cells.
pub fn shows(view: PvcsView, index: usize, width: u16) -> bool {
    let specs = match view {
        PvcsView::Claims => ClaimColumn::specs(),
        PvcsView::Volumes => VolumeColumn::specs(),
    };
    table::shown_columns(&specs, width).contains(&index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_panes_keep_the_columns_that_matter() {
        let names = |w| -> Vec<&str> {
            table::shown::<ClaimColumn>(w)
                .into_iter()
                .map(|c| c.spec().header)
                .collect()
        };
        let at80 = names(78);
        for must in ["DANGER", "NAMESPACE", "NAME", "STATUS", "MARKERS"] {
            assert!(at80.contains(&must), "{must} missing at 80: {at80:?}");
        }
        assert!(!at80.contains(&"VOLUME") && !at80.contains(&"ACCESS"));
        assert_eq!(names(198).len(), ClaimColumn::ALL.len());
        // Display order is the column order, not the priority order.
        assert_eq!(at80.first(), Some(&"DANGER"));
    }

    #[test]
    fn wrap_keeps_words_and_cuts_long_ones() {
        assert_eq!(wrap_text("a bb ccc", 10), vec!["a bb ccc"]);
        assert_eq!(wrap_text("aaaa bbbb cccc", 10), vec!["aaaa bbbb", "cccc"]);
        assert_eq!(wrap_text(&"x".repeat(25), 10).len(), 3);
        assert_eq!(wrap_text("", 10), vec![""]);
    }
}
