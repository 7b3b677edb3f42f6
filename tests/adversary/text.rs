//! Attacks: text (see tests/adversary.rs). A teammate who can write `.age-recipients`, the vault or a file
//! someone imports puts terminal escapes, bidi overrides and invisible characters into labels and names:
//! a cursor move or line-wrap-off makes one key look like another in a review, OSC 52 rewrites the
//! victim's clipboard, U+202E reverses what follows. Every message, the table, textconv and the TUI must
//! show such characters as visible escapes (`\u{1b}`), and data formats must keep or JSON-escape them.

use crate::support::*;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use teamotp::tui::app::{App, Clipboard};
use teamotp::tui::ui;
use teamotp::vault::{self, Loaded};

/// Cursor up two lines, line-wrap off, an OSC 52 clipboard write, a C1 CSI, a bidi override and a
/// zero-width space: everything a label can use to rewrite or hide what the terminal shows.
const HOSTILE: &str =
    "Evil\u{1b}[2A\u{1b}[?7l\u{1b}]52;c;SGVsbG8=\u{7}\u{9b}31m\u{202e}gro.kab\u{200b}x";
/// How `HOSTILE` must appear on a terminal.
const HOSTILE_SHOWN: &str =
    "Evil\\u{1b}[2A\\u{1b}[?7l\\u{1b}]52;c;SGVsbG8=\\u{7}\\u{9b}31m\\u{202e}gro.kab\\u{200b}x";
/// The escaped pieces a user must be able to see (so the attack itself is visible).
const SHOWN_PIECES: [&str; 5] = [
    "\\u{1b}[2A",
    "\\u{1b}[?7l",
    "\\u{1b}]52;c;SGVsbG8=\\u{7}",
    "\\u{202e}",
    "\\u{200b}",
];

const ME: &str = "keys/x25519.key";
const SECRET: &str = "JBSWY3DPEHPK3PXP";

