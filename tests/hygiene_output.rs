//! Secret hygiene, part 1: no output of any command (stdout and stderr, success and every error path)
//! holds a piece of a secret. The one place a secret may appear is the stdout of `export --plaintext`,
//! where the same check must find it (which shows the check works).
//!
//! What the tests share (canaries, the leak check, the sandbox, keys and vaults) is in
//! tests/support/hygiene.rs, with the rules every run follows.

mod support;

use std::collections::HashSet;
use std::fs;

use support::hygiene::*;
use support::strings;

#[test]
fn the_leak_check_finds_every_form_of_a_canary_and_nothing_else() {
    let a = secret("alpha");
    for text in [
        format!("x {a} y"),
        a.to_ascii_lowercase(),
        spaced_lower(&a),
        hyphenated(&a),
        format!("secret={}", &a[10..16]),
        format!("'{}'", &a[20..26].to_ascii_lowercase()),
        format!("{} {}", &a[..4], &a[4..12]),
    ] {
        assert!(!leaks(&text, &[]).is_empty(), "not found in {text:?}");
    }
    assert!(
        !leaks(
            "otpauth-migration://x?data=QUJDREVGR0hJ",
            &["QUJDREVGR0hJ".into()]
        )
        .is_empty()
    );
    // The shared prefix alone counts, once; a piece past it names its canary.
    assert_eq!(leaks("a Canary", &[]).len(), 1);
    let piece = &a[10..16];
    assert_eq!(
        leaks(&format!("'{piece}'"), &[]),
        [format!("'{}' of {a}", piece.to_ascii_lowercase())]
    );
    for text in [
        "",
        "teamotp: hint: make it private: chmod 600 'me.key'",
        "123 456 7890 deadbeef de09240c 2345672345",
        "alpha | issuer: Acme | totp | 6 digits | 30 s | SHA1 | secret de09240c",
    ] {
        assert_eq!(leaks(text, &[]), Vec::<String>::new(), "{text:?}");
    }
    // The canaries are distinct, and their tags are.
    let canaries: HashSet<String> = all_canaries().into_iter().collect();
    assert_eq!(canaries.len(), TAGS.len());
}

// ---------------------------------------------------------------------------------------------------------
// 1. No secret in any output
// ---------------------------------------------------------------------------------------------------------

/// A vault and the names that hit its valid, invalid and duplicate rows.
struct ReadSource<'a> {
    base: &'a [&'a str],
    file: &'a str,
    valid: &'a str,
    invalid: &'a str,
    several: &'a str,
}

#[test]
fn reading_commands_never_print_a_secret() {
    let team = Team::new();
    let sandbox = &team.sandbox;
    // The plaintext team CSV once more, readable by others (teamotp warns about it).
    sandbox.write("open.csv", mixed_team_csv(), 0o644);
    let sources = [
        ReadSource {
            base: &["-f", "mixed.age", "-i", "me.key"],
            file: "mixed.age",
            valid: "alpha",
            invalid: "badchar",
            several: "bravo",
        },
        ReadSource {
            base: &["-f", "mixed.csv"],
            file: "mixed.csv",
            valid: "alpha",
            invalid: "digits",
            several: "bravo",
        },
        ReadSource {
            base: &["-f", "open.csv"],
            file: "open.csv",
            valid: "alpha",
            invalid: "nonutf8",
            several: "bravo",
        },
        ReadSource {
            base: &["-f", "mixed.txt"],
            file: "mixed.txt",
            valid: "mike",
            invalid: "lima",
            several: "o",
        },
    ];
    let mut checker = Checker::new(sandbox, &[]);
    for source in &sources {
        checker.base(source.base);
        checker.run(&[], "", 0, source.valid);
        checker.run(&["list"], "", 0, source.valid);
        checker.run(&["list", "--format", "csv"], "", 0, source.valid);
        checker.run(&["list", "--format", "json"], "", 0, source.valid);
        checker.run(&["list", source.valid], "", 0, source.valid);
        checker.run(&["list", source.invalid], "", 0, source.invalid);
        checker.run(&["list", "zulu"], "", 1, "no account matches");
        let code = checker.run(&["code", source.valid], "", 0, "");
        if !(code.stdout.trim().len() == 6
            && code.stdout.trim().bytes().all(|b| b.is_ascii_digit()))
        {
            checker
                .failures
                .push(format!("no 6-digit code printed\n{code}"));
        }
        checker.run(&["code", "--min-remaining", "29", source.valid], "", 0, "");
        checker.run(&["code", "zulu"], "", 1, "no account matches");
        checker.run(&["code", source.several], "", 2, "accounts");
        checker.run(&["code", source.invalid], "", 2, source.invalid);
        checker.run(&["check"], "", 1, "problem");
        checker.run(&["textconv", source.file], "", 0, source.valid);
        checker.run(&["export"], "", 2, "--plaintext");
        checker.run(&["export", "--format", "csv"], "", 2, "--plaintext");
        checker.run(&["qr", source.valid], "", 2, "not a terminal");
    }
    // Every invalid row of the mixed vaults is reported (so each one's message was checked above).
    let check = checker
        .sandbox
        .run(&strings(&["--at", AT, "-f", "mixed.csv", "check"]), b"");
    assert_eq!(check.stdout.lines().count(), 13, "{check}");
    let check = checker
        .sandbox
        .run(&strings(&["--at", AT, "-f", "mixed.txt", "check"]), b"");
    assert_eq!(check.stdout.lines().count(), 12, "{check}");

    // The demo vault (its secrets are public, but its outputs go through the same paths).
    checker.base(&["--demo"]);
    checker.run(&[], "", 0, "AWS root");
    checker.run(&["list", "--format", "json"], "", 0, "AWS root");
    checker.run(&["code", "aws"], "", 0, "");
    checker.run(&["check"], "", 0, "all valid");
    checker.run(&["export"], "", 2, "--plaintext");
    checker.run(&["add", "x"], secret("add-delta"), 2, "read-only");
    checker.finish("reading commands");
}

