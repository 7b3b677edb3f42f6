//! The write transaction every change of a vault goes through, in one type: [`Transaction::lock`] takes the
//! vault's lock and checks, before anything is decrypted, that this machine accepted the recipients file
//! (the pin: [`review`]); [`Locked::read`] decrypts and parses the version it will change (the lock held);
//! the command changes the [`Document`]; [`Transaction::commit`] checks the recipients again, refuses a
//! silent downgrade from post-quantum keys, encrypts, reads the new file back, checks that nobody saved
//! meanwhile, keeps the backup and renames it over the vault ([`store::save`]), then records the pin.
//!
//! What a transaction asks about the vault, its passphrase, is asked through the [`Questions`] passed in:
//! the commands answer on the terminal, a test answers itself. (The passphrase of an encrypted identity
//! file or SSH key is asked where the key is read, `age::identity`, on the terminal; "wrong passphrase,
//! try again" is said there too.) Nothing here prints to stdout; warnings go to the `err` stream given.
//!
//! The merge driver's write ([`super::merge`]) is the one write of a vault that is not a transaction:
//! it writes git's scratch file, with no backup, under the same recipients review.

use std::io::Write;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::Source;
use super::document::Document;
use super::format::{self, Format, Parsed};
use super::load::{self, Plaintext};
use super::store::{self, Check, Protection, Request};
use crate::age::decrypt::{self, Failure};
use crate::age::identity::Identities;
use crate::age::recipients::{self, Member};
use crate::env::Env;
use crate::error::UserError;
use crate::trust::members::{self, Next};
use crate::trust::{pin, review};

/// Where a transaction works: the vault, the keys it opens it with, its recipients file, and the time.
/// `lib::run` fills it in from the command line (`members rm --all` and the merge driver make one per
/// vault they touch); the transaction never looks anywhere else.
pub struct Context<'a> {
    pub source: Source,
    pub identities: &'a [PathBuf],
    pub recipients_file: Option<&'a Path>,
    pub env: &'a Env,
    pub now: u64,
}

impl Context<'_> {
    /// The vault's path; the demo vault is an error (it is read-only).
    pub fn vault_path(&self) -> Result<&Path, UserError> {
        match &self.source {
            Source::File(path) => Ok(path),
            Source::Demo => Err(UserError::new("the demo vault is read-only")
                .hint("create your own with 'teamotp init', or pass -f/--file PATH")),
        }
    }

    /// The recipients file: `--recipients-file`, else `.age-recipients` beside the real vault.
    pub fn recipients_path(&self) -> Result<PathBuf, UserError> {
        if let Some(path) = self.recipients_file {
            return Ok(path.to_owned());
        }
        // Beside the real vault: a link to a team repository's vault uses that repository's recipients.
        let vault = self.vault_path()?;
        let real = crate::files::Target::resolve(vault)
            .map(|t| t.path())
            .unwrap_or_else(|_| vault.to_owned());
        let dir = real.parent().filter(|p| !p.as_os_str().is_empty());
        Ok(dir.unwrap_or(Path::new(".")).join(recipients::FILE_NAME))
    }

    /// The next file: the recipients file's path with `.next` appended (`.age-recipients.next`).
    pub fn next_path(&self) -> Result<PathBuf, UserError> {
        let mut path = self.recipients_path()?.into_os_string();
        path.push(".next");
        Ok(path.into())
    }

    /// The vault's pin file (an error when there is no state directory to keep it in).
    pub fn pin_path(&self) -> Result<PathBuf, UserError> {
        review::pin_path(self.env, self.vault_path()?)
    }

    /// The vault's whole pin, None when there is none.
    pub fn read_whole_pin(&self) -> Result<Option<pin::Pin>, UserError> {
        review::read_whole_pin(self.env, self.vault_path()?)
    }

    /// [`review::check_accepted`] for this vault.
    pub fn check_accepted(&self, text: &str, members: &[Member]) -> Result<(), UserError> {
        review::check_accepted(self.env, self.vault_path()?, text, members)
    }

    /// [`review::check_next_accepted`] for this vault's next file.
    pub fn check_next_accepted(&self, next: &Next) -> Result<(), UserError> {
        review::check_next_accepted(self.env, self.vault_path()?, &self.next_path()?, next)
    }

    /// [`review::record_pin`] for this vault (nothing for the demo vault).
    pub fn record_pin(&self, text: &str, err: &mut dyn Write) {
        if let Ok(vault) = self.vault_path() {
            review::record_pin(self.env, vault, text, err);
        }
    }

    /// [`review::warn_downgraded`] for this vault.
    pub fn warn_downgraded(&self, err: &mut dyn Write) {
        if let Ok(vault) = self.vault_path() {
            review::warn_downgraded(self.env, vault, err);
        }
    }
}

