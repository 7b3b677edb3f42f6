//! The team-vault commands: init, add, rm, rename, edit, members, rekey, encrypt. Every write goes through
//! `commit`: the pin check, then `store::save` (encrypt, check, lost-update check, backup, rename).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::account::{Account, Params};
use crate::env::Env;
use crate::error::UserError;
use crate::output::printable;
use crate::vault::document::{Changes, Document};
use crate::vault::identity::{self, Identities};
use crate::vault::recipients::{self, Member};
use crate::vault::store::{self, Check, Protection, Request};
use crate::vault::{self, Plaintext, Source, load, otpauth, pin};
use crate::{totp, tty};

/// What every team command needs from the command line.
pub struct Context<'a> {
    pub source: Source,
    pub identities: &'a [PathBuf],
    pub recipients_file: Option<&'a Path>,
    pub env: &'a Env,
    pub now: u64,
}

impl Context<'_> {
    fn vault_path(&self) -> Result<&Path, UserError> {
        match &self.source {
            Source::File(path) => Ok(path),
            Source::Demo => Err(UserError::new("the demo vault is read-only")
                .hint("create your own with 'teamotp init', or pass -f/--file PATH")),
        }
    }

    pub(crate) fn recipients_path(&self) -> Result<PathBuf, UserError> {
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
}

/// A vault opened for editing.
pub(crate) struct Open {
    pub(crate) path: PathBuf,
    pub(crate) plain: Plaintext,
    pub(crate) document: Document,
    pub(crate) parsed: vault::Parsed,
    /// `VAULT.bak` gets the old version encrypted to the new recipients (`members rm`, `rekey`).
    pub(crate) reencrypt_backup: bool,
    /// Held until the write is done (dropped with `Open`).
    _lock: crate::files::Lock,
}

/// Locks the vault, then reads and parses it for editing.
pub(crate) fn open(ctx: &Context, err: &mut dyn Write) -> Result<Open, UserError> {
    let path = ctx.vault_path()?.to_owned();
    let lock = store::lock(&path, ctx.env, ctx.now, err)?;
    let plain = load::read(&ctx.source, ctx.identities, ctx.env, err)?;
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
    let parsed =
        vault::parse(&plain.bytes).map_err(|e| UserError::new(format!("{}: {e}", plain.label)))?;
    if parsed.format == vault::Format::Gauth && parsed.invalid().next().is_some() {
        return Err(UserError::new(format!(
            "'{}' holds gauth lines with invalid rows; rewriting it as team CSV would drop them",
            path.display()
        ))
        .hint("fix the rows 'teamotp check' lists, then run the command again"));
    }
    let document = Document::from_plaintext(&plain.bytes, &parsed)
        .map_err(|e| UserError::new(format!("{}: {e}", plain.label)))?;
    Ok(Open {
        path,
        plain,
        document,
        parsed,
        reencrypt_backup: false,
        _lock: lock,
    })
}

/// The recipients file's members (at least one; every line a key, a comment or blank) and its exact text.
pub(crate) fn read_members(
    path: &Path,
    err: &mut dyn Write,
) -> Result<(Vec<Member>, String), UserError> {
    read_recipients(
        path,
        "add one with 'teamotp members add RECIPIENT'",
        false,
        err,
    )
    .map_err(|e| {
        if e.message.starts_with("cannot read") {
            e.hint(
                "the vault is encrypted to the keys in .age-recipients beside it; \
                 --recipients-file PATH names another file",
            )
        } else {
            e
        }
    })
}

/// Reads a file of recipients: its members (at least one) and its text. Only `lenient` (a file of keys to
/// pick from) skips, with a warning, the keys age cannot use.
fn read_recipients(
    path: &Path,
    empty_hint: &str,
    lenient: bool,
    err: &mut dyn Write,
) -> Result<(Vec<Member>, String), UserError> {
    let shown = path.display().to_string();
    let text = crate::files::read_to_string(path)
        .map_err(|e| UserError::new(format!("cannot read the recipients file '{shown}': {e}")))?
        .to_string();
    let parsed = if lenient {
        recipients::parse_lenient(&text, &shown)?
    } else {
        recipients::parse(&text, &shown)?
    };
    for (line, reason) in &parsed.skipped {
        let _ = writeln!(err, "teamotp: warning: {shown}:{line}: {reason}");
    }
    if parsed.members.is_empty() {
        return Err(
            UserError::new(format!("the recipients file '{shown}' lists no recipient"))
                .hint(empty_hint),
        );
    }
    Ok((parsed.members, text))
}

/// Said with every review: what a review can and cannot vouch for.
const LABELS_HINT: &str = "only the keys are authenticated: labels are comments anyone with write \
                           access can change; compare the keys";

/// A review: its lines indented, then the recipients file's fingerprint (what `--expect` takes).
fn review_block(lines: &[String], text: &str) -> String {
    let mut block: String = lines.iter().map(|l| format!("    {l}\n")).collect();
    block.push_str(&format!(
        "    recipients file fingerprint: {}",
        pin::fingerprint(text.as_bytes())
    ));
    block
}

