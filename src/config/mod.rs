//! The configuration file: TOML at `$XDG_CONFIG_HOME/ondeck/config.toml` (or `--config`).
//! Every default from the spec's danger rules lives here, so `ondeck config init` can write them
//! out and a user can change any of them. A malformed file or an unknown key is an error with
//! the path, line and column; it never panics and never silently falls back to defaults.

pub mod certs;
mod locate;
pub mod probes;
mod rules;

pub use rules::*;

use locate::{Bad, line_col, locate};

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::Level;

/// The commented default configuration written by `ondeck config init`. A test checks that it
/// parses to exactly `Config::default()`.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../assets/config.default.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A value out of its range or inconsistent with another; `at` is its line and column
    /// when the file has it (a default can only be wrong in combination with a set value).
    #[error("{}{}: {message}", path.display(), at.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        at: Option<(usize, usize)>,
        message: String,
    },
}

/// The longest duration any setting accepts (a year and a day): beyond that every number is a
/// typo, and some would overflow date arithmetic.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Pane names (and aliases) `layout.grid` accepts; the first six are the names the error
/// lists. A test in `ui::panes` checks that each resolves to a pane and every pane is here.
pub const PANE_NAMES: &[&str] = &[
    "sockets",
    "alerts",
    "pods",
    "pvcs",
    "certs",
    "probes",
    "pvc",
    "sock",
    "tcp",
    "alert",
    "pod",
    "po",
    "cert",
    "certificates",
    "probe",
    "http",
];

/// The columns and rows a grid cell needs: a grid that cannot give each pane this much at
/// `min_grid_cols` x `min_grid_rows` is an error.
pub const MIN_PANE_COLS: u16 = 40;
pub const MIN_PANE_ROWS: u16 = 8;

/// A duration written as humantime text in the file (`"15m"`, `"1s"`, `"250ms"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct HumanDuration(pub Duration);

impl From<HumanDuration> for Duration {
    fn from(h: HumanDuration) -> Duration {
        h.0
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(self.0).to_string())
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let d = humantime::parse_duration(s.trim())
            .map_err(|e| serde::de::Error::custom(format!("invalid duration {s:?}: {e}")))?;
        // Range-checked where it enters: the rules add these to timestamps.
        if d > MAX_DURATION {
            return Err(serde::de::Error::custom(format!(
                "duration {s:?} is out of range (at most {} days)",
                MAX_DURATION.as_secs() / 86_400
            )));
        }
        Ok(HumanDuration(d))
    }
}

