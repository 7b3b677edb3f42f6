//! Text from files others write, made safe to show: names, labels and keys can hold characters a
//! terminal acts on or hides. Every message and every line of output passes through here.

use std::borrow::Cow;
use std::io::{self, Write};

/// True for a character a terminal acts on or hides, so text holding it could show something other than
/// what it is (a key that looks like another member's, a name that moves the cursor, a clipboard write).
/// Every such character is shown as a visible escape by [`printable`] and [`TerminalText`].
///
/// - C0 (U+0000..U+001F, with TAB, LF, CR and ESC), DEL and C1 (U+0080..U+009F): ESC and the C1 CSI
///   (U+009B) start escape sequences (cursor moves, line-wrap off, OSC 52 clipboard writes, titles); CR and
///   BS overwrite what is already on the line; TAB and LF move it.
/// - Bidi controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069): reorder the text after them,
///   so `U+202E gro.kab` reads as `bak.org`.
/// - Zero-width and invisible formatting characters: soft hyphen U+00AD, combining grapheme joiner U+034F,
///   Hangul fillers U+115F, U+1160, U+3164, U+FFA0, Khmer inherent vowels U+17B4, U+17B5, Mongolian
///   selectors and vowel separator U+180B..U+180F, zero-width space, non-joiner and joiner U+200B..U+200D,
///   line and paragraph separators U+2028, U+2029, word joiner, invisible operators and deprecated format
///   controls U+2060..U+206F, byte order mark U+FEFF, interlinear annotation U+FFF9..U+FFFB, musical
///   formatting U+1D173..U+1D17A, tags and variation selectors U+E0000..U+E0FFF: they make two different
///   names look the same, or hide text.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{ad}' | '\u{34f}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}' | '\u{180b}'..='\u{180f}'
        | '\u{200b}'..='\u{200d}' | '\u{2028}' | '\u{2029}' | '\u{2060}'..='\u{206f}' | '\u{3164}'
        | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}' | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}')
}

