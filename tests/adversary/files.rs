//! Attacks: files (see tests/adversary.rs).
