//! The teamotp agent, end to end: unlock in a pseudo-terminal, then commands with no terminal at all
//! (setsid, stdin /dev/null), git's textconv, lock, the timeout, and the attacks the socket must resist
//! (another uid, a loosened directory, a stale socket, two unlocks at once, secrets in /proc).
//!
//! Every test has a private runtime directory (TEAMOTP_AGENT_SOCK in a tempdir) and a guard that stops
//! the agents it started.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use expectrl::{Eof, Expect, Regex, Session};

use support::{AT, BIN, Sandbox};

const SSH_PASS: &str = "fixture-ssh-pass";
const IDENTITY_PASS: &str = "fixture-identity-pass";
const VAULT_PASS: &str = "fixture-vault-pass";

/// A sandbox (fixtures, an empty home) with its own agent socket; stops its agent when dropped.
struct Agented {
    sandbox: Sandbox,
}

impl Agented {
    fn new() -> Self {
        let sandbox = Sandbox::empty("teamotp-agent-").with_fixtures();
        let bin = sandbox.root().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(BIN, bin.join("teamotp")).unwrap();
        Agented { sandbox }
    }

    fn socket(&self) -> PathBuf {
        self.sandbox.root().join("run").join("agent.sock")
    }

    fn fixture(&self, name: &str) -> PathBuf {
        self.sandbox.fixture(name)
    }

    fn home(&self) -> PathBuf {
        self.sandbox.home()
    }

    /// The passphrase-protected fixture key (`SSH_PASS`) as the default identity, ~/.ssh/id_ed25519.
    fn install_default_ssh_key(&self) {
        let ssh = self.home().join(".ssh").join("id_ed25519");
        self.sandbox.install(&self.fixture("id_ed25519_pw"), &ssh);
    }

