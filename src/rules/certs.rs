//! The certificate rules of SPEC.md, pure functions of the rows, the thresholds and `now`:
//! expired or not yet valid -> critical; fewer than `critical_days` left -> critical; fewer
//! than `warning_days` -> warning; one day or less -> critical and loudest (`EXPIRES IN 5h`);
//! name mismatch -> `hostname_mismatch` (critical); untrusted chain -> `untrusted_chain`
//! (warning); an intermediate or CA of the chain that expires before the leaf is said in
//! words and its expiry counts as the chain's. A certificate that could not be read is
//! UNKNOWN with the reason (a warning for `check`, never OK).

use jiff::Timestamp;

use crate::config::{CertRules, Comparison};
use crate::domain::Level;
use crate::domain::SourceId;
use crate::domain::certs::{CertRow, left_text};
use crate::rules::{AlertKey, Condition, Shown};
use crate::tls::{ChainPosition, Outcome};

pub const RULE_IDS: &[&str] = &[
    "cert_expiry",
    "cert_not_yet_valid",
    "cert_name_mismatch",
    "cert_untrusted",
    "cert_unknown",
    "cert_renewal_failing",
];

/// The verdict on one row.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// `None`: unknown (the certificate could not be read); placeholders are `Some(Ok)`.
    pub level: Option<Level>,
    /// Expires within a day (or is expired): the loudest rows.
    pub loudest: bool,
    /// Why, in words, loudest first.
    pub reasons: Vec<String>,
    /// Seconds until the chain stops working (the earliest notAfter of leaf and
    /// intermediates), negative once expired.
    pub effective_left: Option<i64>,
}

impl Assessment {
    /// The DANGER word: CRITICAL / WARNING / OK / UNKNOWN.
    pub fn word(&self) -> &'static str {
        match self.level {
            None => "UNKNOWN",
            Some(l) => l.label(),
        }
    }

    /// For ranking and counting, unknown counts as a warning.
    pub fn rank_level(&self) -> Level {
        self.level.unwrap_or(Level::Warning)
    }
}