#[test]
fn writing_commands_never_print_a_secret() {
    let team = Team::new();
    let sandbox = &team.sandbox;
    let s = secret;
    sandbox.write("valid.csv", valid_team_csv(), 0o600);
    let mut checker = Checker::new(sandbox, &["-f", "vault.age", "-i", "me.key"]);

    // encrypt: a good plaintext, plaintexts with invalid rows (listed, never their secrets), a vault.
    checker.run(
        &["encrypt", "valid.csv", "-r", &team.me_public],
        "",
        0,
        "encrypted 3 accounts",
    );
    checker.base(&["-f", "refused.age", "-i", "me.key"]);
    checker.run(&["encrypt", "mixed.csv"], "", 2, "badchar");
    checker.run(&["encrypt", "mixed.txt"], "", 2, "lima");
    checker.run(&["encrypt", "mixed.age"], "", 2, "already encrypted");
    checker.base(&["-f", "vault.age", "-i", "me.key"]);
    checker.run(&["list"], "", 0, "charlie");

    // add: from stdin (canonical and spaced lower case), a duplicate, bad secrets, no name.
    checker.run(
        &["add", "delta"],
        format!("{}\n", s("add-delta")),
        0,
        "added 'delta'",
    );
    checker.run(
        &["add", "echo", "--issuer", "Echo Co"],
        format!("{}\n", spaced_lower(&s("add-echo"))),
        0,
        "added 'echo'",
    );
    checker.run(&["add", "alpha"], s("add-delta"), 2, "already exists");
    let bad = s("add-bad");
    checker.run(
        &["add", "bad"],
        format!("{}8{}\n", &bad[..16], &bad[16..]),
        2,
        "invalid character",
    );
    checker.run(
        &["add", "bad"],
        &s("add-short")[..30],
        2,
        "impossible length",
    );
    let control = s("add-control");
    checker.run(
        &["add", "bad"],
        format!("{}\u{7}{}", &control[..8], &control[8..]),
        2,
        "control character",
    );
    checker.run(&["add", "bad"], "", 2, "empty");
    checker.run(&["add"], s("add-delta"), 2, "name");

    // add --uri: a good URI (named by its label or on the command line), and bad ones.
    checker.run(
        &["add", "--uri"],
        format!(
            "otpauth://totp/Foxtrot:f@example.test?secret={}&issuer=Foxtrot\n",
            s("uri-ok")
        ),
        0,
        "added 'f@example.test'",
    );
    checker.run(
        &["add", "--uri", "golf"],
        format!(
            "otpauth://totp/whatever?secret={}",
            spaced_lower(&s("uri-rename"))
        ),
        0,
        "added 'golf'",
    );
    let uri_char = s("uri-char");
    let uri_percent = s("uri-percent");
    for (uri, shows) in [
        (
            format!("otpauth://hotp/h?secret={}&counter=1", s("uri-hotp")),
            "HOTP",
        ),
        (
            format!("otpauth://totp/d?secret={}&digits=12", s("uri-digits")),
            "digits",
        ),
        (
            format!(
                "otpauth://totp/c?secret={}8{}",
                &uri_char[..10],
                &uri_char[10..]
            ),
            "invalid character",
        ),
        (
            format!(
                "otpauth://totp/p?secret={}%FF{}",
                &uri_percent[..10],
                &uri_percent[10..]
            ),
            "UTF-8",
        ),
        (
            format!("otpauth://totp/?secret={}", s("uri-noname")),
            "empty",
        ),
        (
            format!("otpauth://totp/n?issuer=N&sekret={}", s("uri-nosecret")),
            "no secret=",
        ),
        (s("uri-bare"), "not an otpauth:// URI"),
    ] {
        checker.run(&["add", "--uri"], uri, 2, shows);
    }

    // rm, rename, edit (parameters, a new secret, a bad new secret).
    checker.run(&["rm", "delta", "-y"], "", 0, "removed 'delta'");
    checker.run(&["rm", "zulu", "-y"], "", 2, "no account is named");
    checker.run(&["rm", "echo"], "", 2, "--yes");
    checker.run(&["rename", "echo", "hotel"], "", 0, "renamed");
    checker.run(&["rename", "zulu", "india"], "", 2, "no account is named");
    checker.run(&["rename", "hotel", "alpha"], "", 2, "already exists");
    checker.run(
        &["edit", "alpha", "--issuer", "NewCo"],
        "",
        0,
        "updated 'alpha'",
    );
    checker.run(
        &["edit", "charlie", "--digits", "6", "--period", "30"],
        "",
        0,
        "updated",
    );
    checker.run(
        &["edit", "bravo", "--secret"],
        s("edit-new"),
        0,
        "updated 'bravo'",
    );
    let edit_bad = s("edit-bad");
    checker.run(
        &["edit", "bravo", "--secret"],
        format!("{}9{}", &edit_bad[..5], &edit_bad[5..]),
        2,
        "invalid character",
    );
    checker.run(
        &["edit", "bravo", "--secret"],
        &edit_bad[..25],
        2,
        "impossible length",
    );
    checker.run(
        &["edit", "zulu", "--issuer", "x"],
        "",
        2,
        "no account is named",
    );
    checker.run(&["edit", "alpha"], "", 2, "nothing to change");

    // members and rekey.
    checker.run(&["members"], "", 0, &team.me_public);
    checker.run(&["members", "list"], "", 0, &team.me_public);
    checker.run(
        &["members", "add", &team.other_public, "--name", "Other"],
        "",
        0,
        "added",
    );
    checker.run(
        &["members", "add", &team.other_public],
        "",
        2,
        "already a member",
    );
    checker.run(
        &["members", "add", "age1notakey"],
        "",
        2,
        "not a valid age recipient",
    );
    checker.run(&["members", "rm", "Other"], "", 2, "--yes");
    checker.run(&["members", "rm", "Other", "-y"], "", 0, "re-enrol");
    checker.run(&["members", "rm", "nobody", "-y"], "", 2, "no member");
    checker.run(&["members", "ack", "-y"], "", 0, "unchanged");
    checker.run(&["rekey"], "", 0, "re-encrypted");

    // export: refused without --plaintext; with it, stdout is the one place secrets appear.
    checker.run(&["export"], "", 2, "--plaintext");
    checker.run(&["export", "alpha"], "", 2, "--plaintext");
    checker.run(&["export", "--format", "csv"], "", 2, "--plaintext");
    checker.run_export(&["export", "--plaintext"], &s("alpha"));
    checker.run_export(
        &["export", "--plaintext", "--format", "csv", "bravo"],
        &s("edit-new"),
    );
    checker.run_export(&["export", "--plaintext", "golf"], &s("uri-rename"));
    checker.run(&["export", "--plaintext", "zulu"], "", 1, "no account");

    // Everything else.
    checker.run(&["textconv", "vault.age"], "", 0, "secret ");
    checker.run(&["qr", "alpha"], "", 2, "not a terminal");
    checker.run(&["git-setup"], "", 2, "git");
    checker.run(&["init", "--passphrase"], "", 2, "already exists");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        checker.run(&["completions", shell], "", 0, "teamotp");
    }
    checker.run(&["man"], "", 0, "teamotp");
    checker.run(&["--help"], "", 0, "Usage");
    checker.run(&["help", "add"], "", 0, "Usage");
    checker.run(&["add", "--help"], "", 0, "Usage");
    checker.run(&["--version"], "", 0, "teamotp");
    checker.run(&["--bogus"], "", 2, "unexpected argument");
    checker.run(&["list", "--format", "xml"], "", 2, "invalid value");

    // merge-driver, on copies: both sides changed alpha (a conflict), theirs added an account.
    for copy in ["base.age", "ours.age", "theirs.age", "ours-clean.age"] {
        sandbox.copy("vault.age", copy);
    }
    // New vault paths: their recipients are accepted first (no pin yet for them on this machine).
    checker.base(&["-f", "ours.age", "-i", "me.key"]);
    checker.run(&["members", "ack", "-y"], "", 0, "accepted");
    checker.run(&["edit", "alpha", "--issuer", "Ours"], "", 0, "updated");
    checker.base(&["-f", "theirs.age", "-i", "me.key"]);
    checker.run(&["members", "ack", "-y"], "", 0, "accepted");
    checker.run(&["edit", "alpha", "--issuer", "Theirs"], "", 0, "updated");
    checker.run(&["add", "juliet"], s("merge-theirs"), 0, "added");
    checker.base(&["-i", "me.key"]);
    checker.run(
        &[
            "merge-driver",
            "base.age",
            "ours.age",
            "theirs.age",
            "vault.age",
        ],
        "",
        1,
        "alpha",
    );
    checker.run(
        &[
            "merge-driver",
            "base.age",
            "ours-clean.age",
            "theirs.age",
            "vault.age",
        ],
        "",
        0,
        "merged",
    );
    checker.run(&["textconv", "ours-clean.age"], "", 0, "juliet");
    checker.run(
        &["merge-driver", "base.age", "missing.age", "theirs.age"],
        "",
        2,
        "missing.age",
    );
    checker.finish("writing commands");
}

