//! Writers for `list`: a table for people, CSV and JSON for scripts. Each takes any `impl Write`.

use std::borrow::Cow;
use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use crate::account::Account;
use crate::text::{is_unsafe, printable};
use crate::totp::Window;
use crate::trust::reenrol::Reenrol;

/// How `list` writes its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One otpauth:// URI per line (for authenticator apps and QR generators)
    Otpauth,
    /// Team CSV (what teamotp reads and writes)
    Csv,
}

/// One account and its codes at the moment of output.
pub struct Line<'a> {
    pub account: &'a Account,
    pub window: Window,
    /// The vault's name (its config name, or its file name).
    pub vault: &'a str,
    /// Several vaults are shown: the account is named `VAULT/NAME`.
    pub qualified: bool,
    /// The account waits for re-enrolment.
    pub reenrol: Option<&'a Reenrol>,
}

impl Line<'_> {
    /// The account's name, `VAULT/NAME` when several vaults are shown.
    pub fn name(&self) -> Cow<'_, str> {
        if self.qualified {
            Cow::Owned(format!("{}/{}", self.vault, self.account.name))
        } else {
            Cow::Borrowed(&self.account.name)
        }
    }

    /// The table's label: the name (qualified) with the issuer when it adds information.
    pub fn label(&self) -> String {
        if self.qualified {
            format!("{}/{}", self.vault, self.account.label())
        } else {
            self.account.label()
        }
    }
}

/// Width of the countdown bar in the table.
const BAR_WIDTH: u64 = 10;

/// The table: a `prev curr next` header, names aligned by display width, and each row's own countdown.
///
/// ```text
///                 prev   curr   next
/// AWS root        315306 135387 483601 [====      ] 12s
/// ```
pub fn table(out: &mut impl Write, lines: &[Line]) -> io::Result<()> {
    let labels: Vec<String> = lines
        .iter()
        .map(|l| printable(&l.label()).into_owned())
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

/// CSV with the header `name,issuer,prev,curr,next,remaining` and RFC 4180 quoting, written as the
/// lines come (10,000 accounts are never held as text at once). Quoting is the csv crate's (a field is
/// quoted when it holds `"`, `,`, CR or LF, and `"` is doubled); a test holds the two to each other.
pub fn csv<'a>(out: &mut impl Write, lines: impl IntoIterator<Item = Line<'a>>) -> io::Result<()> {
    csv_header(out)?;
    for line in lines {
        csv_line(out, &line)?;
    }
    Ok(())
}

/// The header line of [`csv`].
pub fn csv_header(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"name,issuer,prev,curr,next,remaining\n")
}

/// One line of [`csv`].
pub fn csv_line(out: &mut impl Write, line: &Line) -> io::Result<()> {
    let w = &line.window;
    if line.qualified {
        csv_field(out, &format!("{}/{}", line.vault, line.account.name))?;
    } else {
        csv_field(out, &line.account.name)?;
    }
    out.write_all(b",")?;
    csv_field(out, line.account.issuer.as_deref().unwrap_or(""))?;
    // The codes (digits, or Steam's letters and digits: nothing to quote) and the seconds left, as one
    // write.
    let mut tail = [0u8; 64];
    let mut at = 0;
    for part in [w.prev.as_bytes(), w.curr.as_bytes(), w.next.as_bytes()] {
        tail[at] = b',';
        tail[at + 1..at + 1 + part.len()].copy_from_slice(part);
        at += 1 + part.len();
    }
    tail[at] = b',';
    at += 1;
    at += decimal(w.remaining, &mut tail[at..]);
    tail[at] = b'\n';
    out.write_all(&tail[..=at])
}

/// One CSV field: as it is, or in double quotes with `"` doubled when it holds `"`, `,`, CR or LF.
fn csv_field(out: &mut impl Write, text: &str) -> io::Result<()> {
    let bytes = text.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b'"' | b',' | b'\n' | b'\r'))
    {
        return out.write_all(bytes);
    }
    out.write_all(b"\"")?;
    for piece in bytes.split_inclusive(|b| *b == b'"') {
        out.write_all(piece)?;
        if piece.last() == Some(&b'"') {
            out.write_all(b"\"")?;
        }
    }
    out.write_all(b"\"")
}

/// `n` in decimal at the start of `out` (room for 20 digits), without the formatting machinery (once per
/// row of a large `list`); returns the number of digits.
fn decimal(mut n: u64, out: &mut [u8]) -> usize {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = digits.len() - at;
    out[..len].copy_from_slice(&digits[at..]);
    len
}

