//! The vault as an editable team CSV document: the header as written, comment and blank lines in place,
//! and every row's cells (valid or not, known columns or not) kept exactly, so a write changes only what
//! the command changed. Cells live in zeroizing buffers; serialising writes into one sized up front.

use zeroize::Zeroizing;

use super::format::records::{self, Item};
use super::format::{FileError, Format, Parsed};
use crate::account::{Account, Kind};
use crate::trust::reenrol::{self, Reenrol};

mod merge;

/// The columns teamotp writes in a new vault, in this order.
pub const COLUMNS: [&str; 7] = [
    "name",
    "issuer",
    "secret",
    "digits",
    "period",
    "algorithm",
    "type",
];

type Cell = Zeroizing<String>;
type RowMap = std::collections::BTreeMap<String, Zeroizing<String>>;

#[derive(Debug, Clone)]
enum Line {
    /// A comment or blank line, as written.
    Other(Zeroizing<String>),
    /// A row's cells, one per header column.
    Row(Vec<Cell>),
}

/// An editable team CSV vault.
#[derive(Debug, Clone)]
pub struct Document {
    /// Comment and blank lines before the header.
    preamble: Vec<Zeroizing<String>>,
    header: Vec<String>,
    lines: Vec<Line>,
}

/// The new values for an account's metadata (`None`: leave as is).
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub issuer: Option<String>,
    pub digits: Option<u8>,
    pub period: Option<u64>,
    pub algorithm: Option<crate::account::Algorithm>,
    pub kind: Option<Kind>,
}

impl Changes {
    /// Applies the changes to an account being created.
    pub fn apply(&self, account: &mut Account) {
        if let Some(issuer) = &self.issuer {
            account.issuer = (!issuer.is_empty()).then(|| issuer.clone());
        }
        let p = &mut account.params;
        p.digits = self.digits.unwrap_or(p.digits);
        p.period = self.period.unwrap_or(p.period);
        p.algorithm = self.algorithm.unwrap_or(p.algorithm);
        p.kind = self.kind.unwrap_or(p.kind);
    }

    pub fn is_empty(&self) -> bool {
        self.issuer.is_none()
            && self.digits.is_none()
            && self.period.is_none()
            && self.algorithm.is_none()
            && self.kind.is_none()
    }
}

/// A row's cells without its re-enrolment mark, and the mark. A cell that is not a mark (written by
/// hand) stays a cell and merges like any other.
fn split_mark(row: Option<&RowMap>) -> (RowMap, Option<Reenrol>) {
    let mut row = row.cloned().unwrap_or_default();
    let mark = row
        .get(reenrol::COLUMN)
        .and_then(|cell| Reenrol::parse(cell))
        .filter(|mark| {
            Reenrol::parse(&mark.render()).as_ref() == Some(mark) && !mark.since.is_empty()
        });
    if mark.is_some() {
        row.remove(reenrol::COLUMN);
    }
    (row, mark)
}

impl Document {
    /// An empty vault: the header only.
    pub fn new() -> Self {
        Document {
            preamble: Vec::new(),
            header: COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
            lines: Vec::new(),
        }
    }

    /// Reads a decrypted vault for editing. Team CSV is kept as written; gauth lines are converted to team
    /// CSV, which needs every row to be valid (the parsed rows are checked by the caller first).
    pub fn from_plaintext(bytes: &[u8], parsed: &Parsed) -> Result<Self, FileError> {
        match parsed.format {
            Format::TeamCsv => Self::from_team_csv(bytes),
            Format::Gauth => {
                let mut document = Document::new();
                for account in parsed.accounts() {
                    document.push(account);
                }
                Ok(document)
            }
        }
    }

