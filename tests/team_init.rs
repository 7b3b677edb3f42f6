//! End-to-end tests of `init` and `encrypt`, the commands that create a team vault.
//!
//! Rules every team test (tests/team_*.rs) follows:
//! - every run has `env_clear()`, `HOME` inside a fresh temporary directory (and `XDG_*` unset or inside
//!   it), no network, and `--at 1700000000` so codes never depend on the clock;
//! - every run goes through `setsid -w`: teamotp has no controlling terminal, as in CI, even when the
//!   tests are started from one (otherwise a confirmation could wait on the developer's terminal);
//! - stdout, stderr and the exit code are compared exactly;
//! - what a write produced is checked from outside teamotp: decrypted with the `age` crate in this test
//!   (every identity kind: X25519, ssh-ed25519, ssh-rsa), and with the Go `age -d` CLI when it is installed
//!   (otherwise "skipped: age CLI not installed" is printed and only that part is skipped);
//! - codes come from outside teamotp: `oathtool --totp -b -N @1700000000 JBSWY3DPEHPK3PXP` (324550),
//!   `oathtool --totp=SHA256 -d 8 -s 60 -b -N @1700000000 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ` (34855935),
//!   `oathtool --totp=SHA512 -d 8 -s 60 ...` and a Python HMAC implementation for the Steam code.
//!
//! Key fixtures come from tests/fixtures/age (README there); git does not keep mode 0600, so they are
//! copied into the sandbox and chmod'ed first.

mod support;

use std::fs;
use std::str::FromStr;

use support::team::Sandbox;
use support::team::*;
use support::*;

// ---------------------------------------------------------------------------------------------------------
// init
// ---------------------------------------------------------------------------------------------------------

#[test]
fn init_without_an_identity_creates_one_and_encrypts_the_empty_vault_to_it() {
    let sb = Sandbox::new();
    let result = sb.run(&["-f", "v.age", "init"]);

    let identity = sb.home().join(".config/teamotp/identity.txt");
    let text = fs::read_to_string(&identity).expect("the identity was created");
    let secret = text
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("an age secret key");
    let public = age::x25519::Identity::from_str(secret)
        .unwrap()
        .to_public()
        .to_string();
    assert_eq!(
        text.lines().find_map(|l| l.strip_prefix("# public key: ")),
        Some(public.as_str())
    );
    assert_eq!(
        result,
        out(
            0,
            "",
            &format!(
                "teamotp: created your identity at {} (keep it private, and back it up)\n\
                 teamotp: your public key (send it to your teammates): {public}\n\
                 {CREATED_V_AGE}",
                identity.display()
            )
        )
    );
    assert_eq!(mode(&identity), 0o600, "the identity is private");
    assert_eq!(mode(identity.parent().unwrap()), 0o700);
    assert_eq!(mode(&sb.path("v.age")), 0o600, "the vault is private");
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{public}\n")
    );
    assert_eq!(
        sb.names("."),
        strings(&[".age-recipients", "home", "keys", "v.age"])
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519"]);

    // The empty vault is the team CSV header only; the new identity (found by default) opens it.
    assert_eq!(decrypt(&identity, &sb.path("v.age")).as_deref(), Ok(HEADER));
    if let Some(result) = go_age_decrypt(&sb, identity.to_str().unwrap(), "v.age") {
        assert_eq!(result.as_deref(), Ok(HEADER));
    }
    assert_eq!(
        sb.run(&["-f", "v.age", "list", "--format", "csv"]),
        out(0, LIST_HEADER, "teamotp: v.age has no accounts\n")
    );
    // The pin is kept in ~/.local/state by default.
    assert_eq!(sb.pins(&sb.home().join(".local/state")).len(), 1);

    // A second vault uses the identity now there: no new one, and the file is not touched.
    let before = fs::read(&identity).unwrap();
    assert_eq!(
        sb.run(&["-f", "other/w.age", "init"]),
        out(
            0,
            "",
            &format!(
                "teamotp: wrote the recipients file other/.age-recipients (1 recipient)\n\
                 teamotp: this machine now trusts these recipients of other/w.age (pinned: a change to the \
                 recipients file is shown for 'teamotp members ack' before the next write)\n\
                 teamotp: created the vault other/w.age; add accounts with 'teamotp add NAME'\n{}",
                elsewhere(&sb, "other/w.age")
            )
        )
    );
    assert_eq!(fs::read(&identity).unwrap(), before);
    assert_eq!(
        sb.read("other/.age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{public}\n")
    );
}

