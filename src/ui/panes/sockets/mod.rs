//! The sockets pane's drawing (its state is `app::panes::sockets`): `view` draws the summary,
//! the view tabs, the tables, the TCP header meter and the detail view; `columns` how the
//! tables' columns look.

mod columns;
mod view;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::PaneView;
use crate::app::model::Model;
use crate::app::panes::sockets::SocketsPane;
use crate::ui::widgets::ViewCtx;

impl PaneView for SocketsPane {
    fn render(&self, model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect, focused: bool) {
        view::render(self, model, ctx, f, area, focused);
    }

    fn header_meter(&self, model: &Model, ctx: ViewCtx<'_>, width: u16) -> Option<Line<'static>> {
        Some(view::tcp_meter(self, model, ctx, width as usize))
    }

    fn detail_lines(&self, model: &Model, ctx: ViewCtx<'_>) -> Vec<Line<'static>> {
        view::detail_lines(self, model, ctx)
    }
}
