//! What the secrets file says: its two layouts (team CSV and gauth lines, with otpauth URIs), detected
//! and parsed into rows, each an account or the reason it is unusable.
//!
//! Pure: bytes in, rows out. [`records`] splits the text into zeroizing fields, [`csv`] and [`gauth`] read
//! the two layouts, [`otpauth`] reads and writes `otpauth://` URIs.

mod csv;
mod gauth;
pub mod otpauth;
pub mod records;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

use crate::account::{Account, ParamError};
use crate::secret::SecretError;
use crate::trust::reenrol::Reenrol;

/// The two layouts a secrets file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 4180 CSV with a header naming the columns (what teamotp writes).
    TeamCsv,
    /// gauth's `name:secret` lines, and otpauth URIs, one per line.
    Gauth,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::TeamCsv => "team CSV",
            Format::Gauth => "gauth lines",
        })
    }
}

/// Why a row is unusable. The messages never contain any part of a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("account name is empty")]
    EmptyName,
    #[error("no ':' between the account name and the secret (gauth lines are NAME:SECRET)")]
    NoColon,
    #[error("the row is not valid UTF-8 (save the file as UTF-8)")]
    NotUtf8,
    #[error(
        "the row has {got} fields but the header has {want} (quote a field that contains a comma)"
    )]
    Fields { got: usize, want: usize },
    #[error("the row has 1 field but the header has {want} (a secret on a line of its own?)")]
    LoneField { want: usize },
    /// The name is the only non-empty cell: most likely a secret pasted into the name column, so the
    /// name is never shown (the row's `name` is empty too).
    #[error("the row has no secret, only a name (is the secret in the name column?)")]
    NameOnly,
    #[error("HOTP (counter-based) accounts are not supported, only TOTP")]
    Hotp,
    #[error("{0}")]
    Uri(String),
}

/// One account row of the file: usable, or the reason it is not. Invalid rows keep their place.
#[derive(Debug)]
pub struct Row {
    /// 1-based line where the row starts.
    pub line: usize,
    /// The name of an invalid row as written (empty when the row is too broken to have one); a valid
    /// row's name is its account's (held once: see [`Row::name`]).
    invalid_name: String,
    pub entry: Result<Account, Reason>,
    /// Cells of columns teamotp does not know, as (header, value), kept for writing the file back.
    pub extra: Vec<(String, String)>,
    /// The account waits for re-enrolment (team CSV's `reenrol` column).
    pub reenrol: Option<Reenrol>,
}

/// A whole file, parsed.
#[derive(Debug)]
pub struct Parsed {
    pub format: Format,
    pub rows: Vec<Row>,
}

impl Row {
    /// A row: its account, or why it is unusable and the name it was written with.
    pub fn new(
        line: usize,
        entry: Result<Account, (String, Reason)>,
        extra: Vec<(String, String)>,
        reenrol: Option<Reenrol>,
    ) -> Row {
        let (invalid_name, entry) = match entry {
            Ok(account) => (String::new(), Ok(account)),
            Err((name, reason)) => (name, Err(reason)),
        };
        Row {
            line,
            invalid_name,
            entry,
            extra,
            reenrol,
        }
    }

    /// The account name as written (empty when the row is too broken to have one).
    pub fn name(&self) -> &str {
        match &self.entry {
            Ok(account) => &account.name,
            Err(_) => &self.invalid_name,
        }
    }
}

impl Parsed {
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.rows.iter().filter_map(|r| r.entry.as_ref().ok())
    }

    pub fn invalid(&self) -> impl Iterator<Item = (&Row, &Reason)> {
        self.rows
            .iter()
            .filter_map(|r| r.entry.as_ref().err().map(|e| (r, e)))
    }

    /// Names that appear on more than one row (ASCII case ignored), with the lines they appear on, in
    /// the order of their first appearance. Linear: one hash look-up per row.
    pub fn duplicate_names(&self) -> Vec<(String, Vec<usize>)> {
        let mut seen: Vec<(String, Vec<usize>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::with_capacity(self.rows.len());
        for row in self.rows.iter().filter(|r| !r.name().is_empty()) {
            match index.entry(row.name().to_ascii_lowercase()) {
                Entry::Occupied(at) => seen[*at.get()].1.push(row.line),
                Entry::Vacant(slot) => {
                    slot.insert(seen.len());
                    seen.push((row.name().to_owned(), vec![row.line]));
                }
            }
        }
        seen.retain(|(_, lines)| lines.len() > 1);
        seen
    }
}

/// A problem with the file as a whole (as opposed to one row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("line {line}: the header names the column '{column}' twice")]
    DuplicateColumn { line: usize, column: String },
    #[error("line {line}: the header is not valid UTF-8")]
    HeaderNotUtf8 { line: usize },
    #[error(
        "line {line} is not valid UTF-8: rewriting the vault would change it (save the file as UTF-8 first)"
    )]
    RowNotUtf8 { line: usize },
}

