//! age encryption of a whole file, in memory: the plaintext never touches the disk.

use std::io::Write;

use crate::error::UserError;

/// scrypt work factor for passphrase vaults: what `age -p` writes, and what phones and other tools accept.
pub const WORK_FACTOR: u8 = 18;

/// Encrypts `plaintext` to `recipient` (one recipient, which may stand for several: see
/// `trust::membership::Recording`), in ASCII armour when `armored`.
pub fn encrypt(
    plaintext: &[u8],
    recipient: &dyn age::Recipient,
    armored: bool,
) -> Result<Vec<u8>, UserError> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient))
        .map_err(|e| UserError::new(format!("cannot encrypt: {e}")))?;
    let io = |e: std::io::Error| UserError::new(format!("cannot encrypt: {e}"));
    let mut out = Vec::with_capacity(plaintext.len() + 1024);
    if armored {
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .map_err(io)?;
        let mut writer = encryptor.wrap_output(armor).map_err(io)?;
        writer.write_all(plaintext).map_err(io)?;
        writer
            .finish()
            .and_then(|armor| armor.finish())
            .map_err(io)?;
    } else {
        let mut writer = encryptor.wrap_output(&mut out).map_err(io)?;
        writer.write_all(plaintext).map_err(io)?;
        writer.finish().map_err(io)?;
    }
    Ok(out)
}
