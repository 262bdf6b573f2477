//! The snapshot's lists (CLOSE_WAIT by process/peer/port, listeners, fd usage) as sortable,
//! filterable tables with stable row keys, and the alert keys of rows that carry danger.

use std::cmp::Ordering;
use std::fmt::Write;

use super::SocketsView;
use crate::app::table::{RowKey, TableData, cmp_f64};
use crate::domain::sockets::SocketSnapshot;

/// One of the snapshot's lists seen as a table.
pub struct SocketRows<'a> {
    pub view: SocketsView,
    pub snap: &'a SocketSnapshot,
    /// The pane's data version (see [`TableData::version`]).
    pub version: Option<u64>,
}

impl TableData for SocketRows<'_> {
    fn len(&self) -> usize {
        let s = self.snap;
        match self.view {
            SocketsView::CloseWaitByProcess => s.close_wait_by_process.len(),
            SocketsView::CloseWaitByPeer => s.close_wait_by_peer.len(),
            SocketsView::CloseWaitByPort => s.close_wait_by_local_port.len(),
            SocketsView::ListenQueues => s.listeners.len(),
            SocketsView::FdUsage => s.fd_usage.len(),
        }
    }

    fn key(&self, i: usize) -> RowKey {
        let s = self.snap;
        match self.view {
            SocketsView::CloseWaitByProcess => {
                let p = &s.close_wait_by_process[i];
                RowKey::of(&(p.pid, &p.comm))
            }
            SocketsView::CloseWaitByPeer => RowKey::of(&s.close_wait_by_peer[i].peer),
            SocketsView::CloseWaitByPort => RowKey::of(&s.close_wait_by_local_port[i].port),
            SocketsView::ListenQueues => RowKey::of(&s.listeners[i].local),
            SocketsView::FdUsage => RowKey::of(&s.fd_usage[i].pid),
        }
    }

    fn version(&self) -> Option<u64> {
        self.version
    }

    fn haystack(&self, i: usize, scratch: &mut String) -> bool {
        let s = self.snap;
        // Writing into a String cannot fail.
        let _ = match self.view {
            SocketsView::CloseWaitByProcess => {
                let p = &s.close_wait_by_process[i];
                match p.pid {
                    Some(pid) => write!(scratch, "{pid} {}", p.comm),
                    None => write!(scratch, "? {}", p.comm),
                }
            }
            SocketsView::CloseWaitByPeer => write!(scratch, "{}", s.close_wait_by_peer[i].peer),
            SocketsView::CloseWaitByPort => {
                write!(scratch, "{}", s.close_wait_by_local_port[i].port)
            }
            SocketsView::ListenQueues => {
                let l = &s.listeners[i];
                write!(scratch, "{} {}", l.local, l.comm.as_deref().unwrap_or(""))
            }
            SocketsView::FdUsage => {
                let f = &s.fd_usage[i];
                write!(scratch, "{} {}", f.pid, f.comm)
            }
        };
        true
    }

    fn compare(&self, a: usize, b: usize, column: usize) -> Ordering {
        let s = self.snap;
        match self.view {
            SocketsView::CloseWaitByProcess => {
                let (x, y) = (&s.close_wait_by_process[a], &s.close_wait_by_process[b]);
                match column {
                    0 => x.pid.cmp(&y.pid),
                    1 => x.comm.cmp(&y.comm),
                    _ => x.count.cmp(&y.count),
                }
            }
            SocketsView::CloseWaitByPeer => {
                let (x, y) = (&s.close_wait_by_peer[a], &s.close_wait_by_peer[b]);
                if column == 0 {
                    x.peer.cmp(&y.peer)
                } else {
                    x.count.cmp(&y.count)
                }
            }
            SocketsView::CloseWaitByPort => {
                let (x, y) = (
                    &s.close_wait_by_local_port[a],
                    &s.close_wait_by_local_port[b],
                );
                if column == 0 {
                    x.port.cmp(&y.port)
                } else {
                    x.count.cmp(&y.count)
                }
            }
            SocketsView::ListenQueues => {
                let (x, y) = (&s.listeners[a], &s.listeners[b]);
                match column {
                    1 => x.local.cmp(&y.local),
                    2 => x.queued.cmp(&y.queued),
                    3 => x.backlog.cmp(&y.backlog),
                    5 => x.pid.cmp(&y.pid),
                    6 => x.comm.cmp(&y.comm),
                    _ => cmp_f64(x.fill_pct(), y.fill_pct()),
                }
            }
            SocketsView::FdUsage => {
                let (x, y) = (&s.fd_usage[a], &s.fd_usage[b]);
                match column {
                    1 => x.pid.cmp(&y.pid),
                    2 => x.comm.cmp(&y.comm),
                    3 => x.open.cmp(&y.open),
                    4 => x.soft_limit.cmp(&y.soft_limit),
                    _ => cmp_f64(x.pct().unwrap_or(0.0), y.pct().unwrap_or(0.0)),
                }
            }
        }
    }
}

/// `rule@subject` of a listener's accept-queue alert, as `rules::sockets` names it (a test
/// checks the two agree).
pub fn listener_danger_key(l: &crate::domain::sockets::Listener) -> String {
    let owner = match (&l.comm, l.pid) {
        (Some(c), Some(p)) => format!(" ({c}, pid {p})"),
        _ => String::new(),
    };
    format!("accept_queue_pct@listen {}{owner}", l.local)
}

/// `rule@subject` of a process's fd-usage alert, as `rules::sockets` names it.
pub fn fd_danger_key(u: &crate::domain::sockets::FdUsage) -> String {
    format!("process_fd_pct@pid {} ({})", u.pid, u.comm)
}
