//! Colour themes: TOML files in `themes/` embedded in the binary, overridable by
//! `$XDG_CONFIG_HOME/ondeck/themes/NAME.toml`. `NO_COLOR` strips every colour and keeps only
//! modifiers, so danger is still carried by the word/glyph plus bold/reverse.

use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::domain::Level;

/// Built-in themes, by name.
pub const BUILTIN: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("colorblind", include_str!("../../themes/colorblind.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "unknown theme {name:?} (built in: dark, light, high-contrast, colorblind; or put {name}.toml in {dir})"
    )]
    Unknown { name: String, dir: String },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// The colours a theme file sets. Every key is required so a typo cannot silently fall back.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    fg: String,
    bg: String,
    muted: String,
    accent: String,
    border: String,
    border_focused: String,
    selection_fg: String,
    selection_bg: String,
    ok: String,
    info: String,
    warning: String,
    critical: String,
    pending: String,
    stale: String,
    key_fg: String,
    key_bg: String,
    banner_fg: String,
    banner_bg: String,
}

/// Resolved styles used by the views.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub base: Style,
    pub muted: Style,
    pub accent: Style,
    pub border: Style,
    pub border_focused: Style,
    pub selection: Style,
    pub ok: Style,
    pub info: Style,
    pub warning: Style,
    pub critical: Style,
    pub pending: Style,
    pub stale: Style,
    pub key: Style,
    pub banner: Style,
    pub colors: bool,
}

impl Theme {
    /// Loads `name`: the user's file in `config_dir/themes/` wins over the built-in one.
    pub fn load(
        name: &str,
        config_dir: Option<&Path>,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        let user: Option<PathBuf> =
            config_dir.map(|d| d.join("themes").join(format!("{name}.toml")));
        if let Some(p) = user.as_ref().filter(|p| p.is_file()) {
            let text = std::fs::read_to_string(p).map_err(|source| ThemeError::Read {
                path: p.display().to_string(),
                source,
            })?;
            return Theme::parse(name, &text, &p.display().to_string(), no_color);
        }
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => Theme::parse(
                name,
                text,
                &format!("themes/{name}.toml (built in)"),
                no_color,
            ),
            None => Err(ThemeError::Unknown {
                name: name.to_string(),
                dir: user
                    .and_then(|p| p.parent().map(|d| d.display().to_string()))
                    .unwrap_or_else(|| "$XDG_CONFIG_HOME/ondeck/themes".into()),
            }),
        }
    }

    /// The default dark theme; cannot fail (tested).
    pub fn builtin_dark(no_color: bool) -> Theme {
        Theme::parse("dark", BUILTIN[0].1, "themes/dark.toml", no_color)
            .unwrap_or_else(|_| Theme::fallback())
    }

    fn fallback() -> Theme {
        Theme::from_file("dark", &ThemeFile::fallback()).unwrap_or_else(|_| unreachable_fallback())
    }

    pub fn parse(name: &str, text: &str, path: &str, no_color: bool) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            ThemeError::Parse {
                path: path.into(),
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        let theme = Theme::from_file(name, &file).map_err(|(key, message)| {
            let offset = find_key(text, key);
            let (line, column) = line_col(text, offset);
            ThemeError::Parse {
                path: path.into(),
                line,
                column,
                message,
            }
        })?;
        Ok(if no_color {
            theme.without_colors()
        } else {
            theme
        })
    }

    fn from_file(name: &str, f: &ThemeFile) -> Result<Theme, (&'static str, String)> {
        let c = |key: &'static str, v: &str| -> Result<Color, (&'static str, String)> {
            v.parse::<Color>().map_err(|_| {
                (
                    key,
                    format!(
                        "{key}: {v:?} is not a colour (a name like \"red\", \"#rrggbb\" or 0-255)"
                    ),
                )
            })
        };
        let fg = c("fg", &f.fg)?;
        let bg = c("bg", &f.bg)?;
        let base = Style::new().fg(fg).bg(bg);
        Ok(Theme {
            name: name.to_string(),
            base,
            muted: Style::new().fg(c("muted", &f.muted)?),
            accent: Style::new()
                .fg(c("accent", &f.accent)?)
                .add_modifier(Modifier::BOLD),
            border: Style::new().fg(c("border", &f.border)?),
            border_focused: Style::new()
                .fg(c("border_focused", &f.border_focused)?)
                .add_modifier(Modifier::BOLD),
            selection: Style::new()
                .fg(c("selection_fg", &f.selection_fg)?)
                .bg(c("selection_bg", &f.selection_bg)?)
                .add_modifier(Modifier::BOLD),
            ok: Style::new().fg(c("ok", &f.ok)?),
            info: Style::new().fg(c("info", &f.info)?),
            warning: Style::new()
                .fg(c("warning", &f.warning)?)
                .add_modifier(Modifier::BOLD),
            critical: Style::new()
                .fg(c("critical", &f.critical)?)
                .add_modifier(Modifier::BOLD),
            pending: Style::new()
                .fg(c("pending", &f.pending)?)
                .add_modifier(Modifier::ITALIC),
            stale: Style::new()
                .fg(c("stale", &f.stale)?)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            key: Style::new()
                .fg(c("key_fg", &f.key_fg)?)
                .bg(c("key_bg", &f.key_bg)?),
            banner: Style::new()
                .fg(c("banner_fg", &f.banner_fg)?)
                .bg(c("banner_bg", &f.banner_bg)?)
                .add_modifier(Modifier::BOLD),
            colors: true,
        })
    }

    /// NO_COLOR: every colour reset; emphasis only through modifiers. Critical is reversed so it
    /// still stands out on a monochrome screen.
    pub fn without_colors(self) -> Theme {
        let strip = |s: Style| Style {
            fg: None,
            bg: None,
            underline_color: None,
            ..s
        };
        Theme {
            base: Style::new(),
            muted: Style::new(),
            accent: strip(self.accent),
            border: Style::new(),
            border_focused: Style::new().add_modifier(Modifier::BOLD),
            selection: Style::new().add_modifier(Modifier::REVERSED),
            ok: Style::new(),
            info: Style::new(),
            warning: Style::new().add_modifier(Modifier::BOLD),
            critical: Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            pending: Style::new().add_modifier(Modifier::ITALIC),
            stale: Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            key: Style::new().add_modifier(Modifier::REVERSED),
            banner: Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            colors: false,
            ..self
        }
    }

    pub fn level(&self, level: Level) -> Style {
        match level {
            Level::Ok => self.ok,
            Level::Info => self.info,
            Level::Warning => self.warning,
            Level::Critical => self.critical,
        }
    }
}