/// Every member in full, one a line, as a review lists them when nothing was accepted yet.
fn listing(members: &[Member]) -> Vec<String> {
    members.iter().map(Member::entry).collect()
}

/// The pin file of `vault`; an error when there is no state directory to keep it in.
fn pin_path(ctx: &Context, vault: &Path) -> Result<PathBuf, UserError> {
    pin::path(ctx.env, vault).ok_or_else(|| {
        UserError::new(format!(
            "there is no state directory to keep the recipients pin of '{}' in, so its recipients \
             cannot be checked; nothing was written",
            vault.display()
        ))
        .hint("set XDG_STATE_HOME (or HOME) to a directory of your own")
    })
}

/// The pin of `vault`, None when there is none; a pin that cannot be read or parsed is an error.
fn read_pin(pin_path: &Path, vault: &Path) -> Result<Option<pin::Pinned>, UserError> {
    pin::read(pin_path).map_err(|reason| unusable_pin(pin_path, vault, &reason))
}

fn unusable_pin(pin_path: &Path, vault: &Path, reason: &str) -> UserError {
    UserError::new(format!(
        "the recipients pin '{}' is not usable: {reason}",
        pin_path.display()
    ))
    .hint(format!(
        "it records the recipients file you accepted for '{}'; if you did not change it, someone else \
         may have: remove it, then review the recipients with 'teamotp members ack'",
        vault.display()
    ))
}

/// Stops a write unless this machine accepted exactly this recipients file (`text`, parsed as `members`)
/// for the vault: with no pin (a new clone, machine or folder) the whole list is shown, with a changed
/// file the difference; both need `teamotp members ack`.
fn check_accepted(ctx: &Context, text: &str, members: &[Member]) -> Result<(), UserError> {
    let vault = ctx.vault_path()?;
    let pin_path = pin_path(ctx, vault)?;
    let Some(pinned) = read_pin(&pin_path, vault)? else {
        return Err(UserError::new(format!(
            "this machine has not accepted the recipients of '{}' yet (a new clone, machine or folder); \
             a write would encrypt every secret to:\n{}",
            vault.display(),
            review_block(&listing(members), text)
        ))
        .hint(LABELS_HINT)
        .hint(
            "if these are your team's keys, accept them: teamotp members ack (in a script: teamotp \
             members ack --expect FINGERPRINT, with the fingerprint checked with a teammate)",
        ));
    };
    let changes = pin::review(&pinned, text.as_bytes(), members)
        .map_err(|reason| unusable_pin(&pin_path, vault, &reason))?;
    if changes.is_empty() {
        return Ok(());
    }
    Err(UserError::new(format!(
        "the recipients file changed since you last wrote '{}':\n{}",
        vault.display(),
        review_block(&changes, text)
    ))
    .hint(LABELS_HINT)
    .hint("if you expected this change (a teammate joined or left), accept it: teamotp members ack")
    .hint("if not, someone may have slipped in a key: check the file's history before going on"))
}

/// Stops a write when the recipients file is not the one this machine accepted for the vault (see
/// `check_accepted`); `members` were read from it just before, and the file is read again for its bytes.
pub(crate) fn check_pin(ctx: &Context, members: &[Member]) -> Result<(), UserError> {
    let (current, text) = read_members(&ctx.recipients_path()?, &mut std::io::sink())?;
    let same = current.len() == members.len()
        && current
            .iter()
            .zip(members)
            .all(|(a, b)| a.key == b.key && a.label == b.label);
    if !same {
        return Err(UserError::new(
            "the recipients file changed while teamotp read it; nothing was written",
        )
        .hint("run the command again"));
    }
    check_accepted(ctx, &text, members)
}

/// Records `text` (the recipients file's exact bytes) as accepted for the vault; a failure is a warning
/// (the next write then asks for `members ack` again).
fn record_pin(ctx: &Context, text: &str, err: &mut dyn Write) {
    let Ok(vault) = ctx.vault_path() else {
        return;
    };
    let result = match pin::path(ctx.env, vault) {
        Some(pin_path) => pin::record(&pin_path, vault, text.as_bytes()).map_err(|e| {
            format!(
                "cannot write the recipients pin '{}': {e}",
                pin_path.display()
            )
        }),
        None => Err("there is no state directory to keep the recipients pin in".to_owned()),
    };
    if let Err(reason) = result {
        let _ = writeln!(
            err,
            "teamotp: warning: {reason}; the next write will ask you to accept the recipients again"
        );
    }
}

