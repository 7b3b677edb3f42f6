//! `otpauth://` URIs (the Google Authenticator key URI format), parsed leniently.
//!
//! Parsed by hand rather than with the url crate so the secret parameter is percent-decoded straight into a
//! zeroizing buffer and no other copy of it is made.

use percent_encoding::percent_decode;
use zeroize::Zeroizing;

use super::Reason;
use crate::account::{self, Account, Kind, Params};
use crate::secret;

/// True when the line looks like an otpauth URI (scheme compared case-insensitively).
pub fn is_uri(line: &str) -> bool {
    line.get(..10)
        .is_some_and(|s| s.eq_ignore_ascii_case("otpauth://"))
}

/// Parses an `otpauth://TYPE/LABEL?PARAMS` URI. On failure, also returns the label when it was readable so
/// the error can name the account.
pub fn parse(uri: &str) -> Result<Account, (Option<String>, Reason)> {
    let rest = &uri.trim()[10..];
    // The type ends at the label's '/' or, when the label is missing, at the query's '?'.
    let type_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (kind_text, rest) = rest.split_at(type_end);
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let (label_raw, query) = rest.split_once('?').unwrap_or((rest, ""));
    let label = decode_text(label_raw, false);
    // A label holding the parameters ('&' typed for '?') holds the secret: it is never a name to show.
    if label.to_ascii_lowercase().contains("secret=") {
        return Err((
            None,
            Reason::Uri("the URI has no '?' before its parameters (is '&' typed instead?)".into()),
        ));
    }
    // The Key URI format's label is `ISSUER:ACCOUNT` (the colon may be written `%3A`, decoded above) or
    // `ACCOUNT`: the account part is the name, the prefix the issuer when no issuer= parameter names one.
    let (label_issuer, name) = match label.split_once(':') {
        Some((issuer, account)) if !account.trim().is_empty() => {
            (Some(issuer.trim().to_owned()), account.trim().to_owned())
        }
        _ => (None, label.trim().to_owned()),
    };
    let fail = |reason: Reason| {
        let shown = (!name.is_empty()).then(|| name.clone());
        Err((shown, reason))
    };

    let mut kind = match kind_text.to_ascii_lowercase().as_str() {
        "totp" => Kind::Totp,
        "steam" => Kind::Steam,
        "hotp" => return fail(Reason::Hotp),
        other => return fail(Reason::Uri(format!("unknown OTP type '{other}'"))),
    };
    if name.is_empty() {
        return fail(Reason::EmptyName);
    }

    let mut secret_param = None;
    let mut issuer_param = None;
    let (mut digits, mut period, mut algorithm) = (None, None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key.to_ascii_lowercase().as_str() {
            "secret" => secret_param = Some(decode_secret(value)),
            "issuer" => issuer_param = Some(decode_text(value, true)),
            "digits" => digits = Some(decode_text(value, true)),
            "period" => period = Some(decode_text(value, true)),
            "algorithm" => algorithm = Some(decode_text(value, true)),
            "encoder" if value.eq_ignore_ascii_case("steam") => kind = Kind::Steam,
            _ => {}
        }
    }

    let Some(secret_bytes) = secret_param else {
        return fail(Reason::Uri("the URI has no secret= parameter".into()));
    };
    let secret = match std::str::from_utf8(&secret_bytes) {
        Ok(text) => secret::decode(text),
        Err(_) => return fail(Reason::NotUtf8),
    };
    let secret = match secret {
        Ok(s) => s,
        Err(e) => return fail(Reason::Secret(e)),
    };
    let params = (|| {
        if kind == Kind::Steam {
            // Steam codes are always 5 characters, SHA1, 30 s (as Steam and other implementations do):
            // `digits=5`, `period=15` and the like are ignored.
            return Ok(Params {
                kind,
                ..Params::default()
            });
        }
        let period = account::parse_period(period.as_deref().unwrap_or(""))?;
        Ok::<_, account::ParamError>(Params {
            digits: account::parse_digits(digits.as_deref().unwrap_or(""))?,
            period,
            algorithm: account::parse_algorithm(algorithm.as_deref().unwrap_or(""))?,
            kind,
        })
    })();
    let params = match params {
        Ok(p) => p,
        Err(e) => return fail(Reason::Param(e)),
    };

    let issuer = issuer_param
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty())
        .or(label_issuer.filter(|p| !p.is_empty()));
    Ok(Account {
        name,
        issuer,
        params,
        secret,
    })
}

