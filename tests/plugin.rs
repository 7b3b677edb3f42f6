//! age plugins end to end (issue 20): a real plugin, `age-plugin-teamotptest` (`tests/plugin/`, built with
//! the `age-plugin` crate that age-plugin-yubikey uses, by the first test that needs it), drives the real
//! teamotp binary through init, add, list, members, the recipients review and `unlock`; and a plugin that
//! hangs, dies in the middle of the protocol or answers garbage stops the command within the plugin
//! timeout with an error that names it, and nothing is written. The Go `age` CLI reads what teamotp wrote
//! through the same plugin, so the protocol is age's, not a private one.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::{AT, BIN, Out, Sandbox, execute, need_program, set_mode};

/// The directory holding `age-plugin-teamotptest`, built once per test run into `target/test-plugin`
/// (its own lock file, `tests/plugin/Cargo.lock`).
fn plugin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // target/debug/teamotp -> target/
        let target = Path::new(BIN)
            .parent()
            .and_then(Path::parent)
            .expect("the binary lives in a target directory")
            .join("test-plugin");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--quiet", "--locked", "--manifest-path"])
            .arg(root.join("tests/plugin/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "building the test plugin failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target.join("debug")
    })
}

/// A sandbox whose commands find the plugin on PATH and log its runs to `plugin.log`.
fn sandbox() -> Sandbox {
    let sb = Sandbox::new("teamotp-plugin-");
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", plugin_dir().display());
    let log = sb.path("plugin.log");
    sb.with_env("PATH", path)
        .with_env("TEAMOTPTEST_LOG", log)
        .with_env("TEAMOTP_PLUGIN_TIMEOUT", "3")
}

