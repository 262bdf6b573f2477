//! The two tables' data: sort keys, filter matching and row keys of claims and PVs.

use super::*;

/// A snapshot's claims seen as a table.
pub struct ClaimRows<'a> {
    pub snap: &'a PvcsSnapshot,
}

impl TableData for ClaimRows<'_> {
    fn len(&self) -> usize {
        self.snap.rows.len()
    }

    fn key(&self, i: usize) -> RowKey {
        let r = &self.snap.rows[i];
        RowKey::of(&(&r.namespace, &r.name))
    }

    fn matches(&self, i: usize, needle: &str, scratch: &mut String) -> bool {
        let r = &self.snap.rows[i];
        let fields = [
            r.namespace.as_str(),
            r.name.as_str(),
            r.status.as_str(),
            r.storage_class.as_deref().unwrap_or(""),
            r.volume.as_deref().unwrap_or(""),
        ];
        fields
            .into_iter()
            .chain(r.markers.iter().map(|m| m.label()))
            .chain(r.users.iter().map(|u| u.pod.as_str()))
            .chain(r.reasons.iter().map(|x| x.text.as_str()))
            .any(|f| contains(scratch, f, needle))
    }

    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering {
        let (x, y) = (&self.snap.rows[a], &self.snap.rows[b]);
        match column {
            1 => x.namespace.cmp(&y.namespace).then(x.name.cmp(&y.name)),
            2 => x.name.cmp(&y.name),
            3 => x.status.cmp(&y.status),
            4 => x.capacity_bytes.cmp(&y.capacity_bytes),
            // Unknown sorts below every known size.
            5 => x.used.used_bytes().cmp(&y.used.used_bytes()),
            6 => x.storage_class.cmp(&y.storage_class),
            7 => x.volume.cmp(&y.volume),
            8 => x.reclaim_policy.cmp(&y.reclaim_policy),
            9 => x.access_modes.cmp(&y.access_modes),
            10 => x.used_by_text().cmp(&y.used_by_text()),
            // Oldest first when ascending, like kubectl --sort-by=.metadata.creationTimestamp.
            11 => x.created.cmp(&y.created),
            12 => x.markers.cmp(&y.markers),
            13 => x.reasons_text().cmp(&y.reasons_text()),
            // DANGER: the source already sorted by level then most recent trouble.
            _ => a.cmp(&b),
        }
    }
}

/// A snapshot's PersistentVolumes seen as a table.
pub struct VolumeRows<'a> {
    pub snap: &'a PvcsSnapshot,
}

impl TableData for VolumeRows<'_> {
    fn len(&self) -> usize {
        self.snap.pvs.len()
    }

    fn key(&self, i: usize) -> RowKey {
        RowKey::of(&self.snap.pvs[i].name)
    }

    fn matches(&self, i: usize, needle: &str, scratch: &mut String) -> bool {
        let p = &self.snap.pvs[i];
        let fields = [
            p.name.as_str(),
            p.phase.as_str(),
            p.claim.as_deref().unwrap_or(""),
            p.storage_class.as_deref().unwrap_or(""),
            p.reclaim_policy.as_deref().unwrap_or(""),
            if p.orphaned { "orphaned" } else { "" },
        ];
        fields
            .into_iter()
            .chain(p.reasons.iter().map(|x| x.text.as_str()))
            .any(|f| contains(scratch, f, needle))
    }

    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering {
        let (x, y) = (&self.snap.pvs[a], &self.snap.pvs[b]);
        match column {
            0 => x.name.cmp(&y.name),
            1 => x.phase.cmp(&y.phase),
            2 => x.reclaim_policy.cmp(&y.reclaim_policy),
            3 => x.claim.cmp(&y.claim),
            4 => x.storage_class.cmp(&y.storage_class),
            5 => x.capacity_bytes.cmp(&y.capacity_bytes),
            6 => x.created.cmp(&y.created),
            8 => y.orphaned.cmp(&x.orphaned).then(x.name.cmp(&y.name)),
            9 => x.reasons_text().cmp(&y.reasons_text()),
            // DANGER: loudest first, then orphaned, then by name.
            _ => y
                .level
                .cmp(&x.level)
                .then(y.orphaned.cmp(&x.orphaned))
                .then(x.name.cmp(&y.name)),
        }
    }
}

/// Case-insensitive `field.contains(needle)` (needle already lower-case) without allocating
/// per field: the table's scratch buffer is reused.
pub(super) fn contains(scratch: &mut String, field: &str, needle: &str) -> bool {
    scratch.clear();
    scratch.push_str(field);
    scratch_contains(scratch, needle)
}
