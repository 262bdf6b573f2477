//! The two tables' data: cached sort keys, searchable text and row keys of claims and PVs.

use super::*;

/// A snapshot's claims seen as a table.
pub struct ClaimRows<'a> {
    pub snap: &'a PvcsSnapshot,
    /// The pane's data version (see [`TableData::version`]).
    pub version: Option<u64>,
}

fn push_fields<'f>(out: &mut String, fields: impl IntoIterator<Item = &'f str>) {
    for f in fields {
        out.push_str(f);
        out.push('\n');
    }
}

fn bytes(b: Option<u64>) -> SortKey {
    SortKey::opt_num(b.map(|b| b as f64))
}

impl TableData for ClaimRows<'_> {
    fn len(&self) -> usize {
        self.snap.rows.len()
    }

    fn key(&self, i: usize) -> RowKey {
        let r = &self.snap.rows[i];
        RowKey::of(&(&r.namespace, &r.name))
    }

    fn version(&self) -> Option<u64> {
        self.version
    }

    fn haystack(&self, i: usize, out: &mut String) -> bool {
        let r = &self.snap.rows[i];
        let fields = [
            r.namespace.as_str(),
            r.name.as_str(),
            r.status.as_str(),
            r.storage_class.as_deref().unwrap_or(""),
            r.volume.as_deref().unwrap_or(""),
        ];
        push_fields(
            out,
            fields
                .into_iter()
                .chain(r.markers.iter().map(|m| m.label()))
                .chain(r.users.iter().map(|u| u.pod.as_str()))
                .chain(r.reasons.iter().map(|x| x.text.as_str())),
        );
        true
    }

    fn sort_key(&self, i: usize, column: usize) -> Option<SortKey> {
        let r = self.snap.rows.get(i)?;
        let text = SortKey::text;
        Some(match ClaimColumn::at(column)? {
            ClaimColumn::Namespace => SortKey::tuple([text(&r.namespace), text(&r.name)]),
            ClaimColumn::Name => text(&r.name),
            ClaimColumn::Status => text(&r.status),
            ClaimColumn::Capacity => bytes(r.capacity_bytes),
            // Unknown sorts below every known size.
            ClaimColumn::Used => bytes(r.used.used_bytes()),
            ClaimColumn::StorageClass => SortKey::opt_text(r.storage_class.as_deref()),
            ClaimColumn::Volume => SortKey::opt_text(r.volume.as_deref()),
            ClaimColumn::Reclaim => SortKey::opt_text(r.reclaim_policy.as_deref()),
            ClaimColumn::Access => SortKey::tuple(r.access_modes.iter().map(|m| text(m))),
            ClaimColumn::UsedBy => text(&r.used_by_text()),
            // Oldest first when ascending, like kubectl --sort-by=.metadata.creationTimestamp.
            ClaimColumn::Age => SortKey::time(r.created),
            ClaimColumn::Markers => {
                SortKey::tuple(r.markers.iter().map(|m| SortKey::num(*m as u8 as f64)))
            }
            ClaimColumn::Reasons => text(&r.reasons_text()),
            // DANGER: the source already sorted by level then most recent trouble.
            ClaimColumn::Danger => SortKey::num(i as f64),
        })
    }
}

/// A snapshot's PersistentVolumes seen as a table.
pub struct VolumeRows<'a> {
    pub snap: &'a PvcsSnapshot,
    /// The pane's data version (see [`TableData::version`]).
    pub version: Option<u64>,
}

impl TableData for VolumeRows<'_> {
    fn len(&self) -> usize {
        self.snap.pvs.len()
    }

    fn key(&self, i: usize) -> RowKey {
        RowKey::of(&self.snap.pvs[i].name)
    }

    fn version(&self) -> Option<u64> {
        self.version
    }

    fn haystack(&self, i: usize, out: &mut String) -> bool {
        let p = &self.snap.pvs[i];
        let fields = [
            p.name.as_str(),
            p.phase.as_str(),
            p.claim.as_deref().unwrap_or(""),
            p.storage_class.as_deref().unwrap_or(""),
            p.reclaim_policy.as_deref().unwrap_or(""),
            if p.orphaned { "orphaned" } else { "" },
        ];
        push_fields(
            out,
            fields
                .into_iter()
                .chain(p.reasons.iter().map(|x| x.text.as_str())),
        );
        true
    }

    fn sort_key(&self, i: usize, column: usize) -> Option<SortKey> {
        let p = self.snap.pvs.get(i)?;
        let text = SortKey::text;
        // Orphaned first, then by name.
        let orphaned_first = || SortKey::num(if p.orphaned { 0.0 } else { 1.0 });
        Some(match VolumeColumn::at(column)? {
            VolumeColumn::Name => text(&p.name),
            VolumeColumn::Phase => text(&p.phase),
            VolumeColumn::Reclaim => SortKey::opt_text(p.reclaim_policy.as_deref()),
            VolumeColumn::Claim => SortKey::opt_text(p.claim.as_deref()),
            VolumeColumn::StorageClass => SortKey::opt_text(p.storage_class.as_deref()),
            VolumeColumn::Capacity => bytes(p.capacity_bytes),
            VolumeColumn::Age => SortKey::time(p.created),
            VolumeColumn::Flag => SortKey::tuple([orphaned_first(), text(&p.name)]),
            VolumeColumn::Reasons => text(&p.reasons_text()),
            // DANGER: loudest first, then orphaned, then by name.
            VolumeColumn::Danger => SortKey::tuple([
                SortKey::num(-f64::from(p.level as u8)),
                orphaned_first(),
                text(&p.name),
            ]),
        })
    }
}
