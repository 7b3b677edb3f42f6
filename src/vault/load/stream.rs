//! Decrypting a binary vault as it is read, for the read-only commands: the ciphertext is never held
//! whole (docs/architecture.md, "Secrets in memory").

use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::failure::{failure, read_error};
use super::{Plaintext, inspect};
use crate::age::{decrypt, identity};
use crate::env::Env;
use crate::error::UserError;

/// What [`read_or_stream`] did with a vault file.
pub(super) enum Read {
    /// Decrypted as it was read.
    Decrypted(Plaintext),
    /// Read whole, to be opened as any file is.
    Whole(Zeroizing<Vec<u8>>),
}

/// How much of a vault file is read first to see whether it can be decrypted as it is read: the header
/// of a binary age file for hundreds of recipients.
pub(super) const HEAD: u64 = 64 * 1024;

/// The read-only commands' way to a vault file: a binary age file whose header fits in the first
/// [`HEAD`] bytes, for identities (not a passphrase) and with no agent to ask, is decrypted as it is read,
/// so the ciphertext is never held whole (its 700 KB of fresh pages and its copy were about 5% of a
/// 10,000-account `list`). Anything else is read whole from the same open file and opened as before.
pub(super) fn read_or_stream(
    path: &Path,
    label: &str,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
) -> Result<Read, UserError> {
    use std::io::Read as _;
    let (mut file, len) = crate::files::open(path).map_err(|e| read_error(path, e, env))?;
    let whole = |file| {
        crate::files::read_open(file)
            .map(Read::Whole)
            .map_err(|e| read_error(path, e, env))
    };
    let Ok(size) = usize::try_from(len) else {
        return whole(file);
    };
    // Zeroizing: a plaintext vault's first bytes are secrets. 8 KiB first (a header for dozens of
    // recipients), then up to HEAD when the header is longer.
    let mut head = Zeroizing::new(vec![0u8; size.min(8 * 1024)]);
    if file.read_exact(&mut head).is_err() {
        return whole(file);
    }
    let most = size.min(HEAD as usize);
    if head.len() < most && crate::age::header::check(&head).is_err() {
        let mut longer = Zeroizing::new(vec![0u8; most]);
        longer[..head.len()].copy_from_slice(&head);
        if file.read_exact(&mut longer[head.len()..]).is_err() {
            return whole(file);
        }
        head = longer;
    }
    #[cfg(unix)]
    let agent = crate::agent::client::Agent::reachable(env).is_some();
    #[cfg(not(unix))]
    let agent = false;
    let streamable = head.starts_with(b"age-encryption.org/v1\n")
        && crate::age::header::check(&head).is_ok()
        && matches!(decrypt::is_scrypt(&head), Ok(false))
        && !agent;
    if !streamable {
        return whole(file);
    }
    let agreement = inspect::agreement(path, &head);
    inspect::warn(&agreement, warn);
    let identities = identity::load(&identity::paths(identity_paths, env))?;
    let bytes = decrypt::decrypt_stream(&head, head.as_slice().chain(file), size, &identities.list)
        .map_err(|e| failure(label, e, &identities, env))?;
    Ok(Read::Decrypted(Plaintext {
        label: label.to_owned(),
        bytes,
        encrypted: true,
        armored: false,
        passphrase: None,
        identities,
        file_hash: [0; 32],
        agreement,
    }))
}
