//! Secret hygiene, parts 2 and 4: while the TUI runs, its command line, its environment and everything it
//! writes to the terminal hold no secret; the process has a zero core-size limit and is non-dumpable,
//! already while it waits for the passphrase (before anything is decrypted) and while the TUI runs.
//!
//! What the tests share (canaries, the leak check, the sandbox, keys and vaults) is in
//! tests/support/hygiene.rs, with the rules every run follows.

mod support;

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use expectrl::process::unix::WaitStatus;
use tempfile::TempDir;

use support::hygiene::*;
use support::pty::{Term, script_command};
use support::{find_program, strings};

// ---------------------------------------------------------------------------------------------------------
// 2 and 4. The running TUI: command line, environment, terminal output, core limit, dumpability
// ---------------------------------------------------------------------------------------------------------

/// `sh -c` script on the pty: `$1` rows, `$2` columns, `$3` the PID file. It waits for a line from the
/// test (the pty library sets its default size after the child started), sets the size, raises the
/// core-size limit as far as it may (so a zero limit is teamotp's doing) and records it in `$3.core`,
/// then an inner `sh` writes its PID and `exec`s the rest of the arguments (teamotp, or `setpriv ...
/// teamotp`), which keep that PID.
const PTY_SCRIPT: &str = r#"
rows=$1 cols=$2 pidfile=$3
shift 3
read -r go || exit 96
stty sane rows "$rows" cols "$cols" || exit 97
ulimit -c unlimited 2>/dev/null || ulimit -S -c "$(ulimit -H -c)" 2>/dev/null
echo "$(ulimit -S -c) $(ulimit -H -c)" > "$pidfile.core"
sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@"
echo "status=$?"
"#;

/// A program running on a pseudo-terminal, with everything it wrote kept and the screen parsed.
struct Pty {
    term: Term,
    /// The screen each time a wait ended.
    screens: Vec<String>,
    pidfile: PathBuf,
}

impl Pty {
    /// Starts `ARGV` through [`PTY_SCRIPT`] on a 30x120 pty with only `env` in the environment
    /// (`TERM=xterm-256color` and `PATH` added).
    fn start(pidfile: &Path, env: &[(&str, &Path)], argv: &[&std::ffi::OsStr]) -> Pty {
        let (rows, cols) = (30u16, 120u16);
        let mut command = script_command(PTY_SCRIPT, rows, cols);
        command.envs(env.iter().copied()).arg(pidfile).args(argv);
        Pty {
            term: Term::spawn(command, rows, cols),
            screens: Vec::new(),
            pidfile: pidfile.to_owned(),
        }
    }

    fn contents(&self) -> String {
        self.term.screen().contents()
    }

    /// Waits until the screen's text satisfies `done`.
    fn wait_for(&mut self, what: &str, done: impl Fn(&str) -> bool) {
        self.term.wait_until(
            PTY_TIMEOUT,
            what,
            |term| done(&term.screen().contents()),
            |term| format!("screen:\n{}", term.screen().contents()),
        );
        self.screens.push(self.contents());
    }

    /// Waits, without sleeping, until the terminal output holds `needle`: for acting the moment it shows.
    fn spin_until(&mut self, needle: &str) {
        let start = Instant::now();
        while !String::from_utf8_lossy(&self.term.seen).contains(needle) {
            assert!(
                start.elapsed() < PTY_TIMEOUT && !self.term.eof,
                "timed out waiting for {needle:?}; screen:\n{}",
                self.contents()
            );
            self.term.pump();
            std::thread::yield_now();
        }
    }

    /// Waits until the terminal no longer echoes input (a hidden prompt is reading).
    fn wait_for_echo_off(&mut self) {
        self.term.wait_for_echo_off(PTY_TIMEOUT);
    }

    fn send(&mut self, bytes: &[u8]) {
        self.term.send(bytes);
    }

    /// The PID the inner shell wrote (the process that became teamotp).
    fn pid(&self) -> u32 {
        let start = Instant::now();
        loop {
            let text = fs::read_to_string(&self.pidfile).unwrap_or_default();
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
            assert!(start.elapsed() < PTY_TIMEOUT, "no PID file");
            std::thread::sleep(POLL);
        }
    }