/// What a transaction may need to ask the person running it.
pub trait Questions {
    /// The passphrase of the passphrase vault `label` (asked again after a wrong one where the asking
    /// can: see [`load::read_asking`]).
    fn passphrase(&mut self, label: &str) -> Result<SecretString, Failure>;
}

/// A vault opened for a change: the version read (with the lock that keeps other writers out until the
/// new version replaced it), its rows and the document the command edits.
pub struct Transaction {
    pub path: PathBuf,
    pub plain: Plaintext,
    pub document: Document,
    pub parsed: Parsed,
    /// `VAULT.bak` gets the old version encrypted to the new recipients (`members rm`, `rekey`).
    pub reencrypt_backup: bool,
    /// Held until the write is done (dropped with the transaction).
    _lock: crate::files::Lock,
}

/// A vault locked for a change, not read yet: what needs no key (the recipients, the pin, a y/N
/// question) is checked here, before any passphrase is asked.
pub struct Locked {
    path: PathBuf,
    /// The vault is encrypted with a passphrase (it has no recipients).
    pub passphrase: bool,
    lock: crate::files::Lock,
}

impl Transaction {
    /// Locks the vault and, for a vault encrypted to recipients whose recipients file exists, checks
    /// that this machine accepted that file (the pin) before anything is decrypted.
    pub fn lock(ctx: &Context, err: &mut dyn Write) -> Result<Locked, UserError> {
        let path = ctx.vault_path()?.to_owned();
        let lock = store::lock(&path, ctx.env, ctx.now, err)?;
        let raw = crate::files::read(&path).ok();
        let age = raw.as_deref().filter(|raw| decrypt::is_age(raw));
        let passphrase = age.is_some_and(|raw| decrypt::is_scrypt(raw).unwrap_or(false));
        if age.is_some() && !passphrase {
            // A missing or unreadable recipients file is reported by the write itself, as before.
            if let Ok((members, text)) =
                members::read_members(&ctx.recipients_path()?, &mut std::io::sink())
            {
                ctx.check_accepted(&text, &members)?;
            }
        }
        Ok(Locked {
            path,
            passphrase,
            lock,
        })
    }

    /// Locks the vault, then reads and parses it for a change.
    pub fn open(
        ctx: &Context,
        questions: &mut dyn Questions,
        err: &mut dyn Write,
    ) -> Result<Transaction, UserError> {
        Self::lock(ctx, err)?.read(ctx, questions, err)
    }

