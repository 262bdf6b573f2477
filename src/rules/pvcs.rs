//! The PVC and PV rules of SPEC.md, as pure functions of the API objects and an injected `now`:
//! rows for the PVC pane, `check` and the alert book.
//!
//! INTERFACE STUB: the rules are being written; `evaluate` keeps its signature.

use crate::domain::pvcs::PvcsSnapshot;
use crate::rules::Condition;

/// The alert book's conditions for one snapshot: one per reason of every claim and PV.
pub fn evaluate(snap: &PvcsSnapshot) -> Vec<Condition> {
    let _ = snap;
    Vec::new()
}
