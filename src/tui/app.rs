//! TUI state and key handling. No I/O: the time comes in through `tick`, keys through `handle_key`, and the
//! clipboard is a trait object, so tests drive an `App` with a fixed time and a fake clipboard.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use zeroize::Zeroizing;

use crate::account::Account;
use crate::text::printable;
use crate::totp::{self, Window};
use crate::vault::Loaded;

/// Where copied codes go. The real one is the system clipboard or OSC 52; tests use a fake.
pub trait Clipboard {
    /// Puts `text` on the clipboard.
    fn set(&mut self, text: &str) -> Result<(), String>;
    /// What the clipboard holds now, or `None` when it cannot be read (OSC 52).
    fn get(&mut self) -> Option<String>;
    /// Empties the clipboard.
    fn clear(&mut self) -> Result<(), String>;
    /// How the clipboard is named in the status line.
    fn name(&self) -> &'static str;
    /// False when clearing cannot work: the status then says the code will stay rather than claiming it
    /// was cleared.
    fn can_clear(&self) -> bool {
        true
    }
    /// What else the user should know about the last copy (tmux: the terminal's clipboard got it too and
    /// keeps it, or the one setting that would pass it on), shown after the copy and expiry messages.
    fn note(&self) -> Option<&'static str> {
        None
    }
}

/// Which of an account's three codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Prev,
    Curr,
    Next,
}

impl Which {
    fn describe(self) -> &'static str {
        match self {
            Which::Prev => "previous",
            Which::Curr => "current",
            Which::Next => "next",
        }
    }
}

/// One row of the table: an account with its codes, or an invalid row with its reason.
pub struct Entry {
    /// Name (with the issuer when it adds information), safe to print.
    pub label: String,
    /// Index of its vault in [`App::vaults`].
    pub vault: usize,
    /// The account waits for re-enrolment (a member who could read it was removed).
    pub reenrol: bool,
    /// The account's name as written, to keep it selected across a reload.
    name: String,
    /// What the filter matches against: name and issuer.
    haystack: String,
    pub account: Result<Account, String>,
    /// The codes at the current tick (None for invalid rows).
    pub window: Option<Window>,
    /// `now / period` when `window` was computed: codes are recomputed when it changes.
    counter: u64,
}

impl Entry {
    fn refresh(&mut self, now: u64) {
        let Ok(account) = &self.account else { return };
        let counter = now / account.params.period;
        match &mut self.window {
            Some(window) if counter == self.counter => {
                window.remaining = totp::remaining(account.params.period, now);
            }
            _ => {
                self.window = Some(totp::window(account, now));
                self.counter = counter;
            }
        }
    }
}

/// The rows of one vault, valid or not, in file order.
fn entries_of(vault: &Loaded, index: usize) -> Vec<Entry> {
    vault
        .parsed
        .rows
        .iter()
        .map(|row| match &row.entry {
            Ok(account) => Entry {
                label: printable(&account.label()).into_owned(),
                vault: index,
                reenrol: row.reenrol.is_some(),
                name: account.name.clone(),
                haystack: format!(
                    "{} {}",
                    account.name,
                    account.issuer.as_deref().unwrap_or("")
                ),
                account: Ok(account.clone()),
                window: None,
                counter: 0,
            },
            Err(reason) => Entry {
                label: if row.name().is_empty() {
                    format!("line {}", row.line)
                } else {
                    printable(row.name()).into_owned()
                },
                vault: index,
                reenrol: false,
                name: row.name().to_owned(),
                haystack: row.name().to_owned(),
                account: Err(format!("line {}: {reason}", row.line)),
                window: None,
                counter: 0,
            },
        })
        .collect()
}

/// The row standing for a vault that could not be opened.
fn unopened(name: &str, index: usize, reason: &str) -> Entry {
    Entry {
        label: printable(name).into_owned(),
        vault: index,
        reenrol: false,
        name: String::new(),
        haystack: name.to_owned(),
        account: Err(format!("cannot be opened: {reason}")),
        window: None,
        counter: 0,
    }
}

/// A message in the status line and the time it disappears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub until: u64,
    /// Ends with "; cleared in N s", counted down to `until`.
    pub countdown: bool,
    /// Shown after the countdown (what else happened to the copy).
    pub note: Option<&'static str>,
}

