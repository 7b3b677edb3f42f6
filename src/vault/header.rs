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

use std::io::Read;

const V1_LINE: &[u8] = b"age-encryption.org/v1\n";
const MAC_LEN: usize = 43;

/// Why a header broke the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Header is invalid: {0}")]
pub struct Invalid(&'static str);

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
            Some(binary) => check_binary(&binary),
            None => Ok(()),
        };
    }
    check_binary(file)
}

/// The start of an armoured file's binary, decoded up to the end of its header's MAC line (or 1 MiB, or
/// the end), not the whole file: the header is all that is checked here. `None` on an armour error.
fn dearmored_header(armoured: &[u8]) -> Option<Vec<u8>> {
    let mut reader = age::armor::ArmoredReader::new(armoured).take(1 << 20);
    let mut binary = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = reader.read(&mut chunk).ok()?;
        if n == 0 {
            return Some(binary);
        }
        binary.extend_from_slice(&chunk[..n]);
        let header_ends = memchr::memmem::find(&binary, b"\n--- ")
            .is_some_and(|mac| memchr::memchr(b'\n', &binary[mac + 1..]).is_some());
        if header_ends {
            return Some(binary);
        }
    }
}

/// The stanza types of `file`'s header (`X25519`, `mlkem768x25519`, `ssh-ed25519`, ...), binary or
/// armoured; empty when it is not a v1 age file.
pub fn stanza_types(file: &[u8]) -> Vec<String> {
    let trimmed = file.trim_ascii_start();
    let binary;
    let header: &[u8] = if trimmed.starts_with(b"-----BEGIN") {
        let Some(decoded) = dearmored_header(trimmed) else {
            return Vec::new();
        };
        binary = decoded;
        &binary
    } else {
        file
    };
    let Some(rest) = header.strip_prefix(V1_LINE) else {
        return Vec::new();
    };
    rest.split(|b| *b == b'\n')
        .take_while(|line| !line.starts_with(b"--- "))
        .filter_map(|line| line.strip_prefix(b"-> "))
        .filter_map(|args| args.split(|b| *b == b' ').next())
        .map(|kind| String::from_utf8_lossy(kind).into_owned())
        .collect()
}

fn check_binary(file: &[u8]) -> Result<(), Invalid> {
    let Some(mut rest) = file.strip_prefix(V1_LINE) else {
        return Ok(());
    };
    let mut line = || -> Result<&[u8], Invalid> {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or(Invalid("the header ends before its MAC line"))?;
        let (l, r) = rest.split_at(end);
        rest = &r[1..];
        Ok(l)
    };
    let mut stanzas = 0;
    let mut current = line()?;
    loop {
        if let Some(mac) = current.strip_prefix(b"--- ") {
            if stanzas == 0 {
                return Err(Invalid("the header has no recipient stanza"));
            }
            if mac.len() != MAC_LEN || !mac.iter().all(|b| base64char(*b)) {
                return Err(Invalid("the MAC line is malformed"));
            }
            canonical(mac)?;
            return Ok(());
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
        stanzas += 1;
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
        canonical(&body)?;
        current = line()?;
    }
}

/// Unpadded base64 whose unused trailing bits are zero (RFC 4648, section 3.5).
fn canonical(text: &[u8]) -> Result<(), Invalid> {
    data_encoding::BASE64_NOPAD
        .decode(text)
        .map(|_| ())
        .map_err(|_| Invalid("a base64 value is not canonical"))
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
