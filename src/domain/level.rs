//! Danger levels and the one-shot check status (Nagios convention).

use serde::{Deserialize, Serialize};

/// How dangerous something is. Ordered: `Ok < Info < Warning < Critical`, so `max()` picks the
/// loudest. `Info` is for markers such as "AT RISK" that are worth seeing but not alerting on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Ok,
    Info,
    Warning,
    Critical,
}

impl Level {
    /// The word shown next to the colour, so danger never depends on colour alone.
    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
        }
    }

    /// A short, ASCII-safe glyph for narrow columns.
    pub fn glyph(self, ascii: bool) -> &'static str {
        match (self, ascii) {
            (Level::Ok, false) => "✓",
            (Level::Info, false) => "i",
            (Level::Warning, false) => "▲",
            (Level::Critical, false) => "✖",
            (Level::Ok, true) => "ok",
            (Level::Info, true) => "i",
            (Level::Warning, true) => "!",
            (Level::Critical, true) => "X",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Overall result of `ondeck check`: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (a source failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl CheckStatus {
    pub fn exit_code(self) -> i32 {
        match self {
            CheckStatus::Ok => 0,
            CheckStatus::Warning => 1,
            CheckStatus::Critical => 2,
            CheckStatus::Unknown => 3,
        }
    }

    pub fn from_level(level: Level) -> Self {
        match level {
            Level::Ok | Level::Info => CheckStatus::Ok,
            Level::Warning => CheckStatus::Warning,
            Level::Critical => CheckStatus::Critical,
        }
    }

    /// Critical beats unknown beats warning: a failed source must not hide a known critical,
    /// but must not be reported as OK either.
    pub fn combine(self, other: CheckStatus) -> CheckStatus {
        fn rank(s: CheckStatus) -> u8 {
            match s {
                CheckStatus::Ok => 0,
                CheckStatus::Warning => 1,
                CheckStatus::Unknown => 2,
                CheckStatus::Critical => 3,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Ok => "OK",
            CheckStatus::Warning => "WARNING",
            CheckStatus::Critical => "CRITICAL",
            CheckStatus::Unknown => "UNKNOWN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_by_danger() {
        assert!(Level::Critical > Level::Warning);
        assert!(Level::Warning > Level::Info);
        assert!(Level::Info > Level::Ok);
        assert_eq!(
            [Level::Ok, Level::Critical, Level::Warning]
                .into_iter()
                .max(),
            Some(Level::Critical)
        );
    }

    #[test]
    fn check_status_combines_critical_over_unknown() {
        assert_eq!(
            CheckStatus::Unknown.combine(CheckStatus::Critical),
            CheckStatus::Critical
        );
        assert_eq!(
            CheckStatus::Warning.combine(CheckStatus::Unknown),
            CheckStatus::Unknown
        );
        assert_eq!(
            CheckStatus::Ok.combine(CheckStatus::Warning),
            CheckStatus::Warning
        );
        assert_eq!(CheckStatus::Critical.exit_code(), 2);
        assert_eq!(CheckStatus::Unknown.exit_code(), 3);
    }
}