fn secs(n: u64) -> HumanDuration {
    HumanDuration(Duration::from_secs(n))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// How often sources poll.
    pub refresh: HumanDuration,
    /// Theme name: one of the built-in themes or a file in `<config dir>/themes/NAME.toml`.
    pub theme: String,
    /// No box-drawing or non-ASCII glyphs.
    pub ascii: bool,
    /// Refuse every mutating request, whatever asks for it.
    pub read_only: bool,
    pub layout: LayoutConfig,
    pub alerts: AlertsConfig,
    pub sockets: SocketsConfig,
    pub kubernetes: KubernetesConfig,
    pub backup: BackupConfig,
    /// `[certs]`: what the certificates source watches (`certs::CertsConfig`).
    pub certs: certs::CertsConfig,
    pub rules: RulesConfig,
    /// `[probing]`: settings shared by the HTTP probes and the Kubernetes probe audit.
    pub probing: probes::ProbeSettings,
    /// `[[probes]]`: the HTTP(S) endpoints to probe (see `config::probes`).
    pub probes: Vec<probes::ProbeConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            refresh: secs(2),
            theme: "dark".into(),
            ascii: false,
            read_only: false,
            layout: LayoutConfig::default(),
            alerts: AlertsConfig::default(),
            sockets: SocketsConfig::default(),
            kubernetes: KubernetesConfig::default(),
            backup: BackupConfig::default(),
            certs: Default::default(),
            rules: RulesConfig::default(),
            probing: Default::default(),
            probes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LayoutConfig {
    /// Rows of pane names shown at once on a large terminal.
    pub grid: Vec<Vec<String>>,
    /// Below this many columns or rows, one pane at a time with tabs.
    pub min_grid_cols: u16,
    pub min_grid_rows: u16,
    /// Mouse support (click to select, wheel to scroll).
    pub mouse: bool,
}

impl Default for LayoutConfig {
    fn default() -> Self {
        LayoutConfig {
            grid: vec![
                vec!["sockets".into(), "alerts".into()],
                vec!["pods".into(), "pvcs".into()],
            ],
            min_grid_cols: 160,
            min_grid_rows: 45,
            mouse: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Ring the terminal bell when a new critical alert fires.
    pub bell: bool,
    /// Run through `sh -c` on every alert transition, with the alert in `ONDECK_ALERT_*`
    /// environment variables.
    pub command: Option<String>,
    pub command_timeout: HumanDuration,
    /// How many transitions the alerts pane keeps.
    pub history: usize,
    /// Alertmanager to post firing and resolved alerts to (its v2 API), e.g.
    /// `http://127.0.0.1:9093`; `None` = none.
    pub alertmanager_url: Option<String>,
    /// Deadline of one request to Alertmanager.
    pub alertmanager_timeout: HumanDuration,
    /// How often firing alerts are sent again (Alertmanager resolves alerts not re-sent
    /// before their `endsAt`, set to 4 times this).
    pub alertmanager_resend: HumanDuration,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            bell: false,
            command: None,
            command_timeout: secs(10),
            history: 500,
            alertmanager_url: None,
            alertmanager_timeout: secs(5),
            alertmanager_resend: secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SocketBackendChoice {
    /// Netlink sock_diag, falling back to /proc/net/tcp when netlink is unavailable.
    #[default]
    Auto,
    Netlink,
    Proc,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SocketsConfig {
    pub enabled: bool,
    pub backend: SocketBackendChoice,
    /// How many processes / peers / ports / listeners each grouping keeps.
    pub top_n: usize,
    /// Mapping sockets to processes reads every process's fd table: at most this often.
    pub attribution_interval: HumanDuration,
}

impl Default for SocketsConfig {
    fn default() -> Self {
        SocketsConfig {
            enabled: true,
            backend: SocketBackendChoice::Auto,
            top_n: 20,
            attribution_interval: secs(10),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KubernetesConfig {
    /// Deadline for establishing a connection to the API server.
    pub connect_timeout: HumanDuration,
    /// Deadline for one API request (list, get, patch, delete).
    pub request_timeout: HumanDuration,
    /// Reconnect backoff for watches: first delay and cap (with jitter).
    pub backoff_initial: HumanDuration,
    pub backoff_max: HumanDuration,
}

impl Default for KubernetesConfig {
    fn default() -> Self {
        KubernetesConfig {
            connect_timeout: secs(5),
            request_timeout: secs(15),
            backoff_initial: HumanDuration(Duration::from_millis(500)),
            backoff_max: secs(30),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where backups go; empty = `$XDG_STATE_HOME/ondeck/backups`.
    pub dir: Option<PathBuf>,
    /// Image of the temporary helper pod that mounts a PVC read-only for a backup.
    pub helper_image: String,
    /// How long the helper pod may take to start.
    pub helper_start_timeout: HumanDuration,
    /// Abort a backup stream that moves no bytes for this long.
    pub no_progress_timeout: HumanDuration,
    /// Patch a PV with reclaimPolicy Delete to Retain before deleting its claim.
    pub retain_before_delete: bool,
    /// After the delete request: how long to follow the claim (gone, or still Terminating and
    /// why) before reporting what is known.
    pub follow_timeout: HumanDuration,
    /// Restore by re-binding: how long the new claim may take to become Bound.
    pub bind_timeout: HumanDuration,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: None,
            helper_image: "busybox".into(),
            helper_start_timeout: secs(120),
            no_progress_timeout: secs(60),
            retain_before_delete: true,
            follow_timeout: secs(10),
            bind_timeout: secs(60),
        }
    }
}

/// `$XDG_CONFIG_HOME/ondeck` (or the platform equivalent).
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ondeck").map(|d| d.config_dir().to_path_buf())
}

/// `$XDG_STATE_HOME/ondeck` (logs, backups, audit log); falls back to the data dir.
pub fn state_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "ondeck").map(|d| {
        d.state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .to_path_buf()
    })
}

/// The default config file path.
pub fn default_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

impl Config {
    /// Parses config text; `path` is only used in error messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        cfg.validate().map_err(|bad| ConfigError::Invalid {
            path: path.to_path_buf(),
            at: locate(text, &bad.key),
            message: bad.message,
        })?;
        Ok(cfg)
    }

    /// Loads `explicit` if given (it must exist), else the default path if it exists, else the
    /// built-in defaults. Returns the config and the file it came from, if any.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match default_path() {
                Some(p) if p.exists() => p,
                _ => return Ok((Config::default(), None)),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let cfg = Config::from_toml(&text, &path)?;
        Ok((cfg, Some(path)))
    }

    /// Every range and consistency check, with the key path of the offending value (its
    /// line and column are looked up in the text by [`Config::from_toml`]).
    fn validate(&self) -> Result<(), Bad> {
        let ms = Duration::from_millis;
        let s = Duration::from_secs;
        // (key path, value, minimum): the maximum is MAX_DURATION, checked at parse time.
        let durations: [(&[&str], Duration, Duration); 13] = [
            (&["refresh"], self.refresh.0, ms(100)),
            (
                &["alerts", "command_timeout"],
                self.alerts.command_timeout.0,
                ms(100),
            ),
            (
                &["alerts", "alertmanager_timeout"],
                self.alerts.alertmanager_timeout.0,
                ms(100),
            ),
            (
                &["alerts", "alertmanager_resend"],
                self.alerts.alertmanager_resend.0,
                s(1),
            ),
            (
                &["sockets", "attribution_interval"],
                self.sockets.attribution_interval.0,
                ms(100),
            ),
            (
                &["kubernetes", "connect_timeout"],
                self.kubernetes.connect_timeout.0,
                ms(100),
            ),
            (
                &["kubernetes", "request_timeout"],
                self.kubernetes.request_timeout.0,
                ms(100),
            ),
            (
                &["kubernetes", "backoff_initial"],
                self.kubernetes.backoff_initial.0,
                ms(10),
            ),
            (
                &["kubernetes", "backoff_max"],
                self.kubernetes.backoff_max.0,
                ms(10),
            ),
            (
                &["backup", "helper_start_timeout"],
                self.backup.helper_start_timeout.0,
                s(1),
            ),
            (
                &["backup", "no_progress_timeout"],
                self.backup.no_progress_timeout.0,
                s(1),
            ),
            (
                &["backup", "follow_timeout"],
                self.backup.follow_timeout.0,
                s(1),
            ),
            (
                &["backup", "bind_timeout"],
                self.backup.bind_timeout.0,
                s(1),
            ),
        ];
        for (key, value, min) in durations {
            if value < min {
                return Err(Bad::at(
                    key,
                    format!(
                        "{} = {:?} is too short (minimum {})",
                        key.join("."),
                        humantime::format_duration(value).to_string(),
                        humantime::format_duration(min)
                    ),
                ));
            }
        }
        if self.kubernetes.backoff_max.0 < self.kubernetes.backoff_initial.0 {
            return Err(Bad::at(
                &["kubernetes", "backoff_max"],
                "kubernetes.backoff_max must not be shorter than backoff_initial".into(),
            ));
        }
        let counts: [(&[&str], u64, u64, u64); 4] = [
            (
                &["alerts", "history"],
                self.alerts.history as u64,
                1,
                100_000,
            ),
            (&["sockets", "top_n"], self.sockets.top_n as u64, 1, 10_000),
            (
                &["rules", "probes", "failures_before_critical"],
                u64::from(self.rules.probes.failures_before_critical),
                1,
                1_000,
            ),
            (
                &["layout", "min_grid_cols"],
                u64::from(self.layout.min_grid_cols),
                1,
                2_000,
            ),
        ];
        for (key, value, min, max) in counts {
            if !(min..=max).contains(&value) {
                return Err(Bad::at(
                    key,
                    format!(
                        "{} = {value} is out of range ({min} to {max})",
                        key.join(".")
                    ),
                ));
            }
        }
        if !(1..=1_000).contains(&self.layout.min_grid_rows) {
            return Err(Bad::at(
                &["layout", "min_grid_rows"],
                format!(
                    "layout.min_grid_rows = {} is out of range (1 to 1000)",
                    self.layout.min_grid_rows
                ),
            ));
        }
        self.validate_grid()?;
        if let Some(url) = &self.alerts.alertmanager_url {
            let ok = reqwest::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if ok.is_none() {
                return Err(Bad::at(
                    &["alerts", "alertmanager_url"],
                    format!("alerts.alertmanager_url = {url:?} is not an http:// or https:// URL"),
                ));
            }
        }
        let r = &self.rules.sockets;
        for (name, list) in [
            ("close_wait", &r.close_wait),
            ("time_wait", &r.time_wait),
            ("listen_overflows_per_sec", &r.listen_overflows_per_sec),
            ("accept_queue_pct", &r.accept_queue_pct),
            ("process_fd_pct", &r.process_fd_pct),
            ("conntrack_pct", &r.conntrack_pct),
        ] {
            for (i, rule) in list.iter().enumerate() {
                let at = Bad::indexed(&["rules", "sockets", name], i);
                if !rule.value.is_finite() || rule.value.abs() > 1e15 {
                    return Err(at.with(format!(
                        "rules.sockets.{name}[{i}]: threshold {:e} is out of range (a finite number up to 1e15)",
                        rule.value
                    )));
                }
                if name.ends_with("_pct") && !(0.0..=100.0).contains(&rule.value) {
                    return Err(at.with(format!(
                        "rules.sockets.{name}[{i}]: threshold {} is not a percentage (0 to 100)",
                        rule.value
                    )));
                }
                if rule.level == Level::Ok {
                    return Err(at.with(format!(
                        "rules.sockets.{name}[{i}]: a rule's level must be info, warning or critical"
                    )));
                }
            }
        }
        probes::validate(&self.probes, &self.probing).map_err(|msg| Bad::at(&["probes"], msg))?;
        if self.rules.probes.failures_before_critical == 0
            || self.rules.probes.failures_before_critical > 100
        {
            return Err(Bad::at(
                &["rules", "probes", "failures_before_critical"],
                "rules.probes.failures_before_critical must be between 1 and 100".into(),
            ));
        }
        let c = &self.rules.certs;
        for (key, v) in [
            ("critical_days", c.critical_days),
            ("warning_days", c.warning_days),
        ] {
            if !v.is_finite() || !(0.0..=3650.0).contains(&v) {
                return Err(Bad::at(
                    &["rules", "certs", key],
                    format!("rules.certs.{key} = {v} is out of range (0 to 3650 days)"),
                ));
            }
        }
        if c.critical_days > c.warning_days {
            return Err(Bad::at(
                &["rules", "certs", "critical_days"],
                "rules.certs.critical_days must not exceed warning_days".into(),
            ));
        }
        Ok(())
    }

    /// `layout.grid`: known pane names, each at most once, and no more panes per row (or rows)
    /// than fit at `min_grid_cols` x `min_grid_rows` with [`MIN_PANE_COLS`] x [`MIN_PANE_ROWS`]
    /// each. Checked before any drawing, so a huge grid is an error, never a slow screen.
    fn validate_grid(&self) -> Result<(), Bad> {
        let l = &self.layout;
        let max_cols = usize::from((l.min_grid_cols / MIN_PANE_COLS).max(1));
        let max_rows = usize::from((l.min_grid_rows / MIN_PANE_ROWS).max(1));
        if l.grid.len() > max_rows {
            return Err(Bad::at(
                &["layout", "grid"],
                format!(
                    "layout.grid has {} rows but at most {max_rows} fit in min_grid_rows = {} ({MIN_PANE_ROWS} rows each)",
                    l.grid.len(),
                    l.min_grid_rows
                ),
            ));
        }
        let mut seen: Vec<String> = Vec::new();
        for (r, row) in l.grid.iter().enumerate() {
            if row.len() > max_cols {
                return Err(Bad::indexed(&["layout", "grid"], r).with(format!(
                    "layout.grid row {} has {} panes but at most {max_cols} fit in min_grid_cols = {} ({MIN_PANE_COLS} columns each)",
                    r + 1,
                    row.len(),
                    l.min_grid_cols
                )));
            }
            for (c, name) in row.iter().enumerate() {
                let at = Bad::indexed2(&["layout", "grid"], r, c);
                let lower = name.to_ascii_lowercase();
                let Some(canonical) = canonical_pane(&lower) else {
                    return Err(at.with(format!(
                        "layout.grid: unknown pane {:?} (valid: {})",
                        crate::sanitize::line(name),
                        PANE_NAMES[..6].join(", ")
                    )));
                };
                if seen.iter().any(|s| s == canonical) {
                    return Err(at.with(format!(
                        "layout.grid: pane {canonical:?} appears more than once"
                    )));
                }
                seen.push(canonical.to_string());
            }
        }
        Ok(())
    }
}

/// The canonical name of a grid pane name or alias ("pvc" and "pvcs" are the same pane).
fn canonical_pane(name: &str) -> Option<&'static str> {
    Some(match name {
        "sockets" | "sock" | "tcp" => "sockets",
        "alerts" | "alert" => "alerts",
        "pods" | "pod" | "po" => "pods",
        "pvcs" | "pvc" => "pvcs",
        "certs" | "cert" | "certificates" => "certs",
        "probes" | "probe" => "probes",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("/etc/ondeck.toml"))
    }

    #[test]
    fn the_shipped_default_file_is_exactly_the_defaults() {
        let cfg = parse(DEFAULT_CONFIG_TOML).expect("default config parses");
        assert_eq!(cfg, Config::default());
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(parse("").expect("empty parses"), Config::default());
    }

    #[test]
    fn spec_socket_defaults() {
        let r = SocketRules::default();
        assert_eq!(r.close_wait[0].level, Level::Warning);
        assert_eq!(r.close_wait[0].value, 1000.0);
        assert_eq!(r.close_wait[0].for_.0, Duration::from_secs(900));
        assert_eq!(r.close_wait[1].level, Level::Critical);
        assert_eq!(r.close_wait[1].value, 2000.0);
        assert_eq!(r.close_wait[1].for_.0, Duration::from_secs(300));
    }

    #[test]
    fn unknown_key_reports_line_and_column() {
        let text = "refresh = \"1s\"\n\n[sockets]\ntop_n = 5\nbogus_key = 3\n";
        match parse(text) {
            Err(ConfigError::Parse {
                line,
                column,
                message,
                path,
            }) => {
                assert_eq!(line, 5, "{message}");
                assert_eq!(column, 1, "{message}");
                assert!(message.contains("bogus_key"), "{message}");
                assert_eq!(path, Path::new("/etc/ondeck.toml"));
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn malformed_toml_reports_position() {
        let text = "theme = \"dark\"\nrefresh = \n";
        match parse(text) {
            Err(e @ ConfigError::Parse { .. }) => {
                let shown = e.to_string();
                assert!(shown.starts_with("/etc/ondeck.toml:2:"), "{shown}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn bad_duration_and_bad_level_are_errors() {
        match parse("refresh = \"soon\"\n") {
            Err(ConfigError::Parse { line, message, .. }) => {
                assert_eq!(line, 1);
                assert!(message.contains("soon"), "{message}");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        let text = "[rules.sockets]\nclose_wait = [{ level = \"loud\", op = \">\", value = 1 }]\n";
        assert!(matches!(
            parse(text),
            Err(ConfigError::Parse { line: 2, .. })
        ));
        let text = "[rules.sockets]\nclose_wait = [{ level = \"ok\", op = \">\", value = 1 }]\n";
        assert!(matches!(parse(text), Err(ConfigError::Invalid { .. })));
    }

    #[test]
    fn overrides_apply() {
        let text = "refresh = \"500ms\"\n[rules.sockets]\nclose_wait = [{ level = \"critical\", op = \">=\", value = 10, for = \"1m\" }]\n";
        let cfg = parse(text).expect("parses");
        assert_eq!(cfg.refresh.0, Duration::from_millis(500));
        assert_eq!(cfg.rules.sockets.close_wait.len(), 1);
        assert_eq!(cfg.rules.sockets.close_wait[0].op, Comparison::AtLeast);
        assert_eq!(
            cfg.rules.sockets.close_wait[0].for_.0,
            Duration::from_secs(60)
        );
        // Untouched sections keep their defaults.
        assert_eq!(
            cfg.rules.sockets.time_wait,
            SocketRules::default().time_wait
        );
    }

    #[test]
    fn alertmanager_url_is_checked() {
        let cfg =
            parse("[alerts]\nalertmanager_url = \"http://127.0.0.1:9093\"\n").expect("parses");
        assert_eq!(
            cfg.alerts.alertmanager_url.as_deref(),
            Some("http://127.0.0.1:9093")
        );
        assert!(matches!(
            parse("[alerts]\nalertmanager_url = \"127.0.0.1:9093\"\n"),
            Err(ConfigError::Invalid { .. })
        ));
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let err = Config::load(Some(Path::new("/nonexistent/ondeck.toml"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ondeck.toml"));
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncdé\nx", 0), (1, 1));
        assert_eq!(line_col("ab\ncdé\nx", 3), (2, 1));
        assert_eq!(line_col("ab\ncdé\nx", 8), (3, 1));
        assert_eq!(line_col("ab\ncdé\nx", 7), (2, 4));
    }
}
