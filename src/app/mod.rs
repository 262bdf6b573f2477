//! The application: the model, messages and pure `update`, and `run`, the UI task that owns
//! the terminal. Sources feed it through one bounded channel; side effects run in an executor
//! task and come back as messages.

pub mod command;
pub mod feed;
pub mod logs;
pub mod model;
pub mod msg;
pub mod rescue;
mod runtime;
pub mod table;
pub mod update;

pub use model::{Model, Settings};
pub use msg::{Command, CommandResult, Msg};
pub use runtime::{
    CommandSender, Dispatched, ExecutorGone, ExecutorHandle, ExecutorOptions, RunOptions,
    classify_burst, run, run_with_settings, spawn_executor,
};
pub use update::update;
