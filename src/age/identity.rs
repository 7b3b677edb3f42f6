//! Identities: which files to use, the permission check, and reading every kind age supports.

use std::cell::OnceCell;
use std::io::BufReader;

use age::Callbacks;
use age::secrecy::SecretString;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use crate::env::Env;
use crate::error::UserError;
use crate::tty::TtyCallbacks;

/// Highest scrypt work factor we accept when reading (files are written with 18; 22 leaves room for slower
/// phones' and other tools' choices and stops a malicious file from costing minutes).
pub const MAX_WORK_FACTOR: u8 = 22;

/// Identities loaded from files, with the paths they came from (for error messages).
pub struct Identities {
    pub list: Vec<Box<dyn age::Identity>>,
    pub paths: Vec<PathBuf>,
}

impl Identities {
    pub fn empty() -> Self {
        Identities {
            list: Vec::new(),
            paths: Vec::new(),
        }
    }
}

/// The identity files to try: `-i` paths, else `TEAMOTP_IDENTITY`, else the first default that exists.
pub fn paths(explicit: &[PathBuf], env: &Env) -> Vec<PathBuf> {
    if !explicit.is_empty() {
        return explicit.to_vec();
    }
    if let Some(path) = env.var("TEAMOTP_IDENTITY").filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(path)];
    }
    default_paths(env)
        .into_iter()
        .find(|p| p.exists())
        .into_iter()
        .collect()
}

/// Where teamotp looks when no identity is named, in order.
pub fn default_paths(env: &Env) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(config) = env.config_dir() {
        paths.push(config.join("teamotp").join("identity.txt"));
    }
    if let Some(home) = env.home() {
        paths.push(home.join(".ssh").join("id_ed25519"));
        paths.push(home.join(".ssh").join("id_rsa"));
    }
    paths
}

/// Reads every identity in `paths`; any problem with any file is an error naming it.
pub fn load(paths: &[PathBuf]) -> Result<Identities, UserError> {
    let mut list = Vec::new();
    for path in paths {
        list.extend(read(path)?);
    }
    Ok(Identities {
        list,
        paths: paths.to_vec(),
    })
}

/// Reads one identity file, refusing it when group or others can access it (as OpenSSH does).
pub fn read(path: &Path) -> Result<Vec<Box<dyn age::Identity>>, UserError> {
    let shown = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|e| {
        UserError::new(format!("cannot read identity file '{shown}': {e}"))
            .hint("pass another identity with -i/--identity PATH, or set TEAMOTP_IDENTITY")
    })?;
    check_private(&metadata, &shown)?;
    let bytes = crate::files::read(path)
        .map_err(|e| UserError::new(format!("cannot read identity file '{shown}': {e}")))?;
    parse(&bytes, &shown)
}

/// Refuses an identity file that group or others can access (as OpenSSH does).
#[cfg(unix)]
fn check_private(metadata: &std::fs::Metadata, shown: &str) -> Result<(), UserError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode();
    if metadata.is_file() && mode & 0o077 != 0 {
        return Err(UserError::new(format!(
            "identity file '{shown}' is accessible by group or others (mode {:04o})",
            mode & 0o7777
        ))
        .hint(format!("make it private: chmod 600 '{shown}'")));
    }
    Ok(())
}

/// On Windows the file's ACL is not read: no maintained crate reads it without `unsafe` in teamotp, so
/// what is checked is only that it is a regular file (docs/security.md, "Windows"), and the README says
/// how to make it private with `icacls`.
#[cfg(not(unix))]
fn check_private(_: &std::fs::Metadata, _: &str) -> Result<(), UserError> {
    Ok(())
}

