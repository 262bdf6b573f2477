//! The two tables' columns: claims and PersistentVolumes. Each enum's order is the table's
//! column index; their bounds and priorities are `ui::panes::pvcs`'s.

use crate::app::table::ColumnId;

/// The PVC view. At 80 columns DANGER, NAMESPACE, NAME, STATUS, MARKERS and USED stay; the
/// selected claim's reasons show below the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimColumn {
    Danger,
    Namespace,
    Name,
    Status,
    Capacity,
    Used,
    StorageClass,
    Volume,
    Reclaim,
    Access,
    UsedBy,
    Age,
    Markers,
    Reasons,
}

impl ColumnId for ClaimColumn {
    const ALL: &'static [ClaimColumn] = &[
        ClaimColumn::Danger,
        ClaimColumn::Namespace,
        ClaimColumn::Name,
        ClaimColumn::Status,
        ClaimColumn::Capacity,
        ClaimColumn::Used,
        ClaimColumn::StorageClass,
        ClaimColumn::Volume,
        ClaimColumn::Reclaim,
        ClaimColumn::Access,
        ClaimColumn::UsedBy,
        ClaimColumn::Age,
        ClaimColumn::Markers,
        ClaimColumn::Reasons,
    ];
}

/// The PV view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeColumn {
    Name,
    Phase,
    Reclaim,
    Claim,
    StorageClass,
    Capacity,
    Age,
    Danger,
    Flag,
    Reasons,
}

impl ColumnId for VolumeColumn {
    const ALL: &'static [VolumeColumn] = &[
        VolumeColumn::Name,
        VolumeColumn::Phase,
        VolumeColumn::Reclaim,
        VolumeColumn::Claim,
        VolumeColumn::StorageClass,
        VolumeColumn::Capacity,
        VolumeColumn::Age,
        VolumeColumn::Danger,
        VolumeColumn::Flag,
        VolumeColumn::Reasons,
    ];
}
