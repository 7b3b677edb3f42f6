//! Drawing the TUI: `render(&App, &mut Frame)`, no I/O and no clock.
//!
//! Layout, top to bottom: a title line, the column header, the account rows, a status line and the key
//! footer (or the filter input while filtering). Columns are laid out by display width, so Korean and
//! other wide names align; a narrow terminal drops the prev/next columns, then the bar, before it
//! truncates names.
//!
//! Every text that comes from a file or the user (the vault's name, account names, reasons, the filter,
//! status messages) goes through `printable`, so a hostile name cannot move the cursor or hide.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Entry, Slot};
use crate::text::printable;

/// Smallest terminal that can show at least one account.
pub const MIN_WIDTH: u16 = 30;
pub const MIN_HEIGHT: u16 = 6;
/// Lines that are not account rows: title, column header, status, footer.
const CHROME: u16 = 4;
const BAR_WIDTH: usize = 10;
/// A code in its last seconds changes colour.
pub const EXPIRING_SECONDS: u64 = 5;

const TITLE: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
const HEADER: Style = Style::new().add_modifier(Modifier::BOLD);
const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
const CURRENT: Style = Style::new().add_modifier(Modifier::BOLD);
const EXPIRING: Style = Style::new()
    .fg(Color::Red)
    .add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED));
const OTHER_CODE: Style = Style::new().add_modifier(Modifier::DIM);
const BAR: Style = Style::new().fg(Color::Green);
const BAR_EXPIRING: Style = Style::new().fg(Color::Red);
const INVALID: Style = Style::new().fg(Color::Red);
const STATUS: Style = Style::new().fg(Color::Yellow);
const KEY: Style = Style::new().add_modifier(Modifier::BOLD);
const GROUP: Style = Style::new()
    .fg(Color::Cyan)
    .add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED));
const REENROL: Style = Style::new().fg(Color::Yellow);
/// Shown after the name of an account that waits for re-enrolment.
pub const REENROL_MARK: &str = " ⚑re-enrol";

/// How many account rows fit in a terminal of `height` lines.
pub fn viewport_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(CHROME).max(1))
}

/// The position in `App::visible` of the row drawn at screen line `y`, if any.
pub fn row_at(app: &App, area: Rect, y: u16) -> Option<usize> {
    let first = area.y + 2;
    if y < first || y >= area.y + area.height.saturating_sub(2) {
        return None;
    }
    let line = app.offset() + usize::from(y - first);
    if !app.grouped() {
        return (line < app.visible().len()).then_some(line);
    }
    match app.slots().get(line) {
        Some(Slot::Row(position)) => Some(*position),
        _ => None,
    }
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let paint = Painter { color: app.color() };
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small ({}x{}); teamotp needs at least {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text)
                .style(paint.style(INVALID))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let columns = Columns::fit(app, area.width);
    let line = |i: u16| Rect::new(area.x, area.y + i, area.width, 1);

    frame.render_widget(Paragraph::new(title(app, &paint, area.width)), line(0));
    frame.render_widget(
        Paragraph::new(columns.header()).style(paint.style(HEADER)),
        line(1),
    );
    let rows = viewport_rows(area.height);
    let slots = if app.grouped() {
        app.slots()
    } else {
        (app.offset()..app.visible().len().min(app.offset() + rows))
            .map(Slot::Row)
            .collect()
    };
    let skip = if app.grouped() { app.offset() } else { 0 };
    for (n, slot) in slots.iter().skip(skip).take(rows).enumerate() {
        let position = match *slot {
            Slot::Row(position) => position,
            Slot::Header(vault) => {
                let name = app.vaults().get(vault).map_or("", String::as_str);
                frame.render_widget(
                    Paragraph::new(format!(" {}", printable(name))).style(paint.style(GROUP)),
                    line(2 + n as u16),
                );
                continue;
            }
        };
        let entry = &app.entries()[app.visible()[position]];
        let selected = app.selected() == Some(position);
        let show_codes = !app.is_hidden() || selected;
        let mut row = columns.row(entry, show_codes, &paint);
        if selected {
            row = row.patch_style(SELECTED);
        }
        frame.render_widget(Paragraph::new(row), line(2 + n as u16));
    }
    if app.visible().is_empty() {
        let text = if app.entries().is_empty() {
            "The vault has no accounts.".to_owned()
        } else {
            format!(
                "No account matches '{}'. Esc clears the filter.",
                printable(app.filter())
            )
        };
        frame.render_widget(Paragraph::new(text), line(2));
    }
    frame.render_widget(
        Paragraph::new(status(app)).style(paint.style(STATUS)),
        line(area.height - 2),
    );
    frame.render_widget(
        Paragraph::new(footer(app, &paint, area.width)),
        line(area.height - 1),
    );
    if app.shows_help() {
        help(frame, area, &paint);
    }
}

