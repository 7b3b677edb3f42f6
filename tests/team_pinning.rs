//! End-to-end tests of recipients-file pinning and `members ack`.
//! Rules and helpers: tests/team_init.rs and tests/support/team.rs.

mod support;

use support::team::Sandbox;
use support::team::*;
use support::*;

// ---------------------------------------------------------------------------------------------------------
// Pinning
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_teammates_edit_of_the_recipients_file_stops_every_write_until_ack() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    let before = sb.bytes("v.age");
    let bak = sb.bytes("v.age.bak");
    // Someone appends a key to the file directly (a git pull, or a slipped-in key).
    let mut text = sb.read(".age-recipients");
    text.push_str(&format!("# Mallory\n{}\n", other_pub()));
    sb.write(".age-recipients", &text);
    let stop = pin_error(&sb, &[format!("+ {}  # Mallory", other_pub())]);

    let writes: [(&[&str], &str); 8] = [
        (&["add", "GitHub"], "JBSWY3DPEHPK3PXP\n"),
        (&["rm", "AWS", "--yes"], ""),
        (&["rename", "AWS", "Amazon"], ""),
        (&["edit", "AWS", "--digits", "8"], ""),
        (&["edit", "AWS", "--secret"], "GEZDGNBVGY3TQOJQ\n"),
        (&["rekey"], ""),
        (&["members", "add", &rsa_pub()], ""),
        (&["members", "rm", "Mallory", "--yes"], ""),
    ];
    for (args, stdin) in writes {
        assert_eq!(sb.me_stdin(args, stdin), out(2, "", &stop), "{args:?}");
    }
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.bytes("v.age.bak"), bak);
    assert_eq!(
        sb.names("."),
        strings(&[".age-recipients", "home", "keys", "v.age", "v.age.bak"])
    );
    assert_refused(&sb, OTHER, "v.age");

    // Reading still works meanwhile, and says that the vault is not encrypted to the file's keys.
    assert_eq!(
        sb.me(&["list", "--format", "csv"]),
        out(
            0,
            &format!("{LIST_HEADER}{AWS_LIST}"),
            &format!(
                "teamotp: warning: 'v.age' is not encrypted to exactly the keys of \
                 './.age-recipients': Mallory ({}) cannot open it; re-encrypt it: teamotp rekey\n",
                shown(&other_pub())
            )
        )
    );

    let shown = format!(
        "teamotp: the recipients file changed since your last write:\n{}{LABELS_HINT}",
        review(&sb, &[format!("+ {}  # Mallory", other_pub())])
    );
    assert_eq!(
        sb.me(&["members", "ack"]),
        out(2, "", &format!("{shown}{CONFIRM_NEEDED}"))
    );
    assert_eq!(
        sb.me(&["members", "ack", "--yes"]),
        out(
            0,
            "",
            &format!(
                "{shown}teamotp: accepted; the next write encrypts to these 2 recipients (or run 'teamotp \
                 rekey' now)\n"
            )
        )
    );
    assert_eq!(
        sb.me(&["members", "ack", "--yes"]),
        out(
            0,
            "",
            "teamotp: the recipients are unchanged; nothing to accept\n"
        )
    );
    assert_eq!(
        sb.me_stdin(&["add", "GitHub"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n"),
        out(
            0,
            "",
            "teamotp: added 'GitHub' to v.age; its current code is 921 300 (10 s left): check that the \
             service accepts it\n"
        )
    );
    let plaintext = format!("{HEADER}{AWS_ROW}GitHub,,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,,,,\n");
    let list = format!("{LIST_HEADER}{AWS_LIST}GitHub,,276857,921300,732303,10\n");
    assert_opens(&sb, ME, "v.age", &plaintext, &list);
    assert_opens(&sb, OTHER, "v.age", &plaintext, &list);
}

#[test]
fn a_key_removed_from_the_recipients_file_by_hand_is_shown_and_stops_writes() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    assert_eq!(
        sb.me(&["members", "add", &other_pub(), "--name", "Olga"])
            .code,
        0
    );
    // A teammate removes Olga's key by hand (and leaves a stray comment).
    sb.write(
        ".age-recipients",
        format!("{RECIPIENTS_PREAMBLE}{}\n# Olga\n", x25519_pub()),
    );
    let before = sb.bytes("v.age");
    assert_eq!(
        sb.me(&["rekey"]),
        out(
            2,
            "",
            &pin_error(&sb, &[format!("- {}  # Olga", other_pub())])
        )
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert_opens(
        &sb,
        OTHER,
        "v.age",
        &format!("{HEADER}{AWS_ROW}"),
        &format!("{LIST_HEADER}{AWS_LIST}"),
    );
    assert_eq!(sb.me(&["members", "ack", "--yes"]).code, 0);
    assert_eq!(
        sb.me(&["rekey"]),
        out(0, "", "teamotp: re-encrypted v.age to 1 recipient\n")
    );
    assert_refused(&sb, OTHER, "v.age");
}

#[test]
fn rekey_refuses_a_recipients_list_that_would_lock_the_caller_out_unless_forced() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    // A teammate replaces the caller's key with theirs; the caller accepts the change, then rekeys.
    sb.write(
        ".age-recipients",
        format!("{RECIPIENTS_PREAMBLE}# Olga\n{}\n", other_pub()),
    );
    assert_eq!(
        sb.me(&["rekey"]),
        out(
            2,
            "",
            &pin_error(
                &sb,
                &[
                    format!("+ {}  # Olga", other_pub()),
                    format!("- {}", x25519_pub()),
                ]
            )
        )
    );
    assert_eq!(sb.me(&["members", "ack", "--yes"]).code, 0);
    let before = sb.bytes("v.age");
    let names = sb.names(".");
    assert_eq!(sb.me(&["rekey"]), out(2, "", LOCKED_OUT));
    assert_eq!(sb.bytes("v.age"), before);
    assert_eq!(sb.names("."), names);
    assert_eq!(
        sb.me(&["rekey", "--force"]),
        out(0, "", "teamotp: re-encrypted v.age to 1 recipient\n")
    );
    // The backup follows the new recipients too.
    assert_ne!(sb.bytes("v.age.bak"), before);
    assert_refused(&sb, ME, "v.age.bak");
    assert_refused(&sb, ME, "v.age");
}

// ---------------------------------------------------------------------------------------------------------