/// Parses identity bytes: an age-passphrase-encrypted identity file, an OpenSSH private key (ed25519 or
/// RSA, encrypted or not), or age identity lines (`AGE-SECRET-KEY-1...`, `AGE-PLUGIN-...`).
pub fn parse(bytes: &[u8], shown: &str) -> Result<Vec<Box<dyn age::Identity>>, UserError> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(128)]);
    let start = text.trim_start();
    if start.starts_with("age-encryption.org/")
        || start.starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
    {
        return encrypted(
            bytes,
            shown,
            Box::new(|description| {
                if !crate::tty::available() {
                    return None;
                }
                TtyCallbacks.request_passphrase(description)
            }),
        );
    }
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
        return match age::ssh::Identity::from_buffer(BufReader::new(bytes), Some(shown.to_owned()))
        {
            Ok(age::ssh::Identity::Unsupported(_)) => Err(UserError::new(format!(
                "identity file '{shown}' is an SSH key of a kind age does not support"
            ))
            .hint("age supports ssh-ed25519 and ssh-rsa keys; create an age key with age-keygen")),
            Ok(identity @ age::ssh::Identity::Encrypted(_)) => Ok(vec![Box::new(EncryptedSsh {
                key: identity,
                shown: shown.to_owned(),
                decrypted: OnceCell::new(),
            })]),
            Ok(identity) => Ok(vec![Box::new(identity)]),
            Err(_) => Err(UserError::new(format!(
                "identity file '{shown}' is not a valid OpenSSH private key"
            ))),
        };
    }
    let not_identity = || {
        let error = UserError::new(format!(
            "'{shown}' is not an identity file (expected AGE-SECRET-KEY-1..., an OpenSSH private key, \
             or an age-encrypted identity)"
        ));
        if shown.ends_with(".pub") {
            error.hint("that looks like a public key; pass the private key (the file without .pub)")
        } else {
            error
        }
    };
    // Post-quantum lines are read here (the age crate 0.12 does not know them); the rest goes to age.
    let (mut identities, rest) = split_pq(bytes, shown)?;
    let others = rest
        .split(|b| *b == b'\n')
        .any(|line| !line.trim_ascii().is_empty() && !line.starts_with(b"#"));
    if others || identities.is_empty() {
        let file = age::IdentityFile::from_buffer(BufReader::new(&rest[..]))
            .map_err(|_| not_identity())?
            .with_callbacks(super::plugin::Paused(TtyCallbacks));
        let classic = file.into_identities().map_err(|e| {
            UserError::new(format!("cannot use the plugin identity in '{shown}': {e}"))
                .hint("install the age-plugin-NAME program it names, on PATH")
        })?;
        // A file naming a plugin: age's waits for it are bounded (`crate::age::plugin`).
        let plugins = super::plugin::names(&rest).join(", ");
        identities.extend(classic.into_iter().map(|inner| -> Box<dyn age::Identity> {
            if plugins.is_empty() {
                inner
            } else {
                Box::new(super::plugin::Identity {
                    inner,
                    plugin: plugins.clone(),
                })
            }
        }));
    }
    if identities.is_empty() {
        return Err(not_identity());
    }
    Ok(identities)
}

type List = Vec<Box<dyn age::Identity>>;

/// Takes the `AGE-SECRET-KEY-PQ-1...` lines out of an identity file: the PQ identities, and the text
/// with those lines blanked (line numbers kept) for the age crate.
fn split_pq(bytes: &[u8], shown: &str) -> Result<(List, Zeroizing<Vec<u8>>), UserError> {
    let mut identities: Vec<Box<dyn age::Identity>> = Vec::new();
    let mut rest = Zeroizing::new(Vec::with_capacity(bytes.len()));
    for (number, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if number > 0 {
            rest.push(b'\n');
        }
        let trimmed = line.trim_ascii();
        if !trimmed.starts_with(b"AGE-SECRET-KEY-PQ-") {
            rest.extend_from_slice(line);
            continue;
        }
        let identity = std::str::from_utf8(trimmed)
            .ok()
            .and_then(|text| text.parse::<super::pq::Identity>().ok())
            .ok_or_else(|| {
                UserError::new(format!(
                    "identity file '{shown}' line {}: not a valid post-quantum identity \
                     (AGE-SECRET-KEY-PQ-1...)",
                    number + 1
                ))
            })?;
        identities.push(Box::new(identity));
    }
    Ok((identities, rest))
}

