//! Bringing accounts in and out: `import` (through the team-vault write path), `export` (plaintext, to
//! stdout only, only when asked twice), and `qr` (an account's otpauth URI as a QR code on the screen).

use std::io::{IsTerminal, Write};
use std::path::Path;

use zeroize::Zeroizing;

use super::ask::Terminal;
use super::read;
use crate::account::Account;
use crate::error::UserError;
use crate::import::{self, Entry, Format};
use crate::output::ExportFormat;
use crate::text::printable;
use crate::vault::document::Document;
use crate::vault::format::otpauth;
use crate::vault::transaction::{Context, Transaction};
use crate::{tty, vault};

/// What `import` does with a name the vault already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicates {
    /// Report and skip (the default).
    Skip,
    /// Import under a new name: `NAME (2)`, `NAME (3)`, ...
    Rename,
    /// Replace the vault's account.
    Replace,
}

/// One line describing an account, never its secret: `name (issuer) · SHA1 · 6 digits · 30 s`.
fn describe(account: &Account) -> String {
    let p = account.params;
    let kind = match p.kind {
        crate::account::Kind::Totp => format!("{} · {} digits", p.algorithm, p.digits),
        crate::account::Kind::Steam => "Steam".to_owned(),
    };
    // The issuer, unless the name already says it (`Mason (WWE)`, as a name made unique on import).
    let issuer = account
        .issuer
        .as_ref()
        .filter(|i| {
            !account
                .name
                .to_lowercase()
                .ends_with(&format!("({})", i.to_lowercase()))
        })
        .map(|i| format!(" ({})", printable(i)))
        .unwrap_or_default();
    format!(
        "{}{issuer} · {kind} · {} s",
        printable(&account.name),
        p.period
    )
}

/// Where `import` takes an encrypted export's password and a KeePass key file from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Secrets<'a> {
    /// `--password-file FILE`: the first line of the file (for scripts); otherwise asked on the terminal.
    pub password_file: Option<&'a Path>,
    /// `--key-file FILE`: a KeePass key file.
    pub key_file: Option<&'a Path>,
}