/// A name for an account read from a URI label that is not taken yet, as the importers make names unique:
/// the name itself when free, else qualified by its issuer (`admin (Slack)`), else numbered
/// (`admin (2)`). `taken` compares as the vault does (case-insensitively).
pub fn unique_name(name: &str, issuer: Option<&str>, taken: impl Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_owned();
    }
    issuer
        .filter(|issuer| !name.to_lowercase().contains(&issuer.to_lowercase()))
        .map(|issuer| format!("{name} ({issuer})"))
        .filter(|qualified| !taken(qualified))
        .unwrap_or_else(|| {
            (2..)
                .map(|n| format!("{name} ({n})"))
                .find(|candidate| !taken(candidate))
                .unwrap_or_else(|| name.to_owned())
        })
}

/// Characters escaped in a label or issuer (readable `:`, `@`, `-`, `.`, `_`, `~` stay as they are).
const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@')
    .remove(b':');

/// The account as an `otpauth://` URI (for an authenticator app): the name as label, the issuer, and
/// every parameter spelled out. It holds the secret: callers keep it in memory they wipe.
pub fn uri(account: &Account) -> Zeroizing<String> {
    // A name holding ':' gets the issuer prefix (empty without one), so reading the URI back splits the
    // label at that first ':' and keeps the whole name.
    let name = match (&account.issuer, account.name.contains(':')) {
        (Some(issuer), true) => format!("{issuer}:{}", account.name),
        (None, true) => format!(":{}", account.name),
        (_, false) => account.name.clone(),
    };
    let label = percent_encoding::utf8_percent_encode(&name, ESCAPED);
    let kind = match account.params.kind {
        Kind::Totp => "totp",
        Kind::Steam => "steam",
    };
    let mut uri = Zeroizing::new(format!("otpauth://{kind}/{label}?secret="));
    uri.push_str(&account.secret.to_base32());
    if let Some(issuer) = &account.issuer {
        uri.push_str("&issuer=");
        uri.extend(percent_encoding::utf8_percent_encode(issuer, ESCAPED));
    }
    let p = account.params;
    uri.push_str(&format!(
        "&algorithm={}&digits={}&period={}",
        p.algorithm.as_str(),
        p.code_len(),
        p.period
    ));
    uri
}

/// Percent-decodes a non-secret value; `plus_is_space` for query values (form encoding).
fn decode_text(raw: &str, plus_is_space: bool) -> String {
    let replaced;
    let raw = if plus_is_space && raw.contains('+') {
        replaced = raw.replace('+', " ");
        replaced.as_str()
    } else {
        raw
    };
    percent_decode(raw.as_bytes())
        .decode_utf8_lossy()
        .into_owned()
}

