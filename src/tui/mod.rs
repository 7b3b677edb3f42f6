//! The interactive TUI: every account's previous, current and next code with a live countdown.
//!
//! `app` is the state (no I/O), `ui` draws it (no I/O), and this module is the loop: it reads the clock
//! once per frame, waits for input until the next second, and restores the terminal however it ends.

pub mod app;
pub mod clipboard;
pub mod terminal;
pub mod ui;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use crossterm::event::{
    self, Event, KeyCode, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};
#[cfg(unix)]
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGTSTP};

use crate::env::Env;
use crate::time;
use crate::vault::Loaded;
use crate::vault::load::{self, Keys};
use app::App;

/// A vault the TUI shows: its name, its file (none for the demo), and what opening it gave: the vault
/// and the keys that opened it (kept to reload it without asking), or why it could not be opened.
pub struct Vault {
    pub name: String,
    pub path: Option<PathBuf>,
    pub opened: Result<(Loaded, Keys), String>,
}

/// What identifies a version of a file on disk: a rename over it (every teamotp write, a `git pull`)
/// changes the inode, an edit in place the size or the modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    inode: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let metadata = std::fs::metadata(path).ok()?;
    // Windows has no inode number in std: a rename over the file still changes its modification time.
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        inode,
        len: metadata.len(),
        modified: metadata.modified().ok(),
    })
}

/// A vault's name and what opening it gave.
type Opened = (String, Result<Loaded, String>);

/// Watches the shown vault files: one `stat` per vault and second (the vault file itself, so its lock,
/// backup and staging files never count), and a reload with the kept keys when one changed.
struct Watch {
    /// Per vault: its file, the keys, and the stamp last read (None: no file to watch).
    files: Vec<Option<(PathBuf, Keys, Option<Stamp>)>>,
}

impl Watch {
    fn new(vaults: Vec<Vault>) -> (Watch, Vec<Opened>) {
        let mut files = Vec::new();
        let mut shown = Vec::new();
        for vault in vaults {
            match (vault.path, vault.opened) {
                (Some(path), Ok((loaded, keys))) => {
                    let seen = stamp(&path);
                    files.push(Some((path, keys, seen)));
                    shown.push((vault.name, Ok(loaded)));
                }
                (_, opened) => {
                    files.push(None);
                    shown.push((vault.name, opened.map(|(loaded, _)| loaded)));
                }
            }
        }
        (Watch { files }, shown)
    }

    /// Reloads every vault whose file changed since the last look.
    fn poll(&mut self, app: &mut App, env: &Env) -> bool {
        let mut changed = false;
        for (index, file) in self.files.iter_mut().enumerate() {
            let Some((path, keys, seen)) = file else {
                continue;
            };
            let now = stamp(path);
            if now == *seen {
                continue;
            }
            *seen = now;
            let label = path.display().to_string();
            match load::reload(path, label, keys, env) {
                Ok(loaded) => app.reload(index, Ok(&loaded)),
                Err(e) => app.reload(index, Err(e.message)),
            }
            changed = true;
        }
        changed
    }
}

/// How the TUI starts.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Start with codes hidden.
    pub hide: bool,
    /// Use colours.
    pub color: bool,
    /// Start the clock at this Unix time and let it run from there.
    pub at: Option<u64>,
}

/// Longest wait between checks for a signal; the screen itself is only redrawn on the second or on input.
const SIGNAL_CHECK: Duration = Duration::from_millis(250);

/// Runs the TUI until the user quits (exit 0) or a signal arrives (the process then ends with it).
pub fn run(vaults: Vec<Vault>, env: &Env, options: Options) -> Result<u8> {
    let started = time::now();
    let shift = options
        .at
        .map_or(0, |at| i128::from(at) - i128::from(started.as_secs()));
    let shifted =
        |real: Duration| -> u64 { u64::try_from(i128::from(real.as_secs()) + shift).unwrap_or(0) };

    let signal = Arc::new(AtomicUsize::new(0));
    watch_signals(Arc::clone(&signal))?;

    let (mut watch, shown) = Watch::new(vaults);
    let shown: Vec<(String, Result<&Loaded, String>)> = shown
        .iter()
        .map(|(name, vault)| (name.clone(), vault.as_ref().map_err(Clone::clone)))
        .collect();
    let mut app = App::with_vaults(&shown, shifted(started), clipboard::choose(env))
        .with_hidden(options.hide)
        .with_color(options.color);
    drop(shown);
    let mut terminal = terminal::enter().context("cannot set up the terminal")?;
    let mut reload = |app: &mut App| watch.poll(app, env);
    let result = event_loop(&mut terminal, &mut app, &signal, &shifted, &mut reload);
    if signal.load(Ordering::SeqCst) != 0 {
        app.quit();
    }
    terminal::leave();
    let sig = signal.load(Ordering::SeqCst);
    if sig != 0 {
        // Die the conventional way (status 128 + signal), now that the terminal is restored.
        #[cfg(unix)]
        let _ = signal_hook::low_level::emulate_default_handler(sig as i32);
        return Ok(128 + sig as u8);
    }
    result.map(|()| 0)
}