#[test]
fn init_creates_the_identity_under_xdg_config_home_and_the_pin_under_xdg_state_home() {
    let sb = Sandbox::new();
    let config = sb.path("config");
    let state = sb.path("state");
    let xdg = |args: &[&str]| {
        run(sb
            .command(args)
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_STATE_HOME", &state))
    };
    let result = xdg(&["-f", "v.age", "init"]);
    let identity = config.join("teamotp/identity.txt");
    let text = fs::read_to_string(&identity).expect("the identity is under XDG_CONFIG_HOME");
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    assert_eq!(
        result,
        out(
            0,
            "",
            &format!(
                "teamotp: created your identity at {} (keep it private, and back it up)\n\
                 teamotp: your public key (send it to your teammates): {public}\n\
                 {CREATED_V_AGE}",
                identity.display()
            )
        )
    );
    assert_eq!(mode(&identity), 0o600);
    assert!(!sb.home().join(".config").exists());
    assert_eq!(sb.pins(&state).len(), 1, "the pin is under XDG_STATE_HOME");
    assert!(!sb.home().join(".local").exists());
    assert_eq!(
        xdg(&["-f", "v.age", "list", "--format", "csv"]),
        out(0, LIST_HEADER, "teamotp: v.age has no accounts\n")
    );
}

#[test]
fn init_without_recipients_uses_the_public_key_of_the_callers_ssh_identity() {
    let sb = Sandbox::new();
    sb.copy_fixture("id_ed25519", "home/.ssh/id_ed25519");
    sb.copy_fixture("id_ed25519.pub", "home/.ssh/id_ed25519.pub");
    assert_eq!(sb.run(&["-f", "v.age", "init"]), out(0, "", CREATED_V_AGE));
    assert!(
        !sb.home().join(".config").exists(),
        "no identity is created when the caller has one"
    );
    // The SSH key's comment labels it (issue 14: there was no label).
    assert_eq!(
        sb.read(".age-recipients"),
        format!(
            "{RECIPIENTS_PREAMBLE}# teamotp-fixture-ed25519\n{}\n",
            ed25519_pub()
        )
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["ssh-ed25519"]);
    assert_opens(&sb, ED25519, "v.age", HEADER, LIST_HEADER);
}

/// Regression (issue 14): with a passphrase-protected key and no terminal, init said "the new version of
/// 'v.age' does not decrypt (the identity's own passphrase is wrong, ...)".
#[test]
fn init_with_a_passphrase_protected_key_and_no_terminal_says_so() {
    let sb = Sandbox::new();
    sb.copy_fixture("id_ed25519_pw", "home/.ssh/id_ed25519");
    sb.copy_fixture("id_ed25519_pw.pub", "home/.ssh/id_ed25519.pub");
    let result = sb.run(&["-f", "v.age", "init"]);
    assert_eq!(result.code, 2, "{result:?}");
    assert!(
        result.stderr.contains(
            "your key needs its passphrase to check the new version of 'v.age', and there is no terminal"
        ),
        "{}",
        result.stderr
    );
    assert!(
        result.stderr.contains("teamotp unlock"),
        "{}",
        result.stderr
    );
    assert!(
        !result.stderr.contains("does not decrypt"),
        "{}",
        result.stderr
    );
    assert!(!sb.path("v.age").exists());
}

/// Regression (issue 14): init had no way to label the caller's own key.
#[test]
fn init_name_labels_the_callers_own_key() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.me(&["init", "--name", "Alice Example"]),
        out(0, "", CREATED_V_AGE)
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}# Alice Example\n{}\n", x25519_pub())
    );
}

#[test]
fn init_refuses_to_overwrite_an_existing_vault() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    let names = sb.names(".");
    assert_eq!(
        sb.me(&["init"]),
        out(
            2,
            "",
            "teamotp: error: 'v.age' already exists\n\
             teamotp: hint: teamotp does not overwrite a vault; pass another -f/--file PATH\n"
        )
    );
    assert_eq!(
        sb.me(&["init", "-r", &other_pub(), "--force"]).code,
        2,
        "not even with --force"
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.names("."), names);
}

