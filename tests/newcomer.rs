//! What a new member tripped over (issue 21), each pinned by the test that failed before the fix: copying
//! inside tmux with its default options, passphrase prompts, adding your own key, man pages, otpauth
//! labels, completion, and the smaller messages.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::pty::{Term, script_command};
use support::{AT, BIN, Sandbox, find_program};

// ---- 1. copy inside tmux ----

/// A tmux server with tmux's default options (`-f /dev/null`: no user config) on a private socket, killed
/// when dropped.
struct TmuxServer {
    _dir: tempfile::TempDir,
    socket: PathBuf,
}

impl TmuxServer {
    fn start() -> Option<TmuxServer> {
        let Some(_) = find_program("tmux") else {
            println!("skipped: tmux not installed (apt-get install -y tmux)");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("teamotp-tmux-")
            .tempdir()
            .unwrap();
        let socket = dir.path().join("socket");
        let server = TmuxServer { _dir: dir, socket };
        let status = server
            .tmux()
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
                "sleep 600",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        Some(server)
    }

    fn tmux(&self) -> Command {
        let mut command = Command::new("tmux");
        command.arg("-S").arg(&self.socket).stdin(Stdio::null());
        command
    }

    /// `$TMUX` as tmux sets it in its panes: socket, server pid, session.
    fn env(&self) -> String {
        format!("{},1,0", self.socket.display())
    }

    /// What tmux's buffer `teamotp` holds, or None when there is none.
    fn buffer(&self) -> Option<String> {
        let out = self
            .tmux()
            .args(["show-buffer", "-b", "teamotp"])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn wait_for_no_buffer(&self, timeout: Duration) {
        let start = Instant::now();
        while self.buffer().is_some() {
            assert!(
                start.elapsed() < timeout,
                "tmux's buffer still holds {:?}",
                self.buffer()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

fn fast_vault() -> Sandbox {
    let sandbox = Sandbox::new("teamotp-newcomer-");
    sandbox.write("vault.csv", "name,secret\nfast,JBSWY3DPEHPK3PXP\n");
    support::set_mode(&sandbox.path("vault.csv"), 0o600);
    sandbox
}

fn code_at(sandbox: &Sandbox, at: &str) -> String {
    let out = sandbox.ok(&["-f", "vault.csv", "--at", at, "code", "fast"], "");
    out.stdout.trim().to_owned()
}

/// Regression (issue 21): inside tmux with its defaults, `code --clip` wrote OSC 52, which tmux drops
/// (`set-clipboard external`), and said "copied". Now the code is in tmux's buffer, the message says the
/// terminal's copy cannot be cleared, and the buffer is deleted when the code expires.
#[test]
fn code_clip_in_tmux_uses_tmux_buffer_and_deletes_it_when_the_code_expires() {
    let Some(server) = TmuxServer::start() else {
        return;
    };
    let sandbox = fast_vault()
        .with_env("TMUX", server.env())
        .with_env("PATH", std::env::var_os("PATH").unwrap());
    // 1700000038: 2 s left of the 30 s period (1700000000 is 20 s into one).
    let expected = code_at(&sandbox, "1700000038");
    let copied = sandbox.run(
        &[
            "-f",
            "vault.csv",
            "--at",
            "1700000038",
            "code",
            "fast",
            "--clip",
        ],
        "",
    );
    assert_eq!(copied.code, 0, "{copied:?}");
    assert_eq!(copied.stdout, "");
    assert!(
        copied.stderr.contains("to tmux's buffer 'teamotp'"),
        "{}",
        copied.stderr
    );
    assert!(
        copied
            .stderr
            .contains("also in the terminal's clipboard (sent by tmux), which cannot be cleared"),
        "{}",
        copied.stderr
    );
    assert_eq!(server.buffer().as_deref(), Some(expected.as_str()));
    server.wait_for_no_buffer(Duration::from_secs(8));
}

/// With tmux's set-clipboard off, the message names the one setting that passes copies on.
#[test]
fn code_clip_in_tmux_with_set_clipboard_off_names_the_setting() {
    let Some(server) = TmuxServer::start() else {
        return;
    };
    let status = server
        .tmux()
        .args(["set", "-g", "set-clipboard", "off"])
        .status()
        .unwrap();
    assert!(status.success());
    let sandbox = fast_vault()
        .with_env("TMUX", server.env())
        .with_env("PATH", std::env::var_os("PATH").unwrap());
    let copied = sandbox.run(
        &["-f", "vault.csv", "--at", AT, "code", "fast", "--clip"],
        "",
    );
    assert_eq!(copied.code, 0, "{copied:?}");
    assert!(
        copied.stderr.contains("tmux set -g set-clipboard external"),
        "{}",
        copied.stderr
    );
    assert!(server.buffer().is_some());
}

/// A tmux that cannot be reached: never "copied".
#[test]
fn code_clip_in_tmux_never_says_copied_when_tmux_did_not_take_it() {
    let sandbox = fast_vault()
        .with_env("TMUX", "/nonexistent/teamotp-socket,1,0")
        .with_env("PATH", std::env::var_os("PATH").unwrap());
    let out = sandbox.run(
        &["-f", "vault.csv", "--at", AT, "code", "fast", "--clip"],
        "",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("not copied"), "{}", out.stderr);
    assert!(!out.stderr.contains("copied the code"), "{}", out.stderr);
}

/// `sh -c` script: waits for the test's line, sets the size, runs teamotp.
const TUI_SCRIPT: &str = r#"
rows=$1 cols=$2
shift 2
read -r go || exit 96
stty sane rows "$rows" cols "$cols" || exit 97
exec "$@"
"#;

/// Regression (issue 21): the TUI inside tmux said "Copied ... (OSC 52)" and nothing reached any
/// clipboard. Now Enter puts the code into tmux's buffer and quitting deletes it.
#[test]
fn tui_in_tmux_copies_to_tmux_buffer_and_clears_it_on_quit() {
    let Some(server) = TmuxServer::start() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let expected = {
        let out = support::std_command(home.path())
            .args(["--demo", "--at", AT, "code", "AWS root"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let mut command = script_command(TUI_SCRIPT, 24, 200);
    command
        .env("HOME", home.path())
        .env("TMUX", server.env())
        .arg(BIN)
        .args(["--demo", "--at", AT]);
    let mut term = Term::spawn(command, 24, 200);
    let shown = |t: &Term| format!("{:?}", t.screen().contents());
    term.wait_until(
        Duration::from_secs(10),
        "the accounts",
        |t| t.screen().contents().contains("GitHub ops"),
        shown,
    );
    term.send(b"\r");
    term.wait_until(
        Duration::from_secs(10),
        "the copy message",
        |t| t.screen().contents().contains("tmux buffer 'teamotp'"),
        shown,
    );
    assert!(
        term.screen()
            .contents()
            .contains("also in the terminal's clipboard (sent by tmux), which cannot be cleared"),
        "{}",
        term.screen().contents()
    );
    assert_eq!(server.buffer().as_deref(), Some(expected.as_str()));
    term.send(b"q");
    term.wait_for_end(Duration::from_secs(10), shown);
    assert_eq!(server.buffer(), None, "the buffer is deleted on quit");
}
