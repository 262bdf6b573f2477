//! How the two tables' columns (claims and PersistentVolumes, `app::panes::pvcs`) look: their
//! bounds and priorities for the shared table component (`ui::table`).

use crate::app::panes::pvcs::{ClaimColumn, VolumeColumn};
use crate::ui::table::{Column, ColumnSpec};

impl Column for ClaimColumn {
    fn spec(self) -> ColumnSpec {
        let c = ColumnSpec::new;
        match self {
            ClaimColumn::Danger => c("DANGER", 10),
            ClaimColumn::Name => c("NAME", 16).grow_to(48).priority(1),
            ClaimColumn::Namespace => c("NAMESPACE", 10).grow_to(20).priority(2),
            ClaimColumn::Status => c("STATUS", 11).priority(3),
            ClaimColumn::Markers => c("MARKERS", 14).priority(4),
            ClaimColumn::Used => c("USED", 9).right().priority(5),
            ClaimColumn::Reasons => c("REASONS", 20).rest().cut_end().priority(6),
            ClaimColumn::Capacity => c("CAPACITY", 8).right().priority(7),
            ClaimColumn::Reclaim => c("RECLAIM", 7).priority(8),
            ClaimColumn::Age => c("AGE", 5).right().priority(9),
            ClaimColumn::UsedBy => c("USED BY", 20).grow_to(48).priority(10),
            ClaimColumn::StorageClass => c("STORAGECLASS", 12).priority(11),
            ClaimColumn::Volume => c("VOLUME", 16).grow_to(40).priority(12),
            ClaimColumn::Access => c("ACCESS", 6).priority(13),
        }
    }
}

impl Column for VolumeColumn {
    fn spec(self) -> ColumnSpec {
        let c = ColumnSpec::new;
        match self {
            VolumeColumn::Name => c("NAME", 16).grow_to(48),
            VolumeColumn::Phase => c("PHASE", 11).priority(1),
            VolumeColumn::Danger => c("DANGER", 10).priority(2),
            VolumeColumn::Flag => c("FLAG", 8).priority(3),
            VolumeColumn::Reclaim => c("RECLAIM", 7).priority(4),
            VolumeColumn::Claim => c("CLAIM", 20).grow_to(48).priority(5),
            VolumeColumn::Reasons => c("REASONS", 20).rest().cut_end().priority(6),
            VolumeColumn::Capacity => c("CAPACITY", 8).right().priority(7),
            VolumeColumn::Age => c("AGE", 5).right().priority(8),
            VolumeColumn::StorageClass => c("STORAGECLASS", 12).priority(9),
        }
    }
}
