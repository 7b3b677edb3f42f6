//! End-to-end tests of `members` (list, add, rm), the recipients file, and `rekey` of vaults made by
//! the Go age CLI. Rules and helpers: tests/team_init.rs and tests/support/team.rs.

mod support;

use std::fs;
use std::path::Path;

use support::team::Sandbox;
use support::team::*;
use support::*;

// ---------------------------------------------------------------------------------------------------------
// members
// ---------------------------------------------------------------------------------------------------------

/// Each line starts with the key's kind in an 11-wide column (issue 12), then the key and its comment.
#[test]
fn members_lists_the_recipients_with_their_comments_on_stdout() {
    let sb = Sandbox::new();
    let (ed, ed_comment) = ssh_public("id_ed25519.pub");
    sb.write(
        "team.rcp",
        format!(
            "# Ops team\n\n# Alice\n{}\n\n{ed} {ed_comment}\n# Rita (laptop)\n{} rita@old\n",
            x25519_pub(),
            rsa_pub()
        ),
    );
    assert_eq!(
        sb.run(&["-f", "v.age", "--recipients-file", "team.rcp", "members"]),
        out(
            0,
            &format!(
                "x25519       {}  # Alice\nssh-ed25519  {ed}  # {ed_comment}\nssh-rsa      {}  # Rita (laptop)\n",
                x25519_pub(),
                shown(&rsa_pub())
            ),
            ""
        )
    );
    assert_eq!(
        sb.run(&[
            "-f",
            "v.age",
            "--recipients-file",
            "team.rcp",
            "members",
            "list"
        ])
        .stdout,
        format!(
            "x25519       {}  # Alice\nssh-ed25519  {ed}  # {ed_comment}\nssh-rsa      {}  # Rita (laptop)\n",
            x25519_pub(),
            shown(&rsa_pub())
        )
    );
}

#[test]
fn members_add_and_rm_change_the_file_and_re_encrypt_in_one_step() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let plaintext = format!("{HEADER}{AWS_ROW}");
    let list = format!("{LIST_HEADER}{AWS_LIST}");
    let (ed, ed_comment) = ssh_public("id_ed25519.pub");

    // An authorized_keys line: its own comment names the member.
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&[
            "members",
            "add",
            &format!("restrict,no-pty {ed} {ed_comment}")
        ]),
        out(
            0,
            "",
            &format!(
                "teamotp: added {ed_comment} ({}); the vault is now encrypted to 2 recipients\n",
                shown(&ed)
            )
        )
    );
    assert_eq!(sb.bytes("v.age.bak"), before);
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519", "ssh-ed25519"]);

    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["members", "add", &rsa_pub(), "--name", "Rita"]),
        out(
            0,
            "",
            &format!(
                "teamotp: added Rita ({}); the vault is now encrypted to 3 recipients\n",
                shown(&rsa_pub())
            )
        )
    );
    assert_eq!(sb.bytes("v.age.bak"), before);
    assert_eq!(
        sb.read(".age-recipients"),
        format!(
            "{RECIPIENTS_PREAMBLE}{}\n# {ed_comment}\n{ed}\n# Rita\n{}\n",
            x25519_pub(),
            rsa_pub()
        )
    );
    assert_eq!(
        sb.me(&["members"]),
        out(
            0,
            &format!(
                "x25519       {}\nssh-ed25519  {ed}  # {ed_comment}\nssh-rsa      {}  # Rita\n",
                x25519_pub(),
                shown(&rsa_pub())
            ),
            ""
        )
    );
    assert_eq!(
        stanzas(&sb.path("v.age")),
        ["X25519", "ssh-ed25519", "ssh-rsa"]
    );
    for key in [ME, ED25519, RSA] {
        assert_opens(&sb, key, "v.age", &plaintext, &list);
    }
    assert_refused(&sb, OTHER, "v.age");

    // Removing by the name in the comment (case-insensitive).
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["members", "rm", "rita", "--yes"]),
        out(
            0,
            "",
            &format!(
                "teamotp: removed Rita ({})\n{NOT_RETROACTIVE}\
                 teamotp: hint: re-enrol these accounts (new secret at each service, then 'teamotp rotate \
                 NAME'); 'teamotp check' lists them until then:\n    AWS\n",
                shown(&rsa_pub())
            )
        )
    );
    // The backup holds the previous version, re-encrypted so the removed key opens it no more.
    assert_ne!(sb.bytes("v.age.bak"), before);
    assert_eq!(stanzas(&sb.path("v.age.bak")), ["X25519", "ssh-ed25519"]);
    assert_refused(&sb, RSA, "v.age.bak");
    assert_eq!(
        decrypt(&sb.path(ME), &sb.path("v.age.bak")).as_deref(),
        Ok(plaintext.as_str())
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519", "ssh-ed25519"]);
    assert_refused(&sb, RSA, "v.age");
    // Every account Rita could read is marked for re-enrolment.
    let plaintext = "name,issuer,secret,digits,period,algorithm,type,reenrol\n\
                     AWS,,JBSWY3DPEHPK3PXP,,,,,since=2023-11-14;by=Rita\n";
    for key in [ME, ED25519] {
        assert_opens(&sb, key, "v.age", plaintext, &list);
    }

    // Removing by the key's base64 body.
    let body = ed.split_whitespace().nth(1).unwrap();
    assert_eq!(
        sb.me(&["members", "rm", body, "-y"]),
        out(
            0,
            "",
            &format!(
                "teamotp: removed {ed_comment} ({})\n{NOT_RETROACTIVE}\
                 teamotp: hint: re-enrol these accounts (new secret at each service, then 'teamotp rotate \
                 NAME'); 'teamotp check' lists them until then:\n    AWS\n",
                shown(&ed)
            )
        )
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}{}\n", x25519_pub())
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519"]);
    assert_refused(&sb, ED25519, "v.age");
    // The marks of both removals are joined: the earlier date, both members.
    let plaintext = "name,issuer,secret,digits,period,algorithm,type,reenrol\n\
                     AWS,,JBSWY3DPEHPK3PXP,,,,,\"since=2023-11-14;by=Rita,teamotp-fixture-ed25519\"\n";
    assert_opens(&sb, ME, "v.age", plaintext, &list);

    // An X25519 member, added and removed by its whole key.
    assert_eq!(
        sb.me(&["members", "add", &other_pub(), "--name", "Olga"])
            .code,
        0
    );
    assert_opens(&sb, OTHER, "v.age", plaintext, &list);
    assert_eq!(sb.me(&["members", "rm", &other_pub(), "--yes"]).code, 0);
    assert_refused(&sb, OTHER, "v.age");
    assert_eq!(
        sb.names("."),
        strings(&[".age-recipients", "home", "keys", "v.age", "v.age.bak"])
    );
}