    /// Encrypts the edited document and replaces the vault (see [`store::save`]), to the recipients file
    /// once [`review::check_accepted`] passed, or to `recipients` (members and the file's new text, checked
    /// by the caller). Returns the members it encrypted to (none for a passphrase vault).
    pub fn commit(
        &self,
        ctx: &Context,
        recipients: Option<(&[Member], &str)>,
        force: bool,
        err: &mut dyn Write,
    ) -> Result<Vec<Member>, UserError> {
        let plaintext = self.document.serialize();
        let backup = match self.reencrypt_backup {
            true => store::Backup::Reencrypt(&self.plain.bytes),
            false => store::Backup::Copy,
        };
        if let Some(passphrase) = &self.plain.passphrase {
            store::save(&Request {
                path: &self.path,
                plaintext: &plaintext,
                protection: Protection::Passphrase(passphrase),
                check: Check::Passphrase(passphrase),
                armored: self.plain.armored,
                expected_hash: Some(self.plain.file_hash),
                backup,
            })?;
            return Ok(Vec::new());
        }
        let (members, text) = match recipients {
            Some((members, text)) => {
                // The caller writes the recipients file after the vault: it is checked first, so that a
                // refusal (a link, a directory in its place) changes neither file.
                check_target(&ctx.recipients_path()?)?;
                (members.to_vec(), text.to_owned())
            }
            None => {
                let (members, text) = members::read_members(&ctx.recipients_path()?, err)?;
                ctx.check_accepted(&text, &members)?;
                (members, text)
            }
        };
        ctx.warn_downgraded(err);
        let downgrade = is_post_quantum(&self.path)
            && members
                .iter()
                .any(|m| m.kind().post_quantum() == Some(false));
        if downgrade {
            if !force {
                return Err(UserError::new(format!(
                "'{}' is encrypted to post-quantum keys only; this write would DOWNGRADE it to classic \
                 keys; nothing was written",
                self.path.display()
            ))
            .hint(
                "a classic key makes this and every later version harvestable now and readable by a \
                 quantum computer later; if the recipients file went back to classic keys by mistake \
                 (a git revert, a merge), restore its post-quantum keys",
            )
            .hint("to downgrade on purpose, run the command again with --force (it is recorded)"));
            }
            let _ = writeln!(
                err,
                "teamotp: WARNING: DOWNGRADE: '{}' goes from post-quantum back to classic keys; this is \
             recorded in this machine's pin and said on every later write",
                self.path.display()
            );
        }
        store::save(&Request {
            path: &self.path,
            plaintext: &plaintext,
            protection: Protection::Recipients(&members),
            check: if force {
                Check::Skip
            } else {
                Check::Identities(&self.plain.identities)
            },
            armored: self.plain.armored,
            expected_hash: Some(self.plain.file_hash),
            backup,
        })?;
        ctx.record_pin(&text, err);
        if downgrade && let Ok(vault) = ctx.vault_path() {
            review::record_downgrade(ctx.env, vault, &text, ctx.now, err);
        }
        Ok(members)
    }
}

impl Locked {
    /// Reads (decrypts) and parses the locked vault for a change; the lock passes to the transaction.
    pub fn read(
        self,
        ctx: &Context,
        questions: &mut dyn Questions,
        err: &mut dyn Write,
    ) -> Result<Transaction, UserError> {
        let path = self.path;
        let plain = load::read_asking(&ctx.source, ctx.identities, ctx.env, err, &mut |label| {
            questions.passphrase(label)
        })?;
        if !plain.encrypted {
            return Err(UserError::new(format!(
                "'{}' is not encrypted; teamotp only writes encrypted vaults",
                path.display()
            ))
            .hint(format!(
                "encrypt it first: teamotp -f NEW.csv.age encrypt '{}'",
                path.display()
            )));
        }
        let parsed = format::parse(&plain.bytes)
            .map_err(|e| UserError::new(format!("{}: {e}", plain.label)))?;
        if parsed.format == Format::Gauth && parsed.invalid().next().is_some() {
            return Err(UserError::new(format!(
                "'{}' holds gauth lines with invalid rows; rewriting it as team CSV would drop them",
                path.display()
            ))
            .hint("fix the rows 'teamotp check' lists, then run the command again"));
        }
        let document = Document::from_plaintext(&plain.bytes, &parsed)
            .map_err(|e| UserError::new(format!("{}: {e}", plain.label)))?;
        Ok(Transaction {
            path,
            plain,
            document,
            parsed,
            reencrypt_backup: false,
            _lock: self.lock,
        })
    }
}

/// What a new vault is encrypted to.
pub enum NewProtection {
    /// The members, and the text of the existing recipients file they came from (accepted by the
    /// caller); without one, a recipients file listing them is written beside the vault.
    Recipients(Vec<Member>, Option<String>),
    Passphrase(Zeroizing<String>),
}

/// The question [`create`] asks once the new vault is locked: its protection, and the identities that
/// check the file written.
pub type Protect<'a> =
    dyn FnMut(&mut dyn Write) -> Result<(NewProtection, Identities), UserError> + 'a;