#[test]
fn init_never_prints_a_secret() {
    let sandbox = Sandbox::new();
    let mut checker = Checker::new(&sandbox, &[]);
    // No identity anywhere: init creates one and prints only the public key.
    checker.run(&["init"], "", 0, "created your identity");
    checker.run(&["init"], "", 2, "already exists");
    checker.run(&["add", "first"], secret("init-first"), 0, "added 'first'");
    checker.run(&["list"], "", 0, "first");
    checker.run(
        &["-f", "pass.age", "init", "--passphrase"],
        "",
        2,
        "no terminal",
    );
    checker.run(
        &["-f", "bad.age", "init", "-r", "notakey"],
        "",
        2,
        "notakey",
    );
    checker.finish("init");
    // And the identity it printed no piece of is really the secret key in the file.
    let identity = fs::read_to_string(sandbox.path("config/teamotp/identity.txt")).unwrap();
    let key = identity
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("a secret key in the created identity");
    let init = sandbox.run(&strings(&["--at", AT, "-f", "again.age", "init"]), b"");
    assert!(
        !init.stderr.contains(key) && !init.stdout.contains(key),
        "{init}"
    );
}

#[test]
fn imports_never_print_a_secret() {
    let team = Team::new();
    let sandbox = &team.sandbox;
    let s = secret;
    sandbox.write("valid.csv", valid_team_csv(), 0o600);
    let mut checker = Checker::new(sandbox, &["-f", "vault.age", "-i", "me.key"]);
    checker.run(
        &["encrypt", "valid.csv", "-r", &team.me_public],
        "",
        0,
        "encrypted",
    );

    let json = |value: serde_json::Value| serde_json::to_vec_pretty(&value).unwrap();
    let aegis = |entries: serde_json::Value| {
        serde_json::json!({
            "version": 1,
            "header": {"slots": null, "params": null},
            "db": {"version": 3, "entries": entries},
        })
    };
    let aegis_entry = |name: &str, kind: &str, secret: &str| {
        serde_json::json!({
            "type": kind, "uuid": "01234567-89ab-cdef-0123-456789abcdef", "name": name,
            "issuer": "Aegis Co", "note": "",
            "info": {"secret": secret, "algo": "SHA1", "digits": 6, "period": 30, "counter": 1},
        })
    };
    let two_fas = |secret: &str| {
        serde_json::json!({
            "services": [{
                "name": "TwoFas Co", "secret": secret,
                "otp": {"account": "me", "digits": 6, "period": 30, "algorithm": "SHA1", "tokenType": "TOTP"},
            }],
            "schemaVersion": 4,
        })
    };
    let and_otp = |secret: &str, digits: serde_json::Value| {
        serde_json::json!([{
            "secret": secret, "issuer": "AndOTP Co", "label": "andotp-acct", "digits": digits,
            "type": "TOTP", "algorithm": "SHA1", "period": 30,
        }])
    };
    let with_8 = |tag: &str| {
        let text = s(tag);
        format!("{}8{}", &text[..12], &text[12..])
    };

    // Good files of every kind.
    sandbox.write(
        "good/gauth.txt",
        format!(
            "india:{}\njuliet: {}\n",
            s("imp-india"),
            spaced_lower(&s("imp-juliet"))
        ),
        0o600,
    );
    sandbox.write(
        "good/otpauth.txt",
        format!(
            "otpauth://totp/Kilo:k@example.test?secret={}&issuer=Kilo\n\
             otpauth://hotp/Lima?secret={}&counter=3\n",
            s("imp-kilo"),
            s("imp-google-hotp")
        ),
        0o600,
    );
    sandbox.write(
        "good/aegis.json",
        json(aegis(serde_json::json!([
            aegis_entry("aegis-acct", "totp", &s("imp-aegis")),
            aegis_entry("aegis-hotp", "hotp", &s("imp-aegis-hotp")),
        ]))),
        0o600,
    );
    sandbox.write("good/backup.2fas", json(two_fas(&s("imp-2fas"))), 0o600);
    sandbox.write(
        "good/andotp.json",
        json(and_otp(&s("imp-andotp"), serde_json::json!(6))),
        0o600,
    );
    let (google, google_base64) = google_uri(&google_payload(&[
        google_otp(&key_bytes(&s("imp-google")), "google-acct", 1, 2),
        google_otp(&key_bytes(&s("imp-google-hotp")), "google-hotp", 1, 1),
    ]));
    sandbox.write("good/google.txt", format!("{google}\n"), 0o600);
    checker.extra.push(google_base64);

    checker.run(&["import", "good/gauth.txt"], "", 0, "imported 2 accounts");
    checker.run(&["import", "good/otpauth.txt"], "", 0, "not imported");
    checker.run(&["import", "good/aegis.json"], "", 0, "aegis-hotp");
    checker.run(&["import", "good/backup.2fas"], "", 0, "imported 1 account");
    checker.run(&["import", "good/andotp.json"], "", 0, "andotp-acct");
    checker.run(&["import", "good/google.txt"], "", 0, "google-hotp");
    checker.run(
        &["import", &format!("{FIXTURES}/qr-valid.png")],
        "",
        0,
        // The label `QR Hygiene:qr@example.test` gives the name and the issuer (issue 21).
        "qr@example.test (QR Hygiene)",
    );
    checker.run(
        &["import", "-"],
        format!("stdin-acct:{}\n", s("imp-stdin")),
        0,
        "stdin-acct",
    );
    // Duplicates: skipped, renamed, replaced.
    checker.run(
        &["import", "good/gauth.txt"],
        "",
        0,
        "already has this name",
    );
    checker.run(
        &["import", "--rename", "good/gauth.txt"],
        "",
        0,
        "india (2)",
    );
    checker.run(
        &["import", "--replace", "good/andotp.json"],
        "",
        0,
        "andotp-acct",
    );
    // Every account really is in the vault (and the QR fixture holds its canary).
    checker.run_export(&["export", "--plaintext"], &s("qr-valid"));
    checker.run_export(&["export", "--plaintext", "google-acct"], &s("imp-google"));

    // Malformed files of every kind: nothing imported, no secret in the message.
    let bad_json = json(aegis(serde_json::json!([aegis_entry(
        "cut",
        "totp",
        &s("bad-aegis-json")
    )])));
    let cut = String::from_utf8(bad_json).unwrap();
    let cut = &cut[..cut.find(&s("bad-aegis-json")).unwrap() + 20];
    let (bad_digits, bad_digits_base64) = google_uri(&google_payload(&[google_otp(
        &key_bytes(&s("bad-google-digits")),
        "digits-acct",
        7,
        2,
    )]));
    let (no_name, no_name_base64) = google_uri(&google_payload(&[google_otp(
        &key_bytes(&s("bad-google-empty-name")),
        "",
        1,
        2,
    )]));
    let full = google_payload(&[google_otp(
        &key_bytes(&s("bad-google-protobuf")),
        "cut-acct",
        1,
        2,
    )]);
    let (cut_payload, cut_payload_base64) = google_uri(&full[..full.len() - 12]);
    checker
        .extra
        .extend([bad_digits_base64, no_name_base64, cut_payload_base64]);
    let bad_files: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bad/gauth.txt",
            format!(
                "ok:{}\nlima:{}\n{}\nnocolon {}\n",
                s("imp-india"),
                with_8("bad-gauth"),
                s("bad-gauth-lone"),
                s("bad-gauth-nocolon")
            )
            .into_bytes(),
            "line 2: lima: not imported",
        ),
        (
            "bad/otpauth.txt",
            format!(
                "otpauth://totp/d?secret={}&digits=12\notpauth://totp/c?secret={}\n\
                 otpauth://totp/p?secret={}%FF\n",
                s("bad-otpauth-digits"),
                with_8("bad-otpauth-char"),
                s("bad-otpauth-percent")
            )
            .into_bytes(),
            "digits must be",
        ),
        (
            "bad/cut-aegis.json",
            cut.as_bytes().to_vec(),
            "not valid JSON",
        ),
        (
            "bad/aegis.json",
            json(aegis(serde_json::json!([aegis_entry(
                "bad-aegis",
                "totp",
                &with_8("bad-aegis-secret")
            )]))),
            "bad-aegis: not imported",
        ),
        (
            "bad/aegis-encrypted.json",
            br#"{"version":1,"header":{"slots":[{}],"params":{}},"db":"AAAA"}"#.to_vec(),
            "no password slot",
        ),
        (
            "bad/backup.2fas",
            json(two_fas(&with_8("bad-2fas-secret"))),
            "me: not imported",
        ),
        (
            "bad/encrypted.2fas",
            br#"{"services":[],"servicesEncrypted":"abc:def:ghi","schemaVersion":4}"#.to_vec(),
            "malformed",
        ),
        (
            "bad/andotp.json",
            json(and_otp(&with_8("bad-andotp-secret"), serde_json::json!(6))),
            "andotp-acct: not imported",
        ),
        (
            "bad/andotp-digits.json",
            json(and_otp(&s("bad-andotp-digits"), serde_json::json!("six"))),
            "digits",
        ),
        (
            "bad/google-digits.txt",
            format!("{bad_digits}\n").into_bytes(),
            "digit count",
        ),
        (
            "bad/google-no-name.txt",
            format!("{no_name}\n").into_bytes(),
            "no name",
        ),
        (
            "bad/google-cut.txt",
            format!("{cut_payload}\n").into_bytes(),
            "damaged",
        ),
        (
            "bad/google-base64.txt",
            format!(
                "otpauth-migration://offline?data={}!!\n",
                s("bad-google-base64")
            )
            .into_bytes(),
            "base64",
        ),
        (
            "bad/google-no-data.txt",
            format!(
                "otpauth-migration://offline?secret={}\n",
                s("bad-google-nodata")
            )
            .into_bytes(),
            "no data=",
        ),
        (
            "bad/openssl.enc",
            [b"Salted__".as_slice(), &[0x5A; 40]].concat(),
            "no terminal",
        ),
        (
            "bad/openssl-base64.enc",
            b"U2FsdGVkX19aWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=\n".to_vec(),
            "no terminal",
        ),
        (
            "bad/cut.png",
            fs::read(format!("{FIXTURES}/qr-valid.png")).unwrap()[..80].to_vec(),
            "cannot be read",
        ),
        (
            "bad/not-utf8.txt",
            [s("bad-gauth").as_bytes(), b"\xFF\xFE"].concat(),
            "UTF-8",
        ),
    ];
    // Issue 22: a readable file imports its usable entries and lists the others with their reasons
    // (exit 0 when something came in, 1 when nothing did); a broken container is an error (exit 2).
    let partial: &[(&str, i32)] = &[
        ("bad/gauth.txt", 0),
        ("bad/otpauth.txt", 1),
        ("bad/aegis.json", 1),
        ("bad/backup.2fas", 1),
        ("bad/andotp.json", 1),
        ("bad/andotp-digits.json", 1),
        ("bad/google-digits.txt", 1),
        ("bad/google-no-name.txt", 1),
        ("bad/google-cut.txt", 1),
        ("bad/google-base64.txt", 1),
        ("bad/google-no-data.txt", 1),
    ];
    for (name, bytes, shows) in &bad_files {
        sandbox.write(name, bytes, 0o600);
        let code = partial
            .iter()
            .find(|(n, _)| n == name)
            .map_or(2, |(_, c)| *c);
        checker.run(&["import", name], "", code, shows);
    }
    checker.run(
        &["import", &format!("{FIXTURES}/qr-bad.png")],
        "",
        1,
        "digits must be",
    );
    checker.run(
        &["import", &format!("{FIXTURES}/blank.png")],
        "",
        2,
        "no QR code",
    );
    checker.run(
        &["import", "--format", "aegis", "good/gauth.txt"],
        "",
        2,
        "not valid JSON",
    );
    checker.run(
        &["import", "--format", "2fas", "good/aegis.json"],
        "",
        2,
        "2FAS",
    );
    checker.run(
        &["import", "--format", "qr", "good/gauth.txt"],
        "",
        2,
        "image",
    );
    checker.run(&["import", "missing.txt"], "", 2, "missing.txt");
    checker.run(
        &["import", "-"],
        format!("{}\n", s("bad-gauth-lone")),
        1,
        "line 1",
    );
    // A malformed file into a vault that cannot be opened: still no secret.
    checker.base(&["-f", "vault.age", "-i", "other.key"]);
    checker.run(&["import", "good/gauth.txt"], "", 2, "cannot decrypt");
    checker.finish("imports");
}