/// Encrypts the edited document and replaces the vault (see `store::save`), to the recipients file once
/// `check_accepted` passed, or to `recipients` (members and the file's new text, checked by the caller).
pub(crate) fn commit(
    ctx: &Context,
    open: &Open,
    recipients: Option<(&[Member], &str)>,
    force: bool,
    err: &mut dyn Write,
) -> Result<Vec<Member>, UserError> {
    let plaintext = open.document.serialize();
    let backup = match open.reencrypt_backup {
        true => store::Backup::Reencrypt(&open.plain.bytes),
        false => store::Backup::Copy,
    };
    if let Some(passphrase) = &open.plain.passphrase {
        store::save(&Request {
            path: &open.path,
            plaintext: &plaintext,
            protection: Protection::Passphrase(passphrase),
            check: Check::Passphrase(passphrase),
            armored: open.plain.armored,
            expected_hash: Some(open.plain.file_hash),
            backup,
        })?;
        return Ok(Vec::new());
    }
    let (members, text) = match recipients {
        Some((members, text)) => (members.to_vec(), text.to_owned()),
        None => {
            let (members, text) = read_members(&ctx.recipients_path()?, err)?;
            check_accepted(ctx, &text, &members)?;
            (members, text)
        }
    };
    store::save(&Request {
        path: &open.path,
        plaintext: &plaintext,
        protection: Protection::Recipients(&members),
        check: if force {
            Check::Skip
        } else {
            Check::Identities(&open.plain.identities)
        },
        armored: open.plain.armored,
        expected_hash: Some(open.plain.file_hash),
        backup,
    })?;
    record_pin(ctx, &text, err);
    Ok(members)
}

// ---------------------------------------------------------------------------------------------------
// Reading secrets and answers from the user

/// Reads a secret (or URI): hidden from the terminal, or from stdin when stdin is not a terminal.
pub(crate) fn read_secret(prompt: &str) -> Result<Zeroizing<String>, UserError> {
    if std::io::stdin().is_terminal() {
        let secret = tty::prompt_hidden(prompt)
            .map_err(|e| UserError::new(format!("cannot read from the terminal: {e}")))?;
        use age::secrecy::ExposeSecret;
        return Ok(Zeroizing::new(secret.expose_secret().trim().to_owned()));
    }
    // Sized once: a reallocation would leave an unwiped copy behind.
    let mut bytes = Zeroizing::new(Vec::with_capacity(64 * 1024 + 1));
    std::io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_end(&mut bytes)
        .map_err(|e| UserError::new(format!("cannot read standard input: {e}")))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| UserError::new("standard input is not UTF-8 text"))?;
    Ok(Zeroizing::new(text.trim().to_owned()))
}

/// Asks a yes/no question on the terminal; `--yes` answers it, no terminal is an error.
pub(crate) fn confirm(question: &str, yes: bool) -> Result<bool, UserError> {
    if yes {
        return Ok(true);
    }
    if !tty::available() {
        return Err(
            UserError::new("confirmation needed and there is no terminal to ask on")
                .hint("pass --yes to confirm"),
        );
    }
    let answer = tty::prompt_line(&format!("{question} [y/N] "))
        .map_err(|e| UserError::new(format!("cannot read from the terminal: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn show(account: &Account, now: u64) -> String {
    let window = totp::window(account, now);
    format!(
        "its current code is {} ({} s left): check that the service accepts it",
        crate::tui::ui::group(&window.curr),
        window.remaining
    )
}

// ---------------------------------------------------------------------------------------------------
// Accounts

/// `teamotp add NAME` (secret from the terminal or stdin) or `teamotp add --uri [NAME]`.
pub fn add(
    ctx: &Context,
    name: Option<&str>,
    uri: bool,
    flags: &Changes,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    // Asked before the vault is locked: a teammate's write never waits for us to type.
    let mut account = if uri {
        let text = read_secret("otpauth:// URI (hidden): ")?;
        if !otpauth::is_uri(&text) {
            return Err(UserError::new("that is not an otpauth:// URI")
                .hint("without --uri, teamotp add NAME reads the base32 secret itself"));
        }
        let mut account = otpauth::parse(&text)
            .map_err(|(_, reason)| UserError::new(format!("the URI is not usable: {reason}")))?;
        if let Some(name) = name {
            account.name = name.to_owned();
        }
        account
    } else {
        let name = name.ok_or_else(|| {
            UserError::new("give the account's name: teamotp add NAME")
                .hint("or pass an otpauth:// URI with --uri")
        })?;
        let secret_text = read_secret(&format!("Secret for '{name}' (hidden): "))?;
        let secret = crate::secret::decode(&secret_text)
            .map_err(|e| UserError::new(format!("the secret is not usable: {e}")))?;
        Account {
            name: name.to_owned(),
            issuer: None,
            params: Params::default(),
            secret,
        }
    };
    flags.apply(&mut account);
    account.name = account.name.trim().to_owned();
    if account.name.is_empty() {
        return Err(UserError::new("the account name is empty"));
    }
    let mut open = open(ctx, err)?;
    if open.document.contains(&account.name) {
        return Err(UserError::new(format!(
            "an account named '{}' already exists",
            printable(&account.name)
        ))
        .hint("choose another name, or re-enrol it: teamotp edit NAME --secret"));
    }
    open.document.push(&account);
    commit(ctx, &open, None, false, err)?;
    let _ = writeln!(
        err,
        "teamotp: added '{}' to {}; {}",
        printable(&account.name),
        open.path.display(),
        show(&account, ctx.now)
    );
    Ok(())
}

/// The exact (case-insensitive) name of an existing row, or an error listing close names.
pub(crate) fn existing<'a>(open: &'a Open, name: &str) -> Result<&'a vault::Row, UserError> {
    open.parsed
        .rows
        .iter()
        .find(|r| r.name.trim().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            let similar: Vec<String> = open
                .parsed
                .rows
                .iter()
                .filter(|r| r.name.to_lowercase().contains(&name.to_lowercase()))
                .map(|r| format!("'{}'", printable(&r.name)))
                .collect();
            let error = UserError::new(format!("no account is named '{}'", printable(name)));
            if similar.is_empty() {
                error.hint("'teamotp list' shows the accounts")
            } else {
                error.hint(format!("did you mean {}?", similar.join(", ")))
            }
        })
}

