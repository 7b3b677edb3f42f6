//! The imperative shell of vault reading: find the file, read it, decrypt it with the right keys, parse it.

use std::io::Write;
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::format::{Parsed, Reason, Row};
use super::inspect::{self, Agreement};
use crate::age::decrypt::{self, Failure};
use crate::age::identity::{self, Identities, MAX_WORK_FACTOR};
use crate::env::Env;
use crate::error::UserError;
use crate::{demo, tty};

mod failure;
mod stream;

pub(crate) use failure::{failure, read_error};
use stream::{Read, read_or_stream};

/// Where the vault comes from.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Demo,
}

impl Source {
    /// `-f/--file`, else `TEAMOTP_FILE`, else `$XDG_CONFIG_HOME/teamotp/secrets.csv.age`.
    pub fn resolve(file: Option<&Path>, demo: bool, env: &Env) -> Result<Source, UserError> {
        if demo {
            return Ok(Source::Demo);
        }
        if let Some(path) = file {
            return Ok(Source::File(path.to_owned()));
        }
        if let Some(path) = env.var("TEAMOTP_FILE").filter(|p| !p.is_empty()) {
            return Ok(Source::File(PathBuf::from(path)));
        }
        env.config_dir()
            .map(|dir| Source::File(dir.join("teamotp").join("secrets.csv.age")))
            .ok_or_else(|| {
                UserError::new("no vault given and no home directory to look in")
                    .hint("pass a vault with -f/--file PATH or set TEAMOTP_FILE")
            })
    }

    /// How the vault is named in messages.
    pub fn label(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Demo => demo::LABEL.to_owned(),
        }
    }
}

/// A read and parsed vault.
#[derive(Debug)]
pub struct Loaded {
    pub label: String,
    pub parsed: Parsed,
    pub encrypted: bool,
    /// How the version's recorded recipients compare with the recipients file beside it.
    pub agreement: Agreement,
}

impl Loaded {
    /// `FILE:LINE: 'NAME': reason` for one invalid row.
    pub fn describe(&self, row: &Row, reason: &Reason) -> String {
        describe_row(&self.label, row, reason)
    }
}

/// `FILE:LINE: 'NAME': reason` (or `FILE:LINE: reason` for a row without a name to show).
pub fn describe_row(label: &str, row: &Row, reason: &Reason) -> String {
    if row.name().is_empty() {
        format!("{label}:{}: {reason}", row.line)
    } else {
        format!("{label}:{}: '{}': {reason}", row.line, row.name())
    }
}

/// A decrypted vault and what is needed to write it back the same way.
pub struct Plaintext {
    pub label: String,
    pub bytes: Zeroizing<Vec<u8>>,
    pub encrypted: bool,
    /// The vault is ASCII-armoured.
    pub armored: bool,
    /// The passphrase of a passphrase vault (kept to re-encrypt it with the same one).
    pub passphrase: Option<Zeroizing<String>>,
    /// The identities that opened it (used to check a rewritten file).
    pub identities: Identities,
    /// SHA-256 of the file's bytes as read, to notice a concurrent change before replacing it.
    pub file_hash: [u8; 32],
    /// How the version's recorded recipients compare with the recipients file beside it.
    pub agreement: Agreement,
}

/// Reads and decrypts the vault, asking a passphrase on the terminal. Warnings (a plaintext file others
/// can read) go to `warn`.
pub fn read(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
) -> Result<Plaintext, UserError> {
    read_hashing(source, identity_paths, env, warn, true, &mut ask_passphrase)
}

/// [`read`], with the passphrase of a passphrase vault asked by `ask` (given the vault's label). A
/// wrong passphrase is asked again, up to [`tty::TRIES`] times, when a terminal can say so.
pub fn read_asking(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
    ask: &mut dyn FnMut(&str) -> Result<age::secrecy::SecretString, Failure>,
) -> Result<Plaintext, UserError> {
    read_hashing(source, identity_paths, env, warn, true, ask)
}

