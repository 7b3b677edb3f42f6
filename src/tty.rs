//! The controlling terminal: hidden prompts and questions. Prompts never go to stdout.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};

use age::secrecy::SecretString;

/// Opens the controlling terminal for reading and writing, if the process has one.
#[cfg(unix)]
fn open() -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open("/dev/tty")
}

/// The console's input (`CONIN$`): Windows' `/dev/tty`, present even when stdin is redirected.
#[cfg(not(unix))]
fn open() -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open("CONIN$")
}

/// Where prompts are written: the terminal, or on Windows the console's screen (`CONOUT$`).
fn open_output() -> io::Result<File> {
    #[cfg(unix)]
    return open();
    #[cfg(not(unix))]
    OpenOptions::new().read(true).write(true).open("CONOUT$")
}

/// True when there is a controlling terminal to ask on.
pub fn available() -> bool {
    open().is_ok() && open_output().is_ok()
}

/// How many times a passphrase is asked before giving up, as ssh does.
pub const TRIES: usize = 3;

/// Writes one line to the terminal (a wrong passphrase, before asking again), escaped as every message.
pub fn tell(message: &str) {
    if let Ok(tty) = open() {
        let _ = write_prompt(&tty, &format!("{message}\n"));
    }
}

/// The agent's socket, when a passphrase prompt should be followed by the suggestion to run
/// `teamotp unlock` if no agent answers there (set once per command by `run`; not for `unlock` itself or
/// with `TEAMOTP_NO_AGENT=1`).
static UNLOCK_SOCKET: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

/// The suggestion was made in this command already.
static SUGGESTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The line on stderr after a passphrase prompt when no agent runs.
pub const UNLOCK_SUGGESTION: &str = "teamotp: hint: no teamotp agent is running: 'teamotp unlock' asks each passphrase once for the session";

/// After a passphrase prompt, suggest `teamotp unlock` when no agent answers on `socket`.
pub fn suggest_unlock_with(socket: Option<std::path::PathBuf>) {
    let _ = UNLOCK_SOCKET.set(socket);
}

/// Asks for a passphrase that unlocks something the agent could hold (an SSH key, an age-encrypted
/// identity, a passphrase vault): [`prompt_hidden`], then, once per command and only when no agent runs,
/// one line on stderr suggesting `teamotp unlock`.
pub fn passphrase(prompt: &str) -> io::Result<SecretString> {
    let answer = prompt_hidden(prompt)?;
    if let Some(socket) = UNLOCK_SOCKET.get()
        && !socket.as_deref().is_some_and(agent_answers)
        && !SUGGESTED.swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        let mut err = crate::text::TerminalText::new(std::io::stderr());
        let _ = writeln!(err, "{UNLOCK_SUGGESTION}");
    }
    Ok(answer)
}

/// Something listens on the agent's socket.
#[cfg(unix)]
fn agent_answers(socket: &std::path::Path) -> bool {
    std::os::unix::net::UnixStream::connect(socket).is_ok()
}

#[cfg(not(unix))]
fn agent_answers(_: &std::path::Path) -> bool {
    true
}

/// Longest answer read from a hidden prompt.
const MAX_SECRET: usize = 4096;

/// Asks for a secret on the terminal without echo. Echo is turned off *before* the prompt is written,
/// so an answer typed or pasted the moment the prompt appears is never shown; the answer is read into a
/// buffer sized once and wiped.
#[cfg(unix)]
pub fn prompt_hidden(prompt: &str) -> io::Result<SecretString> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let tty = open()?;
    let original = tcgetattr(&tty)?;
    let mut quiet = original.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&tty, OptionalActions::Now, &quiet)?;
    let answer = read_hidden(&tty, prompt);
    tcsetattr(&tty, OptionalActions::Now, &original)?;
    let answer = answer?;
    let text = std::str::from_utf8(&answer)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the answer is not UTF-8"))?;
    Ok(SecretString::from(text.to_owned()))
}

/// Windows: the console in raw mode (crossterm: no echo, no line editing, Ctrl-C arrives as a key), turned
/// on before the prompt is written and restored however the answer ends, Ctrl-C included (which then
/// fails with `Interrupted`).
#[cfg(not(unix))]
pub fn prompt_hidden(prompt: &str) -> io::Result<SecretString> {
    let out = open_output()?;
    crossterm::terminal::enable_raw_mode()?;
    let answer =
        write_prompt(&out, prompt).and_then(|()| hidden_answer(&mut crossterm::event::read));
    let restored = crossterm::terminal::disable_raw_mode();
    let _ = (&out).write_all(b"\r\n");
    let answer = answer?;
    restored?;
    Ok(SecretString::from(String::from(answer.as_str())))
}

