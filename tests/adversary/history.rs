//! Attacks: history (see tests/adversary.rs).
