//! The `:` command line (k9s-like): parsing and completion hints.

use crate::domain::pane::PaneKind;

/// Every command word, for completion.
pub const WORDS: [&str; 11] = [
    "sockets", "alerts", "pods", "pvc", "certs", "probes", "ctx", "ns", "theme", "ack", "q",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineCommand {
    Show(PaneKind),
    Context(String),
    Namespace(String),
    Theme(String),
    Ack,
    Quit,
    Unknown(String),
    Empty,
}

pub fn parse(text: &str) -> LineCommand {
    let mut it = text.split_whitespace();
    let Some(word) = it.next() else {
        return LineCommand::Empty;
    };
    let arg = it.collect::<Vec<_>>().join(" ");
    match word {
        "q" | "quit" | "q!" => LineCommand::Quit,
        "ctx" | "context" => LineCommand::Context(arg),
        "ns" | "namespace" => LineCommand::Namespace(arg),
        "theme" => LineCommand::Theme(arg),
        "ack" => LineCommand::Ack,
        w => match PaneKind::by_name(w) {
            Some(k) => LineCommand::Show(k),
            None => LineCommand::Unknown(w.to_string()),
        },
    }
}

/// The built-in themes' names (`ui::theme::BUILTIN`; a test there keeps the two equal).
pub const THEME_NAMES: [&str; 4] = ["dark", "light", "high-contrast", "colorblind"];

/// Command words that start with what is typed (nothing once an argument is being typed,
/// except theme names).
pub fn completions(text: &str) -> Vec<&'static str> {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix("theme ") {
        return THEME_NAMES
            .iter()
            .copied()
            .filter(|n| n.starts_with(rest.trim()))
            .collect();
    }
    if t.contains(' ') {
        return Vec::new();
    }
    WORDS.iter().copied().filter(|w| w.starts_with(t)).collect()
}

/// Tab: complete to the only candidate (or the longest common prefix).
pub fn complete(text: &str) -> String {
    let c = completions(text);
    let Some(first) = c.first() else {
        return text.to_string();
    };
    let mut prefix = first.to_string();
    for w in &c[1..] {
        while !w.starts_with(&prefix) {
            prefix.pop();
        }
    }
    let base = match text.trim_start().rsplit_once(' ') {
        Some((head, _)) => format!("{head} "),
        None => String::new(),
    };
    if c.len() == 1 {
        format!("{base}{prefix} ")
    } else {
        format!("{base}{prefix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_completes() {
        assert_eq!(parse("pvc"), LineCommand::Show(PaneKind::Pvcs));
        assert_eq!(parse(" ctx prod "), LineCommand::Context("prod".into()));
        assert_eq!(parse("theme light"), LineCommand::Theme("light".into()));
        assert_eq!(parse("zzz"), LineCommand::Unknown("zzz".into()));
        assert_eq!(completions("p"), vec!["pods", "pvc", "probes"]);
        assert_eq!(complete("so"), "sockets ");
        assert_eq!(complete("p"), "p");
        assert_eq!(complete("theme hi"), "theme high-contrast ");
    }
}