/// A JSON array of objects: name (`VAULT/NAME` when several vaults are shown), vault, issuer (null if
/// none), prev, curr, next, remaining, period, digits, algorithm, type, reenrol (null, or since and
/// members).
pub fn json(out: &mut impl Write, lines: &[Line]) -> io::Result<()> {
    let values: Vec<serde_json::Value> = lines
        .iter()
        .map(|line| {
            let (a, w) = (line.account, &line.window);
            let reenrol = line
                .reenrol
                .map(|m| serde_json::json!({ "since": m.since, "members": m.members }));
            serde_json::json!({
                "name": line.name(),
                "vault": line.vault,
                "issuer": a.issuer,
                "prev": w.prev.as_str(),
                "curr": w.curr.as_str(),
                "next": w.next.as_str(),
                "remaining": w.remaining,
                "period": a.params.period,
                "digits": a.params.code_len(),
                "algorithm": a.params.algorithm.as_str(),
                "type": a.params.kind.as_str(),
                "reenrol": reenrol,
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&values)?;
    writeln!(out, "{}", json_escape(&text))
}

/// JSON text with every [`is_unsafe`](crate::text::is_unsafe) character but its line breaks written as a `\uXXXX` escape:
/// serde_json leaves U+202E, DEL, C1 and the zero-width characters raw, and a script piping the JSON to a
/// terminal would show them. Outside strings the JSON holds only ASCII punctuation, spaces and line
/// breaks, and inside them serde_json has already escaped C0, so the result is the same JSON value.
fn json_escape(text: &str) -> Cow<'_, str> {
    let needs = |c: char| is_unsafe(c) && c != '\n';
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs(c) {
            // Beyond the BMP (tags, musical formatting): a UTF-16 surrogate pair, as JSON requires.
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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

    /// The CSV writer quotes exactly as the csv crate does (what `list --format csv` wrote before), on
    /// random names and issuers with quotes, commas, line breaks, spaces, non-ASCII and control characters.
    #[test]
    fn csv_quotes_as_the_csv_crate_does() {
        use crate::account::Params;
        use proptest::prelude::*;
        let config = ProptestConfig {
            cases: 2000,
            ..ProptestConfig::default()
        };
        proptest!(config, |(
            name in "[a-z \"',\\r\\n\t;é홈\u{1b}\u{202e}]{0,12}",
            issuer in proptest::option::of("[a-z \"',\\r\\n;é]{0,8}"),
            vault in "[a-z,\"]{1,4}",
            qualified in any::<bool>(),
            remaining in 0u64..100_000,
        )| {
            let account = Account {
                name: name.clone(),
                issuer: issuer.clone(),
                params: Params::default(),
                secret: crate::secret::decode("JBSWY3DPEHPK3PXP").unwrap(),
            };
            let mut window = crate::totp::window(&account, 1_700_000_000);
            window.remaining = remaining;
            let line = || Line { account: &account, window, vault: &vault, qualified, reenrol: None };
            let mut ours = Vec::new();
            csv(&mut ours, [line(), line()]).unwrap();
            let mut theirs = csv::Writer::from_writer(Vec::new());
            theirs.write_record(["name", "issuer", "prev", "curr", "next", "remaining"]).unwrap();
            for _ in 0..2 {
                let l = line();
                theirs.write_record([
                    l.name().as_ref(),
                    issuer.as_deref().unwrap_or(""),
                    &window.prev,
                    &window.curr,
                    &window.next,
                    &remaining.to_string(),
                ]).unwrap();
            }
            let theirs = theirs.into_inner().unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
        });
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 1, 9, 10, 29, 30, 100, 86_400, u64::MAX] {
            let mut out = [0u8; 20];
            let len = decimal(n, &mut out);
            assert_eq!(std::str::from_utf8(&out[..len]).unwrap(), n.to_string());
        }
    }

    #[test]
    fn json_escapes_unsafe_characters_and_keeps_the_value() {
        let name = "Evil\u{1b}[2A\u{7f}\u{9b}\u{202e}x\u{200b}\u{e0041}\ty\n";
        let text = serde_json::to_string_pretty(&serde_json::json!({ "name": name })).unwrap();
        let escaped = json_escape(&text);
        assert!(
            escaped.contains("\\u202e") && escaped.contains("\\udb40\\udc41"),
            "{escaped}"
        );
        assert!(
            !escaped.chars().any(|c| is_unsafe(c) && c != '\n'),
            "{escaped}"
        );
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back["name"], name);
    }
}