/// Characters a terminal acts on or hides: C0, DEL, C1, bidi controls, zero-width and invisible
/// formatting characters (independent of the crate's own list, so the test checks it).
fn is_hostile(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

/// Panics when `text` holds any character of the hostile class other than a line break.
#[track_caller]
fn assert_terminal_safe(text: &str, context: &str) {
    let found: Vec<String> = text
        .chars()
        .filter(|&c| c != '\n' && is_hostile(c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    assert!(
        found.is_empty(),
        "{context}: unsafe characters {found:?} reach the terminal in:\n{text}"
    );
}

/// Panics unless the escaped form of every piece of the attack is visible in `text`.
#[track_caller]
fn assert_shows_attack(text: &str, context: &str) {
    for piece in SHOWN_PIECES {
        assert!(
            text.contains(piece),
            "{context}: the attack is not shown as '{piece}' in:\n{text}"
        );
    }
}

/// Both streams are safe for a terminal.
#[track_caller]
fn assert_out_safe(out: &Out, context: &str) {
    assert_terminal_safe(&out.stdout, &format!("{context} (stdout)"));
    assert_terminal_safe(&out.stderr, &format!("{context} (stderr)"));
}

/// A team vault `v.age` encrypted to `keys/x25519.key`, holding `names`.
fn team_vault(names: &[&str]) -> Sandbox {
    let sb = Sandbox::new("text-");
    sb.ok(&["-i", ME, "-f", "v.age", "init"], "");
    for name in names {
        sb.ok(&["-i", ME, "-f", "v.age", "add", name], SECRET);
    }
    sb
}

fn me(sb: &Sandbox, args: &[&str], stdin: &str) -> Out {
    sb.run(&[&["-i", ME, "-f", "v.age"], args].concat(), stdin)
}

// ---------------------------------------------------------------------------------------------------
// .age-recipients labels and lines

#[test]
fn recipient_labels_with_escapes_are_shown_escaped_by_members() {
    let sb = Sandbox::new("text-");
    let (ssh, _) = ssh_public("id_ed25519.pub");
    let listed = format!(
        "# {HOSTILE}\n{}\n\n{ssh} {HOSTILE}\n",
        age_public("x25519.key")
    );
    sb.write(".age-recipients", &listed);
    let out = sb.run(&["-f", "v.age", "members"], "");
    assert_out_safe(&out, "members");
    assert_eq!(
        out.stdout,
        format!(
            "x25519       {}  # {HOSTILE_SHOWN}\nssh-ed25519  {ssh}  # {HOSTILE_SHOWN}\n",
            age_public("x25519.key")
        )
    );
    // An unsupported line fails closed: the error quotes it, escaped.
    sb.write(
        ".age-recipients",
        format!("{listed}\necdsa-\u{1b}]52;c;SGVsbG8=\u{7} AAAA\n"),
    );
    let out = sb.run(&["-f", "v.age", "members"], "");
    assert_out_safe(&out, "members with an unsupported line");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("\\u{1b}]52;c;SGVsbG8=\\u{7}"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_invalid_recipients_line_is_quoted_escaped() {
    let sb = Sandbox::new("text-");
    sb.write(
        ".age-recipients",
        format!(
            "{}\nx\u{1b}]52;c;SGVsbG8=\u{7}\u{202e}\n",
            age_public("x25519.key")
        ),
    );
    let out = sb.run(&["-f", "v.age", "members"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert_out_safe(&out, "members with an invalid line");
    assert!(
        out.stderr
            .contains("'x\\u{1b}]52;c;SGVsbG8=\\u{7}\\u{202e}'"),
        "{}",
        out.stderr
    );
}

#[test]
fn members_add_and_rm_messages_escape_the_label() {
    let sb = team_vault(&[]);
    let (ssh, _) = ssh_public("id_ed25519.pub");
    // The label comes with the key (an SSH key's own comment), as a teammate would paste it.
    let added = me(&sb, &["members", "add", &format!("{ssh} {HOSTILE}")], "");
    assert_eq!(added.code, 0, "{added:?}");
    assert_out_safe(&added, "members add");
    assert_shows_attack(&added.stderr, "members add");

    let listed = me(&sb, &["members"], "");
    assert_out_safe(&listed, "members");
    assert_shows_attack(&listed.stdout, "members");

    let again = me(&sb, &["members", "add", &format!("{ssh} {HOSTILE}")], "");
    assert_eq!(again.code, 2, "{again:?}");
    assert_out_safe(&again, "members add of a member");
    assert_shows_attack(&again.stderr, "members add of a member");

    // A name given with --name: bidi and zero-width characters are not control characters.
    let named = me(
        &sb,
        &[
            "members",
            "add",
            &age_public("other.key"),
            "--name",
            "Bob\u{202e}\u{200b}",
        ],
        "",
    );
    assert_eq!(named.code, 0, "{named:?}");
    assert_out_safe(&named, "members add --name");
    assert!(named.stderr.contains("Bob\\u{202e}\\u{200b}"), "{named:?}");

    let removed = me(&sb, &["members", "rm", &ssh, "--yes"], "");
    assert_eq!(removed.code, 0, "{removed:?}");
    assert_out_safe(&removed, "members rm");
    assert_shows_attack(&removed.stderr, "members rm");

    let nobody = me(&sb, &["members", "rm", HOSTILE, "--yes"], "");
    assert_eq!(nobody.code, 2, "{nobody:?}");
    assert_out_safe(&nobody, "members rm of nobody");
    assert_shows_attack(&nobody.stderr, "members rm of nobody");
}

// ---------------------------------------------------------------------------------------------------
// Import files

#[test]
fn import_names_and_issuers_are_shown_escaped() {
    let sb = team_vault(&[]);
    sb.write(
        "in.csv",
        format!("name,issuer,secret\n{HOSTILE},{HOSTILE},{SECRET}\nplain,,{SECRET}\n"),
    );
    let out = me(&sb, &["import", "in.csv"], "");
    assert_eq!(out.code, 0, "{out:?}");
    assert_out_safe(&out, "import");
    assert_shows_attack(&out.stderr, "import");

    // Importing it again: the duplicate notes name it too.
    let again = me(&sb, &["import", "in.csv"], "");
    assert_out_safe(&again, "import of duplicates");
    assert_shows_attack(&again.stderr, "import of duplicates");
}

#[test]
fn an_invalid_import_row_is_quoted_escaped() {
    let sb = team_vault(&[]);
    sb.write(
        "in.csv",
        format!("name,secret\n{HOSTILE},JBSWY3DPEHPK3PX8\n"),
    );
    let out = me(&sb, &["import", "in.csv"], "");
    // Since issue 22 an unusable row is left out with its reason: exit 1 when nothing came in.
    assert_eq!(out.code, 1, "{out:?}");
    assert_out_safe(&out, "import of an invalid row");
    assert_shows_attack(&out.stderr, "import of an invalid row");
}

#[test]
fn a_duplicate_column_holding_escapes_is_quoted_escaped() {
    let sb = team_vault(&[]);
    let header = format!("name,secret,{HOSTILE},{HOSTILE}\nx,{SECRET},a,b\n");
    sb.write("in.csv", &header);
    let out = me(&sb, &["import", "--format", "gauth", "in.csv"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert_out_safe(&out, "import with a duplicate column");
    assert_shows_attack(&out.stderr, "import with a duplicate column");

    // The same file as a vault.
    sb.write("plain.csv", &header);
    set_mode(&sb.path("plain.csv"), 0o600);
    let out = sb.run(&["-f", "plain.csv", "list"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert_out_safe(&out, "a vault with a duplicate column");
    assert_shows_attack(&out.stderr, "a vault with a duplicate column");
}

// ---------------------------------------------------------------------------------------------------
// Vault account names

/// A plaintext team CSV vault: two hostile names (one with a hostile issuer), an invalid row and a
/// duplicated name.
fn hostile_plain_vault() -> Sandbox {
    let sb = Sandbox::new("text-");
    sb.write(
        "v.csv",
        format!(
            "name,issuer,secret\n\
             {HOSTILE},{HOSTILE},{SECRET}\n\
             {HOSTILE} two,,{SECRET}\n\
             Bad {HOSTILE},,JBSWY3DPEHPK3PX8\n\
             Dup\u{202e}\u{200b},,{SECRET}\n\
             Dup\u{202e}\u{200b},,{SECRET}\n"
        ),
    );
    set_mode(&sb.path("v.csv"), 0o600);
    sb
}

#[test]
fn list_shows_hostile_names_escaped_in_the_table() {
    let sb = hostile_plain_vault();
    let out = sb.run(&["-f", "v.csv", "--at", AT, "list"], "");
    assert_eq!(out.code, 0, "{out:?}");
    assert_out_safe(&out, "list");
    assert_shows_attack(&out.stdout, "list (the table)");
    assert!(
        out.stdout.contains(&format!("\n{HOSTILE_SHOWN} two ")),
        "{}",
        out.stdout
    );
    assert_shows_attack(&out.stderr, "list (the warning for the invalid row)");
}

#[test]
fn check_and_code_messages_show_hostile_names_escaped() {
    let sb = hostile_plain_vault();
    let check = sb.run(&["-f", "v.csv", "check"], "");
    assert_eq!(check.code, 1, "{check:?}");
    assert_out_safe(&check, "check");
    assert_shows_attack(&check.stdout, "check");
    assert!(
        check.stdout.contains("'Dup\\u{202e}\\u{200b}'"),
        "{check:?}"
    );

    let ambiguous = sb.run(&["-f", "v.csv", "--at", AT, "code", "evil"], "");
    assert_eq!(ambiguous.code, 2, "{ambiguous:?}");
    assert_out_safe(&ambiguous, "code matching several");
    assert_shows_attack(&ambiguous.stderr, "code matching several");

    let invalid = sb.run(&["-f", "v.csv", "--at", AT, "code", "bad"], "");
    assert_eq!(invalid.code, 2, "{invalid:?}");
    assert_out_safe(&invalid, "code of an invalid row");
    assert_shows_attack(&invalid.stderr, "code of an invalid row");

    let query = format!("{HOSTILE}!");
    let none = sb.run(&["-f", "v.csv", "--at", AT, "code", &query], "");
    assert_eq!(none.code, 1, "{none:?}");
    assert_out_safe(&none, "code matching nothing");
    assert_shows_attack(&none.stderr, "code matching nothing");
}

#[test]
fn add_rm_and_rename_messages_show_hostile_names_escaped() {
    let sb = team_vault(&[]);
    let added = me(&sb, &["add", HOSTILE], SECRET);
    assert_eq!(added.code, 0, "{added:?}");
    assert_out_safe(&added, "add");
    assert_shows_attack(&added.stderr, "add");

    let twice = me(&sb, &["add", HOSTILE], SECRET);
    assert_eq!(twice.code, 2, "{twice:?}");
    assert_out_safe(&twice, "add of an existing name");
    assert_shows_attack(&twice.stderr, "add of an existing name");

    // "no account is named ...", with the hostile name among the close names in the hint.
    let missing = me(&sb, &["rm", &format!("{HOSTILE}!"), "--yes"], "");
    assert_eq!(missing.code, 2, "{missing:?}");
    assert_out_safe(&missing, "rm of a missing name");
    assert_shows_attack(&missing.stderr, "rm of a missing name");

    let missing = me(&sb, &["rename", "evil", "good"], "");
    assert_eq!(missing.code, 2, "{missing:?}");
    assert_out_safe(&missing, "rename of a missing name");
    assert_shows_attack(&missing.stderr, "rename of a missing name (the hint)");

    let renamed = me(&sb, &["rename", HOSTILE, &format!("{HOSTILE}2")], "");
    assert_eq!(renamed.code, 0, "{renamed:?}");
    assert_out_safe(&renamed, "rename");
    assert_shows_attack(&renamed.stderr, "rename");

    let listed = me(&sb, &["--at", AT, "list"], "");
    assert_out_safe(&listed, "list of the team vault");
    assert_shows_attack(&listed.stdout, "list of the team vault");

    let removed = me(&sb, &["rm", &format!("{HOSTILE}2"), "--yes"], "");
    assert_eq!(removed.code, 0, "{removed:?}");
    assert_out_safe(&removed, "rm");
    assert_shows_attack(&removed.stderr, "rm");
}

#[test]
fn textconv_shows_hostile_names_escaped() {
    let sb = hostile_plain_vault();
    let out = sb.run(&["textconv", "v.csv"], "");
    assert_eq!(out.code, 0, "{out:?}");
    assert_out_safe(&out, "textconv");
    assert_shows_attack(&out.stdout, "textconv");
    // The invalid row's reason is escaped too, not only its name.
    let invalid = out
        .stdout
        .lines()
        .find(|l| l.starts_with("Bad "))
        .expect("the invalid row");
    assert!(invalid.contains("| invalid: "), "{invalid}");

    // The same for an encrypted team vault (what `git log -p` shows).
    let sb = team_vault(&[HOSTILE]);
    let out = me(&sb, &["textconv", "v.age"], "");
    assert_eq!(out.code, 0, "{out:?}");
    assert_out_safe(&out, "textconv of the team vault");
    assert!(out.stdout.starts_with(HOSTILE_SHOWN), "{}", out.stdout);
}

// ---------------------------------------------------------------------------------------------------
// Data formats keep the bytes

#[test]
fn csv_keeps_the_bytes_and_json_escapes_them() {
    let sb = hostile_plain_vault();
    let csv = sb.run(&["-f", "v.csv", "--at", AT, "list", "--format", "csv"], "");
    assert_eq!(csv.code, 0, "{csv:?}");
    assert!(
        csv.stdout.contains(&format!("\n{HOSTILE},{HOSTILE},")),
        "csv keeps the name and issuer as they are: {:?}",
        csv.stdout
    );
    assert_terminal_safe(&csv.stderr, "list --format csv (stderr)");

    let json = sb.run(&["-f", "v.csv", "--at", AT, "list", "--format", "json"], "");
    assert_eq!(json.code, 0, "{json:?}");
    assert_out_safe(&json, "list --format json");
    assert!(json.stdout.contains("\\u202e"), "{}", json.stdout);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("valid JSON");
    assert_eq!(
        value[0]["name"], HOSTILE,
        "the JSON parses back to the name"
    );
    assert_eq!(value[0]["issuer"], HOSTILE);
    assert_eq!(value[2]["name"], "Dup\u{202e}\u{200b}");
}

#[test]
fn export_keeps_the_bytes() {
    let sb = team_vault(&[HOSTILE]);
    let csv = me(&sb, &["export", "--format", "csv", "--plaintext"], "");
    assert_eq!(csv.code, 0, "{csv:?}");
    assert!(csv.stdout.contains(HOSTILE), "{:?}", csv.stdout);
    assert_terminal_safe(&csv.stderr, "export (stderr)");
    let uri = me(&sb, &["export", "--format", "otpauth", "--plaintext"], "");
    assert_eq!(uri.code, 0, "{uri:?}");
    assert!(
        uri.stdout.starts_with("otpauth://totp/"),
        "{:?}",
        uri.stdout
    );
}

// ---------------------------------------------------------------------------------------------------
// The TUI

struct NoClipboard;

impl Clipboard for NoClipboard {
    fn set(&mut self, _: &str) -> Result<(), String> {
        Err(format!("no clipboard {HOSTILE}"))
    }
    fn get(&mut self) -> Option<String> {
        None
    }
    fn clear(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn name(&self) -> &'static str {
        "test clipboard"
    }
}

/// The screen as text, line by line.
fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

#[test]
fn the_tui_shows_hostile_names_escaped() {
    let vault = Loaded {
        label: format!("team{HOSTILE}.csv.age"),
        parsed: vault::format::parse(
            format!("name,issuer,secret\n{HOSTILE},,{SECRET}\nBad{HOSTILE},,JBSWY3DPEHPK3PX8\n")
                .as_bytes(),
        )
        .unwrap(),
        encrypted: true,
        agreement: Default::default(),
    };
    let mut app = App::new(&vault, 1_700_000_000, Box::new(NoClipboard));
    let (width, height) = (250, 8);
    app.set_viewport(ui::viewport_rows(height));
    // Copying fails with a message naming the clipboard error and the account: the status line.
    app.handle_key(crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    ));
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| ui::render(&app, frame)).unwrap();
    let text = screen(&terminal);
    assert_terminal_safe(&text, "the TUI screen");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("\\u{1b}[2A"), "the title: {}", lines[0]);
    assert!(lines[2].contains(HOSTILE_SHOWN), "the row: {}", lines[2]);
    assert!(
        lines[3].contains("\\u{202e}"),
        "the invalid row: {}",
        lines[3]
    );
    let status = lines[usize::from(height) - 2];
    assert!(status.contains(HOSTILE_SHOWN), "the status line: {status}");
}

// ---------------------------------------------------------------------------------------------------
// Prompts on the terminal

#[test]
fn the_secret_prompt_shows_a_hostile_name_escaped() {
    use expectrl::{Eof, Expect, Session};
    let sb = team_vault(&[]);
    let command = sb.command(["-i", ME, "-f", "v.age", "add", HOSTILE]);
    let mut session = Session::spawn(command).expect("spawn teamotp on a pty");
    session.set_expect_timeout(Some(TIMEOUT));
    let prompt = session.expect("(hidden): ").expect("the secret prompt");
    let shown = String::from_utf8_lossy(prompt.as_bytes()).into_owned();
    // Type only once echo is off (as the user would see it).
    while session.get_process().get_echo().unwrap_or(false) {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    session.send_line(SECRET).expect("type the secret");
    let rest = session.expect(Eof).expect("teamotp ends");
    let rest = String::from_utf8_lossy(rest.as_bytes()).replace('\r', "");
    assert_terminal_safe(&shown, "the secret prompt");
    assert!(
        shown.contains(&format!("Secret for '{HOSTILE_SHOWN}' (hidden): ")),
        "{shown:?}"
    );
    assert_terminal_safe(&rest, "after the prompt");
    assert_shows_attack(&rest, "the message after adding");
}

/// Row messages, file errors and recipient errors all end as a `UserError` or an anyhow chain, and the
/// report escapes what they quote.
#[test]
fn every_message_of_a_row_error_is_escaped() {
    let reported = |error: anyhow::Error| {
        let mut bytes = Vec::new();
        teamotp::error::report(&error, &mut bytes);
        String::from_utf8(bytes).unwrap()
    };
    let assert_safe = |text: &str| {
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| c != '\n' && teamotp::text::is_unsafe(c))
            .collect();
        assert!(bad.is_empty(), "{bad:?} in {text:?}");
    };
    for hostile in [
        HOSTILE,
        "Evil\u{1b}[2A\u{1b}[?7l",
        "\u{1b}]52;c;SGVsbG8=\u{7}",
        "C1\u{9b}31m\u{85}",
        "\u{202e}gro.kab\u{2066}",
        "a\u{200b}b\u{feff}\u{ad}\u{e0041}",
        "tab\there\rcr\u{7f}",
    ] {
        let row = teamotp::vault::format::FileError::DuplicateColumn {
            line: 1,
            column: hostile.to_owned(),
        };
        let text = reported(teamotp::error::UserError::new(format!("v.csv: {row}")).into());
        assert_safe(&text);
        assert!(text.contains(&*teamotp::text::printable(hostile)), "{text}");
        let parsed = teamotp::age::recipients::parse(&format!("{hostile}\n"), "r");
        let text = reported(parsed.expect_err("not a recipient").into());
        assert_safe(&text);
    }
}