    /// The core-size limit (soft, hard) the script set before starting teamotp.
    fn core_before(&self) -> String {
        fs::read_to_string(self.pidfile.with_extension("core"))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    /// Waits for the run to end and returns teamotp's exit status.
    fn finish(mut self) -> (Option<i32>, Vec<u8>, Vec<String>) {
        self.term.wait_for_end(PTY_TIMEOUT, |term| {
            format!("screen:\n{}", term.screen().contents())
        });
        match self.term.session.get_process().wait().unwrap() {
            WaitStatus::Exited(_, 0) => {}
            other => panic!("the script failed: {other:?}; screen:\n{}", self.contents()),
        }
        let contents = self.contents();
        let status = contents
            .lines()
            .find_map(|line| line.trim().strip_prefix("status="))
            .and_then(|s| s.parse().ok());
        self.screens.push(contents);
        (status, self.term.seen, self.screens)
    }
}

/// The `Max core file size` limits (soft, hard) of a process.
fn core_limits(pid: u32) -> (String, String) {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_else(|| panic!("no core limit in:\n{limits}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[4].to_owned(), words[5].to_owned())
}

/// The `Uid:` line of a process's status (real, effective, saved, filesystem).
fn status_uids(pid: u32) -> String {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .map(|u| u.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Who owns `/proc/PID/status`: root for a non-dumpable process, else the process's user.
fn proc_owner(pid: u32) -> u32 {
    fs::metadata(format!("/proc/{pid}/status")).unwrap().uid()
}

/// A code grouped as the TUI shows it (`123 456`).
fn grouped(code: &str) -> String {
    let (a, b) = code.split_at(code.len() / 2);
    format!("{a} {b}")
}

/// The current and next code of `name` at [`AT`], as `list --format csv` prints them.
fn codes_at(sandbox: &Sandbox, base: &[&str], name: &str) -> Vec<String> {
    let mut args = strings(&["--at", AT]);
    args.extend(strings(base));
    args.extend(strings(&["list", "--format", "csv", name]));
    let run = sandbox.run(&args, b"");
    assert_eq!(run.code, Some(0), "{run}");
    let line = run.stdout.lines().nth(1).unwrap_or_else(|| panic!("{run}"));
    let header: Vec<&str> = run.stdout.lines().next().unwrap().split(',').collect();
    let cells: Vec<&str> = line.split(',').collect();
    ["curr", "next"]
        .iter()
        .map(|column| {
            let index = header.iter().position(|h| h == column).unwrap();
            cells[index].to_owned()
        })
        .collect()
}

/// The TUI's vault: valid rows (one of them Steam) and invalid rows, each with its own canary.
fn tui_csv() -> String {
    let s = secret;
    format!(
        "name,issuer,secret,digits,period,algorithm,type\n\
         alpha,Acme,{},,,,\n\
         bravo,,{},8,60,SHA256,\n\
         steam,,{},,,,steam\n\
         badchar,,{}8,,,,\n\
         {}\n\
         toomany,,{},,,,,surplus\n",
        s("tui-alpha"),
        spaced_lower(&s("tui-bravo")),
        s("tui-steam"),
        s("tui-badchar"),
        s("tui-lone"),
        s("tui-toomany"),
    )
}

/// True when the screen shows `name`'s current or next code (the TUI's clock runs on from [`AT`]).
fn shows_codes(screen: &str, name: &str, codes: &[String]) -> bool {
    screen.lines().any(|line| {
        line.trim_start().starts_with(name) && codes.iter().any(|c| line.contains(&grouped(c)))
    })
}

#[test]
fn the_running_tui_shows_no_secret_in_its_command_line_environment_or_terminal() {
    let sandbox = Sandbox::new();
    let (me, _) = new_key();
    let key = sandbox.write("me.key", identity_text(&me), 0o600);
    let vault = sandbox.write("tui.age", encrypt_to(&me, tui_csv().as_bytes()), 0o600);
    let codes = codes_at(&sandbox, &["-f", "tui.age", "-i", "me.key"], "alpha");
    let home = sandbox.path("home");
    let argv: [&std::ffi::OsStr; 7] = [
        BIN.as_ref(),
        "--at".as_ref(),
        AT.as_ref(),
        "-f".as_ref(),
        vault.as_os_str(),
        "-i".as_ref(),
        key.as_os_str(),
    ];
    let mut pty = Pty::start(&sandbox.path("pid"), &[("HOME", &home)], &argv);
    pty.wait_for("alpha's code", |screen| {
        shows_codes(screen, "alpha", &codes)
    });
    let pid = pty.pid();

    // The process's command line and environment.
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(
        cmdline.contains("--at") && cmdline.contains("tui.age"),
        "{cmdline}"
    );
    assert_eq!(leaks(&cmdline, &[]), Vec::<String>::new(), "{cmdline}");
    match fs::read(format!("/proc/{pid}/environ")) {
        Ok(environ) => {
            let environ = String::from_utf8_lossy(&environ).replace('\0', "\n");
            assert!(environ.contains("TERM=xterm-256color"), "{environ}");
            assert_eq!(leaks(&environ, &[]), Vec::<String>::new(), "{environ}");
        }
        // Non-dumpable: /proc/PID/environ belongs to root, and only root reads it.
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            assert!(!rustix::process::geteuid().is_root());
            eprintln!("note: /proc/{pid}/environ is not readable (the process is non-dumpable)");
        }
        Err(e) => panic!("/proc/{pid}/environ: {e}"),
    }
    // The core-size limit, while the TUI runs.
    assert_eq!(
        core_limits(pid),
        ("0".to_owned(), "0".to_owned()),
        "core-size limit before teamotp: {}",
        pty.core_before()
    );

    // Walk over every row (the invalid ones show their reason), open and close the help, filter.
    pty.send(b"jjjjjjj");
    pty.send(b"?");
    pty.wait_for("the help", |screen| {
        screen.contains("Any key closes this help.")
    });
    pty.send(b"x");
    pty.wait_for("the help to close", |screen| {
        !screen.contains("Any key closes this help.")
    });
    pty.send(b"/bad");
    pty.wait_for("the filter", |screen| screen.contains("/bad"));
    pty.send(b"\x1b");
    pty.wait_for("every row", |screen| {
        ["alpha", "bravo", "steam", "badchar", "toomany", "line 6"]
            .iter()
            .all(|name| screen.contains(name))
    });
    pty.send(b"q");
    let (status, raw, screens) = pty.finish();
    assert_eq!(status, Some(0), "{screens:?}");
    assert!(screens.iter().any(|s| s.contains("invalid")), "{screens:?}");

    // Nothing the TUI wrote to the terminal holds a secret: the raw bytes and every screen seen.
    let raw = String::from_utf8_lossy(&raw);
    assert_eq!(
        leaks(&raw, &[]),
        Vec::<String>::new(),
        "terminal output:\n{raw}"
    );
    for screen in &screens {
        assert_eq!(
            leaks(screen, &[]),
            Vec::<String>::new(),
            "screen:\n{screen}"
        );
    }
}

/// True when every directory above `path` lets others in and others may read and run `path`.
fn others_can_run(path: &Path) -> bool {
    let mode = |p: &Path| fs::metadata(p).map(|m| m.mode()).unwrap_or(0);
    mode(path) & 0o005 == 0o005
        && path
            .ancestors()
            .skip(1)
            .all(|dir| dir.as_os_str().is_empty() || mode(dir) & 0o001 != 0)
}

/// A 0755 directory that `nobody` can use: the binary (copied in when `nobody` cannot run the built
/// one), a home, the `me.key` identity owned by `nobody` (0600) and `vault` (0644, encrypted).
struct NobodyDir {
    dir: TempDir,
    bin: PathBuf,
}

impl NobodyDir {
    fn new(identity: &age::x25519::Identity, vault: &[u8]) -> NobodyDir {
        let dir = tempfile::Builder::new()
            .prefix("hygiene-nobody-")
            .tempdir()
            .unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let home = dir.path().join("home");
        fs::create_dir(&home).unwrap();
        fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
        let key = dir.path().join("me.key");
        fs::write(&key, identity_text(identity)).unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        rustix::fs::chown(
            &key,
            Some(rustix::fs::Uid::from_raw(NOBODY)),
            Some(rustix::fs::Gid::from_raw(NOBODY)),
        )
        .unwrap();
        let vault_path = dir.path().join("vault");
        fs::write(&vault_path, vault).unwrap();
        fs::set_permissions(&vault_path, fs::Permissions::from_mode(0o644)).unwrap();
        let bin = if others_can_run(Path::new(BIN)) && others_can_run(dir.path()) {
            PathBuf::from(BIN)
        } else {
            let copy = dir.path().join("teamotp");
            fs::copy(BIN, &copy).unwrap();
            fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
            copy
        };
        NobodyDir { dir, bin }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// `setpriv` arguments that become `nobody` with no supplementary groups.
const AS_NOBODY: [&str; 3] = ["--reuid=65534", "--regid=65534", "--clear-groups"];

/// The method works here: a process `nobody` runs that does not harden itself (`sleep`) is dumpable,
/// so its /proc files belong to `nobody`.
fn assert_dumpable_control(setpriv: &Path) {
    let sleep = find_program("sleep").expect("sleep");
    let mut child = Command::new(setpriv)
        .args(AS_NOBODY)
        .arg(&sleep)
        .arg("30")
        .env_clear()
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    // Wait until setpriv has changed user and exec'd sleep.
    while !(status_uids(pid) == "65534 65534 65534 65534"
        && fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sleep"))
    {
        assert!(
            start.elapsed() < PTY_TIMEOUT,
            "setpriv did not become nobody"
        );
        std::thread::sleep(POLL);
    }
    let owner = proc_owner(pid);
    kill(pid);
    let _ = child.wait();
    assert_eq!(
        owner, NOBODY,
        "control: /proc/PID/status of a dumpable process run by nobody should belong to nobody"
    );
}

#[test]
fn the_running_tui_is_not_dumpable_and_its_core_limit_is_zero() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipped: needs root to run as another user");
        return;
    }
    let setpriv = find_program("setpriv").expect("setpriv (util-linux)");
    assert_dumpable_control(&setpriv);

    let (me, _) = new_key();
    let nobody = NobodyDir::new(&me, &encrypt_to(&me, tui_csv().as_bytes()));
    let sandbox = Sandbox::new();
    fs::copy(nobody.path("me.key"), sandbox.path("me.key")).unwrap();
    fs::copy(nobody.path("vault"), sandbox.path("vault")).unwrap();
    let codes = codes_at(&sandbox, &["-f", "vault", "-i", "me.key"], "alpha");

    let (vault, key, home) = (
        nobody.path("vault"),
        nobody.path("me.key"),
        nobody.path("home"),
    );
    let mut argv: Vec<&std::ffi::OsStr> = vec![setpriv.as_os_str()];
    argv.extend(AS_NOBODY.iter().map(|a| std::ffi::OsStr::new(*a)));
    argv.extend([
        nobody.bin.as_os_str(),
        "--at".as_ref(),
        AT.as_ref(),
        "-f".as_ref(),
        vault.as_os_str(),
        "-i".as_ref(),
        key.as_os_str(),
    ]);
    let mut pty = Pty::start(&sandbox.path("pid"), &[("HOME", &home)], &argv);
    pty.wait_for("alpha's code", |screen| {
        shows_codes(screen, "alpha", &codes)
    });
    let pid = pty.pid();
    let uids = status_uids(pid);
    let owner = proc_owner(pid);
    let limits = core_limits(pid);
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    pty.send(b"q");
    let (status, _, screens) = pty.finish();

    assert_eq!(comm.trim(), "teamotp");
    assert_eq!(
        uids, "65534 65534 65534 65534",
        "setpriv did not make teamotp nobody"
    );
    assert_eq!(
        owner, 0,
        "/proc/{pid}/status belongs to uid {owner}: teamotp (run by nobody) is dumpable"
    );
    assert_eq!(limits, ("0".to_owned(), "0".to_owned()));
    assert_eq!(status, Some(0), "{screens:?}");
}

#[test]
fn the_process_is_hardened_before_it_decrypts_anything() {
    let passphrase = "hygiene passphrase";
    let plaintext = format!("name,secret\nalpha,{}\n", secret("pass-alpha"));
    let vault_bytes = encrypt_with_passphrase(passphrase, plaintext.as_bytes());
    let sandbox = Sandbox::new();
    let (me, _) = new_key();
    let as_root = rustix::process::geteuid().is_root();
    let setpriv = find_program("setpriv");
    // As root, run as nobody (the only way to see dumpability from outside); else as ourselves.
    let nobody = (as_root && setpriv.is_some()).then(|| NobodyDir::new(&me, &vault_bytes));
    let vault = match &nobody {
        Some(nobody) => nobody.path("vault"),
        None => sandbox.write("vault", &vault_bytes, 0o600),
    };
    let home = match &nobody {
        Some(nobody) => nobody.path("home"),
        None => sandbox.path("home"),
    };
    let bin: &Path = nobody.as_ref().map_or(Path::new(BIN), |n| n.bin.as_path());
    let mut argv: Vec<&std::ffi::OsStr> = Vec::new();
    if let (Some(setpriv), Some(_)) = (&setpriv, &nobody) {
        assert_dumpable_control(setpriv);
        argv.push(setpriv.as_os_str());
        argv.extend(AS_NOBODY.iter().map(|a| std::ffi::OsStr::new(*a)));
    }
    argv.extend([
        bin.as_os_str(),
        "--at".as_ref(),
        AT.as_ref(),
        "-f".as_ref(),
        vault.as_os_str(),
    ]);
    let mut pty = Pty::start(&sandbox.path("pid"), &[("HOME", &home)], &argv);
    pty.wait_for("the passphrase prompt", |screen| {
        screen.contains("Passphrase for")
    });
    let pid = pty.pid();
    // Nothing is decrypted yet: teamotp waits for the passphrase.
    let limits_at_prompt = core_limits(pid);
    let owner_at_prompt = proc_owner(pid);
    let uids_at_prompt = status_uids(pid);
    // Type only once echo is off: rpassword shows the prompt first and turns echo off just after, and
    // what is typed in between is echoed (see the report; a person is never that fast).
    pty.wait_for_echo_off();
    pty.send(format!("{passphrase}\n").as_bytes());
    pty.wait_for("the table", |screen| {
        screen.contains("alpha") && screen.contains("Current")
    });
    let limits_running = core_limits(pid);
    let owner_running = proc_owner(pid);
    pty.send(b"q");
    let core_before = pty.core_before();
    let (status, raw, screens) = pty.finish();
    assert_eq!(status, Some(0), "{screens:?}");

    assert_eq!(
        limits_at_prompt,
        ("0".to_owned(), "0".to_owned()),
        "core-size limit at the passphrase prompt (before teamotp: {core_before})"
    );
    assert_eq!(limits_running, ("0".to_owned(), "0".to_owned()));
    if core_before.split_whitespace().all(|l| l == "0") {
        eprintln!("note: the core-size limit was already 0 before teamotp started");
    }
    if nobody.is_some() {
        assert_eq!(uids_at_prompt, "65534 65534 65534 65534");
        assert_eq!(owner_at_prompt, 0, "dumpable at the passphrase prompt");
        assert_eq!(owner_running, 0, "dumpable while the TUI runs");
    } else {
        eprintln!("skipped: needs root to run as another user (dumpability not checked)");
    }
    let raw = String::from_utf8_lossy(&raw);
    assert_eq!(
        leaks(&raw, &[]),
        Vec::<String>::new(),
        "terminal output:\n{raw}"
    );
    assert!(!raw.contains(passphrase), "the passphrase was echoed");
}

/// A passphrase typed (or pasted, or sent by a password manager) the moment the prompt shows is echoed:
/// `tty::prompt_hidden` uses `rpassword::prompt_password`, which writes the prompt and only then turns
/// echo off, so whatever arrives in between is echoed by the terminal (and stays in its scrollback).
/// Observed: echoed in 5 to 8 of 20 runs here (31 of 40 with a plain pty.fork driver). Expected: none,
/// because echo is turned off before the prompt is written.
#[test]
/// Regression: the passphrase prompt is written before echo is turned off; input sent right after it is echoed (src/tty.rs, rpassword)
fn a_passphrase_sent_as_soon_as_the_prompt_shows_is_not_echoed() {
    let passphrase = "hygiene passphrase";
    let plaintext = format!("name,secret\nalpha,{}\n", secret("pass-alpha"));
    let sandbox = Sandbox::new();
    let vault = sandbox.write(
        "vault",
        encrypt_with_passphrase(passphrase, plaintext.as_bytes()),
        0o600,
    );
    let home = sandbox.path("home");
    let runs = 40;
    let mut echoed = 0;
    for run in 0..runs {
        let pidfile = sandbox.path(&format!("pid-{run}"));
        let argv: [&std::ffi::OsStr; 6] = [
            BIN.as_ref(),
            "--at".as_ref(),
            AT.as_ref(),
            "-f".as_ref(),
            vault.as_os_str(),
            "list".as_ref(),
        ];
        let mut pty = Pty::start(&pidfile, &[("HOME", &home)], &argv);
        pty.spin_until("Passphrase for");
        pty.send(format!("{passphrase}\n").as_bytes());
        let (status, raw, screens) = pty.finish();
        assert_eq!(status, Some(0), "{screens:?}");
        if String::from_utf8_lossy(&raw).contains(passphrase) {
            echoed += 1;
        }
    }
    assert_eq!(
        echoed, 0,
        "the passphrase was echoed in {echoed} of {runs} runs"
    );
}
