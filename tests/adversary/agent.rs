//! Attacks: agent deadlines and its socket (issue 20, finding 6; see tests/adversary.rs). Any process of
//! the user could send an `Add` with no keys and push the lock to 366 days; without `$XDG_RUNTIME_DIR` the
//! socket was always `/tmp/teamotp-UID/agent.sock`, so another local user who made that directory first
//! kept the agent from ever starting. (A request answered after the deadline, when a laptop resumed from
//! suspend before the agent's watcher woke, is pinned by the unit test
//! `agent::server::tests::no_request_is_answered_after_the_deadline`: a stop and resume cannot be
//! timed from here so that the old watcher reliably loses the race.)
//!
//! Against the code before the fix: the empty `Add` moved `locks in` from 1 minute to 366 days; with
//! `/tmp/teamotp-0` made by `nobody`, `unlock` failed with "the agent's directory '/tmp/teamotp-0'
//! belongs to uid 65534". A first version of the fix still failed the test's second half (the name of a
//! stopped agent's directory, visible in /tmp, taken by `nobody` with a file at the socket's name: the
//! next `unlock` refused it instead of making a new one).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;

use crate::support::*;

const ME: &str = "keys/x25519.key";

/// Stops the sandbox's agent when dropped.
struct Stop<'a>(&'a Sandbox);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["lock"], "");
    }
}

/// `locks in` of `agent status`, in seconds.
fn locks_in(sb: &Sandbox) -> u64 {
    let status = sb
        .run(&["agent", "status"], "")
        .expect_code(0, "agent status");
    let text = status
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("locks in "))
        .unwrap_or_else(|| panic!("no deadline: {}", status.stdout))
        .to_owned();
    // `14m 58s`, `8h 00m` or `9s`
    let mut secs = 0;
    for part in text.split(' ') {
        let (n, unit) = part.split_at(part.len() - 1);
        let n: u64 = n.parse().unwrap();
        secs += n * match unit {
            "h" => 3600,
            "m" => 60,
            _ => 1,
        };
    }
    secs
}

/// One request over the agent's socket, as any process of the user can send it.
fn send(socket: &Path, request: &teamotp::agent::protocol::Request) -> Vec<u8> {
    let mut stream = UnixStream::connect(socket).unwrap();
    let body = request.encode();
    stream
        .write_all(&teamotp::agent::protocol::frame(&body))
        .unwrap();
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).unwrap();
    let len = teamotp::agent::protocol::frame_len(prefix).unwrap();
    let mut answer = vec![0u8; len];
    stream.read_exact(&mut answer).unwrap();
    answer
}

#[test]
fn an_add_without_keys_does_not_extend_the_lock() {
    let sb = Sandbox::new("teamotp-adv-agent-");
    std::fs::create_dir(sb.path("run")).unwrap();
    set_mode(&sb.path("run"), 0o700);
    let socket = sb.path("run/agent.sock");
    let sb = sb.with_env("TEAMOTP_AGENT_SOCK", &socket);
    sb.run(&["-i", ME, "unlock", "--timeout", "1m"], "")
        .expect_code(0, "unlock");
    let _stop = Stop(&sb);
    assert!(locks_in(&sb) <= 60);
    send(
        &socket,
        &teamotp::agent::protocol::Request::Add {
            timeout_secs: 366 * 86_400,
            items: Vec::new(),
        },
    );
    let after = locks_in(&sb);
    assert!(after <= 60, "an empty Add moved the lock to {after} s");
}

#[test]
fn another_user_cannot_squat_the_agents_directory_without_a_runtime_directory() {
    if !rustix::process::geteuid().is_root() {
        println!(
            "skipped: needs root to act as a second user (nobody) and to mount a private /tmp"
        );
        return;
    }
    if Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .map_or(true, |s| !s.success())
    {
        println!("skipped: 'unshare -m' is not available here (a private /tmp is needed)");
        return;
    }
    // Not named teamotp-...: the script lists /tmp/teamotp-*.
    let sb = Sandbox::new("adv-agent-");
    let fake = sb.path("tmp");
    let name = sb.root().file_name().unwrap().to_str().unwrap().to_owned();
    std::fs::create_dir_all(fake.join(&name)).unwrap();
    set_mode(&fake, 0o1777);
    // The binary runs from inside the sandbox: a checkout under /tmp (where CI may clone) disappears
    // behind the private /tmp below.
    let bin = sb.root().join("teamotp");
    std::fs::copy(BIN, &bin).unwrap();
    // In a mount namespace of its own: the sandbox stays where it is, /tmp is a fresh folder where
    // `nobody` makes /tmp/teamotp-0 (the old fixed name) before the user runs `unlock`.
    let script = format!(
        r#"set -u
mount --bind "{root}" "{fake}/{name}" || exit 99
mount --rbind "{fake}" /tmp || exit 99
cd "{root}"
setpriv --reuid=65534 --regid=65534 --clear-groups mkdir -m 700 /tmp/teamotp-0 || exit 98
export HOME="{home}"
"{bin}" -i {me} unlock </dev/null; echo "unlock=$?"
"{bin}" agent status; echo "status=$?"
ls -d /tmp/teamotp-*
"{bin}" lock; echo "lock=$?"
ls -d /tmp/teamotp-*
# The old directory's name was visible in /tmp: nobody takes it once the agent removed it, with
# something at the socket's name.
old=$(dirname "$(cat "$HOME/.local/state/teamotp/agent-socket")")
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "mkdir -m 755 '$old' && touch '$old/agent.sock'" \
    || exit 97
"{bin}" -i {me} unlock </dev/null; echo "again=$?"
"{bin}" agent status | grep '^socket'
"{bin}" lock; echo "lock=$?"
"#,
        root = sb.root().display(),
        fake = fake.display(),
        home = sb.home().display(),
        bin = bin.display(),
        me = ME,
    );
    let output = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("unlock=0\n"), "{stdout}\n{stderr}");
    assert!(stdout.contains("status=0\n"), "{stdout}\n{stderr}");
    // The agent made a directory of its own with an unpredictable name, found through the state
    // directory's pointer, and removed it when it stopped.
    let socket = stdout
        .lines()
        .find_map(|l| l.strip_prefix("socket "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(socket.starts_with("/tmp/teamotp-"), "{socket}");
    assert!(!socket.starts_with("/tmp/teamotp-0/"), "{socket}");
    let pointer = sb.home().join(".local/state/teamotp/agent-socket");
    assert!(pointer.is_file());
    assert!(stdout.contains("lock=0\n/tmp/teamotp-0\n"), "{stdout}");
    // A stale pointer to a directory someone else made since is no agent: a new directory is made.
    assert!(stdout.contains("again=0\n"), "{stdout}\n{stderr}");
    let second = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("socket "))
        .nth(1)
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        second.starts_with("/tmp/teamotp-") && second != socket,
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(pointer).unwrap(),
        format!("{second}\n")
    );
    assert!(stdout.ends_with("lock=0\n"), "{stdout}");
}
