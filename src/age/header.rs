//! The age v1 header grammar, checked exactly as the C2SP age specification's ABNF says, before the file
//! goes to the age crate (whose parser also accepts a stanza without its final short body line).
//!
//! ```text
//! header     = v1-line 1*stanza end
//! v1-line    = %s"age-encryption.org/v1" LF
//! end        = "--- " 43base64char LF
//! stanza     = arg-line *full-line final-line
//! arg-line   = "-> " argument *(SP argument) LF
//! argument   = 1*VCHAR
//! full-line  = 64base64char LF
//! final-line = *63base64char LF
//! ```
//!
//! Bodies must also be canonical base64 (no padding, zero trailing bits). Only v1 headers are checked:
//! other versions are left to the age crate, which refuses them as an unknown format.

use std::io::{BufRead, Read};

const V1_LINE: &[u8] = b"age-encryption.org/v1\n";
const MAC_LEN: usize = 43;

/// The largest header teamotp reads: 2 MiB. A post-quantum member costs about 4.2 KB of header (a
/// 1.6 KB mlkem768x25519 stanza and 2.6 KB of the recipients record, see `membership`), so this holds a
/// team of about 480 post-quantum members (or thousands with X25519 keys) and bounds what a planted
/// file can make every command parse.
pub const MAX_HEADER: usize = 2 << 20;

/// The most stanzas a header may hold: one per recipient, plus the record and age's grease stanzas.
pub const MAX_STANZAS: usize = 2048;

/// Why a header broke the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Header is invalid: {0}")]
pub struct Invalid(&'static str);

/// One stanza of a header: its type, arguments and decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawStanza {
    pub tag: String,
    pub args: Vec<String>,
    pub body: Vec<u8>,
}

fn base64char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// Checks the header at the start of `file` (binary, or armoured: de-armoured first). A file that is
/// not a v1 age file at all is left alone (Ok), for the age crate to judge.
pub fn check(file: &[u8]) -> Result<(), Invalid> {
    let trimmed = file.trim_ascii_start();
    if trimmed.starts_with(b"-----BEGIN") {
        // Armour errors are the age crate's to report.
        return match dearmored_header(trimmed) {
            Some(binary) => parse_binary(&binary).map(|_| ()),
            None => Ok(()),
        };
    }
    parse_binary(file).map(|_| ())
}

/// The start of an armoured file's binary, decoded up to the end of its header's MAC line (or a little
/// past [`MAX_HEADER`], or the end), not the whole file: the header is all that is checked here. `None`
/// on an armour error.
fn dearmored_header(armoured: &[u8]) -> Option<Vec<u8>> {
    let mut reader = age::armor::ArmoredReader::new(armoured).take(MAX_HEADER as u64 + 4096);
    let mut binary = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut searched: usize = 0;
    loop {
        let n = reader.read(&mut chunk).ok()?;
        if n == 0 {
            return Some(binary);
        }
        binary.extend_from_slice(&chunk[..n]);
        // Only the new bytes (and the few before them that a match could start in) are searched.
        let from = searched.saturating_sub(5);
        let header_ends = memchr::memmem::find(&binary[from..], b"\n--- ")
            .is_some_and(|mac| memchr::memchr(b'\n', &binary[from + mac + 1..]).is_some());
        if header_ends {
            return Some(binary);
        }
        searched = binary.len();
    }
}

/// The header of `file` in binary form: the file itself, or its armour decoded up to the header's end.
fn binary_header(file: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    let trimmed = file.trim_ascii_start();
    if trimmed.starts_with(b"-----BEGIN") {
        return dearmored_header(trimmed).map(std::borrow::Cow::Owned);
    }
    Some(std::borrow::Cow::Borrowed(file))
}

/// The stanza types of `file`'s header (`X25519`, `mlkem768x25519`, `ssh-ed25519`, ...), binary or
/// armoured; empty when it is not a v1 age file whose header is valid.
pub fn stanza_types(file: &[u8]) -> Vec<String> {
    stanzas(file)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.tag)
        .collect()
}

