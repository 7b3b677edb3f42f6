//! The controlling terminal: hidden prompts and questions. Prompts never go to stdout.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};

use age::secrecy::SecretString;

/// Opens the controlling terminal for reading and writing, if the process has one.
fn open() -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open("/dev/tty")
}

/// True when there is a controlling terminal to ask on.
pub fn available() -> bool {
    open().is_ok()
}

/// Asks for a secret on the terminal without echo.
pub fn prompt_hidden(prompt: &str) -> io::Result<SecretString> {
    open()?;
    rpassword::prompt_password(prompt).map(SecretString::from)
}

/// Asks a visible question on the terminal and returns the answer line (without its newline).
pub fn prompt_line(prompt: &str) -> io::Result<String> {
    let tty = open()?;
    let mut writer = tty.try_clone()?;
    writer.write_all(prompt.as_bytes())?;
    writer.flush()?;
    let mut line = String::new();
    BufReader::new(tty).read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// age callbacks that talk to the controlling terminal (never pinentry, never stdout).
#[derive(Clone, Copy, Debug)]
pub struct TtyCallbacks;

impl age::Callbacks for TtyCallbacks {
    fn display_message(&self, message: &str) {
        eprintln!("teamotp: {}", plain(message));
    }

    fn confirm(&self, message: &str, yes_string: &str, no_string: Option<&str>) -> Option<bool> {
        let no = no_string.unwrap_or("no");
        let answer = prompt_line(&format!("{message} [{yes_string}/{no}]: ")).ok()?;
        Some(
            answer.trim().eq_ignore_ascii_case(yes_string)
                || answer.trim().eq_ignore_ascii_case("y"),
        )
    }

    fn request_public_string(&self, description: &str) -> Option<String> {
        prompt_line(&format!("{description}: "))
            .ok()
            .filter(|s| !s.is_empty())
    }

    fn request_passphrase(&self, description: &str) -> Option<SecretString> {
        prompt_hidden(&format!("{}: ", plain(description))).ok()
    }
}

/// age's messages wrap file names in Unicode directional isolates (U+2068, U+2069); terminals show them
/// as stray marks, so they are removed.
fn plain(message: &str) -> String {
    message.replace(['\u{2068}', '\u{2069}'], "")
}
