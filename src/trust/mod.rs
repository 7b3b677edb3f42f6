//! What this machine has accepted, and what a version of the vault says about its members.
//!
//! - [`pin`]: the recipients file this machine last encrypted to or accepted, and the review of a change;
//! - [`membership`]: the recipients a version records in its own header, and the one three-way rule for
//!   membership that both merge drivers apply;
//! - [`reenrol`]: the marks `members rm` leaves on the accounts a removed member could read.

pub mod members;
pub mod membership;
pub mod pin;
pub mod reenrol;
pub mod review;

pub use reenrol::Reenrol;
