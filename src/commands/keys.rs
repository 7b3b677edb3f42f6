//! The identity commands: `keygen` (a new identity, the code path `init` uses too) and `whoami` (the public
//! key of every identity teamotp would use, so a joining member knows what to send).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::age::{identity, pq, recipients};
use crate::error::{UserError, write_data};
use crate::tty;
use crate::vault::transaction::Context;

/// `teamotp keygen [--pq] [-o FILE]`: writes a new identity and prints its public key on stdout.
pub fn keygen(
    ctx: &Context,
    post_quantum: bool,
    output: Option<&Path>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let path = match output {
        Some(path) => path.to_owned(),
        None => default_path(ctx)?,
    };
    let key = create_identity(&path, post_quantum)?;
    write_data(out, format!("{key}\n").as_bytes())?;
    let _ = writeln!(
        err,
        "teamotp: wrote a new {}identity to {} (mode 0600: keep it private, and back it up)",
        if post_quantum { "post-quantum " } else { "" },
        path.display()
    );
    let _ = writeln!(
        err,
        "teamotp: hint: send the public key above to your vault admin: teamotp members add KEY --name YOU{}",
        if post_quantum {
            " (a classic vault: teamotp members add --next KEY --replaces YOUR-CURRENT-KEY)"
        } else {
            ""
        }
    );
    if !identity::paths(ctx.identities, ctx.env).contains(&path) {
        let _ = writeln!(
            err,
            "teamotp: hint: teamotp reads it with -i/--identity {0} or TEAMOTP_IDENTITY; or append \
             its key to your identity file (one file may hold several keys): cat {0} >> IDENTITY-FILE",
            path.display()
        );
    }
    Ok(())
}

/// `$XDG_CONFIG_HOME/teamotp/identity.txt` (else `~/.config/...`).
fn default_path(ctx: &Context) -> Result<PathBuf, UserError> {
    identity::default_paths(ctx.env)
        .into_iter()
        .next()
        .ok_or_else(|| UserError::new("no home directory to create your identity in"))
}

/// Creates a new age identity file (mode 0600, never overwriting, its directory 0700) and returns its
/// public key: X25519 (`age1...`), or post-quantum (`age1pq1...`).
pub(crate) fn create_identity(path: &Path, post_quantum: bool) -> Result<String, UserError> {
    let shown = path.display();
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(UserError::new(format!(
            "'{shown}' already exists; teamotp never overwrites an identity"
        ))
        .hint("write the new one elsewhere: -o/--output FILE"));
    }
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::files::create_private_dir(dir)
            .map_err(|e| UserError::new(format!("cannot create '{}': {e}", dir.display())))?;
    }
    let (public, secret) = if post_quantum {
        let key = pq::Identity::generate();
        (
            key.to_public().to_string(),
            Zeroizing::new(key.to_secret_string().expose_secret().to_owned()),
        )
    } else {
        let key = age::x25519::Identity::generate();
        (
            key.to_public().to_string(),
            Zeroizing::new(key.to_string().expose_secret().to_owned()),
        )
    };
    let text = Zeroizing::new(format!(
        "# teamotp identity: keep it private\n# public key: {public}\n{}\n",
        secret.as_str()
    ));
    crate::files::create_new(path, text.as_bytes(), 0o600)
        .map_err(|e| UserError::new(format!("cannot create '{shown}': {e}")))?;
    Ok(public)
}

/// `teamotp whoami`: every public key of every identity file teamotp would use, bare on stdout (one a
/// line, so `teamotp members add "$(teamotp whoami)"` takes it), and on stderr which line is which kind
/// of key from which file; with several keys, which line to pick.
pub fn whoami(ctx: &Context, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), UserError> {
    let paths = identity::paths(ctx.identities, ctx.env);
    if paths.is_empty() {
        return Err(UserError::new("teamotp found no identity").hint(
            "create one with 'teamotp keygen' (or --pq), or pass -i/--identity PATH; \
             teamotp looks for $XDG_CONFIG_HOME/teamotp/identity.txt, ~/.ssh/id_ed25519, ~/.ssh/id_rsa",
        ));
    }
    let mut found = 0;
    for path in &paths {
        match public_keys(path) {
            Ok((keys, notes)) => {
                for key in &keys {
                    found += 1;
                    let kind = recipients::Kind::of(key).name();
                    write_data(out, format!("{key}\n").as_bytes())?;
                    // A key `members` and the review show by its fingerprint (ssh-rsa, post-quantum):
                    // the same fingerprint here, to compare out of band.
                    let fingerprint = match recipients::shown(key) == *key {
                        true => String::new(),
                        false => format!(" (fingerprint {})", recipients::fingerprint(key)),
                    };
                    let _ = writeln!(
                        err,
                        "teamotp: line {found}: {kind} key from {}{fingerprint}",
                        path.display(),
                    );
                }
                for note in notes {
                    let _ = writeln!(err, "teamotp: note: {}: {note}", path.display());
                }
            }
            Err(e) => {
                let _ = writeln!(err, "teamotp: warning: {}", e.message);
                for hint in &e.hints {
                    let _ = writeln!(err, "teamotp: hint: {hint}");
                }
            }
        }
    }
    if found == 0 {
        return Err(UserError::new(
            "no public key could be told from the identities above",
        ));
    }
    if found > 1 {
        let _ = writeln!(
            err,
            "teamotp: hint: 'teamotp members add' takes one key: pick its line, e.g. teamotp members add \
             \"$(teamotp whoami | sed -n 2p)\" for line 2"
        );
    }
    Ok(())
}