#[test]
fn members_add_refuses_a_member_twice_and_what_is_not_a_recipient() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    let recipients = sb.read(".age-recipients");
    assert_eq!(
        sb.me(&["members", "add", &x25519_pub(), "--name", "Me again"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: Me again ({}) is already a member\n",
                shown(&x25519_pub())
            )
        )
    );
    assert_eq!(
        sb.me(&["members", "add", "garbage"]),
        out(
            2,
            "",
            "teamotp: error: RECIPIENT:1: 'garbage' is not a recipient\n\
             teamotp: hint: each line is an age1... key, an ssh-ed25519 or ssh-rsa public key, or a # \
             comment\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.read(".age-recipients"), recipients);
}

#[test]
/// Regression: `members add` of an ecdsa key says only 'give exactly one recipient'; the reason (age does not support that key type) is dropped
fn members_add_of_an_unsupported_ssh_key_says_why() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let result = sb.me(&[
        "members",
        "add",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBExample= carol",
    ]);
    assert_eq!(result.code, 2);
    assert!(
        result
            .stderr
            .contains("'ecdsa-sha2-nistp256' keys are not supported by age"),
        "{result:?}"
    );
}

#[test]
/// Regression: `members add KEY --name` with a newline in the name writes a second key line into .age-recipients that the vault was not encrypted to
fn members_add_name_cannot_add_a_second_recipient() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let sneaky = age_public_of("x25519-enc.pub");
    let result = sb.me(&[
        "members",
        "add",
        &other_pub(),
        "--name",
        &format!("Olga\n{sneaky}"),
    ]);
    // Refused, or the name kept on one comment line: either way the file lists exactly what the vault
    // is encrypted to.
    let listed = sb.me(&["members"]);
    assert!(
        !listed.stdout.contains(&sneaky),
        "{result:?}\n.age-recipients:\n{}",
        sb.read(".age-recipients")
    );
    assert_eq!(listed.stderr, "");
}

