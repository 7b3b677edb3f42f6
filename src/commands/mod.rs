//! The commands: one module per family, each a thin shell over the core (`vault`, `trust`, `age`, `totp`,
//! `output`, `import`, `files`) that parses, asks and prints. `dispatch.rs` calls them by family; nothing
//! here imports `cli` outside tests, so the command line, the commands and the core import each other in
//! one direction only.

pub mod access;
pub mod accounts;
pub mod agent;
pub mod ask;
pub mod audit;
pub mod clip;
pub mod complete;
pub mod create;
pub mod exchange;
pub mod git;
pub mod help;
pub mod keys;
pub mod members;
pub mod merge;
pub mod open;
pub mod read;
pub mod switch;
#[cfg(unix)]
pub mod unlock;
pub mod vaults;
