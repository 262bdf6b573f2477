//! The model the UI task owns: settings, per-source feeds, the alert book, pane states, the
//! input mode and overlays. Only `update` mutates it; views only read it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ratatui_textarea::TextArea;

use super::feed::Freshness;
use super::panes::{Pane, SocketsPane};
use crate::config::{Config, RulesConfig};
use crate::domain::Level;
use crate::domain::pane::PaneKind;
use crate::rules::{AlertBook, AlertKey};
use crate::sources::SourceId;

/// What the TUI needs from the configuration (built from `Config` by the caller, or directly
/// by tests).
#[derive(Debug, Clone)]
pub struct Settings {
    pub refresh: Duration,
    pub theme: String,
    pub ascii: bool,
    pub read_only: bool,
    /// Ring the terminal bell on a new critical alert.
    pub bell: bool,
    pub mouse: bool,
    /// Panes shown at once on a large terminal, row by row.
    pub grid: Vec<Vec<PaneKind>>,
    /// Below this size, one pane at a time with tabs.
    pub min_grid_cols: u16,
    pub min_grid_rows: u16,
    pub alert_command: Option<String>,
    pub alert_command_timeout: Duration,
    pub alert_history: usize,
    pub rules: RulesConfig,
    /// Samples kept for the state sparklines (bounded ring buffer).
    pub history_samples: usize,
    /// `sockets.enabled = false`: the pane says "not configured" instead of waiting (and going
    /// STALE) for a source that will never send.
    pub sockets_enabled: bool,
    /// The Kubernetes namespaces the startup asked for (all unless `-n`), for the header;
    /// `:ns` switches change what the panes show (their titles say it).
    pub scope: crate::domain::pods::NamespaceScope,
    /// The Kubernetes request deadline: a Kubernetes pane with no data is STALE after three
    /// refresh intervals or this, whichever is longer.
    pub request_timeout: Duration,
}

impl Default for Settings {
    /// The documented defaults: the same as `Config::default()`.
    fn default() -> Self {
        Settings::from_config(&Config::default())
    }
}

