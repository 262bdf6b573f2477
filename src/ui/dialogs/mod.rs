//! Overlays drawn over the panes: the detail view and the acknowledgement note. (The guarded
//! PVC delete dialog joins here as a state machine.)

pub mod ack;
pub mod detail;
pub mod pvc_delete;
