//! End-to-end tests of the team-vault account commands: `add`, `rm`, `rename`, `edit`.
//! Rules and helpers: tests/team_init.rs and tests/support/team.rs.

mod support;

use support::team::Sandbox;
use support::team::*;
use support::*;

// ---------------------------------------------------------------------------------------------------------
// Accounts: add, rm, rename, edit
// ---------------------------------------------------------------------------------------------------------

#[test]
fn add_reads_the_secret_from_stdin_validates_it_and_shows_the_current_code() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me_stdin(
            &[
                "add",
                "Root, production",
                "--issuer",
                "ACME",
                "--digits",
                "8",
                "--period",
                "60",
                "--algorithm",
                "SHA256"
            ],
            "gezd gnbv gy3t qojq gezd gnbv gy3t qojq\r\n"
        ),
        out(
            0,
            "",
            "teamotp: added 'Root, production' to v.age; its current code is 3485 5935 (40 s left): \
             check that the service accepts it\n"
        )
    );
    // Steam: python HMAC-SHA1 over counter 56666666, 5 characters of 23456789BCDFGHJKMNPQRTVWXY.
    assert_eq!(
        sb.me_stdin(&["add", "Steam", "--type", "steam"], "STEAMSECRETAAAAA"),
        out(
            0,
            "",
            "teamotp: added 'Steam' to v.age; its current code is BPGGD (10 s left): check that the \
             service accepts it\n"
        )
    );
    let plaintext = format!(
        "{HEADER}{AWS_ROW}\"Root, production\",ACME,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,SHA256,\n\
         Steam,,STEAMSECRETAAAAA,,,,steam\n"
    );
    assert_opens(
        &sb,
        ME,
        "v.age",
        &plaintext,
        &format!(
            "{LIST_HEADER}{AWS_LIST}\"Root, production\",ACME,82941486,34855935,20921162,40\n\
             Steam,,XDBP5,BPGGD,D7QYM,10\n"
        ),
    );
}

#[test]
fn add_uri_reads_an_otpauth_uri_from_stdin() {
    let sb = Sandbox::new();
    sb.init();
    let uri = "otpauth://totp/ACME:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&digits=8\
               &period=60&algorithm=SHA256\n";
    assert_eq!(
        sb.me_stdin(&["add", "--uri"], uri),
        out(
            0,
            "",
            // Issue 21: the label `ACME:ops` gives the issuer ACME and the name ops (Key URI format).
            "teamotp: added 'ops' to v.age; its current code is 3485 5935 (40 s left): check that \
             the service accepts it\n"
        )
    );
    // A name on the command line wins over the URI's label; flags over its parameters.
    assert_eq!(
        sb.me_stdin(
            &["add", "--uri", "AWS", "--issuer", "Amazon"],
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=Other"
        ),
        out(
            0,
            "",
            "teamotp: added 'AWS' to v.age; its current code is 324 550 (10 s left): check that the \
             service accepts it\n"
        )
    );
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age")).as_deref(),
        Ok(format!(
            "{HEADER}ops,ACME,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,SHA256,\n\
             AWS,Amazon,JBSWY3DPEHPK3PXP,,,,\n"
        )
        .as_str())
    );
}

#[test]
fn add_refuses_bad_secrets_duplicate_names_and_bad_uris_and_changes_nothing() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    let bak = sb.bytes("v.age.bak");
    let names = sb.names(".");
    let cases: [(&[&str], &str, &str); 8] = [
        (
            &["add", "Bad"],
            "not base32!\n",
            "teamotp: error: the secret is not usable: secret has an invalid character '!' at position 11 \
             (base32 uses only A-Z and 2-7)\n",
        ),
        (
            &["add", "Empty"],
            "  \n",
            "teamotp: error: the secret is not usable: secret is empty\n",
        ),
        (
            &["add", "aws"],
            "JBSWY3DPEHPK3PXP\n",
            "teamotp: error: an account named 'aws' already exists\n\
             teamotp: hint: choose another name, or re-enrol it: teamotp edit NAME --secret\n",
        ),
        (
            &["add", " Aws "],
            "JBSWY3DPEHPK3PXP\n",
            "teamotp: error: an account named 'Aws' already exists\n\
             teamotp: hint: choose another name, or re-enrol it: teamotp edit NAME --secret\n",
        ),
        (
            &["add", "--uri", "aws"],
            "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP\n",
            "teamotp: error: an account named 'aws' already exists\n\
             teamotp: hint: choose another name, or re-enrol it: teamotp edit NAME --secret\n",
        ),
        (
            &["add", "--uri"],
            "JBSWY3DPEHPK3PXP\n",
            "teamotp: error: that is not an otpauth:// URI\n\
             teamotp: hint: without --uri, teamotp add NAME reads the base32 secret itself\n",
        ),
        (
            &["add", "--uri"],
            "otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1\n",
            "teamotp: error: the URI is not usable: HOTP (counter-based) accounts are not supported, only \
             TOTP\n",
        ),
        (
            &["add"],
            "JBSWY3DPEHPK3PXP\n",
            "teamotp: error: give the account's name: teamotp add NAME\n\
             teamotp: hint: or paste an otpauth:// URI: teamotp add reads it instead of a secret\n",
        ),
    ];
    for (args, stdin, stderr) in cases {
        assert_eq!(sb.me_stdin(args, stdin), out(2, "", stderr), "{args:?}");
    }
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.bytes("v.age.bak"), bak);
    assert_eq!(sb.names("."), names);
}