/// `teamotp rm NAME`.
pub fn rm(ctx: &Context, name: &str, yes: bool, err: &mut dyn Write) -> Result<(), UserError> {
    let mut open = open(ctx, err)?;
    let row_name = existing(&open, name)?.name.clone();
    let question = format!(
        "Remove '{}' from {}? (the previous version stays in {}.bak until the next write)",
        printable(&row_name),
        open.path.display(),
        open.path.display()
    );
    if !confirm(&question, yes)? {
        let _ = writeln!(err, "teamotp: nothing removed");
        return Ok(());
    }
    open.document.remove(&row_name);
    commit(ctx, &open, None, false, err)?;
    let _ = writeln!(err, "teamotp: removed '{}'", printable(&row_name));
    Ok(())
}

/// `teamotp rename OLD NEW`.
pub fn rename(ctx: &Context, old: &str, new: &str, err: &mut dyn Write) -> Result<(), UserError> {
    let mut open = open(ctx, err)?;
    let old_name = existing(&open, old)?.name.clone();
    let new = new.trim();
    if new.is_empty() {
        return Err(UserError::new("the new name is empty"));
    }
    if !old_name.eq_ignore_ascii_case(new) && open.document.contains(new) {
        return Err(UserError::new(format!(
            "an account named '{}' already exists",
            printable(new)
        )));
    }
    open.document.rename(&old_name, new);
    commit(ctx, &open, None, false, err)?;
    let _ = writeln!(
        err,
        "teamotp: renamed '{}' to '{}'",
        printable(&old_name),
        printable(new)
    );
    Ok(())
}

/// `teamotp edit NAME [--issuer ...] [--digits ...] [--period ...] [--algorithm ...] [--secret]`.
pub fn edit(
    ctx: &Context,
    name: &str,
    flags: &Changes,
    new_secret: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    if flags.is_empty() && !new_secret {
        return Err(UserError::new("nothing to change").hint(
            "pass --issuer, --digits, --period, --algorithm or --type, or --secret to re-enrol",
        ));
    }
    let mut open = open(ctx, err)?;
    let row_name = existing(&open, name)?.name.clone();
    if new_secret {
        let text = read_secret(&format!("New secret for '{row_name}' (hidden): "))?;
        let secret = crate::secret::decode(&text)
            .map_err(|e| UserError::new(format!("the secret is not usable: {e}")))?;
        open.document.set_secret(&row_name, &secret);
    }
    open.document.edit(&row_name, flags);
    // The edited row must still be usable.
    let reparsed = vault::parse(&open.document.serialize())
        .map_err(|e| UserError::new(format!("the edit would break the vault: {e}")))?;
    let row = reparsed
        .rows
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(&row_name));
    let account = match row.map(|r| &r.entry) {
        Some(Ok(account)) => account.clone(),
        Some(Err(reason)) => {
            return Err(UserError::new(format!(
                "after the edit '{}' would be invalid: {reason}",
                printable(&row_name)
            )));
        }
        None => {
            return Err(UserError::new(
                "the edited row disappeared; nothing was written",
            ));
        }
    };
    commit(ctx, &open, None, false, err)?;
    let _ = writeln!(
        err,
        "teamotp: updated '{}'; {}",
        printable(&row_name),
        show(&account, ctx.now)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Creating vaults

/// How a new vault is protected: recipients from the command line, the recipients file, or the caller's
/// own identity (created when missing); or a passphrase asked twice.
pub struct NewVault<'a> {
    pub recipients: &'a [String],
    pub recipient_files: &'a [PathBuf],
    pub passphrase: bool,
    pub force: bool,
    /// Encrypt to an existing recipients file this machine has not accepted without asking.
    pub yes: bool,
}

enum NewProtection {
    /// The members, and the text of the existing recipients file they came from.
    Recipients(Vec<Member>, Option<String>),
    Passphrase(Zeroizing<String>),
}