/// Percent-decodes the secret into a buffer sized once (decoding only shrinks), so no copy is left behind.
fn decode_secret(raw: &str) -> Zeroizing<Vec<u8>> {
    // `+` is a space in query values (spaces in a secret are then ignored by the base32 decoder).
    let mut spaced = Zeroizing::new(raw.as_bytes().to_vec());
    spaced
        .iter_mut()
        .filter(|b| **b == b'+')
        .for_each(|b| *b = b' ');
    let mut out = Zeroizing::new(Vec::with_capacity(raw.len()));
    out.extend(percent_decode(&spaced));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Algorithm;

    #[test]
    fn reads_label_issuer_and_parameters() {
        let a = parse("otpauth://totp/ACME%20Co:ops@acme.example?secret=jbswy3dpehpk3pxp&issuer=ACME%20Co&digits=8&period=60&algorithm=SHA256").unwrap();
        // Issue 21: the label's issuer prefix is not part of the name (the Key URI format).
        assert_eq!(a.name, "ops@acme.example");
        assert_eq!(a.issuer.as_deref(), Some("ACME Co"));
        assert_eq!(
            a.params,
            Params {
                digits: 8,
                period: 60,
                algorithm: Algorithm::Sha256,
                kind: Kind::Totp
            }
        );
    }

    #[test]
    fn uri_round_trips() {
        let original = parse("otpauth://totp/ACME%20Co:ops@acme.example?secret=jbswy3dpehpk3pxp&issuer=ACME%20%26%20Co&digits=8&period=60&algorithm=SHA256").unwrap();
        let text = uri(&original);
        assert_eq!(
            text.as_str(),
            "otpauth://totp/ops@acme.example?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20%26%20Co&algorithm=SHA256&digits=8&period=60"
        );
        let again = parse(&text).unwrap();
        assert_eq!(
            (again.name, again.issuer, again.params),
            (original.name, original.issuer, original.params)
        );
    }

    #[test]
    fn steam_uris_round_trip_with_their_five_digits() {
        let steam =
            parse("otpauth://steam/gamer?secret=JBSWY3DPEHPK3PXP&issuer=Steam&digits=5").unwrap();
        assert_eq!(steam.params.kind, Kind::Steam);
        let again = parse(&uri(&steam)).unwrap();
        assert_eq!(again.params, steam.params);
    }

    #[test]
    fn issuer_falls_back_to_the_label_prefix() {
        let a = parse("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(a.issuer.as_deref(), Some("Example"));
        assert_eq!(a.name, "alice@google.com");
        let a = parse("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(a.issuer, None);
        assert_eq!(a.name, "alice");
    }

    /// Regression (issue 21): `Slack:admin@acme.example` with issuer=Slack was named
    /// `Slack:admin@acme.example` (the issuer repeated in the name). The Key URI format splits the label.
    #[test]
    fn the_label_splits_into_issuer_and_account_also_with_an_encoded_colon() {
        for uri in [
            "otpauth://totp/Slack:admin@acme.example?secret=JBSWY3DPEHPK3PXP&issuer=Slack",
            "otpauth://totp/Slack%3Aadmin%40acme.example?secret=JBSWY3DPEHPK3PXP&issuer=Slack",
            "otpauth://totp/Slack%3a%20admin@acme.example?secret=JBSWY3DPEHPK3PXP",
        ] {
            let a = parse(uri).unwrap();
            assert_eq!(a.name, "admin@acme.example", "{uri}");
            assert_eq!(a.issuer.as_deref(), Some("Slack"), "{uri}");
        }
        // The issuer= parameter wins over the prefix; an empty account part leaves the label whole.
        let a = parse("otpauth://totp/Old:me?secret=JBSWY3DPEHPK3PXP&issuer=New").unwrap();
        assert_eq!((a.name.as_str(), a.issuer.as_deref()), ("me", Some("New")));
        let a = parse("otpauth://totp/Only:?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(a.name, "Only:");
    }

    /// A name holding ':' survives export and import.
    #[test]
    fn names_with_a_colon_round_trip() {
        for (name, issuer) in [("a:b", Some("Co")), ("a:b", None), ("plain", Some("Co"))] {
            let account = Account {
                name: name.into(),
                issuer: issuer.map(str::to_owned),
                params: Params::default(),
                secret: secret::decode("JBSWY3DPEHPK3PXP").unwrap(),
            };
            let again = parse(&uri(&account)).unwrap();
            assert_eq!(
                (again.name.as_str(), again.issuer.as_deref()),
                (name, issuer)
            );
        }
    }

    #[test]
    fn unique_names_are_qualified_by_issuer_then_numbered() {
        let taken = |names: &'static [&'static str]| {
            move |n: &str| names.iter().any(|t| t.eq_ignore_ascii_case(n))
        };
        assert_eq!(unique_name("admin", Some("Slack"), taken(&[])), "admin");
        assert_eq!(
            unique_name("admin", Some("Slack"), taken(&["Admin"])),
            "admin (Slack)"
        );
        assert_eq!(
            unique_name("admin", Some("Slack"), taken(&["admin", "admin (slack)"])),
            "admin (2)"
        );
        assert_eq!(unique_name("admin", None, taken(&["admin"])), "admin (2)");
    }

    #[test]
    fn lenient_about_scheme_case_padding_and_plus() {
        let a = parse("OTPAUTH://TOTP/x?SECRET=jbsw%20y3dp+ehpk+3pxp%3D%3D&issuer=Big+Co").unwrap();
        assert_eq!(a.secret, secret::decode("JBSWY3DPEHPK3PXP").unwrap());
        assert_eq!(a.issuer.as_deref(), Some("Big Co"));
    }

    /// Regression (issue 14): a Steam URI's period was used (a `period=15` URI gave wrong codes).
    #[test]
    fn steam_ignores_digits_and_period_in_the_uri() {
        for uri in [
            "otpauth://steam/Steam:me?secret=JBSWY3DPEHPK3PXP&period=15&digits=8",
            "otpauth://totp/Steam:me?secret=JBSWY3DPEHPK3PXP&encoder=steam&period=15&digits=8",
        ] {
            let account = parse(uri).unwrap();
            assert_eq!(account.params.kind, Kind::Steam, "{uri}");
            assert_eq!(account.params.period, 30, "{uri}");
            assert_eq!(account.params.code_len(), 5, "{uri}");
        }
    }

    /// One parser for every otpauth URI: a gauth line and the same URI in an otpauth list (and `add
    /// --uri`) give the same name and issuer.
    #[test]
    fn a_gauth_line_and_an_otpauth_list_give_the_same_account() {
        let uri =
            "otpauth://totp/ACME%20Co:ops@acme.example?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co";
        let direct = parse(uri).unwrap();
        let rows = crate::vault::format::parse(format!("AWS:JBSWY3DPEHPK3PXP\n{uri}\n").as_bytes())
            .unwrap()
            .rows;
        let line = rows[1].entry.as_ref().unwrap();
        assert_eq!((&line.name, &line.issuer), (&direct.name, &direct.issuer));
    }

    #[test]
    fn steam_by_type_or_encoder() {
        assert_eq!(
            parse("otpauth://steam/Steam:me?secret=JBSWY3DPEHPK3PXP")
                .unwrap()
                .params
                .kind,
            Kind::Steam
        );
        assert_eq!(
            parse("otpauth://totp/Steam:me?secret=JBSWY3DPEHPK3PXP&encoder=steam")
                .unwrap()
                .params
                .kind,
            Kind::Steam
        );
    }

    #[test]
    fn reports_hotp_missing_secret_and_bad_values_with_the_name() {
        let (name, reason) =
            parse("otpauth://hotp/Bank?secret=JBSWY3DPEHPK3PXP&counter=1").unwrap_err();
        assert_eq!(name.as_deref(), Some("Bank"));
        assert_eq!(reason, Reason::Hotp);
        let (_, reason) = parse("otpauth://totp/Bank?issuer=B").unwrap_err();
        assert_eq!(reason.to_string(), "the URI has no secret= parameter");
        let (_, reason) =
            parse("otpauth://totp/Bank?secret=JBSWY3DPEHPK3PXP&digits=12").unwrap_err();
        assert_eq!(reason.to_string(), "digits must be 6, 7 or 8, not '12'");
        let (name, reason) = parse("otpauth://totp/?secret=JBSWY3DPEHPK3PXP").unwrap_err();
        assert_eq!((name, reason), (None, Reason::EmptyName));
        let (name, reason) = parse("otpauth://totp?secret=JBSWY3DPEHPK3PXP&issuer=A").unwrap_err();
        assert_eq!((name, reason), (None, Reason::EmptyName));
        let (name, reason) = parse("otpauth://totp/Bank&secret=JBSWY3DPEHPK3PXP").unwrap_err();
        assert_eq!(name, None);
        assert!(!reason.to_string().contains("JBSW"));
    }
}