/// A recipients file's single key (`x25519-enc.pub`).
fn age_public_of(file: &str) -> String {
    fs::read_to_string(Path::new(AGE_FIXTURES).join(file))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn members_rm_refuses_the_last_recipient_a_lock_out_unknown_members_and_asks_unless_yes() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me(&["members", "rm", &x25519_pub(), "--yes"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: {} is the last recipient; a vault without recipients could not be opened \
                 by anyone\n",
                shown(&x25519_pub())
            )
        )
    );
    assert_eq!(
        sb.me(&["members", "add", &other_pub(), "--name", "Olga"])
            .code,
        0
    );
    let before = sb.bytes("v.age");
    let recipients = sb.read(".age-recipients");
    let names = sb.names(".");
    assert_eq!(
        sb.me(&["members", "rm", "Olga"]),
        out(2, "", CONFIRM_NEEDED)
    );
    assert_eq!(
        sb.me(&["members", "rm", "nobody", "--yes"]),
        out(
            2,
            "",
            "teamotp: error: no member is 'nobody'\n\
             teamotp: hint: 'teamotp members' lists them: give the name in its comment, or the whole key\n"
        )
    );
    // Removing your own key while another member remains would lock you out.
    assert_eq!(
        sb.me(&["members", "rm", &x25519_pub(), "--yes"]),
        out(2, "", LOCKED_OUT)
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.read(".age-recipients"), recipients);
    assert_eq!(sb.names("."), names, "no temp file left behind");

    // --force: the caller accepts being locked out.
    assert_eq!(
        sb.me(&["members", "rm", &x25519_pub(), "--yes", "--force"]),
        out(
            0,
            "",
            &format!(
                "teamotp: removed {}\n{NOT_RETROACTIVE}\
                 teamotp: hint: re-enrol these accounts (new secret at each service, then 'teamotp rotate \
                 NAME'); 'teamotp check' lists them until then:\n    AWS\n",
                shown(&x25519_pub())
            )
        )
    );
    assert_eq!(
        sb.read(".age-recipients"),
        format!("{RECIPIENTS_PREAMBLE}# Olga\n{}\n", other_pub())
    );
    assert_refused(&sb, ME, "v.age");
    assert_opens(
        &sb,
        OTHER,
        "v.age",
        &format!(
            "name,issuer,secret,digits,period,algorithm,type,reenrol\n\
             AWS,,JBSWY3DPEHPK3PXP,,,,,since=2023-11-14;by={}\n",
            shown(&x25519_pub())
        ),
        &format!("{LIST_HEADER}{AWS_LIST}"),
    );
}

/// A passphrase vault is refused before its passphrase is asked (issue 14: it used to be asked first).
#[test]
fn members_add_refuses_a_passphrase_vault() {
    let sb = Sandbox::new();
    sb.copy_fixture("passphrase.csv.age", "v.age");
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.run(&["-f", "v.age", "members", "add", &other_pub()]),
        out(
            2,
            "",
            "teamotp: error: 'v.age' is encrypted with a passphrase; it has no members\n\
             teamotp: hint: age cannot mix recipients with a passphrase: create a recipients vault with \
             'teamotp init' and move the accounts\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.names("."), strings(&["home", "keys", "v.age"]));
}

// ---------------------------------------------------------------------------------------------------------
// The recipients file
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_recipients_file_without_recipients_is_refused() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    sb.write(".age-recipients", "# everyone left\n");
    let refusal = "teamotp: error: the recipients file './.age-recipients' lists no recipient\n\
                   teamotp: hint: add one with 'teamotp members add RECIPIENT'\n";
    assert_eq!(sb.me(&["rekey"]), out(2, "", refusal));
    assert_eq!(
        sb.me_stdin(&["add", "X"], "JBSWY3DPEHPK3PXP"),
        out(2, "", refusal)
    );
    assert_eq!(sb.me(&["members"]), out(2, "", refusal));
    assert_eq!(
        sb.me(&["members", "add", &other_pub(), "--force"]),
        out(2, "", refusal)
    );
    assert_eq!(sb.bytes("v.age"), before);
}

#[test]
fn a_vault_without_a_recipients_file_is_not_written() {
    let sb = Sandbox::new();
    sb.copy_fixture("x25519.csv.age", "v.age");
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me_stdin(&["add", "X"], "JBSWY3DPEHPK3PXP"),
        out(
            2,
            "",
            "teamotp: error: cannot read the recipients file './.age-recipients': No such file or \
             directory (os error 2)\n\
             teamotp: hint: the vault is encrypted to the keys in .age-recipients beside it; \
             --recipients-file PATH names another file\n"
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.names("."), strings(&["home", "keys", "v.age"]));
}

