//! Splitting a decrypted file into lines and RFC 4180 records, with line numbers, into zeroizing buffers.
//!
//! The csv crate copies fields into internal buffers that are never wiped, so the secrets file is split
//! here instead: every field is its own `Zeroizing` buffer, and nothing else holds a copy.

use zeroize::Zeroizing;

/// The fields of one record, in one zeroizing buffer (one allocation per record, not per field).
#[derive(Debug, Default)]
pub struct Fields {
    data: Zeroizing<Vec<u8>>,
    /// End offset of each field in `data`.
    ends: Vec<usize>,
}

impl Fields {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of field `index` (not yet checked to be UTF-8).
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let end = *self.ends.get(index)?;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.data[start..end])
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = &'a [u8];
    type IntoIter = Box<dyn Iterator<Item = &'a [u8]> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// One CSV record and the 1-based line it starts on.
#[derive(Debug)]
pub struct Record {
    pub line: usize,
    pub fields: Fields,
}

impl Record {
    /// True when every field is empty after trimming (a line of bare commas): treated like a blank line.
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim_ascii().is_empty())
    }
}

/// A record's fields as the splitter hands them over, borrowed for one call: ranges of the decrypted
/// file itself when no field is quoted (nothing copied), else of a zeroizing scratch buffer holding the
/// unescaped fields (reused from record to record).
#[derive(Debug, Clone, Copy)]
pub struct FieldsRef<'a> {
    data: &'a [u8],
    /// `data` as text when it is UTF-8 (checked once per record, not once per field).
    text: Option<&'a str>,
    ranges: &'a [std::ops::Range<usize>],
}

impl<'a> FieldsRef<'a> {
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The bytes of field `index` (not yet checked to be UTF-8).
    pub fn get(&self, index: usize) -> Option<&'a [u8]> {
        let range = self.ranges.get(index)?;
        self.data.get(range.clone())
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        self.ranges.iter().filter_map(move |r| data.get(r.clone()))
    }

    /// Each field as text, or `None` for a field that is not UTF-8. A record that is UTF-8 as a whole
    /// has only UTF-8 fields (they are cut at ASCII bytes): then nothing is checked again.
    pub fn texts(&self) -> impl Iterator<Item = Option<&'a str>> + 'a {
        let (data, text) = (self.data, self.text);
        self.ranges.iter().map(move |r| match text {
            Some(text) => text.get(r.clone()),
            None => std::str::from_utf8(data.get(r.clone())?).ok(),
        })
    }
}

/// A record as the splitter hands it over (see [`FieldsRef`]).
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    pub line: usize,
    pub fields: FieldsRef<'a>,
}

impl RecordRef<'_> {
    /// True when every field is empty after trimming (a line of bare commas): treated like a blank line.
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim_ascii().is_empty())
    }

    /// The record in a zeroizing buffer of its own, sized exactly.
    pub fn to_record(&self) -> Record {
        let total = self.fields.iter().map(<[u8]>::len).sum();
        let mut fields = Fields {
            data: Zeroizing::new(Vec::with_capacity(total)),
            ends: Vec::with_capacity(self.fields.len()),
        };
        for field in self.fields.iter() {
            fields.data.extend_from_slice(field);
            fields.ends.push(fields.data.len());
        }
        Record {
            line: self.line,
            fields,
        }
    }
}

/// Removes a UTF-8 byte order mark.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Lines with their 1-based numbers, without the `\n` or `\r\n` terminator.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let bytes = strip_bom(bytes);
    let mut parts = bytes.split(|b| *b == b'\n').enumerate().peekable();
    std::iter::from_fn(move || {
        let (index, line) = parts.next()?;
        // A final empty piece after the last newline is not a line.
        if line.is_empty() && parts.peek().is_none() {
            return None;
        }
        Some((index + 1, line.strip_suffix(b"\r").unwrap_or(line)))
    })
}

/// True for a line that holds nothing: only spaces and tabs.
pub fn is_blank(line: &[u8]) -> bool {
    line.trim_ascii().is_empty()
}

/// True for a comment line: `#` as its first non-blank character.
pub fn is_comment(line: &[u8]) -> bool {
    line.trim_ascii_start().first() == Some(&b'#')
}

/// A piece of a CSV file: a record, or a comment or blank line between records (kept for rewriting).
#[derive(Debug)]
pub enum Item {
    Record(Record),
    /// A comment or blank line, without its line terminator.
    Other(Zeroizing<Vec<u8>>),
}

