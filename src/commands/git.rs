//! Living in git: `git-setup` (attributes and driver config), `textconv` (what `git diff` shows: names and
//! parameters and a fingerprint of each secret, never a secret), and `merge-driver` (a three-way merge by
//! account name, written back encrypted).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::write::{self, Context};
use crate::error::UserError;
use crate::output::printable;
use crate::vault::document::Document;
use crate::vault::load;
use crate::vault::store::{self, Check, Protection, Request};
use crate::vault::{self, Source, decrypt, identity};

/// The attributes line `git-setup` writes.
pub const ATTRIBUTES: &str = "*.age diff=teamotp merge=teamotp";

/// The lines `git-setup` adds to `.gitignore`: the vault's backup and its lock file.
pub const IGNORED: [&str; 2] = ["*.age.bak", "*.age.lock"];

/// The work tree git named, as a real directory: absolute, no symbolic link anywhere in it (git prints
/// the resolved path; anything else is refused rather than written through).
fn work_tree(top: &Path) -> Result<PathBuf, UserError> {
    let odd = |why: &str| {
        UserError::new(format!(
            "the repository's work tree '{}' {why}",
            printable(&top.display().to_string())
        ))
        .hint("run git-setup in a plain clone of the repository")
    };
    let real = std::fs::canonicalize(top).map_err(|e| odd(&format!("cannot be resolved: {e}")))?;
    if real != top || !real.is_dir() {
        return Err(odd(
            "is not a plain directory (it is reached through a symbolic link)",
        ));
    }
    Ok(real)
}

/// The text of `path` when it is a regular file (empty when it does not exist). A symbolic link (even
/// one inside the repository), a directory or any other kind of file is refused: git-setup writes only
/// regular files, and a committed link would make it write wherever the link points.
fn read_regular(path: &Path) -> Result<String, UserError> {
    let shown = path.display();
    let bytes = match crate::files::read_no_follow(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            // "it is a symbolic link" / "it is a directory, not a regular file"
            let what = e.to_string();
            let what = what.strip_prefix("it is ").unwrap_or(&what);
            return Err(UserError::new(format!(
                "'{shown}' is {what}: git-setup writes only regular files inside the repository"
            ))
            .hint("replace it with a regular file holding the lines you want, then run git-setup again"));
        }
        Err(e) => return Err(UserError::new(format!("cannot read '{shown}': {e}"))),
    };
    String::from_utf8(bytes.to_vec())
        .map_err(|_| UserError::new(format!("cannot read '{shown}': it is not UTF-8 text")))
}