#[test]
fn decryption_failures_never_print_a_secret() {
    let team = Team::new();
    let sandbox = &team.sandbox;
    let encrypted = fs::read(sandbox.path("mixed.age")).unwrap();
    let mut flipped = encrypted.clone();
    let last = flipped.len() - 10;
    flipped[last] ^= 0x01;
    sandbox.write("flipped.age", &flipped, 0o600);
    let mut header = encrypted.clone();
    header[40] ^= 0x01;
    sandbox.write("header.age", &header, 0o600);
    sandbox.write("cut.age", &encrypted[..encrypted.len() - 20], 0o600);
    sandbox.write("stub.age", &encrypted[..30], 0o600);
    sandbox.write("open.key", identity_text(&team.me), 0o644);
    sandbox.write("group.key", identity_text(&team.me), 0o640);
    sandbox.write("me.key.pub", format!("{}\n", team.me_public), 0o600);
    sandbox.write("garbage.key", secret("alpha"), 0o600);
    sandbox.write(
        "dupcol.csv",
        format!(
            "name,secret,Secret\nalpha,{},{}\n",
            secret("alpha"),
            secret("bravo")
        ),
        0o600,
    );
    let bases: [&[&str]; 11] = [
        &["-f", "mixed.age", "-i", "other.key"],
        &["-f", "mixed.age"],
        &["-f", "mixed.age", "-i", "open.key"],
        &["-f", "mixed.age", "-i", "group.key"],
        &["-f", "mixed.age", "-i", "me.key.pub"],
        &["-f", "mixed.age", "-i", "garbage.key"],
        &["-f", "flipped.age", "-i", "me.key"],
        &["-f", "header.age", "-i", "me.key"],
        &["-f", "cut.age", "-i", "me.key"],
        &["-f", "stub.age", "-i", "me.key"],
        &["-f", "missing.age", "-i", "me.key"],
    ];
    let mut checker = Checker::new(sandbox, &[]);
    for (i, base) in bases.into_iter().enumerate() {
        checker.base(base);
        let file = base[1];
        checker.run(&["list"], "", 2, "");
        checker.run(&["code", "alpha"], "", 2, "");
        checker.run(&["check"], "", 2, "");
        // A version none of the keys opens is one line for git, exit 0 (with other.key and with the
        // default identity). A flipped header byte (base 7) is damage (exit 2) or a stanza that no
        // longer matches (exit 0, "none of the identities"), depending on where the random byte
        // lands: `list` on the same file says which.
        let foreign = match i {
            0 | 1 => true,
            7 => {
                let mut args = strings(&["--at", AT]);
                args.extend(strings(base));
                args.push("list".into());
                sandbox
                    .run(&args, b"")
                    .stderr
                    .contains("none of the identities")
            }
            _ => false,
        };
        checker.run(&["textconv", file], "", if foreign { 0 } else { 2 }, "");
        checker.run(&["export", "--plaintext"], "", 2, "");
        checker.run(&["add", "x"], secret("add-delta"), 2, "");
        checker.run(&["rm", "alpha", "-y"], "", 2, "");
        checker.run(&["rekey"], "", 2, "");
    }
    checker.base(&["-f", "dupcol.csv"]);
    checker.run(&["list"], "", 2, "twice");
    checker.run(&["export", "--plaintext"], "", 2, "twice");
    checker.finish("decryption failures");
    // The failures are the expected ones.
    let message = |base: &[&str]| {
        let mut args = strings(&["--at", AT]);
        args.extend(strings(base));
        args.push("list".into());
        sandbox.run(&args, b"").stderr
    };
    assert!(message(bases[0]).contains("none of the identities"));
    assert!(message(bases[2]).contains("chmod 600"));
    assert!(message(bases[6]).contains("damaged or truncated"));
    assert!(message(bases[8]).contains("damaged or truncated"));
}