/// The answer typed at a hidden prompt, from console key events: characters up to Enter, Backspace
/// removes one, Ctrl-C and Esc cancel (`Interrupted`). The events come from a function so the rules are
/// tested without a console (wine has no console echo to test against).
#[cfg_attr(unix, allow(dead_code))]
fn hidden_answer(
    next: &mut dyn FnMut() -> io::Result<crossterm::event::Event>,
) -> io::Result<zeroize::Zeroizing<String>> {
    use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};
    let mut answer = zeroize::Zeroizing::new(String::with_capacity(MAX_SECRET));
    loop {
        let Event::Key(key) = next()? else { continue };
        if key.kind == KeyEventKind::Release {
            continue;
        }
        let control = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if control => {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
            }
            KeyCode::Esc => return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled")),
            KeyCode::Enter => return Ok(answer),
            KeyCode::Backspace => {
                answer.pop();
            }
            KeyCode::Char(c) if !control && answer.len() + c.len_utf8() <= MAX_SECRET => {
                answer.push(c);
            }
            _ => {}
        }
    }
}

#[cfg(unix)]
fn read_hidden(tty: &File, prompt: &str) -> io::Result<zeroize::Zeroizing<Vec<u8>>> {
    use std::io::Read;
    write_prompt(tty, prompt)?;
    let mut answer = zeroize::Zeroizing::new(Vec::with_capacity(MAX_SECRET));
    let mut byte = [0u8; 1];
    let mut reader = tty;
    loop {
        if reader.read(&mut byte)? == 0 {
            break;
        }
        match byte[0] {
            b'\n' => break,
            b'\r' => {}
            b if answer.len() < MAX_SECRET => answer.push(b),
            _ => {}
        }
    }
    zeroize::Zeroize::zeroize(&mut byte);
    Ok(answer)
}

/// Writes a prompt made safe for the terminal: prompts quote account names and recipient labels
/// (`Secret for 'NAME' (hidden): `), so they go through the same escaping as every message.
fn write_prompt(tty: &File, prompt: &str) -> io::Result<()> {
    let mut writer = crate::text::TerminalText::new(tty);
    writer.write_all(prompt.as_bytes())?;
    writer.flush()
}

/// Asks a visible question on the terminal and returns the answer line (without its newline).
pub fn prompt_line(prompt: &str) -> io::Result<String> {
    let tty = open()?;
    write_prompt(&open_output()?, prompt)?;
    let mut line = String::new();
    BufReader::new(tty).read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// age callbacks that talk to the controlling terminal (never pinentry, never stdout).
#[derive(Clone, Copy, Debug)]
pub struct TtyCallbacks;

impl age::Callbacks for TtyCallbacks {
    fn display_message(&self, message: &str) {
        let mut err = crate::text::TerminalText::new(std::io::stderr());
        let _ = writeln!(err, "teamotp: {}", plain(message));
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
        passphrase(&format!("{}: ", plain(description))).ok()
    }
}

/// age's messages wrap file names in Unicode directional isolates (U+2068, U+2069); terminals show them
/// as stray marks, so they are removed.
fn plain(message: &str) -> String {
    message.replace(['\u{2068}', '\u{2069}'], "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

    fn keys(codes: Vec<KeyEvent>) -> impl FnMut() -> io::Result<Event> {
        let mut codes = codes.into_iter();
        move || {
            codes
                .next()
                .map(Event::Key)
                .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))
        }
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn hidden_answer_takes_characters_until_enter_with_backspace() {
        let mut release = key(KeyCode::Char('z'));
        release.kind = KeyEventKind::Release;
        let mut next = keys(vec![
            key(KeyCode::Char('p')),
            key(KeyCode::Char('x')),
            key(KeyCode::Backspace),
            release,
            key(KeyCode::Char('é')),
            key(KeyCode::Enter),
            key(KeyCode::Char('!')),
        ]);
        assert_eq!(hidden_answer(&mut next).unwrap().as_str(), "pé");
    }

    #[test]
    fn hidden_answer_is_cancelled_by_ctrl_c_and_esc() {
        for cancel in [
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            key(KeyCode::Esc),
        ] {
            let mut next = keys(vec![key(KeyCode::Char('a')), cancel]);
            let e = hidden_answer(&mut next).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::Interrupted);
        }
    }
}