fn new_protection(
    ctx: &Context,
    options: &NewVault,
    err: &mut dyn Write,
) -> Result<(NewProtection, Identities), UserError> {
    if options.passphrase {
        if !options.recipients.is_empty() || !options.recipient_files.is_empty() {
            return Err(UserError::new(
                "a vault is encrypted either to recipients or to a passphrase, not both",
            ));
        }
        return Ok((
            NewProtection::Passphrase(ask_new_passphrase()?),
            Identities::empty(),
        ));
    }
    let recipients_path = ctx.recipients_path()?;
    let mut members = Vec::new();
    for text in options.recipients {
        members.extend(recipients::parse(text, "-r/--recipient")?.members);
    }
    for file in options.recipient_files {
        let hint = "each line is an age1... key, or an ssh-ed25519 or ssh-rsa public key";
        members.extend(read_recipients(file, hint, true, err)?.0);
    }
    let given = !members.is_empty();
    let mut existing_text = None;
    if recipients_path.exists() {
        if given {
            return Err(UserError::new(format!(
                "'{}' already exists",
                recipients_path.display()
            ))
            .hint("the vault will be encrypted to the keys it lists; add more later with 'teamotp members add'"));
        }
        let (existing, text) = read_members(&recipients_path, err)?;
        accept_existing(ctx, &recipients_path, &existing, &text, options.yes, err)?;
        members = existing;
        existing_text = Some(text);
    }
    let identities = caller_identities(ctx, &mut members, err)?;
    let mut seen = std::collections::HashSet::new();
    members.retain(|m| seen.insert(m.key.clone()));
    if members.is_empty() {
        return Err(UserError::new("no recipient").hint("pass -r/--recipient KEY"));
    }
    Ok((
        NewProtection::Recipients(members, existing_text),
        identities,
    ))
}

/// `init` beside a recipients file it did not write: unless this machine accepted that exact file, shows
/// every key and asks (or takes `--yes`) before the new vault is encrypted to it.
fn accept_existing(
    ctx: &Context,
    path: &Path,
    members: &[Member],
    text: &str,
    yes: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = ctx.vault_path()?;
    let accepted = pin::path(ctx.env, vault)
        .and_then(|pin_path| pin::read(&pin_path).ok().flatten())
        .is_some_and(|pinned| {
            pin::review(&pinned, text.as_bytes(), members).is_ok_and(|c| c.is_empty())
        });
    if accepted {
        return Ok(());
    }
    let shown = path.display();
    let _ = writeln!(
        err,
        "teamotp: '{shown}' already exists; the new vault would be encrypted to:\n{}",
        review_block(&listing(members), text)
    );
    let _ = writeln!(err, "teamotp: hint: {LABELS_HINT}");
    if !yes && !tty::available() {
        return Err(UserError::new(format!(
            "'{shown}' lists recipients this machine has not accepted; nothing was created"
        ))
        .hint(
            "check the keys above, then pass -y/--yes, or accept this exact file first: teamotp \
             members ack --expect FINGERPRINT",
        ));
    }
    if !confirm("Encrypt the new vault to these recipients?", yes)? {
        return Err(UserError::new(
            "the recipients were not accepted; nothing was created",
        ));
    }
    Ok(())
}

/// The caller's identities (to check the new vault), creating one when there is none; when no recipient
/// was given, the caller's public key becomes the first.
fn caller_identities(
    ctx: &Context,
    members: &mut Vec<Member>,
    err: &mut dyn Write,
) -> Result<Identities, UserError> {
    let mut paths = identity::paths(ctx.identities, ctx.env);
    let mut created = None;
    if paths.is_empty() {
        let path = identity::default_paths(ctx.env)
            .into_iter()
            .next()
            .ok_or_else(|| UserError::new("no home directory to create your identity in"))?;
        let key = create_identity(&path)?;
        let _ = writeln!(
            err,
            "teamotp: created your identity at {} (keep it private, and back it up)",
            path.display()
        );
        let _ = writeln!(
            err,
            "teamotp: your public key (send it to your teammates): {key}"
        );
        paths.push(path);
        created = Some(key);
    }
    if members.is_empty() {
        let key = match created {
            Some(key) => key,
            None => public_key(&paths[0])?,
        };
        let label = ctx
            .env
            .var("USER")
            .map(|u| u.to_string_lossy().into_owned());
        members.push(Member {
            key,
            label,
            line: 0,
        });
    }
    identity::load(&paths)
}

/// Creates a new age identity file (mode 0600, never overwriting) and returns its public key.
fn create_identity(path: &Path) -> Result<String, UserError> {
    let shown = path.display();
    if let Some(dir) = path.parent() {
        crate::files::create_private_dir(dir)
            .map_err(|e| UserError::new(format!("cannot create '{}': {e}", dir.display())))?;
    }
    let key = age::x25519::Identity::generate();
    let public = key.to_public().to_string();
    use age::secrecy::ExposeSecret;
    let text = Zeroizing::new(format!(
        "# teamotp identity: keep it private\n# public key: {public}\n{}\n",
        key.to_string().expose_secret()
    ));
    crate::files::create_new(path, text.as_bytes(), 0o600)
        .map_err(|e| UserError::new(format!("cannot create '{shown}': {e}")))?;
    Ok(public)
}

