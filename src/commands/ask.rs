//! The questions the commands ask on the terminal: a secret typed hidden (or piped on stdin), a yes/no
//! confirmation, a vault's passphrase for a write ([`Terminal`], the write transaction's
//! [`Questions`]), and the line that shows a new account's current code.

use std::io::{IsTerminal, Read};

use zeroize::Zeroizing;

use crate::account::Account;
use crate::age::decrypt::Failure;
use crate::error::UserError;
use crate::vault::transaction::Questions;
use crate::{totp, tty};

/// The person at the terminal, answering a write transaction's questions (the passphrase prompt every
/// read uses, with its tries).
pub struct Terminal;

impl Questions for Terminal {
    fn passphrase(&mut self, label: &str) -> Result<age::secrecy::SecretString, Failure> {
        crate::vault::load::ask_passphrase(label)
    }
}

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
