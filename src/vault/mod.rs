//! The vault: the secrets file and its life on disk.
//!
//! - [`format`]: what the file says (team CSV, gauth lines, otpauth URIs), parsed into rows (pure);
//! - [`document`]: the file as an editable document that a write changes cell by cell, and its merge;
//! - [`select`]: which vault a command uses (flags, config, the folder's own vault);
//! - [`load`]: reading a vault: the file, its decryption (with the agent when one runs), its rows;
//! - [`inspect`]: what a read reports about the file beside its rows (recorded members, git drivers);
//! - [`transaction`]: the write transaction every change goes through, and [`store`], its atomic save;
//! - [`merge`]: the three-way merge of a vault's versions (git's merge driver, `members ack`);
//! - [`history`]: the vault's versions in git, and [`readers`]: who could read what, over them.
//!
//! How a file is encrypted and to whom is in [`crate::age`]; what this machine has accepted is in
//! [`crate::trust`].

pub mod document;
pub mod format;
pub mod history;
pub mod inspect;
pub mod load;
pub mod merge;
pub mod readers;
pub mod select;
pub mod store;
pub mod transaction;

pub use load::{Loaded, Plaintext, Source};
