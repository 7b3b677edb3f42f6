//! The age envelope: how a file is encrypted and to whom. Nothing here knows what the plaintext says or
//! what this machine has accepted.
//!
//! - [`header`]: the header grammar, read in one pass and capped, and its stanzas;
//! - [`decrypt`] and [`encrypt`]: the file as a whole, nothing released unless all of it authenticated;
//! - [`identity`]: which identity files to use and every kind of key age reads;
//! - [`recipients`]: the recipients file grammar (`.age-recipients`), each line's [`recipients::Kind`], and
//!   how a key is shown;
//! - [`pq`]: the post-quantum hybrid recipient type (ML-KEM-768 + X25519);
//! - [`plugin`]: the watchdog around `age-plugin-*` programs.
//!
//! `crate::age` is this module; a bare `age::` path is the age crate it builds on.

pub mod decrypt;
pub mod encrypt;
pub mod header;
pub mod identity;
pub mod plugin;
pub mod pq;
pub mod recipients;

/// SHA-256 of `bytes`: key fingerprints, recorded members, pins, and the vault as read (a write checks
/// that nobody replaced it meanwhile).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}
