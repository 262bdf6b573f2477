//! The detail view (Enter) of a claim or a PV.

use super::*;

/// Width of the detail dialog's text (76 wide, minus borders).
pub(super) const DETAIL_W: usize = 74;
pub(super) const LABEL_W: usize = 11;

/// `label` + `text` wrapped under the label column, in `style`.
pub(super) fn field(ctx: ViewCtx<'_>, label: &str, text: &str, style: Style) -> Vec<Line<'static>> {
    wrap_text(text, DETAIL_W - LABEL_W)
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let l = if i == 0 { label } else { "" };
            Line::from(vec![
                Span::styled(format!("{l:<LABEL_W$}"), ctx.theme.muted),
                Span::styled(chunk, style),
            ])
        })
        .collect()
}

pub(super) fn class_text(sc: Option<&StorageClassInfo>, name: Option<&str>) -> String {
    match (sc, name) {
        (Some(sc), _) => format!(
            "{} ({}, reclaim {}, {})",
            sanitize(&sc.name),
            sanitize(&sc.provisioner),
            sanitize(&sc.reclaim_policy),
            sanitize(sc.volume_binding_mode.as_deref().unwrap_or("Immediate")),
        ),
        (None, Some(n)) => format!("{} (not found)", sanitize(n)),
        (None, None) => "<none>".into(),
    }
}