    fn from_team_csv(bytes: &[u8]) -> Result<Self, FileError> {
        let mut preamble = Vec::new();
        let mut header: Option<Vec<String>> = None;
        let mut lines = Vec::new();
        for item in records::items(bytes) {
            match (item, &header) {
                (Item::Other(text), None) => preamble.push(utf8(&text)),
                (Item::Other(text), Some(_)) => lines.push(Line::Other(utf8(&text))),
                (Item::Record(record), None) => {
                    let names = record
                        .fields
                        .iter()
                        .map(|f| {
                            std::str::from_utf8(f)
                                .map(|s| s.trim().to_owned())
                                .map_err(|_| FileError::HeaderNotUtf8 { line: record.line })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    header = Some(names);
                }
                (Item::Record(record), Some(names)) => {
                    if record.is_blank() {
                        continue;
                    }
                    let width = names.len().max(record.fields.len());
                    if record
                        .fields
                        .iter()
                        .any(|f| std::str::from_utf8(f).is_err())
                    {
                        return Err(FileError::RowNotUtf8 { line: record.line });
                    }
                    let mut cells: Vec<Cell> = record.fields.iter().map(utf8).collect();
                    cells.resize_with(width, || Zeroizing::new(String::new()));
                    lines.push(Line::Row(cells));
                }
            }
        }
        Ok(Document {
            preamble,
            header: header.unwrap_or_else(|| COLUMNS.iter().map(|c| (*c).to_owned()).collect()),
            lines,
        })
    }

    /// Names of all rows, in order.
    pub fn names(&self) -> Vec<String> {
        let Some(name) = self.column("name") else {
            return Vec::new();
        };
        self.rows()
            .map(|cells| cells.get(name).map(|c| c.to_string()).unwrap_or_default())
            .collect()
    }

    /// True when a row has this name (case-insensitive, as `code` matches names).
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// Appends an account as a new row.
    pub fn push(&mut self, account: &Account) {
        let mut cells: Vec<Cell> = vec![Zeroizing::new(String::new()); self.header.len()];
        let mut set = |doc: &mut Document, column: &str, value: Cell| {
            let index = doc.column_or_add(column, &mut cells);
            cells[index] = value;
        };
        set(self, "name", Zeroizing::new(account.name.clone()));
        set(self, "secret", account.secret.to_base32());
        if let Some(issuer) = &account.issuer {
            set(self, "issuer", Zeroizing::new(issuer.clone()));
        }
        for (column, value) in parameter_cells(account) {
            set(self, column, Zeroizing::new(value));
        }
        self.lines.push(Line::Row(cells));
    }

    /// Removes the row named `name` (exact, case-insensitive). Returns false when there is none.
    pub fn remove(&mut self, name: &str) -> bool {
        match self.find(name) {
            Some(index) => {
                self.lines.remove(index);
                true
            }
            None => false,
        }
    }

    /// Renames a row. Returns false when there is no row `old`.
    pub fn rename(&mut self, old: &str, new: &str) -> bool {
        self.set(old, "name", Zeroizing::new(new.to_owned()))
    }

    /// Replaces a row's secret (re-enrolment, which clears its mark). Returns false when there is no
    /// such row.
    pub fn set_secret(&mut self, name: &str, secret: &crate::secret::Secret) -> bool {
        self.set_mark(name, None);
        self.set(name, "secret", secret.to_base32())
    }

    /// Applies metadata changes to a row. Returns false when there is no such row.
    pub fn edit(&mut self, name: &str, changes: &Changes) -> bool {
        if self.find(name).is_none() {
            return false;
        }
        let mut cell = |column: &str, value: Option<String>| {
            if let Some(value) = value {
                self.set(name, column, Zeroizing::new(value));
            }
        };
        cell("issuer", changes.issuer.clone());
        cell("digits", changes.digits.map(|d| d.to_string()));
        cell("period", changes.period.map(|p| p.to_string()));
        cell(
            "algorithm",
            changes.algorithm.map(|a| a.as_str().to_owned()),
        );
        cell("type", changes.kind.map(|k| k.as_str().to_owned()));
        true
    }

    /// Marks every account as waiting for re-enrolment (joined with a mark it already has).
    pub fn mark_all(&mut self, mark: &Reenrol) {
        for name in self.names() {
            let existing = self.mark(&name);
            let joined = match existing {
                Some(old) => old.join(mark),
                None => mark.clone(),
            };
            self.set_mark(&name, Some(&joined));
        }
    }

    /// The re-enrolment mark of the row named `name`.
    pub fn mark(&self, name: &str) -> Option<Reenrol> {
        let column = self.column(reenrol::COLUMN)?;
        match &self.lines[self.find(name)?] {
            Line::Row(cells) => Reenrol::parse(cells.get(column)?),
            Line::Other(_) => None,
        }
    }

    /// Sets or clears (`None`) the re-enrolment mark of a row; no column is added to clear one.
    pub fn set_mark(&mut self, name: &str, mark: Option<&Reenrol>) {
        match mark {
            Some(mark) => {
                self.set(name, reenrol::COLUMN, Zeroizing::new(mark.render()));
            }
            None if self.column(reenrol::COLUMN).is_some() => {
                self.set(name, reenrol::COLUMN, Zeroizing::new(String::new()));
            }
            None => {}
        }
    }

    /// Replaces the cells of the row at `line` (an index into `lines`) with `row`'s values.
    fn put_at(&mut self, line: usize, row: &RowMap) {
        let cells = self.cells(row);
        self.lines[line] = Line::Row(cells);
    }

    /// Appends a row with `row`'s values.
    fn append(&mut self, row: &RowMap) {
        let cells = self.cells(row);
        self.lines.push(Line::Row(cells));
    }

    fn cells(&mut self, row: &RowMap) -> Vec<Cell> {
        let mut cells: Vec<Cell> = vec![Zeroizing::new(String::new()); self.header.len()];
        for (column, value) in row {
            let index = self.column_or_add(column, &mut cells);
            cells[index] = value.clone();
        }
        cells
    }

    /// The document as team CSV (LF line ends), in a buffer sized once so no unwiped copy is left.
    pub fn serialize(&self) -> Zeroizing<Vec<u8>> {
        let mut size = 0;
        self.write(&mut |piece: &str| size += piece.len());
        let mut out = Zeroizing::new(Vec::with_capacity(size));
        self.write(&mut |piece: &str| out.extend_from_slice(piece.as_bytes()));
        out
    }

    fn write(&self, emit: &mut dyn FnMut(&str)) {
        for line in &self.preamble {
            emit(line);
            emit("\n");
        }
        write_record(self.header.iter().map(String::as_str), emit);
        for line in &self.lines {
            match line {
                Line::Other(text) => {
                    emit(text);
                    emit("\n");
                }
                Line::Row(cells) => write_record(cells.iter().map(|c| c.as_str()), emit),
            }
        }
    }

    fn rows(&self) -> impl Iterator<Item = &Vec<Cell>> {
        self.lines.iter().filter_map(|l| match l {
            Line::Row(cells) => Some(cells),
            Line::Other(_) => None,
        })
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }

    /// The index of a column, adding it to the header (and an empty cell to every row) when missing.
    fn column_or_add(&mut self, name: &str, pending: &mut Vec<Cell>) -> usize {
        if let Some(index) = self.column(name) {
            return index;
        }
        self.header.push(name.to_owned());
        for line in &mut self.lines {
            if let Line::Row(cells) = line {
                cells.resize_with(self.header.len(), || Zeroizing::new(String::new()));
            }
        }
        pending.resize_with(self.header.len(), || Zeroizing::new(String::new()));
        self.header.len() - 1
    }

    fn find(&self, name: &str) -> Option<usize> {
        let column = self.column("name")?;
        self.lines.iter().position(|line| match line {
            Line::Row(cells) => cells
                .get(column)
                .is_some_and(|c| c.trim().eq_ignore_ascii_case(name.trim())),
            Line::Other(_) => false,
        })
    }

    fn set(&mut self, name: &str, column: &str, value: Cell) -> bool {
        let Some(index) = self.find(name) else {
            return false;
        };
        let mut scratch = Vec::new();
        let column = self.column_or_add(column, &mut scratch);
        if let Line::Row(cells) = &mut self.lines[index] {
            cells.resize_with(self.header.len(), || Zeroizing::new(String::new()));
            cells[column] = value;
        }
        true
    }
}

impl Default for Document {
    fn default() -> Self {
        Self::new()
    }
}

/// The digits / period / algorithm / type cells of an account, empty where the value is the default.
fn parameter_cells(account: &Account) -> Vec<(&'static str, String)> {
    let p = account.params;
    let mut cells = Vec::new();
    if p.kind == Kind::Steam {
        cells.push(("type", "steam".to_owned()));
    } else {
        if p.digits != 6 {
            cells.push(("digits", p.digits.to_string()));
        }
        if p.algorithm != crate::account::Algorithm::Sha1 {
            cells.push(("algorithm", p.algorithm.as_str().to_owned()));
        }
    }
    if p.period != 30 {
        cells.push(("period", p.period.to_string()));
    }
    cells
}

fn utf8(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(String::from_utf8_lossy(bytes).into_owned())
}

/// Writes one record. A field is quoted when the reader would otherwise change it: it holds a comma, a
/// quote or a line break, has surrounding spaces, or is a first field starting with `#` (a comment).
fn write_record<'a>(fields: impl Iterator<Item = &'a str>, emit: &mut dyn FnMut(&str)) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            emit(",");
        }
        let needs_quotes = field.contains([',', '"', '\n', '\r'])
            || field.trim() != field
            || (i == 0 && field.starts_with('#'));
        if needs_quotes {
            emit("\"");
            for (j, part) in field.split('"').enumerate() {
                if j > 0 {
                    emit("\"\"");
                }
                emit(part);
            }
            emit("\"");
        } else {
            emit(field);
        }
    }
    emit("\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Algorithm, Params};
    use crate::vault;

    fn document(text: &str) -> Document {
        let parsed = vault::format::parse(text.as_bytes()).unwrap();
        Document::from_plaintext(text.as_bytes(), &parsed).unwrap()
    }

    fn text(document: &Document) -> String {
        String::from_utf8(document.serialize().to_vec()).unwrap()
    }

    fn account(name: &str, params: Params) -> Account {
        Account {
            name: name.into(),
            issuer: Some("Issuer, Inc".into()),
            params,
            secret: crate::secret::decode("jbsw y3dp ehpk 3pxp").unwrap(),
        }
    }

    #[test]
    fn rewrites_comments_column_order_unknown_columns_and_invalid_rows_unchanged() {
        let input = "# team vault\n\nSECRET,Name,owner\r\nJBSWY3DPEHPK3PXP,a,ops\n# leaving soon\nbad8,b,\n\"x,\"\"y\"\"\", \"c \" ,z\n";
        let doc = document(input);
        assert_eq!(
            text(&doc),
            "# team vault\n\nSECRET,Name,owner\nJBSWY3DPEHPK3PXP,a,ops\n# leaving soon\nbad8,b,\n\"x,\"\"y\"\"\",\"c \",z\n"
        );
    }

    #[test]
    fn a_row_that_is_not_utf8_is_refused_rather_than_changed() {
        let input = b"name,secret\nCaf\xE9,JBSWY3DPEHPK3PXP\n";
        let parsed = vault::format::parse(input).unwrap();
        assert_eq!(
            Document::from_plaintext(input, &parsed).unwrap_err(),
            FileError::RowNotUtf8 { line: 2 }
        );
    }

    #[test]
    fn push_writes_canonical_secret_and_only_non_default_parameters() {
        let mut doc = Document::new();
        doc.push(&account("AWS", Params::default()));
        doc.push(&account(
            "#hash",
            Params {
                digits: 8,
                period: 60,
                algorithm: Algorithm::Sha256,
                kind: Kind::Totp,
            },
        ));
        assert_eq!(
            text(&doc),
            "name,issuer,secret,digits,period,algorithm,type\n\
             AWS,\"Issuer, Inc\",JBSWY3DPEHPK3PXP,,,,\n\
             \"#hash\",\"Issuer, Inc\",JBSWY3DPEHPK3PXP,8,60,SHA256,\n"
        );
        // What was written reads back as the same accounts.
        let parsed = vault::format::parse(&doc.serialize()).unwrap();
        let names: Vec<_> = parsed.accounts().map(|a| a.name.clone()).collect();
        assert_eq!(names, ["AWS", "#hash"]);
        assert_eq!(parsed.accounts().nth(1).unwrap().params.period, 60);
    }

    #[test]
    fn push_adds_missing_columns_to_every_row() {
        let mut doc = document("name,secret\na,JBSWY3DPEHPK3PXP\n");
        doc.push(&account("b", Params::default()));
        assert_eq!(
            text(&doc),
            "name,secret,issuer\na,JBSWY3DPEHPK3PXP,\nb,JBSWY3DPEHPK3PXP,\"Issuer, Inc\"\n"
        );
    }

    #[test]
    fn remove_rename_edit_and_set_secret() {
        let mut doc = document("name,issuer,secret\nA,x,JBSWY3DPEHPK3PXP\nB,y,JBSWY3DPEHPK3PXP\n");
        assert!(doc.remove("a"));
        assert!(!doc.remove("zzz"));
        assert!(doc.rename("B", "Bee"));
        assert!(doc.edit(
            "bee",
            &Changes {
                digits: Some(8),
                ..Changes::default()
            }
        ));
        let secret = crate::secret::decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert!(doc.set_secret("Bee", &secret));
        assert_eq!(
            text(&doc),
            "name,issuer,secret,digits\nBee,y,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8\n"
        );
        assert_eq!(doc.names(), ["Bee"]);
    }

    #[test]
    fn marks_are_set_joined_cleared_by_a_new_secret_and_never_on_a_new_row() {
        let mut doc = document("name,secret\nA,AAAAAAAA\nB,BBBBBBBB\n");
        doc.mark_all(&Reenrol::parse("since=2026-11-29;by=bob").unwrap());
        doc.mark_all(&Reenrol::parse("since=2026-12-01;by=carol").unwrap());
        assert_eq!(
            text(&doc),
            "name,secret,reenrol\nA,AAAAAAAA,\"since=2026-11-29;by=bob,carol\"\nB,BBBBBBBB,\"since=2026-11-29;by=bob,carol\"\n"
        );
        doc.set_secret("a", &crate::secret::decode("JBSWY3DPEHPK3PXP").unwrap());
        assert_eq!(doc.mark("A"), None);
        assert_eq!(doc.mark("B").unwrap().members, ["bob", "carol"]);
        doc.push(&account("C", Params::default()));
        assert_eq!(doc.mark("C"), None);
        // A rename keeps the mark.
        doc.rename("B", "B2");
        assert!(doc.mark("B2").is_some());
    }

    #[test]
    fn merge_keeps_marks_unless_the_other_side_re_enrolled() {
        let base = document(
            "name,secret,reenrol\nA,AAAAAAAA,since=2026-01-01;by=old\nB,BBBBBBBB,\nC,CCCCCCCC,\n",
        );
        // Ours: removed bob (marks B and C), edited nothing else. Theirs: re-enrolled A, changed C's issuer.
        let ours = document(
            "name,secret,reenrol\nA,AAAAAAAA,since=2026-01-01;by=old\nB,BBBBBBBB,since=2026-11-29;by=bob\nC,CCCCCCCC,since=2026-11-29;by=bob\n",
        );
        let theirs =
            document("name,secret,reenrol,issuer\nA,AAAAAAA2,,\nB,BBBBBBBB,,\nC,CCCCCCCC,,Cee\n");
        let (merged, conflicts) = Document::merge(&base, &ours, &theirs);
        assert!(conflicts.is_empty(), "{conflicts:?}");
        assert_eq!(merged.mark("A"), None, "theirs re-enrolled A");
        assert_eq!(merged.mark("B").unwrap().members, ["bob"]);
        assert_eq!(
            merged.mark("C").unwrap().members,
            ["bob"],
            "mark and edit both kept"
        );
        assert!(
            text(&merged).contains("C,CCCCCCCC,\"since=2026-11-29;by=bob\",Cee")
                || text(&merged).contains("C,CCCCCCCC,since=2026-11-29;by=bob,Cee"),
            "{}",
            text(&merged)
        );
        // The same the other way round: their mark survives our unrelated edit.
        let (merged, _) = Document::merge(&base, &theirs, &ours);
        assert_eq!(merged.mark("B").unwrap().members, ["bob"]);
        assert_eq!(merged.mark("A"), None);
    }

    #[test]
    fn merge_by_name_takes_one_sided_changes_and_reports_two_sided_ones() {
        let base = document("name,secret\nA,AAAAAAAA\nB,BBBBBBBB\nC,CCCCCCCC\nD,DDDDDDDD\n");
        // Ours: add X, remove B, change C. Theirs: add Y, change D, change C differently.
        let ours = document("name,secret\nA,AAAAAAAA\nC,CCCCCCC2\nD,DDDDDDDD\nX,XXXXXXXX\n");
        let theirs = document(
            "name,secret,issuer\nA,AAAAAAAA,\nB,BBBBBBBB,\nC,CCCCCCC3,\nD,DDDDDDD2,Dee\nY,YYYYYYYY,\n",
        );
        let (merged, conflicts) = Document::merge(&base, &ours, &theirs);
        assert_eq!(conflicts, ["C"]);
        assert_eq!(
            text(&merged),
            "name,secret,issuer\nA,AAAAAAAA,\nC,CCCCCCC2,\nD,DDDDDDD2,Dee\nX,XXXXXXXX,\nY,YYYYYYYY,\n"
        );
        // Both sides adding the same row is clean; an empty base works.
        let (merged, conflicts) = Document::merge(&Document::new(), &ours, &ours);
        assert!(conflicts.is_empty());
        assert_eq!(text(&merged), text(&ours));
    }

    #[test]
    fn merge_follows_a_rename_by_secret_merges_fields_and_keeps_order_and_columns() {
        // Regression (issue 14): a rename on one side and an edit on the other gave two accounts with
        // the same secret; --digits on one side and --period on the other was a conflict.
        let base =
            document("name,secret,digits,period\nA,AAAAAAAA,,\nB,BBBBBBBB,,\nC,CCCCCCCC,,\n");
        let ours =
            document("name,secret,digits,period\nA2,AAAAAAAA,,\nB,BBBBBBBB,8,\nC,CCCCCCCC,,\n");
        let theirs = document(
            "name,secret,digits,period,reenrol\nA,AAAAAAAA,7,,\nB,BBBBBBBB,,60,\nC,CCCCCCCC,,,2026-11-01\n",
        );
        let (merged, conflicts) = Document::merge(&base, &ours, &theirs);
        assert!(conflicts.is_empty(), "{conflicts:?}");
        assert_eq!(
            text(&merged),
            "name,secret,digits,period,reenrol\nA2,AAAAAAAA,7,,\nB,BBBBBBBB,8,60,\nC,CCCCCCCC,,,2026-11-01\n"
        );
        // The same from the other side: the rename stays in its place, the column is kept.
        let (merged, conflicts) = Document::merge(&base, &theirs, &ours);
        assert!(conflicts.is_empty(), "{conflicts:?}");
        assert_eq!(
            text(&merged),
            "name,secret,digits,period,reenrol\nA2,AAAAAAAA,7,,\nB,BBBBBBBB,8,60,\nC,CCCCCCCC,,,2026-11-01\n"
        );
        // A secret held by two rows is not an identity: no pairing by it.
        let base = document("name,secret\nA,AAAAAAAA\nB,AAAAAAAA\n");
        let ours = document("name,secret\nA,AAAAAAAA\nB2,AAAAAAAA\n");
        let (merged, conflicts) = Document::merge(&base, &ours, &base);
        assert!(conflicts.is_empty());
        assert_eq!(text(&merged), "name,secret\nA,AAAAAAAA\nB2,AAAAAAAA\n");
        // Both sides renaming differently is a conflict (ours kept).
        let base = document("name,secret\nA,AAAAAAAA\n");
        let ours = document("name,secret\nOurs,AAAAAAAA\n");
        let theirs = document("name,secret\nTheirs,AAAAAAAA\n");
        let (merged, conflicts) = Document::merge(&base, &ours, &theirs);
        assert_eq!(conflicts, ["Ours"]);
        assert_eq!(text(&merged), "name,secret\nOurs,AAAAAAAA\n");
    }

    #[test]
    fn gauth_lines_become_team_csv() {
        let doc = document(
            "AWS: jbsw y3dp ehpk 3pxp\notpauth://totp/ACME:ops?secret=JBSWY3DPEHPK3PXP&digits=8\n",
        );
        assert_eq!(
            text(&doc),
            "name,issuer,secret,digits,period,algorithm,type\n\
             AWS,,JBSWY3DPEHPK3PXP,,,,\n\
             ops,ACME,JBSWY3DPEHPK3PXP,8,,,\n"
        );
    }
}