/// Where a passphrase comes from: given the prompt's description, the passphrase or None.
pub type PassphraseSource = Box<dyn Fn(&str) -> Option<SecretString>>;

/// A passphrase-encrypted (age -p) identity file, of any identities teamotp reads, post-quantum ones
/// included (the age crate's own reader cannot parse those). Asks for the passphrase once, the first
/// time a file needs it.
pub fn encrypted(
    bytes: &[u8],
    shown: &str,
    passphrase: PassphraseSource,
) -> Result<Vec<Box<dyn age::Identity>>, UserError> {
    match super::decrypt::is_scrypt(bytes) {
        Ok(true) => Ok(vec![Box::new(EncryptedFile {
            bytes: bytes.to_vec(),
            shown: shown.to_owned(),
            passphrase,
            decrypted: OnceCell::new(),
        })]),
        Ok(false) => Err(UserError::new(format!(
            "identity file '{shown}' is age-encrypted, but to a key rather than a passphrase"
        ))
        .hint("an encrypted identity file must be made with 'age -p'")),
        Err(e) => Err(UserError::new(format!(
            "cannot read encrypted identity file '{shown}': {e}"
        ))),
    }
}

struct EncryptedFile {
    bytes: Vec<u8>,
    shown: String,
    passphrase: PassphraseSource,
    decrypted: OnceCell<Result<Vec<Box<dyn age::Identity>>, age::DecryptError>>,
}

impl EncryptedFile {
    fn identities(&self) -> Result<&[Box<dyn age::Identity>], age::DecryptError> {
        let decrypted = self.decrypted.get_or_init(|| {
            let description = format!("Type passphrase for encrypted identity '{}'", self.shown);
            let plaintext = asking(&self.shown, || {
                super::decrypt::decrypt(&self.bytes, &[], || {
                    (self.passphrase)(&description).ok_or(super::decrypt::Failure::NoTerminal)
                })
                .map_err(|e| match e {
                    super::decrypt::Failure::WrongPassphrase => Tried::Wrong,
                    super::decrypt::Failure::NoTerminal => Tried::NoTerminal,
                    _ => Tried::Failed,
                })
            })?;
            parse(&plaintext, &self.shown).map_err(|_| age::DecryptError::KeyDecryptionFailed)
        });
        match decrypted {
            Ok(list) => Ok(list),
            Err(e) => Err(e.clone()),
        }
    }
}

impl age::Identity for EncryptedFile {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        self.unwrap_stanzas(std::slice::from_ref(stanza))
    }

    fn unwrap_stanzas(
        &self,
        stanzas: &[age_core::format::Stanza],
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        match self.identities() {
            Ok(list) => list.iter().find_map(|i| i.unwrap_stanzas(stanzas)),
            Err(e) => Some(Err(e)),
        }
    }
}

thread_local! {
    /// The identity file whose passphrase was typed wrong [`crate::tty::TRIES`] times, for the error.
    // Already `const`: Debian's clippy 1.96 (the Windows lint run) still asks for it.
    #[allow(clippy::missing_const_for_thread_local)]
    static WRONG_PASSPHRASE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// The identity file whose passphrase was needed when there was no terminal to ask it, for the error.
    #[allow(clippy::missing_const_for_thread_local)]
    static NO_TERMINAL: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The identity file (as shown) whose passphrase was needed with no terminal to ask it, if any.
pub fn no_terminal() -> Option<String> {
    NO_TERMINAL.with(|w| w.borrow().clone())
}

/// How one try at a key's passphrase failed.
enum Tried {
    /// The passphrase was wrong: ask again.
    Wrong,
    /// There is no terminal to ask on.
    NoTerminal,
    /// Anything else: asking again would not help.
    Failed,
}

/// The identity file (as shown) whose passphrase was typed wrong every time, if any.
pub fn wrong_passphrase() -> Option<String> {
    WRONG_PASSPHRASE.with(|w| w.borrow().clone())
}

/// Runs `attempt` (ask a key's passphrase and decrypt) up to [`crate::tty::TRIES`] times while it
/// fails with a wrong passphrase, saying so on the terminal between tries, as ssh does. After the last
/// wrong try, or when there was no terminal to ask on, the file is remembered for the error message.
fn asking<T>(
    shown: &str,
    mut attempt: impl FnMut() -> Result<T, Tried>,
) -> Result<T, age::DecryptError> {
    for tries in 1..=crate::tty::TRIES {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(Tried::Failed) => break,
            Err(Tried::NoTerminal) => {
                NO_TERMINAL.with(|w| *w.borrow_mut() = Some(shown.to_owned()));
                break;
            }
            Err(Tried::Wrong) if tries < crate::tty::TRIES => {
                crate::tty::tell(&format!("wrong passphrase for '{shown}', try again"));
            }
            Err(Tried::Wrong) => {
                WRONG_PASSPHRASE.with(|w| *w.borrow_mut() = Some(shown.to_owned()))
            }
        }
    }
    Err(age::DecryptError::KeyDecryptionFailed)
}