/// [`read`], with the SHA-256 of the file computed only when `hashing` (the write path's lost-update
/// check needs it; a read-only command would spend a tenth of a large `list` on it) and a passphrase
/// vault's passphrase asked by `ask`. Without the hash `file_hash` is all zeros, and the `Plaintext`
/// never leaves this module.
fn read_hashing(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
    hashing: bool,
    ask: &mut dyn FnMut(&str) -> Result<age::secrecy::SecretString, Failure>,
) -> Result<Plaintext, UserError> {
    let label = source.label();
    match source {
        Source::Demo => open_hashing(
            demo::VAULT,
            label,
            || {
                Ok(Identities {
                    list: identity::parse(demo::IDENTITY, "demo identity")?,
                    paths: Vec::new(),
                })
            },
            || Err(Failure::NoTerminal),
            env,
            hashing,
        ),
        Source::File(path) => {
            inspect::warn_git_drivers(path, env, warn);
            let mut raw = if hashing {
                read_file(path, env)?
            } else {
                match read_or_stream(path, &label, identity_paths, env, warn)? {
                    Read::Decrypted(plain) => return Ok(plain),
                    Read::Whole(raw) => raw,
                }
            };
            if raw.is_empty() && path.extension().is_some_and(|e| e == "age") {
                return Err(UserError::new(format!(
                    "'{}' is empty: an age file never is, so it was truncated or overwritten",
                    path.display()
                ))
                .hint("restore it from version control or from its backup (VAULT.bak)"));
            }
            let encrypted = decrypt::is_age(&raw);
            if !encrypted {
                refuse_plaintext_team_vault(path, env)?;
                warn_if_exposed(path, warn);
            }
            let agreement = match encrypted {
                true => inspect::agreement(path, &raw),
                false => Agreement::Agrees,
            };
            // A write re-encrypts to the recipients file, which fixes a mismatch: it says so after
            // writing (`Transaction::commit`) instead of asking for `rekey` first.
            if !hashing {
                inspect::warn(&agreement, warn);
            }
            let ask_label = label.clone();
            let opened = open_hashing(
                &raw,
                label,
                || identity::load(&identity::paths(identity_paths, env)),
                || ask(&ask_label),
                env,
                hashing,
            );
            if encrypted {
                // Ciphertext: nothing secret to wipe (a memset of the whole file saved).
                drop(std::mem::take(&mut *raw));
            }
            opened.map(|plain| Plaintext { agreement, ..plain })
        }
    }
}

/// Opens a vault file's bytes, as every command does: an age file (binary or armoured) is decrypted with
/// the identities (loaded only when needed) or, for a passphrase file, the passphrase; anything else is
/// plaintext. Nothing is returned unless the whole age file authenticated.
pub fn open(
    raw: &[u8],
    label: String,
    identities: impl FnOnce() -> Result<Identities, UserError>,
    passphrase: impl FnMut() -> Result<age::secrecy::SecretString, Failure>,
    env: &Env,
) -> Result<Plaintext, UserError> {
    open_hashing(raw, label, identities, passphrase, env, true)
}

/// [`open`], except that an age file none of your keys can open (a version encrypted before you joined,
/// or to other keys) is `None` instead of an error.
pub fn open_if_yours(
    raw: &[u8],
    label: String,
    identities: impl FnOnce() -> Result<Identities, UserError>,
    passphrase: impl FnMut() -> Result<age::secrecy::SecretString, Failure>,
    env: &Env,
) -> Result<Option<Plaintext>, UserError> {
    let mut foreign = false;
    match open_inner(raw, label, identities, passphrase, env, true, &mut foreign) {
        Ok(plain) => Ok(Some(plain)),
        Err(_) if foreign => Ok(None),
        Err(e) => Err(e),
    }
}