/// The public key of an identity file: derived from an age key, or read from an SSH key's `.pub`.
fn public_key(path: &Path) -> Result<String, UserError> {
    let shown = path.display().to_string();
    let text = crate::files::read_to_string(path)
        .map_err(|e| UserError::new(format!("cannot read '{shown}': {e}")))?;
    if let Some(line) = text
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
    {
        let key = age::x25519::Identity::from_str(line)
            .map_err(|_| UserError::new(format!("'{shown}' holds an invalid age key")))?;
        return Ok(key.to_public().to_string());
    }
    let pub_path = PathBuf::from(format!("{shown}.pub"));
    let pub_text = crate::files::read_to_string(&pub_path).map_err(|_| {
        UserError::new(format!("cannot tell the public key of '{shown}'"))
            .hint("pass your public key with -r/--recipient (or put it beside the key as KEY.pub)")
    })?;
    let parsed = recipients::parse(&pub_text, &pub_path.display().to_string())?;
    parsed
        .members
        .into_iter()
        .next()
        .map(|m| m.key)
        .ok_or_else(|| {
            UserError::new(format!(
                "'{}' holds no usable public key",
                pub_path.display()
            ))
        })
}

fn ask_new_passphrase() -> Result<Zeroizing<String>, UserError> {
    use age::secrecy::ExposeSecret;
    if !tty::available() {
        return Err(UserError::new(
            "a passphrase is needed and there is no terminal to ask on",
        ));
    }
    let read = |prompt: &str| {
        tty::prompt_hidden(prompt)
            .map(|s| Zeroizing::new(s.expose_secret().to_owned()))
            .map_err(|e| UserError::new(format!("cannot read from the terminal: {e}")))
    };
    let first = read("New vault passphrase: ")?;
    if first.is_empty() {
        return Err(UserError::new("the passphrase is empty"));
    }
    let second = read("Repeat the passphrase: ")?;
    if *first != *second {
        return Err(UserError::new(
            "the two passphrases differ; nothing was created",
        ));
    }
    Ok(first)
}

/// Writes a new vault holding `document`.
fn create(
    ctx: &Context,
    document: &Document,
    options: &NewVault,
    err: &mut dyn Write,
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
    let (protection, identities) = new_protection(ctx, options, err)?;
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
            store::save(&Request {
                path: &path,
                plaintext: &plaintext,
                protection: Protection::Recipients(members),
                check: if options.force {
                    Check::Skip
                } else {
                    Check::Identities(&identities)
                },
                armored: false,
                expected_hash: None,
                backup: store::Backup::Copy,
            })?;
            let recipients_path = ctx.recipients_path()?;
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
            record_pin(ctx, &text, err);
        }
    }
    Ok(())
}

/// `teamotp init`: an empty vault (the header only) and its recipients file.
pub fn init(ctx: &Context, options: &NewVault, err: &mut dyn Write) -> Result<(), UserError> {
    create(ctx, &Document::new(), options, err)?;
    let _ = writeln!(
        err,
        "teamotp: created the vault {}; add accounts with 'teamotp add NAME'",
        ctx.vault_path()?.display()
    );
    Ok(())
}