/// How long the loop has to notice a signal before the watcher restores the terminal and ends the process
/// itself. A terminal that hung up can keep crossterm's input reader busy, so the loop may never get to it.
#[cfg(unix)]
const SIGNAL_GRACE: Duration = Duration::from_millis(750);

/// Records SIGINT, SIGTERM and SIGHUP for the loop (which clears a copied code, restores the terminal and
/// ends with the signal), and ends the process the same way if the loop has not done so in time.
#[cfg(unix)]
fn watch_signals(signal: Arc<AtomicUsize>) -> Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .context("cannot install signal handlers")?;
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            signal.store(sig as usize, Ordering::SeqCst);
            std::thread::sleep(SIGNAL_GRACE);
            terminal::leave();
            let _ = signal_hook::low_level::emulate_default_handler(sig);
            std::process::exit(128 + sig);
        }
    });
    Ok(())
}

/// Windows has no SIGHUP and no signal iterator: Ctrl-C arrives as a key in raw mode (the app quits on it),
/// and a Ctrl-C or Ctrl-Break sent to the console by another program sets the flag the loop checks, so
/// the console is restored before the process ends. A closed console window takes the screen with it.
#[cfg(windows)]
fn watch_signals(signal: Arc<AtomicUsize>) -> Result<()> {
    use signal_hook::consts::{SIGBREAK, SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM, SIGBREAK] {
        signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)
            .context("cannot install signal handlers")?;
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn watch_signals(_: Arc<AtomicUsize>) -> Result<()> {
    Ok(())
}

fn event_loop(
    terminal: &mut terminal::Tui,
    app: &mut App,
    signal: &AtomicUsize,
    shifted: &dyn Fn(Duration) -> u64,
    reload: &mut dyn FnMut(&mut App) -> bool,
) -> Result<()> {
    let mut drawn_at = None;
    let mut dirty = true;
    loop {
        let real = time::now();
        let now = shifted(real);
        if drawn_at != Some(now) {
            // Once a second: the vault files changed on disk?
            reload(app);
            app.tick(now);
            dirty = true;
        }
        if dirty {
            let size = terminal.size()?;
            app.set_viewport(ui::viewport_rows(size.height));
            terminal.draw(|frame| ui::render(app, frame))?;
            drawn_at = Some(now);
            dirty = false;
        }
        if app.should_quit() || signal.load(Ordering::SeqCst) != 0 {
            return Ok(());
        }
        let to_next_second = Duration::from_nanos(u64::from(1_000_000_000 - real.subsec_nanos()));
        if !event::poll(to_next_second.min(SIGNAL_CHECK))? {
            continue;
        }
        match event::read()? {
            Event::Key(key)
                if key.kind == KeyEventKind::Press
                    && key.code == KeyCode::Char('z')
                    && key.modifiers.contains(KeyModifiers::CONTROL) =>
            {
                suspend(terminal)?;
            }
            Event::Key(key) => app.handle_key(key),
            Event::Mouse(mouse) => match mouse.kind {
                MouseEventKind::Down(MouseButton::Left) => {
                    let area = terminal.size()?;
                    let area = ratatui::layout::Rect::new(0, 0, area.width, area.height);
                    app.click(ui::row_at(app, area, mouse.row), time::now().as_millis());
                }
                MouseEventKind::ScrollDown => app.select_next(),
                MouseEventKind::ScrollUp => app.select_previous(),
                _ => continue,
            },
            Event::Resize(..) => {}
            _ => continue,
        }
        dirty = true;
    }
}

/// Ctrl-Z: give the terminal back, stop like any job, and take it again on `fg`. Windows has no job
/// control: there Ctrl-Z does nothing.
fn suspend(terminal: &mut terminal::Tui) -> Result<()> {
    if cfg!(not(unix)) {
        return Ok(());
    }
    terminal::leave();
    #[cfg(unix)]
    signal_hook::low_level::raise(SIGTSTP)?;
    terminal::resume()?;
    // A fresh terminal object has empty buffers, so the next frame redraws everything (without the
    // cursor-position query that `Terminal::clear` makes).
    *terminal = ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
    Ok(())
}
