//! Attacks: limits (see tests/adversary.rs).
