use ondeck::app::Settings;
use ondeck::ui::fixtures::{buffer_text, pvcs_incident_snapshot, pvcs_model, render};
use ondeck::ui::theme::Theme;

#[test]
fn peek() {
    let (m, _) = pvcs_model(Settings::default(), pvcs_incident_snapshot());
    let t = Theme::builtin_dark(false);
    println!("{}", buffer_text(&render(&m, &t, 80, 24)));
    println!("{}", buffer_text(&render(&m, &t, 200, 60)));
}