#[test]
fn recipients_file_option_overrides_the_file_beside_the_vault() {
    let sb = Sandbox::new();
    let run = |rest: &[&str]| {
        let fixed = [
            "-i",
            ME,
            "-f",
            "vault/v.age",
            "--recipients-file",
            "team.rcp",
        ];
        sb.run(&[&fixed[..], rest].concat())
    };
    assert_eq!(
        run(&["init"]),
        out(
            0,
            "",
            &format!(
                "teamotp: wrote the recipients file team.rcp (1 recipient)\n\
                 teamotp: this machine now trusts these recipients of vault/v.age (pinned: a change to the \
                 recipients file is shown for 'teamotp members ack' before the next write)\n\
                 teamotp: created the vault vault/v.age; add accounts with 'teamotp add NAME'\n{}",
                elsewhere(&sb, "vault/v.age")
            )
        )
    );
    assert_eq!(mode(&sb.path("vault")), 0o700);
    assert_eq!(
        run(&["members", "add", &rsa_pub(), "--name", "Rita"]).code,
        0
    );
    assert_eq!(
        sb.read("team.rcp"),
        format!(
            "{RECIPIENTS_PREAMBLE}{}\n# Rita\n{}\n",
            x25519_pub(),
            rsa_pub()
        )
    );
    assert_eq!(sb.names("vault"), strings(&["v.age", "v.age.bak"]));
    assert_eq!(stanzas(&sb.path("vault/v.age")), ["X25519", "ssh-rsa"]);
    assert_opens(&sb, RSA, "vault/v.age", HEADER, LIST_HEADER);
}

// ---------------------------------------------------------------------------------------------------------
// rekey of vaults made by the Go age CLI
// ---------------------------------------------------------------------------------------------------------

#[test]
fn rekey_re_encrypts_a_vault_made_by_age_to_the_recipients_file() {
    let plain = fs::read_to_string(Path::new(AGE_FIXTURES).join("plain.csv")).unwrap();
    // plain.csv at 1700000000 (oathtool, see the module documentation).
    let list = format!(
        "{LIST_HEADER}AWS root,Amazon,822542,324550,367665,10\n\
         \"Root, production\",ACME,82941486,34855935,20921162,40\n"
    );
    for (fixture, vault) in [
        ("x25519.csv.age", "v.age"),
        ("x25519.csv.age.asc", "v.age.asc"),
    ] {
        let sb = Sandbox::new();
        sb.copy_fixture(fixture, vault);
        set_mode(&sb.path(vault), 0o644);
        let original = sb.bytes(vault);
        sb.write(
            ".age-recipients",
            format!(
                "# Me\n{}\n# Ed\n{}\n# Rita\n{}\n",
                x25519_pub(),
                ed25519_pub(),
                rsa_pub()
            ),
        );
        // A vault teamotp never wrote from this HOME: its recipients are accepted first.
        assert_eq!(
            sb.run(&["-i", ME, "-f", vault, "members", "ack", "--yes"])
                .code,
            0
        );
        assert_eq!(
            sb.run(&["-i", ME, "-f", vault, "rekey"]),
            out(
                0,
                "",
                &format!("teamotp: re-encrypted {vault} to 3 recipients\n")
            )
        );
        // The backup is the previous version encrypted to the new recipients.
        let bak = format!("{vault}.bak");
        assert_ne!(sb.bytes(&bak), original);
        for key in [ME, ED25519, RSA] {
            assert_eq!(
                decrypt(&sb.path(key), &sb.path(&bak)).as_deref(),
                Ok(plain.as_str()),
                "{key} opens {bak}"
            );
        }
        assert_eq!(mode(&sb.path(vault)), 0o644, "the vault's mode is kept");
        let armored = vault.ends_with(".asc");
        assert_eq!(
            sb.bytes(vault)
                .starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"),
            armored,
            "armour is kept"
        );
        if !armored {
            assert_eq!(
                stanzas(&sb.path(vault)),
                ["X25519", "ssh-ed25519", "ssh-rsa"]
            );
        }
        for key in [ME, ED25519, RSA] {
            assert_opens(&sb, key, vault, &plain, &list);
        }
        assert_refused(&sb, OTHER, vault);
        let mut expected = strings(&[".age-recipients", "home", "keys"]);
        expected.extend([vault.to_owned(), format!("{vault}.bak")]);
        expected.sort();
        assert_eq!(sb.names("."), expected);
    }
}

