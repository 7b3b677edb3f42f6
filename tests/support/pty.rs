//! A program on a pseudo-terminal (expectrl) with its screen parsed by vt100: what the PTY tests
//! (exchange.rs, hygiene_process.rs, tui_pty.rs) share. Each test file's own `Pty` wraps a [`Term`] with
//! what only it needs (its start script, PID files, how a run ends).

use std::io::{ErrorKind, Write};
use std::num::NonZeroU16;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::Session;
use expectrl::session::OsSession;

/// How often a pseudo-terminal is read while waiting.
pub const POLL: Duration = Duration::from_millis(10);

/// A running pty session, the screen as a `rows` x `cols` terminal shows it, and every byte received.
pub struct Term {
    pub session: OsSession,
    pub parser: vt100::Parser,
    /// Every byte the terminal received.
    pub seen: Vec<u8>,
    /// The terminal was closed: every process holding it has ended.
    pub eof: bool,
    /// Answer cursor position queries (`ESC [ 6 n`) as a terminal emulator does.
    pub answer_cursor_queries: bool,
    /// How many queries were answered.
    pub answered: usize,
}

impl Term {
    /// Spawns `command` on a pty and sends it one line: the start scripts wait for it, since the pty
    /// library sets its default size (80x24) after the child has started, so they set the size only
    /// once that is done.
    pub fn spawn(command: Command, rows: u16, cols: u16) -> Term {
        let mut session = Session::spawn(command).expect("spawn teamotp on a pty");
        session.write_all(b"\n").unwrap();
        session.flush().unwrap();
        Term {
            session,
            parser: vt100::Parser::new(
                NonZeroU16::new(rows).unwrap(),
                NonZeroU16::new(cols).unwrap(),
                0,
            ),
            seen: Vec::new(),
            eof: false,
            answer_cursor_queries: false,
            answered: 0,
        }
    }

    /// Feeds everything the pty has to the parser, without blocking.
    pub fn pump(&mut self) {
        let mut buf = [0u8; 8192];
        while !self.eof {
            match self.session.try_read(&mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.parser.process(&buf[..n]);
                    self.seen.extend_from_slice(&buf[..n]);
                    self.answer_queries();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Linux: EIO once every process holding the terminal has ended.
                Err(_) => self.eof = true,
            }
        }
    }

    /// Answers every cursor position query received so far with the cursor's position on the parsed
    /// screen (the query is the last thing the program writes before it waits for the answer).
    fn answer_queries(&mut self) {
        if !self.answer_cursor_queries {
            return;
        }
        let queries = self.seen.windows(4).filter(|w| w == b"\x1b[6n").count();
        while self.answered < queries {
            let (row, col) = self.screen().cursor_position();
            let answer = format!("\x1b[{};{}R", row + 1, col + 1);
            self.send(answer.as_bytes());
            self.answered += 1;
        }
    }

    /// Types `bytes` on the terminal.
    pub fn send(&mut self, bytes: &[u8]) {
        self.session.write_all(bytes).unwrap();
        self.session.flush().unwrap();
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// Everything received, without carriage returns.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen).replace('\r', "")
    }

    /// Waits until `done` holds; panics after `timeout` (or when the run ends first) with `what` and
    /// `shown` (what was received, or the screen).
    pub fn wait_until(
        &mut self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&Term) -> bool,
        shown: impl Fn(&Term) -> String,
    ) {
        let start = Instant::now();
        loop {
            self.pump();
            if done(self) {
                return;
            }
            assert!(
                start.elapsed() < timeout && !self.eof,
                "timed out waiting for {what}{}; {}",
                if self.eof { " (the run ended)" } else { "" },
                shown(self)
            );
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the terminal no longer echoes input (a hidden prompt is reading: teamotp writes its
    /// prompt before turning echo off), reading the pty meanwhile.
    pub fn wait_for_echo_off(&mut self, timeout: Duration) {
        let start = Instant::now();
        while echo_is_on(&self.session) {
            assert!(
                start.elapsed() < timeout,
                "teamotp never turned echo off; received:\n{}",
                self.text()
            );
            self.pump();
            std::thread::sleep(POLL);
        }
    }

    /// Waits for the end of the run (the terminal closed), reading the pty meanwhile; panics after
    /// `timeout` with `shown`.
    pub fn wait_for_end(&mut self, timeout: Duration, shown: impl Fn(&Term) -> String) {
        let start = Instant::now();
        while !self.eof {
            assert!(
                start.elapsed() < timeout,
                "the run did not end; {}",
                shown(self)
            );
            self.pump();
            std::thread::sleep(POLL);
        }
    }
}

/// `/bin/sh -c SCRIPT sh ROWS COLS` with an empty environment but `TERM=xterm-256color` and the test's
/// `PATH`: the start of every script run on a pty (the caller adds the script's other arguments).
pub fn script_command(script: &str, rows: u16, cols: u16) -> Command {
    let mut command = Command::new("/bin/sh");
    command
        .env_clear()
        .env("TERM", "xterm-256color")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(rows.to_string())
        .arg(cols.to_string());
    command
}

/// The terminal of `session` echoes input.
pub fn echo_is_on(session: &OsSession) -> bool {
    session
        .get_process()
        .get_echo()
        .expect("read the terminal's echo flag")
}

/// Waits until the terminal of `session` no longer echoes input (rpassword writes the prompt before it
/// turns echo off: type only once echo is off).
pub fn wait_for_echo_off(session: &OsSession, timeout: Duration) {
    let start = Instant::now();
    while echo_is_on(session) {
        assert!(
            start.elapsed() < timeout,
            "teamotp never turned terminal echo off"
        );
        std::thread::sleep(POLL);
    }
}
