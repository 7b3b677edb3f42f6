//! `code --min-remaining` at a real terminal (expectrl): the wait is announced on one stderr line.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use expectrl::{Eof, Expect, Session};

use support::{BIN, Sandbox};

/// Regression (issue 14): `code --min-remaining` waited at a terminal without a word.
#[test]
fn code_min_remaining_says_it_waits_at_a_terminal() {
    let sandbox = Sandbox::new("teamotp-pty-code-");
    // A 4 s period and --min-remaining 3: a wait whenever 1 or 2 s are left.
    sandbox.write("vault.csv", "name,secret,period\nfast,JBSWY3DPEHPK3PXP,4\n");
    support::set_mode(&sandbox.path("vault.csv"), 0o600);
    // Start just after a second at which 2 s are left (now % 4 == 2), so the wait is 1 or 2 s.
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        if now.as_secs() % 4 == 2 && now.subsec_millis() < 300 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut command = std::process::Command::new(BIN);
    command
        .env_clear()
        .env("HOME", sandbox.home())
        .env("TERM", "dumb")
        .current_dir(sandbox.root())
        .args(["-f", "vault.csv", "code", "fast", "--min-remaining", "3"]);
    let mut session = Session::spawn(command).expect("spawn teamotp on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session.expect(Eof).expect("teamotp ends");
    let text = String::from_utf8_lossy(found.as_bytes()).replace('\r', "");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text:?}");
    assert!(
        lines[0] == "teamotp: waiting 2 s for a fresh code"
            || lines[0] == "teamotp: waiting 1 s for a fresh code",
        "{text:?}"
    );
    assert!(
        lines[1].len() == 6 && lines[1].bytes().all(|b| b.is_ascii_digit()),
        "{text:?}"
    );
}

/// `code --clip` with no display: OSC 52 written once to the terminal, the code not printed, and a
/// message saying it will not be cleared (no background process writes to the terminal later).
#[test]
fn code_clip_without_a_display_uses_osc52_once_and_says_it_stays() {
    let sandbox = Sandbox::new("teamotp-pty-code-");
    sandbox.write("vault.csv", "name,secret\nfast,JBSWY3DPEHPK3PXP\n");
    support::set_mode(&sandbox.path("vault.csv"), 0o600);
    let mut command = std::process::Command::new(BIN);
    command
        .env_clear()
        .env("HOME", sandbox.home())
        .env("TERM", "xterm")
        .current_dir(sandbox.root())
        .args([
            "--at",
            "1700000000",
            "-f",
            "vault.csv",
            "code",
            "fast",
            "--clip",
        ]);
    let mut session = Session::spawn(command).expect("spawn teamotp on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session.expect(Eof).expect("teamotp ends");
    let text = String::from_utf8_lossy(found.as_bytes()).replace('\r', "");
    // 324550 at 1700000000 (oathtool), base64 "MzI0NTUw".
    assert_eq!(text.matches("\x1b]52;c;MzI0NTUw").count(), 1, "{text:?}");
    assert!(!text.contains("324550"), "{text:?}");
    assert!(text.contains("it will not be cleared"), "{text:?}");
}
