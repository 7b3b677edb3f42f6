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

// ---- 2. passphrases: three tries everywhere, no terminal, the unlock suggestion ----

const SSH_PASS: &str = "fixture-ssh-pass";
const IDENTITY_PASS: &str = "fixture-identity-pass";
const VAULT_PASS: &str = "fixture-vault-pass";

/// A sandbox with the age fixtures and a private agent socket path (no agent runs there unless a test
/// unlocks; [`Agentless::drop`] locks it).
struct Agentless {
    sandbox: Sandbox,
}

impl Agentless {
    fn new() -> Agentless {
        let sandbox = Sandbox::empty("teamotp-newcomer-").with_fixtures();
        Agentless { sandbox }
    }

    fn socket(&self) -> PathBuf {
        self.sandbox.root().join("run").join("agent.sock")
    }

    fn fixture(&self, name: &str) -> String {
        self.sandbox.fixture(name).display().to_string()
    }

    fn environment(&self, command: &mut Command) {
        command
            .env_clear()
            .env("HOME", self.sandbox.home())
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("TERM", "dumb")
            .env("TEAMOTP_AGENT_SOCK", self.socket());
    }

    /// With no terminal (a new session), stdin /dev/null.
    fn detached(&self, args: &[&str]) -> support::Out {
        self.detached_in(self.sandbox.root(), args)
    }

    /// [`Agentless::detached`] in the directory `dir`.
    fn detached_in(&self, dir: &std::path::Path, args: &[&str]) -> support::Out {
        let mut command = Command::new(support::setsid());
        self.environment(&mut command);
        command.current_dir(dir).arg("-w").arg(BIN).args(args);
        support::execute(command, b"")
    }

    /// On a pseudo-terminal, answering each passphrase prompt in turn; what the terminal showed, the
    /// number of prompts seen and the exit code.
    fn on_pty(&self, args: &[&str], passphrases: &[&str]) -> (String, i32) {
        self.on_pty_in(self.sandbox.root(), args, passphrases)
    }

    /// [`Agentless::on_pty`] in the directory `dir`.
    fn on_pty_in(
        &self,
        dir: &std::path::Path,
        args: &[&str],
        passphrases: &[&str],
    ) -> (String, i32) {
        use expectrl::{Eof, Expect, Regex, Session};
        let mut command = Command::new(BIN);
        self.environment(&mut command);
        command.current_dir(dir).args(args);
        let mut session = Session::spawn(command).expect("spawn on a pty");
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        let mut text = String::new();
        for passphrase in passphrases {
            let found = session
                .expect(Regex("assphrase[^\n]*: "))
                .unwrap_or_else(|e| panic!("no prompt ({e}); so far: {text}"));
            text.push_str(&String::from_utf8_lossy(found.before()));
            text.push_str(&String::from_utf8_lossy(found.get(0).unwrap()));
            support::pty::wait_for_echo_off(&session, Duration::from_secs(30));
            session.send_line(passphrase).unwrap();
        }
        let rest = session.expect(Eof).unwrap();
        text.push_str(&String::from_utf8_lossy(rest.before()));
        for part in &rest {
            text.push_str(&String::from_utf8_lossy(part));
        }
        let code = match session.get_process().wait().unwrap() {
            expectrl::process::unix::WaitStatus::Exited(_, code) => code,
            other => panic!("teamotp did not exit: {other:?}"),
        };
        (text.replace('\r', ""), code)
    }
}

impl Drop for Agentless {
    fn drop(&mut self) {
        let mut command = Command::new(BIN);
        self.environment(&mut command);
        let _ = command.arg("lock").output();
    }
}

