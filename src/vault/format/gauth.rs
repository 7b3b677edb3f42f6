//! gauth lines: `name:secret` (split at the first colon, both sides trimmed), or an otpauth URI per line.

use super::{Reason, Row, otpauth, records};
use crate::account::{Account, Params};
use crate::secret;

pub fn parse(bytes: &[u8]) -> Vec<Row> {
    parse_where(bytes, |_| true)
}

/// [`parse`], leaving out the lines `keep` refuses.
pub fn parse_where(bytes: &[u8], keep: impl Fn(&[u8]) -> bool) -> Vec<Row> {
    let mut rows = Vec::new();
    each_where(bytes, keep, |row| rows.push(row));
    rows
}

/// The rows of [`parse_where`], handed to `each` one at a time.
pub fn each_where(bytes: &[u8], keep: impl Fn(&[u8]) -> bool, mut each: impl FnMut(Row)) {
    records::lines(bytes)
        .filter(|(_, line)| !records::is_blank(line) && !records::is_comment(line) && keep(line))
        .for_each(|(number, line)| each(row(number, line)));
}

/// The rows of the given lines (number and text without the line break), blank and comment lines
/// skipped: what [`parse`] gives for them.
pub fn parse_lines<'a>(lines: impl IntoIterator<Item = (usize, &'a [u8])>) -> Vec<Row> {
    lines
        .into_iter()
        .filter(|(_, line)| !records::is_blank(line) && !records::is_comment(line))
        .map(|(number, line)| row(number, line))
        .collect()
}

fn row(line: usize, bytes: &[u8]) -> Row {
    let (name, entry) = entry(bytes);
    Row::new(
        line,
        entry.map_err(|reason| (name, reason)),
        Vec::new(),
        None,
    )
}

fn entry(bytes: &[u8]) -> (String, Result<Account, Reason>) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        // The name is still useful in the message when it is readable.
        let name = bytes
            .split(|b| *b == b':')
            .next()
            .and_then(|n| std::str::from_utf8(n).ok())
            .map(|n| n.trim().to_owned())
            .filter(|_| bytes.contains(&b':'))
            .unwrap_or_default();
        return (name, Err(Reason::NotUtf8));
    };
    let text = text.trim();
    if otpauth::is_uri(text) {
        return match otpauth::parse(text) {
            Ok(account) => (account.name.clone(), Ok(account)),
            Err((name, reason)) => (name.unwrap_or_default(), Err(reason)),
        };
    }
    let Some((name, secret_text)) = text.split_once(':') else {
        return (String::new(), Err(Reason::NoColon));
    };
    let name = name.trim().to_owned();
    if name.is_empty() {
        return (name, Err(Reason::EmptyName));
    }
    if secret_text.trim().is_empty() {
        // `TEXT:` alone is most likely a secret with a stray colon: never show it as a name.
        return (String::new(), Err(Reason::NameOnly));
    }
    let entry = secret::decode(secret_text.trim())
        .map(|secret| Account {
            name: name.clone(),
            issuer: None,
            params: Params::default(),
            secret,
        })
        .map_err(Reason::from);
    (name, entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::SecretError;

    #[test]
    fn splits_at_the_first_colon_and_trims() {
        let rows = parse(b" AWS : jbsw y3dp ehpk 3pxp \r\n");
        let account = rows[0].entry.as_ref().unwrap();
        assert_eq!(account.name, "AWS");
        assert_eq!(account.params, Params::default());
    }

    #[test]
    fn skips_blank_lines_and_comments_and_keeps_line_numbers() {
        let rows =
            parse(b"# team\n\nA:JBSWY3DPEHPK3PXP\n  # indented comment\nB:JBSWY3DPEHPK3PXP\n");
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 5]);
    }

    #[test]
    fn invalid_rows_keep_their_place_and_name() {
        let rows = parse(
            b"Google:a2b3c4d5e6f7g8h9\njust-a-secret\n:JBSWY3DPEHPK3PXP\nOK:JBSWY3DPEHPK3PXP\n",
        );
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].name(), "Google");
        assert!(matches!(
            rows[0].entry,
            Err(Reason::Secret(SecretError::InvalidCharacter {
                position: 14,
                ..
            }))
        ));
        assert_eq!(rows[1].name(), "");
        assert_eq!(rows[1].entry.as_ref().unwrap_err(), &Reason::NoColon);
        assert_eq!(rows[2].entry.as_ref().unwrap_err(), &Reason::EmptyName);
        assert!(rows[3].entry.is_ok());
    }

    #[test]
    fn a_line_with_nothing_after_the_colon_is_not_shown_as_a_name() {
        let rows = parse(b"JBSWY3DPEHPK3PXP:\nJBSWY3DPEHPK3PXP : \nJBSWY3DPEHPK3PXP\n");
        for row in &rows {
            assert_eq!(row.name(), "", "line {}", row.line);
        }
        assert_eq!(rows[0].entry.as_ref().unwrap_err(), &Reason::NameOnly);
        assert_eq!(rows[1].entry.as_ref().unwrap_err(), &Reason::NameOnly);
        assert_eq!(rows[2].entry.as_ref().unwrap_err(), &Reason::NoColon);
    }

    #[test]
    fn reads_otpauth_uri_lines() {
        let rows = parse(
            b"otpauth://totp/ACME%20Co:ops@acme.example?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co\n",
        );
        assert_eq!(rows[0].name(), "ops@acme.example");
        assert_eq!(
            rows[0].entry.as_ref().unwrap().issuer.as_deref(),
            Some("ACME Co")
        );
    }

    #[test]
    fn non_utf8_row_is_reported_with_its_name() {
        let rows = parse(b"Caf\xE9:JBSWY3DPEHPK3PXP\nok:JBSWY3DPEHPK3PXP\n");
        assert_eq!(rows[0].entry.as_ref().unwrap_err(), &Reason::NotUtf8);
        assert_eq!(rows[0].name(), "");
        assert!(rows[1].entry.is_ok());
        let rows = parse(b"Cafe:JBSWY3DP\xE9HPK3PXP\n");
        assert_eq!(rows[0].name(), "Cafe");
    }
}