/// `teamotp import [--format F] FILE|-`.
pub fn import(
    ctx: &Context,
    file: &Path,
    format: Option<Format>,
    duplicates: Duplicates,
    secrets: Secrets,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let shown = if file == Path::new("-") {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    // An OPVault is a folder; everything else is one file (or standard input).
    let folder = file != Path::new("-") && file.is_dir();
    let (bytes, opvault) = if folder {
        (
            Zeroizing::new(Vec::new()),
            Some(read_opvault(file, &shown)?),
        )
    } else {
        (read_input(file, &shown)?, None)
    };
    let format = match &opvault {
        Some(_) => Format::Opvault,
        None => format.unwrap_or_else(|| import::detect(&bytes)),
    };
    let key_file = match secrets.key_file {
        Some(path) => Some(crate::files::read(path).map_err(|e| {
            UserError::new(format!("cannot read the key file {}: {e}", path.display()))
        })?),
        None => None,
    };
    let asked = std::cell::Cell::new(false);
    let mut password = |product: &str| -> Result<Zeroizing<String>, String> {
        asked.set(true);
        if let Some(path) = secrets.password_file {
            return password_from_file(path);
        }
        if !tty::available() {
            return Err(format!(
                "the file is encrypted ({product}) and there is no terminal to ask for its \
                 password (--password-file FILE reads it from a file)"
            ));
        }
        use age::secrecy::ExposeSecret;
        tty::prompt_hidden(&format!("Password for {shown} ({product}): "))
            .map(|p| Zeroizing::new(p.expose_secret().to_owned()))
            .map_err(|e| format!("cannot read from the terminal: {e}"))
    };
    let mut unlock = import::Unlock {
        password: &mut password,
        key_file: key_file.as_deref().map(|k| &k[..]),
    };
    let result = match &opvault {
        Some(folder) => import::read_folder(folder, &mut unlock),
        None => import::read(&bytes, format, &mut unlock),
    };
    let entries = result.map_err(|e| {
        let format_name = clap::ValueEnum::to_possible_value(&format)
            .map_or_else(String::new, |v| v.get_name().to_owned());
        let detail = if e.contains('\n') {
            format!(":\n    {}", e.replace('\n', "\n    "))
        } else {
            format!(": {e}")
        };
        UserError::new(format!(
            "cannot import {shown} (as {format_name}); nothing was imported{detail}"
        ))
    })?;
    let encrypted_export = asked.get();

    // A file that needed a password is not plaintext; everything else imported from a file holds its
    // secrets in the clear.
    let plaintext_file = file != Path::new("-") && !encrypted_export;
    let mut open = Transaction::open(ctx, &mut Terminal, err)?;
    let mut added = Vec::new();
    let mut notes = Vec::new();
    let mut left_out = Vec::new();
    for entry in entries {
        let (mut account, normalised) = match entry {
            Entry::Account(account) => (account, false),
            Entry::Normalised(account) => (account, true),
            Entry::LeftOut { name, reason } => {
                left_out.push(format!("  ! {}: not imported: {reason}", printable(&name)));
                continue;
            }
        };
        if open.document.contains(&account.name) {
            match duplicates {
                Duplicates::Skip => {
                    notes.push(format!(
                        "  = {}: the vault already has this name; skipped (--rename or --replace)",
                        printable(&account.name)
                    ));
                    continue;
                }
                Duplicates::Replace => {
                    open.document.remove(&account.name);
                }
                Duplicates::Rename => {
                    let base = account.name.clone();
                    account.name = (2..)
                        .map(|n| format!("{base} ({n})"))
                        .find(|candidate| !open.document.contains(candidate))
                        .unwrap_or(base);
                }
            }
        }
        open.document.push(&account);
        if normalised {
            added.push(format!(
                "{} (secret normalised: stray bits after its last whole byte dropped, as the \
                 source app does)",
                describe(&account)
            ));
        } else {
            added.push(describe(&account));
        }
    }
    if !added.is_empty() {
        open.commit(ctx, None, false, err)?;
    }
    let _ = writeln!(
        err,
        "teamotp: imported {} account{} from {shown} into {}{}",
        added.len(),
        if added.len() == 1 { "" } else { "s" },
        open.path.display(),
        if added.is_empty() { "" } else { ":" }
    );
    for line in &added {
        let _ = writeln!(err, "  + {line}");
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: {} entr{} left out:",
            left_out.len(),
            if left_out.len() == 1 { "y" } else { "ies" }
        );
    }
    for note in left_out.iter().chain(&notes) {
        let _ = writeln!(err, "{note}");
    }
    if plaintext_file && !added.is_empty() {
        let _ = writeln!(
            err,
            "teamotp: hint: now remove the plaintext: shred -u '{}' (and any copy in backups, sync \
             folders or git history)",
            printable(&shown)
        );
    }
    if added.is_empty() && !left_out.is_empty() && notes.is_empty() {
        return Err(UserError::new(format!(
            "nothing was imported from {shown}: every entry was left out"
        ))
        .code(1));
    }
    Ok(())
}

/// The password in `--password-file FILE`: its first line, without the line ending.
fn password_from_file(path: &Path) -> Result<Zeroizing<String>, String> {
    let text = crate::files::read_to_string(path)
        .map_err(|e| format!("cannot read the password file {}: {e}", path.display()))?;
    let line = text.split('\n').next().unwrap_or("");
    Ok(Zeroizing::new(
        line.strip_suffix('\r').unwrap_or(line).to_owned(),
    ))
}