// ---------------------------------------------------------------------------------------------------------

/// A vault encrypted to ME and to the passphrase-protected ed25519 key `keys/id_ed25519_pw`.
fn vault_with_a_passphrase_protected_member(sb: &Sandbox) {
    sb.init();
    sb.copy_fixture("id_ed25519_pw", "keys/id_ed25519_pw");
    let key = std::fs::read_to_string(std::path::Path::new(AGE_FIXTURES).join("id_ed25519_pw.pub"))
        .unwrap();
    let key: Vec<&str> = key.split_whitespace().take(2).collect();
    let added = sb.me(&["members", "add", &key.join(" "), "--name", "Pat"]);
    assert_eq!(added.code, 0, "{added:?}");
}

/// Regression (issue 14): `members rm` asked for the key's passphrase (here: failed for want of a
/// terminal to ask it on) before the y/N question.
#[test]
fn members_rm_asks_for_confirmation_before_any_passphrase() {
    let sb = Sandbox::new();
    vault_with_a_passphrase_protected_member(&sb);
    let result = sb.run(&[
        "-i",
        "keys/id_ed25519_pw",
        "-f",
        "v.age",
        "members",
        "rm",
        "Pat",
    ]);
    assert_eq!(result, out(2, "", CONFIRM_NEEDED));
}

/// Regression (issue 14): a pinning refusal came only after the key's passphrase was asked for.
#[test]
fn a_pinning_refusal_comes_before_any_passphrase() {
    let sb = Sandbox::new();
    vault_with_a_passphrase_protected_member(&sb);
    let text = sb.read(".age-recipients");
    sb.write(".age-recipients", format!("{text}{}\n", other_pub()));
    let result = sb.run_stdin(
        &["-i", "keys/id_ed25519_pw", "-f", "v.age", "add", "New"],
        "JBSWY3DPEHPK3PXP\n",
    );
    assert_eq!(result.code, 2, "{result:?}");
    assert!(
        result.stderr.starts_with(
            "teamotp: error: the recipients file changed since you last wrote 'v.age'"
        ),
        "{}",
        result.stderr
    );
    assert!(!result.stderr.contains("passphrase"), "{}", result.stderr);
}

/// Regression (issue 14): `members add FILE` took the path for a key ("'keys/id_rsa.pub' is not a
/// recipient"); a file is now read as a recipients file, its comment the label.
#[test]
fn members_add_of_an_existing_file_reads_it_as_a_recipients_file() {
    let sb = Sandbox::new();
    sb.init();
    sb.copy_fixture("id_rsa.pub", "keys/id_rsa.pub");
    let added = sb.me(&["members", "add", "keys/id_rsa.pub"]);
    assert_eq!(added.code, 0, "{added:?}");
    let text = sb.read(".age-recipients");
    let (key, comment) = ssh_public("id_rsa.pub");
    assert!(text.ends_with(&format!("# {comment}\n{key}\n")), "{text}");
    // A list with --name is refused: the name would label one key of several.
    sb.write("list.keys", format!("{}\n{}\n", other_pub(), ed25519_pub()));
    let refused = sb.me(&["members", "add", "list.keys", "--name", "Olga"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains("--name names one recipient"),
        "{refused:?}"
    );
    let added = sb.me(&["members", "add", "list.keys"]);
    assert_eq!(added.code, 0, "{added:?}");
    assert!(
        added.stderr.contains("encrypted to 4 recipients"),
        "{added:?}"
    );
}

/// Regression (issue 14): a broken SSH key was reported with Rust's Debug text
/// (`(Invalid("invalid SSH recipient"))`).
#[test]
fn a_broken_ssh_key_is_reported_in_words() {
    let sb = Sandbox::new();
    sb.init();
    let refused = sb.me(&["members", "add", "ssh-ed25519 AAAAbroken"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(
        refused.stderr.contains(
            "the 'ssh-ed25519' key is not valid base64: its length is not a whole base64"
        ),
        "{refused:?}"
    );
    assert!(!refused.stderr.contains("Invalid("), "{refused:?}");
    assert!(!refused.stderr.contains("\""), "{refused:?}");
}
