//! age decryption of the secrets file. Pure: bytes and keys in, plaintext out, and nothing released unless
//! the whole file authenticated.

use std::io::Read;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::identity::MAX_WORK_FACTOR;

/// True when the bytes are an age file, binary or ASCII-armoured: the age header appears near the start,
/// or a line there looks like the armour's BEGIN line (in any spelling). Damaged age files (garbage before
/// the armour, a mangled BEGIN line) must fail as age files, never be read as a plaintext vault; a
/// plaintext vault has no such line.
pub fn is_age(bytes: &[u8]) -> bool {
    let start = &bytes[..bytes.len().min(1024)];
    let contains = |needle: &[u8]| start.windows(needle.len()).any(|w| w == needle);
    contains(b"age-encryption.org/")
        || start.split(|b| *b == b'\n').any(|line| {
            line.trim_ascii_start().starts_with(b"-----")
                && line.to_ascii_uppercase().windows(5).any(|w| w == b"BEGIN")
        })
}

/// What age's readers get: an armoured file without the whitespace that may precede it (the format
/// allows it; the age crate's armour reader does not skip it). Binary files are passed unchanged.
fn framed(bytes: &[u8]) -> &[u8] {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"-----BEGIN") {
        trimmed
    } else {
        bytes
    }
}

/// Why a file did not decrypt. Messages are completed with the file name by the caller.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("it is encrypted to recipients, but no identity was found")]
    NoIdentity,
    #[error("none of the identities can open it")]
    NoMatch,
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    #[error("the passphrase is needed and there is no terminal to ask for it")]
    NoTerminal,
    #[error("it uses scrypt work factor {required}; teamotp accepts at most {MAX_WORK_FACTOR}")]
    ExcessiveWork { required: u8 },
    #[error("the identity's own passphrase is wrong, or its key could not be decrypted")]
    KeyDecryption,
    #[error("the passphrase of '{0}' is needed and there is no terminal to ask for it")]
    KeyNoTerminal(String),
    #[error("it is damaged or truncated ({0})")]
    Damaged(String),
    #[error("it uses an age format this version does not know ({0})")]
    UnknownFormat(String),
    #[error("{0}")]
    Plugin(String),
}

impl From<age::DecryptError> for Failure {
    fn from(e: age::DecryptError) -> Self {
        use age::DecryptError as E;
        match e {
            E::NoMatchingKeys => Failure::NoMatch,
            E::ExcessiveWork { required, .. } => Failure::ExcessiveWork { required },
            E::KeyDecryptionFailed => match super::identity::no_terminal() {
                Some(key) => Failure::KeyNoTerminal(key),
                None => Failure::KeyDecryption,
            },
            E::UnknownFormat => Failure::UnknownFormat(e.to_string().replace('\n', " ")),
            E::Plugin(_) | E::PluginResolve(_) => Failure::Plugin(e.to_string().replace('\n', " ")),
            // A plugin that died or broke the protocol (`crate::age::plugin`): not a damaged file.
            E::Io(ref io) if super::plugin::failure(io).is_some() => {
                Failure::Plugin(super::plugin::failure(io).unwrap_or_default())
            }
            E::InvalidHeader | E::InvalidMac | E::DecryptionFailed | E::Io(_) => {
                Failure::Damaged(e.to_string().replace('\n', " "))
            }
            other => Failure::Damaged(other.to_string().replace('\n', " ")),
        }
    }
}

/// True when the age header says the file is passphrase-encrypted (scrypt), so no identity is needed.
pub fn is_scrypt(bytes: &[u8]) -> Result<bool, Failure> {
    Ok(decryptor(age::armor::ArmoredReader::new(framed(bytes)))?.is_scrypt())
}

/// age's decryptor over `input`, its header handed over in one piece (see [`super::header::WholeHeader`]:
/// the crate's own header reader is quadratic in the header's size).
pub fn decryptor<R: std::io::BufRead>(
    input: R,
) -> Result<age::Decryptor<super::header::WholeHeader<R>>, age::DecryptError> {
    age::Decryptor::new_buffered(super::header::WholeHeader::new(input))
}

