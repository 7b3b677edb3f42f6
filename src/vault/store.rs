//! Writing the vault: encrypt to a new file beside it (through `crate::files`, the one writer), check it, make sure nobody saved meanwhile, keep
//! the previous ciphertext as `VAULT.bak`, and rename the new file over the vault. No plaintext ever
//! touches the disk, and killed at any moment the vault is the old version or the new one.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::age::decrypt::{self, Failure};
use crate::age::identity::Identities;
use crate::age::recipients::{self, Member};
use crate::age::{encrypt, sha256};
use crate::env::Env;
use crate::error::UserError;
use crate::files::{self, Holder, Lock, LockError, Staged, Target};
use crate::trust::membership;

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
    /// What `VAULT.bak` keeps of the version being replaced.
    pub backup: Backup<'a>,
}

/// What `VAULT.bak` holds after a write: the previous version, readable by whoever could read it.
pub enum Backup<'a> {
    /// The previous ciphertext as it was (the recipients did not change).
    Copy,
    /// The previous version (this plaintext) encrypted to the NEW recipients: after `members rm` or
    /// `rekey`, a removed member's key no longer opens the backup either.
    Reencrypt(&'a [u8]),
    /// No backup (git's scratch files in the merge driver).
    None,
}

/// How long a writer waits for another teamotp to finish writing the same vault (`TEAMOTP_LOCK_TIMEOUT`
/// seconds overrides it).
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Takes the vault's write lock (`VAULT.lock` beside the real file), saying on `err` whom it waits for.
/// Held from reading the old version to the rename, it makes concurrent writers on one machine (or one
/// shared file system) take turns instead of losing updates.
pub fn lock(path: &Path, env: &Env, now: u64, err: &mut dyn Write) -> Result<Lock, UserError> {
    let shown = path.display().to_string();
    let target = Target::resolve(path).map_err(|e| cannot("write", &shown, &e))?;
    #[cfg(unix)]
    let (uid, host) = (
        format!("uid {}", rustix::process::getuid().as_raw()),
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned(),
    );
    #[cfg(not(unix))]
    let (uid, host) = (
        "unknown user".to_owned(),
        env.var("COMPUTERNAME").map_or_else(
            || "unknown host".to_owned(),
            |v| v.to_string_lossy().into_owned(),
        ),
    );
    let holder = Holder {
        user: env.user().unwrap_or(uid),
        host,
        pid: std::process::id(),
        since: now,
    };
    let timeout = env
        .var("TEAMOTP_LOCK_TIMEOUT")
        .and_then(|v| v.to_str()?.trim().parse::<u64>().ok())
        .map_or(LOCK_TIMEOUT, Duration::from_secs);
    let waiting = &mut |who: &str| {
        let _ = writeln!(
            err,
            "teamotp: waiting for {} to finish writing '{shown}'",
            describe_holder(who)
        );
    };
    Lock::acquire(&target, &holder, timeout, waiting).map_err(|e| match e {
        LockError::Busy(who) => UserError::new(format!(
            "'{shown}' is being written by {} (waited {} s)",
            describe_holder(&who),
            timeout.as_secs()
        ))
        .hint("run the command again when it is done; a lock whose process has ended is released at once"),
        LockError::Io(e) => UserError::new(format!("cannot lock '{shown}': {e}"))
            .hint(format!("the lock file is '{}.lock' beside the vault", target.path().display())),
    })
}

/// `alice@box (pid 42, since 12:00:01 UTC)` from the lock file's `alice@box pid 42 since 1700000000`.
fn describe_holder(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [who, "pid", pid, "since", since] => {
            let since = since.parse::<u64>().map_or_else(
                |_| since.to_string(),
                |t| format!("{} UTC", crate::time::clock_face(t)),
            );
            format!("{} (pid {pid}, since {since})", crate::text::printable(who))
        }
        _ => "another teamotp".to_owned(),
    }
}

/// Encrypts `plaintext` (in memory only) as `protection` says: to the members, the version recording
/// them (see [`membership`](crate::trust::membership)), or with the passphrase (or the agent standing in
/// for it).
pub fn encrypt(
    plaintext: &[u8],
    protection: &Protection,
    armored: bool,
) -> Result<Vec<u8>, UserError> {
    match protection {
        Protection::Recipients(members) => {
            if members.is_empty() {
                return Err(UserError::new("the recipients list is empty"));
            }
            recipients::check_mix(members, "this write")?;
            let recipients = recipients::to_age(members)?;
            let recording = membership::Recording {
                inner: recipients.iter().map(|r| r.as_ref() as _).collect(),
                record: membership::Record::of(members),
            };
            encrypt::encrypt(plaintext, &recording, armored)
        }
        Protection::Passphrase(passphrase) => {
            let recipient = crate::agent::passphrase_recipient(passphrase, encrypt::WORK_FACTOR)?;
            encrypt::encrypt(plaintext, recipient.as_ref(), armored)
        }
    }
}