/// Regression (issue 21): `teamotp unlock` gave a passphrase-protected SSH key one try (a typo ended it
/// with "the passphrase of SSH key ... is wrong"); every command gave three.
#[test]
fn unlock_gives_an_ssh_key_three_tries() {
    let t = Agentless::new();
    let key = t.fixture("id_ed25519_pw");
    let (shown, code) = t.on_pty(&["-i", &key, "unlock"], &["typo-1", "typo-2", SSH_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert_eq!(shown.matches("wrong passphrase for").count(), 2, "{shown}");
    assert!(shown.contains("ssh-ed25519 AAAA"), "{shown}");
    let (shown, code) = t.on_pty(&["-i", &key, "unlock"], &["typo-1", "typo-2", "typo-3"]);
    assert_eq!(code, 2, "{shown}");
    assert!(shown.contains("is wrong (3 tries)"), "{shown}");
}

/// The same three tries at `unlock` for an age-encrypted identity and a passphrase vault.
#[test]
fn unlock_gives_encrypted_identities_and_passphrase_vaults_three_tries() {
    let t = Agentless::new();
    let identity = t.fixture("encrypted-identity.age");
    let (shown, code) = t.on_pty(&["-i", &identity, "unlock"], &["typo", IDENTITY_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("wrong passphrase for"), "{shown}");
    let vault = t.fixture("passphrase.csv.age");
    let key = t.fixture("x25519.key");
    let (shown, code) = t.on_pty(&["-i", &key, "-f", &vault, "unlock"], &["typo", VAULT_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("wrong passphrase for"), "{shown}");
}

/// Regression (issue 21): with no terminal and no agent, a passphrase-protected key gave "the identity's
/// own passphrase is wrong, or its key could not be decrypted", although nothing was typed.
#[test]
fn without_a_terminal_a_key_passphrase_is_needed_not_wrong() {
    let t = Agentless::new();
    let (ssh, ssh_vault) = (t.fixture("id_ed25519_pw"), t.fixture("multi.csv.age"));
    let (identity, identity_vault) = (
        t.fixture("encrypted-identity.age"),
        t.fixture("enc-identity.csv.age"),
    );
    for args in [
        &["-i", &ssh, "-f", &ssh_vault, "list"][..],
        &["-i", &identity, "-f", &identity_vault, "list"],
        &["-i", &ssh, "unlock"],
    ] {
        let out = t.detached(args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(
            out.stderr
                .contains("is needed and there is no terminal to ask for it"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("teamotp unlock"), "{}", out.stderr);
        assert!(!out.stderr.contains("wrong"), "{}", out.stderr);
    }
}

/// Regression (issue 21): without the agent every command asked again and never mentioned `teamotp
/// unlock`. Now one stderr line suggests it after a prompt, once per command even with two prompts, and
/// not when an agent runs.
#[test]
fn a_passphrase_prompt_without_an_agent_suggests_unlock_once() {
    let t = Agentless::new();
    let identity = t.fixture("encrypted-identity.age");
    let key = t.fixture("id_ed25519_pw");
    let vault = t.fixture("multi.csv.age");
    let (shown, code) = t.on_pty(
        &["-i", &identity, "-i", &key, "-f", &vault, "list"],
        &[IDENTITY_PASS, SSH_PASS],
    );
    assert_eq!(code, 0, "{shown}");
    assert_eq!(
        shown
            .matches("'teamotp unlock' asks each passphrase once")
            .count(),
        1,
        "{shown}"
    );
    // With an agent running (it holds a key that is not the vault's), the prompt comes without it.
    let (shown, code) = t.on_pty(&["-i", &identity, "unlock"], &[IDENTITY_PASS]);
    assert_eq!(code, 0, "{shown}");
    let (shown, code) = t.on_pty(&["-i", &key, "-f", &vault, "list"], &[SSH_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert!(!shown.contains("'teamotp unlock' asks"), "{shown}");
}

// ---- 3. init that would lock you out, your own key's label, whoami ----

/// A sandbox with an identity of its own at the default path (`keygen`) and `USER=ana`; returns it and
/// its public key.
fn member() -> (Sandbox, String) {
    let sandbox = Sandbox::new("teamotp-newcomer-").with_env("USER", "ana");
    let me = sandbox.ok(&["keygen"], "").stdout.trim().to_owned();
    (sandbox, me)
}

/// Regression (issue 21): `init -r BOB` (a vault for the team, forgetting yourself) was refused with
/// "you would lock yourself out" without saying which key to add.
#[test]
fn init_that_would_lock_you_out_names_your_key_and_the_flag() {
    let (sandbox, me) = member();
    let bob = support::age_public("other.key");
    let out = sandbox.run(&["-f", "otp.csv.age", "init", "-r", &bob], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("none of the recipients is your own key"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("with -r '{me}'")),
        "{}",
        out.stderr
    );
    assert!(!sandbox.path("otp.csv.age").exists());
    assert!(!sandbox.path(".age-recipients").exists());
    // The flag it names works.
    sandbox.ok(&["-f", "otp.csv.age", "init", "-r", &bob, "-r", &me], "");
}

/// Regression (issue 21): your own key given with -r got no label; by default init labels it ($USER, an
/// SSH key's comment, or --name).
#[test]
fn your_own_key_given_explicitly_gets_the_default_label() {
    let (sandbox, me) = member();
    sandbox.ok(&["-f", "a/otp.csv.age", "init"], "");
    let by_default = sandbox.read("a/.age-recipients");
    assert!(by_default.contains("# ana\n"), "{by_default}");
    let bob = support::age_public("other.key");
    sandbox.ok(&["-f", "b/otp.csv.age", "init", "-r", &bob, "-r", &me], "");
    let explicit = sandbox.read("b/.age-recipients");
    assert!(explicit.contains(&format!("# ana\n{me}\n")), "{explicit}");
    sandbox.ok(
        &[
            "-f",
            "c/otp.csv.age",
            "init",
            "-r",
            &me,
            "--name",
            "Ana Lima",
        ],
        "",
    );
    assert!(sandbox.read("c/.age-recipients").contains("# Ana Lima\n"));
}

/// Regression (issue 21): `teamotp members add "$(teamotp whoami)"` failed: whoami printed
/// `# x25519, from ...` after the key on stdout. Now stdout holds the bare key; with several keys it says
/// which line to pick, and so does `members add` given them all.
#[test]
fn members_add_takes_whoami_and_several_keys_say_which_line_to_pick() {
    let (sandbox, _) = member();
    sandbox.ok(&["-f", "otp.csv.age", "init"], "");
    let bob = sandbox.ok(&["-i", "keys/other.key", "whoami"], "");
    assert_eq!(bob.stdout.lines().count(), 1, "{bob:?}");
    assert!(
        bob.stderr
            .contains("line 1: x25519 key from keys/other.key")
    );
    sandbox.ok(
        // "$(...)" drops the trailing newline.
        &[
            "-f",
            "otp.csv.age",
            "members",
            "add",
            bob.stdout.trim_end(),
            "--name",
            "bob",
        ],
        "",
    );
    assert!(sandbox.read(".age-recipients").contains("# bob\n"));

    let two = sandbox.ok(
        &["-i", "keys/other.key", "-i", "keys/id_ed25519", "whoami"],
        "",
    );
    assert_eq!(two.stdout.lines().count(), 2, "{two:?}");
    assert!(
        two.stderr.contains("pick its line") && two.stderr.contains("sed -n 2p"),
        "{}",
        two.stderr
    );
    let out = sandbox.run(
        &["-f", "otp.csv.age", "members", "add", two.stdout.trim_end()],
        "",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("sed -n 2p"), "{}", out.stderr);
}

// ---- 4. the --register hint, passphrase vaults found from their folder ----

/// Regression (issue 21): after `init --passphrase` the hint said "run it again with --register pp",
/// which failed with "'pp.csv.age' already exists". The hint is now a command that works.
#[test]
fn the_register_hint_after_init_passphrase_is_a_command_that_works() {
    let t = Agentless::new();
    let vault = t.sandbox.root().join("far").join("pp.csv.age");
    std::fs::create_dir(vault.parent().unwrap()).unwrap();
    let (shown, code) = t.on_pty(
        &["-f", vault.to_str().unwrap(), "init", "--passphrase"],
        &[VAULT_PASS, VAULT_PASS],
    );
    assert_eq!(code, 0, "{shown}");
    let vault = std::fs::canonicalize(&vault).unwrap();
    let command = format!("teamotp -f '{}' register far", vault.display());
    assert!(shown.contains(&command), "{shown}");
    assert!(!shown.contains("run it again"), "{shown}");
    // Run the hint as it is written.
    let out = t.detached(&["-f", vault.to_str().unwrap(), "register", "far"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("registered"), "{}", out.stderr);
    let config = t.sandbox.read("home/.config/teamotp/config.toml");
    assert!(config.contains("[vaults.far]"), "{config}");
    // And the vault is found by that name (it asks for the passphrase: no terminal here).
    let out = t.detached(&["--vault", "far", "list"]);
    assert!(
        out.stderr.contains(&format!("'{}'", vault.display())),
        "{}",
        out.stderr
    );
    // Registering a name twice says so, and names no vault as created.
    let out = t.detached(&["-f", vault.to_str().unwrap(), "register", "far"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("already has a vault named 'far'"));
    assert!(!out.stderr.contains("created"), "{}", out.stderr);
}

/// Regression (issue 21): a passphrase vault has no recipients file, so `teamotp list` in its own folder
/// did not find it (and showed the config's vaults instead). Discovery recognises it by its age header.
#[test]
fn a_passphrase_vault_is_found_from_its_own_folder() {
    let t = Agentless::new();
    let dir = t.sandbox.root().join("team");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(t.fixture("passphrase.csv.age"), dir.join("pp.csv.age")).unwrap();
    // Another vault is the config's default: discovery comes first.
    t.sandbox.write(
        "home/.config/teamotp/config.toml",
        format!(
            "default = \"other\"\n[vaults.other]\nfile = \"{}\"\n",
            t.fixture("x25519.csv.age")
        ),
    );
    // An age file beside it encrypted to a key is not a passphrase vault (no "several vaults").
    std::fs::copy(t.fixture("x25519.csv.age"), dir.join("x.age")).unwrap();

    let key = t.fixture("x25519.key");
    let out = t.detached_in(&dir, &["-i", &key, "list"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("pp.csv.age"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the passphrase is needed and there is no terminal"),
        "{}",
        out.stderr
    );
    // On a terminal it asks and lists.
    let (shown, code) = t.on_pty_in(&dir, &["list"], &[VAULT_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("AWS root"), "{shown}");
}

// ---- 5. man pages, one description per command, options only where they apply ----

/// The man pages `teamotp man --out-dir` writes: (file name, roff text).
fn man_pages() -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut pages: Vec<(String, String)> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    pages.sort();
    pages
}

/// Regression (issue 21): `man teamotp` listed teamotp-code(1) and others, which did not exist; it pointed
/// to docs/config.md, which the package did not ship. Now every command has a page, every page a page
/// names exists, and every file a page names is one the package installs (docs/*.md).
#[test]
fn every_command_has_a_man_page_and_every_page_named_exists() {
    let pages = man_pages();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for wanted in [
        "teamotp.1",
        "teamotp-code.1",
        "teamotp-init.1",
        "teamotp-encrypt.1",
        "teamotp-members.1",
        "teamotp-members-add.1",
        "teamotp-unlock.1",
        "teamotp-agent-status.1",
        "teamotp-register.1",
    ] {
        assert!(names.contains(&wanted), "no {wanted} in {names:?}");
    }
    for internal in [
        "teamotp-clip-helper.1",
        "teamotp-__complete-names.1",
        "teamotp-help.1",
    ] {
        assert!(!names.contains(&internal), "{internal} is internal");
    }
    let installed_docs: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/docs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    let deb =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/deb.sh")).unwrap();
    assert!(
        deb.contains("for doc in docs/*.md"),
        "deb.sh installs docs/*.md"
    );
    assert!(deb.contains("man --out-dir"), "deb.sh installs every page");
    let cargo =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    assert!(cargo.contains(r#"["docs/*.md", "usr/share/doc/teamotp/", "644"]"#));
    assert!(
        cargo.contains(r#"["target/debian/generated/man/*.1.gz", "usr/share/man/man1/", "644"]"#)
    );
    for (name, text) in &pages {
        // roff escapes the hyphen: teamotp\-code(1).
        let plain = text.replace("\\-", "-");
        for (at, _) in plain.match_indices("teamotp-") {
            let rest = &plain[at..];
            let Some(end) = rest.find("(1)") else {
                continue;
            };
            let page = &rest[..end];
            if page.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                assert!(
                    names.contains(&format!("{page}.1").as_str()),
                    "{name} names {page}(1), which does not exist"
                );
            }
        }
        assert!(
            !plain.contains("docs/"),
            "{name} points into the source tree"
        );
        for (at, _) in plain.match_indices("/usr/share/doc/teamotp/") {
            let file: String = plain[at + "/usr/share/doc/teamotp/".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .collect();
            let file = file.trim_end_matches('.');
            assert!(
                installed_docs.iter().any(|d| d == file),
                "{name} names /usr/share/doc/teamotp/{file}, which is not installed"
            );
        }
    }
}

/// Regression (issue 21): init and encrypt were both "How a new vault is protected", add and edit both
/// "Account parameters for add and edit" (a flattened struct's doc comment); each command now has its
/// own one-line description, in its --help and its page.
#[test]
fn every_command_has_its_own_description() {
    let pages = man_pages();
    let mut seen = std::collections::HashMap::new();
    for (name, text) in &pages {
        let line = text
            .lines()
            .skip_while(|l| *l != ".SH NAME")
            .nth(1)
            .unwrap_or_else(|| panic!("{name} has no NAME"))
            .to_owned();
        let description = line
            .split_once(" \\- ")
            .map(|(_, d)| d.to_owned())
            .unwrap_or(line);
        assert!(
            !description.contains("How a new vault is protected")
                && !description.contains("Account parameters"),
            "{name}: {description}"
        );
        if let Some(other) = seen.insert(description.clone(), name.clone()) {
            panic!("{name} and {other} share the description '{description}'");
        }
    }
    for (command, about) in [
        ("init", "Create an empty vault"),
        ("encrypt", "Create the vault from a plaintext"),
        ("add", "Add an account"),
        ("edit", "Change an account's issuer"),
    ] {
        let out = Command::new(BIN)
            .args([command, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.starts_with(about), "{command} --help: {help}");
    }
}

/// Regression (issue 21): every command's --help listed the TUI's --hide and --color.
#[test]
fn the_tuis_options_are_only_in_the_tuis_help() {
    for command in ["list", "code", "add", "members", "init"] {
        let out = Command::new(BIN)
            .args([command, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(!help.contains("--hide"), "{command} --help: {help}");
        assert!(!help.contains("--color"), "{command} --help: {help}");
    }
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--hide") && help.contains("--color"),
        "{help}"
    );
}

// ---- 6. otpauth labels, names qualified like the importers', completion ----

/// A sandbox with an initialised vault `v.age` (its own key `keys/x25519.key`).
fn with_vault() -> Sandbox {
    let sandbox = Sandbox::new("teamotp-newcomer-");
    sandbox.ok(&["-i", "keys/x25519.key", "-f", "v.age", "init"], "");
    sandbox
}

fn vault_csv(sandbox: &Sandbox) -> String {
    sandbox
        .ok(
            &[
                "-i",
                "keys/x25519.key",
                "-f",
                "v.age",
                "list",
                "--format",
                "csv",
                "--at",
                AT,
            ],
            "",
        )
        .stdout
}

const SLACK_URI: &str =
    "otpauth://totp/Slack:admin@acme.example?secret=JBSWY3DPEHPK3PXP&issuer=Slack";

/// Regression (issue 21): `add --uri` with `Slack:admin@acme.example` and issuer=Slack named the account
/// `Slack:admin@acme.example` (the issuer repeated in the name); `%3A` is the same colon.
#[test]
fn add_uri_splits_the_label_into_issuer_and_name() {
    let sandbox = with_vault();
    let me = ["-i", "keys/x25519.key", "-f", "v.age"];
    sandbox.ok(&[&me[..], &["add", "--uri"]].concat(), SLACK_URI);
    sandbox.ok(
        &[&me[..], &["add", "--uri"]].concat(),
        "otpauth://totp/GitHub%3Aops?secret=JBSWY3DPEHPK3PXP",
    );
    let csv = vault_csv(&sandbox);
    assert!(csv.contains("\nadmin@acme.example,Slack,"), "{csv}");
    assert!(csv.contains("\nops,GitHub,"), "{csv}");
    assert!(!csv.contains("Slack:"), "{csv}");
}

/// When the account part alone is already another service's account name, the new one is qualified as
/// the importers do (`admin (Slack)`); the same service's is a duplicate, as before.
#[test]
fn a_label_name_already_in_the_vault_is_qualified_by_its_issuer() {
    let sandbox = with_vault();
    let me = ["-i", "keys/x25519.key", "-f", "v.age"];
    sandbox.ok(
        &[&me[..], &["add", "admin", "--issuer", "GitHub"]].concat(),
        "JBSWY3DPEHPK3PXP",
    );
    let out = sandbox.ok(
        &[&me[..], &["add"]].concat(),
        "otpauth://totp/Slack:admin?secret=GEZDGNBVGY3TQOJQ&issuer=Slack",
    );
    assert!(
        out.stderr.contains("adding this one as 'admin (Slack)'"),
        "{}",
        out.stderr
    );
    let csv = vault_csv(&sandbox);
    assert!(csv.contains("\nadmin,GitHub,"), "{csv}");
    assert!(csv.contains("\nadmin (Slack),Slack,"), "{csv}");
    let again = sandbox.run(
        &[&me[..], &["add"]].concat(),
        "otpauth://totp/Slack:admin?secret=GEZDGNBVGY3TQOJQ&issuer=GitHub",
    );
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
}

/// A directory with `teamotp` on PATH and a plaintext vault whose names hold ':', spaces, quotes and
/// commas.
fn completion_sandbox() -> Sandbox {
    let sandbox = Sandbox::new("teamotp-newcomer-");
    std::fs::create_dir(sandbox.path("bin")).unwrap();
    std::os::unix::fs::symlink(BIN, sandbox.path("bin/teamotp")).unwrap();
    sandbox.write(
        "v.csv",
        "name,secret\nSlack:admin,JBSWY3DPEHPK3PXP\nGitHub ops,JBSWY3DPEHPK3PXP\n\
         \"Root, prod\",JBSWY3DPEHPK3PXP\nit's,JBSWY3DPEHPK3PXP\n",
    );
    support::set_mode(&sandbox.path("v.csv"), 0o600);
    sandbox
}

fn shell_env(sandbox: &Sandbox, command: &mut Command) {
    command
        .env_clear()
        .env("HOME", sandbox.home())
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", sandbox.path("bin").display()),
        )
        .env("TERM", "xterm")
        .current_dir(sandbox.root());
}

/// Regression (issue 21): bash completion of a name holding ':' did nothing (bash splits words at ':'),
/// and every shell offered the internal commands. bash on a pseudo-terminal, typing TAB.
#[test]
fn bash_completes_names_with_colons_spaces_quotes_and_commas() {
    let Some(bash) = find_program("bash") else {
        println!("skipped: no bash");
        return;
    };
    let sandbox = completion_sandbox();
    // Through the size-setting script: readline shows nothing on a terminal of no size.
    let mut command = script_command(TUI_SCRIPT, 24, 200);
    command
        .env("HOME", sandbox.home())
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", sandbox.path("bin").display()),
        )
        .current_dir(sandbox.root())
        .arg(bash)
        .args(["--norc", "--noprofile", "-i"]);
    let mut term = Term::spawn(command, 24, 200);
    term.send(b"PS1='$ '; source <(teamotp completions bash); clear; echo READY\n");
    // Typed only once bash reads again (it drops what is typed while it runs a command).
    let ready = |t: &Term| {
        let lines: Vec<String> = t.screen().contents().lines().map(str::to_owned).collect();
        lines.iter().any(|l| l == "READY") && lines.last().is_some_and(|l| l.starts_with('$'))
    };
    term.wait_until(Duration::from_secs(10), "the prompt", ready, |t| {
        t.screen().contents()
    });
    for (typed, completed) in [
        ("Slack:a", "code Slack:admin"),
        ("Sla", "code Slack:admin"),
        ("Gi", "code GitHub\\ ops"),
        ("'Gi", "code 'GitHub ops'"),
        ("Ro", "code Root\\,\\ prod"),
        ("it", "code it\\'s"),
    ] {
        term.send(format!("teamotp -f v.csv code {typed}\t").as_bytes());
        let wanted = format!("$ teamotp -f v.csv {completed}");
        term.wait_until(
            Duration::from_secs(10),
            &wanted,
            |t| {
                t.screen()
                    .contents()
                    .lines()
                    .any(|l| l.trim_end() == wanted.trim_end())
            },
            |t| format!("{}\nreceived: {:?}", t.screen().contents(), t.text()),
        );
        term.send(b"\x15"); // Ctrl-U
        term.send(b"clear; echo READY\n");
        term.wait_until(Duration::from_secs(10), "the prompt", ready, |t| {
            t.screen().contents()
        });
    }
    // The internal commands are never offered: `cl` and `__` complete to nothing.
    // (TAB twice lists the choices; X and Enter then run what is on the line.)
    for typed in ["__", "cl"] {
        term.send(format!("teamotp {typed}\t\tX\n").as_bytes());
        let ran = format!("unrecognized subcommand '{typed}X'");
        term.wait_until(
            Duration::from_secs(10),
            &ran,
            |t| t.screen().contents().contains(&ran),
            |t| t.screen().contents(),
        );
        let screen = term.screen().contents();
        assert!(
            !screen.contains("clip-helper") && !screen.contains("__complete"),
            "{screen}"
        );
        term.send(b"clear; echo READY\n");
        term.wait_until(Duration::from_secs(10), "the prompt", ready, |t| {
            t.screen().contents()
        });
    }
    term.send(b"exit\n");
}

/// The same names in fish (`complete -C`) and zsh (its line editor on a zpty), and no internal command.
#[test]
fn fish_and_zsh_complete_names_with_colons_and_never_internal_commands() {
    let sandbox = completion_sandbox();
    let dir = sandbox.path("completions");
    std::fs::create_dir(&dir).unwrap();
    for (shell, file) in [("fish", "teamotp.fish"), ("zsh", "_teamotp")] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        std::fs::write(dir.join(file), &out.stdout).unwrap();
    }
    if let Some(fish) = find_program("fish") {
        let mut command = Command::new(fish);
        shell_env(&sandbox, &mut command);
        let script = format!(
            "source {}; complete -C'teamotp -f v.csv code '; echo ---; complete -C'teamotp -f v.csv code Slack:'; \
             echo ---; complete -C'teamotp '",
            dir.join("teamotp.fish").display()
        );
        let out = command.arg("-c").arg(script).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let parts: Vec<&str> = text.split("---\n").collect();
        assert_eq!(
            parts[0], "GitHub ops\nit's\nRoot, prod\nSlack:admin\n",
            "{text}"
        );
        assert_eq!(parts[1], "Slack:admin\n", "{text}");
        assert!(parts[2].contains("code\t"), "{text}");
        assert!(
            !parts[2].contains("clip-helper") && !parts[2].contains("__complete"),
            "{text}"
        );
    } else {
        println!("skipped fish: not installed");
    }
    if let Some(zsh) = find_program("zsh") {
        let script = format!(
            "zmodload zsh/zpty\n\
             zpty z zsh -f -i\n\
             zpty -w z \"PS1='> '; fpath=({dir} \\$fpath); autoload -U compinit; compinit -u -D\"\n\
             sleep 1\n\
             for typed in 'code Slack:a' 'code Gi' 'code Ro' 'code it' 'cl' '__'; do\n\
               zpty -w -n z \"teamotp -f v.csv $typed\"\n\
               zpty -w -n z $'\\t'\n\
               sleep 1\n\
               zpty -w z $'\\x15'\n\
             done\n\
             sleep 1\n\
             while zpty -r -t z line; do print -rn -- \"$line\"; done\n\
             zpty -d z\n",
            dir = dir.display()
        );
        let mut command = Command::new(zsh);
        shell_env(&sandbox, &mut command);
        let out = command.arg("-f").arg("-c").arg(script).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        for completed in [
            "code Slack:admin",
            "code GitHub\\ ops",
            "code Root,\\ prod",
            "code it\\'s",
        ] {
            assert!(text.contains(completed), "{completed} in {text:?}");
        }
        assert!(
            !text.contains("clip-helper") && !text.contains("__complete"),
            "{text:?}"
        );
    } else {
        println!("skipped zsh: not installed");
    }
}

// ---- 7. add takes a pasted URI, did you mean, the missing vault, options per command ----

/// Regression (issue 21): an otpauth URI pasted into plain `add NAME` gave "invalid character ':' at
/// position 8".
#[test]
fn add_takes_a_pasted_otpauth_uri_as_the_secret() {
    let sandbox = with_vault();
    let me = ["-i", "keys/x25519.key", "-f", "v.age"];
    let out = sandbox.ok(&[&me[..], &["add", "Slack admin"]].concat(), SLACK_URI);
    assert!(out.stderr.contains("added 'Slack admin'"), "{}", out.stderr);
    let csv = vault_csv(&sandbox);
    assert!(csv.contains("\nSlack admin,Slack,"), "{csv}");
    // A bare secret still needs the name.
    let out = sandbox.run(&[&me[..], &["add"]].concat(), "JBSWY3DPEHPK3PXP");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("give the account's name"),
        "{}",
        out.stderr
    );
}

/// Regression (issue 21): `teamotp code githbu` had no "did you mean" (`edit` had one, for names holding
/// the text only). `code`, `rm`, `rename` and `edit` now suggest names a typo away.
#[test]
fn code_rm_rename_and_edit_suggest_close_names() {
    let sandbox = with_vault();
    let me = ["-i", "keys/x25519.key", "-f", "v.age"];
    for name in ["GitHub ops", "AWS root"] {
        sandbox.ok(&[&me[..], &["add", name]].concat(), "JBSWY3DPEHPK3PXP");
    }
    for args in [
        &["code", "githbu"][..],
        &["rm", "githbu", "-y"],
        &["rename", "githbu", "x"],
        &["edit", "githbu", "--digits", "8"],
    ] {
        let out = sandbox.run(&[&me[..], args].concat(), "");
        assert_ne!(out.code, 0, "{args:?}: {out:?}");
        assert!(
            out.stderr
                .contains("teamotp: hint: did you mean 'GitHub ops'?"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

/// Regression (issue 21): run where no vault is found while the configured one is missing, the error
/// named only a path; it now lists the configured vaults and says how teamotp looks, in one hint.
#[test]
fn the_missing_vault_error_lists_the_configured_vaults_and_explains_discovery() {
    let sandbox = Sandbox::new("teamotp-newcomer-");
    sandbox.write(
        "home/.config/teamotp/config.toml",
        "default = \"team\"\n[vaults.team]\nfile = \"/nonexistent/team/otp.csv.age\"\n\
         [vaults.infra]\nfile = \"/nonexistent/infra.age\"\n",
    );
    let out = sandbox.run(&["list"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("teamotp: error: no vault at '/nonexistent/team/otp.csv.age'"),
        "{}",
        out.stderr
    );
    let hints: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("looks in the directory it runs in"))
        .collect();
    assert_eq!(hints.len(), 1, "{}", out.stderr);
    assert!(
        hints[0]
            .contains("'infra' (/nonexistent/infra.age), 'team' (/nonexistent/team/otp.csv.age)"),
        "{}",
        hints[0]
    );
    assert!(hints[0].contains(".age-recipients"), "{}", hints[0]);
    // -f names the vault itself: no discovery hint.
    let out = sandbox.run(&["-f", "gone.age", "list"], "");
    assert!(
        !out.stderr.contains("looks in the directory"),
        "{}",
        out.stderr
    );
}