#[test]
fn init_encrypts_to_recipients_an_authorized_keys_line_and_a_github_keys_file() {
    let sb = Sandbox::new();
    let (ed, ed_comment) = ssh_public("id_ed25519.pub");
    // A GitHub .keys file: bare keys, one with a type age cannot use.
    sb.write(
        "bob.keys",
        format!(
            "{}\necdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExample=\n",
            rsa_pub()
        ),
    );
    // An authorized_keys line with options.
    sb.write(
        "authorized_keys",
        format!("no-pty,command=\"/bin/false\" {ed} {ed_comment}\n"),
    );
    let result = sb.me(&[
        "init",
        "--recipient",
        &x25519_pub(),
        "--recipients-from",
        "authorized_keys",
        "-R",
        "bob.keys",
    ]);
    assert_eq!(
        result,
        out(
            0,
            "",
            "teamotp: warning: bob.keys:2: 'ecdsa-sha2-nistp256' keys are not supported by age; that key \
             gets no access\n\
             teamotp: wrote the recipients file ./.age-recipients (3 recipients)\n\
             teamotp: this machine now trusts these recipients of v.age (pinned: a change to the \
             recipients file is shown for 'teamotp members ack' before the next write)\n\
             teamotp: created the vault v.age; add accounts with 'teamotp add NAME'\n\
             teamotp: commands run in this directory (or below it in its git work tree) find it without -f\n"
        )
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!(
            "{RECIPIENTS_PREAMBLE}{}\n# {ed_comment}\n{ed}\n{}\n",
            x25519_pub(),
            rsa_pub()
        )
    );
    assert_eq!(
        stanzas(&sb.path("v.age")),
        ["X25519", "ssh-ed25519", "ssh-rsa"]
    );
    for key in [ME, ED25519, RSA] {
        assert_opens(&sb, key, "v.age", HEADER, LIST_HEADER);
    }
    assert_refused(&sb, OTHER, "v.age");
}

#[test]
fn init_refuses_recipients_the_callers_identity_cannot_open_unless_forced() {
    let sb = Sandbox::new();
    let names = sb.names(".");
    // Issue 21: the refusal names your key and the flag that adds it.
    assert_eq!(
        sb.me(&["init", "-r", &other_pub()]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: none of the recipients is your own key: you could not open the new \
                 vault (you would lock yourself out); nothing was created\n\
                 teamotp: hint: add your key (keys/x25519.key) with -r '{}'\n\
                 teamotp: hint: or pass --force to create a vault only the recipients can open\n",
                x25519_pub()
            )
        )
    );
    assert_eq!(
        sb.names("."),
        names,
        "no vault, no recipients file, no temp file"
    );

    assert_eq!(
        sb.me(&["init", "-r", &other_pub(), "--force"]),
        out(0, "", CREATED_V_AGE)
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{}\n", other_pub())
    );
    assert_opens(&sb, OTHER, "v.age", HEADER, LIST_HEADER);
    assert_refused(&sb, ME, "v.age");
}

#[test]
/// Regression: `init -R FILE` whose FILE lists no usable recipient silently encrypts to the caller's own key instead of refusing an empty recipients list
fn init_refuses_a_recipients_file_that_lists_no_recipient() {
    let sb = Sandbox::new();
    sb.write("nobody.keys", "# Bob has not uploaded a key yet\n");
    let names = sb.names(".");
    let result = sb.me(&["init", "-R", "nobody.keys"]);
    assert_eq!(result.code, 2, "{result:?}");
    assert!(
        result.stderr.starts_with("teamotp: error: ")
            && result.stderr.contains("nobody.keys")
            && result.stderr.contains("no recipient"),
        "{result:?}"
    );
    assert_eq!(sb.names("."), names, "nothing created");
}

#[test]
/// Regression: `init -r A -r B -r A` writes A twice into .age-recipients; every later command then warns './.age-recipients:N: the same key is listed twice'
fn init_writes_each_recipient_once() {
    let sb = Sandbox::new();
    let (me, other) = (x25519_pub(), other_pub());
    assert_eq!(
        sb.me(&["init", "-r", &me, "-r", &other, "-r", &me]),
        out(
            0,
            "",
            "teamotp: wrote the recipients file ./.age-recipients (2 recipients)\n\
             teamotp: this machine now trusts these recipients of v.age (pinned: a change to the \
             recipients file is shown for 'teamotp members ack' before the next write)\n\
             teamotp: created the vault v.age; add accounts with 'teamotp add NAME'\n\
             teamotp: commands run in this directory (or below it in its git work tree) find it without -f\n"
        )
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{me}\n{other}\n")
    );
    // The kind column (issue 12) before each key.
    assert_eq!(
        sb.me(&["members"]),
        out(0, &format!("x25519       {me}\nx25519       {other}\n"), "")
    );
}