/// A passphrase-protected OpenSSH key. age's own wrapper asks for the passphrase once per stanza in the
/// file (once per member of the team); this one asks once, the first time an SSH stanza needs it, and
/// keeps the decrypted key (or the failure) for the rest of the file.
struct EncryptedSsh {
    key: age::ssh::Identity,
    shown: String,
    decrypted: OnceCell<Result<age::ssh::Identity, age::DecryptError>>,
}

impl age::Identity for EncryptedSsh {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<Result<age_core::format::FileKey, age::DecryptError>> {
        if stanza.tag != "ssh-ed25519" && stanza.tag != "ssh-rsa" {
            return None;
        }
        let age::ssh::Identity::Encrypted(encrypted) = &self.key else {
            return None;
        };
        let decrypted = self.decrypted.get_or_init(|| {
            let prompt = format!("Passphrase for SSH key '{}': ", self.shown);
            asking(&self.shown, || {
                // No terminal: not a wrong passphrase, nothing to ask again.
                if !crate::tty::available() {
                    return Err(Tried::NoTerminal);
                }
                let passphrase = crate::tty::passphrase(&prompt).map_err(|_| Tried::Failed)?;
                encrypted
                    .decrypt(passphrase)
                    .map(age::ssh::Identity::Unencrypted)
                    .map_err(|_| Tried::Wrong)
            })
        });
        match decrypted {
            Ok(identity) => identity.unwrap_stanza(stanza),
            Err(e) => Some(Err(e.clone())),
        }
    }
}

/// The public key of an OpenSSH private key file (`openssh-key-v1`, whose public part is never encrypted),
/// as `ssh-ed25519 BASE64` or `ssh-rsa BASE64`: what `whoami` prints, and how the agent tells a key it may
/// hold (ed25519) from one that stays with the client (RSA).
pub fn ssh_public_key(pem: &[u8]) -> Option<String> {
    fn u32_be(rest: &mut &[u8]) -> Option<u32> {
        let value = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        *rest = &rest[4..];
        Some(value)
    }
    fn string<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = u32_be(rest)? as usize;
        let value = rest.get(..len)?;
        *rest = &rest[len..];
        Some(value)
    }
    let text = std::str::from_utf8(pem).ok()?;
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .map(str::trim)
        .collect();
    let blob = data_encoding::BASE64.decode(body.as_bytes()).ok()?;
    let mut rest = blob.strip_prefix(b"openssh-key-v1\0")?;
    for _ in 0..3 {
        string(&mut rest)?; // cipher, KDF, KDF options
    }
    if u32_be(&mut rest)? != 1 {
        return None;
    }
    let public = string(&mut rest)?;
    let kind = std::str::from_utf8(string(&mut &public[..])?).ok()?;
    (kind == "ssh-ed25519" || kind == "ssh-rsa")
        .then(|| format!("{kind} {}", data_encoding::BASE64.encode(public)))
}