/// The rows `code QUERY` can pick: [`parse`] of only the rows whose raw text could hold `query` in their
/// name or issuer (`code` needs one account of thousands). The filter only ever keeps too much: it applies
/// to an ASCII query without `"`, `%` or `+`, compares ASCII case-insensitively, and keeps every row that
/// is not plain ASCII or holds `"`, `%` or `+` (quoting, URI escapes: the parsed name can differ from the
/// raw bytes there), so every row whose parsed name or issuer matches the query is in the result.
pub fn parse_candidates(bytes: &[u8], query: &str) -> Result<Parsed, FileError> {
    let parsed = candidates(bytes, query)?;
    // No row could match: the whole vault, so that "did you mean" can name the accounts (a typo is rare,
    // and costs this one full parse).
    if parsed.rows.is_empty() {
        return parse(bytes);
    }
    Ok(parsed)
}

fn candidates(bytes: &[u8], query: &str) -> Result<Parsed, FileError> {
    let plain = |b: &u8| b.is_ascii() && !matches!(b, b'"' | b'%' | b'+');
    let needle = query.as_bytes();
    let Some(first) = needle.first() else {
        return parse(bytes);
    };
    if !needle.iter().all(plain) {
        return parse(bytes);
    }
    let all_plain = bytes.is_ascii() && memchr::memchr3(b'"', b'%', b'+', bytes).is_none();
    if all_plain {
        return plain_candidates(bytes, needle);
    }
    // Where the query occurs in the whole file (ASCII case ignored, overlaps included), found in one pass
    // rather than row by row.
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let hits: Vec<usize> = memchr::memchr2_iter(lower, upper, bytes)
        .filter(|at| {
            bytes
                .get(*at..*at + needle.len())
                .is_some_and(|window| window.eq_ignore_ascii_case(needle))
        })
        .collect();
    let base = bytes.as_ptr() as usize;
    let keep = |raw: &[u8]| {
        if !raw.is_ascii() || memchr::memchr3(b'"', b'%', b'+', raw).is_some() {
            return true;
        }
        // The rows are pieces of `bytes`: is there an occurrence that starts and ends inside this one?
        let Some(start) = (raw.as_ptr() as usize).checked_sub(base) else {
            return true;
        };
        let next = hits.partition_point(|hit| *hit < start);
        hits.get(next)
            .is_some_and(|hit| hit + needle.len() <= start + raw.len())
    };
    in_format(
        bytes,
        keep,
        |keep| csv::parse_where(bytes, keep),
        |keep| gauth::parse_where(bytes, keep),
    )
}

/// [`parse_candidates`] of a file that is all ASCII without `"`, `%` or `+`: every record is one line and
/// every name is its bytes, so only the lines that hold the query (ASCII case ignored) are looked at,
/// found in one pass over the file (from each occurrence of its first letter, in either case) instead
/// of row by row.
fn plain_candidates(bytes: &[u8], needle: &[u8]) -> Result<Parsed, FileError> {
    let first = needle.first().copied().unwrap_or_default();
    let hits = memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        bytes,
    )
    .filter(|at| {
        bytes
            .get(*at..*at + needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
    });
    let mut lines: Vec<(usize, &[u8])> = Vec::new();
    let mut number = 1;
    let mut counted = 0;
    let mut taken = None;
    for hit in hits {
        let start = memchr::memrchr(b'\n', &bytes[..hit]).map_or(0, |i| i + 1);
        if taken == Some(start) {
            // Another occurrence on a line already taken.
            continue;
        }
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        if hit + needle.len() > end {
            // An occurrence across a line break is in no row.
            continue;
        }
        taken = Some(start);
        number += memchr::memchr_iter(b'\n', &bytes[counted..start]).count();
        counted = start;
        let text = &bytes[start..end];
        lines.push((number, text.strip_suffix(b"\r").unwrap_or(text)));
    }
    in_format(
        bytes,
        lines,
        |lines| csv::parse_lines(bytes, lines),
        gauth::parse_lines,
    )
}

/// The rows of `bytes` in its format, from `input`: `team` makes them for a team CSV file (a header
/// with `name` and `secret`), `gauth` for gauth lines.
fn in_format<T>(
    bytes: &[u8],
    input: T,
    team: impl FnOnce(T) -> Result<Vec<Row>, FileError>,
    gauth: impl FnOnce(T) -> Vec<Row>,
) -> Result<Parsed, FileError> {
    if csv::is_header(bytes) {
        Ok(Parsed {
            format: Format::TeamCsv,
            rows: team(input)?,
        })
    } else {
        Ok(Parsed {
            format: Format::Gauth,
            rows: gauth(input),
        })
    }
}