fn open_hashing(
    raw: &[u8],
    label: String,
    identities: impl FnOnce() -> Result<Identities, UserError>,
    passphrase: impl FnMut() -> Result<age::secrecy::SecretString, Failure>,
    env: &Env,
    hashing: bool,
) -> Result<Plaintext, UserError> {
    open_inner(raw, label, identities, passphrase, env, hashing, &mut false)
}

/// The opening behind [`open`]; `foreign` is set when no key of yours matched the file's recipients.
fn open_inner(
    raw: &[u8],
    label: String,
    identities: impl FnOnce() -> Result<Identities, UserError>,
    mut passphrase: impl FnMut() -> Result<age::secrecy::SecretString, Failure>,
    env: &Env,
    hashing: bool,
    foreign: &mut bool,
) -> Result<Plaintext, UserError> {
    let file_hash = if hashing {
        crate::age::sha256(raw)
    } else {
        [0; 32]
    };
    if !decrypt::is_age(raw) {
        return Ok(Plaintext {
            label,
            bytes: Zeroizing::new(raw.to_vec()),
            encrypted: false,
            armored: false,
            passphrase: None,
            identities: Identities::empty(),
            file_hash,
            agreement: Agreement::Agrees,
        });
    }
    let armored = !raw.trim_ascii_start().starts_with(b"age-encryption.org/");
    // The agent first, whatever -i says: it holds only what this user unlocked.
    #[cfg(unix)]
    if let Some(opened) = crate::agent::client::open(raw, env) {
        return Ok(Plaintext {
            label,
            bytes: opened.bytes,
            encrypted: true,
            armored,
            passphrase: opened.passphrase,
            identities: opened.identities,
            file_hash,
            agreement: Agreement::Agrees,
        });
    }
    let identities = match decrypt::is_scrypt(raw) {
        Ok(true) => Identities::empty(),
        Ok(false) => identities()?,
        Err(e) => return Err(failure(&label, e, &Identities::empty(), env)),
    };
    let mut kept = None;
    let mut tries = 0;
    let bytes = loop {
        tries += 1;
        let result = decrypt::decrypt_with(raw, &identities.list, || {
            let asked = passphrase()?;
            kept = Some(Zeroizing::new(asked.expose_secret().to_owned()));
            Ok(crate::agent::passphrase_identity(asked, MAX_WORK_FACTOR))
        });
        match result {
            // A passphrase typed wrong is asked again, as ssh does.
            Err(Failure::WrongPassphrase) if tries < tty::TRIES && tty::available() => {
                tty::tell(&format!("wrong passphrase for '{label}', try again"));
            }
            other => {
                break other.map_err(|e| {
                    *foreign = matches!(e, Failure::NoMatch | Failure::NoIdentity);
                    failure(&label, e, &identities, env)
                })?;
            }
        }
    };
    Ok(Plaintext {
        label,
        bytes,
        encrypted: true,
        armored,
        passphrase: kept,
        identities,
        file_hash,
        agreement: Agreement::Agrees,
    })
}

/// [`read`] for a command that only shows the vault: no hash of the file (see [`read_hashing`]), and the
/// passphrase asked on the terminal.
fn read_for_show(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
) -> Result<Plaintext, UserError> {
    read_hashing(
        source,
        identity_paths,
        env,
        warn,
        false,
        &mut ask_passphrase,
    )
}

/// Reads, decrypts and parses the vault. Warnings (a plaintext file others can read) go to `warn`.
pub fn load(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
) -> Result<Loaded, UserError> {
    let plain = read_for_show(source, identity_paths, env, warn)?;
    parse(&plain)
}

/// A decrypted vault whose rows are parsed as they are used, one at a time (`list`): its header was
/// checked when it was loaded, so it fails where [`load`] would have.
pub struct Unparsed {
    pub label: String,
    bytes: Zeroizing<Vec<u8>>,
    encrypted: bool,
    agreement: Agreement,
}