/// Creates a new vault holding `document`: the folder (private when new), the lock, a refusal when
/// anything is in its place, then `protect` (the questions: which keys, or a passphrase typed twice; it
/// gives the protection and the identities that check the file written), then the vault, its recipients
/// file and the pin. Both files are checked before either is written. `force` skips the check that the
/// caller can open what was written.
pub fn create(
    ctx: &Context,
    document: &Document,
    force: bool,
    err: &mut dyn Write,
    protect: &mut Protect,
) -> Result<(), UserError> {
    let path = ctx.vault_path()?.to_owned();
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::files::create_private_dir(dir)
            .map_err(|e| UserError::new(format!("cannot create '{}': {e}", dir.display())))?;
    }
    let _lock = store::lock(&path, ctx.env, ctx.now, err)?;
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(
            UserError::new(format!("'{}' already exists", path.display()))
                .hint("teamotp does not overwrite a vault; pass another -f/--file PATH"),
        );
    }
    let (protection, identities) = protect(err)?;
    let plaintext = document.serialize();
    match &protection {
        NewProtection::Passphrase(passphrase) => store::save(&Request {
            path: &path,
            plaintext: &plaintext,
            protection: Protection::Passphrase(passphrase),
            check: Check::Passphrase(passphrase),
            armored: false,
            expected_hash: None,
            backup: store::Backup::Copy,
        })?,
        NewProtection::Recipients(members, existing) => {
            // Both files are checked before either is written: a refusal changes nothing.
            let recipients_path = ctx.recipients_path()?;
            if existing.is_none() && !recipients_path.exists() {
                check_target(&recipients_path)?;
            }
            store::save(&Request {
                path: &path,
                plaintext: &plaintext,
                protection: Protection::Recipients(members),
                check: if force {
                    Check::Skip
                } else {
                    Check::Identities(&identities)
                },
                armored: false,
                expected_hash: None,
                backup: store::Backup::Copy,
            })?;
            let text = match existing {
                Some(text) => text.clone(),
                None => recipients::render(members),
            };
            if existing.is_none() && !recipients_path.exists() {
                write_text(&recipients_path, &text)?;
                let _ = writeln!(
                    err,
                    "teamotp: wrote the recipients file {} ({} recipient{})",
                    recipients_path.display(),
                    members.len(),
                    if members.len() == 1 { "" } else { "s" }
                );
            }
            // The user chose these keys (or accepted the existing file above).
            ctx.record_pin(&text, err);
        }
    }
    Ok(())
}

/// The vault file on disk is encrypted to post-quantum keys only: a post-quantum stanza and no classic one
/// (other stanza types are grease, which age adds to every file, or plugins').
fn is_post_quantum(path: &Path) -> bool {
    const PQ: [&str; 2] = [crate::age::pq::STANZA_TAG, "mlkem768p256tag"];
    const CLASSIC: [&str; 5] = ["X25519", "ssh-ed25519", "ssh-rsa", "p256tag", "scrypt"];
    let Ok(bytes) = crate::files::read(path) else {
        return false;
    };
    let types = crate::age::header::stanza_types(&bytes);
    types.iter().any(|t| PQ.contains(&t.as_str()))
        && !types.iter().any(|t| CLASSIC.contains(&t.as_str()))
}

/// Checks that `path` can be written by [`write_text`] (no committed link, no link someone else owns,
/// nothing but a regular file in its place) before a multi-file write writes anything.
fn check_target(path: &Path) -> Result<(), UserError> {
    crate::files::Target::resolve(path)
        .map(|_| ())
        .map_err(|e| {
            UserError::new(format!(
                "cannot write '{}': {e}; nothing was written",
                path.display()
            ))
        })
}