/// What the splitter hands over, borrowed for one call.
enum ItemRef<'a> {
    Record(RecordRef<'a>),
    Other(&'a [u8]),
}

/// Splits RFC 4180 CSV into records. Blank lines and comment lines (`#` first) between records are skipped.
/// Fields are trimmed of surrounding spaces and tabs unless quoted; quoted fields may hold commas, `""`
/// and newlines. An unterminated quote runs to the end of the file, as in every CSV reader.
pub fn records(bytes: &[u8]) -> Vec<Record> {
    records_where(bytes, |_, _| true)
}

/// Like [`records`], but only the records for which `keep(index, raw bytes)` is true are copied out
/// (`index` counts records from 0; line numbers stay those of the whole file).
pub fn records_where(bytes: &[u8], keep: impl FnMut(usize, &[u8]) -> bool) -> Vec<Record> {
    let mut out = Vec::new();
    each_record(bytes, keep, |record| out.push(record.to_record()));
    out
}

/// Hands each kept record to `each` as soon as it is split, borrowed: no list of every record is held at
/// once, and a record without quotes is not copied at all.
pub fn each_record(
    bytes: &[u8],
    keep: impl FnMut(usize, &[u8]) -> bool,
    mut each: impl FnMut(RecordRef<'_>),
) {
    split(bytes, keep, &mut |item| {
        if let ItemRef::Record(record) = item {
            each(record);
        }
    });
}

/// Like [`records`], but keeps comment and blank lines in their places.
pub fn items(bytes: &[u8]) -> Vec<Item> {
    let mut out = Vec::new();
    split(bytes, |_, _| true, &mut |item| {
        out.push(match item {
            ItemRef::Record(record) => Item::Record(record.to_record()),
            ItemRef::Other(text) => Item::Other(Zeroizing::new(text.to_vec())),
        })
    });
    out
}

/// The splitter behind [`items`] and [`each_record`]: hands each kept record (and every comment or
/// blank line) to `emit`.
fn split(
    bytes: &[u8],
    mut keep: impl FnMut(usize, &[u8]) -> bool,
    emit: &mut dyn FnMut(ItemRef<'_>),
) {
    let bytes = strip_bom(bytes);
    let mut index = 0;
    let mut pos = 0;
    let mut line = 1;
    // Reused for every record (not one allocation per row): where each field is, the ranges handed
    // over, and the unescaped fields of a record with quotes.
    let mut spans = Vec::with_capacity(16);
    let mut ranges = Vec::with_capacity(16);
    let mut scratch: Zeroizing<Vec<u8>> = Zeroizing::new(Vec::new());
    while pos < bytes.len() {
        let line_end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let this_line = &bytes[pos..line_end];
        if is_blank(this_line) || is_comment(this_line) {
            emit(ItemRef::Other(
                this_line.strip_suffix(b"\r").unwrap_or(this_line),
            ));
            pos = line_end + 1;
            line += 1;
            continue;
        }
        // A record without quotes is its line, and its fields are the pieces between its commas,
        // trimmed (what `field` finds there, in one pass): ask `keep`, then hand it over.
        if memchr::memchr(b'"', this_line).is_none() {
            index += 1;
            pos = line_end + 1;
            line += 1;
            if !keep(index - 1, this_line) {
                continue;
            }
            emit(ItemRef::Record(unquoted(line - 1, this_line, &mut ranges)));
            continue;
        }
        let start_line = line;
        let start = pos;
        spans.clear();
        loop {
            let span = field(bytes, pos);
            line += span.newlines;
            pos = span.next;
            spans.push(span);
            match bytes.get(pos) {
                Some(b',') => pos += 1,
                Some(b'\r') if bytes.get(pos + 1) == Some(&b'\n') => {
                    pos += 2;
                    line += 1;
                    break;
                }
                Some(b'\n') => {
                    pos += 1;
                    line += 1;
                    break;
                }
                _ => {
                    pos = bytes.len();
                    break;
                }
            }
        }
        index += 1;
        if !keep(index - 1, &bytes[start..pos.min(bytes.len())]) {
            continue;
        }
        ranges.clear();
        let record = &bytes[start..pos.min(bytes.len())];
        let data: &[u8] = if spans.iter().any(|s| s.quoted) {
            let total: usize = spans.iter().map(|s| s.len(bytes)).sum();
            if total > scratch.capacity() {
                // A new buffer rather than a reallocation, which would leave an unwiped copy behind.
                scratch = Zeroizing::new(Vec::with_capacity(total.max(256)));
            }
            scratch.clear();
            for span in &spans {
                let from = scratch.len();
                span.copy(bytes, &mut scratch);
                ranges.push(from..scratch.len());
            }
            &scratch
        } else {
            ranges.extend(
                spans
                    .iter()
                    .map(|s| s.content.start - start..s.content.end - start),
            );
            record
        };
        emit(ItemRef::Record(RecordRef {
            line: start_line,
            fields: FieldsRef {
                data,
                text: std::str::from_utf8(data).ok(),
                ranges: &ranges,
            },
        }));
    }
}

/// The record of a line without quotes: its fields are the pieces between its commas, trimmed (what
/// [`field`] finds there, in one pass). `ranges` is the caller's, reused from record to record.
fn unquoted<'a>(
    line: usize,
    text: &'a [u8],
    ranges: &'a mut Vec<std::ops::Range<usize>>,
) -> RecordRef<'a> {
    ranges.clear();
    let mut from = 0;
    for comma in memchr::memchr_iter(b',', text).chain([text.len()]) {
        let piece = &text[from..comma];
        let leading = piece.len() - piece.trim_ascii_start().len();
        let start = from + leading;
        ranges.push(start..start + piece.trim_ascii().len());
        from = comma + 1;
    }
    RecordRef {
        line,
        fields: FieldsRef {
            data: text,
            text: std::str::from_utf8(text).ok(),
            ranges,
        },
    }
}

/// The records of chosen lines of a file without any `"` (where every record is one line), as the
/// splitter would hand them over: `lines` gives each line's number and text (without its line break; a
/// `\r` before it is trimmed with the last field). Blank and comment lines are skipped.
pub fn each_line_record<'a>(
    lines: impl IntoIterator<Item = (usize, &'a [u8])>,
    mut each: impl FnMut(RecordRef<'_>),
) {
    let mut ranges = Vec::with_capacity(16);
    for (number, text) in lines {
        if !is_blank(text) && !is_comment(text) {
            each(unquoted(number, text, &mut ranges));
        }
    }
}

/// Where one field is: its content (between quotes, or trimmed), whether `""` must be unescaped, text
/// kept after a closing quote, the position of the byte after it (a comma, a line end or the end of
/// input) and how many newlines were inside it.
struct Span {
    content: std::ops::Range<usize>,
    quoted: bool,
    after_quote: std::ops::Range<usize>,
    next: usize,
    newlines: usize,
}

impl Span {
    /// Length of the field's value (unescaping only shrinks, so this is exact after `copy`).
    fn len(&self, bytes: &[u8]) -> usize {
        let quotes = if self.quoted {
            count_escaped_quotes(&bytes[self.content.clone()])
        } else {
            0
        };
        self.content.len() - quotes + bytes[self.after_quote.clone()].trim_ascii().len()
    }

    fn copy(&self, bytes: &[u8], out: &mut Vec<u8>) {
        let content = &bytes[self.content.clone()];
        if self.quoted {
            let mut i = 0;
            while i < content.len() {
                out.push(content[i]);
                i += if content[i] == b'"' { 2 } else { 1 };
            }
            // Anything between the closing quote and the next separator is kept, as lenient readers do.
            out.extend_from_slice(bytes[self.after_quote.clone()].trim_ascii());
        } else {
            out.extend_from_slice(content);
        }
    }
}

fn count_escaped_quotes(content: &[u8]) -> usize {
    let mut i = 0;
    let mut count = 0;
    while i < content.len() {
        if content[i] == b'"' {
            count += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    count
}

/// Finds one field starting at `pos`.
fn field(bytes: &[u8], mut pos: usize) -> Span {
    while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
        pos += 1;
    }
    if bytes.get(pos) == Some(&b'"') {
        let start = pos + 1;
        let end = closing_quote(bytes, start);
        let newlines = bytes[start..end].iter().filter(|b| **b == b'\n').count();
        let after = (end + 1).min(bytes.len());
        let next = separator(bytes, after);
        Span {
            content: start..end,
            quoted: true,
            after_quote: after..next,
            next,
            newlines,
        }
    } else {
        let next = separator(bytes, pos);
        let raw = bytes[pos..next]
            .strip_suffix(b"\r")
            .unwrap_or(&bytes[pos..next]);
        let leading = raw.len() - raw.trim_ascii_start().len();
        let trimmed = raw.trim_ascii().len();
        Span {
            content: pos + leading..pos + leading + trimmed,
            quoted: false,
            after_quote: next..next,
            next,
            newlines: 0,
        }
    }
}

/// Position of the next comma or newline at or after `pos` (or the end).
fn separator(bytes: &[u8], pos: usize) -> usize {
    memchr::memchr2(b',', b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i)
}

/// Position of the closing quote of a quoted field whose content starts at `pos` (`""` is an escaped
/// quote), or the end of input for an unterminated quote.
fn closing_quote(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() {
        if bytes[pos] == b'"' {
            if bytes.get(pos + 1) == Some(&b'"') {
                pos += 2;
                continue;
            }
            return pos;
        }
        pos += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(record: &Record) -> Vec<String> {
        record
            .fields
            .iter()
            .map(|f| String::from_utf8(f.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn record_buffer_is_sized_exactly() {
        let records = records(b"\"a\"\"b\" x , c\n");
        assert_eq!(texts(&records[0]), ["a\"bx", "c"]);
        let fields = &records[0].fields;
        assert_eq!(fields.data.capacity(), fields.data.len());
    }

    #[test]
    fn splits_plain_and_quoted_fields_with_line_numbers() {
        let input = b"name,secret\n# a comment\n\n\"Root, production\" , ABCD\r\nplain , \"a \"\"q\"\" b\"\n";
        let records = records(input);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].line, 1);
        assert_eq!(texts(&records[1]), ["Root, production", "ABCD"]);
        assert_eq!(records[1].line, 4);
        assert_eq!(texts(&records[2]), ["plain", "a \"q\" b"]);
        assert_eq!(records[2].line, 5);
    }

    #[test]
    fn quoted_newlines_advance_the_line_count() {
        let input = b"a,b\n\"two\nlines\",x\nnext,y";
        let records = records(input);
        assert_eq!(texts(&records[1]), ["two\nlines", "x"]);
        assert_eq!(records[2].line, 4);
        assert_eq!(texts(&records[2]), ["next", "y"]);
    }

    #[test]
    fn strips_bom_and_handles_missing_final_newline() {
        let records = records(b"\xEF\xBB\xBFname,secret\r\nx,y");
        assert_eq!(texts(&records[0]), ["name", "secret"]);
        assert_eq!(texts(&records[1]), ["x", "y"]);
    }

    #[test]
    fn empty_trailing_field_is_kept() {
        let records = records(b"a,b,\n");
        assert_eq!(texts(&records[0]), ["a", "b", ""]);
    }

    #[test]
    fn unterminated_quote_runs_to_the_end_without_panicking() {
        let records = records(b"a,\"open\nmore");
        assert_eq!(texts(&records[0]), ["a", "open\nmore"]);
    }

    proptest::proptest! {
        /// A line without quotes takes the one-pass split; the same line with a quoted field added
        /// takes the field-by-field splitter. Both give the same fields (and the same line numbers).
        #[test]
        fn lines_without_quotes_split_as_the_general_splitter_does(
            before in "[a-z \t\r\x0c,;:é]{0,6}\n{0,2}",
            line in "[a-z \t\r\x0c,;:é#]{1,20}",
        ) {
            // A blank line is skipped, where the same line with a field added is a record.
            proptest::prop_assume!(!is_blank(line.as_bytes()));
            let plain = format!("{before}{line}\n");
            let quoted = format!("{before}{line},\"\"\n");
            let fast = records(plain.as_bytes());
            let general = records(quoted.as_bytes());
            proptest::prop_assert_eq!(fast.len(), general.len());
            for (f, g) in fast.iter().zip(&general) {
                proptest::prop_assert_eq!(f.line, g.line);
                let (f, mut g) = (texts(f), texts(g));
                if g.last().is_some_and(String::is_empty) && g.len() == f.len() + 1 {
                    g.pop();
                }
                proptest::prop_assert_eq!(f, g);
            }
        }
    }

    #[test]
    fn lines_numbers_and_terminators() {
        let got: Vec<_> = lines(b"\xEF\xBB\xBFa\r\n\nb\n").collect();
        assert_eq!(got, vec![(1, &b"a"[..]), (2, &b""[..]), (3, &b"b"[..])]);
    }
}
