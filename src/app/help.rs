//! What the help overlay (F1 / `?`) lists: every key, grouped, and the `:` commands, and how
//! far it scrolls. Each pane's own keys come from its spec (`PaneSpec::help`, declared by its
//! source's registry entry). The drawing is `ui::help`.

use crate::domain::pane::PaneKind;

/// Keys every pane shares.
pub const KEYS: &[(&str, &str)] = &[
    ("F1 ?", "this help (Esc/q/? closes)"),
    ("Tab S-Tab", "next / previous pane"),
    ("j k / arrows", "move selection"),
    ("g G Home End", "first / last row"),
    ("C-d C-u PgDn PgUp", "half page down / up"),
    ("Enter", "details of the selected row"),
    ("/ F3", "filter as you type (Esc clears)"),
    (
        "s F2 F6 < > r",
        "next / previous sort column; r reverses it",
    ),
];

/// Global keys shown after the panes' own.
pub const TAIL: &[(&str, &str)] = &[
    ("F5", "refresh the sources now"),
    ("mouse", "click focuses a tab/pane, wheel scrolls"),
    ("q F10 C-c", "quit"),
];

/// Every help line: the shared keys, each available pane's own keys (from its spec in the
/// source registry), the `:` commands (every pane's name) and the global keys.
pub fn lines() -> Vec<(String, String)> {
    let own = |k: &str, v: &str| (k.to_string(), v.to_string());
    let mut out: Vec<(String, String)> = KEYS.iter().map(|(k, v)| own(k, v)).collect();
    let specs: Vec<_> = PaneKind::ALL.iter().map(|k| k.spec()).collect();
    for spec in specs.iter().filter(|s| s.available) {
        out.extend(spec.help.iter().map(|(k, v)| own(k, v)));
    }
    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    out.push(own(":", &format!("command: {}", names.join(" "))));
    out.push(own("", "  ctx NAME, ns NAME|all, theme NAME, ack, q"));
    out.extend(TAIL.iter().map(|(k, v)| own(k, v)));
    out
}

/// How far the help scrolls on a screen `height` lines tall (0 when it fits).
pub fn max_scroll(height: u16) -> u16 {
    let n = lines().len();
    let room = usize::from(height.saturating_sub(2));
    u16::try_from(n.saturating_sub(room)).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pane_s_keys_and_name_are_in_the_help() {
        let help = lines();
        let commands = help
            .iter()
            .find(|(k, _)| k == ":")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        for kind in PaneKind::ALL {
            let spec = kind.spec();
            assert!(
                commands.split_whitespace().any(|w| w == spec.name),
                "{}: not among the : commands ({commands})",
                spec.name
            );
            if spec.available {
                assert!(!spec.help.is_empty(), "{}: no keys", spec.name);
            }
            for (keys, what) in spec.help {
                assert_eq!(
                    help.contains(&(keys.to_string(), what.to_string())),
                    spec.available,
                    "{}: {keys}",
                    spec.name
                );
            }
        }
    }
}