/// Writes a small non-secret text file atomically (the recipients file), through the one writer.
pub fn write_text(path: &Path, text: &str) -> Result<(), UserError> {
    // Public keys only, but nobody else may change who the vault is encrypted to: 0644 whatever the umask.
    crate::files::replace(path, text.as_bytes(), 0o644)
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers passed in: the passphrase to give, and how often it was asked.
    struct Answers {
        passphrase: &'static str,
        asked: Vec<String>,
    }

    impl Questions for Answers {
        fn passphrase(&mut self, label: &str) -> Result<SecretString, Failure> {
            self.asked.push(label.to_owned());
            Ok(SecretString::from(self.passphrase.to_owned()))
        }
    }

    fn env() -> Env {
        Env::from_pairs([("TEAMOTP_NO_AGENT", "1")])
    }

    /// A passphrase vault with one account, written the way `init --passphrase` writes one.
    fn passphrase_vault(dir: &Path) -> PathBuf {
        let path = dir.join("team.csv.age");
        let passphrase = Zeroizing::new("correct horse".to_owned());
        store::save(&Request {
            path: &path,
            plaintext: b"name,secret\nAWS,JBSWY3DPEHPK3PXP\n",
            protection: Protection::Passphrase(&passphrase),
            check: Check::Passphrase(&passphrase),
            armored: false,
            expected_hash: None,
            backup: store::Backup::Copy,
        })
        .unwrap();
        path
    }

    fn context<'a>(path: &Path, env: &'a Env) -> Context<'a> {
        Context {
            source: Source::File(path.to_owned()),
            identities: &[],
            recipients_file: None,
            env,
            now: 1_700_000_000,
        }
    }

    /// The whole transaction runs without a terminal: the passphrase comes from the questions passed in,
    /// asked once, and the change is there when the vault is read again.
    #[test]
    fn a_change_runs_with_the_questions_passed_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = passphrase_vault(dir.path());
        let env = env();
        let ctx = context(&path, &env);
        let mut answers = Answers {
            passphrase: "correct horse",
            asked: Vec::new(),
        };
        let mut open = Transaction::open(&ctx, &mut answers, &mut std::io::sink()).unwrap();
        assert_eq!(answers.asked, [path.display().to_string()]);
        assert_eq!(open.parsed.accounts().count(), 1);
        let added = format::parse(b"GitHub:GEZDGNBVGY3TQOJQ\n").unwrap();
        open.document.push(added.accounts().next().unwrap());
        let members = open
            .commit(&ctx, None, false, &mut std::io::sink())
            .unwrap();
        assert!(members.is_empty(), "a passphrase vault has no members");
        drop(open);

        let mut again = Answers {
            passphrase: "correct horse",
            asked: Vec::new(),
        };
        let read = load::read_asking(&ctx.source, &[], &env, &mut std::io::sink(), &mut |l| {
            again.passphrase(l)
        })
        .unwrap();
        let parsed = format::parse(&read.bytes).unwrap();
        let names: Vec<&str> = parsed.accounts().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["AWS", "GitHub"]);
        // The previous version is the backup, still readable with the same passphrase.
        let mut backup = path.clone().into_os_string();
        backup.push(".bak");
        let old = decrypt::decrypt(&std::fs::read(&backup).unwrap(), &[], || {
            Ok(SecretString::from("correct horse".to_owned()))
        })
        .unwrap();
        assert_eq!(&old[..], b"name,secret\nAWS,JBSWY3DPEHPK3PXP\n");
    }

    /// A wrong answer stops the transaction before anything is written, and the lock is released.
    #[test]
    fn a_wrong_answer_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = passphrase_vault(dir.path());
        let before = std::fs::read(&path).unwrap();
        let env = env();
        let ctx = context(&path, &env);
        let mut wrong = Answers {
            passphrase: "battery staple",
            asked: Vec::new(),
        };
        let error = Transaction::open(&ctx, &mut wrong, &mut std::io::sink())
            .err()
            .expect("a wrong passphrase opens nothing");
        assert!(error.message.contains("passphrase"), "{}", error.message);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        // Nothing is left locked: the next transaction goes ahead.
        let mut right = Answers {
            passphrase: "correct horse",
            asked: Vec::new(),
        };
        assert!(Transaction::open(&ctx, &mut right, &mut std::io::sink()).is_ok());
    }
}
