//! The write path every write command shares: [`Context`] (what a command needs from the command line),
//! [`open`] (lock, read, parse for editing), the recipients file and its pin checks, and [`commit`]: the pin
//! check, then `store::save` (encrypt, check, lost-update check, backup, rename). Also the prompts the write
//! commands share (`read_secret`, `confirm`). It asks on the terminal, so it is shell, not core.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::account::Account;
use crate::age::decrypt;
use crate::age::recipients::{self, Member};
use crate::env::Env;
use crate::error::UserError;
use crate::trust::pin;
use crate::vault::document::Document;
use crate::vault::store::{self, Check, Protection, Request};
use crate::vault::{self, Plaintext, Source, load};
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
    pub(crate) fn vault_path(&self) -> Result<&Path, UserError> {
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

    /// The next file: the recipients file's path with `.next` appended (`.age-recipients.next`).
    pub(crate) fn next_path(&self) -> Result<PathBuf, UserError> {
        let mut path = self.recipients_path()?.into_os_string();
        path.push(".next");
        Ok(path.into())
    }
}

/// The next file (post-quantum keys registered ahead of `rekey --post-quantum`): its members, the key each
/// replaces (a `# replaces: KEY` comment), its exact text.
pub(crate) struct Next {
    pub(crate) members: Vec<Member>,
    pub(crate) replaces: Vec<Option<String>>,
    pub(crate) text: String,
}

impl Next {
    /// The entry that takes over `member`'s access at the switch: the same key carried over, or the key
    /// whose `# replaces:` names it.
    pub(crate) fn successor(&self, member: &Member) -> Option<&Member> {
        self.members.iter().zip(&self.replaces).find_map(|(m, r)| {
            (m.key == member.key || r.as_deref() == Some(member.key.as_str())).then_some(m)
        })
    }
}

/// Reads the next file; None when there is none. Every key in it must be post-quantum.
pub(crate) fn read_next(path: &Path) -> Result<Option<Next>, UserError> {
    let shown = path.display().to_string();
    crate::files::refuse_committed_links(path)
        .map_err(|e| UserError::new(format!("cannot read '{shown}': {e}")))?;
    let text = match crate::files::read_to_string(path) {
        Ok(text) => text.to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(UserError::new(format!("cannot read '{shown}': {e}"))),
    };
    let parsed = recipients::parse(&text, &shown)?;
    if let Some(classic) = parsed
        .members
        .iter()
        .find(|m| m.kind().post_quantum() == Some(false))
    {
        return Err(UserError::new(format!(
            "{shown}:{}: {} is a classic ({}) key; the next file holds only post-quantum keys",
            classic.line,
            classic.describe(),
            classic.kind().name()
        ))
        .hint("remove the line; a post-quantum key is age1pq1... (teamotp keygen --pq) or age1tagpq1..."));
    }
    Ok(Some(Next {
        members: parsed.members,
        replaces: parsed.replaces,
        text,
    }))
}

/// The whole pin of the vault (None when there is none).
pub(crate) fn read_whole_pin(ctx: &Context) -> Result<Option<pin::Pin>, UserError> {
    let vault = ctx.vault_path()?;
    let pin_path = pin_path(ctx, vault)?;
    pin::read_pin(&pin_path).map_err(|reason| unusable_pin(&pin_path, vault, &reason))
}

/// Stops unless this machine accepted exactly this next file (`teamotp members ack --next`).
pub(crate) fn check_next_accepted(ctx: &Context, next: &Next) -> Result<(), UserError> {
    let vault = ctx.vault_path()?;
    let shown = ctx.next_path()?.display().to_string();
    let pinned = read_whole_pin(ctx)?.and_then(|p| p.next);
    let pin_path = pin_path(ctx, vault)?;
    let changes = match &pinned {
        None => listing(&next.members),
        Some(bytes) => pin::review(
            &pin::Pinned::Exact(bytes.clone()),
            next.text.as_bytes(),
            &next.members,
        )
        .map_err(|reason| unusable_pin(&pin_path, vault, &reason))?,
    };
    if changes.is_empty() {
        return Ok(());
    }
    let what = match pinned {
        None => "this machine has not accepted",
        Some(_) => "this machine accepted another version of",
    };
    Err(UserError::new(format!(
        "{what} '{shown}', the keys '{}' will be encrypted to after the switch:\n{}",
        vault.display(),
        review_block(&changes, &next.text)
    ))
    .hint(LABELS_HINT)
    .hint("if these are your team's post-quantum keys, accept them: teamotp members ack --next"))
}