/// The detail view (Enter) of the selected claim: everything a careful person checks before
/// deleting it.
pub(super) fn claim_detail_lines(
    pane: &PvcsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let Some(s) = pane.feed.data() else {
        return vec![Line::from("no PVC data yet")];
    };
    let Some(r) = pane.selected_claim() else {
        return vec![Line::from("no PVC selected")];
    };
    let now = s.at.max(model.wall);
    let ago = |ts: jiff::Timestamp| crate::domain::pods::human_duration(now.duration_since(ts));
    let b = t.base;
    let mut lines = vec![Line::from(vec![
        danger_span(ctx, danger(r.level)),
        Span::styled(
            format!(" {}/{}", sanitize(&r.namespace), sanitize(&r.name)),
            t.accent,
        ),
    ])];
    // The AT RISK marker below already says what the reclaim-policy reason says.
    let mut reasons: Vec<_> = r
        .reasons
        .iter()
        .filter(|x| !(x.rule == PvcRule::ReclaimDelete && r.has_marker(Marker::AtRisk)))
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
    for reason in reasons {
        let word = format!(
            "{} {}",
            ctx.sym.level_glyph(reason.level),
            reason.level.label()
        );
        let text = format!("{word} {}", sanitize(&reason.text));
        for (i, chunk) in wrap_text(&text, DETAIL_W - 2).into_iter().enumerate() {
            // The first line starts with the level word in its colour; the rest is plain.
            if i == 0 {
                let rest: String = chunk.chars().skip(word.chars().count()).collect();
                lines.push(Line::from(vec![
                    danger_span(ctx, danger(reason.level)),
                    Span::raw(rest),
                ]));
            } else {
                lines.push(Line::raw(format!("  {chunk}")));
            }
        }
    }
    lines.extend(field(ctx, "uid", &opt(r.uid.as_deref()), b));
    let mut status = format!(
        "{} (phase {})",
        sanitize(&r.status),
        opt(r.phase.as_deref())
    );
    if let Some(d) = r.deletion_timestamp {
        status.push_str(&format!(", deleted {} ago", ago(d)));
    }
    status.push_str(&format!(", age {}", r.age_text(now)));
    let status_style = if r.level >= Level::Warning {
        t.level(r.level)
    } else {
        b
    };
    lines.extend(field(ctx, "status", &status, status_style));
    let finalizers = if r.finalizers.is_empty() {
        "<none>".to_string()
    } else {
        r.finalizers
            .iter()
            .map(|f| sanitize(f).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    lines.extend(field(ctx, "finalizers", &finalizers, b));
    let mut capacity = match (r.capacity.as_deref(), r.volume.is_some()) {
        (Some(c), true) => sanitize(c).into_owned(),
        (Some(c), false) => format!("{} requested (not bound yet)", sanitize(c)),
        (None, _) => "<unknown>".into(),
    };
    capacity.push_str(", access ");
    if r.access_modes.is_empty() {
        capacity.push_str("<none>");
    } else {
        capacity.push_str(&sanitize(&r.access_modes_text()));
    }
    lines.extend(field(ctx, "capacity", &capacity, b));
    let (used, used_style) = match &r.used {
        UsedSpace::Known {
            used_bytes,
            capacity_bytes,
            available_bytes,
        } => {
            let mut u = human_bytes(*used_bytes).into_string();
            if let Some(c) = capacity_bytes.or(r.capacity_bytes).filter(|c| *c > 0) {
                let pct = *used_bytes as f64 * 100.0 / c as f64;
                u.push_str(&format!(" of {} ({pct:.1}%)", human_bytes(c)));
            }
            if let Some(a) = available_bytes {
                u.push_str(&format!(", {} free", human_bytes(*a)));
            }
            (u, b)
        }
        UsedSpace::Unknown { why } => (format!("unknown: {}", sanitize(why)), t.muted),
    };
    lines.extend(field(ctx, "used", &used, used_style));
    let sc = r
        .storage_class
        .as_deref()
        .and_then(|n| s.storage_classes.iter().find(|c| c.name == n));
    lines.extend(field(
        ctx,
        "class",
        &class_text(sc, r.storage_class.as_deref()),
        b,
    ));
    let volume = match (&r.volume, &r.reclaim_policy) {
        (Some(v), Some(p)) => format!("{}, reclaim {}", sanitize(v), sanitize(p)),
        (Some(v), None) => format!("{}, reclaim unknown", sanitize(v)),
        (None, _) => "<none> (not bound)".into(),
    };
    let volume_style = if r.reclaim_policy.as_deref() == Some("Delete") {
        t.warning
    } else {
        b
    };
    lines.extend(field(ctx, "volume", &volume, volume_style));
    if let Some(why) = &r.users_unknown {
        // Never "no pod" when nobody could look.
        lines.extend(field(
            ctx,
            "mounted by",
            &format!("unknown ({})", sanitize(why)),
            t.warning,
        ));
    } else if r.users.is_empty() {
        lines.extend(field(ctx, "mounted by", "no pod", t.muted));
    }
    for (i, u) in r.users.iter().enumerate() {
        let mounts = if u.mounts.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                u.mounts
                    .iter()
                    .map(|m| sanitize(m).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let text = format!(
            "{} on {}{mounts}",
            sanitize(&u.text()),
            opt(u.node.as_deref())
        );
        let label = if i == 0 { "mounted by" } else { "" };
        lines.extend(field(ctx, label, &text, b));
    }
    for (i, (m, text)) in marker_explanations(r).into_iter().enumerate() {
        let label = if i == 0 { "markers" } else { "" };
        lines.extend(field(ctx, label, &text, marker_style(ctx, m)));
    }
    if model.settings.read_only {
        lines.push(Line::styled("F9 and R disabled: read-only mode", t.muted));
    } else if r.terminating() && (r.in_use() || r.users_unknown.is_some()) {
        lines.push(Line::from(vec![
            Span::styled("R", t.key),
            Span::raw(": rescue (PV to Retain, verified backup through the pod)"),
        ]));
    } else {
        lines.push(Line::from(vec![
            Span::styled("F9", t.key),
            Span::raw(": guarded delete (preflight, verified backup, typed name)"),
        ]));
    }
    lines
}

/// The detail view (Enter) of the selected PersistentVolume.
pub(super) fn volume_detail_lines(
    pane: &PvcsPane,
    model: &Model,
    ctx: ViewCtx<'_>,
) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let Some(s) = pane.feed.data() else {
        return vec![Line::from("no PV data yet")];
    };
    if let Some(e) = &s.pv_error {
        return vec![Line::styled(
            format!("PersistentVolumes not shown: {}", sanitize(&e.to_string())),
            t.warning,
        )];
    }
    let Some(p) = pane.selected_volume() else {
        return vec![Line::from("no PV selected")];
    };
    let now = s.at.max(model.wall);
    let b = t.base;
    let mut lines = vec![Line::from(vec![
        danger_span(ctx, danger(p.level)),
        Span::styled(format!(" {}", sanitize(&p.name)), t.accent),
    ])];
    let phase_style = if p.orphaned { t.warning } else { b };
    lines.extend(field(
        ctx,
        "phase",
        &format!("{}, age {}", sanitize(&p.phase), p.age_text(now)),
        phase_style,
    ));
    lines.extend(field(ctx, "reclaim", &opt(p.reclaim_policy.as_deref()), b));
    lines.extend(field(ctx, "claim", &opt(p.claim.as_deref()), b));
    let sc = p
        .storage_class
        .as_deref()
        .and_then(|n| s.storage_classes.iter().find(|c| c.name == n));
    lines.extend(field(
        ctx,
        "class",
        &class_text(sc, p.storage_class.as_deref()),
        b,
    ));
    lines.extend(field(ctx, "capacity", &opt(p.capacity.as_deref()), b));
    let access = p
        .access_modes
        .iter()
        .map(|m| sanitize(m).into_owned())
        .collect::<Vec<_>>()
        .join(",");
    lines.extend(field(ctx, "access", &access, b));
    if p.orphaned {
        lines.extend(field(ctx, "flag", &orphaned_text(p), t.warning));
    }
    for reason in &p.reasons {
        let text = format!("{} {}", reason.level.label(), sanitize(&reason.text));
        lines.extend(field(ctx, "", &text, t.level(reason.level)));
    }
    lines
}