/// The files of an OPVault folder (`NAME.opvault`, or its `default` folder): `profile.js` and the
/// `band_*.js` files, each read with the usual bounds.
fn read_opvault(dir: &Path, shown: &str) -> Result<import::opvault::Folder, UserError> {
    let dir = if dir.join("default").join("profile.js").is_file() {
        dir.join("default")
    } else {
        dir.to_owned()
    };
    let fail = |e: std::io::Error| {
        UserError::new(format!(
            "cannot import {shown}: it is a folder, and not a 1Password OPVault ({e})"
        ))
    };
    let profile = crate::files::read(&dir.join("profile.js")).map_err(fail)?;
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .map_err(fail)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("band_") && n.ends_with(".js"))
        })
        .take(64)
        .collect();
    names.sort();
    let bands = names
        .iter()
        .map(|p| crate::files::read(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    Ok(import::opvault::Folder { profile, bands })
}

fn read_input(file: &Path, shown: &str) -> Result<Zeroizing<Vec<u8>>, UserError> {
    let result = if file == Path::new("-") {
        crate::files::read_limited(std::io::stdin().lock(), crate::files::READ_LIMIT)
    } else {
        crate::files::read(file)
    };
    result.map_err(|e| UserError::new(format!("cannot read {shown}: {e}")))
}

/// `teamotp export --format F [QUERY] --plaintext`: plaintext secrets to stdout only.
pub fn export(
    ctx: &Context,
    format: ExportFormat,
    query: Option<&str>,
    plaintext: bool,
    yes: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    if !plaintext {
        return Err(
            UserError::new("export writes every secret in plaintext").hint(
                "pass --plaintext to confirm, and send the output straight to where it is needed",
            ),
        );
    }
    if std::io::stdout().is_terminal() && !yes {
        return Err(UserError::new("refusing to print secrets on the terminal (they stay in its scrollback)")
            .hint("redirect the output (| qrencode -t ansiutf8, > file on an encrypted disk), or pass --yes"));
    }
    let vault = vault::load::load(&ctx.source, ctx.identities, ctx.env, err)?;
    let accounts: Vec<&Account> = vault
        .parsed
        .rows
        .iter()
        .filter(|r| query.is_none_or(|q| read::matches(r, q)))
        .filter_map(|r| r.entry.as_ref().ok())
        .collect();
    if accounts.is_empty() {
        return Err(UserError::new("no account to export").code(1));
    }
    let _ = writeln!(
        err,
        "teamotp: warning: writing {} secret{} in plaintext to standard output",
        accounts.len(),
        if accounts.len() == 1 { "" } else { "s" }
    );
    let text = match format {
        ExportFormat::Otpauth => {
            let mut text = Zeroizing::new(String::new());
            for account in &accounts {
                text.push_str(&otpauth::uri(account));
                text.push('\n');
            }
            Zeroizing::new(text.as_bytes().to_vec())
        }
        ExportFormat::Csv => {
            let mut document = Document::new();
            for account in &accounts {
                document.push(account);
            }
            document.serialize()
        }
    };
    crate::error::write_data(out, &text)
}

/// `teamotp qr NAME`: the account's otpauth URI as a QR code, on the alternate screen, cleared on a key.
pub fn qr(ctx: &Context, query: &str, err: &mut dyn Write) -> Result<(), UserError> {
    if !std::io::stdout().is_terminal() {
        return Err(UserError::new(
            "qr shows a secret as a QR code on the terminal, and stdout is not a terminal",
        )
        .hint("to get the URI itself: teamotp export --format otpauth --plaintext NAME"));
    }
    let vault = vault::load::load(&ctx.source, ctx.identities, ctx.env, err)?;
    let account = read::find(&vault, query)?;
    let uri = otpauth::uri(account);
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| UserError::new(format!("cannot make a QR code: {e}")))?;
    // Light modules drawn as blocks: scanners need dark-on-light, and most terminals are dark.
    let picture = Zeroizing::new(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    );
    let title = format!(
        "{}: scan with the authenticator app. Any key clears the screen.",
        describe(account)
    );
    show_until_key(&title, &picture).map_err(|e| UserError::new(format!("terminal error: {e}")))
}

fn show_until_key(title: &str, picture: &str) -> std::io::Result<()> {
    use crossterm::event::{self, Event, KeyEventKind};
    use crossterm::terminal::{Clear, ClearType};
    use crossterm::{cursor, execute};

    /// Restores the terminal however this function ends (an error, a panic unwinding through it).
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            crate::tui::terminal::leave();
        }
    }
    crate::tui::terminal::resume()?;
    let _restore = Restore;
    let mut stdout = std::io::stdout();
    execute!(stdout, Clear(ClearType::All), cursor::MoveTo(0, 0))?;
    let mut screen = Zeroizing::new(format!("{title}\r\n\r\n"));
    for line in picture.lines() {
        screen.push_str(line);
        screen.push_str("\r\n");
    }
    stdout.write_all(screen.as_bytes())?;
    stdout.flush()?;
    loop {
        if let Event::Key(key) = event::read()?
            && key.kind == KeyEventKind::Press
        {
            return Ok(());
        }
    }
}