/// A `otpauth://` URI without a `/` after the type: teamotp takes everything up to the end as the type
/// and quotes it, lower-cased, in "unknown OTP type '...'" — with the secret in it.
#[test]
/// Regression: 'unknown OTP type' error quotes the URI's query, secret included (src/vault/format/otpauth.rs)
fn a_uri_without_a_label_does_not_echo_its_secret() {
    let team = Team::new();
    let sandbox = &team.sandbox;
    let uri = format!("otpauth://totp?secret={}&issuer=Acme", secret("bug-type"));
    sandbox.write("valid.csv", valid_team_csv(), 0o600);
    sandbox.write("bug.txt", format!("{uri}\n"), 0o600);
    let mut checker = Checker::new(sandbox, &["-f", "vault.age", "-i", "me.key"]);
    checker.run(&["encrypt", "valid.csv", "-r", &team.me_public], "", 0, "");
    checker.run(&["add", "--uri"], &uri, 2, "account name is empty");
    checker.run(&["import", "bug.txt"], "", 1, "account name is empty");
    checker.base(&["-f", "bug.txt"]);
    checker.run(&["list"], "", 0, "account name is empty");
    checker.run(&["check"], "", 1, "account name is empty");
    checker.run(&["textconv", "bug.txt"], "", 0, "account name is empty");
    checker.base(&["-f", "refused.age", "-i", "me.key"]);
    checker.run(
        &["encrypt", "bug.txt", "-r", &team.me_public],
        "",
        2,
        "account name is empty",
    );
    checker.finish("URI without a label");
}

