//! Team CSV: a header row names the columns (case-insensitive, any order); `name` and `secret` required.

use super::records::{self, RecordRef};
use super::{FileError, Reason, Row};
use crate::account::{self, Account, Params};
use crate::secret;

/// Columns teamotp understands. Any other column is kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Secret,
    Issuer,
    Digits,
    Period,
    Algorithm,
    Type,
    Reenrol,
    Other,
}

impl Column {
    fn from_header(text: &str) -> Column {
        match text.trim().to_ascii_lowercase().as_str() {
            "name" => Column::Name,
            "secret" => Column::Secret,
            "issuer" => Column::Issuer,
            "digits" => Column::Digits,
            "period" => Column::Period,
            "algorithm" => Column::Algorithm,
            "type" => Column::Type,
            crate::trust::reenrol::COLUMN => Column::Reenrol,
            _ => Column::Other,
        }
    }
}

/// True when the first non-blank, non-comment line is a CSV header with `name` and `secret` columns.
pub fn is_header(bytes: &[u8]) -> bool {
    let Some((_, line)) = records::lines(bytes)
        .find(|(_, line)| !records::is_blank(line) && !records::is_comment(line))
    else {
        return false;
    };
    let Some(header) = records::records(line).into_iter().next() else {
        return false;
    };
    let columns: Vec<Column> = header
        .fields
        .iter()
        .map(|f| Column::from_header(&String::from_utf8_lossy(f)))
        .collect();
    columns.contains(&Column::Name) && columns.contains(&Column::Secret)
}

pub fn parse(bytes: &[u8]) -> Result<Vec<Row>, FileError> {
    // Every line may be a row: sized once, so a large vault's rows are never copied to a bigger list.
    let mut rows = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1);
    each_where(bytes, |_| true, |row| rows.push(row))?;
    Ok(rows)
}

/// [`parse`], leaving out the rows whose raw record `keep` refuses (the header is always read).
pub fn parse_where(bytes: &[u8], keep: impl Fn(&[u8]) -> bool) -> Result<Vec<Row>, FileError> {
    let mut rows = Vec::new();
    each_where(bytes, keep, |row| rows.push(row))?;
    Ok(rows)
}

/// Checks the header alone (the rows are skipped, not parsed): the errors [`parse`] can return.
pub fn check_header(bytes: &[u8]) -> Result<(), FileError> {
    each_where(bytes, |_| false, |_| {})
}