/// Performs a complete, checked, atomic write (see the module documentation). The caller holds the vault's
/// [`Lock`](crate::files::Lock) from reading the old version until this returns.
pub fn save(write: &Request) -> Result<(), UserError> {
    let shown = write.path.display().to_string();
    let target = Target::resolve(write.path).map_err(|e| cannot("write", &shown, &e))?;
    let ciphertext = encrypt(write.plaintext, &write.protection, write.armored)?;
    let mode = target.mode_or(0o600);
    let mut staged = Staged::create(&target, mode).map_err(|e| cannot("write", &shown, &e))?;
    staged
        .write(&ciphertext)
        .map_err(|e| cannot("write", &shown, &e))?;

    // The file on disk, read back through the same descriptor, must open with the caller's key and hold
    // exactly the intended rows.
    let written = staged
        .read_back()
        .map_err(|e| cannot("read back", &shown, &e))?;
    verify(&written, write.plaintext, &write.check, &shown)?;

    // Nobody may have saved since we read (a writer on another machine, which our lock cannot see):
    // otherwise their change would be silently lost.
    let current = match files::read(&target.path()) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(cannot("read", &shown, &e)),
    };
    if current.as_ref().map(|bytes| sha256(bytes)) != write.expected_hash {
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

    if let Some(old) = current {
        let bak = match write.backup {
            Backup::Copy => Some(old),
            Backup::Reencrypt(old_plaintext) => Some(Zeroizing::new(encrypt(
                old_plaintext,
                &write.protection,
                write.armored,
            )?)),
            Backup::None => None,
        };
        if let Some(bak) = bak {
            backup(&target, &bak, mode, &shown)?;
        }
    }
    staged.commit().map_err(|e| cannot("replace", &shown, &e))
}

/// `cannot VERB 'FILE': why`.
fn cannot(verb: &str, shown: &str, e: &std::io::Error) -> UserError {
    UserError::new(format!("cannot {verb} '{shown}': {e}"))
}

/// Decrypts what was written and compares it with what was meant to be written.
fn verify(written: &[u8], expected: &[u8], check: &Check, shown: &str) -> Result<(), UserError> {
    let result = match check {
        Check::Skip => return Ok(()),
        Check::Identities(identities) => {
            decrypt::decrypt(written, &identities.list, || Err(Failure::NoTerminal))
        }
        Check::Passphrase(passphrase) => decrypt::decrypt_with(written, &[], || {
            crate::agent::reopening(Some(passphrase.as_str()))
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
        // Checking the new version needs the key, and the key needs its passphrase.
        Err(Failure::KeyDecryption | Failure::KeyNoTerminal(_)) => Err(match crate::age::identity::wrong_passphrase() {
            Some(key) => UserError::new(format!(
                "wrong passphrase for '{key}': the new version of '{shown}' could not be checked; \
                 nothing was changed"
            )),
            None => UserError::new(format!(
                "your key needs its passphrase to check the new version of '{shown}', and there is no \
                 terminal to ask for it; nothing was changed"
            ))
            .hint("run teamotp in a terminal (or, with the agent, unlock the key first: teamotp unlock)"),
        }),
        Err(e) => Err(UserError::new(format!(
            "the new version of '{shown}' does not decrypt ({e}); nothing was changed"
        ))),
    }
}

/// Keeps the previous version as `VAULT.bak` (written beside it and renamed into place).
fn backup(target: &Target, bytes: &[u8], mode: u32, shown: &str) -> Result<(), UserError> {
    let bak = target.sibling(".bak");
    let shown = format!("{shown}.bak");
    let mut staged = Staged::create(&bak, mode).map_err(|e| cannot("write", &shown, &e))?;
    staged
        .write(bytes)
        .and_then(|()| staged.commit())
        .map_err(|e| cannot("write", &shown, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

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
            backup: Backup::Copy,
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
            Some(sha256(&first)),
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
        let stale = sha256(b"what we read earlier");
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
            Some(sha256(b"placeholder")),
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