/// Applies or strips colour (`NO_COLOR`, `--color never`); modifiers such as bold stay.
struct Painter {
    color: bool,
}

impl Painter {
    fn style(&self, style: Style) -> Style {
        if self.color {
            style
        } else {
            Style {
                fg: None,
                bg: None,
                ..style
            }
        }
    }
}

fn title(app: &App, paint: &Painter, width: u16) -> Line<'static> {
    let accounts = app.entries().iter().filter(|e| e.account.is_ok()).count();
    let invalid = app.entries().len() - accounts;
    let mut left = format!(
        " teamotp · {} · {accounts} accounts",
        printable(app.title())
    );
    if invalid > 0 {
        left.push_str(&format!(", {invalid} invalid"));
    }
    // A filter kept with Enter stays in sight: the list is not the whole vault.
    if !app.filter().is_empty() && !app.is_filtering() {
        left.push_str(&format!(" · filter '{}'", printable(app.filter())));
    }
    let right = format!("{} UTC ", crate::time::clock_face(app.now()));
    let left = fit(&left, usize::from(width).saturating_sub(right.width() + 1));
    let gap = usize::from(width).saturating_sub(left.width() + right.width());
    Line::from(vec![
        Span::styled(left, paint.style(TITLE)),
        Span::raw(" ".repeat(gap)),
        Span::raw(right),
    ])
}

fn status(app: &App) -> String {
    // The filter's match count stays beside a message: a copy must not hide how many rows are shown.
    let matches = (!app.filter().is_empty()).then(|| {
        format!(
            "{} of {} match '{}'",
            app.visible().len(),
            app.entries().len(),
            printable(app.filter())
        )
    });
    match (app.status_text(), matches) {
        (Some(text), Some(matches)) => format!(" {matches} · {}", printable(&text)),
        (Some(text), None) => format!(" {}", printable(&text)),
        (None, Some(matches)) => format!(" {matches}"),
        (None, None) => String::new(),
    }
}

/// The key hints that fit in `width`: whole hints are dropped, least needed first, and `? help` always
/// stays (it lists them all).
fn footer(app: &App, paint: &Painter, width: u16) -> Line<'static> {
    let keys: &[(&str, &str)] = if app.is_filtering() {
        &[("Esc", "clear"), ("Enter", "done"), ("↑↓", "move")]
    } else {
        &[
            ("↑↓", "move"),
            ("/", "filter"),
            ("Enter", "copy"),
            ("n/p", "next/prev"),
            ("h", "hide"),
            ("?", "help"),
            ("q", "quit"),
        ]
    };
    let mut spans = Vec::new();
    let mut used = 0;
    if app.is_filtering() {
        let input = format!(" /{}▏", printable(app.filter()));
        used += input.width();
        spans.push(Span::styled(input, paint.style(HEADER)));
    }
    // Dropped first to last: the hints the help overlay explains anyway.
    const DROP_ORDER: [&str; 6] = ["h", "n/p", "↑↓", "q", "/", "Enter"];
    let hint_width = |(key, action): &(&str, &str)| format!(" {key} {action} ").width();
    let mut shown: Vec<(&str, &str)> = keys.to_vec();
    for drop in DROP_ORDER {
        if used + shown.iter().map(hint_width).sum::<usize>() <= usize::from(width) {
            break;
        }
        shown.retain(|(key, _)| *key != drop);
    }
    for (key, action) in shown {
        spans.push(Span::styled(format!(" {key}"), paint.style(KEY)));
        spans.push(Span::raw(format!(" {action} ")));
    }
    Line::from(spans)
}

