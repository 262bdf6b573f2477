//! How the columns of the five socket tables (`app::panes::sockets`) look, for the shared table
//! component (`ui::table`).

use crate::app::panes::sockets::{FdColumn, ListenColumn, PeerColumn, PortColumn, ProcessColumn};
use crate::ui::table::{Column, ColumnSpec};

impl Column for ProcessColumn {
    fn spec(self) -> ColumnSpec {
        match self {
            // One more than the header: the default sort's arrow.
            Self::CloseWait => ColumnSpec::new("CLOSE_WAIT", 11).right(),
            // "unknown (permission denied)" is 27: shown whole from 27 columns, cut below.
            Self::Command => ColumnSpec::new("COMMAND", 15).grow_to(40).priority(1),
            Self::Pid => ColumnSpec::new("PID", 7).right().priority(2),
        }
    }
}

impl Column for PeerColumn {
    fn spec(self) -> ColumnSpec {
        match self {
            // An IPv6 address is up to 39.
            Self::Peer => ColumnSpec::new("PEER", 15).grow_to(39),
            Self::CloseWait => ColumnSpec::new("CLOSE_WAIT", 11).right().priority(1),
        }
    }
}

impl Column for PortColumn {
    fn spec(self) -> ColumnSpec {
        match self {
            Self::LocalPort => ColumnSpec::new("LOCAL PORT", 11).right(),
            Self::CloseWait => ColumnSpec::new("CLOSE_WAIT", 11).right().priority(1),
        }
    }
}

impl Column for ListenColumn {
    fn spec(self) -> ColumnSpec {
        match self {
            Self::Danger => ColumnSpec::new("DANGER", 10),
            // `[addr]:port` of an IPv6 listener is up to 47.
            Self::Local => ColumnSpec::new("LOCAL", 15).grow_to(47).priority(1),
            Self::Fill => ColumnSpec::new("FILL", 5).right().priority(2),
            Self::Queued => ColumnSpec::new("QUEUED", 6).right().priority(3),
            Self::Backlog => ColumnSpec::new("BACKLOG", 7).right().priority(4),
            Self::Command => ColumnSpec::new("COMMAND", 8).grow_to(24).priority(5),
            Self::Pid => ColumnSpec::new("PID", 7).right().priority(6),
        }
    }
}

impl Column for FdColumn {
    fn spec(self) -> ColumnSpec {
        match self {
            Self::Danger => ColumnSpec::new("DANGER", 10),
            Self::Used => ColumnSpec::new("USED", 5).right().priority(1),
            // (5: "USED" and the default sort's arrow.)
            Self::Command => ColumnSpec::new("COMMAND", 8).grow_to(24).priority(2),
            Self::Pid => ColumnSpec::new("PID", 7).right().priority(3),
            Self::OpenFds => ColumnSpec::new("OPEN FDS", 8).right().priority(4),
            // "unlimited" is 9.
            Self::SoftLimit => ColumnSpec::new("SOFT LIMIT", 10).right().priority(5),
        }
    }
}
