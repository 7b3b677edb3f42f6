//! Writers for `list`: a table for people, CSV and JSON for scripts. Each takes any `impl Write`.

use std::borrow::Cow;
use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use crate::account::Account;
use crate::totp::Window;

/// One account and its codes at the moment of output.
pub struct Line<'a> {
    pub account: &'a Account,
    pub window: Window,
}

/// Width of the countdown bar in the table.
const BAR_WIDTH: u64 = 10;

/// Replaces control characters (escape sequences in a name could rewrite the terminal) with U+FFFD.
pub fn printable(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// The table: a `prev curr next` header, names aligned by display width, and each row's own countdown.
///
/// ```text
///                 prev   curr   next
/// AWS root        315306 135387 483601 [====      ] 12s
/// ```
pub fn table(out: &mut impl Write, lines: &[Line]) -> io::Result<()> {
    let labels: Vec<String> = lines
        .iter()
        .map(|l| printable(&l.account.label()).into_owned())
        .collect();
    let name_width = labels.iter().map(|l| l.width()).max().unwrap_or(0);
    let code_width = lines
        .iter()
        .map(|l| l.account.params.code_len())
        .max()
        .unwrap_or(6)
        .max(4);
    writeln!(
        out,
        "{:name_width$} {:code_width$} {:code_width$} next",
        "", "prev", "curr"
    )?;
    for (line, label) in lines.iter().zip(&labels) {
        let pad = name_width - label.width();
        let w = &line.window;
        writeln!(
            out,
            "{label}{:pad$} {:code_width$} {:code_width$} {:code_width$} {} {:>2}s",
            "",
            w.prev,
            w.curr,
            w.next,
            bar(w.remaining, w.period),
            w.remaining
        )?;
    }
    Ok(())
}

/// `[=======   ]`: the part of the period still left, rounded up so a valid code never shows empty.
pub fn bar(remaining: u64, period: u64) -> String {
    let filled = (remaining * BAR_WIDTH).div_ceil(period).min(BAR_WIDTH) as usize;
    format!(
        "[{}{}]",
        "=".repeat(filled),
        " ".repeat(BAR_WIDTH as usize - filled)
    )
}

/// CSV with the header `name,issuer,prev,curr,next,remaining` and RFC 4180 quoting.
pub fn csv(out: &mut impl Write, lines: &[Line]) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(["name", "issuer", "prev", "curr", "next", "remaining"])
        .map_err(io_error)?;
    for line in lines {
        let w = &line.window;
        let remaining = w.remaining.to_string();
        writer
            .write_record([
                line.account.name.as_str(),
                line.account.issuer.as_deref().unwrap_or(""),
                &w.prev,
                &w.curr,
                &w.next,
                &remaining,
            ])
            .map_err(io_error)?;
    }
    writer.flush()
}

/// The I/O error inside a csv error, so a closed pipe is still recognised as one.
fn io_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// A JSON array of objects: name, issuer (null if none), prev, curr, next, remaining, period, digits,
/// algorithm, type.
pub fn json(out: &mut impl Write, lines: &[Line]) -> io::Result<()> {
    let values: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| {
            let (a, w) = (line.account, &line.window);
            serde_json::json!({
                "name": a.name,
                "issuer": a.issuer,
                "prev": w.prev,
                "curr": w.curr,
                "next": w.next,
                "remaining": w.remaining,
                "period": a.params.period,
                "digits": a.params.code_len(),
                "algorithm": a.params.algorithm.as_str(),
                "type": a.params.kind.as_str(),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &values)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_fills_with_the_time_left() {
        assert_eq!(bar(30, 30), "[==========]");
        assert_eq!(bar(1, 30), "[=         ]");
        assert_eq!(bar(12, 30), "[====      ]");
        assert_eq!(bar(30, 60), "[=====     ]");
    }

    #[test]
    fn control_characters_are_replaced() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a\u{FFFD}[2Jb");
        assert!(matches!(printable("홈택스"), Cow::Borrowed(_)));
    }
}