fn help(frame: &mut Frame, area: Rect, paint: &Painter) {
    const KEYS: &[(&str, &str)] = &[
        ("↑ ↓  j k", "move"),
        ("PgUp PgDn", "move a page"),
        ("Home End  g G", "first / last account"),
        ("/", "filter as you type (Esc clears)"),
        ("Enter (filter)", "keep the filter, back to moving"),
        ("Enter  c", "copy the current code"),
        ("n", "copy the next code"),
        ("p", "copy the previous code"),
        ("h", "hide / show codes"),
        ("click  wheel", "select (double-click copies), move"),
        ("?", "this help"),
        ("Ctrl-Z", "suspend (fg brings it back)"),
        ("q  Esc  Ctrl-C", "quit (clears a copied code)"),
    ];
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(format!("{k:>15}  "), paint.style(KEY)),
                Span::raw(*v),
            ])
        })
        .chain([Line::raw(""), Line::raw("Any key closes this help.")])
        .collect();
    let width = 56.min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys ")
                .title_alignment(Alignment::Center),
        ),
        rect,
    );
}

/// Column widths chosen for the terminal width.
struct Columns {
    name: usize,
    code: usize,
    /// Show the previous and next codes.
    neighbours: bool,
    /// Show the countdown bar (the seconds are always shown).
    bar: bool,
    seconds: usize,
}

const GAP: &str = "  ";

impl Columns {
    fn fit(app: &App, width: u16) -> Columns {
        let width = usize::from(width);
        let valid = || app.entries().iter().filter_map(|e| e.account.as_ref().ok());
        let code = valid()
            .map(|a| group(&"0".repeat(a.params.code_len())).width())
            .max()
            .unwrap_or(7)
            .max("Current".len());
        let seconds = valid()
            .map(|a| a.params.period.to_string().len() + 1)
            .max()
            .unwrap_or(3)
            .max(3);
        let name = app
            .entries()
            .iter()
            .map(|e| e.label.width() + if e.reenrol { REENROL_MARK.width() } else { 0 })
            .max()
            .unwrap_or(0)
            .max("Account".len());
        let needed = |neighbours: bool, bar: bool| {
            let codes = if neighbours { 3 } else { 1 };
            // Leading space, the code columns, then the countdown column.
            1 + codes * (GAP.len() + code) + GAP.len() + countdown(bar, seconds)
        };
        let (neighbours, bar) = [(true, true), (false, true), (false, false)]
            .into_iter()
            .find(|(n, b)| name + needed(*n, *b) <= width)
            .unwrap_or((false, false));
        let name = name.min(width.saturating_sub(needed(neighbours, bar)).max(4));
        Columns {
            name,
            code,
            neighbours,
            bar,
            // Without the bar, the seconds column is as wide as its header.
            seconds: countdown(bar, seconds) - if bar { BAR_WIDTH + 1 } else { 0 },
        }
    }

