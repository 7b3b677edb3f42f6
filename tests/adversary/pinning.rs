//! Attacks: pinning (see tests/adversary.rs).