/// `teamotp encrypt PLAINTEXT`: a new vault from a plaintext team CSV or gauth file.
pub fn encrypt(
    ctx: &Context,
    plaintext_path: &Path,
    options: &NewVault,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let shown = plaintext_path.display().to_string();
    let bytes = crate::files::read(plaintext_path)
        .map_err(|e| UserError::new(format!("cannot read '{shown}': {e}")))?;
    if vault::decrypt::is_age(&bytes) {
        return Err(UserError::new(format!("'{shown}' is already encrypted")));
    }
    let parsed = vault::parse(&bytes).map_err(|e| UserError::new(format!("{shown}: {e}")))?;
    let problems: Vec<String> = parsed
        .invalid()
        .map(|(row, reason)| printable(&load::describe_row(&shown, row, reason)).into_owned())
        .collect();
    if !problems.is_empty() {
        return Err(UserError::new(format!(
            "'{shown}' has {} invalid row{}; nothing was encrypted:\n    {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n    ")
        ))
        .hint("fix them (teamotp -f FILE check lists them) and run the command again"));
    }
    let document = Document::from_plaintext(&bytes, &parsed)
        .map_err(|e| UserError::new(format!("{shown}: {e}")))?;
    create(ctx, &document, options, err)?;
    let _ = writeln!(
        err,
        "teamotp: encrypted {} account{} from {shown} ({}) into {}",
        parsed.accounts().count(),
        if parsed.accounts().count() == 1 {
            ""
        } else {
            "s"
        },
        parsed.format,
        ctx.vault_path()?.display()
    );
    let _ = writeln!(
        err,
        "teamotp: hint: now remove the plaintext: shred -u '{shown}' (and any copy in backups, sync folders or git history)"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Members

/// `teamotp members`: the recipients with their comments, on stdout.
pub fn members(ctx: &Context, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), UserError> {
    let path = ctx.recipients_path()?;
    let (members, _) = read_members(&path, err)?;
    for member in &members {
        let line = match &member.label {
            Some(label) => format!("{}  # {}", member.key, printable(label)),
            None => member.key.clone(),
        };
        crate::error::write_data(out, format!("{line}\n").as_bytes())?;
    }
    Ok(())
}

fn refuse_passphrase(open: &Open) -> Result<(), UserError> {
    if open.plain.passphrase.is_some() {
        return Err(UserError::new(format!(
            "'{}' is encrypted with a passphrase; it has no members",
            open.path.display()
        ))
        .hint("age cannot mix recipients with a passphrase: create a recipients vault with 'teamotp init' and move the accounts"));
    }
    Ok(())
}

/// `teamotp members add RECIPIENT [--name LABEL]`: adds the key and re-encrypts the vault.
pub fn members_add(
    ctx: &Context,
    recipient: &str,
    label: Option<&str>,
    force: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let open = open(ctx, err)?;
    refuse_passphrase(&open)?;
    let path = ctx.recipients_path()?;
    let (members, text) = read_members(&path, err)?;
    check_accepted(ctx, &text, &members)?;
    let parsed = recipients::parse_lenient(recipient, "RECIPIENT")?;
    if let Some((_, reason)) = parsed.skipped.first() {
        return Err(UserError::new(format!(
            "cannot add {}: {reason}",
            recipients::short(recipient.trim())
        ))
        .hint("age supports age1... keys and ssh-ed25519 and ssh-rsa public keys"));
    }
    let mut new = parsed.members;
    let Some(mut member) = new.pop().filter(|_| new.is_empty()) else {
        return Err(UserError::new("give exactly one recipient"));
    };
    if let Some(label) = label {
        if label.chars().any(char::is_control) {
            return Err(UserError::new("the name must be one line of text"));
        }
        member.label = Some(label.trim().to_owned());
    }
    if members.iter().any(|m| m.key == member.key) {
        return Err(UserError::new(format!(
            "{} is already a member",
            member.describe()
        )));
    }
    let new_text = recipients::with_member(&text, &member);
    let members = new_members(&path, &new_text, members.len() + 1)?;
    commit(ctx, &open, Some((&members, &new_text)), force, err)?;
    write_text(&path, &new_text)?;
    let _ = writeln!(
        err,
        "teamotp: added {}; the vault is now encrypted to {} recipients",
        member.describe(),
        members.len()
    );
    Ok(())
}

/// The members of the recipients file teamotp is about to write: the vault is encrypted to exactly what
/// that text says (and the pin records it), so it is parsed again rather than assumed.
fn new_members(path: &Path, text: &str, count: usize) -> Result<Vec<Member>, UserError> {
    let members = recipients::parse(text, &path.display().to_string())?.members;
    if members.len() != count {
        return Err(UserError::new(format!(
            "the new '{}' would list {} recipients, not {count}; nothing was changed",
            path.display(),
            members.len()
        )));
    }
    Ok(members)
}

/// `teamotp members rm NAME-OR-KEY`: removes the key, re-encrypts, and says what to re-enrol.
pub fn members_rm(
    ctx: &Context,
    who: &str,
    yes: bool,
    force: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let mut open = open(ctx, err)?;
    // The backup must not open with the removed member's key either.
    open.reencrypt_backup = true;
    refuse_passphrase(&open)?;
    let path = ctx.recipients_path()?;
    let (members, text) = read_members(&path, err)?;
    check_accepted(ctx, &text, &members)?;
    let matches: Vec<&Member> = members
        .iter()
        .filter(|m| {
            m.key == who
                || m.key.split_whitespace().nth(1) == Some(who)
                || m.label
                    .as_deref()
                    .is_some_and(|l| l.eq_ignore_ascii_case(who))
        })
        .collect();
    let member = match matches.as_slice() {
        [one] => (*one).clone(),
        [] => {
            return Err(
                UserError::new(format!("no member is '{}'", printable(who))).hint(
                    "'teamotp members' lists them: give the name in its comment, or the whole key",
                ),
            );
        }
        several => {
            return Err(UserError::new(format!(
                "'{}' names {} members: {}",
                printable(who),
                several.len(),
                several
                    .iter()
                    .map(|m| m.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .hint("give the whole key"));
        }
    };
    if members.len() == 1 {
        return Err(UserError::new(format!(
            "{} is the last recipient; a vault without recipients could not be opened by anyone",
            member.describe()
        )));
    }
    if !confirm(
        &format!("Remove {} from the vault's recipients?", member.describe()),
        yes,
    )? {
        let _ = writeln!(err, "teamotp: nothing removed");
        return Ok(());
    }
    let new_text = recipients::without_member(&text, &member);
    let remaining = new_members(&path, &new_text, members.len() - 1)?;
    if remaining.iter().any(|m| m.key == member.key) {
        return Err(UserError::new(format!(
            "cannot remove {} from '{}'; nothing was changed",
            member.describe(),
            path.display()
        )));
    }
    commit(ctx, &open, Some((&remaining, &new_text)), force, err)?;
    write_text(&path, &new_text)?;
    let _ = writeln!(err, "teamotp: removed {}", member.describe());
    let _ = writeln!(
        err,
        "teamotp: {}.bak, the previous version, is re-encrypted to the remaining recipients too",
        open.path.display()
    );
    let _ = writeln!(
        err,
        "teamotp: warning: removal is not retroactive: they may keep old copies of the vault \
         (git history, the shared drive, backups) and every secret in them"
    );
    let names = open.document.names();
    if !names.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: hint: re-enrol these accounts (new secret at each service, then 'teamotp edit NAME --secret'):"
        );
        for name in names {
            let _ = writeln!(err, "    {}", printable(&name));
        }
    }
    Ok(())
}

/// `teamotp members ack [--yes | --expect FINGERPRINT]`: shows the recipients (all of them when this
/// machine accepted none yet, else how the file changed) and the file's fingerprint, and accepts them: on
/// the terminal, with `--yes`, or with `--expect` only when the fingerprint is the one given.
pub fn members_ack(
    ctx: &Context,
    yes: bool,
    expect: Option<&str>,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = ctx.vault_path()?.to_owned();
    let (members, text) = read_members(&ctx.recipients_path()?, err)?;
    let expected = match expect {
        Some(given) => Some(pin::parse_fingerprint(given).ok_or_else(|| {
            UserError::new(format!("'{}' is not a fingerprint", printable(given))).hint(
                "give the recipients file fingerprint a review shows: SHA256: and 64 hex digits",
            )
        })?),
        None => None,
    };
    let actual = pin::fingerprint(text.as_bytes());
    let mismatch = |given: &str| {
        UserError::new(format!(
            "the recipients file's fingerprint is {actual}, not '{}'; nothing was accepted",
            printable(given)
        ))
        .hint("someone may have changed the file since the fingerprint was taken: compare the keys above")
    };
    let matches = expected
        .as_deref()
        .is_none_or(|hex| actual.strip_prefix("SHA256:") == Some(hex));
    let pin_path = pin_path(ctx, &vault)?;
    let pinned = read_pin(&pin_path, &vault)?;
    let (title, lines) = match &pinned {
        None => (
            format!(
                "the recipients of '{}' (none accepted on this machine yet):",
                vault.display()
            ),
            listing(&members),
        ),
        Some(pinned) => {
            let changes = pin::review(pinned, text.as_bytes(), &members)
                .map_err(|reason| unusable_pin(&pin_path, &vault, &reason))?;
            if changes.is_empty() {
                if !matches {
                    return Err(mismatch(expect.unwrap_or_default()));
                }
                if matches!(pinned, pin::Pinned::Keys(_)) {
                    // A keys-only pin of the same keys: now the exact file.
                    record_pin(ctx, &text, err);
                }
                let _ = writeln!(
                    err,
                    "teamotp: the recipients are unchanged; nothing to accept"
                );
                return Ok(());
            }
            (
                "the recipients file changed since your last write:".to_owned(),
                changes,
            )
        }
    };
    let _ = writeln!(err, "teamotp: {title}\n{}", review_block(&lines, &text));
    let _ = writeln!(err, "teamotp: hint: {LABELS_HINT}");
    if expected.is_some() {
        if !matches {
            return Err(mismatch(expect.unwrap_or_default()));
        }
    } else if !confirm("Accept these recipients?", yes)? {
        let _ = writeln!(err, "teamotp: nothing accepted");
        return Ok(());
    }
    pin::record(&pin_path, &vault, text.as_bytes())
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", pin_path.display())))?;
    let _ = writeln!(
        err,
        "teamotp: accepted; the next write encrypts to these {} recipients (or run 'teamotp rekey' now)",
        members.len()
    );
    Ok(())
}

/// `teamotp rekey`: re-encrypts the vault to the current recipients file.
pub fn rekey(ctx: &Context, force: bool, err: &mut dyn Write) -> Result<(), UserError> {
    let mut open = open(ctx, err)?;
    open.reencrypt_backup = true;
    let members = commit(ctx, &open, None, force, err)?;
    if members.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: re-encrypted {} with its passphrase",
            open.path.display()
        );
    } else {
        let _ = writeln!(
            err,
            "teamotp: re-encrypted {} to {} recipient{}",
            open.path.display(),
            members.len(),
            if members.len() == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// Writes a small non-secret text file atomically (the recipients file), through the one writer.
fn write_text(path: &Path, text: &str) -> Result<(), UserError> {
    // Public keys only, but nobody else may change who the vault is encrypted to: 0644 whatever the umask.
    crate::files::replace(path, text.as_bytes(), 0o644)
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", path.display())))
}