/// The rows of [`parse_where`], handed to `each` one at a time as the records are split (nothing is
/// kept). A header error comes before any row.
pub fn each_where(
    bytes: &[u8],
    keep: impl Fn(&[u8]) -> bool,
    mut each: impl FnMut(Row),
) -> Result<(), FileError> {
    let mut layout: Option<Layout> = None;
    let mut failed = None;
    records::each_record(
        bytes,
        |index, raw| index == 0 || keep(raw),
        |record| match &layout {
            _ if failed.is_some() => {}
            None => match header(&record) {
                Ok(columns) => layout = Some(columns),
                Err(e) => failed = Some(e),
            },
            Some(layout) => {
                if !record.is_blank() {
                    each(row(layout, &record));
                }
            }
        },
    );
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The header: each column's name and kind, and where the known columns are.
struct Layout {
    columns: Vec<(String, Column)>,
    /// The index of the first column of each kind (by `Column as usize`), if the header has one.
    index: [Option<usize>; Column::Other as usize],
}

impl Layout {
    fn new(columns: Vec<(String, Column)>) -> Layout {
        let mut index = [None; Column::Other as usize];
        for (i, (_, column)) in columns.iter().enumerate().rev() {
            if *column != Column::Other {
                index[*column as usize] = Some(i);
            }
        }
        Layout { columns, index }
    }

    fn position(&self, column: Column) -> Option<usize> {
        *self.index.get(column as usize)?
    }

    fn len(&self) -> usize {
        self.columns.len()
    }
}

/// [`parse_where`] for a file without any `"` (where every record is one line), of only the given lines
/// (number and text, in order): the header, the first line that is neither blank nor a comment, is read
/// as [`parse`] reads it, and the other lines give the rows [`parse`] gives for them.
pub fn parse_lines<'a>(
    bytes: &'a [u8],
    lines: impl IntoIterator<Item = (usize, &'a [u8])>,
) -> Result<Vec<Row>, FileError> {
    let Some((header_line, header_text)) = records::lines(bytes)
        .find(|(_, line)| !records::is_blank(line) && !records::is_comment(line))
    else {
        return Ok(Vec::new());
    };
    let mut layout = None;
    records::each_line_record([(header_line, header_text)], |record| {
        layout = Some(header(&record));
    });
    let Some(layout) = layout.transpose()? else {
        return Ok(Vec::new());
    };
    let mut rows = Vec::new();
    let others = lines
        .into_iter()
        .filter(|(number, _)| *number != header_line);
    records::each_line_record(others, |record| {
        if !record.is_blank() {
            rows.push(row(&layout, &record));
        }
    });
    Ok(rows)
}

/// The header's column names and kinds; a repeated column is an error.
fn header(header: &RecordRef) -> Result<Layout, FileError> {
    let mut names = Vec::with_capacity(header.fields.len());
    for field in header.fields.iter() {
        let name = std::str::from_utf8(field)
            .map_err(|_| FileError::HeaderNotUtf8 { line: header.line })?
            .trim()
            .to_owned();
        let column = Column::from_header(&name);
        let repeated = !name.is_empty()
            && names
                .iter()
                .any(|(n, _): &(String, Column)| n.eq_ignore_ascii_case(&name));
        if repeated {
            return Err(FileError::DuplicateColumn {
                line: header.line,
                column: name,
            });
        }
        names.push((name, column));
    }
    Ok(Layout::new(names))
}

/// `str::trim`, without looking at a cell whose ends are ASCII and not blank (nearly every cell: the
/// splitter already trimmed ASCII blanks; only a non-ASCII end can be Unicode white space).
fn trim(cell: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_none_or(|b| b.is_ascii() && !b.is_ascii_whitespace());
    let bytes = cell.as_bytes();
    if plain(bytes.first()) && plain(bytes.last()) {
        cell
    } else {
        cell.trim()
    }
}

/// Cells of a row of up to this many columns are looked at without an allocation.
const INLINE_CELLS: usize = 16;

fn row<'a>(layout: &Layout, record: &RecordRef<'a>) -> Row {
    // Each cell checked and trimmed once (None: not UTF-8).
    let mut inline = [None; INLINE_CELLS];
    let many: Vec<Option<&str>>;
    let trimmed = |field: Option<&'a str>| field.map(trim);
    let texts: &[Option<&str>] = if record.fields.len() <= INLINE_CELLS {
        for (slot, field) in inline.iter_mut().zip(record.fields.texts()) {
            *slot = trimmed(field);
        }
        &inline[..record.fields.len()]
    } else {
        many = record.fields.texts().map(trimmed).collect();
        &many
    };
    let cell = |wanted: Column| -> Option<Option<&str>> {
        let index = layout.position(wanted)?;
        Some(texts.get(index).copied().unwrap_or(Some("")))
    };
    // A lone field under a wider header, or a name with every other cell (the secret's too) empty, is
    // most likely a secret pasted on a line of its own or into the name column: never show it as the
    // account's name (not in a message, a table cell, or textconv's lines in `git log -p`).
    let lone_field = record.fields.len() == 1 && layout.len() > 1;
    let name_only = name_only(layout, texts);
    // The name shown for an invalid row (a valid row's account holds its name).
    let name = || {
        if lone_field || name_only {
            String::new()
        } else {
            cell(Column::Name).flatten().unwrap_or("").to_owned()
        }
    };
    let extra = layout
        .columns
        .iter()
        .zip(texts.iter())
        .filter(|((_, c), _)| *c == Column::Other)
        .filter_map(|((header, _), field)| Some((header.clone(), (*field)?.to_owned())))
        .collect();
    let entry = (|| {
        if lone_field {
            return Err(Reason::LoneField { want: layout.len() });
        }
        if name_only {
            return Err(Reason::NameOnly);
        }
        if record.fields.len() > layout.len() {
            return Err(Reason::Fields {
                got: record.fields.len(),
                want: layout.len(),
            });
        }
        let get = |c: Column| cell(c).map_or(Ok(""), |v| v.ok_or(Reason::NotUtf8));
        let name_text = get(Column::Name)?;
        let secret_text = get(Column::Secret)?;
        let issuer = get(Column::Issuer)?;
        let params = Params {
            digits: account::parse_digits(get(Column::Digits)?)?,
            period: account::parse_period(get(Column::Period)?)?,
            algorithm: account::parse_algorithm(get(Column::Algorithm)?)?,
            kind: account::parse_kind(get(Column::Type)?)?,
        };
        if name_text.is_empty() {
            return Err(Reason::EmptyName);
        }
        let secret = secret::decode(secret_text)?;
        Ok(Account {
            name: name_text.to_owned(),
            issuer: (!issuer.is_empty()).then(|| issuer.to_owned()),
            params,
            secret,
        })
    })();
    let reenrol = cell(Column::Reenrol)
        .flatten()
        .and_then(crate::trust::reenrol::Reenrol::parse);
    Row::new(
        record.line,
        entry.map_err(|reason| (name(), reason)),
        extra,
        reenrol,
    )
}

