//! `teamotp code NAME --clip`: the code goes to a clipboard instead of stdout.
//!
//! - System clipboard (a display, not over SSH): on X11 the copied text lives only as long as the
//!   process that owns the selection, so a detached helper owns it: teamotp runs itself again
//!   (`teamotp clip-helper --until UNIX`, hidden), gives it the code through a pipe on stdin (never the
//!   command line, which other users can read), and waits for its "copied" line. The helper starts its own
//!   session (setsid, called by itself: `pre_exec` would need `unsafe`), keeps the selection, and when the
//!   code expires clears the clipboard if it still holds the code, like `pass -c`.
//! - tmux (`$TMUX` set, no display or over SSH): the code goes into tmux's buffer `teamotp` with
//!   `tmux load-buffer -w -` (tmux 3.2 and later also pass it to the outer terminal's clipboard with
//!   tmux's default options; an OSC 52 written by a program reaches nothing with those defaults). The same
//!   detached helper (`--tmux SOCKET`) loads it and deletes the buffer when the code expires, if it still
//!   holds the code; the outer terminal's copy cannot be cleared, and the message says so.
//! - OSC 52 (no display, or over SSH, outside tmux): the code is written once to the terminal, now, by this foreground
//!   process; nothing can clear it later (a background process must not write into a terminal the user is
//!   typing in), and the message says so.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::process::{Command, Stdio};

use std::ffi::OsStr;

use zeroize::Zeroizing;

use crate::env::Env;
use crate::error::UserError;
use crate::tui::clipboard::{BUFFER, Reach, Tmux};

/// The hidden subcommand of the helper.
pub const HELPER: &str = "clip-helper";

/// The line the helper writes once it owns the clipboard.
const COPIED: &str = "copied";

/// Longest code the helper reads (codes are 5 to 10 characters).
const MAX_CODE: u64 = 64;

/// Puts `code` on a clipboard until `expires_at` (Unix seconds of the wall clock) and says where on `err`.
pub fn copy(
    code: &str,
    label: &str,
    expires_at: u64,
    env: &Env,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let remote = env.is_set("SSH_CONNECTION") || env.is_set("SSH_TTY");
    let display = env.is_set("DISPLAY") || env.is_set("WAYLAND_DISPLAY");
    if (!display || remote)
        && let Some(tmux) = Tmux::from_env(env)
    {
        return copy_tmux(code, label, expires_at, tmux.socket(), err);
    }
    if display && !remote {
        match system(code, expires_at, None) {
            Ok(_) => {
                let seconds = expires_at.saturating_sub(crate::time::now().as_secs());
                let _ = writeln!(
                    err,
                    "teamotp: copied the code of '{label}' to the system clipboard; cleared in {seconds} s \
                     if it still holds it"
                );
                return Ok(());
            }
            Err(reason) => {
                let _ = writeln!(
                    err,
                    "teamotp: warning: the system clipboard cannot be used ({reason}); trying the terminal's"
                );
            }
        }
    }
    osc52(code)?;
    let _ = writeln!(
        err,
        "teamotp: copied the code of '{label}' to the terminal clipboard (OSC 52); it will not be \
         cleared: paste it, then copy something else over it"
    );
    Ok(())
}

/// Inside tmux: the helper loads the code into tmux's buffer and deletes it when the code expires.
fn copy_tmux(
    code: &str,
    label: &str,
    expires_at: u64,
    socket: &OsStr,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    let answer = system(code, expires_at, Some(socket)).map_err(|reason| {
        UserError::new(format!("not copied: tmux did not take the code ({reason})"))
            .hint("run it without --clip to print the code")
    })?;
    let reach = match answer.as_str() {
        "off" => Reach::ClipboardOff,
        "old" => Reach::OldTmux,
        _ => Reach::Terminal,
    };
    let seconds = expires_at.saturating_sub(crate::time::now().as_secs());
    let _ = writeln!(
        err,
        "teamotp: copied the code of '{label}' to tmux's buffer '{BUFFER}' (prefix + ] pastes it); deleted \
         in {seconds} s if it still holds it"
    );
    let _ = writeln!(err, "teamotp: {}", reach.note());
    Ok(())
}

/// Starts the helper (for tmux's buffer with `tmux`), hands it the code on its stdin and waits until it
/// owns the clipboard; what it said after "copied".
fn system(code: &str, expires_at: u64, tmux: Option<&OsStr>) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find teamotp itself: {e}"))?;
    let mut command = Command::new(exe);
    command.args([HELPER, "--until", &expires_at.to_string()]);
    if let Some(socket) = tmux {
        command.arg("--tmux").arg(socket);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the clipboard helper: {e}"))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or("no pipe to the clipboard helper")?;
    stdin
        .write_all(code.as_bytes())
        .map_err(|e| format!("cannot hand the code to the clipboard helper: {e}"))?;
    drop(stdin);
    let stdout = child
        .stdout
        .take()
        .ok_or("no pipe from the clipboard helper")?;
    let mut line = String::new();
    // The helper closes its stdout once it owns the selection (or fails): this returns then.
    let _ = BufReader::new(stdout.take(256)).read_line(&mut line);
    let line = line.trim();
    if let Some(rest) = line.strip_prefix(COPIED) {
        // Not waited for: it lives on until the code expires. The kernel reaps it once we exit.
        return Ok(rest.trim().to_owned());
    }
    let _ = child.wait();
    Err(if line.is_empty() {
        "the clipboard helper ended without copying".to_owned()
    } else {
        line.to_owned()
    })
}

