//! The real clipboards: the system clipboard (arboard, kept alive while the TUI runs so X11 keeps the
//! selection), tmux's own paste buffer inside tmux, and OSC 52 through the terminal when there is no
//! display or the session is over SSH.
//!
//! Inside tmux an OSC 52 written by a program reaches nothing with tmux's default options
//! (`set-clipboard external`: tmux sets the outer terminal's clipboard for its own copies only). So under
//! tmux the code goes into a tmux buffer named `teamotp` with `tmux load-buffer -w -` (the code on stdin,
//! never the command line): tmux 3.2 and later also send it to the outer terminal's clipboard then, with
//! the default options. Deleting the buffer clears tmux's copy; the outer terminal's clipboard cannot be
//! cleared, and the messages say so.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

use crossterm::clipboard::CopyToClipboard;
use zeroize::Zeroizing;

use super::app::Clipboard;
use crate::env::Env;

/// The system clipboard through arboard.
pub struct System(arboard::Clipboard);

impl Clipboard for System {
    fn set(&mut self, text: &str) -> Result<(), String> {
        self.0.set_text(text).map_err(|e| e.to_string())
    }
    fn get(&mut self) -> Option<String> {
        self.0.get_text().ok()
    }
    fn clear(&mut self) -> Result<(), String> {
        self.0.clear().map_err(|e| e.to_string())
    }
    fn name(&self) -> &'static str {
        "system clipboard"
    }
}

/// OSC 52: the terminal (or the SSH client's terminal) sets its clipboard. It cannot be read back, so
/// clearing cannot check that the clipboard still holds our code.
pub struct Osc52;

impl Clipboard for Osc52 {
    fn set(&mut self, text: &str) -> Result<(), String> {
        write_osc52(text)
    }
    fn get(&mut self) -> Option<String> {
        None
    }
    fn clear(&mut self) -> Result<(), String> {
        write_osc52("")
    }
    fn name(&self) -> &'static str {
        "terminal clipboard (OSC 52)"
    }
}

fn write_osc52(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout();
    crossterm::execute!(out, CopyToClipboard::to_clipboard_from(text.as_bytes()))
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

/// The name of teamotp's tmux buffer.
pub const BUFFER: &str = "teamotp";

/// Where a copy into tmux went besides tmux's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// tmux also sent it to the outer terminal's clipboard (`load-buffer -w`), which cannot be cleared.
    Terminal,
    /// Only tmux's buffer: `set-clipboard` is off, so tmux passes nothing on.
    ClipboardOff,
    /// Only tmux's buffer: tmux before 3.2 has no `load-buffer -w`.
    OldTmux,
}

impl Reach {
    /// What the user should know beyond "copied to tmux's buffer": the copy that stays, or the one
    /// setting that would reach the terminal's clipboard too.
    pub fn note(self) -> &'static str {
        match self {
            Reach::Terminal => {
                "also in the terminal's clipboard (sent by tmux), which cannot be cleared"
            }
            Reach::ClipboardOff => {
                "not in the terminal's clipboard: 'tmux set -g set-clipboard external' passes it on"
            }
            Reach::OldTmux => "not in the terminal's clipboard: tmux 3.2 or later passes it on",
        }
    }
}

/// tmux's paste buffer `teamotp`, on the server `$TMUX` names (its socket, before the first comma).
pub struct Tmux {
    socket: OsString,
    /// Where the last copy went.
    reach: Option<Reach>,
}

impl Tmux {
    /// The tmux server teamotp runs in, if `$TMUX` names one.
    pub fn from_env(env: &Env) -> Option<Tmux> {
        let value = env.var("TMUX")?;
        let value = value.to_str()?;
        let socket = value.split(',').next().filter(|s| !s.is_empty())?;
        Some(Tmux::at(socket.into()))
    }

    /// The tmux server listening on `socket`.
    pub fn at(socket: OsString) -> Tmux {
        Tmux {
            socket,
            reach: None,
        }
    }

    /// The socket path, for the clipboard helper.
    pub fn socket(&self) -> &OsString {
        &self.socket
    }

