//! Living in git: `git-setup` (attributes and driver config), `textconv` (what `git diff` shows: names and
//! parameters and a fingerprint of each secret, never a secret), and `merge-driver` (a three-way merge by
//! account name, written back encrypted).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::age::identity;
use crate::error::UserError;
use crate::text::printable;
use crate::vault::transaction::Context;
use crate::vault::{Source, load};

/// The attributes line `git-setup` writes for vaults.
pub const ATTRIBUTES: &str = "*.age diff=teamotp merge=teamotp";

/// The attributes lines `git-setup` writes for the recipients files: merged by key with the same rule
/// as the vault's members (`commands::merge`).
pub const RECIPIENTS_ATTRIBUTES: [&str; 2] = [
    ".age-recipients merge=teamotp-recipients",
    ".age-recipients.next merge=teamotp-recipients",
];

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
    crate::git::text(dir, args).map(|text| text.trim().to_owned())
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
    let wanted: Vec<&str> = std::iter::once(ATTRIBUTES)
        .chain(RECIPIENTS_ATTRIBUTES)
        .collect();
    let absent: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|line| !existing.lines().any(|l| l.trim() == *line))
        .collect();
    let routed = absent.is_empty();
    if routed {
        let _ = writeln!(
            err,
            "teamotp: {} already routes *.age and the recipients files to teamotp",
            attributes.display()
        );
    } else {
        let mut text = existing;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        for line in &absent {
            text.push_str(line);
            text.push('\n');
        }
        write_regular(&attributes, &text)?;
        let _ = writeln!(
            err,
            "teamotp: wrote '{}' to {}",
            absent.join("' and '"),
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
        (
            "merge.teamotp-recipients.name",
            "teamotp recipients merge (by key)",
        ),
        (
            "merge.teamotp-recipients.driver",
            "teamotp merge-recipients %O %A %B %P",
        ),
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

/// `teamotp textconv FILE` (`-`: standard input): one line per account, never a secret. A version you
/// cannot open (encrypted before you joined, or to keys you do not hold) is one line saying so, exit 0, so
/// that `git log -p`, `git show` and `git diff` work over the whole history.
pub fn textconv(
    ctx: &Context,
    file: &Path,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<(), UserError> {
    let (raw, label) = if file == Path::new("-") {
        // `git show :3:vault.csv.age | teamotp textconv -`: a version git holds, not a file on disk.
        let raw = crate::files::read_limited(std::io::stdin().lock(), crate::files::READ_LIMIT)
            .map_err(|e| UserError::new(format!("cannot read standard input: {e}")))?;
        (raw, "standard input".to_owned())
    } else {
        let raw = crate::files::read(file)
            .map_err(|e| UserError::new(format!("cannot read '{}': {e}", file.display())))?;
        (raw, file.display().to_string())
    };
    let ask = label.clone();
    let Some(plain) = load::open_if_yours(
        &raw,
        label,
        || identity::load(&identity::paths(ctx.identities, ctx.env)),
        || load::ask_passphrase(&ask),
        ctx.env,
    )?
    else {
        return crate::error::write_data(out, foreign_line(&raw).as_bytes());
    };
    let vault = load::parse(&plain)?;
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

/// What `textconv` shows for a version none of your keys opens: how many recipients it has and a
/// fingerprint of the file, so that two such versions can still be told apart in a diff.
fn foreign_line(raw: &[u8]) -> String {
    use crate::trust::membership::{self, Recorded};
    let count = match membership::recorded(raw) {
        Recorded::Keys(record) => record.keys.len(),
        _ => crate::age::header::stanza_types(raw)
            .iter()
            .filter(|t| KNOWN_STANZAS.contains(&t.as_str()) || t.starts_with("piv-"))
            .count(),
    };
    let digest = crate::age::sha256(raw);
    format!(
        "(a version you cannot open: encrypted to {count} recipient{} without any key of yours, \
         probably before you joined; file SHA256:{})\n",
        if count == 1 { "" } else { "s" },
        data_encoding::HEXLOWER.encode(&digest[..8])
    )
}

/// The stanza types of recipients (age's grease stanzas and the record are not recipients).
const KNOWN_STANZAS: [&str; 7] = [
    "X25519",
    "ssh-ed25519",
    "ssh-rsa",
    crate::age::pq::STANZA_TAG,
    "p256tag",
    "mlkem768p256tag",
    "scrypt",
];