fn fmt_date(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// Judges one row at `now`.
pub fn assess(row: &CertRow, rules: &CertRules, now: Timestamp) -> Assessment {
    let Some(facts) = &row.facts else {
        if let Some(why) = &row.unknown {
            return Assessment {
                level: None,
                loudest: false,
                reasons: vec![format!("unknown ({why})")],
                effective_left: None,
            };
        }
        return Assessment {
            level: Some(Level::Ok),
            loudest: false,
            reasons: row.note.iter().map(|n| n.to_string()).collect(),
            effective_left: None,
        };
    };
    let mut level = Level::Ok;
    let mut reasons: Vec<(Level, String)> = Vec::new();
    let mut loudest = false;

    // Validity of the certificate itself.
    let left = facts.seconds_left(now);
    if facts.not_yet_valid_at(now) {
        level = Level::Critical;
        let from = facts.not_before.map(fmt_date).unwrap_or_default();
        reasons.push((Level::Critical, format!("not yet valid (from {from})")));
    }
    // The chain stops working at the earliest notAfter among leaf and intermediates.
    let mut effective_left = left;
    for other in row.chain.iter().skip(1) {
        if other.position == ChainPosition::Root
            && row.source != crate::domain::certs::CertSource::File
        {
            // A root in a presented chain is not what the client trusts; skip.
            continue;
        }
        if let (Some(l), Some(o)) = (left, other.seconds_left(now))
            && o < l
        {
            let kind = match other.position {
                ChainPosition::Intermediate => "intermediate",
                _ => "CA",
            };
            let when = if o < 0 {
                format!("expired {} ago", left_text(-o))
            } else {
                format!("expires in {}", left_text(o))
            };
            reasons.push((
                Level::Info,
                format!(
                    "{kind} \"{}\" {when}, before this certificate",
                    other.subject
                ),
            ));
            effective_left = Some(effective_left.map_or(o, |e| e.min(o)));
        }
    }
    match effective_left {
        Some(l) if l < 0 => {
            level = Level::Critical;
            loudest = true;
            let on = facts.not_after.map(fmt_date).unwrap_or_default();
            if left.is_some_and(|x| x < 0) {
                reasons.push((
                    Level::Critical,
                    format!("EXPIRED {} ago (on {on})", left_text(-l)),
                ));
            } else {
                reasons.push((
                    Level::Critical,
                    format!("chain EXPIRED {} ago", left_text(-l)),
                ));
            }
        }
        Some(l) => {
            let days = l as f64 / 86_400.0;
            if l <= 86_400 {
                level = Level::Critical;
                loudest = true;
                reasons.push((Level::Critical, format!("EXPIRES IN {}", left_text(l))));
            } else if days < rules.critical_days {
                level = level.max(Level::Critical);
                reasons.push((Level::Critical, format!("expires in {}", left_text(l))));
            } else if days < rules.warning_days {
                level = level.max(Level::Warning);
                reasons.push((Level::Warning, format!("expires in {}", left_text(l))));
            }
        }
        None => {
            level = level.max(Level::Warning);
            reasons.push((Level::Warning, "expiry date unreadable".into()));
        }
    }

    // A live handshake's verdict.
    let mismatch =
        row.name_matches == Some(false) || matches!(row.verify, Some(Outcome::NameMismatch));
    if mismatch {
        level = level.max(rules.hostname_mismatch);
        let name = row.server_name.as_deref().unwrap_or("the name asked for");
        reasons.push((
            rules.hostname_mismatch,
            format!("name mismatch: not valid for {name}"),
        ));
    }
    match &row.verify {
        Some(o @ (Outcome::UnknownIssuer | Outcome::IncompleteChain)) => {
            level = level.max(rules.untrusted_chain);
            reasons.push((rules.untrusted_chain, o.words()));
        }
        Some(o @ (Outcome::BadSignature | Outcome::Revoked)) => {
            level = Level::Critical;
            reasons.push((Level::Critical, o.words()));
        }
        Some(Outcome::Other(t)) => {
            level = level.max(Level::Warning);
            reasons.push((Level::Warning, format!("verification failed: {t}")));
        }
        _ => {}
    }
    if let Some(msg) = &row.renewal_failing {
        level = level.max(Level::Warning);
        reasons.push((Level::Warning, msg.to_string()));
    }
    // A webhook's or APIService's CA: the API server cannot reach it once it has expired.
    if matches!(
        row.source,
        crate::domain::certs::CertSource::Webhook | crate::domain::certs::CertSource::Apiservice
    ) && effective_left.is_some_and(|l| l < 0)
    {
        reasons.push((
            Level::Critical,
            "an expired caBundle breaks API calls cluster-wide".into(),
        ));
    }
    reasons.sort_by_key(|r| std::cmp::Reverse(r.0));
    Assessment {
        level: Some(level),
        loudest,
        reasons: reasons.into_iter().map(|(_, r)| r).collect(),
        effective_left,
    }
}

/// The subject of a row's alerts: `endpoint 10.0.0.5:6443`, `secret shop/web-tls (shop.example)`.
pub fn subject(row: &CertRow) -> String {
    match &row.facts {
        Some(f) => format!("{} {} ({})", row.source.as_str(), row.location, f.subject),
        None => format!("{} {}", row.source.as_str(), row.location),
    }
}

fn cond(
    row: &CertRow,
    rule: &str,
    level: Level,
    breached: bool,
    (value, threshold, op): (f64, f64, Comparison),
    message: String,
    shown: Shown,
) -> Condition {
    Condition {
        key: AlertKey::new(SourceId::Certs, rule, subject(row), level),
        breached,
        value,
        threshold,
        op,
        for_: std::time::Duration::ZERO,
        message,
        title: std::borrow::Cow::Borrowed(title(rule)),
        shown,
    }
}

/// The human title of a certificate rule.
pub fn title(rule: &str) -> &'static str {
    match rule {
        "cert_expiry" => "Certificate expiring",
        "cert_not_yet_valid" => "Certificate not yet valid",
        "cert_name_mismatch" => "Certificate name mismatch",
        "cert_untrusted" => "Certificate chain untrusted",
        "cert_unknown" => "Certificate unreadable",
        "cert_renewal_failing" => "Certificate renewal failing",
        _ => "Certificate",
    }
}