    /// teamotp with a clean environment: the sandbox's home, its socket, `teamotp` on PATH.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        self.environment(&mut command);
        command.args(args);
        command
    }

    fn environment(&self, command: &mut Command) {
        let path = format!(
            "{}:/usr/local/bin:/usr/bin:/bin",
            self.sandbox.root().join("bin").display()
        );
        command
            .env_clear()
            .env("HOME", self.home())
            .env("PATH", path)
            .env("TERM", "dumb")
            .env("TEAMOTP_AGENT_SOCK", self.socket());
    }

    /// A command with no terminal: a new session (setsid), stdin /dev/null.
    fn detached(&self, args: &[&str]) -> Output {
        let mut command = Command::new("setsid");
        self.environment(&mut command);
        command
            .arg("-w")
            .arg(BIN)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// teamotp on a pseudo-terminal, answering each passphrase prompt in turn; returns what the terminal
    /// showed and the exit code.
    fn on_pty(&self, args: &[&str], passphrases: &[&str]) -> (String, i32) {
        let mut command = Command::new(BIN);
        self.environment(&mut command);
        command.args(args);
        let mut session = Session::spawn(command).expect("spawn on a pty");
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        let mut text = String::new();
        for passphrase in passphrases {
            let found = session
                .expect(Regex("assphrase[^\n]*: "))
                .unwrap_or_else(|e| panic!("no prompt ({e}); so far: {text}"));
            text.push_str(&String::from_utf8_lossy(found.before()));
            text.push_str(&String::from_utf8_lossy(found.get(0).unwrap()));
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

    /// `teamotp agent status`'s pid, if an agent runs.
    fn pid(&self) -> Option<u32> {
        let out = self.command(&["agent", "status"]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("pid "))
            .and_then(|p| p.trim().parse().ok())
    }

    fn unlock_plain_key(&self, extra: &[&str]) -> Output {
        let key = self.fixture("x25519.key");
        let mut args = vec!["-i", key.to_str().unwrap(), "unlock"];
        args.extend_from_slice(extra);
        let out = self.command(&args).stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "unlock: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Agented {
    fn drop(&mut self) {
        // A test that loosened the directory may have failed before tightening it again.
        if let Some(dir) = self.socket().parent().filter(|d| d.exists()) {
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
        let mut pids = agents_for(&self.socket());
        pids.extend(self.pid());
        let _ = self.command(&["lock"]).output();
        for pid in pids {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).output();
        }
    }
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What the fixtures' vault shows at [`AT`], read with the unencrypted x25519 key and no agent.
fn expected_list(agented: &Agented) -> String {
    let key = agented.fixture("x25519.key");
    let vault = agented.fixture("x25519.csv.age");
    let out = agented
        .command(&[
            "-i",
            key.to_str().unwrap(),
            "-f",
            vault.to_str().unwrap(),
            "--at",
            AT,
            "list",
            "--format",
            "csv",
        ])
        .env("TEAMOTP_NO_AGENT", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    text(&out).0
}

/// 20 commands that each open the vault, none with a terminal.
fn twenty_commands(agented: &Agented, vault: &Path, expected: &str) {
    let v = vault.to_str().unwrap();
    let aws = expected
        .lines()
        .find(|l| l.starts_with("AWS root"))
        .expect("AWS root row")
        .to_owned();
    for round in 0..4 {
        let out = agented.detached(&["-f", v, "--at", AT, "list", "--format", "csv"]);
        assert_eq!(text(&out).0, expected, "round {round}: {}", text(&out).1);
        let out = agented.detached(&["-f", v, "--at", AT, "code", "AWS root"]);
        assert!(out.status.success(), "{}", text(&out).1);
        assert!(
            aws.contains(text(&out).0.trim()),
            "{aws} / {}",
            text(&out).0
        );
        let out = agented.detached(&["-f", v, "check"]);
        assert!(out.status.success(), "{}", text(&out).1);
        let out = agented.detached(&["textconv", v]);
        assert!(
            out.status.success() && text(&out).0.contains("AWS root"),
            "{}",
            text(&out).1
        );
        let out = agented.detached(&["-f", v, "__complete-names"]);
        assert_eq!(text(&out).0, "AWS root\nRoot, production\n");
    }
}

#[test]
fn unlock_an_encrypted_ssh_key_in_a_pty_then_20_commands_without_a_terminal() {
    let agented = Agented::new();
    let expected = expected_list(&agented);
    // The default identity: ~/.ssh/id_ed25519, with a passphrase.
    agented.install_default_ssh_key();
    let vault = agented.fixture("multi.csv.age");

    // Without the agent and without a terminal it cannot be opened, and the hint says what to do.
    let out = agented.detached(&["-f", vault.to_str().unwrap(), "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("teamotp unlock"), "{}", text(&out).1);

    let (shown, code) = agented.on_pty(&["-f", vault.to_str().unwrap(), "unlock"], &[SSH_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Passphrase for SSH key"), "{shown}");
    assert!(shown.contains("ssh-ed25519 AAAA"), "{shown}");
    assert!(shown.contains("it locks in 1"), "{shown}");
    assert!(!shown.contains(SSH_PASS), "{shown}");
    twenty_commands(&agented, &vault, &expected);

    // TEAMOTP_NO_AGENT=1: this one command does without it (and, with no terminal, cannot open the vault).
    let mut command = Command::new("setsid");
    agented.environment(&mut command);
    let out = command
        .env("TEAMOTP_NO_AGENT", "1")
        .args(["-w", BIN, "-f", vault.to_str().unwrap(), "list"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out).1);
}

#[test]
fn unlock_an_age_encrypted_identity_in_a_pty() {
    let agented = Agented::new();
    let expected = expected_list(&agented);
    let identity = agented.fixture("encrypted-identity.age");
    let vault = agented.fixture("enc-identity.csv.age");
    let (shown, code) = agented.on_pty(
        &[
            "-i",
            identity.to_str().unwrap(),
            "unlock",
            "--timeout",
            "8h",
        ],
        &[IDENTITY_PASS],
    );
    assert_eq!(code, 0, "{shown}");
    let public = std::fs::read_to_string(agented.fixture("x25519-enc.pub")).unwrap();
    assert!(shown.contains(public.trim()), "{shown}");
    assert!(
        shown.contains("locks in 8h") || shown.contains("locks in 7h 59m"),
        "{shown}"
    );
    // -i says nothing here: the agent is asked first.
    let out = agented.detached(&[
        "-f",
        vault.to_str().unwrap(),
        "--at",
        AT,
        "list",
        "--format",
        "csv",
    ]);
    assert_eq!(text(&out).0, expected, "{}", text(&out).1);
}

#[test]
fn a_passphrase_vault_opens_and_is_written_through_the_agent() {
    let agented = Agented::new();
    let vault = agented.fixture("passphrase.csv.age");
    let v = vault.to_str().unwrap();
    let (shown, code) = agented.on_pty(&["-f", v, "unlock"], &[VAULT_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("vault passphrase"), "{shown}");
    let started = Instant::now();
    let out = agented.detached(&["-f", v, "--at", AT, "code", "AWS root"]);
    assert!(out.status.success(), "{}", text(&out).1);
    // No scrypt on this side (about 0.7 s): the agent knows this header's file key.
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    let mut add = agented.command(&["-f", v, "add", "new"]);
    add.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = add.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"JBSWY3DPEHPK3PXQ\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    let out = agented.detached(&["-f", v, "code", "new"]);
    assert!(out.status.success(), "{}", text(&out).1);
    // Still a passphrase vault that opens with the passphrase alone, once the agent is gone.
    assert!(
        agented
            .command(&["lock"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let (shown, code) = agented.on_pty(&["-f", v, "list"], &[VAULT_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("new "), "{shown}");
}

#[test]
fn git_log_p_over_5_commits_asks_nothing_after_unlock() {
    let agented = Agented::new();
    agented.install_default_ssh_key();
    let repo = agented.sandbox.root().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let mut command = Command::new("git");
        agented.environment(&mut command);
        let out = command
            .current_dir(&repo)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_PAGER", "cat")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out).1);
        out
    };
    git(&["init", "-q"]);
    let recipient = agented.fixture("id_ed25519_pw.pub");
    for n in 1..=5 {
        let plain = repo.join("plain.csv");
        let mut csv = String::from("name,issuer,secret,digits,period,algorithm,type\n");
        for i in 1..=n {
            csv.push_str(&format!("account{i},,JBSWY3DPEHPK3PXP,,,,\n"));
        }
        std::fs::write(&plain, csv).unwrap();
        let out = Command::new("age")
            .arg("-R")
            .arg(&recipient)
            .arg("-o")
            .arg(repo.join("vault.csv.age"))
            .arg(&plain)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out).1);
        std::fs::remove_file(&plain).unwrap();
        if n == 1 {
            let out = agented
                .command(&["-f", "vault.csv.age", "git-setup"])
                .current_dir(&repo)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", text(&out).1);
            git(&["add", ".gitattributes"]);
        }
        git(&["add", "vault.csv.age"]);
        git(&["commit", "-q", "-m", &format!("version {n}")]);
    }
    let vault = repo.join("vault.csv.age");
    let (shown, code) = agented.on_pty(&["-f", vault.to_str().unwrap(), "unlock"], &[SSH_PASS]);
    assert_eq!(code, 0, "{shown}");
    let mut command = Command::new("setsid");
    agented.environment(&mut command);
    let out = command
        .current_dir(&repo)
        .args(["-w", "git", "log", "-p", "--", "vault.csv.age"])
        .env("GIT_PAGER", "cat")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("assphrase") && !stderr.contains("error"),
        "{stderr}"
    );
    for i in 2..=5 {
        assert!(stdout.contains(&format!("+account{i}")), "{stdout}");
    }
}

#[test]
fn lock_makes_the_next_command_without_a_terminal_fail_with_the_unlock_hint() {
    let agented = Agented::new();
    agented.install_default_ssh_key();
    let vault = agented.fixture("multi.csv.age");
    let v = vault.to_str().unwrap();
    let (shown, code) = agented.on_pty(&["-f", v, "unlock"], &[SSH_PASS]);
    assert_eq!(code, 0, "{shown}");
    assert!(agented.detached(&["-f", v, "list"]).status.success());
    let out = agented.command(&["lock"]).output().unwrap();
    assert!(out.status.success());
    let out = agented.detached(&["-f", v, "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .1
            .contains("hint: or type it once per session: teamotp unlock"),
        "{}",
        text(&out).1
    );
    // lock with no agent running is fine too.
    let out = agented.command(&["lock"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        agented
            .command(&["agent", "status"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_2s_timeout_expires() {
    let agented = Agented::new();
    let out = agented.unlock_plain_key(&["--timeout", "2s"]);
    assert!(
        text(&out).1.contains("it locks in 2s") || text(&out).1.contains("it locks in 1s"),
        "{}",
        text(&out).1
    );
    let vault = agented.fixture("x25519.csv.age");
    let v = vault.to_str().unwrap();
    assert!(agented.detached(&["-f", v, "list"]).status.success());
    assert_eq!(
        agented
            .command(&["agent", "status"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(
        agented
            .command(&["agent", "status"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    assert!(
        !agented.socket().exists(),
        "the background agent removes its socket when it exits"
    );
    let out = agented.detached(&["-f", v, "list"]);
    assert_eq!(out.status.code(), Some(2));
}

/// True when this process can switch to another user (root), else prints why the test is skipped.
fn can_drop_privileges(test: &str) -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let setpriv = Command::new("setpriv").arg("--help").output().is_ok();
    if !root || !setpriv {
        eprintln!("skipping {test}: needs root and setpriv to run a process as another user");
    }
    root && setpriv
}

#[test]
fn another_uid_is_refused_even_with_the_socket_chmod_0666() {
    if !can_drop_privileges("another_uid_is_refused_even_with_the_socket_chmod_0666") {
        return;
    }
    let python = "/usr/bin/python3";
    if !Path::new(python).exists() {
        eprintln!("skipping: needs {python} for a raw socket client");
        return;
    }
    let agented = Agented::new();
    agented.unlock_plain_key(&[]);
    let socket = agented.socket();
    let dir = socket.parent().unwrap();
    // Someone loosened everything: the directories on the way, the agent's directory, the socket.
    for path in [agented.sandbox.root(), dir] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    // A raw client as nobody: an Unwrap-free Status request, then read whatever comes back.
    let script = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
print("connected;", end=" ")
data = b""
try:
    s.sendall(b"\x00\x00\x00\x02\x01\x04")
    s.settimeout(5)
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
except OSError:
    pass  # closed by the agent
print("received", len(data))
"#;
    let out = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            python,
            "-c",
            script,
        ])
        .arg(&socket)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains("connected; received 0"),
        "nobody got an answer: {stdout} {stderr}"
    );
    // teamotp itself as nobody refuses the socket it does not own, before sending anything.
    let mut command = Command::new("setpriv");
    agented.environment(&mut command);
    let out = command
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            BIN,
            "agent",
            "status",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    // The agent is unharmed and still serves its owner once the directory is private again.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(
        agented
            .command(&["agent", "status"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn a_group_writable_socket_directory_is_refused() {
    let agented = Agented::new();
    let dir = agented.socket().parent().unwrap().to_owned();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    let key = agented.fixture("x25519.key");
    let out = agented
        .command(&["-i", key.to_str().unwrap(), "unlock"])
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("accessible by group or others (mode 0770)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: make it private: chmod 700"),
        "{stderr}"
    );
    assert!(!agented.socket().exists());
    // Commands carry on without the agent.
    let vault = agented.fixture("x25519.csv.age");
    let out = agented
        .command(&[
            "-i",
            key.to_str().unwrap(),
            "-f",
            vault.to_str().unwrap(),
            "list",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
}

#[test]
fn a_sigkilled_agents_stale_socket_is_replaced() {
    let agented = Agented::new();
    agented.unlock_plain_key(&[]);
    let first = agented.pid().expect("an agent");
    Command::new("kill")
        .arg("-9")
        .arg(first.to_string())
        .status()
        .unwrap();
    let started = Instant::now();
    while Path::new(&format!("/proc/{first}")).exists()
        && started.elapsed() < Duration::from_secs(5)
    {
        // A zombie until its parent (init) reaps it; the socket file stays behind.
        if std::fs::read_to_string(format!("/proc/{first}/stat")).is_ok_and(|s| s.contains(") Z "))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        agented.socket().exists(),
        "the killed agent's socket is left behind"
    );
    assert_eq!(
        agented
            .command(&["agent", "status"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
    agented.unlock_plain_key(&[]);
    let second = agented.pid().expect("a new agent");
    assert_ne!(first, second);
    let vault = agented.fixture("x25519.csv.age");
    assert!(
        agented
            .detached(&["-f", vault.to_str().unwrap(), "list"])
            .status
            .success()
    );
}

/// The pids of background agents serving this socket (read from /proc).
fn agents_for(socket: &Path) -> Vec<u32> {
    let wanted = format!("TEAMOTP_AGENT_SOCK={}", socket.display());
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
        if has(&cmdline, b"agent\0--background") && has(&environ, wanted.as_bytes()) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn two_concurrent_unlocks_leave_one_agent() {
    let agented = Agented::new();
    let key = agented.fixture("x25519.key");
    let spawn = || {
        agented
            .command(&["-i", key.to_str().unwrap(), "unlock"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", text(&a).1);
    assert!(b.status.success(), "{}", text(&b).1);
    let pid = agented.pid().expect("an agent");
    assert!(text(&a).1.contains(&format!("pid {pid}")), "{}", text(&a).1);
    assert!(text(&b).1.contains(&format!("pid {pid}")), "{}", text(&b).1);
    std::thread::sleep(Duration::from_millis(300));
    if std::fs::read(format!("/proc/{pid}/environ")).is_ok() {
        assert_eq!(agents_for(&agented.socket()), vec![pid]);
    }
}

#[test]
fn no_canary_secret_in_the_agents_proc_files_or_any_output() {
    let agented = Agented::new();
    agented.install_default_ssh_key();
    let vault = agented.fixture("passphrase.csv.age");
    let v = vault.to_str().unwrap();
    let (shown, code) = agented.on_pty(&["-f", v, "unlock"], &[SSH_PASS, VAULT_PASS]);
    assert_eq!(code, 0, "{shown}");
    let pid = agented.pid().expect("an agent");
    let status = agented.command(&["agent", "status"]).output().unwrap();
    let list = agented.detached(&["-f", v, "list"]);
    let mut seen = vec![
        shown.into_bytes(),
        status.stdout,
        status.stderr,
        list.stdout,
        list.stderr,
    ];
    for file in ["cmdline", "environ"] {
        if let Ok(bytes) = std::fs::read(format!("/proc/{pid}/{file}")) {
            seen.push(bytes);
        }
    }
    // The SSH key's private part, too (its base64 body).
    let key = std::fs::read_to_string(agented.fixture("id_ed25519_pw")).unwrap();
    let body_line = key.lines().nth(2).unwrap().to_owned();
    for canary in [SSH_PASS, VAULT_PASS, body_line.as_str()] {
        for bytes in &seen {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "'{canary}' leaked"
            );
        }
    }
    // Nothing but the socket and its lock file in the runtime directory, both empty of secrets.
    let dir = agented.socket().parent().unwrap().to_owned();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(name == "agent.sock" || name == "agent.sock.lock", "{name}");
        if name.ends_with(".lock") {
            assert_eq!(entry.metadata().unwrap().len(), 0);
        }
    }
}

#[test]
fn completion_offers_names_quoted_and_never_a_name_with_control_characters() {
    let agented = Agented::new();
    let vault = agented.sandbox.root().join("plain.csv");
    std::fs::write(
        &vault,
        "name,issuer,secret,digits,period,algorithm,type\n\
         AWS root,,JBSWY3DPEHPK3PXP,,,,\n\
         \"evil\x1b[2J\x07name\",,JBSWY3DPEHPK3PXP,,,,\n\
         it's,,JBSWY3DPEHPK3PXP,,,,\n",
    )
    .unwrap();
    support::set_mode(&vault, 0o600);
    let v = vault.to_str().unwrap();
    let out = agented.detached(&["-f", v, "__complete-names"]);
    assert_eq!(text(&out).0, "AWS root\nit's\n");
    assert_eq!(text(&out).1, "");
    // A vault it cannot read: nothing at all, no prompt, no error on the command line.
    let sealed = agented.fixture("passphrase.csv.age");
    let out = agented.detached(&["-f", sealed.to_str().unwrap(), "__complete-names"]);
    assert_eq!((text(&out).0.as_str(), text(&out).1.as_str()), ("", ""));

    // bash, through the script `teamotp completions bash` prints.
    if Path::new("/bin/bash").exists() {
        let script = format!(
            "source <(teamotp completions bash)\n\
             COMP_WORDS=(teamotp -f '{v}' code ''); COMP_CWORD=4\n\
             _teamotp_accounts teamotp '' code\n\
             printf '[%s]\\n' \"${{COMPREPLY[@]}}\""
        );
        let mut command = Command::new("/bin/bash");
        agented.environment(&mut command);
        let out = command.arg("-c").arg(script).output().unwrap();
        assert_eq!(text(&out).0, "[AWS\\ root]\n[it\\'s]\n", "{}", text(&out).1);
    }
}

/// A write that waits on a question longer than the agent keeps an idle connection open still checks the
/// new file through the agent (the client reconnects).
#[test]
fn a_write_after_a_long_confirmation_still_goes_through_the_agent() {
    let agented = Agented::new();
    // A recipients vault: its write is checked with the identities that read it (here the agent, on the
    // connection the read opened).
    let vault = agented.fixture("x25519.csv.age");
    let v = vault.to_str().unwrap();
    let key = agented.fixture("x25519.key");
    let k = key.to_str().unwrap();
    let public = Command::new("age-keygen")
        .arg("-y")
        .arg(&key)
        .output()
        .unwrap();
    std::fs::write(agented.fixture(".age-recipients"), &public.stdout).unwrap();
    let out = agented
        .command(&["-i", k, "-f", v, "members", "ack", "--yes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out).1);
    agented.unlock_plain_key(&[]);
    let mut command = Command::new(BIN);
    agented.environment(&mut command);
    command.args(["-f", v, "rm", "AWS root"]);
    let mut session = Session::spawn(command).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session.expect(Regex(r"\[y/N\] ")).unwrap();
    std::thread::sleep(Duration::from_secs(11));
    session.send_line("y").unwrap();
    session.expect(Eof).unwrap();
    match session.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => assert_eq!(code, 0),
        other => panic!("{other:?}"),
    }
    let out = agented.detached(&["-f", v, "list", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out).1);
    assert!(!text(&out).0.contains("AWS root"));
}

/// `teamotp agent` in the foreground (a service unit's agent): at the timeout it forgets and keeps
/// running; SIGTERM makes it forget, remove its socket and exit.
#[test]
fn the_foreground_agent_forgets_at_the_timeout_and_stops_on_sigterm() {
    let agented = Agented::new();
    let mut agent = agented
        .command(&["agent"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !agented.socket().exists() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    agented.unlock_plain_key(&["--timeout", "1s"]);
    assert_eq!(
        agented.pid(),
        Some(agent.id()),
        "unlock used the running agent"
    );
    std::thread::sleep(Duration::from_millis(2000));
    let out = agented.command(&["agent", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{:?}", text(&out));
    assert!(text(&out).0.contains("holds nothing"), "{}", text(&out).0);
    assert_eq!(agented.pid(), Some(agent.id()), "still running");
    Command::new("kill")
        .arg("-TERM")
        .arg(agent.id().to_string())
        .status()
        .unwrap();
    let status = agent.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!agented.socket().exists());
}

/// fish and zsh, when installed: `teamotp completions SHELL` completes account names, quoted by the shell.
#[test]
fn fish_and_zsh_complete_account_names() {
    let agented = Agented::new();
    let key = agented.fixture("x25519.key");
    let vault = agented.fixture("x25519.csv.age");
    let (k, v) = (key.to_str().unwrap(), vault.to_str().unwrap());
    let dir = agented.sandbox.root().join("completions");
    std::fs::create_dir(&dir).unwrap();
    for shell in ["fish", "zsh"] {
        let out = agented.command(&["completions", shell]).output().unwrap();
        let name = if shell == "zsh" {
            "_teamotp"
        } else {
            "teamotp.fish"
        };
        std::fs::write(dir.join(name), &out.stdout).unwrap();
    }
    if Command::new("fish").arg("--version").output().is_ok() {
        let mut command = Command::new("fish");
        agented.environment(&mut command);
        let script = format!(
            "source {}; complete -C'teamotp -i {k} -f {v} code '",
            dir.join("teamotp.fish").display()
        );
        let out = command.arg("-c").arg(script).output().unwrap();
        assert_eq!(
            text(&out).0,
            "AWS root\nRoot, production\n",
            "{}",
            text(&out).1
        );
    } else {
        eprintln!("skipping fish: not installed");
    }
    if Command::new("zsh").arg("--version").output().is_ok() {
        // zsh completes only in its line editor: drive an interactive zsh on a zpty.
        let script = format!(
            "zmodload zsh/zpty\n\
             zpty z zsh -f -i\n\
             zpty -w z \"PS1='> '; fpath=({dir} \\$fpath); autoload -U compinit; compinit -u -D\"\n\
             sleep 1\n\
             zpty -w -n z 'teamotp -i {k} -f {v} code A'\n\
             zpty -w -n z $'\\t'\n\
             sleep 2\n\
             while zpty -r -t z line; do print -rn -- \"$line\"; done\n\
             zpty -d z\n",
            dir = dir.display()
        );
        let mut command = Command::new("zsh");
        agented.environment(&mut command);
        let out = command.arg("-f").arg("-c").arg(script).output().unwrap();
        assert!(text(&out).0.contains("code AWS\\ root"), "{:?}", text(&out));
    } else {
        eprintln!("skipping zsh: not installed");
    }
}