/// Says that the vault was downgraded from post-quantum to classic keys, and when (from the pin).
pub(crate) fn warn_downgraded(ctx: &Context, err: &mut dyn Write) {
    let Ok(Some(pin)) = read_whole_pin(ctx) else {
        return;
    };
    if let (Some(date), Ok(vault)) = (pin.downgraded, ctx.vault_path()) {
        let _ = writeln!(
            err,
            "teamotp: warning: '{}' was downgraded from post-quantum to classic keys on {} (recorded \
             in this machine's pin); 'teamotp rekey --post-quantum' switches back",
            vault.display(),
            crate::time::date(date)
        );
    }
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

/// A vault opened for editing.
pub(crate) struct Open {
    pub(crate) path: PathBuf,
    pub(crate) plain: Plaintext,
    pub(crate) document: Document,
    pub(crate) parsed: vault::format::Parsed,
    /// `VAULT.bak` gets the old version encrypted to the new recipients (`members rm`, `rekey`).
    pub(crate) reencrypt_backup: bool,
    /// Held until the write is done (dropped with `Open`).
    _lock: crate::files::Lock,
}

/// A vault locked for editing, not read yet: what needs no key (the recipients, the pin, a y/N question)
/// is checked here, before any passphrase is asked.
pub(crate) struct Locked {
    path: PathBuf,
    /// The vault is encrypted with a passphrase (it has no recipients).
    pub(crate) passphrase: bool,
    lock: crate::files::Lock,
}

/// Locks the vault and, for a vault encrypted to recipients whose recipients file exists, checks that
/// this machine accepted that file (the pin) before anything is decrypted.
pub(crate) fn lock(ctx: &Context, err: &mut dyn Write) -> Result<Locked, UserError> {
    let path = ctx.vault_path()?.to_owned();
    let lock = store::lock(&path, ctx.env, ctx.now, err)?;
    let raw = crate::files::read(&path).ok();
    let age = raw.as_deref().filter(|raw| decrypt::is_age(raw));
    let passphrase = age.is_some_and(|raw| decrypt::is_scrypt(raw).unwrap_or(false));
    if age.is_some() && !passphrase {
        // A missing or unreadable recipients file is reported by the write itself, as before.
        if let Ok((members, text)) = read_members(&ctx.recipients_path()?, &mut std::io::sink()) {
            check_accepted(ctx, &text, &members)?;
        }
    }
    Ok(Locked {
        path,
        passphrase,
        lock,
    })
}

/// Locks the vault, then reads and parses it for editing.
pub(crate) fn open(ctx: &Context, err: &mut dyn Write) -> Result<Open, UserError> {
    lock(ctx, err)?.read(ctx, err)
}

impl Locked {
    /// Reads (decrypts) and parses the locked vault for editing; the lock passes to `Open`.
    pub(crate) fn read(self, ctx: &Context, err: &mut dyn Write) -> Result<Open, UserError> {
        read_locked(self.path, self.lock, ctx, err)
    }
}

fn read_locked(
    path: PathBuf,
    lock: crate::files::Lock,
    ctx: &Context,
    err: &mut dyn Write,
) -> Result<Open, UserError> {
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
    let parsed = vault::format::parse(&plain.bytes)
        .map_err(|e| UserError::new(format!("{}: {e}", plain.label)))?;
    if parsed.format == vault::format::Format::Gauth && parsed.invalid().next().is_some() {
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
pub(crate) fn read_recipients(
    path: &Path,
    empty_hint: &str,
    lenient: bool,
    err: &mut dyn Write,
) -> Result<(Vec<Member>, String), UserError> {
    let shown = path.display().to_string();
    // The recipients are what every secret is encrypted to and what a review shows: never read through
    // a link committed in the repository (it could point at ~/.ssh/authorized_keys).
    crate::files::refuse_committed_links(path)
        .map_err(|e| UserError::new(format!("cannot read the recipients file '{shown}': {e}")))?;
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
pub(crate) const LABELS_HINT: &str = "only the keys are authenticated: labels are comments anyone with write \
                           access can change; compare the keys";

/// A review: its lines indented, then the recipients file's fingerprint (what `--expect` takes).
pub(crate) fn review_block(lines: &[String], text: &str) -> String {
    let mut block: String = lines.iter().map(|l| format!("    {l}\n")).collect();
    block.push_str(&format!(
        "    recipients file fingerprint: {}",
        pin::fingerprint(text.as_bytes())
    ));
    block
}

/// Every member in full, one a line, as a review lists them when nothing was accepted yet.
pub(crate) fn listing(members: &[Member]) -> Vec<String> {
    members.iter().map(Member::entry).collect()
}

/// The pin file of `vault`; an error when there is no state directory to keep it in.
pub(crate) fn pin_path(ctx: &Context, vault: &Path) -> Result<PathBuf, UserError> {
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
pub(crate) fn read_pin(pin_path: &Path, vault: &Path) -> Result<Option<pin::Pinned>, UserError> {
    pin::read(pin_path).map_err(|reason| unusable_pin(pin_path, vault, &reason))
}

pub(crate) fn unusable_pin(pin_path: &Path, vault: &Path, reason: &str) -> UserError {
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
pub(crate) fn check_accepted(
    ctx: &Context,
    text: &str,
    members: &[Member],
) -> Result<(), UserError> {
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

/// Records `text` (the recipients file's exact bytes) as accepted for the vault; a failure is a warning
/// (the next write then asks for `members ack` again).
pub(crate) fn record_pin(ctx: &Context, text: &str, err: &mut dyn Write) {
    let Ok(vault) = ctx.vault_path() else {
        return;
    };
    let mut first = false;
    let result = match pin::path(ctx.env, vault) {
        Some(pin_path) => {
            first = matches!(pin::read(&pin_path), Ok(None));
            pin::record(&pin_path, vault, text.as_bytes()).map_err(|e| {
                format!(
                    "cannot write the recipients pin '{}': {e}",
                    pin_path.display()
                )
            })
        }
        None => Err("there is no state directory to keep the recipients pin in".to_owned()),
    };
    if first && result.is_ok() {
        // Pinning is silent afterwards: say once that it started.
        let _ = writeln!(
            err,
            "teamotp: this machine now trusts these recipients of {} (pinned: a change to the \
             recipients file is shown for 'teamotp members ack' before the next write)",
            vault.display()
        );
    }
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
        Some((members, text)) => {
            // The caller writes the recipients file after the vault: it is checked first, so that a
            // refusal (a link, a directory in its place) changes neither file.
            check_target(&ctx.recipients_path()?)?;
            (members.to_vec(), text.to_owned())
        }
        None => {
            let (members, text) = read_members(&ctx.recipients_path()?, err)?;
            check_accepted(ctx, &text, &members)?;
            (members, text)
        }
    };
    warn_downgraded(ctx, err);
    let downgrade = is_post_quantum(&open.path)
        && members
            .iter()
            .any(|m| m.kind().post_quantum() == Some(false));
    if downgrade {
        if !force {
            return Err(UserError::new(format!(
                "'{}' is encrypted to post-quantum keys only; this write would DOWNGRADE it to classic \
                 keys; nothing was written",
                open.path.display()
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
            open.path.display()
        );
    }
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
    if downgrade {
        record_downgrade(ctx, &text, err);
    }
    Ok(members)
}

/// Records in the pin that the vault was downgraded now (a failure is a warning).
fn record_downgrade(ctx: &Context, text: &str, err: &mut dyn Write) {
    let Ok(vault) = ctx.vault_path() else {
        return;
    };
    let Ok(pin_path) = pin_path(ctx, vault) else {
        return;
    };
    let next = read_whole_pin(ctx).ok().flatten().and_then(|p| p.next);
    if let Err(e) = pin::record_with(
        &pin_path,
        vault,
        text.as_bytes(),
        next.as_deref(),
        Some(ctx.now),
    ) {
        let _ = writeln!(
            err,
            "teamotp: warning: cannot record the downgrade in '{}': {e}",
            pin_path.display()
        );
    }
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

pub(crate) fn show(account: &Account, now: u64) -> String {
    let window = totp::window(account, now);
    format!(
        "its current code is {} ({} s left): check that the service accepts it",
        crate::tui::ui::group(&window.curr),
        window.remaining
    )
}

/// Checks that `path` can be written by [`write_text`] (no committed link, no link someone else owns,
/// nothing but a regular file in its place) before a multi-file write writes anything.
pub(crate) fn check_target(path: &Path) -> Result<(), UserError> {
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
pub(crate) fn write_text(path: &Path, text: &str) -> Result<(), UserError> {
    // Public keys only, but nobody else may change who the vault is encrypted to: 0644 whatever the umask.
    crate::files::replace(path, text.as_bytes(), 0o644)
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", path.display())))
}