/// Every rule against every row (alerts and `check`).
pub fn evaluate(rows: &[CertRow], rules: &CertRules, now: Timestamp) -> Vec<Condition> {
    let mut out = Vec::new();
    for row in rows {
        if !row.is_placeholder() {
            row_conditions(row, &assess(row, rules, now), rules, now, &mut out);
        }
    }
    out
}

/// The breached conditions only, from verdicts already made (`verdicts[i]` is `assess` of
/// `rows[i]` at `now`): what the alert book keeps (it clears an alert whose condition is
/// absent as it does one no longer breached), without judging every row again.
pub fn breached(
    rows: &[CertRow],
    verdicts: &[Assessment],
    rules: &CertRules,
    now: Timestamp,
) -> Vec<Condition> {
    let mut out = Vec::new();
    let mut one = Vec::new();
    for (row, a) in rows.iter().zip(verdicts) {
        if row.is_placeholder() {
            continue;
        }
        row_conditions(row, a, rules, now, &mut one);
        out.extend(one.drain(..).filter(|c| c.breached));
    }
    out
}

/// Every rule against one row, given its verdict `a`.
fn row_conditions(
    row: &CertRow,
    a: &Assessment,
    rules: &CertRules,
    now: Timestamp,
    out: &mut Vec<Condition>,
) {
    {
        let message = a.reasons.join("; ");
        if a.level.is_none() {
            out.push(cond(
                row,
                "cert_unknown",
                Level::Warning,
                true,
                (1.0, 0.0, Comparison::Above),
                message,
                Shown::Text("unknown".into()),
            ));
            return;
        }
        let Some(facts) = &row.facts else { return };
        if let Some(left) = a.effective_left {
            let days = left as f64 / 86_400.0;
            let shown = Shown::Text(if left < 0 {
                format!("expired {} ago", left_text(-left))
            } else {
                format!("{} left", left_text(left))
            });
            let warn_msg = if message.is_empty() {
                format!("{} left", left_text(left))
            } else {
                message.clone()
            };
            out.push(cond(
                row,
                "cert_expiry",
                Level::Critical,
                days < rules.critical_days || left <= 86_400,
                (days, rules.critical_days, Comparison::Below),
                warn_msg.clone(),
                shown.clone(),
            ));
            out.push(cond(
                row,
                "cert_expiry",
                Level::Warning,
                days < rules.warning_days,
                (days, rules.warning_days, Comparison::Below),
                warn_msg,
                shown,
            ));
        }
        if facts.not_yet_valid_at(now) {
            out.push(cond(
                row,
                "cert_not_yet_valid",
                Level::Critical,
                true,
                (1.0, 0.0, Comparison::Above),
                message.clone(),
                Shown::Text("not yet valid".into()),
            ));
        }
        let mismatch =
            row.name_matches == Some(false) || matches!(row.verify, Some(Outcome::NameMismatch));
        if row.verify.is_some() || row.name_matches.is_some() {
            out.push(cond(
                row,
                "cert_name_mismatch",
                rules.hostname_mismatch,
                mismatch,
                (f64::from(u8::from(mismatch)), 0.0, Comparison::Above),
                message.clone(),
                Shown::Text(if mismatch { "mismatch" } else { "matches" }.into()),
            ));
        }
        if let Some(v) = &row.verify {
            let bad = !matches!(
                v,
                Outcome::Ok | Outcome::Expired | Outcome::NotYetValid | Outcome::NameMismatch
            );
            let level = match v {
                Outcome::BadSignature | Outcome::Revoked => Level::Critical,
                Outcome::Other(_) => Level::Warning,
                _ => rules.untrusted_chain,
            };
            out.push(cond(
                row,
                "cert_untrusted",
                level,
                bad,
                (f64::from(u8::from(bad)), 0.0, Comparison::Above),
                if bad { v.words() } else { message.clone() },
                Shown::Text(v.code().into()),
            ));
        }
        if let Some(msg) = &row.renewal_failing {
            out.push(cond(
                row,
                "cert_renewal_failing",
                Level::Warning,
                true,
                (1.0, 0.0, Comparison::Above),
                msg.to_string(),
                Shown::Text("renewal failing".into()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::certs::CertSource;
    use crate::domain::text::Clean;
    use crate::tls::CertFacts;

    fn facts(name: &str, pos: ChainPosition, before: i64, after: i64, now: Timestamp) -> CertFacts {
        CertFacts {
            subject: Clean::new(name),
            subject_dn: Clean::new(&format!("CN={name}")),
            issuer: Clean::new("R"),
            issuer_dn: Clean::new("CN=R"),
            sans: vec![Clean::new(name)],
            serial: "01".into(),
            sha256: "ab".repeat(32),
            not_before: Some(now + jiff::SignedDuration::from_secs(before)),
            not_after: Some(now + jiff::SignedDuration::from_secs(after)),
            key: Clean::new("EC P-256"),
            signature_algorithm: Clean::new("ecdsa-with-SHA256"),
            is_ca: pos != ChainPosition::Leaf,
            self_issued: pos == ChainPosition::Root,
            position: pos,
        }
    }

    fn row(after: i64, now: Timestamp) -> CertRow {
        CertRow::known(
            CertSource::Secret,
            Clean::new("shop/web-tls"),
            facts("shop.example", ChainPosition::Leaf, -86_400, after, now),
        )
    }

    const D: i64 = 86_400;

    #[test]
    fn levels_follow_days_left() {
        let now = Timestamp::now();
        let r = CertRules::default();
        assert_eq!(
            assess(&row(-2 * D, now), &r, now).level,
            Some(Level::Critical)
        );
        assert!(assess(&row(-2 * D, now), &r, now).reasons[0].starts_with("EXPIRED 2d ago"));
        let a = assess(&row(5 * 3600, now), &r, now);
        assert_eq!((a.level, a.loudest), (Some(Level::Critical), true));
        assert_eq!(a.reasons[0], "EXPIRES IN 5h");
        assert_eq!(
            assess(&row(3 * D, now), &r, now).level,
            Some(Level::Critical)
        );
        assert_eq!(
            assess(&row(20 * D, now), &r, now).level,
            Some(Level::Warning)
        );
        assert_eq!(assess(&row(365 * D, now), &r, now).level, Some(Level::Ok));
        let mut nyv = row(365 * D, now);
        if let Some(f) = nyv.facts.as_mut() {
            std::sync::Arc::make_mut(f).not_before = Some(now + jiff::SignedDuration::from_secs(D));
        }
        assert_eq!(assess(&nyv, &r, now).level, Some(Level::Critical));
    }

    #[test]
    fn an_intermediate_expiring_first_is_said_and_counts() {
        let now = Timestamp::now();
        let mut r = row(200 * D, now);
        r.chain
            .push(facts("R11", ChainPosition::Intermediate, -D, 3 * D, now).into());
        let a = assess(&r, &CertRules::default(), now);
        assert_eq!(a.level, Some(Level::Critical));
        assert!(
            a.reasons
                .iter()
                .any(|x| x == "intermediate \"R11\" expires in 3d, before this certificate"),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn verdicts_and_unknowns() {
        let now = Timestamp::now();
        let rules = CertRules::default();
        let mut m = row(365 * D, now);
        m.verify = Some(Outcome::NameMismatch);
        assert_eq!(assess(&m, &rules, now).level, Some(Level::Critical));
        let mut u = row(365 * D, now);
        u.verify = Some(Outcome::UnknownIssuer);
        assert_eq!(assess(&u, &rules, now).level, Some(Level::Warning));
        let unk = CertRow::unknown(CertSource::Endpoint, Clean::new("x:443"), "connect refused");
        let a = assess(&unk, &rules, now);
        assert_eq!(a.level, None);
        assert_eq!(a.word(), "UNKNOWN");
        let conds = evaluate(&[unk], &rules, now);
        assert!(
            conds
                .iter()
                .any(|c| c.key.rule == "cert_unknown" && c.breached)
        );
    }
}
