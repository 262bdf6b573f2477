//! The application: the model, messages and pure `update`. Sources feed it through one bounded
//! channel; side effects run in an executor task and come back as messages. The UI task that
//! owns the terminal and draws the model (`crate::ui`) is `crate::console::runtime`.

pub mod command;
pub mod delete;
pub mod feed;
pub mod help;
pub mod logs;
pub mod model;
pub mod msg;
pub mod panes;
pub mod rescue;
pub mod table;
pub mod update;

pub use model::{Model, Settings};
pub use msg::{Command, CommandResult, Msg};
pub use update::update;