/// `teamotp clip-helper --until UNIX [--tmux SOCKET]` (hidden): reads the code from stdin, owns the
/// clipboard with it (or loads tmux's buffer), says so on stdout, then clears it at `until` if it still
/// holds the code.
pub fn helper(until: u64, tmux: Option<&OsStr>) -> Result<u8, UserError> {
    // Its own session: the terminal's hangup or Ctrl-C does not reach it, and it holds no terminal.
    #[cfg(unix)]
    let _ = rustix::process::setsid();
    let code = crate::files::read_limited(std::io::stdin().lock(), MAX_CODE)
        .map_err(|e| UserError::new(format!("cannot read the code: {e}")))?;
    let code = Zeroizing::new(String::from_utf8_lossy(&code).trim().to_owned());
    let mut out = std::io::stdout();
    if let Some(socket) = tmux {
        let mut tmux = Tmux::at(socket.to_owned());
        let said = match tmux.load(&code) {
            Ok(Reach::Terminal) => "terminal",
            Ok(Reach::ClipboardOff) => "off",
            Ok(Reach::OldTmux) => "old",
            Err(e) => {
                let _ = writeln!(out, "{e}");
                return Ok(2);
            }
        };
        let _ = writeln!(out, "{COPIED} {said}");
        let _ = out.flush();
        detach_stdio();
        wait_until(until);
        if tmux.contents().is_some_and(|current| *current == *code) {
            let _ = tmux.delete();
        }
        return Ok(0);
    }
    let mut clipboard = match arboard::Clipboard::new().and_then(|mut c| {
        c.set_text(code.as_str())?;
        Ok(c)
    }) {
        Ok(clipboard) => clipboard,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return Ok(2);
        }
    };
    let _ = writeln!(out, "{COPIED}");
    let _ = out.flush();
    detach_stdio();
    wait_until(until);
    // Only while it is still ours: something the user copied since stays.
    if clipboard.get_text().is_ok_and(|current| current == *code) {
        let _ = clipboard.clear();
    }
    Ok(0)
}

/// Closes stdout (and stdin): the caller is waiting for the end of that pipe. 0 and 1 become /dev/null.
fn detach_stdio() {
    #[cfg(unix)]
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let _ = rustix::stdio::dup2_stdout(&null);
        let _ = rustix::stdio::dup2_stdin(&null);
    }
}

/// Sleeps until the wall clock reaches `until` (Unix seconds).
fn wait_until(until: u64) {
    loop {
        let now = crate::time::now().as_secs();
        if now >= until {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs((until - now).min(1)));
    }
}

/// Writes the code once to the terminal as OSC 52: to stdout when it is the terminal, else to the
/// controlling terminal, and only from the foreground (a background job must not write into a terminal
/// someone is typing in).
fn osc52(code: &str) -> Result<(), UserError> {
    use crossterm::clipboard::CopyToClipboard;
    let no_terminal = || {
        UserError::new("no clipboard: there is no display and no terminal to send the code to")
            .hint("run it in a terminal, or without --clip to print the code")
    };
    #[cfg(unix)]
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| no_terminal())?;
    // The console, where there is no /dev/tty: only when it is stdout.
    #[cfg(not(unix))]
    let tty = match std::io::stdout().is_terminal() {
        true => std::io::stdout(),
        false => return Err(no_terminal()),
    };
    #[cfg(unix)]
    let foreground =
        rustix::termios::tcgetpgrp(&tty).is_ok_and(|group| group == rustix::process::getpgrp());
    #[cfg(not(unix))]
    let foreground = true;
    if !foreground {
        return Err(
            UserError::new("not copied: teamotp runs in the background of its terminal")
                .hint("run it in the foreground, or without --clip to print the code"),
        );
    }
    let stdout = std::io::stdout();
    fn send<W: Write>(mut out: W, code: &str) -> std::io::Result<()> {
        crossterm::execute!(out, CopyToClipboard::to_clipboard_from(code.as_bytes()))?;
        out.flush()
    }
    #[cfg(unix)]
    let result = if stdout.is_terminal() {
        send(stdout.lock(), code)
    } else {
        send(&tty, code)
    };
    #[cfg(not(unix))]
    let result = {
        let _ = tty;
        send(stdout.lock(), code)
    };
    result.map_err(|e| UserError::new(format!("cannot write to the terminal: {e}")))
}
