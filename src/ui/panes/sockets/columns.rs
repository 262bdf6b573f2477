//! The columns of the five socket tables, for the shared table component (`ui::table`). Each
//! enum's order is the table's column index (its sort column in `rows`).

use crate::ui::table::{Column, ColumnSpec};

/// CLOSE_WAIT by process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessColumn {
    Pid,
    Command,
    CloseWait,
}

impl Column for ProcessColumn {
    const ALL: &'static [Self] = &[Self::Pid, Self::Command, Self::CloseWait];

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

/// CLOSE_WAIT by peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerColumn {
    Peer,
    CloseWait,
}

impl Column for PeerColumn {
    const ALL: &'static [Self] = &[Self::Peer, Self::CloseWait];

    fn spec(self) -> ColumnSpec {
        match self {
            // An IPv6 address is up to 39.
            Self::Peer => ColumnSpec::new("PEER", 15).grow_to(39),
            Self::CloseWait => ColumnSpec::new("CLOSE_WAIT", 11).right().priority(1),
        }
    }
}

/// CLOSE_WAIT by local port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortColumn {
    LocalPort,
    CloseWait,
}

impl Column for PortColumn {
    const ALL: &'static [Self] = &[Self::LocalPort, Self::CloseWait];

    fn spec(self) -> ColumnSpec {
        match self {
            Self::LocalPort => ColumnSpec::new("LOCAL PORT", 11).right(),
            Self::CloseWait => ColumnSpec::new("CLOSE_WAIT", 11).right().priority(1),
        }
    }
}

/// Listen queues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenColumn {
    Danger,
    Local,
    Queued,
    Backlog,
    Fill,
    Pid,
    Command,
}

impl Column for ListenColumn {
    const ALL: &'static [Self] = &[
        Self::Danger,
        Self::Local,
        Self::Queued,
        Self::Backlog,
        Self::Fill,
        Self::Pid,
        Self::Command,
    ];

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

/// Fd usage against the soft limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FdColumn {
    Danger,
    Pid,
    Command,
    OpenFds,
    SoftLimit,
    Used,
}

impl Column for FdColumn {
    const ALL: &'static [Self] = &[
        Self::Danger,
        Self::Pid,
        Self::Command,
        Self::OpenFds,
        Self::SoftLimit,
        Self::Used,
    ];

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