#[test]
fn init_refuses_recipients_mixed_with_a_passphrase() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.me(&["init", "--passphrase", "-r", &x25519_pub()]),
        out(
            2,
            "",
            "teamotp: error: the argument '--passphrase' cannot be used with '--recipient <RECIPIENT>'\n\
             teamotp: hint: usage: teamotp init --passphrase\n\
             teamotp: hint: for more information, try '--help'\n"
        )
    );
    assert_eq!(
        sb.me(&["init", "--passphrase", "-R", "keys/id_rsa.pub"])
            .code,
        2
    );
    assert_eq!(sb.names("."), strings(&["home", "keys"]));
}

#[test]
fn init_passphrase_without_a_terminal_fails_clearly() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.run(&["-f", "v.age", "init", "--passphrase"]),
        out(
            2,
            "",
            "teamotp: error: a passphrase is needed and there is no terminal to ask on\n"
        )
    );
    assert_eq!(sb.names("."), strings(&["home", "keys"]));
    assert_eq!(sb.names("home"), Vec::<String>::new());
}

#[test]
fn the_demo_vault_is_read_only() {
    let sb = Sandbox::new();
    assert_eq!(
        sb.run_stdin(&["--demo", "add", "X"], "JBSWY3DPEHPK3PXP\n"),
        out(
            2,
            "",
            "teamotp: error: the demo vault is read-only\n\
             teamotp: hint: create your own with 'teamotp init', or pass -f/--file PATH\n"
        )
    );
}

// ---------------------------------------------------------------------------------------------------------
// encrypt
// ---------------------------------------------------------------------------------------------------------

/// A hand-written team CSV: comments, a blank line, its own column order, an unknown column, quoting.
const HAND_WRITTEN: &str = "# Ops team vault\n\
                            # owner: who to ask before rotating\n\
                            \n\
                            issuer,name,secret,owner,digits\n\
                            Amazon,AWS root,JBSWY3DPEHPK3PXP,alice,\n\
                            # legacy account, rotate in 2024\n\
                            ACME,\"Root, prod\",GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,\"bob \"\"b\"\"\",8\n";

#[test]
fn encrypt_then_add_keeps_comments_column_order_and_unknown_columns() {
    let sb = Sandbox::new();
    sb.write("plain.csv", HAND_WRITTEN);
    assert_eq!(
        sb.me(&["encrypt", "plain.csv"]),
        out(
            0,
            "",
            "teamotp: wrote the recipients file ./.age-recipients (1 recipient)\n\
             teamotp: this machine now trusts these recipients of v.age (pinned: a change to the \
             recipients file is shown for 'teamotp members ack' before the next write)\n\
             teamotp: encrypted 2 accounts from plain.csv (team CSV) into v.age\n\
             teamotp: hint: now remove the plaintext: shred -u 'plain.csv' (and any copy in backups, sync \
             folders or git history)\n\
             teamotp: commands run in this directory (or below it in its git work tree) find it without -f\n"
        )
    );
    assert_eq!(
        sb.read("plain.csv"),
        HAND_WRITTEN,
        "the plaintext is not changed"
    );
    assert_eq!(mode(&sb.path("v.age")), 0o600);
    // oathtool --totp -d 8 -b -N @1700000000 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ: 30 s, SHA1.
    let list = format!(
        "{LIST_HEADER}AWS root,Amazon,822542,324550,367665,10\n\
         \"Root, prod\",ACME,84276857,81921300,67732303,10\n"
    );
    assert_opens(&sb, ME, "v.age", HAND_WRITTEN, &list);

    let encrypted = sb.bytes("v.age");
    assert_eq!(
        sb.me_stdin(
            &["add", "GitHub", "--issuer", "GitHub"],
            "JBSWY3DPEHPK3PXP\n"
        ),
        out(
            0,
            "",
            "teamotp: added 'GitHub' to v.age; its current code is 324 550 (10 s left): check that the \
             service accepts it\n"
        )
    );
    assert_eq!(sb.bytes("v.age.bak"), encrypted);
    let expected = format!("{HAND_WRITTEN}GitHub,GitHub,JBSWY3DPEHPK3PXP,,\n");
    assert_opens(
        &sb,
        ME,
        "v.age",
        &expected,
        &format!("{list}GitHub,GitHub,822542,324550,367665,10\n"),
    );

    // A parameter whose column the file lacks: the column is added at the end, nothing else moves.
    assert_eq!(
        sb.me(&["edit", "GitHub", "--period", "60"]).code,
        0,
        "edit --period"
    );
    let expected = "# Ops team vault\n\
                    # owner: who to ask before rotating\n\
                    \n\
                    issuer,name,secret,owner,digits,period\n\
                    Amazon,AWS root,JBSWY3DPEHPK3PXP,alice,,\n\
                    # legacy account, rotate in 2024\n\
                    ACME,\"Root, prod\",GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,\"bob \"\"b\"\"\",8,\n\
                    GitHub,GitHub,JBSWY3DPEHPK3PXP,,,60\n";
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age")).as_deref(),
        Ok(expected)
    );
    if let Some(result) = go_age_decrypt(&sb, ME, "v.age") {
        assert_eq!(result.as_deref(), Ok(expected));
    }
    assert_eq!(
        sb.names("."),
        strings(&[
            ".age-recipients",
            "home",
            "keys",
            "plain.csv",
            "v.age",
            "v.age.bak"
        ])
    );
}

