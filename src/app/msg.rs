//! Messages into `update` and commands out of it. Commands are the only way the model asks for
//! side effects; their results come back as `Msg::CommandDone`.

use std::time::Instant;

use crossterm::event::{KeyEvent, MouseEvent};

use crate::rules::GroupTransition;
use crate::sources::SourceUpdate;

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    /// Bracketed paste: arrives whole, never as keystrokes (the PVC confirmation refuses it).
    Paste(String),
    Resize(u16, u16),
    /// The clock: drives data ages, STALE marking and pending-alert progress.
    Tick {
        now: Instant,
        wall: jiff::Timestamp,
    },
    Source(SourceUpdate),
    CommandDone(CommandResult),
    /// SIGINT/SIGTERM/SIGHUP or the terminal going away: leave cleanly.
    Shutdown(&'static str),
}

#[derive(Debug, Clone)]
pub enum Command {
    Quit,
    /// Ring the terminal bell (a new critical alert, when enabled).
    Bell,
    /// Run the configured alert command for this group transition (with its timeout), on the
    /// hook pool: dropped (and counted) when the pool is full, never delaying other commands.
    RunAlertHook(Box<GroupTransition>),
    /// Ask the sources to poll now (F5).
    RefreshSources,
    /// `:ctx` / `:ns`: reconnect the Kubernetes sources to another context or namespace.
    Retarget(crate::sources::kube::Retarget),
    /// Fetch a pod container's log tail (previous instance or current), with a deadline.
    FetchPodLogs {
        pod: crate::domain::pods::PodKey,
        container: String,
        previous: bool,
    },
    /// Start the guarded delete flow for this claim; its events come back as
    /// `CommandResult::PvcFlow`.
    StartPvcDelete {
        pvc: crate::domain::pvcs::PvcKey,
    },
    /// The dialog's answer to the running delete flow: the typed name, or cancel.
    PvcFlowInput(crate::actions::flow::FlowInput),
    /// Rescue this claim (PV to Retain, backup through the pod that mounts it); progress and
    /// the end come back as `CommandResult::PvcRescue`.
    StartPvcRescue {
        pvc: crate::domain::pvcs::PvcKey,
    },
    /// Stop the running rescue's backup (the PV stays Retain if it was switched).
    CancelPvcRescue,
}

#[derive(Debug, Clone)]
pub enum CommandResult {
    AlertHook {
        rule: String,
        subject: String,
        outcome: Result<Option<i32>, String>,
    },
    /// Alert-command runs dropped so far because the hook pool was full.
    AlertHooksDropped {
        total: u64,
    },
    PodLogs(Box<crate::app::logs::PodLogsView>),
    /// One event of the delete flow started for `pvc` (a dialog for another claim ignores it).
    PvcFlow {
        pvc: crate::domain::pvcs::PvcKey,
        event: crate::actions::flow::FlowEvent,
    },
    /// The flow for `pvc` started; its audit record goes to `audit_log`.
    PvcFlowStarted {
        pvc: crate::domain::pvcs::PvcKey,
        audit_log: Option<std::path::PathBuf>,
    },
    /// One event of the rescue started for `pvc`.
    PvcRescue {
        pvc: crate::domain::pvcs::PvcKey,
        event: crate::app::rescue::RescueEvent,
    },
    /// The executor panicked while running a command (logged); it was started again and
    /// takes the next commands.
    ExecutorPanicked {
        message: String,
    },
    /// `StartPvcDelete` for `pvc` refused: the flow for `running` has not finished yet.
    PvcFlowBusy {
        pvc: crate::domain::pvcs::PvcKey,
        running: crate::domain::pvcs::PvcKey,
    },
}