/// Decrypts an age file. For passphrase (scrypt) files `passphrase` is called once and used with scrypt
/// as it is (a passphrase typed at a prompt); otherwise the identities are tried. The plaintext is
/// returned only after every chunk authenticated; on any error the partial plaintext is wiped and nothing
/// is returned. A passphrase kept from an earlier read may be the agent's marker, which only the agent
/// opens: such callers use [`decrypt_with`] and `agent::reopening`.
pub fn decrypt(
    bytes: &[u8],
    identities: &[Box<dyn age::Identity>],
    passphrase: impl FnOnce() -> Result<SecretString, Failure>,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    decrypt_with(bytes, identities, || {
        passphrase().map(|p| scrypt(p, MAX_WORK_FACTOR))
    })
}

/// [`decrypt`], with the identity that opens a passphrase file made by the caller: `unlock` is called
/// once, for a passphrase file only. This is how a vault opened through the agent is decrypted again (the
/// agent stands in for the passphrase: see `agent::passphrase_identity`) without this module knowing the
/// agent.
pub fn decrypt_with(
    bytes: &[u8],
    identities: &[Box<dyn age::Identity>],
    unlock: impl FnOnce() -> Result<Box<dyn age::Identity>, Failure>,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let input = age::armor::ArmoredReader::new(framed(bytes));
    decrypt_from(bytes, input, bytes.len(), identities, unlock)
}

/// The identity of a passphrase file: scrypt with `passphrase`, its work factor capped at `max_work` (a
/// file that demands more is refused rather than left to run for minutes).
pub fn scrypt(passphrase: SecretString, max_work: u8) -> Box<dyn age::Identity> {
    let mut identity = age::scrypt::Identity::new(passphrase);
    identity.set_max_work_factor(max_work);
    Box::new(identity)
}

/// [`decrypt`] of a binary age file decrypted as it is read (the ciphertext is never held whole):
/// `head` is the start of the file and holds its whole header, `file` reads the whole file from its
/// first byte, `len` is the file's length. Only for identities (a passphrase file goes through
/// [`decrypt`], which can ask again).
pub fn decrypt_stream(
    head: &[u8],
    file: impl Read,
    len: usize,
    identities: &[Box<dyn age::Identity>],
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    // A small buffer: the age reader asks for whole 64 KiB chunks, which bypass it.
    let input = age::armor::ArmoredReader::new(std::io::BufReader::with_capacity(8 * 1024, file));
    decrypt_from(head, input, len, identities, || Err(Failure::NoTerminal))
}

