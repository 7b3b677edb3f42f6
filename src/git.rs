//! Living in git: `git-setup` (attributes and driver config), `textconv` (what `git diff` shows: names and
//! parameters and a fingerprint of each secret, never a secret), and `merge-driver` (a three-way merge by
//! account name, written back encrypted).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::UserError;
use crate::output::printable;
use crate::team::{self, Context};
use crate::vault::document::Document;
use crate::vault::load;
use crate::vault::store::{self, Check, Protection, Request};
use crate::vault::{self, Source, decrypt, identity, pin};

/// The attributes line `git-setup` writes.
pub const ATTRIBUTES: &str = "*.age diff=teamotp merge=teamotp";

fn git(dir: &Path, args: &[&str]) -> Result<String, UserError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| UserError::new(format!("cannot run git: {e}")).hint("install git"))?;
    if !output.status.success() {
        return Err(UserError::new(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `teamotp git-setup`: `.gitattributes` and the local config of the diff and merge drivers, in the
/// repository that holds the vault. Safe to run twice.
pub fn setup(ctx: &Context, err: &mut dyn Write) -> Result<(), UserError> {
    let vault = match &ctx.source {
        Source::File(path) => path.clone(),
        Source::Demo => return Err(UserError::new("the demo vault is not in a git repository")),
    };
    let dir = vault
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let top = PathBuf::from(git(&dir, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        UserError::new(format!("'{}' is not in a git repository", vault.display())).hint(e.message)
    })?);
    let attributes = top.join(".gitattributes");
    let existing = std::fs::read_to_string(&attributes).unwrap_or_default();
    if existing.lines().any(|l| l.trim() == ATTRIBUTES) {
        let _ = writeln!(
            err,
            "teamotp: {} already routes *.age to teamotp",
            attributes.display()
        );
    } else {
        let mut text = existing;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(ATTRIBUTES);
        text.push('\n');
        std::fs::write(&attributes, text)
            .map_err(|e| UserError::new(format!("cannot write '{}': {e}", attributes.display())))?;
        let _ = writeln!(
            err,
            "teamotp: wrote '{ATTRIBUTES}' to {}",
            attributes.display()
        );
    }
    // Backups are for the machine that wrote them; committing them would keep every old version.
    let ignore = top.join(".gitignore");
    let ignored = std::fs::read_to_string(&ignore).unwrap_or_default();
    if !ignored.lines().any(|l| l.trim() == "*.age.bak") {
        let mut text = ignored;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("*.age.bak\n");
        std::fs::write(&ignore, text)
            .map_err(|e| UserError::new(format!("cannot write '{}': {e}", ignore.display())))?;
        let _ = writeln!(err, "teamotp: added '*.age.bak' to {}", ignore.display());
    }
    for (key, value) in [
        ("diff.teamotp.textconv", "teamotp textconv"),
        ("diff.teamotp.cachetextconv", "false"),
        (
            "merge.teamotp.name",
            "teamotp vault merge (by account name)",
        ),
        ("merge.teamotp.driver", "teamotp merge-driver %O %A %B %P"),
    ] {
        git(&top, &["config", "--local", key, value])?;
    }
    let _ = writeln!(
        err,
        "teamotp: configured the diff and merge drivers in {} (they use your usual identity and the \
         teamotp on PATH); commit .gitattributes so your teammates get the attributes too",
        top.display()
    );
    Ok(())
}

/// A short fingerprint of a secret: changes when the secret changes, reveals nothing usable about it.
pub fn fingerprint(secret: &crate::secret::Secret) -> String {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    digest.update(b"teamotp secret fingerprint\0");
    digest.update(secret.expose());
    digest.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `teamotp textconv FILE`: one line per account, never a secret.
pub fn textconv(
    ctx: &Context,
    file: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = load::load(&Source::File(file.to_owned()), ctx.identities, ctx.env, err)?;
    for row in &vault.parsed.rows {
        let line = match &row.entry {
            Ok(a) => {
                let p = a.params;
                format!(
                    "{} | issuer: {} | {} | {} digits | {} s | {} | secret {}",
                    printable(&a.name),
                    a.issuer.as_deref().map_or("-".into(), printable),
                    p.kind.as_str(),
                    p.code_len(),
                    p.period,
                    p.algorithm,
                    fingerprint(&a.secret)
                )
            }
            Err(reason) if row.name.is_empty() => {
                format!("(line {}) | invalid: {reason}", row.line)
            }
            Err(reason) => format!("{} | invalid: {reason}", printable(&row.name)),
        };
        // The whole line: a reason quotes the bad value too. This goes into `git log -p` on a terminal.
        crate::error::write_data(out, format!("{}\n", printable(&line)).as_bytes())?;
    }
    Ok(())
}

/// `teamotp merge-driver BASE OURS THEIRS [PATH]`: git's `%O %A %B %P`. Writes the merge into OURS,
/// encrypted to the recipients file; exit 0, or 1 when an account changed differently on both sides
/// (ours is kept and the conflicts are listed).
pub fn merge_driver(
    ctx: &Context,
    base: &Path,
    ours: &Path,
    theirs: &Path,
    path: Option<&Path>,
    err: &mut dyn Write,
) -> Result<u8, UserError> {
    let read = |file: &Path| {
        crate::files::read(file)
            .map_err(|e| UserError::new(format!("cannot read '{}': {e}", file.display())))
    };
    let document = |file: &Path, bytes: &[u8]| -> Result<Document, UserError> {
        let parsed =
            vault::parse(bytes).map_err(|e| UserError::new(format!("{}: {e}", file.display())))?;
        Document::from_plaintext(bytes, &parsed)
            .map_err(|e| UserError::new(format!("{}: {e}", file.display())))
    };
    // Ours is opened first, through the usual path: its keys (identities loaded once, or the passphrase
    // asked once) then open the other two versions, so nothing is asked three times.
    let our_bytes = read(ours)?;
    if our_bytes.is_empty() {
        return Err(UserError::new("our version of the vault is empty"));
    }
    let label = ours.display().to_string();
    let our_plain = load::open(
        &our_bytes,
        label.clone(),
        || identity::load(&identity::paths(ctx.identities, ctx.env)),
        || load::ask_passphrase(&label),
        ctx.env,
    )?;
    let our_doc = document(ours, &our_plain.bytes)?;
    let other = |file: &Path| -> Result<Document, UserError> {
        let bytes = read(file)?;
        if bytes.is_empty() {
            return Ok(Document::new());
        }
        if !decrypt::is_age(&bytes) {
            return document(file, &bytes);
        }
        let plain = decrypt::decrypt(&bytes, &our_plain.identities.list, || {
            our_plain
                .passphrase
                .as_ref()
                .map(|p| age::secrecy::SecretString::from(p.as_str().to_owned()))
                .ok_or(decrypt::Failure::NoTerminal)
        })
        .map_err(|e| {
            load::failure(
                &file.display().to_string(),
                e,
                &our_plain.identities,
                ctx.env,
            )
        })?;
        document(file, &plain)
    };
    let base_doc = other(base)?;
    let their_doc = other(theirs)?;
    let (merged, conflicts) = Document::merge(&base_doc, &our_doc, &their_doc);

    let vault_path = path.map_or_else(|| ours.to_owned(), Path::to_path_buf);
    let team_ctx = Context {
        source: Source::File(vault_path.clone()),
        identities: ctx.identities,
        recipients_file: ctx.recipients_file,
        env: ctx.env,
        now: ctx.now,
    };
    let plaintext = merged.serialize();
    let members = match &our_plain.passphrase {
        Some(_) => Vec::new(),
        None => {
            let members = team::read_members(&team_ctx.recipients_path()?, err)?.0;
            team::check_pin(&team_ctx, &members)?;
            members
        }
    };
    let protection = match &our_plain.passphrase {
        Some(passphrase) => Protection::Passphrase(passphrase),
        None => Protection::Recipients(&members),
    };
    let check = match &our_plain.passphrase {
        Some(passphrase) => Check::Passphrase(passphrase),
        None => Check::Identities(&our_plain.identities),
    };
    store::save(&Request {
        path: ours,
        plaintext: &plaintext,
        protection,
        check,
        armored: our_plain.armored,
        expected_hash: Some(our_plain.file_hash),
        // git's OURS is a scratch file: a .bak of it would be noise.
        backup: store::Backup::None,
    })?;
    if let Some(pin_path) = pin::path(ctx.env, &vault_path).filter(|_| !members.is_empty()) {
        let _ = pin::write(&pin_path, &vault_path, &members);
    }
    if conflicts.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: merged {} by account name",
            vault_path.display()
        );
        return Ok(0);
    }
    let _ = writeln!(
        err,
        "teamotp: {} account{} changed differently on both sides; kept ours for:",
        conflicts.len(),
        if conflicts.len() == 1 { "" } else { "s" }
    );
    for name in &conflicts {
        let _ = writeln!(err, "    {}", printable(name));
    }
    let _ = writeln!(
        err,
        "teamotp: hint: fix them with 'teamotp edit' (their version: git show :3:{}), then git add and commit",
        vault_path.display()
    );
    Ok(1)
}
