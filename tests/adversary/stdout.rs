//! Attacks: raw terminal text on stdout (issue 20, finding 4; see tests/adversary.rs). Messages on stderr
//! were already made printable, but lines printed for people on stdout were not everywhere: `members`
//! printed keys as read (an OSC 52 clipboard write glued to a key reached the terminal), `check` printed
//! the vault path of its duplicate-name line and the `since=` of a re-enrolment cell as read (cursor
//! moves erased the problem line printed before it), and shell completion offered names holding U+202E.
//!
//! Against the code before the fix all three tests failed: `members` wrote the OSC 52 sequence to stdout
//! (exit 0), `check` wrote ESC [1A ESC [2K twice, `__complete-names` offered the U+202E name.

use crate::support::*;

const ME: &str = "keys/x25519.key";
/// Cursor up, erase the line, an OSC 52 clipboard write.
const ESCAPES: &str = "\u{1b}[1A\u{1b}[2K\u{1b}]52;c;SGVsbG8=\u{7}";
const ESCAPES_SHOWN: &str = "\\u{1b}[1A\\u{1b}[2K\\u{1b}]52;c;SGVsbG8=\\u{7}";

fn assert_no_raw(text: &str, what: &str) {
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
        "{what}: {text:?}"
    );
}

#[test]
fn members_never_prints_a_clipboard_write_glued_to_a_key() {
    let sb = Sandbox::new("teamotp-adv-stdout-");
    sb.run(&["-i", ME, "-f", "v.age", "init"], "")
        .expect_code(0, "init");
    let (ed, _) = ssh_public("id_ed25519.pub");
    let mut text = sb.read(".age-recipients");
    text.push_str(&format!("{ed}{ESCAPES} mallory\n"));
    sb.write(".age-recipients", &text);
    let out = sb.run(&["-i", ME, "-f", "v.age", "members"], "");
    assert_no_raw(&out.stdout, "stdout");
    assert_no_raw(&out.stderr, "stderr");
    assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains("./.age-recipients:4: "),
        "{}",
        out.stderr
    );
}

#[test]
fn check_shows_the_vault_path_and_the_since_cell_made_printable() {
    let sb = Sandbox::new("teamotp-adv-stdout-");
    let name = format!("v{ESCAPES}.csv");
    // `;` separates the cell's parts: the date is the cursor moves alone.
    let moves = "\u{1b}[1A\u{1b}[2K";
    let moves_shown = "\\u{1b}[1A\\u{1b}[2K";
    sb.write(
        &name,
        format!(
            "name,secret,reenrol\nGitHub,JBSWY3DPEHPK3PXP,since={moves};by=bob\n\
             GitHub,JBSWY3DPEHPK3PXP,\n"
        ),
    );
    set_mode(&sb.path(&name), 0o600);
    let out = sb.run(&["-f", &name, "check"], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_no_raw(&out.stdout, "stdout");
    assert_no_raw(&out.stderr, "stderr");
    assert_eq!(
        out.stdout,
        format!(
            "v{ESCAPES_SHOWN}.csv:2: 'GitHub': the name is used on lines 2, 3 (names must be unique)\n\
             re-enrol:\n  'GitHub': since {moves_shown}, removed: bob\n"
        )
    );
}

#[test]
fn completion_skips_a_name_it_would_have_to_escape() {
    let sb = Sandbox::new("teamotp-adv-stdout-");
    sb.write(
        "v.csv",
        "name,secret\nGitHub,JBSWY3DPEHPK3PXP\n\u{202e}gro.kab,JBSWY3DPEHPK3PXP\n\
         Zero\u{200b}Width,JBSWY3DPEHPK3PXP\nAWS root,JBSWY3DPEHPK3PXP\n",
    );
    set_mode(&sb.path("v.csv"), 0o600);
    let out = sb.run(&["-f", "v.csv", "__complete-names"], "");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "GitHub\nAWS root\n"),
        "{}",
        out.stderr
    );
}