impl Status {
    /// The text as shown at `now`: a countdown is recomputed every second.
    pub fn shown(&self, now: u64) -> String {
        let text = if self.countdown {
            format!(
                "{}; cleared in {} s",
                self.text,
                self.until.saturating_sub(now)
            )
        } else {
            self.text.clone()
        };
        match self.note {
            Some(note) => format!("{text}; {note}"),
            None => text,
        }
    }
}

/// What we put on the clipboard, so we clear it only while it still holds our value.
struct Copied {
    text: Zeroizing<crate::totp::Code>,
    expires_at: u64,
}

/// How long a plain status message stays.
const STATUS_SECONDS: u64 = 4;
/// Two clicks on the same row within this many milliseconds are a double click.
const DOUBLE_CLICK_MS: u128 = 500;

/// A line of the table: a vault's header (when several are shown) or a row (a position in `visible`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Header(usize),
    Row(usize),
}

/// How long a reload's message stays.
const RELOAD_SECONDS: u64 = 10;
/// How long a failed reload's message stays.
const RELOAD_FAILED_SECONDS: u64 = 30;

pub struct App {
    title: String,
    /// The vaults shown, by name, in order.
    vaults: Vec<String>,
    entries: Vec<Entry>,
    /// Indices into `entries` of the rows shown, in display order.
    visible: Vec<usize>,
    /// Index into `visible`.
    selected: usize,
    /// First visible row drawn (scrolling).
    offset: usize,
    /// How many rows fit in the table (set by the shell from the terminal size).
    viewport: usize,
    now: u64,
    filter: String,
    filtering: bool,
    hidden: bool,
    help: bool,
    color: bool,
    status: Option<Status>,
    copied: Option<Copied>,
    clipboard: Box<dyn Clipboard>,
    last_click: Option<(usize, u128)>,
    quit: bool,
    matcher: Matcher,
}

impl App {
    /// Builds the state for `vault` at `now`. Invalid rows stay in place with their reason.
    pub fn new(vault: &Loaded, now: u64, clipboard: Box<dyn Clipboard>) -> Self {
        Self::with_vaults(&[(vault.label.clone(), Ok(vault))], now, clipboard)
    }

    /// Builds the state for several vaults (by name; one that could not be opened is shown as a row
    /// saying why) at `now`.
    pub fn with_vaults(
        vaults: &[(String, Result<&Loaded, String>)],
        now: u64,
        clipboard: Box<dyn Clipboard>,
    ) -> Self {
        let mut entries = Vec::new();
        for (index, (name, vault)) in vaults.iter().enumerate() {
            match vault {
                Ok(vault) => entries.extend(entries_of(vault, index)),
                Err(reason) => entries.push(unopened(name, index, reason)),
            }
        }
        let visible = (0..entries.len()).collect();
        let names: Vec<String> = vaults.iter().map(|(n, _)| n.clone()).collect();
        let mut app = App {
            title: names.join(", "),
            vaults: names,
            entries,
            visible,
            selected: 0,
            offset: 0,
            viewport: usize::MAX,
            now,
            filter: String::new(),
            filtering: false,
            hidden: false,
            help: false,
            color: true,
            status: None,
            copied: None,
            clipboard,
            last_click: None,
            quit: false,
            matcher: Matcher::new(Config::DEFAULT),
        };
        for entry in &mut app.entries {
            entry.refresh(now);
        }
        app
    }

    /// Replaces a vault's accounts with a fresh read of its file, keeping the filter and the selected
    /// account, and says what changed. A failed read keeps the accounts on screen and says why.
    pub fn reload(&mut self, vault: usize, read: Result<&Loaded, String>) {
        let Some(name) = self.vaults.get(vault).cloned() else {
            return;
        };
        let loaded = match read {
            Ok(loaded) => loaded,
            Err(reason) => {
                self.set_status(
                    format!("{name}: reload failed, showing the accounts read before: {reason}"),
                    RELOAD_FAILED_SECONDS,
                );
                return;
            }
        };
        let kept = self
            .selected_entry()
            .map(|e| (e.vault, e.name.clone(), e.label.clone()));
        let old: Vec<String> = self
            .entries
            .iter()
            .filter(|e| e.vault == vault && e.account.is_ok())
            .map(|e| e.name.clone())
            .collect();
        let mut fresh = entries_of(loaded, vault);
        for entry in &mut fresh {
            entry.refresh(self.now);
        }
        let new: Vec<String> = fresh
            .iter()
            .filter(|e| e.account.is_ok())
            .map(|e| e.name.clone())
            .collect();
        let added = new.iter().filter(|n| !old.contains(n)).count();
        let removed = old.iter().filter(|n| !new.contains(n)).count();
        let at = self
            .entries
            .iter()
            .position(|e| e.vault == vault)
            .unwrap_or_else(|| self.entries.iter().filter(|e| e.vault < vault).count());
        self.entries.retain(|e| e.vault != vault);
        self.entries.splice(at..at, fresh);
        let position = self.selected;
        self.apply_filter(false);
        let found = kept.and_then(|(v, n, l)| {
            self.visible.iter().position(|&i| {
                let e = &self.entries[i];
                e.vault == v && e.name == n && e.label == l
            })
        });
        self.selected = found.unwrap_or(position.min(self.visible.len().saturating_sub(1)));
        self.scroll_to_selection();
        self.set_status(
            format!("{name}: reloaded, +{added} -{removed} accounts"),
            RELOAD_SECONDS,
        );
    }

