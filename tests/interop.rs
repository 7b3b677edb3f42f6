//! The real binary against vaults made by the Go `age` CLI (tests/fixtures/age/README.md): every way of
//! decrypting must give exactly the output of the same command on the plaintext. Passphrase prompts are in
//! pty_passphrase.rs. Every run: fixed time, empty environment, a temporary HOME.

mod support;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use support::{AT, Sandbox, demo_dir, set_mode, std_command};

/// `list --format csv` of plain.csv at 1700000000, checked against oathtool:
/// `oathtool --totp -b -N @1700000000 -w1 JBSWY3DPEHPK3PXP` and
/// `oathtool --totp=sha256 -d8 -s60 -b -N @1700000000 -w1 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ`.
const PLAIN_CSV: &str = "\
name,issuer,prev,curr,next,remaining
AWS root,Amazon,822542,324550,367665,10
\"Root, production\",ACME,82941486,34855935,20921162,40
";

/// The binary with an empty environment and `HOME` set to the sandbox's empty home.
fn teamotp(sandbox: &Sandbox) -> Command {
    Command::from_std(std_command(&sandbox.home()))
}

/// Runs `--at AT -f VAULT [-i ID]... list --format csv` and returns stdout, asserting success and a
/// silent stderr.
fn list_csv(mut command: Command, vault: &Path, identities: &[&Path]) -> String {
    command.args(["--at", AT, "-f"]).arg(vault);
    for identity in identities {
        command.arg("-i").arg(identity);
    }
    let output = command
        .args(["list", "--format", "csv"])
        .assert()
        .success()
        .stderr("")
        .get_output()
        .clone();
    String::from_utf8(output.stdout).unwrap()
}

/// The output for the plaintext fixture, the reference every decryption is compared with.
fn plain(sandbox: &Sandbox) -> String {
    list_csv(teamotp(sandbox), &sandbox.fixture("plain.csv"), &[])
}

#[test]
fn plaintext_has_the_expected_codes() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    assert_eq!(plain(&sandbox), PLAIN_CSV);
}

#[test]
fn x25519_binary() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let out = list_csv(
        teamotp(&sandbox),
        &sandbox.fixture("x25519.csv.age"),
        &[&sandbox.fixture("x25519.key")],
    );
    assert_eq!(out, plain(&sandbox));
}

#[test]
fn x25519_armoured() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let out = list_csv(
        teamotp(&sandbox),
        &sandbox.fixture("x25519.csv.age.asc"),
        &[&sandbox.fixture("x25519.key")],
    );
    assert_eq!(out, plain(&sandbox));
}

#[test]
fn multi_recipient_with_each_unencrypted_identity() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let expected = plain(&sandbox);
    for identity in ["x25519.key", "id_ed25519", "id_rsa"] {
        let out = list_csv(
            teamotp(&sandbox),
            &sandbox.fixture("multi.csv.age"),
            &[&sandbox.fixture(identity)],
        );
        assert_eq!(out, expected, "multi.csv.age with {identity}");
    }
}

#[test]
fn wrong_identity_is_refused_naming_file_and_identity() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    for vault in ["x25519.csv.age", "x25519.csv.age.asc", "multi.csv.age"] {
        let vault_path = sandbox.fixture(vault);
        let other = sandbox.fixture("other.key");
        teamotp(&sandbox)
            .args(["--at", AT, "-f"])
            .arg(&vault_path)
            .arg("-i")
            .arg(&other)
            .args(["list", "--format", "csv"])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(vault_path.display().to_string()))
            .stderr(predicate::str::contains(other.display().to_string()));
    }
}

#[test]
fn identity_given_twice_tries_both() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let out = list_csv(
        teamotp(&sandbox),
        &sandbox.fixture("x25519.csv.age"),
        &[
            &sandbox.fixture("other.key"),
            &sandbox.fixture("x25519.key"),
        ],
    );
    assert_eq!(out, plain(&sandbox));
}

#[test]
fn identity_from_teamotp_identity_env() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let mut command = teamotp(&sandbox);
    command.env("TEAMOTP_IDENTITY", sandbox.fixture("x25519.key"));
    let out = list_csv(command, &sandbox.fixture("x25519.csv.age"), &[]);
    assert_eq!(out, plain(&sandbox));
}

#[test]
fn default_identity_in_xdg_config_home() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let config = sandbox.root().join("xdg-config");
    sandbox.install(
        &sandbox.fixture("x25519.key"),
        &config.join("teamotp").join("identity.txt"),
    );
    let mut command = teamotp(&sandbox);
    command.env("XDG_CONFIG_HOME", &config);
    let out = list_csv(command, &sandbox.fixture("x25519.csv.age"), &[]);
    assert_eq!(out, plain(&sandbox));
}

#[test]
fn default_identity_ssh_ed25519_in_home() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    sandbox.install(
        &sandbox.fixture("id_ed25519"),
        &sandbox.home().join(".ssh").join("id_ed25519"),
    );
    let out = list_csv(teamotp(&sandbox), &sandbox.fixture("multi.csv.age"), &[]);
    assert_eq!(out, plain(&sandbox));
}

#[test]
fn demo_vault_is_the_committed_demo_files() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let demo = teamotp(&sandbox)
        .args(["--demo", "--at", AT, "list", "--format", "csv"])
        .assert()
        .success()
        .stderr("")
        .get_output()
        .stdout
        .clone();
    let demo = String::from_utf8(demo).unwrap();
    assert!(
        demo.starts_with("name,issuer,prev,curr,next,remaining\n"),
        "{demo}"
    );
    assert_eq!(
        demo.lines().count(),
        1 + 9,
        "header and the 9 demo accounts:\n{demo}"
    );

    let identity = sandbox.root().join("demo-identity.txt");
    sandbox.install(&demo_dir().join("demo-identity.txt"), &identity);
    let encrypted = list_csv(
        teamotp(&sandbox),
        &demo_dir().join("demo.csv.age"),
        &[&identity],
    );
    assert_eq!(
        demo, encrypted,
        "--demo vs demo.csv.age + demo-identity.txt"
    );

    let plaintext = sandbox.root().join("demo.csv");
    sandbox.install(&demo_dir().join("demo.csv"), &plaintext);
    let plaintext = list_csv(teamotp(&sandbox), &plaintext, &[]);
    assert_eq!(demo, plaintext, "--demo vs plaintext demo.csv");
}

/// True when `program` can be run (found on PATH).
fn installed(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

#[test]
fn freshly_encrypted_by_the_go_age_cli() {
    if !installed("age") || !installed("age-keygen") {
        eprintln!("skipped: age CLI not installed");
        return;
    }
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let key = sandbox.root().join("fresh.key");
    let status = std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "age-keygen failed");
    set_mode(&key, 0o600);
    let recipient = std::process::Command::new("age-keygen")
        .arg("-y")
        .arg(&key)
        .output()
        .unwrap();
    assert!(recipient.status.success(), "age-keygen -y failed");
    let recipient = String::from_utf8(recipient.stdout).unwrap();
    let recipient = recipient.trim();
    assert!(recipient.starts_with("age1"), "{recipient}");

    let vault = sandbox.root().join("fresh.csv.age");
    let status = std::process::Command::new("age")
        .args(["-r", recipient, "-o"])
        .arg(&vault)
        .arg(sandbox.fixture("plain.csv"))
        .status()
        .unwrap();
    assert!(status.success(), "age -r failed");

    let out = list_csv(teamotp(&sandbox), &vault, &[&key]);
    assert_eq!(out, PLAIN_CSV);
}