/// The rows of [`parse`], handed to `each` one at a time as they are parsed and not kept (`list` of a
/// large vault never holds them all). A file error comes before any row.
pub fn each_row(bytes: &[u8], each: impl FnMut(Row)) -> Result<Format, FileError> {
    if csv::is_header(bytes) {
        csv::each_where(bytes, |_| true, each)?;
        Ok(Format::TeamCsv)
    } else {
        gauth::each_where(bytes, |_| true, each);
        Ok(Format::Gauth)
    }
}

/// The errors [`parse`] would return, found without parsing the rows (only a team CSV header can be
/// wrong as a whole).
pub fn check(bytes: &[u8]) -> Result<Format, FileError> {
    if csv::is_header(bytes) {
        csv::check_header(bytes)?;
        Ok(Format::TeamCsv)
    } else {
        Ok(Format::Gauth)
    }
}

/// Detects the format and parses every row. One bad row never hides the others.
pub fn parse(bytes: &[u8]) -> Result<Parsed, FileError> {
    in_format(bytes, bytes, csv::parse, gauth::parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of the rows whose name equals or whose name or issuer contains `query`, as `code`
    /// compares them (Unicode lower case).
    fn matching_lines(parsed: &Parsed, query: &str) -> Vec<usize> {
        let q = query.to_lowercase();
        parsed
            .rows
            .iter()
            .filter(|r| {
                let name = r.name().to_lowercase();
                name == q
                    || name.contains(&q)
                    || r.entry
                        .as_ref()
                        .ok()
                        .and_then(|a| a.issuer.as_deref())
                        .is_some_and(|i| i.to_lowercase().contains(&q))
            })
            .map(|r| r.line)
            .collect()
    }

    fn assert_candidates_keep_every_match(text: &str, query: &str) {
        let full = parse(text.as_bytes()).unwrap();
        let some = parse_candidates(text.as_bytes(), query).unwrap();
        assert_eq!(some.format, full.format);
        let kept: Vec<usize> = some.rows.iter().map(|r| r.line).collect();
        for line in matching_lines(&full, query) {
            assert!(
                kept.contains(&line),
                "{query:?}: line {line} dropped from {text:?}"
            );
        }
        // What is kept is parsed exactly as in the full parse.
        for row in &some.rows {
            let same = full.rows.iter().find(|r| r.line == row.line).unwrap();
            assert_eq!(format!("{row:?}"), format!("{same:?}"));
        }
    }

    #[test]
    fn candidates_keep_every_row_code_could_pick() {
        let csv = "name,issuer,secret\nAWS root,Amazon,JBSWY3DPEHPK3PXP\n\"Quo\"\"ted, aws\",x,JBSWY3DPEHPK3PXP\n\
                   \u{212a}ey,Kelvin,JBSWY3DPEHPK3PXP\nGitHub,GitHub,JBSWY3DPEHPK3PXP\nbad,aws,!!\nA%57S,,JBSWY3DPEHPK3PXP\n";
        let gauth = "aws:JBSWY3DPEHPK3PXP\notpauth://totp/ACME%20Co:aws-ops?secret=JBSWY3DPEHPK3PXP\n\
                     gh:JBSWY3DPEHPK3PXP\nKEY:!!\n";
        for text in [csv, gauth] {
            for query in [
                "aws", "AWS", "key", "ops", "acme co", "", "git", "zzz", "ro", "A%57S", "quo\"",
                "\u{212a}",
            ] {
                assert_candidates_keep_every_match(text, query);
            }
        }
        // It does leave out rows that cannot match.
        let some = parse_candidates(csv.as_bytes(), "github").unwrap();
        assert!(some.rows.len() < parse(csv.as_bytes()).unwrap().rows.len());
    }

    proptest::proptest! {
        #[test]
        fn candidates_keep_every_match_for_any_rows(
            names in proptest::collection::vec("[ a-zA-Z0-9\"%+,\u{212a}\u{130}-]{0,12}", 1..8),
            query in "[ a-zA-Z0-9\"%+\u{212a}-]{0,4}",
        ) {
            let mut csv = String::from("name,issuer,secret\n");
            let mut gauth = String::new();
            for name in &names {
                csv.push_str(&format!("\"{}\",{},JBSWY3DPEHPK3PXP\n", name.replace('"', "\"\""), name.replace([',', '"'], "")));
                gauth.push_str(&format!("{}:JBSWY3DPEHPK3PXP\n", name.replace(':', "")));
            }
            assert_candidates_keep_every_match(&csv, &query);
            assert_candidates_keep_every_match(&gauth, &query);
        }
    }

    /// `each_row` hands over exactly the rows `parse` returns, and `check` fails exactly when `parse`
    /// does, on files with quotes, comments, bad rows, a repeated column and gauth lines.
    #[test]
    fn each_row_and_check_agree_with_parse() {
        let files: [&[u8]; 6] = [
            b"name,issuer,secret\nAWS,Amazon,JBSWY3DPEHPK3PXP\n# c\n\"a,\"\"b\",x,JBSWY3DPEHPK3PXP\nbad,,!!\n,,\n",
            b"# team\nname,secret,name\nx,JBSWY3DPEHPK3PXP,y\n",
            b"name,secret\n\"open,JBSWY3DPEHPK3PXP\n",
            b"a:JBSWY3DPEHPK3PXP\nb\n:x\n",
            b"\xEF\xBB\xBFName , Secret\r\nx,JBSWY3DPEHPK3PXP\r\n",
            b"name,secret\n\xff,JBSWY3DPEHPK3PXP\n",
        ];
        for bytes in files {
            let parsed = parse(bytes);
            let mut rows = Vec::new();
            let each = each_row(bytes, |row| rows.push(format!("{row:?}")));
            assert_eq!(check(bytes), each);
            match parsed {
                Ok(parsed) => {
                    assert_eq!(each, Ok(parsed.format));
                    let want: Vec<String> = parsed.rows.iter().map(|r| format!("{r:?}")).collect();
                    assert_eq!(rows, want);
                }
                Err(e) => {
                    assert_eq!(each, Err(e));
                    assert!(rows.is_empty(), "no row before a file error");
                }
            }
        }
    }

    proptest::proptest! {
        /// Files that are plain ASCII without `"`, `%` or `+` take the search of the whole file: the rows
        /// it keeps are every row that matches, parsed as the full parse parses them, with their line
        /// numbers (comments, blank lines, CRLF, a query in the header or across a line break).
        #[test]
        fn plain_files_keep_every_match(
            rows in proptest::collection::vec(("[ a-zA-Z0-9#,:-]{0,10}", "[ a-zA-Z0-9-]{0,6}", 0u8..4), 0..12),
            query in "[a-zA-Z0-9 ,:#\n-]{1,4}",
            crlf in proptest::bool::ANY,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let mut csv = format!("# team{end}{end}name,issuer,secret{end}");
            let mut gauth = format!("# team{end}");
            for (name, issuer, kind) in &rows {
                match kind {
                    0 => {
                        csv.push_str(&format!("# {name}{end}"));
                        gauth.push_str(end);
                    }
                    1 => {
                        csv.push_str(&format!("{name},{issuer},!!{end}"));
                        gauth.push_str(&format!("{name}:!!{end}"));
                    }
                    _ => {
                        csv.push_str(&format!("{name},{issuer},JBSWY3DPEHPK3PXP{end}"));
                        gauth.push_str(&format!("{name}:JBSWY3DPEHPK3PXP{end}"));
                    }
                }
            }
            for text in [&csv, &gauth] {
                assert_candidates_keep_every_match(text, &query);
            }
        }
    }

    #[test]
    fn detects_team_csv_after_comments_and_blank_lines() {
        let parsed = parse(b"# team vault\n\n Name , SECRET\nx,JBSWY3DPEHPK3PXP\n").unwrap();
        assert_eq!(parsed.format, Format::TeamCsv);
        assert_eq!(parsed.accounts().count(), 1);
    }

    #[test]
    fn anything_else_is_gauth_lines() {
        let parsed = parse(b"name:JBSWY3DPEHPK3PXP\n").unwrap();
        assert_eq!(parsed.format, Format::Gauth);
        let parsed = parse(b"").unwrap();
        assert_eq!(parsed.format, Format::Gauth);
        assert!(parsed.rows.is_empty());
    }

    #[test]
    fn reports_duplicate_names_case_insensitively() {
        let parsed =
            parse(b"a:JBSWY3DPEHPK3PXP\nb:JBSWY3DPEHPK3PXP\nA:JBSWY3DPEHPK3PXP\n").unwrap();
        assert_eq!(
            parsed.duplicate_names(),
            vec![("a".to_string(), vec![1, 3])]
        );
    }

    #[test]
    fn duplicates_keep_first_seen_order_and_ignore_only_ascii_case() {
        let parsed = parse(
            "b:JBSWY3DPEHPK3PXP\na:JBSWY3DPEHPK3PXP\nB:JBSWY3DPEHPK3PXP\nc:JBSWY3DPEHPK3PXP\n\
             A:JBSWY3DPEHPK3PXP\nb:x\nÉté:JBSWY3DPEHPK3PXP\nété:JBSWY3DPEHPK3PXP\nc:\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            parsed.duplicate_names(),
            vec![
                ("b".to_string(), vec![1, 3, 6]),
                ("a".to_string(), vec![2, 5]),
            ]
        );
    }
}