#[test]
fn rm_asks_unless_yes_and_refuses_unknown_names() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me_stdin(&["add", "GitHub"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
            .code,
        0
    );
    let before = sb.bytes("v.age");
    assert_eq!(sb.me(&["rm", "AWS"]), out(2, "", CONFIRM_NEEDED));
    assert_eq!(
        sb.me(&["rm", "nope", "--yes"]),
        out(
            2,
            "",
            "teamotp: error: no account is named 'nope'\n\
             teamotp: hint: 'teamotp list' shows the accounts\n"
        )
    );
    assert_eq!(
        sb.me(&["rm", "aw", "--yes"]),
        out(
            2,
            "",
            "teamotp: error: no account is named 'aw'\n\
             teamotp: hint: did you mean 'AWS'?\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);

    assert_eq!(
        sb.me(&["rm", "aws", "-y"]),
        out(0, "", "teamotp: removed 'AWS'\n")
    );
    assert_eq!(sb.bytes("v.age.bak"), before);
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age")).as_deref(),
        Ok(format!("{HEADER}GitHub,,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,,,,\n").as_str())
    );
    assert_eq!(
        sb.names("."),
        strings(&[".age-recipients", "home", "keys", "v.age", "v.age.bak"])
    );
}

#[test]
fn rename_refuses_an_existing_new_name_and_unknown_old_names() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me_stdin(&["add", "GitHub"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
            .code,
        0
    );
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["rename", "AWS", "github"]),
        out(
            2,
            "",
            "teamotp: error: an account named 'github' already exists\n"
        )
    );
    assert_eq!(
        sb.me(&["rename", "nope", "x"]),
        out(
            2,
            "",
            "teamotp: error: no account is named 'nope'\n\
             teamotp: hint: 'teamotp list' shows the accounts\n"
        )
    );
    assert_eq!(
        sb.me(&["rename", "AWS", "  "]),
        out(2, "", "teamotp: error: the new name is empty\n")
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(
        sb.me(&["rename", "aws", "Amazon root"]),
        out(0, "", "teamotp: renamed 'AWS' to 'Amazon root'\n")
    );
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age")).as_deref(),
        Ok(format!(
            "{HEADER}Amazon root,,JBSWY3DPEHPK3PXP,,,,\nGitHub,,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,,,,\n"
        )
        .as_str())
    );
    assert_eq!(sb.bytes("v.age.bak"), before);
}

#[test]
fn edit_changes_parameters_and_re_enrols_the_secret_from_stdin() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    // oathtool --totp=SHA512 -d 8 -s 60 -b -N @1700000000 JBSWY3DPEHPK3PXP
    assert_eq!(
        sb.me(&[
            "edit",
            "aws",
            "--issuer",
            "Amazon",
            "--digits",
            "8",
            "--period",
            "60",
            "--algorithm",
            "SHA512"
        ]),
        out(
            0,
            "",
            "teamotp: updated 'AWS'; its current code is 2572 1347 (40 s left): check that the service \
             accepts it\n"
        )
    );
    // oathtool --totp=SHA512 -d 8 -s 60 -b -N @1700000000 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
    assert_eq!(
        sb.me_stdin(
            &["edit", "AWS", "--secret"],
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n"
        ),
        out(
            0,
            "",
            "teamotp: updated 'AWS'; its current code is 2256 0896 (40 s left): check that the service \
             accepts it\n"
        )
    );
    let plaintext = format!("{HEADER}AWS,Amazon,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,SHA512,\n");
    assert_opens(
        &sb,
        ME,
        "v.age",
        &plaintext,
        &format!("{LIST_HEADER}AWS,Amazon,97746057,22560896,75402646,40\n"),
    );

    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me_stdin(&["edit", "AWS", "--secret"], "bad!\n"),
        out(
            2,
            "",
            "teamotp: error: the secret is not usable: secret has an invalid character '!' at position 4 \
             (base32 uses only A-Z and 2-7)\n"
        )
    );
    assert_eq!(
        sb.me(&["edit", "nope", "--digits", "7"]),
        out(
            2,
            "",
            "teamotp: error: no account is named 'nope'\n\
             teamotp: hint: 'teamotp list' shows the accounts\n"
        )
    );
    assert_eq!(
        sb.me(&["edit", "AWS"]),
        out(
            2,
            "",
            "teamotp: error: nothing to change\n\
             teamotp: hint: pass --issuer, --digits, --period, --algorithm or --type, or --secret to \
             re-enrol\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
}

// ---------------------------------------------------------------------------------------------------------
