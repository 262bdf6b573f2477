//! One table component for every pane: typed columns with hard width bounds, shown whole or
//! hidden by priority (never squashed to a few characters), cells formatted knowing their
//! width, names cut in the middle, numbers right-aligned.
//!
//! - [`column`]: [`ColumnSpec`] (header, minimum width, growth, priority, alignment, cut), the
//!   [`Column`] trait for a table's column enum (how the columns of
//!   [`ColumnId`](crate::app::table::ColumnId) look), and the fitter ([`fit`]).
//! - [`render`](mod@render): drawing a [`TableState`](crate::app::table::TableState)'s visible
//!   rows with the columns that fit.
//!
//! The state part (order, selection, filter, sort with cached keys) is
//! [`crate::app::table`]; the row set implements
//! [`TableData`](crate::app::table::TableData) and the pane formats cells.
//!
//! # Example
//!
//! ```
//! use ondeck::app::table::{ColumnId, Sort, TableState};
//! use ondeck::ui::table::{self, Column, ColumnSpec, TableView};
//! use ratatui::text::Line;
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq)]
//! enum CertColumn { Danger, Host, Expires }
//!
//! // The state's side: which columns there are (a column's index is its sort column).
//! impl ColumnId for CertColumn {
//!     const ALL: &'static [Self] = &[Self::Danger, Self::Host, Self::Expires];
//! }
//!
//! // The view's side: how each looks.
//! impl Column for CertColumn {
//!     fn spec(self) -> ColumnSpec {
//!         match self {
//!             // Kept longest; 10 cells fit "✖ CRITICAL".
//!             Self::Danger => ColumnSpec::new("DANGER", 10),
//!             // Grows with the names shown, up to 40; cut in the middle when narrow.
//!             Self::Host => ColumnSpec::new("HOST", 16).grow_to(40).priority(1),
//!             // A number: right-aligned, dropped first.
//!             Self::Expires => ColumnSpec::new("EXPIRES", 7).right().priority(2),
//!         }
//!     }
//! }
//!
//! // Which columns a 30-cell pane shows: DANGER and HOST; EXPIRES does not fit.
//! assert_eq!(table::shown::<CertColumn>(30), vec![CertColumn::Danger, CertColumn::Host]);
//!
//! // Drawing (in a pane's `render`), with `hosts` the snapshot's rows:
//! fn draw(f: &mut ratatui::Frame, area: ratatui::layout::Rect,
//!         ctx: ondeck::ui::widgets::ViewCtx<'_>, state: &TableState, hosts: &[(&str, u32)]) {
//!     table::render(f, area, ctx, TableView::new(state).focused(true)
//!         .empty("no certificates", "no certificates match the filter"),
//!         |row, col: CertColumn, _width| {
//!             let (host, days) = hosts.get(row)?;
//!             Some(match col {
//!                 CertColumn::Danger => Line::raw("✓ OK"),
//!                 CertColumn::Host => Line::raw(host.to_string()),
//!                 CertColumn::Expires => Line::raw(format!("{days}d")),
//!             })
//!         });
//! }
//! # let _ = (draw, TableState::new(3, Sort { column: 0, descending: false }));
//! ```

pub mod cell;
pub mod column;
pub mod render;

pub use cell::{CellStr, CellText};
pub use column::{Align, Column, ColumnSpec, Cut, FAIR_WIDTH, Fitted, Grow, fit, shown_columns};
pub use render::{TableView, cut_line, render, shown};
