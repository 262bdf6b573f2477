//! Overlays drawn over the panes: the detail view, the acknowledgement note and the guarded
//! PVC delete dialog (a state machine over `actions::flow`'s events).

pub mod ack;
pub mod detail;
pub mod pvc_delete;
pub mod pvc_rescue;