/// `NO_COLOR` set to a non-empty value (https://no-color.org).
pub fn no_color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

/// Byte offset of the value of `key = ...` (for colour errors, which toml cannot locate).
fn find_key(text: &str, key: &str) -> usize {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            let eq = line.find('=').unwrap_or(0);
            let value_start = line[eq + 1..]
                .find(|c: char| !c.is_whitespace())
                .map(|i| eq + 1 + i)
                .unwrap_or(eq);
            return offset + value_start;
        }
        offset += line.len();
    }
    0
}

impl ThemeFile {
    fn fallback() -> ThemeFile {
        let s = |v: &str| v.to_string();
        ThemeFile {
            fg: s("reset"),
            bg: s("reset"),
            muted: s("gray"),
            accent: s("cyan"),
            border: s("gray"),
            border_focused: s("cyan"),
            selection_fg: s("black"),
            selection_bg: s("cyan"),
            ok: s("green"),
            info: s("blue"),
            warning: s("yellow"),
            critical: s("red"),
            pending: s("magenta"),
            stale: s("yellow"),
            key_fg: s("black"),
            key_bg: s("cyan"),
            banner_fg: s("black"),
            banner_bg: s("yellow"),
        }
    }
}

fn unreachable_fallback() -> Theme {
    let st = Style::new();
    Theme {
        name: "fallback".into(),
        base: st,
        muted: st,
        accent: st,
        border: st,
        border_focused: st,
        selection: st.add_modifier(Modifier::REVERSED),
        ok: st,
        info: st,
        warning: st.add_modifier(Modifier::BOLD),
        critical: st.add_modifier(Modifier::BOLD | Modifier::REVERSED),
        pending: st,
        stale: st.add_modifier(Modifier::REVERSED),
        key: st.add_modifier(Modifier::REVERSED),
        banner: st.add_modifier(Modifier::REVERSED),
        colors: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_completes_every_builtin_theme() {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, crate::app::command::THEME_NAMES);
    }

    #[test]
    fn every_builtin_theme_parses() {
        for (name, text) in BUILTIN {
            let t = Theme::parse(name, text, name, false).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(t.colors);
            assert_ne!(
                t.critical.fg, t.ok.fg,
                "{name}: critical and ok must differ"
            );
            assert_ne!(
                t.warning.fg, t.critical.fg,
                "{name}: warning and critical must differ"
            );
        }
    }

    #[test]
    fn bad_colour_reports_line_and_column() {
        let text = BUILTIN[0]
            .1
            .replace("critical = ", "critical = \"reddish\" #");
        let err = Theme::parse("x", &text, "/tmp/x.toml", false)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/tmp/x.toml:"), "{err}");
        let line = text
            .lines()
            .position(|l| l.starts_with("critical"))
            .unwrap()
            + 1;
        assert!(err.contains(&format!(":{line}:12:")), "{err}");
        assert!(err.contains("reddish"), "{err}");
    }

    #[test]
    fn syntax_error_and_unknown_key_report_position() {
        let err = Theme::parse("x", "fg = \"red\"\nbogus = 1\n", "t.toml", false)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml:2:1:"), "{err}");
        let err = Theme::parse("x", "fg = \n", "t.toml", false)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.toml:1:"), "{err}");
    }

    #[test]
    fn no_color_keeps_only_modifiers() {
        let t = Theme::builtin_dark(true);
        for s in [
            t.base,
            t.ok,
            t.warning,
            t.critical,
            t.pending,
            t.stale,
            t.selection,
            t.key,
        ] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
        assert!(t.critical.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn user_theme_overrides_builtin_and_unknown_is_clear() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("themes")).unwrap();
        let text = BUILTIN[0]
            .1
            .replace("critical = ", "critical = \"#ff00ff\" #");
        std::fs::write(dir.path().join("themes/dark.toml"), text).unwrap();
        let t = Theme::load("dark", Some(dir.path()), false).unwrap();
        assert_eq!(t.critical.fg, Some(Color::Rgb(255, 0, 255)));
        let e = Theme::load("nope", Some(dir.path()), false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown theme \"nope\""), "{e}");
    }
}