/// The stanzas of `file`'s header, binary or armoured; None when it is not a v1 age file whose header
/// is valid.
pub fn stanzas(file: &[u8]) -> Option<Vec<RawStanza>> {
    let binary = binary_header(file)?;
    parse_binary(&binary).ok().flatten()
}

/// Parses a binary v1 header in one pass: its stanzas, or None when the file is not a v1 age file.
fn parse_binary(file: &[u8]) -> Result<Option<Vec<RawStanza>>, Invalid> {
    let Some(mut rest) = file.strip_prefix(V1_LINE) else {
        return Ok(None);
    };
    let mut used = V1_LINE.len();
    let mut line = || -> Result<&[u8], Invalid> {
        let end =
            memchr::memchr(b'\n', rest).ok_or(Invalid("the header ends before its MAC line"))?;
        used += end + 1;
        if used > MAX_HEADER {
            return Err(Invalid(
                "the header is larger than 2 MiB (teamotp's limit, far above a large team's)",
            ));
        }
        let (l, r) = rest.split_at(end);
        rest = &r[1..];
        Ok(l)
    };
    let mut stanzas = Vec::new();
    let mut current = line()?;
    loop {
        if let Some(mac) = current.strip_prefix(b"--- ") {
            if stanzas.is_empty() {
                return Err(Invalid("the header has no recipient stanza"));
            }
            if mac.len() != MAC_LEN || !mac.iter().all(|b| base64char(*b)) {
                return Err(Invalid("the MAC line is malformed"));
            }
            canonical(mac)?;
            return Ok(Some(stanzas));
        }
        let Some(args) = current.strip_prefix(b"-> ") else {
            return Err(Invalid("a line is neither a stanza nor the MAC line"));
        };
        if args
            .split(|b| *b == b' ')
            .any(|arg| arg.is_empty() || !arg.iter().all(|b| b.is_ascii_graphic()))
        {
            return Err(Invalid("a stanza argument is empty or not printable ASCII"));
        }
        if stanzas.len() == MAX_STANZAS {
            return Err(Invalid(
                "the header has more than 2048 stanzas (teamotp's limit, far above a large team's)",
            ));
        }
        // Body lines: full 64-character lines, then one shorter (possibly empty) final line.
        let mut body = Vec::new();
        loop {
            let body_line = line()?;
            if body_line.len() > 64 || !body_line.iter().all(|b| base64char(*b)) {
                return Err(Invalid(
                    "a stanza is missing its final short body line, or its body is not base64",
                ));
            }
            body.extend_from_slice(body_line);
            if body_line.len() < 64 {
                break;
            }
        }
        let mut words = args
            .split(|b| *b == b' ')
            .map(|w| String::from_utf8_lossy(w).into_owned());
        stanzas.push(RawStanza {
            tag: words.next().unwrap_or_default(),
            args: words.collect(),
            body: canonical(&body)?,
        });
        current = line()?;
    }
}

/// Unpadded base64 whose unused trailing bits are zero (RFC 4648, section 3.5), decoded.
fn canonical(text: &[u8]) -> Result<Vec<u8>, Invalid> {
    data_encoding::BASE64_NOPAD
        .decode(text)
        .map_err(|_| Invalid("a base64 value is not canonical"))
}

/// A reader that hands the age crate a whole header in one piece. The crate's buffered header reader
/// parses the header again from its start after every line it reads: quadratic in the header's size (a
/// 128 KiB header of tiny stanzas cost 54 s of CPU). Given every line up to the MAC line at its first
/// read, it parses once. Everything after the header passes through unchanged.
pub struct WholeHeader<R> {
    inner: R,
    done: bool,
}

impl<R: BufRead> WholeHeader<R> {
    pub fn new(inner: R) -> Self {
        WholeHeader { inner, done: false }
    }
}

