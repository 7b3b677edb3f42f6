//! Splitting a decrypted file into lines and RFC 4180 records, with line numbers, into zeroizing buffers.
//!
//! The csv crate copies fields into internal buffers that are never wiped, so the secrets file is split
//! here instead: every field is its own `Zeroizing` buffer, and nothing else holds a copy.

use zeroize::Zeroizing;

/// One field's bytes (not yet checked to be UTF-8).
pub type Field = Zeroizing<Vec<u8>>;

/// One CSV record and the 1-based line it starts on.
#[derive(Debug)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<Field>,
}

impl Record {
    /// True when every field is empty after trimming (a line of bare commas): treated like a blank line.
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim_ascii().is_empty())
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

/// Splits RFC 4180 CSV into records. Blank lines and comment lines (`#` first) between records are skipped.
/// Fields are trimmed of surrounding spaces and tabs unless quoted; quoted fields may hold commas, `""`
/// and newlines. An unterminated quote runs to the end of the file, as in every CSV reader.
pub fn records(bytes: &[u8]) -> Vec<Record> {
    items(bytes)
        .into_iter()
        .filter_map(|item| match item {
            Item::Record(record) => Some(record),
            Item::Other(_) => None,
        })
        .collect()
}

/// Like [`records`], but keeps comment and blank lines in their places.
pub fn items(bytes: &[u8]) -> Vec<Item> {
    let bytes = strip_bom(bytes);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut line = 1;
    while pos < bytes.len() {
        let line_end = bytes[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        let this_line = &bytes[pos..line_end];
        if is_blank(this_line) || is_comment(this_line) {
            let text = this_line.strip_suffix(b"\r").unwrap_or(this_line);
            out.push(Item::Other(Zeroizing::new(text.to_vec())));
            pos = line_end + 1;
            line += 1;
            continue;
        }
        let start_line = line;
        let mut fields = Vec::new();
        loop {
            let (field, next, newlines) = field(bytes, pos);
            fields.push(field);
            line += newlines;
            pos = next;
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
        out.push(Item::Record(Record {
            line: start_line,
            fields,
        }));
    }
    out
}

/// Reads one field starting at `pos`. Returns the field, the position of the byte after it (a comma, a
/// line end or the end of input) and how many newlines were inside the field.
fn field(bytes: &[u8], mut pos: usize) -> (Field, usize, usize) {
    while matches!(bytes.get(pos), Some(b' ' | b'\t')) {
        pos += 1;
    }
    let mut value = Zeroizing::new(Vec::new());
    let mut newlines = 0;
    if bytes.get(pos) == Some(&b'"') {
        pos += 1;
        let end = closing_quote_end(bytes, pos);
        value.reserve_exact(end - pos);
        while pos < bytes.len() {
            match bytes[pos] {
                b'"' if bytes.get(pos + 1) == Some(&b'"') => {
                    value.push(b'"');
                    pos += 2;
                }
                b'"' => {
                    pos += 1;
                    break;
                }
                b => {
                    if b == b'\n' {
                        newlines += 1;
                    }
                    value.push(b);
                    pos += 1;
                }
            }
        }
        // Anything between the closing quote and the next separator is kept, as lenient readers do.
        let rest_end = separator(bytes, pos);
        value.extend_from_slice(bytes[pos..rest_end].trim_ascii());
        (value, rest_end, newlines)
    } else {
        let end = separator(bytes, pos);
        let raw = bytes[pos..end]
            .strip_suffix(b"\r")
            .unwrap_or(&bytes[pos..end]);
        value.extend_from_slice(raw.trim_ascii());
        (value, end, newlines)
    }
}

/// Position of the next comma or newline at or after `pos` (or the end).
fn separator(bytes: &[u8], pos: usize) -> usize {
    bytes[pos..]
        .iter()
        .position(|b| matches!(b, b',' | b'\n'))
        .map_or(bytes.len(), |i| pos + i)
}

/// Position just after the closing quote of a quoted field whose content starts at `pos`, so the value
/// buffer can be sized once and never reallocate (a reallocation would leave an unwiped copy).
fn closing_quote_end(bytes: &[u8], mut pos: usize) -> usize {
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

    #[test]
    fn lines_numbers_and_terminators() {
        let got: Vec<_> = lines(b"\xEF\xBB\xBFa\r\n\nb\n").collect();
        assert_eq!(got, vec![(1, &b"a"[..]), (2, &b""[..]), (3, &b"b"[..])]);
    }
}