    fn header(&self) -> Line<'static> {
        let mut text = format!(" {}", pad("Account", self.name));
        if self.neighbours {
            // Never a cut word ("Previo…"): the short form when the column is narrower.
            let previous = if self.code >= "Previous".len() {
                "Previous"
            } else {
                "Prev"
            };
            text.push_str(&format!("{GAP}{}", pad(previous, self.code)));
        }
        text.push_str(&format!("{GAP}{}", pad("Current", self.code)));
        if self.neighbours {
            text.push_str(&format!("{GAP}{}", pad("Next", self.code)));
        }
        text.push_str(GAP);
        text.push_str("Left");
        Line::raw(text)
    }

    fn row(&self, entry: &Entry, show_codes: bool, paint: &Painter) -> Line<'static> {
        let mut spans = if entry.reenrol {
            let room = self.name.saturating_sub(REENROL_MARK.width());
            let name = fit(&entry.label, room);
            let fill = self
                .name
                .saturating_sub(name.width() + REENROL_MARK.width());
            vec![
                Span::raw(format!(" {name}")),
                Span::styled(REENROL_MARK, paint.style(REENROL)),
                Span::raw(" ".repeat(fill)),
            ]
        } else {
            vec![Span::raw(format!(" {}", pad(&entry.label, self.name)))]
        };
        let window = match (&entry.account, &entry.window) {
            (Ok(_), Some(window)) => window,
            (Err(reason), _) => {
                spans.push(Span::raw(GAP));
                spans.push(Span::styled(
                    format!("invalid: {}", printable(reason)),
                    paint.style(INVALID),
                ));
                return Line::from(spans);
            }
            (Ok(_), None) => return Line::from(spans),
        };
        let expiring = window.remaining <= EXPIRING_SECONDS;
        let shown = |code: &str| {
            let grouped = group(code);
            if show_codes {
                pad(&grouped, self.code)
            } else {
                pad(&mask(&grouped), self.code)
            }
        };
        if self.neighbours {
            spans.push(Span::raw(GAP));
            spans.push(Span::styled(shown(&window.prev), paint.style(OTHER_CODE)));
        }
        spans.push(Span::raw(GAP));
        let current = if expiring { EXPIRING } else { CURRENT };
        spans.push(Span::styled(shown(&window.curr), paint.style(current)));
        if self.neighbours {
            spans.push(Span::raw(GAP));
            spans.push(Span::styled(shown(&window.next), paint.style(OTHER_CODE)));
        }
        spans.push(Span::raw(GAP));
        if self.bar {
            let filled = (window.remaining as usize * BAR_WIDTH).div_ceil(window.period as usize);
            let filled = filled.min(BAR_WIDTH);
            let style = if expiring { BAR_EXPIRING } else { BAR };
            spans.push(Span::styled("█".repeat(filled), paint.style(style)));
            spans.push(Span::styled(
                "░".repeat(BAR_WIDTH - filled),
                paint.style(OTHER_CODE),
            ));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::raw(format!(
            "{:>width$}",
            format!("{}s", window.remaining),
            width = self.seconds
        )));
        Line::from(spans)
    }
}

/// Width of the countdown column: the bar and the seconds, or the seconds alone (at least "Left").
fn countdown(bar: bool, seconds: usize) -> usize {
    if bar {
        BAR_WIDTH + 1 + seconds
    } else {
        seconds.max("Left".len())
    }
}

/// Groups a code for reading: `123 456`, `123 4567`, `1234 5678`. Steam's 5 letters stay together.
pub fn group(code: &str) -> String {
    if code.len() < 6 || !code.is_ascii() {
        return code.to_owned();
    }
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a} {b}")
}

/// Hides a code but keeps its shape.
fn mask(grouped: &str) -> String {
    grouped
        .chars()
        .map(|c| if c == ' ' { ' ' } else { '•' })
        .collect()
}

/// Truncates `text` to `width` display columns (with `…` when cut) and pads it to exactly `width`.
pub fn pad(text: &str, width: usize) -> String {
    let fitted = fit(text, width);
    let fill = width.saturating_sub(fitted.width());
    format!("{fitted}{}", " ".repeat(fill))
}

/// Truncates `text` to at most `width` display columns, ending with `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(ch);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_codes_for_reading() {
        assert_eq!(group("123456"), "123 456");
        assert_eq!(group("1234567"), "123 4567");
        assert_eq!(group("12345678"), "1234 5678");
        assert_eq!(group("M6D57"), "M6D57");
    }

    #[test]
    fn pads_and_truncates_by_display_width() {
        assert_eq!(pad("홈택스", 8), "홈택스  ");
        assert_eq!(pad("홈택스 법인", 7), "홈택스…");
        assert_eq!(pad("abc", 2), "a…");
        assert_eq!(pad("", 3), "   ");
    }
}