/// `?` mistyped as `&` puts `secret=...` into the label, which teamotp shows as the account's name in
/// every message about the (invalid: no `secret=` parameter) row.
#[test]
/// Regression: a URI label holding 'secret=' (typo '&' for '?') is echoed as the account name
fn a_uri_whose_label_holds_the_secret_does_not_echo_it() {
    let team = Team::new();
    let sandbox = &team.sandbox;
    let uri = format!(
        "otpauth://totp/Bank&secret={}&issuer=Bank",
        secret("bug-label")
    );
    sandbox.write("valid.csv", valid_team_csv(), 0o600);
    sandbox.write("bug.txt", format!("{uri}\n"), 0o600);
    let mut checker = Checker::new(sandbox, &["-f", "vault.age", "-i", "me.key"]);
    checker.run(&["encrypt", "valid.csv", "-r", &team.me_public], "", 0, "");
    let said = "no '?' before its parameters";
    checker.run(&["add", "--uri"], &uri, 2, said);
    checker.run(&["import", "bug.txt"], "", 1, said);
    checker.base(&["-f", "bug.txt"]);
    checker.run(&["list"], "", 0, said);
    checker.run(&["check"], "", 1, said);
    // The row has no name to show, so nothing matches it.
    checker.run(&["code", "bank"], "", 1, "no account matches 'bank'");
    checker.run(&["textconv", "bug.txt"], "", 0, said);
    checker.base(&["-f", "refused.age", "-i", "me.key"]);
    checker.run(&["encrypt", "bug.txt", "-r", &team.me_public], "", 2, said);
    checker.finish("URI label holding the secret");
}