impl Unparsed {
    /// Hands each row to `each` as it is parsed (the rows of [`super::format::parse`], in order). The header was
    /// checked by [`load_unparsed`], so the error [`super::format::parse`] could give (before any row) is not
    /// expected here; it is reported all the same.
    pub fn each_row(&self, each: impl FnMut(Row)) -> Result<(), UserError> {
        super::format::each_row(&self.bytes, each)
            .map(|_| ())
            .map_err(|e| UserError::new(format!("{}: {e}", self.label)))
    }

    /// Every row at once.
    pub fn parse(&self) -> Result<Loaded, UserError> {
        let parsed = super::format::parse(&self.bytes)
            .map_err(|e| UserError::new(format!("{}: {e}", self.label)))?;
        Ok(Loaded {
            label: self.label.clone(),
            parsed,
            encrypted: self.encrypted,
            agreement: self.agreement.clone(),
        })
    }
}

/// [`load`] without parsing the rows: read, decrypted, its header checked.
pub fn load_unparsed(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
) -> Result<Unparsed, UserError> {
    let plain = read_for_show(source, identity_paths, env, warn)?;
    super::format::check(&plain.bytes)
        .map_err(|e| UserError::new(format!("{}: {e}", plain.label)))?;
    Ok(Unparsed {
        label: plain.label,
        bytes: plain.bytes,
        encrypted: plain.encrypted,
        agreement: plain.agreement,
    })
}

/// [`load`] for `code QUERY`: only the rows that could match `query` are parsed (see
/// [`super::format::parse_candidates`]).
pub fn load_candidates(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
    query: &str,
) -> Result<Loaded, UserError> {
    let plain = read_for_show(source, identity_paths, env, warn)?;
    let parsed = super::format::parse_candidates(&plain.bytes, query)
        .map_err(|e| UserError::new(format!("{}: {e}", plain.label)))?;
    Ok(Loaded {
        label: plain.label.clone(),
        parsed,
        encrypted: plain.encrypted,
        agreement: plain.agreement.clone(),
    })
}

/// The keys that opened a vault, kept (by the TUI) to open it again without asking: the TUI cannot
/// prompt over its own screen.
pub struct Keys {
    identities: Identities,
    passphrase: Option<Zeroizing<String>>,
}

/// [`load`], keeping the keys that opened the vault for [`reload`].
pub fn load_keeping(
    source: &Source,
    identity_paths: &[PathBuf],
    env: &Env,
    warn: &mut dyn Write,
) -> Result<(Loaded, Keys), UserError> {
    let plain = read_for_show(source, identity_paths, env, warn)?;
    let loaded = parse(&plain)?;
    let Plaintext {
        identities,
        passphrase,
        ..
    } = plain;
    Ok((
        loaded,
        Keys {
            identities,
            passphrase,
        },
    ))
}

/// Reads the vault file again and opens it with the keys that opened it before; nothing is asked (a
/// vault now encrypted to other keys, or a passphrase vault never unlocked, is an error).
pub fn reload(path: &Path, label: String, keys: &Keys, env: &Env) -> Result<Loaded, UserError> {
    let raw = read_file(path, env)?;
    if raw.is_empty() && path.extension().is_some_and(|e| e == "age") {
        return Err(UserError::new(format!("'{label}' is empty")));
    }
    if !decrypt::is_age(&raw) {
        refuse_plaintext_team_vault(path, env)?;
        let plain = open_hashing(
            &raw,
            label,
            || Ok(Identities::empty()),
            || Err(Failure::NoTerminal),
            env,
            false,
        )?;
        return parse(&plain);
    }
    let bytes = decrypt::decrypt_with(&raw, &keys.identities.list, || {
        crate::agent::reopening(keys.passphrase.as_ref().map(|p| p.as_str()))
    })
    .map_err(|e| failure(&label, e, &keys.identities, env))?;
    let agreement = inspect::agreement(path, &raw);
    let parsed =
        super::format::parse(&bytes).map_err(|e| UserError::new(format!("{label}: {e}")))?;
    Ok(Loaded {
        label,
        parsed,
        encrypted: true,
        agreement,
    })
}

