//! Writing the vault: encrypt to a new file beside it, check it, make sure nobody saved meanwhile, keep
//! the previous ciphertext as `VAULT.bak`, and rename the new file over the vault. No plaintext ever
//! touches the disk, and killed at any moment the vault is the old version or the new one.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::decrypt::{self, Failure};
use super::identity::Identities;
use super::load::hash;
use super::recipients::Member;
use crate::error::UserError;

/// scrypt work factor for passphrase vaults: what `age -p` writes, and what phones and other tools accept.
pub const WORK_FACTOR: u8 = 18;

/// What the vault is encrypted to.
pub enum Protection<'a> {
    Recipients(&'a [Member]),
    Passphrase(&'a Zeroizing<String>),
}

/// How to check the file just written: the caller's identities, or the passphrase.
pub enum Check<'a> {
    Identities(&'a Identities),
    Passphrase(&'a Zeroizing<String>),
    /// `--force`: the caller accepts a file they cannot open themselves.
    Skip,
}

/// Everything a write needs.
pub struct Request<'a> {
    pub path: &'a Path,
    pub plaintext: &'a [u8],
    pub protection: Protection<'a>,
    pub check: Check<'a>,
    /// ASCII armour (kept from the file being replaced).
    pub armored: bool,
    /// SHA-256 of the vault as read (None: the vault must not exist yet).
    pub expected_hash: Option<[u8; 32]>,
}

/// Encrypts `plaintext` (in memory only).
pub fn encrypt(
    plaintext: &[u8],
    protection: &Protection,
    armored: bool,
) -> Result<Vec<u8>, UserError> {
    let encryptor = match protection {
        Protection::Recipients(members) => {
            if members.is_empty() {
                return Err(UserError::new("the recipients list is empty"));
            }
            let recipients = super::recipients::to_age(members)?;
            age::Encryptor::with_recipients(recipients.iter().map(|r| r.as_ref() as _))
        }
        Protection::Passphrase(passphrase) => {
            let mut recipient =
                age::scrypt::Recipient::new(SecretString::from(passphrase.as_str().to_owned()));
            recipient.set_work_factor(WORK_FACTOR);
            age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        }
    }
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

/// Performs a complete, checked, atomic write (see the module documentation).
pub fn save(write: &Request) -> Result<(), UserError> {
    let shown = write.path.display().to_string();
    let ciphertext = encrypt(write.plaintext, &write.protection, write.armored)?;
    let dir = parent(write.path);
    let mode = fs::metadata(write.path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o600);
    let temp = TempFile::create(write.path, mode)?;
    temp.write(&ciphertext)?;

    // The file on disk, read back, must open with the caller's key and hold exactly the intended rows.
    let written = fs::read(&temp.path)
        .map_err(|e| UserError::new(format!("cannot read back '{}': {e}", temp.path.display())))?;
    verify(&written, write.plaintext, &write.check, &shown)?;

    // Nobody may have saved since we read: otherwise their change would be silently lost.
    let current = match fs::read(write.path) {
        Ok(bytes) => Some(hash(&bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(UserError::new(format!("cannot read '{shown}': {e}"))),
    };
    if current != write.expected_hash {
        return Err(match write.expected_hash {
            Some(_) => UserError::new(format!(
                "'{shown}' changed on disk since teamotp read it (a teammate saved, or a git pull); \
                 nothing was written"
            ))
            .hint("run the command again: it will start from the new version"),
            None => UserError::new(format!("'{shown}' appeared while teamotp was creating it"))
                .hint("look at the file that is there now; teamotp does not overwrite a vault"),
        });
    }

    if current.is_some() {
        backup(write.path, mode)?;
    }
    fs::rename(&temp.path, write.path)
        .map_err(|e| UserError::new(format!("cannot replace '{shown}': {e}")))?;
    temp.disarm();
    sync_dir(&dir);
    Ok(())
}

/// Decrypts what was written and compares it with what was meant to be written.
fn verify(written: &[u8], expected: &[u8], check: &Check, shown: &str) -> Result<(), UserError> {
    let result = match check {
        Check::Skip => return Ok(()),
        Check::Identities(identities) => {
            decrypt::decrypt(written, &identities.list, || Err(Failure::NoTerminal))
        }
        Check::Passphrase(passphrase) => decrypt::decrypt(written, &[], || {
            Ok(SecretString::from(passphrase.as_str().to_owned()))
        }),
    };
    match result {
        Ok(plaintext) if plaintext.as_slice() == expected => Ok(()),
        Ok(_) => Err(UserError::new(format!(
            "the new version of '{shown}' does not read back as written; nothing was changed"
        ))),
        Err(Failure::NoMatch | Failure::NoIdentity) => Err(UserError::new(format!(
            "your identity could not open the new version of '{shown}': you would lock yourself out; \
             nothing was changed"
        ))
        .hint("keep your own key among the recipients, or pass --force if that is really meant")),
        Err(e) => Err(UserError::new(format!(
            "the new version of '{shown}' does not decrypt ({e}); nothing was changed"
        ))),
    }
}

/// Keeps the previous ciphertext as `VAULT.bak` (written beside it and renamed into place).
fn backup(path: &Path, mode: u32) -> Result<(), UserError> {
    let old = fs::read(path)
        .map_err(|e| UserError::new(format!("cannot read '{}': {e}", path.display())))?;
    let bak = with_suffix(path, ".bak");
    let temp = TempFile::create(&bak, mode)?;
    temp.write(&old)?;
    fs::rename(&temp.path, &bak)
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", bak.display())))?;
    temp.disarm();
    Ok(())
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes a rename durable.
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// A new file beside the target, created exclusively, removed on drop unless renamed into place.
struct TempFile {
    path: PathBuf,
    armed: std::cell::Cell<bool>,
}

impl TempFile {
    fn create(target: &Path, mode: u32) -> Result<TempFile, UserError> {
        let dir = parent(target);
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "vault".into());
        for attempt in 0..100u32 {
            let nanos = crate::clock::now().subsec_nanos();
            let path = dir.join(format!(
                ".{name}.{}.{nanos:x}{attempt}.tmp",
                std::process::id()
            ));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&path)
            {
                Ok(file) => {
                    // `mode` above is reduced by the umask: set it exactly (a shared 0660 vault stays 0660).
                    let _ = file.set_permissions(std::fs::Permissions::from_mode(mode));
                    return Ok(TempFile {
                        path,
                        armed: std::cell::Cell::new(true),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(UserError::new(format!(
                        "cannot create a file in '{}': {e}",
                        dir.display()
                    )));
                }
            }
        }
        Err(UserError::new(format!(
            "cannot create a temporary file in '{}'",
            dir.display()
        )))
    }

    fn write(&self, bytes: &[u8]) -> Result<(), UserError> {
        let fail = |e: std::io::Error| {
            UserError::new(format!("cannot write '{}': {e}", self.path.display()))
        };
        let mut file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(fail)?;
        file.write_all(bytes).map_err(fail)?;
        file.sync_all().map_err(fail)
    }

    fn disarm(&self) {
        self.armed.set(false);
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed.get() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> (Identities, Member) {
        let key = age::x25519::Identity::generate();
        let member = Member {
            key: key.to_public().to_string(),
            label: None,
            line: 1,
        };
        (
            Identities {
                list: vec![Box::new(key)],
                paths: Vec::new(),
            },
            member,
        )
    }

    fn write<'a>(
        path: &'a Path,
        plaintext: &'a [u8],
        members: &'a [Member],
        identities: &'a Identities,
        expected_hash: Option<[u8; 32]>,
    ) -> Request<'a> {
        Request {
            path,
            plaintext,
            protection: Protection::Recipients(members),
            check: Check::Identities(identities),
            armored: false,
            expected_hash,
        }
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn creates_then_replaces_with_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.age");
        let (ids, me) = identity();
        save(&write(
            &path,
            b"one\n",
            std::slice::from_ref(&me),
            &ids,
            None,
        ))
        .unwrap();
        let first = fs::read(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        save(&write(
            &path,
            b"two\n",
            std::slice::from_ref(&me),
            &ids,
            Some(hash(&first)),
        ))
        .unwrap();
        let second = fs::read(&path).unwrap();
        assert_eq!(
            &decrypt::decrypt(&second, &ids.list, || Err(Failure::NoTerminal)).unwrap()[..],
            b"two\n"
        );
        assert_eq!(fs::read(dir.path().join("v.age.bak")).unwrap(), first);
        assert_eq!(names_in(dir.path()), ["v.age", "v.age.bak"]);
    }

    #[test]
    fn refuses_when_the_vault_changed_since_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.age");
        let (ids, me) = identity();
        save(&write(
            &path,
            b"one\n",
            std::slice::from_ref(&me),
            &ids,
            None,
        ))
        .unwrap();
        let stale = hash(b"what we read earlier");
        let before = fs::read(&path).unwrap();
        let err = save(&write(
            &path,
            b"two\n",
            std::slice::from_ref(&me),
            &ids,
            Some(stale),
        ))
        .unwrap_err();
        assert!(
            err.message
                .contains("changed on disk since teamotp read it"),
            "{}",
            err.message
        );
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(names_in(dir.path()), ["v.age"], "no temp file left");
    }

    #[test]
    fn refuses_to_lock_the_caller_out_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.age");
        let (ids, _) = identity();
        let (_, someone_else) = identity();
        let err = save(&write(
            &path,
            b"x\n",
            std::slice::from_ref(&someone_else),
            &ids,
            None,
        ))
        .unwrap_err();
        assert!(err.message.contains("lock yourself out"), "{}", err.message);
        assert!(!path.exists());
        let mut forced = write(
            &path,
            b"x\n",
            std::slice::from_ref(&someone_else),
            &ids,
            None,
        );
        forced.check = Check::Skip;
        save(&forced).unwrap();
        assert!(path.exists());
    }

    #[test]
    fn armoured_output_and_kept_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.age.asc");
        let (ids, me) = identity();
        fs::write(&path, b"placeholder").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let mut w = write(
            &path,
            b"x\n",
            std::slice::from_ref(&me),
            &ids,
            Some(hash(b"placeholder")),
        );
        w.armored = true;
        save(&w).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }
}