/// A new plugin identity in `keys/NAME` (0600); returns its recipient.
fn new_identity(sb: &Sandbox, name: &str) -> String {
    let output = Command::new(plugin_dir().join("age-plugin-teamotptest"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# recipient: "))
        .expect("a recipient line")
        .to_owned();
    assert!(recipient.starts_with("age1teamotptest1"), "{recipient}");
    let path = sb.write(&format!("keys/{name}"), &text);
    set_mode(&path, 0o600);
    recipient
}

/// `teamotp --at AT -i keys/plugin.txt -f v.age ARGS`.
fn with_plugin(sb: &Sandbox, args: &[&str], stdin: &str) -> Out {
    sb.run(
        &[&["--at", AT, "-i", "keys/plugin.txt", "-f", "v.age"], args].concat(),
        stdin,
    )
}

/// The lines the plugin logged: `(state machine, pid, parent pid)`.
fn runs(sb: &Sandbox) -> Vec<(String, u32, u32)> {
    std::fs::read_to_string(sb.path("plugin.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let words: Vec<&str> = l.split(' ').collect();
            (
                words[0].to_owned(),
                words[1].parse().unwrap(),
                words[2].parse().unwrap(),
            )
        })
        .collect()
}

/// The Go `age` CLI decrypting `v.age` with a plugin identity (the plugin on its PATH).
fn go_age_decrypts(sb: &Sandbox, identity: &str) -> String {
    let output = Command::new(need_program("age"))
        .env("PATH", format!("{}:/usr/bin:/bin", plugin_dir().display()))
        .current_dir(sb.root())
        .args(["-d", "-i", identity, "v.age"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "age -d: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

const AWS: &str = "JBSWY3DPEHPK3PXP";
const AWS_LIST: &str = "name,issuer,prev,curr,next,remaining\nAWS,,822542,324550,367665,10\n";

/// A vault encrypted to the plugin key only, holding AWS.
fn plugin_vault(sb: &Sandbox) -> String {
    let recipient = new_identity(sb, "plugin.txt");
    with_plugin(sb, &["init", "-r", &recipient], "").expect_code(0, "init -r PLUGIN-KEY");
    with_plugin(sb, &["add", "AWS"], &format!("{AWS}\n")).expect_code(0, "add AWS");
    recipient
}

#[test]
fn a_plugin_key_goes_through_init_add_list_members_and_the_review() {
    let sb = sandbox();
    let recipient = plugin_vault(&sb);
    let list = with_plugin(&sb, &["list", "--format", "csv"], "").expect_code(0, "list");
    assert_eq!(list.stdout, AWS_LIST);
    let members = with_plugin(&sb, &["members"], "").expect_code(0, "members");
    assert_eq!(members.stdout, format!("plugin:teamotptest  {recipient}\n"));
    // Encrypting and decrypting both went through the plugin, and age reads what teamotp wrote.
    let kinds: Vec<String> = runs(&sb).into_iter().map(|r| r.0).collect();
    assert!(kinds.contains(&"recipient-v1".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"identity-v1".to_owned()), "{kinds:?}");
    assert!(go_age_decrypts(&sb, "keys/plugin.txt").contains(&format!("AWS,,{AWS}")));

    // A teammate adds a second plugin key (a hardware key) to the recipients file: the next write stops
    // and shows the whole key; after `members ack` the vault opens with the new key too.
    let pat = new_identity(&sb, "pat.txt");
    let mut text = sb.read(".age-recipients");
    text.push_str(&format!("# Pat (yubikey)\n{pat}\n"));
    sb.write(".age-recipients", &text);
    let refused = with_plugin(
        &sb,
        &["add", "GitHub"],
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains(&format!("+ {pat}  # Pat (yubikey)")),
        "{}",
        refused.stderr
    );
    let ack = with_plugin(&sb, &["members", "ack", "--yes"], "").expect_code(0, "ack");
    assert!(ack.stderr.contains(&format!("+ {pat}")), "{}", ack.stderr);
    with_plugin(
        &sb,
        &["add", "GitHub"],
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
    )
    .expect_code(0, "add after ack");
    assert!(go_age_decrypts(&sb, "keys/pat.txt").contains("GitHub,,"));
    let members = with_plugin(&sb, &["members"], "").expect_code(0, "members");
    assert_eq!(
        members.stdout,
        format!("plugin:teamotptest  {recipient}\nplugin:teamotptest  {pat}  # Pat (yubikey)\n")
    );
}

#[test]
fn unlock_leaves_a_plugin_identity_with_the_client() {
    let sb = sandbox();
    std::fs::create_dir(sb.path("run")).unwrap();
    set_mode(&sb.path("run"), 0o700);
    let socket = sb.path("run/agent.sock");
    let sb = sb.with_env("TEAMOTP_AGENT_SOCK", socket);
    plugin_vault(&sb);
    let unlock = sb.run(
        &["-i", "keys/x25519.key", "-i", "keys/plugin.txt", "unlock"],
        "",
    );
    // Stop the agent whatever happens below.
    struct Stop<'a>(&'a Sandbox);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            let _ = self.0.run(&["lock"], "");
        }
    }
    let _stop = Stop(&sb);
    let unlock = unlock.expect_code(0, "unlock");
    assert!(
        unlock.stderr.contains(
            "teamotp: 'keys/plugin.txt' holds a plugin identity: it stays with teamotp, which asks \
             the plugin as before"
        ),
        "{}",
        unlock.stderr
    );
    let status = sb
        .run(&["agent", "status"], "")
        .expect_code(0, "agent status");
    let holds: Vec<&str> = status
        .stdout
        .lines()
        .filter(|l| l.starts_with("holds "))
        .collect();
    assert_eq!(holds.len(), 1, "{}", status.stdout);
    assert!(
        holds[0].starts_with("holds keys/x25519.key: age1"),
        "{holds:?}"
    );
    let agent: u32 = status
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("pid "))
        .unwrap()
        .parse()
        .unwrap();
    let before = runs(&sb).len();
    let list = with_plugin(&sb, &["list", "--format", "csv"], "").expect_code(0, "list");
    assert_eq!(list.stdout, AWS_LIST);
    // The plugin ran for this read, started by the client, never by the agent.
    let after = runs(&sb);
    assert!(after.len() > before, "{after:?}");
    assert!(
        after.iter().all(|(_, _, parent)| *parent != agent),
        "{after:?}"
    );
}

#[test]
fn a_plugin_that_hangs_dies_or_answers_garbage_stops_the_command_and_nothing_is_written() {
    let sb = sandbox();
    plugin_vault(&sb);
    let vault = sb.bytes("v.age");
    let backup = sb.bytes("v.age.bak");
    let files = sb.names(".");
    let cases = [
        // (mode, the command, its error)
        (
            "hang",
            "list",
            "teamotp: error: age-plugin-teamotptest did not answer within 3 s; it was stopped and \
             nothing was written\n\
             teamotp: hint: check the plugin (a hardware key waiting for a touch, a device \
             unplugged); a plugin that needs longer can be given TEAMOTP_PLUGIN_TIMEOUT=SECONDS\n",
        ),
        (
            "die",
            "list",
            "teamotp: error: cannot decrypt 'v.age': age-plugin-teamotptest ended in the middle of the \
             exchange (it crashed or was killed)\n",
        ),
        (
            "garbage",
            "list",
            // The rest is the bad answer or the broken pipe, whichever age meets first.
            "teamotp: error: cannot decrypt 'v.age': age-plugin-teamotptest answered something that is \
             not the age plugin protocol (",
        ),
        (
            "hang-wrap",
            "add",
            "teamotp: error: age-plugin-teamotptest did not answer within 3 s; it was stopped and \
             nothing was written\n\
             teamotp: hint: check the plugin (a hardware key waiting for a touch, a device \
             unplugged); a plugin that needs longer can be given TEAMOTP_PLUGIN_TIMEOUT=SECONDS\n",
        ),
        (
            "garbage-wrap",
            "add",
            // The rest is the broken pipe or the bad answer, whichever age meets first.
            "teamotp: error: cannot encrypt: age-plugin-teamotptest answered something that is not \
             the age plugin protocol (",
        ),
        (
            "die-wrap",
            "add",
            "teamotp: error: cannot encrypt: age-plugin-teamotptest ended in the middle of the \
             exchange (it crashed or was killed); nothing was written\n",
        ),
    ];
    for (mode, command, error) in cases {
        let (args, stdin): (&[&str], &str) = if command == "list" {
            (&["list"], "")
        } else {
            (&["add", "GitHub"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
        };
        let mut run =
            sb.detached([&["--at", AT, "-i", "keys/plugin.txt", "-f", "v.age"], args].concat());
        run.env("TEAMOTPTEST_MODE", mode);
        let started = Instant::now();
        let out = execute(run, stdin.as_bytes());
        let took = started.elapsed();
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{mode} {command}");
        assert!(
            out.stderr.starts_with(error),
            "{mode} {command}: {}",
            out.stderr
        );
        assert!(took < Duration::from_secs(15), "{mode}: {took:?}");
        assert_eq!(sb.bytes("v.age"), vault, "{mode}: the vault changed");
        assert_eq!(sb.bytes("v.age.bak"), backup, "{mode}: the backup changed");
        // A write stopped by the watchdog leaves its lock file (like a writer killed with SIGKILL): the
        // operating system's lock on it died with the process, so it blocks nobody (checked below).
        let mut left = sb.names(".");
        left.retain(|n| n != "v.age.lock");
        assert_eq!(left, files, "{mode}: a file was left or removed");
    }
    // The plugin behaves again: the next write goes through.
    sb.run(
        &[
            "--at",
            AT,
            "-i",
            "keys/plugin.txt",
            "-f",
            "v.age",
            "add",
            "GitHub",
        ],
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
    )
    .expect_code(0, "add with a working plugin");
    // No plugin run is left behind (a hung one was killed).
    std::thread::sleep(Duration::from_millis(200));
    for (machine, pid, _) in runs(&sb) {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let running = state
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'));
        assert!(!running, "{machine} {pid} still runs: {state}");
    }
}
