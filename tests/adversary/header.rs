//! Attacks: the age header (see tests/adversary.rs). A planted vault whose header holds many stanzas made
//! every command spend minutes of CPU: the age crate re-parses the whole header after each line it reads
//! (a 128 KiB header of tiny stanzas cost 54 s in `list`, `code`, `textconv` and the merge driver).

use crate::support::*;

const MAC: &str = "--- HK2NmOBN9Dpq0Gw6xMCuhFcQlQLvZ/wQUi/2scLG75s\n";

/// An age file whose header holds `count` stanzas with bodies of `body` base64 characters (64 a line),
/// then a MAC, a nonce and a few bytes of payload: valid grammar, encrypted to nobody you know.
fn planted(count: usize, body: usize) -> Vec<u8> {
    let mut text = String::from("age-encryption.org/v1\n");
    let line = "A".repeat(64);
    for i in 0..count {
        text.push_str(&format!("-> x stanza{i}\n"));
        for _ in 0..body / 64 {
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str(&"A".repeat(body % 64));
        text.push('\n');
    }
    text.push_str(MAC);
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(&[7u8; 16 + 64]);
    bytes
}

fn team_sandbox(file: &[u8]) -> Sandbox {
    let sb = Sandbox::new("teamotp-header-");
    sb.write("vault.csv.age", file);
    sb.write(
        "me.key",
        "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n",
    );
    set_mode(&sb.path("me.key"), 0o600);
    sb
}

// Before the fix, this `list` ran for minutes (the test's time limit ended it); now it answers at once.
#[test]
fn a_header_of_many_lines_is_read_in_one_pass() {
    // 1,200 stanzas of 25 body lines each: about 1.9 MiB and 31,000 lines, under the caps.
    let sb = team_sandbox(&planted(1200, 1550));
    let out = sb.run(&["-i", "me.key", "-f", "vault.csv.age", "list"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("none of the identities can open it"),
        "{out:?}"
    );
    // git's view of it: one line, exit 0.
    let out = sb.run(&["-i", "me.key", "textconv", "vault.csv.age"], "");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.starts_with("(a version you cannot open"),
        "{out:?}"
    );
}

#[test]
fn a_header_over_the_caps_is_refused_with_the_limit_named() {
    let sb = team_sandbox(&planted(2100, 0));
    let out = sb.run(&["-i", "me.key", "-f", "vault.csv.age", "list"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("more than 2048 stanzas"), "{out:?}");

    let sb = team_sandbox(&planted(1500, 1600));
    let out = sb.run(&["-i", "me.key", "-f", "vault.csv.age", "list"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("larger than 2 MiB"), "{out:?}");
}