impl Settings {
    /// What the TUI takes from the configuration file (plus `--theme`, `--ascii`, ... already
    /// folded into `config` by the CLI). Unknown pane names in `layout.grid` are skipped.
    pub fn from_config(config: &Config) -> Settings {
        let grid = config
            .layout
            .grid
            .iter()
            .map(|row| {
                row.iter()
                    .filter_map(|name| {
                        let kind = PaneKind::by_name(name);
                        if kind.is_none() {
                            tracing::warn!(pane = %name, "unknown pane name in layout.grid");
                        }
                        kind
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|row| !row.is_empty())
            .collect();
        Settings {
            refresh: config.refresh.0,
            theme: config.theme.clone(),
            ascii: config.ascii,
            read_only: config.read_only,
            bell: config.alerts.bell,
            mouse: config.layout.mouse,
            grid,
            min_grid_cols: config.layout.min_grid_cols,
            min_grid_rows: config.layout.min_grid_rows,
            alert_command: config.alerts.command.clone(),
            alert_command_timeout: config.alerts.command_timeout.0,
            alert_history: config.alerts.history,
            rules: config.rules.clone(),
            history_samples: 240,
            sockets_enabled: config.sockets.enabled,
            scope: crate::domain::pods::NamespaceScope::All,
            request_timeout: config.kubernetes.request_timeout.0,
        }
    }

    /// The grid as shown now: panes whose source does not exist yet are left out (they stay
    /// reachable as tabs and by `:name`), and empty rows collapse.
    pub fn visible_grid(&self) -> Vec<Vec<PaneKind>> {
        self.grid
            .iter()
            .map(|r| {
                r.iter()
                    .copied()
                    .filter(|k| k.spec().available)
                    .collect::<Vec<_>>()
            })
            .filter(|r| !r.is_empty())
            .collect()
    }
}

/// The danger of one subject (a listener, a pid, "host") from the active alerts: the loudest
/// level, and whether that is only pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Danger {
    pub level: Level,
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputMode {
    Normal,
    /// `/`: the filter is applied as it is typed; Esc restores `before`.
    Filter {
        before: String,
    },
    /// `:` command line.
    Command {
        text: String,
    },
}

#[derive(Debug, Clone)]
pub enum Overlay {
    Help,
    /// Enter on a row: details of the selected row in the focused pane.
    Detail,
    /// `a` on an alert: a note typed in a small text area.
    AckNote {
        key: AlertKey,
        input: Box<TextArea<'static>>,
    },
    /// `l` / `L` on a pod: its log tail, fetched by the executor.
    PodLogs(Box<crate::app::logs::PodLogsView>),
    /// F9 / Ctrl-d on a PVC: the guarded delete dialog, driven by the flow's events.
    PvcDelete(Box<crate::app::delete::PvcDeleteDialog>),
    /// `R` on a claim Terminating while in use: the rescue dialog.
    PvcRescue(Box<crate::app::rescue::PvcRescueDialog>),
}

/// A one-line message in the footer (command results, refusals), cleared after a while.
#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub text: String,
    pub level: Level,
    pub until: Instant,
}

#[derive(Debug)]
pub struct Model {
    pub settings: Settings,
    pub now: Instant,
    pub wall: jiff::Timestamp,
    pub started: Instant,
    /// Every pane, in tab order (see `app::panes::registry`); each owns its feed and tables.
    pub panes: Vec<Box<dyn Pane>>,
    pub alerts: AlertBook,
    /// Danger per (source, `rule@subject`) of the sockets pane's rows, recomputed when the
    /// alert book changes (the other panes' rows carry their own verdicts).
    pub danger: HashMap<(SourceId, String), Danger>,
    pub focused: PaneKind,
    /// Panes reachable with Tab/`:name` (the tab bar on a small terminal).
    pub tabs: Vec<PaneKind>,
    pub input: InputMode,
    pub overlay: Option<Overlay>,
    /// First help line shown when the help overlay does not fit the screen.
    pub help_scroll: u16,
    pub flash: Option<Flash>,
    /// `Some(scenario)` when running against the simulated cluster: the header says so loudly.
    pub demo: Option<String>,
    pub theme_request: Option<String>,
    /// Terminal size, from Resize (the view decides grid vs tabs from the frame itself).
    pub size: (u16, u16),
    pub quit: bool,
    /// Where the last frame drew each tab and pane, for mouse clicks. Written by the view
    /// (view-only state, like a table's scroll offset), read by `update`.
    pub click_targets: std::cell::RefCell<Vec<(ratatui::layout::Rect, PaneKind)>>,
    /// Anything changed since the last draw.
    pub dirty: bool,
    /// What changed is the user's doing (a key, a click, a command's result) or a source's
    /// first report: drawn at once. Otherwise (new data, the clock) the change is drawn with
    /// the next frame of the second: the runtime draws data at most about once a second
    /// (`console::runtime::DATA_FRAME`), so a source that reports between two ticks does not
    /// cost a second frame every second. Cleared by the draw.
    pub urgent: bool,
}

impl Model {
    pub fn new(settings: Settings, now: Instant, wall: jiff::Timestamp) -> Model {
        let alerts = AlertBook::new(settings.alert_history);
        let panes = super::panes::registry(&settings, now);
        let tabs = panes.iter().map(|p| p.kind()).collect();
        Model {
            now,
            wall,
            started: now,
            panes,
            alerts,
            danger: HashMap::new(),
            focused: PaneKind::Sockets,
            tabs,
            input: InputMode::Normal,
            overlay: None,
            help_scroll: 0,
            flash: None,
            demo: None,
            theme_request: None,
            size: (80, 24),
            quit: false,
            click_targets: Default::default(),
            dirty: true,
            urgent: true,
            settings,
        }
    }

    pub fn danger_of(&self, source: SourceId, subject: &str) -> Option<Danger> {
        self.danger.get(&(source, subject.to_string())).copied()
    }

    pub fn pane(&self, kind: PaneKind) -> Option<&dyn Pane> {
        self.panes
            .iter()
            .find(|p| p.kind() == kind)
            .map(|p| p.as_ref())
    }

    pub fn focused_pane(&self) -> Option<&dyn Pane> {
        self.pane(self.focused)
    }

    /// The sockets pane (its feed, history and tables).
    pub fn sockets(&self) -> Option<&SocketsPane> {
        self.pane(PaneKind::Sockets)
            .and_then(|p| p.as_any().downcast_ref())
    }

    /// Freshness of the feed behind a pane (`None` for panes without a source yet).
    pub fn freshness(&self, source: SourceId) -> Option<Freshness> {
        self.panes
            .iter()
            .find(|p| p.kind().spec().source == Some(source))
            .and_then(|p| p.freshness(self.now))
    }

    /// Any source STALE: the header says so.
    pub fn any_stale(&self) -> bool {
        self.panes
            .iter()
            .any(|p| p.freshness(self.now).is_some_and(|f| f.is_stale()))
    }

    pub fn flash(&mut self, text: impl Into<String>, level: Level) {
        self.flash = Some(Flash {
            text: text.into(),
            level,
            until: self.now + Duration::from_secs(5),
        });
    }
}

/// The text area of the acknowledgement note (`a` on an alert).
pub fn ack_input() -> ratatui_textarea::TextArea<'static> {
    let mut t = ratatui_textarea::TextArea::default();
    t.set_placeholder_text("who is on it / ticket / why");
    t.set_max_histories(16);
    t
}