impl<R: BufRead> Read for WholeHeader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: BufRead> BufRead for WholeHeader<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
    }

    fn read_until(&mut self, byte: u8, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        if self.done || byte != b'\n' {
            return self.inner.read_until(byte, buf);
        }
        self.done = true;
        let start = buf.len();
        loop {
            let n = self.inner.read_until(b'\n', buf)?;
            let line = &buf[buf.len() - n..];
            if n == 0 || line.starts_with(b"--- ") {
                return Ok(buf.len() - start);
            }
            if buf.len() - start > MAX_HEADER {
                // Never handed on: the crate would read the rest line by line, quadratically.
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the header is larger than 2 MiB (teamotp's limit, far above a large team's)",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: &str = "--- HK2NmOBN9Dpq0Gw6xMCuhFcQlQLvZ/wQUi/2scLG75s\n";

    fn header(stanzas: &str) -> Vec<u8> {
        format!("age-encryption.org/v1\n{stanzas}{MAC}payload").into_bytes()
    }

    /// An armoured file's header is read without decoding the rest (a large vault's payload is not
    /// decoded twice), and it is the header that is checked.
    #[test]
    fn an_armoured_header_is_read_alone() {
        use std::io::Write as _;
        let key = age::x25519::Identity::generate();
        let me = key.to_public();
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&me as &dyn age::Recipient)).unwrap();
        let mut armoured = Vec::new();
        let writer =
            age::armor::ArmoredWriter::wrap_output(&mut armoured, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut stream = encryptor.wrap_output(writer).unwrap();
        stream.write_all(&vec![b'x'; 300_000]).unwrap();
        stream.finish().unwrap().finish().unwrap();
        let decoded = dearmored_header(&armoured).unwrap();
        assert!(decoded.len() < 8192, "{} bytes decoded", decoded.len());
        assert_eq!(check(&armoured), Ok(()));
        // (the age crate adds a random "grease" stanza after ours)
        assert_eq!(
            stanza_types(&armoured).first().map(String::as_str),
            Some("X25519")
        );
        // A broken header in an armoured file is still found, with a large payload after it.
        let mut broken = header("-> X25519  two-spaces\nAAAA\n");
        broken.extend_from_slice(&vec![7u8; 300_000]);
        let mut armoured = Vec::new();
        let mut writer =
            age::armor::ArmoredWriter::wrap_output(&mut armoured, age::armor::Format::AsciiArmor)
                .unwrap();
        writer.write_all(&broken).unwrap();
        writer.finish().unwrap();
        assert!(check(&armoured).is_err());
        assert_eq!(check(&broken), check(&armoured));
    }

    #[test]
    fn accepts_the_spec_example() {
        let h = header(
            "-> X25519 XEl0dJ6y3C7KZkgmgWUicg63EyXJiwBJW8PdYJ/cYBE\nqRS0AMjdjPvZ/WT08U2KL4G+PIooA3hy38SvLpvaC1E\n",
        );
        assert_eq!(check(&h), Ok(()));
    }

    #[test]
    fn accepts_an_empty_final_line_after_a_full_one() {
        let full = "A".repeat(64);
        assert_eq!(check(&header(&format!("-> x\n{full}\n\n"))), Ok(()));
        assert_eq!(check(&header("-> x\n\n")), Ok(()));
    }

    #[test]
    fn refuses_a_stanza_without_its_final_line() {
        let full = "A".repeat(64);
        assert!(check(&header(&format!("-> x\n{full}\n"))).is_err());
        // No body at all: the next line is the MAC line.
        assert!(check(&header("-> x\n")).is_err());
    }

    #[test]
    fn refuses_bad_lines() {
        assert!(check(&header("-> x\n!!\n")).is_err());
        assert!(check(&header("-> x  y\n\n")).is_err());
        assert!(check(&header("")).is_err());
        assert!(check(&header("-> x\nAB\n")).is_err()); // "AB" has non-zero trailing bits
        assert!(check(b"age-encryption.org/v1\n-> x\n\n--- short\n").is_err());
        assert!(check(b"age-encryption.org/v1\n-> x\n").is_err());
    }

    #[test]
    fn leaves_other_files_to_age() {
        assert_eq!(check(b"name,secret\n"), Ok(()));
        assert_eq!(check(b"age-encryption.org/v2\nanything"), Ok(()));
    }
}
