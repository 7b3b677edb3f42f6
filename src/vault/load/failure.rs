//! What a read that fails says: the file and the keys tried, and what to do next (the identity to
//! pass, the agent, a gauth file found elsewhere).

use std::path::{Path, PathBuf};

use crate::age::decrypt::Failure;
use crate::age::identity::{self, Identities};
use crate::env::Env;
use crate::error::UserError;
use crate::tty;

/// The error for a vault file that cannot be read.
pub(crate) fn read_error(path: &Path, e: std::io::Error, env: &Env) -> UserError {
    let shown = path.display();
    match e {
        e if e.kind() == std::io::ErrorKind::NotFound => {
            let mut error = UserError::new(format!("no vault at '{shown}'"))
                .hint("pass a vault with -f/--file PATH or set TEAMOTP_FILE")
                .hint("try the demo vault: teamotp --demo")
                .hint("create a team vault: teamotp init");
            if let Some(gauth) = gauth_file(env) {
                error = error.hint(format!(
                    "your gauth file can be read as it is: teamotp -f '{}'",
                    gauth.display()
                ));
            }
            error
        }
        e => UserError::new(format!("cannot read '{shown}': {e}")),
    }
}

/// An existing gauth file: `$GAUTH_CONFIG`, else `~/.config/gauth.csv`.
fn gauth_file(env: &Env) -> Option<PathBuf> {
    env.var("GAUTH_CONFIG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| Some(env.home()?.join(".config").join("gauth.csv")))
        .filter(|p| p.is_file())
}

/// Where no terminal can ask: the agent can answer instead.
const UNLOCK_HINT: &str = "or type it once per session: teamotp unlock";

/// Turns a decryption failure into a message naming the file, the identities tried and what to do.
pub(crate) fn failure(
    label: &str,
    failure: Failure,
    identities: &Identities,
    env: &Env,
) -> UserError {
    let tried: Vec<String> = identities
        .paths
        .iter()
        .map(|p| format!("'{}'", p.display()))
        .collect();
    let message = match &failure {
        Failure::NoMatch if !tried.is_empty() => {
            format!(
                "cannot decrypt '{label}': {failure} (tried {})",
                tried.join(", ")
            )
        }
        _ => format!("cannot decrypt '{label}': {failure}"),
    };
    if let (Failure::KeyDecryption, Some(key)) = (&failure, identity::wrong_passphrase()) {
        let key = match env
            .home()
            .and_then(|h| Path::new(&key).strip_prefix(h).ok().map(Path::to_owned))
        {
            Some(rest) => format!("~/{}", rest.display()),
            None => key,
        };
        return UserError::new(format!(
            "cannot decrypt '{label}': wrong passphrase for '{key}' ({} tries)",
            tty::TRIES
        ))
        .hint("type the passphrase of that key (the one ssh-keygen or age -p asked for when it was made)");
    }
    // Asking on a terminal needs one: say so only when there is none.
    let in_terminal = tty::available();
    let error = UserError::new(message);
    match failure {
        Failure::NoIdentity => {
            let looked: Vec<String> = identity::default_paths(env)
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            error
                .hint("pass your key with -i/--identity PATH or set TEAMOTP_IDENTITY")
                .hint(format!("without them teamotp looks for: {}", looked.join(", ")))
        }
        Failure::NoMatch => error.hint(
            "the vault is not encrypted to your key: send your public key to a teammate, who adds it \
             with 'teamotp members add'",
        ),
        Failure::NoTerminal if !in_terminal => error.hint(
            "run teamotp in a terminal, or have the vault encrypted to an identity file instead of a passphrase",
        )
        .hint(UNLOCK_HINT),
        Failure::KeyDecryption if !in_terminal => error
            .hint("the identity file is protected by a passphrase: run teamotp in a terminal to be asked for it")
            .hint(UNLOCK_HINT),
        Failure::KeyDecryption => error.hint("the key's passphrase was not typed"),
        Failure::KeyNoTerminal(_) => error
            .hint("run teamotp in a terminal to be asked for it")
            .hint(UNLOCK_HINT),
        Failure::Damaged(_) => {
            error.hint("restore the file from version control or from its backup (VAULT.bak)")
        }
        _ => error,
    }
}