/// The public keys of an identity file, and notes on what it holds that has no public key to show (a
/// plugin identity). An age-encrypted identity file is opened with its passphrase, asked only on a
/// terminal; an SSH key's public key comes from `KEY.pub`, else from the key file itself.
pub(crate) fn public_keys(path: &Path) -> Result<(Vec<String>, Vec<String>), UserError> {
    let shown = path.display().to_string();
    let bytes = crate::files::read(path)
        .map_err(|e| UserError::new(format!("cannot read '{shown}': {e}")))?;
    let start = bytes.trim_ascii_start();
    if start.starts_with(b"age-encryption.org/") || start.starts_with(b"-----BEGIN AGE ENCRYPTED") {
        if !tty::available() {
            return Err(UserError::new(format!(
                "'{shown}' is an encrypted identity file: its public keys need its passphrase, and there \
                 is no terminal to ask on"
            ))
            .hint("run teamotp whoami in a terminal"));
        }
        let prompt = format!("Passphrase of the encrypted identity '{shown}': ");
        let plain = crate::age::decrypt::decrypt(&bytes, &[], || {
            tty::prompt_hidden(&prompt).map_err(|_| crate::age::decrypt::Failure::NoTerminal)
        })
        .map_err(|e| UserError::new(format!("cannot open '{shown}': {e}")))?;
        return key_lines(&plain, &shown);
    }
    if start.starts_with(b"-----BEGIN") {
        let pub_path = PathBuf::from(format!("{shown}.pub"));
        if let Ok(text) = crate::files::read_to_string(&pub_path)
            && let Ok(parsed) = recipients::parse(&text, &pub_path.display().to_string())
            && let Some(member) = parsed.members.into_iter().next()
        {
            return Ok((vec![member.key], Vec::new()));
        }
        return crate::age::identity::ssh_public_key(&bytes)
            .map(|key| (vec![key], Vec::new()))
            .ok_or_else(|| {
                UserError::new(format!("cannot tell the public key of '{shown}'"))
                    .hint("put its public key beside it as KEY.pub")
            });
    }
    key_lines(&bytes, &shown)
}

/// The public keys of the key lines of a plain identity file.
fn key_lines(bytes: &[u8], shown: &str) -> Result<(Vec<String>, Vec<String>), UserError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| UserError::new(format!("'{shown}' is not an identity file")))?;
    let (mut keys, mut notes) = (Vec::new(), Vec::new());
    let invalid = |line: usize| UserError::new(format!("'{shown}' line {line}: not a valid key"));
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with("AGE-SECRET-KEY-PQ-") {
            let key = pq::Identity::from_str(line).map_err(|_| invalid(index + 1))?;
            keys.push(key.to_public().to_string());
        } else if line.starts_with("AGE-SECRET-KEY-1") {
            let key = age::x25519::Identity::from_str(line).map_err(|_| invalid(index + 1))?;
            keys.push(key.to_public().to_string());
        } else if let Some(rest) = line.strip_prefix("AGE-PLUGIN-") {
            let name = rest
                .split('-')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            notes.push(format!(
                "line {}: a plugin identity; its recipient comes from age-plugin-{}",
                index + 1,
                crate::text::printable(&name)
            ));
        }
    }
    if keys.is_empty() && notes.is_empty() {
        return Err(UserError::new(format!("'{shown}' holds no age key")));
    }
    Ok((keys, notes))
}