/// Parses a decrypted vault.
pub fn parse(plain: &Plaintext) -> Result<Loaded, UserError> {
    let parsed = super::format::parse(&plain.bytes)
        .map_err(|e| UserError::new(format!("{}: {e}", plain.label)))?;
    Ok(Loaded {
        label: plain.label.clone(),
        parsed,
        encrypted: plain.encrypted,
        agreement: plain.agreement.clone(),
    })
}

/// A file that should hold an age file but does not: named `*.age` (every vault teamotp creates or
/// discovers), or a team vault this machine knows (a recipients file beside it and a recipients pin
/// recorded for it). It was overwritten (`echo ... > vault.csv.age`, a bad paste, a wrong checkout) and
/// is never read as a plaintext vault, which would show no accounts and let a script conclude they were
/// deleted. A plaintext vault is only read from a file named as one (`-f gauth.csv`).
fn refuse_plaintext_team_vault(path: &Path, env: &Env) -> Result<(), UserError> {
    let named_age = path.extension().is_some_and(|e| e == "age");
    let beside_recipients = || {
        inspect::recipients_beside(path).is_file()
            && crate::trust::pin::path(env, path).is_some_and(|pin| pin.is_file())
    };
    if !named_age && !beside_recipients() {
        return Ok(());
    }
    let shown = path.display();
    let why = match named_age {
        true => "its name ends in .age",
        false => "it is a team vault: this machine accepted its recipients",
    };
    Err(UserError::new(format!(
        "'{shown}' is not an age file ({why}): it was overwritten or is not a vault"
    ))
    .hint(format!(
        "restore it from git (git checkout -- '{shown}', or git log -- '{shown}' to find a good          version) or from its backup '{shown}.bak'"
    ))
    .hint("a plaintext vault is read only from a file named as one, such as gauth.csv"))
}

fn read_file(path: &Path, env: &Env) -> Result<Zeroizing<Vec<u8>>, UserError> {
    crate::files::read(path).map_err(|e| read_error(path, e, env))
}

/// Warns about a plaintext vault others may read (Unix modes; Windows ACLs are not read, see
/// docs/security.md).
#[cfg(not(unix))]
fn warn_if_exposed(_: &Path, _: &mut dyn Write) {}

#[cfg(unix)]
fn warn_if_exposed(path: &Path, warn: &mut dyn Write) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    let mode = metadata.permissions().mode();
    if mode & 0o044 != 0 {
        let shown = path.display();
        let _ = writeln!(
            warn,
            "teamotp: warning: '{shown}' is not encrypted and is readable by group or others (mode {:04o})",
            mode & 0o7777
        );
        let _ = writeln!(
            warn,
            "teamotp: hint: make it private (chmod 600 '{shown}'), or encrypt it with age (see docs/secrets-format.md)"
        );
    }
}