/// Writes a file of the repository in place, never through a link.
fn write_regular(path: &Path, text: &str) -> Result<(), UserError> {
    crate::files::replace_no_follow(path, text.as_bytes(), 0o644)
        .map_err(|e| UserError::new(format!("cannot write '{}': {e}", path.display())))
}

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
    let top = work_tree(&top)?;
    // Both files are checked before either is written: a committed symlink (or a directory, a FIFO) in
    // their place is refused, so git-setup writes only regular files inside the work tree.
    let attributes = top.join(".gitattributes");
    let existing = read_regular(&attributes)?;
    let ignore = top.join(".gitignore");
    let ignored = read_regular(&ignore)?;
    let routed = existing.lines().any(|l| l.trim() == ATTRIBUTES);
    if routed {
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
        write_regular(&attributes, &text)?;
        let _ = writeln!(
            err,
            "teamotp: wrote '{ATTRIBUTES}' to {}",
            attributes.display()
        );
    }
    // Backups and lock files are for the machine that wrote them; committing backups would keep every
    // old version.
    let missing: Vec<&str> = IGNORED
        .into_iter()
        .filter(|line| !ignored.lines().any(|l| l.trim() == *line))
        .collect();
    if !missing.is_empty() {
        let mut text = ignored;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in &missing {
            text.push_str(line);
            text.push('\n');
        }
        write_regular(&ignore, &text)?;
        let _ = writeln!(
            err,
            "teamotp: added '{}' to {}",
            missing.join("' and '"),
            ignore.display()
        );
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
    // A clone whose .gitattributes is committed and already routes *.age has nothing to commit.
    let committed = routed
        && git(&top, &["diff", "--quiet", "HEAD", "--", ".gitattributes"]).is_ok()
        && git(&top, &["ls-files", "--error-unmatch", ".gitattributes"]).is_ok();
    let _ = writeln!(
        err,
        "teamotp: configured the diff and merge drivers in {} (they use your usual identity and the \
         teamotp on PATH){}",
        top.display(),
        if committed {
            ""
        } else {
            "; commit .gitattributes so your teammates get the attributes too"
        }
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

/// `teamotp textconv FILE` (`-`: standard input): one line per account, never a secret.
pub fn textconv(
    ctx: &Context,
    file: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let vault = if file == Path::new("-") {
        // `git show :3:vault.csv.age | teamotp textconv -`: a version git holds, not a file on disk.
        let raw = crate::files::read_limited(std::io::stdin().lock(), crate::files::READ_LIMIT)
            .map_err(|e| UserError::new(format!("cannot read standard input: {e}")))?;
        let label = "standard input".to_owned();
        let plain = load::open(
            &raw,
            label.clone(),
            || identity::load(&identity::paths(ctx.identities, ctx.env)),
            || load::ask_passphrase(&label),
            ctx.env,
        )?;
        load::parse(&plain)?
    } else {
        load::load(&Source::File(file.to_owned()), ctx.identities, ctx.env, err)?
    };
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
            Err(reason) if row.name().is_empty() => {
                format!("(line {}) | invalid: {reason}", row.line)
            }
            Err(reason) => format!("{} | invalid: {reason}", printable(row.name())),
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
    let base_bytes = read(base)?;
    let their_bytes = read(theirs)?;
    let vault_path = path.map_or_else(|| ours.to_owned(), Path::to_path_buf);
    refuse_plaintext(
        &vault_path,
        [
            ("the base", base, &base_bytes),
            ("our", ours, &our_bytes),
            ("their", theirs, &their_bytes),
        ],
    )?;
    let label = ours.display().to_string();
    let our_plain = load::open(
        &our_bytes,
        label.clone(),
        || identity::load(&identity::paths(ctx.identities, ctx.env)),
        || load::ask_passphrase(&label),
        ctx.env,
    )?;
    let our_doc = document(ours, &our_plain.bytes)?;
    let other = |file: &Path, bytes: &[u8]| -> Result<Document, UserError> {
        if bytes.is_empty() {
            return Ok(Document::new());
        }
        if !decrypt::is_age(bytes) {
            return document(file, bytes);
        }
        let plain = decrypt::decrypt(bytes, &our_plain.identities.list, || {
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
    let base_doc = other(base, &base_bytes)?;
    let their_doc = other(theirs, &their_bytes)?;
    let (merged, conflicts) = Document::merge(&base_doc, &our_doc, &their_doc);

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
            let members = write::read_members(&team_ctx.recipients_path()?, err)?.0;
            write::check_pin(&team_ctx, &members)?;
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
    if conflicts.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: merged {} by account (name, or secret across a rename)",
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
        "teamotp: hint: fix them with 'teamotp edit' (their version: git show :3:{} | teamotp textconv -), \
         then git add and commit",
        printable(&vault_path.display().to_string())
    );
    Ok(1)
}

/// When any version of the vault is age-encrypted, every non-empty version must be: a plaintext one (team
/// CSV or gauth lines committed on a branch) is refused with exit 1, a conflict that leaves OURS as it
/// was. Merging it would copy secrets that sit in the clear in git history into the team vault, and would
/// re-encrypt accounts a teammate planted as if they were the team's. Nothing is decrypted before this.
fn refuse_plaintext(vault: &Path, versions: [(&str, &Path, &[u8]); 3]) -> Result<(), UserError> {
    let present = || versions.iter().filter(|(_, _, bytes)| !bytes.is_empty());
    if !present().any(|(_, _, bytes)| decrypt::is_age(bytes)) {
        return Ok(());
    }
    let plain: Vec<String> = present()
        .filter(|(_, _, bytes)| !decrypt::is_age(bytes))
        .map(|(word, file, _)| {
            format!(
                "{word} version ('{}')",
                printable(&file.display().to_string())
            )
        })
        .collect();
    if plain.is_empty() {
        return Ok(());
    }
    Err(UserError::new(format!(
        "refusing to merge {}: {} {} not encrypted, but the vault is (a plaintext vault on a branch \
         carries its secrets in the clear, and merging it would re-encrypt planted accounts as if they \
         were the team's); ours is kept as it was",
        printable(&vault.display().to_string()),
        plain.join(" and "),
        if plain.len() == 1 { "is" } else { "are" },
    ))
    .hint(format!(
        "see who committed it: git log -p --textconv -- '{}'; if the plaintext is wanted, encrypt it on \
         its branch with 'teamotp encrypt' and merge again",
        printable(&vault.display().to_string())
    ))
    .code(1))
}
