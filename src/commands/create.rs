//! The commands that create a vault: `init` (empty) and `encrypt` (from a plaintext team CSV or gauth
//! file), with the new vault's protection: recipients (your own key by default) or a passphrase.

use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::ask::confirm;
use crate::age::identity::{self, Identities};
use crate::age::recipients::{self, Member};
use crate::error::UserError;
use crate::text::printable;
use crate::trust::members::{read_members, read_recipients};
use crate::trust::pin;
use crate::trust::review::{LABELS_HINT, listing, review_block};
use crate::tty;
use crate::vault::document::Document;
use crate::vault::transaction::{self, Context, NewProtection};
use crate::vault::{self, load};

/// How a new vault is protected: recipients from the command line, the recipients file, or the caller's
/// own identity (created when missing); or a passphrase asked twice.
pub struct NewVault<'a> {
    pub recipients: &'a [String],
    pub recipient_files: &'a [PathBuf],
    pub passphrase: bool,
    pub force: bool,
    /// Encrypt to an existing recipients file this machine has not accepted without asking.
    pub yes: bool,
    /// The label of the caller's own key (`--name`).
    pub name: Option<&'a str>,
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
    let identities = caller_identities(
        ctx,
        &mut members,
        options,
        existing_text.is_some().then_some(recipients_path.as_path()),
        err,
    )?;
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
/// was given, the caller's public key becomes the first. A recipient that is the caller's own key gets
/// the label it would get by default; recipients that leave the caller out are refused (unless
/// `--force`) with the caller's keys and the flag that adds them. `existing` is the recipients file the
/// members came from, if they did.
fn caller_identities(
    ctx: &Context,
    members: &mut Vec<Member>,
    options: &NewVault,
    existing: Option<&Path>,
    err: &mut dyn Write,
) -> Result<Identities, UserError> {
    let name = options.name;
    if name.is_some_and(|n| n.chars().any(char::is_control)) {
        return Err(UserError::new("the name must be one line of text"));
    }
    let mut paths = identity::paths(ctx.identities, ctx.env);
    let mut created = None;
    if paths.is_empty() {
        let path = identity::default_paths(ctx.env)
            .into_iter()
            .next()
            .ok_or_else(|| UserError::new("no home directory to create your identity in"))?;
        let key = super::keys::create_identity(&path, false)?;
        let _ = writeln!(
            err,
            "teamotp: created your identity at {} (keep it private, and back it up)",
            path.display()
        );
        let _ = writeln!(
            err,
            "teamotp: your public key (send it to your teammates): {key}"
        );
        paths.push(path.clone());
        created = Some((key, path));
    }
    // --name, else the SSH key's comment (who the key says it is), else the login name.
    let label = |comment: Option<String>| {
        name.map(|n| n.trim().to_owned()).or(comment).or_else(|| {
            ctx.env
                .var("USER")
                .map(|u| u.to_string_lossy().into_owned())
        })
    };
    if members.is_empty() {
        let (key, comment) = match created {
            Some((key, _)) => (key, None),
            None => public_key(&paths[0])?,
        };
        members.push(Member {
            key,
            label: label(comment),
            line: 0,
        });
        return identity::load(&paths);
    }
    // Your own keys, where they can be told without a passphrase (an encrypted identity file's cannot).
    let own = match created {
        Some((key, path)) => Some(vec![(key, None, path)]),
        None => own_keys(&paths),
    };
    let Some(own) = own else {
        return identity::load(&paths);
    };
    let mut included = false;
    for member in members.iter_mut() {
        if let Some((_, comment, _)) = own.iter().find(|(key, _, _)| *key == member.key) {
            included = true;
            if member.label.is_none() && existing.is_none() {
                member.label = label(comment.clone());
            }
        }
    }
    if !included && !options.force && !own.is_empty() {
        let mut error = UserError::new(
            "none of the recipients is your own key: you could not open the new vault (you would lock \
             yourself out); nothing was created",
        );
        for (key, _, path) in &own {
            error = match existing {
                None => error.hint(format!("add your key ({}) with -r '{key}'", path.display())),
                Some(file) => error.hint(format!(
                    "add your key ({}) as a line of '{}': {key}",
                    path.display(),
                    file.display()
                )),
            };
        }
        return Err(error.hint("or pass --force to create a vault only the recipients can open"));
    }
    identity::load(&paths)
}

/// Every public key of the identity files `paths`, with an SSH key's comment and the file; `None` when
/// one of them cannot be told without asking (an age-encrypted identity file) or at all.
fn own_keys(paths: &[PathBuf]) -> Option<Vec<(String, Option<String>, PathBuf)>> {
    let mut own = Vec::new();
    for path in paths {
        let head = crate::files::read(path).ok()?;
        let start = head.trim_ascii_start();
        if start.starts_with(b"age-encryption.org/")
            || start.starts_with(b"-----BEGIN AGE ENCRYPTED")
        {
            return None;
        }
        let (keys, _) = super::keys::public_keys(path).ok()?;
        for key in keys {
            let comment = comment_of(path, &key);
            own.push((key, comment, path.clone()));
        }
    }
    Some(own)
}

/// The public key of an identity file (its first key, as `whoami` tells it), with an SSH key's comment
/// from its `.pub` file (who the key says it is).
fn public_key(path: &Path) -> Result<(String, Option<String>), UserError> {
    let (keys, _) = super::keys::public_keys(path)?;
    let key = keys.into_iter().next().ok_or_else(|| {
        UserError::new(format!(
            "cannot tell the public key of '{}'",
            path.display()
        ))
        .hint("pass your public key with -r/--recipient (or put it beside the key as KEY.pub)")
    })?;
    let comment = comment_of(path, &key);
    Ok((key, comment))
}

/// The comment of `key` in the identity's `.pub` file beside it (who an SSH key says it is).
fn comment_of(path: &Path, key: &str) -> Option<String> {
    let pub_path = PathBuf::from(format!("{}.pub", path.display()));
    crate::files::read_to_string(&pub_path)
        .ok()
        .and_then(|text| recipients::parse(&text, &pub_path.display().to_string()).ok())
        .and_then(|parsed| parsed.members.into_iter().find(|m| m.key == key))
        .and_then(|m| m.label)
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

/// Writes a new vault holding `document` (see [`transaction::create`]); the protection is asked once
/// the vault is locked.
fn create(
    ctx: &Context,
    document: &Document,
    options: &NewVault,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    transaction::create(ctx, document, options.force, err, &mut |err| {
        new_protection(ctx, options, err)
    })
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
    if crate::age::decrypt::is_age(&bytes) {
        return Err(UserError::new(format!("'{shown}' is already encrypted")));
    }
    let parsed =
        vault::format::parse(&bytes).map_err(|e| UserError::new(format!("{shown}: {e}")))?;
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
