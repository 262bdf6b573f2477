//! The columns of the five socket tables. Each enum's order is the table's column index (its
//! sort column in `rows`); how each looks is `ui::panes::sockets`'s.

use crate::app::table::ColumnId;

/// CLOSE_WAIT by process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessColumn {
    Pid,
    Command,
    CloseWait,
}

impl ColumnId for ProcessColumn {
    const ALL: &'static [Self] = &[Self::Pid, Self::Command, Self::CloseWait];
}

/// CLOSE_WAIT by peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerColumn {
    Peer,
    CloseWait,
}

impl ColumnId for PeerColumn {
    const ALL: &'static [Self] = &[Self::Peer, Self::CloseWait];
}

/// CLOSE_WAIT by local port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortColumn {
    LocalPort,
    CloseWait,
}

impl ColumnId for PortColumn {
    const ALL: &'static [Self] = &[Self::LocalPort, Self::CloseWait];
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

impl ColumnId for ListenColumn {
    const ALL: &'static [Self] = &[
        Self::Danger,
        Self::Local,
        Self::Queued,
        Self::Backlog,
        Self::Fill,
        Self::Pid,
        Self::Command,
    ];
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

impl ColumnId for FdColumn {
    const ALL: &'static [Self] = &[
        Self::Danger,
        Self::Pid,
        Self::Command,
        Self::OpenFds,
        Self::SoftLimit,
        Self::Used,
    ];
}