/// Makes text safe for a terminal: every [`is_unsafe`] character (line breaks too) is shown as a visible
/// escape, `\u{1b}`, `\u{202e}` (lowercase hex, as Rust writes it), so a hostile name can neither rewrite
/// the screen nor hide, and the user sees what it holds. Borrowed when nothing needs escaping.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// [`printable`] for text of several lines (data for people on stdout): every line made safe, the line
/// breaks kept.
pub fn printable_text(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// [`printable`], keeping `\n` when `keep_newline` (for whole messages of several lines).
fn escape(text: &str, keep_newline: bool) -> Cow<'_, str> {
    let needs = |c: char| is_unsafe(c) && !(keep_newline && c == '\n');
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer for the terminal: everything written through it is made safe as by [`printable`], except the
/// line breaks messages are made of. Every message teamotp writes to stderr goes through one, so no
/// message can forget to escape a name, a label or a line it quotes.
///
/// A write may end inside a UTF-8 sequence (a `write!` split by a buffer): the incomplete tail waits for
/// the next write. Bytes that are not UTF-8 are shown as U+FFFD.
pub struct TerminalText<W: Write> {
    inner: W,
    /// The start of a UTF-8 sequence the last write ended in (at most 3 bytes).
    pending: Vec<u8>,
}

impl<W: Write> TerminalText<W> {
    pub fn new(inner: W) -> Self {
        TerminalText {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for TerminalText<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let joined;
        let mut bytes = if self.pending.is_empty() {
            buf
        } else {
            joined = [std::mem::take(&mut self.pending).as_slice(), buf].concat();
            joined.as_slice()
        };
        let mut text = String::with_capacity(bytes.len());
        while !bytes.is_empty() {
            match std::str::from_utf8(bytes) {
                Ok(valid) => {
                    text.push_str(&escape(valid, true));
                    bytes = &[];
                }
                Err(error) => {
                    let (valid, rest) = bytes.split_at(error.valid_up_to());
                    // Proven UTF-8 by `valid_up_to` one line above.
                    text.push_str(&escape(
                        std::str::from_utf8(valid).unwrap_or_default(),
                        true,
                    ));
                    match error.error_len() {
                        Some(bad) => {
                            text.push('\u{FFFD}');
                            bytes = &rest[bad..];
                        }
                        None => {
                            self.pending = rest.to_vec();
                            bytes = &[];
                        }
                    }
                }
            }
        }
        self.inner.write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for TerminalText<W> {
    /// A sequence left incomplete at the end is not UTF-8: shown as U+FFFD.
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.inner.write_all("\u{FFFD}".as_bytes());
            let _ = self.inner.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_as_escapes() {
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(
            printable("\t\n\r\u{7f}\u{9b}"),
            "\\u{9}\\u{a}\\u{d}\\u{7f}\\u{9b}"
        );
        assert_eq!(
            printable("\u{1b}]52;c;SGVsbG8=\u{7}"),
            "\\u{1b}]52;c;SGVsbG8=\\u{7}"
        );
    }

    #[test]
    fn bidi_and_invisible_characters_are_shown_as_escapes() {
        assert_eq!(printable("\u{202e}gro.kab"), "\\u{202e}gro.kab");
        assert_eq!(printable("a\u{200b}b\u{feff}"), "a\\u{200b}b\\u{feff}");
        assert_eq!(printable("\u{e0041}\u{1d173}"), "\\u{e0041}\\u{1d173}");
        for c in [
            '\u{ad}',
            '\u{34f}',
            '\u{61c}',
            '\u{115f}',
            '\u{1160}',
            '\u{17b4}',
            '\u{17b5}',
            '\u{180e}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{2028}',
            '\u{2029}',
            '\u{202a}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{206f}',
            '\u{3164}',
            '\u{ffa0}',
            '\u{fff9}',
            '\u{fffb}',
            '\u{e0fff}',
        ] {
            assert!(is_unsafe(c), "U+{:04X}", u32::from(c));
            assert_eq!(
                printable(&c.to_string()),
                format!("\\u{{{:x}}}", u32::from(c))
            );
        }
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in [
            "홈택스 법인",
            "AWS root (Amazon)",
            "é ü ß ñ 日本",
            "emoji 🔑 ok",
            "a\\u{1b}b",
            "",
        ] {
            assert!(
                matches!(printable(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
        for c in [
            '\u{a0}',
            '\u{2010}',
            '\u{2030}',
            '\u{fffc}',
            '\u{fffd}',
            '\u{1d172}',
            '\u{1d17b}',
        ] {
            assert!(!is_unsafe(c), "U+{:04X}", u32::from(c));
        }
    }

    fn through_sink(chunks: &[&[u8]]) -> String {
        let mut bytes = Vec::new();
        {
            let mut sink = TerminalText::new(&mut bytes);
            for chunk in chunks {
                sink.write_all(chunk).unwrap();
            }
        }
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_sink_escapes_everything_but_line_breaks() {
        let text = "teamotp: added 'Evil\u{1b}[2A\u{202e}x'\n    next\tline\r\n";
        assert_eq!(
            through_sink(&[text.as_bytes()]),
            "teamotp: added 'Evil\\u{1b}[2A\\u{202e}x'\n    next\\u{9}line\\u{d}\n"
        );
        // Escaped text passes unchanged: a field made printable is not escaped twice.
        let shown = printable("a\u{1b}b").into_owned();
        assert_eq!(through_sink(&[shown.as_bytes()]), shown);
    }

    #[test]
    fn the_sink_joins_a_character_split_between_writes() {
        let text = "홈\u{202e}택".as_bytes();
        for cut in 0..=text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(through_sink(&[a, b]), "홈\\u{202e}택", "cut at {cut}");
        }
        let rlo = "\u{202e}".as_bytes();
        assert_eq!(
            through_sink(&[&rlo[..1], &rlo[1..2], &rlo[2..]]),
            "\\u{202e}"
        );
    }

    #[test]
    fn the_sink_shows_bytes_that_are_not_utf8_as_replacement() {
        assert_eq!(through_sink(&[b"a\xff\x1bb"]), "a\u{FFFD}\\u{1b}b");
        assert_eq!(
            through_sink(&[b"a\xe2\x80"]),
            "a\u{FFFD}",
            "cut short at the end"
        );
        assert_eq!(through_sink(&[b"a\xe2\x80", b"x"]), "a\u{FFFD}x");
    }
}
