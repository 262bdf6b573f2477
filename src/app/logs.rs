//! The pod log overlay's state: which container's log, loading or the text (or the error),
//! and how far the user scrolled back. The executor fills it; `ui::panes::pods::render_logs`
//! draws it.

/// The log overlay of one pod container: loading, then the raw text (sanitized when drawn) or
/// the error. Shows the tail that fits; `k`/`j` scroll back and forth. Opened by `l`/`L` on the
/// pods pane (`app::panes::pods::PodsPane::key_request`); the executor fills it through a `LogFetcher`.
#[derive(Debug, Clone)]
pub struct PodLogsView {
    pub pod: crate::domain::pods::PodKey,
    pub container: String,
    pub previous: bool,
    /// `None` while loading.
    pub result: Option<Result<String, String>>,
    pub truncated: bool,
    /// Lines scrolled back from the end.
    pub back: usize,
}

impl PodLogsView {
    pub fn loading(pod: crate::domain::pods::PodKey, container: String, previous: bool) -> Self {
        PodLogsView {
            pod,
            container,
            previous,
            result: None,
            truncated: false,
            back: 0,
        }
    }

    pub fn done(
        pod: crate::domain::pods::PodKey,
        container: String,
        previous: bool,
        result: Result<crate::sources::kube::logs::LogTail, crate::sources::SourceError>,
    ) -> Self {
        let truncated = result.as_ref().is_ok_and(|t| t.truncated);
        PodLogsView {
            result: Some(result.map(|t| t.text).map_err(|e| e.to_string())),
            truncated,
            ..PodLogsView::loading(pod, container, previous)
        }
    }

    pub fn same_request(&self, other: &PodLogsView) -> bool {
        self.pod == other.pod
            && self.container == other.container
            && self.previous == other.previous
    }

    /// Handles a key; `false` closes the overlay.
    pub fn on_key(&mut self, code: crossterm::event::KeyCode) -> bool {
        use crossterm::event::KeyCode;
        match code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter => false,
            KeyCode::Char('k') | KeyCode::Up => {
                self.back = self.back.saturating_add(1);
                true
            }
            KeyCode::Char('j') | KeyCode::Down => {
                self.back = self.back.saturating_sub(1);
                true
            }
            KeyCode::PageUp => {
                self.back = self.back.saturating_add(10);
                true
            }
            KeyCode::PageDown => {
                self.back = self.back.saturating_sub(10);
                true
            }
            _ => true,
        }
    }
}