/// The decryption behind [`decrypt`] and [`decrypt_stream`]: `start` (the file's first bytes, at least
/// its header) is checked, `input` (the whole file) decrypted, at most `len` bytes of plaintext taken.
fn decrypt_from(
    start: &[u8],
    input: impl std::io::BufRead,
    len: usize,
    identities: &[Box<dyn age::Identity>],
    unlock: impl FnOnce() -> Result<Box<dyn age::Identity>, Failure>,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let damaged_v1 = |e: Failure| match e {
        // A v1 header whose lines are mangled is damage, not a format from the future.
        Failure::UnknownFormat(detail)
            if start
                .trim_ascii_start()
                .starts_with(b"age-encryption.org/v1\n") =>
        {
            Failure::Damaged(detail)
        }
        other => other,
    };
    super::header::check(framed(start)).map_err(|e| Failure::Damaged(e.to_string()))?;
    let decryptor = decryptor(input).map_err(|e| damaged_v1(e.into()))?;
    let mut reader = if decryptor.is_scrypt() {
        let identity = unlock()?;
        decryptor
            .decrypt(std::iter::once(identity.as_ref()))
            .map_err(|e| match e {
                age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                    Failure::WrongPassphrase
                }
                other => other.into(),
            })?
    } else {
        if identities.is_empty() {
            return Err(Failure::NoIdentity);
        }
        decryptor.decrypt(identities.iter().map(|i| i.as_ref()))?
    };
    // Plaintext is never longer than the ciphertext: sized once so it never reallocates (a reallocation
    // would leave an unwiped copy behind). A file that grew while it was read (more plaintext than
    // `len`) is refused rather than let the buffer grow.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(len + 1));
    if let Err(e) = (&mut reader).take(len as u64).read_to_end(&mut plaintext) {
        return Err(Failure::Damaged(e.to_string()));
    }
    // The end of the stream, where age checks the last chunk, must have been reached.
    let mut more = Zeroizing::new([0u8; 1]);
    match reader.read(&mut more[..]) {
        Ok(0) => Ok(plaintext),
        Ok(_) => Err(Failure::Damaged("it changed while it was read".into())),
        Err(e) => Err(Failure::Damaged(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn encrypt(plaintext: &[u8], recipient: &age::x25519::Recipient) -> Vec<u8> {
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .unwrap();
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).unwrap();
        writer.write_all(plaintext).unwrap();
        writer.finish().unwrap();
        out
    }

    fn no_passphrase() -> Result<SecretString, Failure> {
        panic!("no passphrase expected")
    }

    #[test]
    fn round_trip_with_the_right_identity() {
        let key = age::x25519::Identity::generate();
        let file = encrypt(b"name,secret\n", &key.to_public());
        assert!(is_age(&file));
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(key)];
        assert_eq!(
            &decrypt(&file, &ids, no_passphrase).unwrap()[..],
            b"name,secret\n"
        );
    }

    #[test]
    fn wrong_identity_is_no_match() {
        let file = encrypt(b"x", &age::x25519::Identity::generate().to_public());
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(age::x25519::Identity::generate())];
        assert!(matches!(
            decrypt(&file, &ids, no_passphrase),
            Err(Failure::NoMatch)
        ));
        assert!(matches!(
            decrypt(&file, &[], no_passphrase),
            Err(Failure::NoIdentity)
        ));
    }

    #[test]
    fn truncated_and_flipped_files_release_nothing() {
        let key = age::x25519::Identity::generate();
        let plaintext = vec![b'a'; 200_000];
        let file = encrypt(&plaintext, &key.to_public());
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(key)];
        for cut in [10, file.len() / 2, file.len() - 1] {
            assert!(
                matches!(
                    decrypt(&file[..cut], &ids, no_passphrase),
                    Err(Failure::Damaged(_))
                ),
                "cut at {cut}"
            );
        }
        let mut flipped = file.clone();
        let last = flipped.len() - 5;
        flipped[last] ^= 1;
        assert!(matches!(
            decrypt(&flipped, &ids, no_passphrase),
            Err(Failure::Damaged(_))
        ));
    }

    /// More plaintext than the file's length allowed for (a file that grew while it was read) is
    /// refused, not let the buffer grow; the right length opens.
    #[test]
    fn a_stream_longer_than_its_file_is_refused() {
        let key = age::x25519::Identity::generate();
        let plaintext = vec![b'a'; 100_000];
        let file = encrypt(&plaintext, &key.to_public());
        let ids: Vec<Box<dyn age::Identity>> = vec![Box::new(key)];
        let head = &file[..1000];
        let opened = decrypt_stream(head, &file[..], file.len(), &ids).unwrap();
        assert_eq!(&opened[..], &plaintext[..]);
        let Err(Failure::Damaged(why)) = decrypt_stream(head, &file[..], 50_000, &ids) else {
            panic!("a short length opened");
        };
        assert_eq!(why, "it changed while it was read");
    }

    #[test]
    fn plaintext_is_not_age() {
        assert!(!is_age(b"name,secret\n"));
        assert!(is_age(b"garbage\n-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(is_age(b"\n-----BEGIN AGE ENCRYPTED FILE-----\n"));
    }
}