#[test]
fn encrypt_converts_gauth_lines_to_team_csv() {
    let sb = Sandbox::new();
    sb.write(
        "gauth.csv",
        "AWS: jbsw y3dp ehpk 3pxp\notpauth://totp/ACME:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME&digits=8&period=60&algorithm=SHA256\n",
    );
    assert_eq!(
        sb.me(&[
            "encrypt",
            "gauth.csv",
            "-r",
            &x25519_pub(),
            "-r",
            &ed25519_pub()
        ]),
        out(
            0,
            "",
            "teamotp: wrote the recipients file ./.age-recipients (2 recipients)\n\
             teamotp: this machine now trusts these recipients of v.age (pinned: a change to the \
             recipients file is shown for 'teamotp members ack' before the next write)\n\
             teamotp: encrypted 2 accounts from gauth.csv (gauth lines) into v.age\n\
             teamotp: hint: now remove the plaintext: shred -u 'gauth.csv' (and any copy in backups, sync \
             folders or git history)\n\
             teamotp: commands run in this directory (or below it in its git work tree) find it without -f\n"
        )
    );
    let plaintext = format!(
        "{HEADER}AWS,,JBSWY3DPEHPK3PXP,,,,\nops,ACME,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,SHA256,\n"
    );
    let list = format!("{LIST_HEADER}{AWS_LIST}ops,ACME,82941486,34855935,20921162,40\n");
    for key in [ME, ED25519] {
        assert_opens(&sb, key, "v.age", &plaintext, &list);
    }
}

#[test]
fn encrypt_refuses_invalid_rows_ciphertext_and_an_existing_vault() {
    let sb = Sandbox::new();
    sb.write(
        "bad.txt",
        "AWS: jbsw y3dp ehpk 3pxp\nbad:0000\nno colon here\n",
    );
    sb.write("bad.csv", "name,secret\nok,JBSWY3DPEHPK3PXP\nbad,1111\n");
    sb.copy_fixture("x25519.csv.age", "old.age");
    let names = sb.names(".");
    assert_eq!(
        sb.me(&["encrypt", "bad.txt"]),
        out(
            2,
            "",
            "teamotp: error: 'bad.txt' has 2 invalid rows; nothing was encrypted:\n    \
             bad.txt:2: 'bad': secret has an invalid character '0' at position 1 (base32 uses only A-Z and \
             2-7)\n    \
             bad.txt:3: no ':' between the account name and the secret (gauth lines are NAME:SECRET)\n\
             teamotp: hint: fix them (teamotp -f FILE check lists them) and run the command again\n"
        )
    );
    assert_eq!(
        sb.me(&["encrypt", "bad.csv"]),
        out(
            2,
            "",
            "teamotp: error: 'bad.csv' has 1 invalid row; nothing was encrypted:\n    \
             bad.csv:3: 'bad': secret has an invalid character '1' at position 1 (base32 uses only A-Z and \
             2-7)\n\
             teamotp: hint: fix them (teamotp -f FILE check lists them) and run the command again\n"
        )
    );
    assert_eq!(
        sb.me(&["encrypt", "old.age"]),
        out(2, "", "teamotp: error: 'old.age' is already encrypted\n")
    );
    assert_eq!(sb.names("."), names, "nothing created");

    sb.write("good.csv", "name,secret\nok,JBSWY3DPEHPK3PXP\n");
    sb.init();
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["encrypt", "good.csv"]),
        out(
            2,
            "",
            "teamotp: error: 'v.age' already exists\n\
             teamotp: hint: teamotp does not overwrite a vault; pass another -f/--file PATH\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
}

// ---------------------------------------------------------------------------------------------------------
