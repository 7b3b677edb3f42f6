//! Attacks on how teamotp touches files (`src/files/`, `src/vault/store.rs`): planted links, swapped
//! temporary files, parallel writers, links to the vault, endless or huge inputs, and the backup a removed
//! member could still open.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
#[cfg(target_os = "linux")]
use std::sync::Arc;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;

/// The uid a second, hostile user runs as (where the tests run as root).
const NOBODY: u32 = 65534;

/// Secrets added by these tests (public test values).
const SECRET: &str = "JBSWY3DPEHPK3PXP";

/// `teamotp -f VAULT -i keys/x25519.key ARGS...`.
fn me<'a>(vault: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["-f", vault, "-i", "keys/x25519.key"];
    all.extend_from_slice(args);
    all
}

/// A sandbox with a fresh vault at `vault` (made by `init`, which also pins its recipients).
fn with_vault(vault: &str) -> Sandbox {
    let sb = Sandbox::new("teamotp-adv-files-");
    sb.ok(&me(vault, &["init"]), "");
    sb
}

/// The account names `list --format csv` shows.
fn names(sb: &Sandbox, vault: &str) -> Vec<String> {
    let out = sb.ok(&me(vault, &["--at", AT, "list", "--format", "csv"]), "");
    let mut names: Vec<String> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// `setpriv` dropping to `nobody`, when the tests run as root and util-linux has it.
fn as_nobody() -> Option<Command> {
    if !is_root() {
        eprintln!("skipped the second-uid part: the tests do not run as root (setpriv needs root)");
        return None;
    }
    let Some(setpriv) = find_program("setpriv") else {
        eprintln!("skipped the second-uid part: setpriv (util-linux) is not installed");
        return None;
    };
    let mut cmd = Command::new(setpriv);
    cmd.args([
        format!("--reuid={NOBODY}"),
        format!("--regid={NOBODY}"),
        "--clear-groups".into(),
    ]);
    Some(cmd)
}

/// The last pid the kernel handed out (Linux).
fn last_pid() -> u32 {
    fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(1)
}

#[test]
fn links_planted_for_temporary_names_never_redirect_a_write() {
    // Attack (issue 9, item 2): in a group-writable shared folder a teammate plants symlinks under every
    // temporary name the victim's next `members add` may use; the old writer (`NAME.PID.tmp` through
    // `fs::write` and `set_permissions`) followed one and overwrote the victim's ~/.bashrc.
    let sb = Sandbox::new("teamotp-adv-files-");
    let shared = sb.path("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
    sb.ok(&me("shared/v.age", &["init"]), "");
    let bashrc = sb.write("home/.bashrc", "echo hello\n");
    set_mode(&bashrc, 0o600);

    // Links for the next few thousand pids, made without starting a process per link (which would use
    // up the very pids being guessed); owned by `nobody` where the tests run as root.
    let first = last_pid() + 1;
    for pid in first..first + 3000 {
        let link = shared.join(format!(".age-recipients.{pid}.tmp"));
        symlink(&bashrc, &link).unwrap();
        if is_root() {
            rustix::fs::chownat(
                rustix::fs::CWD,
                &link,
                Some(rustix::process::Uid::from_raw(NOBODY)),
                Some(rustix::process::Gid::from_raw(NOBODY)),
                rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
            )
            .unwrap();
        }
    }

    let other = age_public("other.key");
    let out = sb.run(
        &me(
            "shared/v.age",
            &["members", "add", &other, "--name", "Otto"],
        ),
        "",
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(fs::read_to_string(&bashrc).unwrap(), "echo hello\n");
    assert_eq!(
        fs::metadata(&bashrc).unwrap().permissions().mode() & 0o777,
        0o600,
        "the victim's file keeps its mode"
    );
    let recipients = fs::symlink_metadata(shared.join(".age-recipients")).unwrap();
    assert!(
        recipients.is_file(),
        "the recipients file is a regular file"
    );
    assert!(sb.read("shared/.age-recipients").contains(&other));
}

#[test]
fn a_teammates_link_in_place_of_the_recipients_file_is_not_written_through() {
    // The same teammate replaces `.age-recipients` itself with a link to the victim's file: a write must
    // not follow a link someone else owns.
    let Some(mut nobody) = as_nobody() else {
        return;
    };
    let sb = Sandbox::new("teamotp-adv-files-");
    let shared = sb.path("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
    sb.ok(&me("shared/v.age", &["init"]), "");
    let profile = sb.write("home/.profile", "# mine\n");
    let text = sb.read("shared/.age-recipients");
    fs::write(&profile, &text).unwrap();
    let link = shared.join(".age-recipients");
    fs::remove_file(&link).unwrap();
    let status = nobody
        .arg("ln")
        .arg("-s")
        .arg(&profile)
        .arg(&link)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(fs::symlink_metadata(&link).unwrap().uid(), NOBODY);

    let out = sb.run(
        &me(
            "shared/v.age",
            &["members", "add", &age_public("other.key")],
        ),
        "",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("is a symbolic link owned by another user"),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read_to_string(&profile).unwrap(), text);
}

#[test]
fn parallel_adds_lose_no_account() {
    // Attack (item 3): two teammates add at the same moment. The old hash check, backup and rename were not
    // one critical section: both reported success and one account was gone.
    let sb = with_vault("v.age");
    let spawn = |name: &str| -> Child {
        sb.detached(me("v.age", &["add", name]))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{SECRET}\n").as_bytes())?;
                Ok(child)
            })
            .unwrap()
    };
    let mut expected = Vec::new();
    for round in 0..20 {
        let (a, b) = (format!("r{round:02}a"), format!("r{round:02}b"));
        let children = [spawn(&a), spawn(&b)];
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        expected.extend([a, b]);
    }
    assert_eq!(names(&sb, "v.age"), expected);
    assert!(!sb.path("v.age.lock").exists(), "the lock file goes away");
}

#[test]
fn a_busy_vault_names_its_writer_and_waits_for_it() {
    let sb = with_vault("v.age");
    let target = teamotp::files::Target::resolve(&sb.path("v.age")).unwrap();
    let holder = teamotp::files::Holder {
        user: "alice".into(),
        host: "build-01".into(),
        pid: 4242,
        since: 1_700_000_000,
    };
    let lock = teamotp::files::Lock::acquire(&target, &holder, Duration::ZERO, &mut |_| {})
        .expect("the test takes the lock");
    let before = fs::read(sb.path("v.age")).unwrap();
    let mut cmd = sb.detached(me("v.age", &["add", "AWS"]));
    cmd.env("TEAMOTP_LOCK_TIMEOUT", "1");
    let out = execute(cmd, format!("{SECRET}\n").as_bytes());
    assert_eq!(
        out,
        Out::new(
            2,
            "",
            "teamotp: waiting for alice@build-01 (pid 4242, since 22:13:20 UTC) to finish writing 'v.age'\n\
             teamotp: error: 'v.age' is being written by alice@build-01 (pid 4242, since 22:13:20 UTC) \
             (waited 1 s)\n\
             teamotp: hint: run the command again when it is done; a lock whose process has ended is \
             released at once\n"
        )
    );
    assert_eq!(fs::read(sb.path("v.age")).unwrap(), before);
    drop(lock);
    sb.ok(&me("v.age", &["add", "AWS"]), &format!("{SECRET}\n"));
}

// inotify is Linux's.
#[cfg(target_os = "linux")]
#[test]
fn a_temporary_file_swapped_for_a_link_is_never_written_through() {
    // Attack (item 4): the vault's temporary file was created exclusively but then opened again by name
    // for writing and for the read-back; a watcher swapped it for a link between the two, and `rekey` wrote
    // ciphertext over another file of the victim. Now every byte goes through the descriptor made by the
    // exclusive create, inside a private directory: a swap is caught and nothing is written anywhere else.
    use rustix::fs::inotify;
    let sb = with_vault("v.age");
    sb.ok(&me("v.age", &["add", "AWS"]), &format!("{SECRET}\n"));
    let victim = sb.write("home/notes.txt", "precious\n");
    let dir = sb.root().to_path_buf();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK).unwrap();
    inotify::add_watch(&fd, &dir, inotify::WatchFlags::CREATE).unwrap();
    let watcher = {
        let (stop, swaps, victim, dir) = (stop.clone(), swaps.clone(), victim.clone(), dir.clone());
        std::thread::spawn(move || {
            let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
            let mut reader = inotify::Reader::new(&fd, &mut buf);
            while !stop.load(Ordering::Relaxed) {
                let name = match reader.next() {
                    Ok(event) => event.file_name().map(|n| n.to_string_lossy().into_owned()),
                    Err(_) => {
                        std::thread::yield_now();
                        continue;
                    }
                };
                let Some(name) = name.filter(|n| n.starts_with(".v.age") && n.ends_with(".tmp"))
                else {
                    continue;
                };
                let temp = dir.join(&name);
                if fs::rename(&temp, dir.join("stolen.tmp")).is_ok()
                    && symlink(&victim, &temp).is_ok()
                {
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let mut outcomes = Vec::new();
    for _ in 0..15 {
        let out = sb.run(&me("v.age", &["rekey"]), "");
        outcomes.push(out.code);
        if out.code != 0 {
            // Caught: said, and nothing changed.
            assert!(
                out.stderr
                    .contains("another process replaced teamotp's temporary"),
                "{out:?}"
            );
        }
        assert_eq!(
            fs::read_to_string(&victim).unwrap(),
            "precious\n",
            "the victim's file is untouched: {out:?}"
        );
        // Whatever happened, the vault still opens and holds the account.
        assert_eq!(names(&sb, "v.age"), ["AWS"]);
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert!(
        swaps.load(Ordering::Relaxed) > 0,
        "the watcher swapped at least one temporary file ({outcomes:?})"
    );
}

#[test]
fn a_vault_reached_through_our_link_is_written_in_place_and_the_link_stays() {
    // Item 7: `~/.config/teamotp/secrets.csv.age` linked to the team repository. The old rename replaced
    // the link with a regular file: the team copy silently forked.
    let sb = with_vault("team/v.age");
    let config = sb.path("home/.config/teamotp");
    fs::create_dir_all(&config).unwrap();
    let link = config.join("secrets.csv.age");
    symlink(sb.path("team/v.age"), &link).unwrap();
    let mut cmd = sb.detached(["-i", "keys/x25519.key", "add", "AWS"]);
    cmd.env("HOME", sb.home());
    let out = execute(cmd, format!("{SECRET}\n").as_bytes());
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(names(&sb, "team/v.age"), ["AWS"]);
    assert!(
        sb.path("team/v.age.bak").is_file(),
        "the backup is beside the real file"
    );
    assert!(!config.join("secrets.csv.age.bak").exists());
}

/// Runs with a short timeout: an old teamotp blocked forever on a FIFO.
fn run_briefly(sb: &Sandbox, args: &[&str]) -> Out {
    let output = assert_cmd::Command::from_std(sb.detached(args))
        .timeout(Duration::from_secs(20))
        .write_stdin(Vec::new())
        .output()
        .unwrap();
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn mkfifo(path: &Path) -> PathBuf {
    // macOS has no mknodat in rustix: the mkfifo tool there.
    #[cfg(not(target_os = "linux"))]
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
    #[cfg(target_os = "linux")]
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    path.to_owned()
}

#[test]
fn endless_and_huge_inputs_are_refused_at_once() {
    // Item 8: `-f /dev/zero` grew until the machine ran out of memory; a FIFO hung forever.
    let sb = with_vault("v.age");
    mkfifo(&sb.path("fifo"));
    let huge = fs::File::create(sb.path("huge.age")).unwrap();
    huge.set_len(teamotp::files::READ_LIMIT + 1).unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["-f", "/dev/zero", "list"],
            "teamotp: error: cannot read '/dev/zero': it is a device, not a regular file\n",
        ),
        (
            &["-f", "fifo", "list"],
            "teamotp: error: cannot read 'fifo': it is a FIFO (named pipe), not a regular file\n",
        ),
        (
            &["-f", "huge.age", "list"],
            "teamotp: error: cannot read 'huge.age': it is larger than 64 MiB, the most teamotp reads\n",
        ),
        (
            &["-f", "v.age", "-i", "fifo", "list"],
            "teamotp: error: cannot read identity file 'fifo': it is a FIFO (named pipe), not a regular file\n",
        ),
        (
            &["-f", "v.age", "-i", "/dev/zero", "list"],
            "teamotp: error: cannot read identity file '/dev/zero': it is a device, not a regular file\n",
        ),
        (
            &["-f", "v.age", "-i", "keys/x25519.key", "import", "fifo"],
            "teamotp: error: cannot read fifo: it is a FIFO (named pipe), not a regular file\n",
        ),
        (
            &[
                "-f",
                "v.age",
                "-i",
                "keys/x25519.key",
                "import",
                "/dev/zero",
            ],
            "teamotp: error: cannot read /dev/zero: it is a device, not a regular file\n",
        ),
    ];
    for (args, stderr) in cases {
        let out = run_briefly(&sb, args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.starts_with(stderr), "{args:?}: {}", out.stderr);
    }
    // The recipients file too.
    fs::remove_file(sb.path(".age-recipients")).unwrap();
    mkfifo(&sb.path(".age-recipients"));
    let out = run_briefly(&sb, &me("v.age", &["members"]));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("it is a FIFO (named pipe), not a regular file"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_backup_does_not_open_with_a_removed_members_key() {
    // Item 8: after `members rm`, VAULT.bak still held the previous ciphertext, which the removed member's
    // key opened.
    let sb = with_vault("v.age");
    sb.ok(&me("v.age", &["add", "AWS"]), &format!("{SECRET}\n"));
    sb.ok(
        &me(
            "v.age",
            &["members", "add", &age_public("other.key"), "--name", "Otto"],
        ),
        "",
    );
    let out = sb.ok(&me("v.age", &["members", "rm", "Otto", "--yes"]), "");
    assert!(
        out.stderr.contains("v.age.bak"),
        "members rm says what happened to the backup: {}",
        out.stderr
    );
    for file in ["v.age", "v.age.bak"] {
        let out = sb.run(&["-f", file, "-i", "keys/other.key", "list"], "");
        assert_eq!(
            out.code, 2,
            "{file} must not open with the removed key: {out:?}"
        );
        let out = sb.run(&me(file, &["--at", AT, "list", "--format", "csv"]), "");
        assert_eq!(out.code, 0, "{file} opens with a remaining key: {out:?}");
    }
}