    pub fn with_hidden(mut self, hidden: bool) -> Self {
        self.hidden = hidden;
        self
    }

    pub fn with_color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }

    // ---- what the renderer reads ----

    pub fn title(&self) -> &str {
        &self.title
    }
    /// The vaults shown, by name.
    pub fn vaults(&self) -> &[String] {
        &self.vaults
    }
    /// Accounts are grouped under a header per vault (more than one is shown).
    pub fn grouped(&self) -> bool {
        self.vaults.len() > 1
    }
    /// The table's lines from `offset()` on: vault headers (when grouped) and rows.
    pub fn slots(&self) -> Vec<Slot> {
        let mut slots = Vec::with_capacity(self.visible.len() + self.vaults.len());
        for (position, &index) in self.visible.iter().enumerate() {
            if self.starts_group(position) {
                slots.push(Slot::Header(self.entries[index].vault));
            }
            slots.push(Slot::Row(position));
        }
        slots
    }
    pub fn now(&self) -> u64 {
        self.now
    }
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// The rows shown, in display order, as indices into `entries`.
    pub fn visible(&self) -> &[usize] {
        &self.visible
    }
    /// The selected position in `visible` (None when nothing is shown).
    pub fn selected(&self) -> Option<usize> {
        (!self.visible.is_empty()).then_some(self.selected)
    }
    pub fn selected_entry(&self) -> Option<&Entry> {
        self.selected().map(|i| &self.entries[self.visible[i]])
    }
    pub fn offset(&self) -> usize {
        self.offset
    }
    pub fn filter(&self) -> &str {
        &self.filter
    }
    pub fn is_filtering(&self) -> bool {
        self.filtering
    }
    pub fn is_hidden(&self) -> bool {
        self.hidden
    }
    pub fn shows_help(&self) -> bool {
        self.help
    }
    pub fn color(&self) -> bool {
        self.color
    }
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }
    /// The status line's message as shown now (a countdown counts down).
    pub fn status_text(&self) -> Option<String> {
        self.status.as_ref().map(|s| s.shown(self.now))
    }
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    // ---- time ----

    /// Moves the clock to `now` (forwards or backwards): codes whose period changed are recomputed,
    /// expired status messages go, and a copied code that has expired is cleared from the clipboard.
    pub fn tick(&mut self, now: u64) {
        self.now = now;
        for entry in &mut self.entries {
            entry.refresh(now);
        }
        if self.status.as_ref().is_some_and(|s| s.until <= now) {
            self.status = None;
        }
        if self.copied.as_ref().is_some_and(|c| c.expires_at <= now) {
            self.clear_clipboard();
            let text = if self.clipboard.can_clear() {
                "The copied code expired; clipboard cleared"
            } else {
                "The copied code expired; the clipboard could not be cleared: clear it yourself"
            };
            self.set_status(text.into(), STATUS_SECONDS);
            self.set_note();
        }
    }

    /// Tells the state how many table rows fit, so scrolling keeps the selection visible.
    pub fn set_viewport(&mut self, rows: usize) {
        self.viewport = rows.max(1);
        self.scroll_to_selection();
    }

    // ---- input ----

    /// Handles one key press (releases and repeats from terminals that report them are ignored).
    pub fn handle_key(&mut self, key: KeyEvent) {
        if key.kind != KeyEventKind::Press {
            return;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.quit();
            return;
        }
        if self.help {
            self.help = false;
            return;
        }
        if self.filtering {
            self.filter_key(key);
            return;
        }
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.select_previous(),
            KeyCode::Down | KeyCode::Char('j') => self.select_next(),
            KeyCode::PageUp => self.page_up(),
            KeyCode::PageDown => self.page_down(),
            KeyCode::Home | KeyCode::Char('g') => self.select_first(),
            KeyCode::End | KeyCode::Char('G') => self.select_last(),
            KeyCode::Char('/') => self.start_filter(),
            KeyCode::Enter | KeyCode::Char('c') => self.copy(Which::Curr),
            KeyCode::Char('n') => self.copy(Which::Next),
            KeyCode::Char('p') => self.copy(Which::Prev),
            KeyCode::Char('h') => self.toggle_hidden(),
            KeyCode::Char('?') => self.help = true,
            KeyCode::Esc if !self.filter.is_empty() => self.clear_filter(),
            KeyCode::Esc | KeyCode::Char('q') => self.quit(),
            _ => {}
        }
    }

    fn filter_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => self.clear_filter(),
            KeyCode::Enter => self.filtering = false,
            KeyCode::Backspace => {
                self.filter.pop();
                self.apply_filter(false);
            }
            KeyCode::Up => self.select_previous(),
            KeyCode::Down => self.select_next(),
            KeyCode::PageUp => self.page_up(),
            KeyCode::PageDown => self.page_down(),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.push(c);
                self.apply_filter(false);
            }
            _ => {}
        }
    }

    /// A click on a table row (`None`: outside the rows). A second click on the same row within half a
    /// second copies its current code. `at_ms` is the click time in milliseconds from any fixed origin.
    pub fn click(&mut self, row: Option<usize>, at_ms: u128) {
        let Some(row) = row.filter(|r| *r < self.visible.len()) else {
            return;
        };
        self.selected = row;
        self.scroll_to_selection();
        let double = self
            .last_click
            .is_some_and(|(r, t)| r == row && at_ms.saturating_sub(t) <= DOUBLE_CLICK_MS);
        if double {
            self.copy(Which::Curr);
            self.last_click = None;
        } else {
            self.last_click = Some((row, at_ms));
        }
    }

    // ---- actions ----

    pub fn select_next(&mut self) {
        if self.selected + 1 < self.visible.len() {
            self.selected += 1;
        }
        self.scroll_to_selection();
    }

    pub fn select_previous(&mut self) {
        self.selected = self.selected.saturating_sub(1);
        self.scroll_to_selection();
    }

    pub fn page_down(&mut self) {
        let page = self.page();
        self.selected = (self.selected + page).min(self.visible.len().saturating_sub(1));
        self.scroll_to_selection();
    }

    pub fn page_up(&mut self) {
        self.selected = self.selected.saturating_sub(self.page());
        self.scroll_to_selection();
    }

    pub fn select_first(&mut self) {
        self.selected = 0;
        self.scroll_to_selection();
    }

    pub fn select_last(&mut self) {
        self.selected = self.visible.len().saturating_sub(1);
        self.scroll_to_selection();
    }

    pub fn start_filter(&mut self) {
        self.filtering = true;
    }

    pub fn clear_filter(&mut self) {
        self.filtering = false;
        self.filter.clear();
        self.apply_filter(true);
    }

    pub fn toggle_hidden(&mut self) {
        self.hidden = !self.hidden;
        let text = if self.hidden {
            "Codes hidden (only the selected row shows its codes); h shows them"
        } else {
            "Codes shown; h hides them"
        };
        self.set_status(text.into(), STATUS_SECONDS);
    }

    /// Copies one code of the selected account, and remembers it so it is cleared when it expires.
    pub fn copy(&mut self, which: Which) {
        let Some(entry) = self.selected_entry() else {
            return;
        };
        let (Ok(account), Some(window)) = (&entry.account, &entry.window) else {
            self.set_status(
                format!("'{}' is invalid: nothing to copy", entry.label),
                STATUS_SECONDS,
            );
            return;
        };
        let period = account.params.period;
        let (code, expires_at) = match which {
            // A previous code is typically still accepted until the current one expires.
            Which::Prev => (&window.prev, self.now.saturating_add(window.remaining)),
            Which::Curr => (&window.curr, self.now.saturating_add(window.remaining)),
            Which::Next => (
                &window.next,
                self.now
                    .saturating_add(window.remaining)
                    .saturating_add(period),
            ),
        };
        let code = Zeroizing::new(*code);
        let label = entry.label.clone();
        match self.clipboard.set(code.as_str()) {
            Ok(()) => {
                let seconds = expires_at.saturating_sub(self.now);
                let text = format!(
                    "Copied the {} code of '{label}' to the {}",
                    which.describe(),
                    self.clipboard.name()
                );
                self.copied = Some(Copied {
                    text: code,
                    expires_at,
                });
                if self.clipboard.can_clear() {
                    self.set_status(text, seconds);
                    if let Some(status) = &mut self.status {
                        status.countdown = true;
                    }
                } else {
                    self.set_status(
                        format!("{text}; it cannot be cleared: clear it yourself"),
                        seconds,
                    );
                }
                self.set_note();
            }
            Err(e) => self.set_status(format!("Could not copy: {e}"), STATUS_SECONDS),
        }
    }

    /// Clears the clipboard (if it still holds our code) and asks the loop to stop.
    pub fn quit(&mut self) {
        self.clear_clipboard();
        self.quit = true;
    }

    /// Empties the clipboard when it still holds what we copied (or when that cannot be known).
    pub fn clear_clipboard(&mut self) {
        if let Some(copied) = self.copied.take() {
            let ours = self
                .clipboard
                .get()
                .is_none_or(|current| *copied.text == current);
            if ours {
                let _ = self.clipboard.clear();
            }
        }
    }

    // ---- helpers ----

    /// Adds the clipboard's note about the last copy to the status line.
    fn set_note(&mut self) {
        let note = self.clipboard.note();
        if let Some(status) = &mut self.status {
            status.note = note;
        }
    }

    fn set_status(&mut self, text: String, seconds: u64) {
        // Status texts quote labels and clipboard errors: made safe here, once.
        let text = printable(&text).into_owned();
        self.status = Some(Status {
            text,
            until: self.now.saturating_add(seconds.max(1)),
            countdown: false,
            note: None,
        });
    }

    fn page(&self) -> usize {
        self.viewport.clamp(1, 1_000_000).saturating_sub(1).max(1)
    }

    fn scroll_to_selection(&mut self) {
        if self.viewport == usize::MAX {
            return;
        }
        let line = self.line_of(self.selected);
        // The header of the selected row's group shows with it.
        let top = if self.starts_group(self.selected) {
            line.saturating_sub(1)
        } else {
            line
        };
        if top < self.offset {
            self.offset = top;
        } else if line >= self.offset + self.viewport {
            self.offset = line + 1 - self.viewport;
        }
        let lines = self.line_of(self.visible.len().saturating_sub(1)) + 1;
        let max_offset = lines.saturating_sub(self.viewport);
        self.offset = self.offset.min(max_offset);
    }

    /// True when the row at `position` of `visible` is the first of its vault's group (grouped only).
    fn starts_group(&self, position: usize) -> bool {
        self.grouped()
            && self.visible.get(position).is_some_and(|&i| {
                position == 0
                    || self.entries[self.visible[position - 1]].vault != self.entries[i].vault
            })
    }

    /// The table line of the row at `position` of `visible` (rows plus the headers before it).
    fn line_of(&self, position: usize) -> usize {
        if !self.grouped() || self.visible.is_empty() {
            return position;
        }
        let position = position.min(self.visible.len() - 1);
        position + (0..=position).filter(|&p| self.starts_group(p)).count()
    }

    /// Re-ranks the rows for the filter (fuzzy, case-insensitive, on name and issuer). While typing the
    /// best match is selected; when the filter is cleared the selected account stays selected.
    fn apply_filter(&mut self, keep_selection: bool) {
        let keep = self
            .selected()
            .map(|i| self.visible[i])
            .filter(|_| keep_selection);
        if self.filter.is_empty() {
            self.visible = (0..self.entries.len()).collect();
        } else {
            let pattern = Pattern::parse(&self.filter, CaseMatching::Ignore, Normalization::Smart);
            let mut buf = Vec::new();
            let mut scored: Vec<(usize, u32)> = self
                .entries
                .iter()
                .enumerate()
                .filter_map(|(i, e)| {
                    pattern
                        .score(Utf32Str::new(&e.haystack, &mut buf), &mut self.matcher)
                        .map(|s| (i, s))
                })
                .collect();
            scored.sort_by_key(|(_, score)| std::cmp::Reverse(*score));
            // Grouped: each vault's matches under its header, best first.
            scored.sort_by_key(|(i, _)| self.entries[*i].vault);
            self.visible = scored.into_iter().map(|(i, _)| i).collect();
        }
        self.selected = keep
            .and_then(|k| self.visible.iter().position(|v| *v == k))
            .unwrap_or(0);
        self.offset = 0;
        self.scroll_to_selection();
    }
}
