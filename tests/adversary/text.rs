//! Attacks: text (see tests/adversary.rs).
