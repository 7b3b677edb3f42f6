//! The real clipboards: the system clipboard (arboard, kept alive while the TUI runs so X11 keeps the
//! selection), and OSC 52 through the terminal when there is no display or the session is over SSH.

use std::io::Write;

use crossterm::clipboard::CopyToClipboard;

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

/// OSC 52: the terminal (or tmux, or the SSH client's terminal) sets its clipboard. It cannot be read
/// back, so clearing cannot check that the clipboard still holds our code. Under tmux (`tmux` true) an
/// empty OSC 52 selection is ignored: the clipboard cannot be cleared at all.
pub struct Osc52 {
    pub tmux: bool,
}

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
    fn can_clear(&self) -> bool {
        !self.tmux
    }
}

fn write_osc52(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout();
    crossterm::execute!(out, CopyToClipboard::to_clipboard_from(text.as_bytes()))
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

/// OSC 52 over SSH or without a display; otherwise the system clipboard, falling back to OSC 52.
pub fn choose(env: &Env) -> Box<dyn Clipboard> {
    let remote = env.is_set("SSH_CONNECTION") || env.is_set("SSH_TTY");
    let display = env.is_set("DISPLAY") || env.is_set("WAYLAND_DISPLAY");
    // Read from Env, not std::env: tests pass their own.
    let osc52 = Osc52 {
        tmux: env.is_set("TMUX"),
    };
    if remote || !display {
        return Box::new(osc52);
    }
    match arboard::Clipboard::new() {
        Ok(clipboard) => Box::new(System(clipboard)),
        Err(_) => Box::new(osc52),
    }
}