    /// Runs `tmux -S SOCKET ARGS`, with `input` on its stdin; its stdout, or its error.
    fn run(&self, args: &[&str], input: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>, String> {
        let mut child = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run tmux: {e}"))?;
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(input)
                .map_err(|e| format!("cannot hand the code to tmux: {e}"))?;
        }
        let mut out = Zeroizing::new(Vec::with_capacity(256));
        if let Some(stdout) = child.stdout.take() {
            let _ = stdout.take(4096).read_to_end(&mut out);
        }
        let mut error = String::new();
        if let Some(stderr) = child.stderr.take() {
            let _ = stderr.take(4096).read_to_string(&mut error);
        }
        let status = child.wait().map_err(|e| format!("tmux: {e}"))?;
        if status.success() {
            Ok(out)
        } else {
            let error = error.trim();
            Err(match error.is_empty() {
                true => format!("tmux {} failed ({status})", args[0]),
                false => format!("tmux {}: {error}", args[0]),
            })
        }
    }

    /// tmux's version is 3.2 or later (`tmux -V`: `tmux 3.3a`; development builds say `next-3.5` or
    /// `master` and count as new).
    fn has_load_buffer_w(&self) -> bool {
        let Ok(out) = Command::new("tmux").arg("-V").stdin(Stdio::null()).output() else {
            return false;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let version = text.trim().rsplit([' ', '-']).next().unwrap_or_default();
        let mut numbers = version
            .split('.')
            .map(|part| part.trim_end_matches(|c: char| !c.is_ascii_digit()));
        match (numbers.next().map(str::parse::<u32>), numbers.next()) {
            (Some(Ok(major)), minor) => {
                let minor = minor.and_then(|m| m.parse::<u32>().ok()).unwrap_or(0);
                (major, minor) >= (3, 2)
            }
            _ => true,
        }
    }

    /// Loads `text` into the buffer (and, where tmux can, the outer terminal's clipboard); where it went.
    pub fn load(&mut self, text: &str) -> Result<Reach, String> {
        let reach = if !self.has_load_buffer_w() {
            self.run(&["load-buffer", "-b", BUFFER, "-"], Some(text.as_bytes()))?;
            Reach::OldTmux
        } else {
            self.run(
                &["load-buffer", "-w", "-b", BUFFER, "-"],
                Some(text.as_bytes()),
            )?;
            let setting = self.run(&["show-options", "-gv", "set-clipboard"], None);
            match setting.as_ref().map(|s| s.trim_ascii()) {
                Ok(b"off") => Reach::ClipboardOff,
                _ => Reach::Terminal,
            }
        };
        self.reach = Some(reach);
        Ok(reach)
    }

    /// What the buffer holds, if it exists.
    pub fn contents(&self) -> Option<Zeroizing<String>> {
        let out = self.run(&["show-buffer", "-b", BUFFER], None).ok()?;
        Some(Zeroizing::new(String::from_utf8_lossy(&out).into_owned()))
    }

    /// Deletes the buffer (no error when it is already gone).
    pub fn delete(&self) -> Result<(), String> {
        match self.run(&["delete-buffer", "-b", BUFFER], None) {
            Ok(_) => Ok(()),
            Err(_) if self.contents().is_none() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Clipboard for Tmux {
    fn set(&mut self, text: &str) -> Result<(), String> {
        self.load(text).map(|_| ())
    }
    fn get(&mut self) -> Option<String> {
        Some(self.contents().map(|c| c.to_string()).unwrap_or_default())
    }
    fn clear(&mut self) -> Result<(), String> {
        self.delete()
    }
    fn name(&self) -> &'static str {
        "tmux buffer 'teamotp'"
    }
    fn note(&self) -> Option<&'static str> {
        self.reach.map(Reach::note)
    }
}

/// Inside tmux (without a display to use, or over SSH): tmux's buffer. Otherwise OSC 52 over SSH or
/// without a display, else the system clipboard, falling back to OSC 52.
pub fn choose(env: &Env) -> Box<dyn Clipboard> {
    // Read from Env, not std::env: tests pass their own.
    let remote = env.is_set("SSH_CONNECTION") || env.is_set("SSH_TTY");
    let display = env.is_set("DISPLAY") || env.is_set("WAYLAND_DISPLAY");
    if remote || !display {
        return match Tmux::from_env(env) {
            Some(tmux) => Box::new(tmux),
            None => Box::new(Osc52),
        };
    }
    match (arboard::Clipboard::new(), Tmux::from_env(env)) {
        (Ok(clipboard), _) => Box::new(System(clipboard)),
        (Err(_), Some(tmux)) => Box::new(tmux),
        (Err(_), None) => Box::new(Osc52),
    }
}