/// True when the row's name cell is its only non-empty cell (so its secret cell is empty or missing).
fn name_only(layout: &Layout, texts: &[Option<&str>]) -> bool {
    let Some(index) = layout.position(Column::Name) else {
        return false;
    };
    let empty = |field: &Option<&str>| field.is_some_and(str::is_empty);
    texts.get(index).is_some_and(|f| !empty(f))
        && texts
            .iter()
            .enumerate()
            .all(|(i, field)| i == index || empty(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_trimmed_of_unicode_white_space_too() {
        for (cell, want) in [
            ("x", "x"),
            ("", ""),
            ("\u{a0}x\u{3000}", "x"),
            ("é\u{2003}", "é"),
            ("a b", "a b"),
            (" x\t", "x"),
            ("\u{85}", ""),
        ] {
            assert_eq!(trim(cell), want, "{cell:?}");
            assert_eq!(trim(cell), cell.trim(), "{cell:?}");
        }
    }
    use crate::account::ParamError;
    use crate::account::{Algorithm, Kind};
    use crate::secret::SecretError;

    fn parse_ok(text: &str) -> Vec<Row> {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn columns_in_any_order_and_case_with_defaults_for_empty_cells() {
        let rows = parse_ok("SECRET,Period,name,ISSUER,digits\nJBSWY3DPEHPK3PXP,60,AWS,Amazon,\n");
        let a = rows[0].entry.as_ref().unwrap();
        assert_eq!(a.name, "AWS");
        assert_eq!(a.issuer.as_deref(), Some("Amazon"));
        assert_eq!(a.params.period, 60);
        assert_eq!(a.params.digits, 6);
        assert_eq!(rows[0].line, 2);
    }

    #[test]
    fn quoted_names_with_commas() {
        let rows = parse_ok(
            "name,secret,algorithm,type\n\"Root, production\",JBSWY3DPEHPK3PXP,sha512,\nSteam,JBSWY3DPEHPK3PXP,,steam\n",
        );
        let a = rows[0].entry.as_ref().unwrap();
        assert_eq!(a.name, "Root, production");
        assert_eq!(a.params.algorithm, Algorithm::Sha512);
        assert_eq!(rows[1].entry.as_ref().unwrap().params.kind, Kind::Steam);
    }

    #[test]
    fn unknown_columns_are_kept() {
        let rows = parse_ok("name,owner,secret\nAWS,ops team,JBSWY3DPEHPK3PXP\n");
        assert_eq!(
            rows[0].extra,
            vec![("owner".to_string(), "ops team".to_string())]
        );
    }

    #[test]
    fn every_bad_row_is_reported_and_the_others_still_work() {
        let rows = parse_ok(
            "name,secret,digits,period,algorithm,type\n\
             empty,,,,,\n\
             badchar,a2b3c4d5e6f7g8h9,,,,\n\
             badlen,JBSWY3DPE,,,,\n\
             digits,JBSWY3DPEHPK3PXP,9,,,\n\
             period,JBSWY3DPEHPK3PXP,,0,,\n\
             algo,JBSWY3DPEHPK3PXP,,,MD5,\n\
             kind,JBSWY3DPEHPK3PXP,,,,hotp\n\
             ,JBSWY3DPEHPK3PXP,,,,\n\
             split,name,JBSWY3DPEHPK3PXP,,,,\n\
             good,JBSWY3DPEHPK3PXP,,,,\n",
        );
        let reasons: Vec<_> = rows
            .iter()
            .map(|r| r.entry.as_ref().err().cloned())
            .collect();
        // Only a name and nothing else: shown by its line only (it may be a secret in the name column).
        assert_eq!(reasons[0], Some(Reason::NameOnly));
        assert_eq!(rows[0].name(), "");
        assert!(matches!(
            reasons[1],
            Some(Reason::Secret(SecretError::InvalidCharacter { .. }))
        ));
        assert_eq!(
            reasons[2],
            Some(Reason::Secret(SecretError::Length { symbols: 9 }))
        );
        assert_eq!(
            reasons[3],
            Some(Reason::Param(ParamError::Digits("9".into())))
        );
        assert_eq!(
            reasons[4],
            Some(Reason::Param(ParamError::Period("0".into())))
        );
        assert_eq!(
            reasons[5],
            Some(Reason::Param(ParamError::Algorithm("MD5".into())))
        );
        assert_eq!(
            reasons[6],
            Some(Reason::Param(ParamError::Kind("hotp".into())))
        );
        assert_eq!(reasons[7], Some(Reason::EmptyName));
        assert_eq!(reasons[8], Some(Reason::Fields { got: 7, want: 6 }));
        assert_eq!(reasons[9], None);
        assert_eq!(
            rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            (2..=11).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_lone_field_is_not_shown_as_a_name() {
        let rows = parse_ok("name,issuer,secret\nJBSWY3DPEHPK3PXPJBSWY3DP\n");
        assert_eq!(rows[0].name(), "");
        assert_eq!(
            rows[0].entry.as_ref().unwrap_err().to_string(),
            "the row has 1 field but the header has 3 (a secret on a line of its own?)"
        );
    }

    #[test]
    fn a_name_with_every_other_cell_empty_is_not_shown_as_a_name() {
        let rows = parse_ok(
            "name,issuer,secret,digits\n\
             JBSWY3DPEHPK3PXPJBSWY3DP,,,\n\
             JBSWY3DPEHPK3PXP,\n\
             \" JBSWY3DPEHPK3PXP \",\"\", ,,,\n\
             Named,ACME,,\n\
             Digits,,,8\n",
        );
        for row in &rows[..3] {
            assert_eq!(row.name(), "", "line {}", row.line);
            assert_eq!(row.entry.as_ref().unwrap_err(), &Reason::NameOnly);
        }
        assert_eq!(
            Reason::NameOnly.to_string(),
            "the row has no secret, only a name (is the secret in the name column?)"
        );
        // Another filled cell makes it a named row with an empty secret.
        assert_eq!(rows[3].name(), "Named");
        assert_eq!(
            rows[3].entry.as_ref().unwrap_err(),
            &Reason::Secret(SecretError::Empty)
        );
        assert_eq!(rows[4].name(), "Digits");
        // The secret column first works the same.
        let rows = parse_ok("secret,name\n,JBSWY3DPEHPK3PXP\n");
        assert_eq!(rows[0].name(), "");
        assert_eq!(rows[0].entry.as_ref().unwrap_err(), &Reason::NameOnly);
    }

    #[test]
    fn the_reenrol_column_is_known_and_parsed() {
        let rows = parse_ok(
            "name,secret,reenrol,owner\nA,JBSWY3DPEHPK3PXP,since=2026-11-29;by=bob,ops\nB,JBSWY3DPEHPK3PXP,,ops\n",
        );
        let mark = rows[0].reenrol.as_ref().unwrap();
        assert_eq!(mark.since, "2026-11-29");
        assert_eq!(mark.members, vec!["bob".to_string()]);
        assert_eq!(
            rows[0].extra,
            vec![("owner".to_string(), "ops".to_string())]
        );
        assert_eq!(rows[1].reenrol, None);
    }

    #[test]
    fn header_only_file_has_no_rows() {
        assert!(parse_ok("name,secret\n").is_empty());
    }

    #[test]
    fn duplicate_known_column_is_a_file_error() {
        assert_eq!(
            parse(b"name,secret,Secret\n").unwrap_err(),
            FileError::DuplicateColumn {
                line: 1,
                column: "Secret".into()
            }
        );
    }

    #[test]
    fn non_utf8_cell_invalidates_only_its_row() {
        let rows = parse(b"name,issuer,secret\nA,Caf\xE9,JBSWY3DPEHPK3PXP\nB,,JBSWY3DPEHPK3PXP\n")
            .unwrap();
        assert_eq!(rows[0].name(), "A");
        assert_eq!(rows[0].entry.as_ref().unwrap_err(), &Reason::NotUtf8);
        assert!(rows[1].entry.is_ok());
    }
}
