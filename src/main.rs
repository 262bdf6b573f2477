// TEMPORARY (tui branch): runs the TUI with default settings until the lead's CLI lands.
fn main() -> anyhow::Result<()> {
    ondeck::app::run_default()
}
