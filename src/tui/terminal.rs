//! Terminal setup and restore. The terminal is given back as it was on quit, on an error, on a panic
//! (a panic hook) and on SIGINT, SIGTERM and SIGHUP (handled by the loop in `tui::run`).

use std::io::{self, Stdout, stdout};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tui = Terminal<CrosstermBackend<Stdout>>;

/// Enters raw mode, the alternate screen and mouse capture, after installing a panic hook that
/// restores the terminal before the panic message is printed.
pub fn enter() -> io::Result<Tui> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        previous(info);
    }));
    resume()?;
    Terminal::new(CrosstermBackend::new(stdout()))
}

/// Puts the terminal into TUI mode (again, after a suspend).
pub fn resume() -> io::Result<()> {
    enable_raw_mode()?;
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        cursor::Hide
    )
}

/// Restores the terminal. Safe to call more than once, and when the terminal is gone (SIGHUP).
pub fn leave() {
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
}