pub(crate) fn ask_passphrase(label: &str) -> Result<age::secrecy::SecretString, Failure> {
    if !tty::available() {
        return Err(Failure::NoTerminal);
    }
    tty::passphrase(&format!("Passphrase for {label}: ")).map_err(|_| Failure::NoTerminal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stream::HEAD;

    /// A vault of `rows` accounts encrypted to `key` and `others` more recipients (each adds about 110
    /// bytes to the header), written with the identity file into `dir`.
    fn vault(
        dir: &Path,
        key: &age::x25519::Identity,
        others: usize,
        rows: usize,
    ) -> (PathBuf, PathBuf) {
        let mut text = String::from("name,secret\n");
        for i in 0..rows {
            text.push_str(&format!("account-{i},JBSWY3DPEHPK3PXP\n"));
        }
        let extra: Vec<age::x25519::Recipient> = (0..others)
            .map(|_| age::x25519::Identity::generate().to_public())
            .collect();
        let me = key.to_public();
        let recipients = std::iter::once(&me as &dyn age::Recipient)
            .chain(extra.iter().map(|r| r as &dyn age::Recipient));
        let encryptor = age::Encryptor::with_recipients(recipients).unwrap();
        let mut file = Vec::new();
        let mut writer = encryptor.wrap_output(&mut file).unwrap();
        writer.write_all(text.as_bytes()).unwrap();
        writer.finish().unwrap();
        let path = dir.join("v.csv.age");
        std::fs::write(&path, &file).unwrap();
        let identity = dir.join("key.txt");
        std::fs::write(&identity, format!("{}\n", key.to_string().expose_secret())).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        (path, identity)
    }

    fn env() -> Env {
        Env::from_pairs([("TEAMOTP_NO_AGENT", "1")])
    }

    /// Read-only loads decrypt as they read when the header fits (8 KiB at once, or up to 64 KiB), and
    /// read the whole file otherwise: the same rows every way, and the same as the write path's read.
    #[test]
    fn headers_of_every_size_open_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let key = age::x25519::Identity::generate();
        for (others, expect) in [(0, true), (100, true), (700, false)] {
            let (path, identity) = vault(dir.path(), &key, others, 2_000);
            let head = std::fs::read(&path).unwrap();
            let header = head.windows(4).position(|w| w == b"\n---").unwrap();
            assert_eq!(
                header < HEAD as usize,
                expect,
                "{others} recipients: {header} bytes"
            );
            let source = Source::File(path.clone());
            let ids = [identity];
            let read = match read_or_stream(&path, "v", &ids, &env(), &mut std::io::sink()).unwrap()
            {
                Read::Decrypted(plain) => {
                    assert!(expect, "{others} recipients: decrypted as read");
                    plain.bytes
                }
                Read::Whole(raw) => {
                    assert!(!expect, "{others} recipients: read whole");
                    read(&Source::File(path.clone()), &ids, &env(), &mut Vec::new())
                        .unwrap()
                        .bytes
                        .tap_len(raw.len())
                }
            };
            let whole = read_hashing(
                &source,
                &ids,
                &env(),
                &mut Vec::new(),
                true,
                &mut ask_passphrase,
            )
            .unwrap();
            assert_eq!(&read[..], &whole.bytes[..], "{others} recipients");
            let loaded = load(&source, &ids, &env(), &mut Vec::new()).unwrap();
            assert_eq!(loaded.parsed.rows.len(), 2_000);
        }
    }

    trait TapLen {
        fn tap_len(self, raw: usize) -> Self;
    }

    impl TapLen for Zeroizing<Vec<u8>> {
        fn tap_len(self, raw: usize) -> Self {
            assert!(raw > self.len(), "the whole ciphertext was read");
            self
        }
    }

    /// Damage is found on the streaming path as on the whole-file path: a flipped byte anywhere after
    /// the header, or a cut, releases nothing.
    #[test]
    fn damaged_files_release_nothing_when_decrypted_as_read() {
        let dir = tempfile::tempdir().unwrap();
        let key = age::x25519::Identity::generate();
        let (path, identity) = vault(dir.path(), &key, 0, 3_000);
        let good = std::fs::read(&path).unwrap();
        let ids = [identity];
        for (what, bytes) in [
            ("flipped in the middle", {
                let mut b = good.clone();
                let middle = b.len() / 2;
                b[middle] ^= 1;
                b
            }),
            ("flipped at the end", {
                let mut b = good.clone();
                let last = b.len() - 1;
                b[last] ^= 1;
                b
            }),
            (
                "cut at a chunk boundary",
                good[..good.len() - 1000].to_vec(),
            ),
            ("one byte short", good[..good.len() - 1].to_vec()),
        ] {
            std::fs::write(&path, &bytes).unwrap();
            let Err(e) = read_or_stream(&path, "v", &ids, &env(), &mut std::io::sink()) else {
                panic!("{what}: opened");
            };
            assert!(e.message.contains("damaged"), "{what}: {}", e.message);
        }
    }
}
