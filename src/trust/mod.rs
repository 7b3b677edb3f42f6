//! What this machine has accepted, and what a version of the vault says about its members.
//!
//! - [`pin`]: the recipients file this machine last encrypted to or accepted, and the review of a change;
//! - [`review`]: the recipients review a write stops on, and recording what was accepted;
//! - [`members`]: the recipients files as read for a write (never through a committed link), and their
//!   merge by key;
//! - [`membership`]: the recipients a version records in its own header, and the one three-way rule for
//!   membership that both merge drivers apply;
//! - [`reenrol`]: the marks `members rm` leaves on the accounts a removed member could read.

pub mod members;
pub mod membership;
pub mod pin;
pub mod reenrol;
pub mod review;
