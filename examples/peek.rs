use ondeck::app::Settings;
use ondeck::ui::{Theme, fixtures};
fn main() {
    let w: u16 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(80);
    let h: u16 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(24);
    let (m, _) = fixtures::incident_model(Settings::default());
    print!(
        "{}",
        fixtures::buffer_text(&fixtures::render(&m, &Theme::builtin_dark(false), w, h))
    );
}
