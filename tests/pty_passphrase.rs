//! Passphrases typed on a real pseudo-terminal (expectrl): passphrase-encrypted vaults, a
//! passphrase-encrypted identity file and passphrase-protected OpenSSH keys, all made by the Go `age` CLI
//! and ssh-keygen (tests/fixtures/age/README.md).
//!
//! The terminal starts with echo ON, as a user's does (the pty library turns it off, so the command is
//! started through `sh -c 'stty echo; exec ...'`); teamotp must turn echo off before the passphrase is
//! typed, and the passphrase must never appear on the screen.

mod support;

use std::ffi::OsString;
use std::num::NonZeroU16;
use std::path::Path;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Any, Eof, Expect, Needle, Regex, Session};

use support::{AT, BIN, Sandbox, plaintext_csv};

const VAULT_PASS: &str = "fixture-vault-pass";
const IDENTITY_PASS: &str = "fixture-identity-pass";
const SSH_PASS: &str = "fixture-ssh-pass";

/// scrypt work factor 18 takes about a second; leave plenty of room on a slow machine.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Most prompts a run answers before the test gives up (a prompt loop would otherwise hang the test).
const MAX_PROMPTS: usize = 10;

/// What a session printed and how it ended.
struct Run {
    /// Everything the terminal received (prompts, echo if any, output, errors), `\r` removed.
    text: String,
    /// The screen after rendering every byte.
    screen: String,
    /// Exit code of teamotp.
    code: i32,
    /// How many passphrase prompts were answered.
    prompts: usize,
}

/// Spawns teamotp on a pty with an empty environment (HOME = the sandbox's, TERM=dumb) and terminal echo
/// on, and answers every passphrase prompt matching `prompt` (a regex for the prompt's last line, which
/// must end the output so far) with `passphrase` and Enter, each time only after teamotp has turned echo
/// off; collects everything until the process ends.
fn run_with_passphrase(
    sandbox: &Sandbox,
    args: &[OsString],
    prompt: &str,
    passphrase: &str,
) -> Run {
    let mut command = std::process::Command::new("/bin/sh");
    command
        .env_clear()
        .env("HOME", sandbox.home())
        .env("TERM", "dumb")
        .env("PATH", "/usr/bin:/bin")
        .arg("-c")
        .arg("stty echo && exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(args);
    let mut session = Session::spawn(command).expect("spawn teamotp on a pty");
    session.set_expect_timeout(Some(TIMEOUT));

    let prompt_at_end = format!("{prompt}$");
    let mut seen = Vec::new();
    let mut prompts = 0;
    loop {
        let found = session
            .expect(Any::boxed(vec![
                Box::new(Regex(prompt_at_end.clone())),
                Box::new(Eof),
            ]))
            .unwrap_or_else(|e| {
                panic!(
                    "waiting for a prompt or the end: {e}; terminal so far:\n{}",
                    String::from_utf8_lossy(&seen)
                )
            });
        seen.extend_from_slice(found.as_bytes());
        let is_prompt = !Regex(prompt_at_end.as_str())
            .check(found.as_bytes(), false)
            .unwrap()
            .is_empty();
        if !is_prompt {
            break;
        }
        prompts += 1;
        assert!(
            prompts <= MAX_PROMPTS,
            "more than {MAX_PROMPTS} prompts:\n{}",
            String::from_utf8_lossy(&seen)
        );
        // rpassword writes the prompt before it turns echo off: type only once echo is off.
        support::pty::wait_for_echo_off(&session, TIMEOUT);
        session.send_line(passphrase).unwrap();
    }
    assert!(
        prompts > 0,
        "no prompt matching {prompt:?}:\n{}",
        String::from_utf8_lossy(&seen)
    );
    let code = match session.get_process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("teamotp did not exit normally: {other:?}"),
    };

    let mut parser = vt100::Parser::new(
        NonZeroU16::new(50).unwrap(),
        NonZeroU16::new(250).unwrap(),
        0,
    );
    parser.process(&seen);
    Run {
        text: String::from_utf8_lossy(&seen).replace('\r', ""),
        screen: parser.screen().contents(),
        code,
        prompts,
    }
}

/// `--at AT -f VAULT [-i IDENTITY] list --format csv` as arguments.
fn list_args(vault: &Path, identity: Option<&Path>) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec!["--at".into(), AT.into(), "-f".into(), vault.into()];
    if let Some(identity) = identity {
        args.extend(["-i".into(), identity.into()]);
    }
    args.extend(["list".into(), "--format".into(), "csv".into()]);
    args
}

/// Asserts a successful run printed exactly the plaintext's codes and never showed the passphrase.
fn assert_codes_without_echo(sandbox: &Sandbox, run: &Run, passphrase: &str) {
    let expected = plaintext_csv(sandbox, &sandbox.fixture("plain.csv"));
    assert_eq!(run.code, 0, "exit code; terminal showed:\n{}", run.text);
    assert!(
        run.text.contains(&expected),
        "expected\n{expected}\nin\n{}",
        run.text
    );
    for line in expected.lines() {
        assert!(
            run.screen.contains(line),
            "{line:?} not on screen:\n{}",
            run.screen
        );
    }
    assert!(
        !run.text.contains(passphrase),
        "passphrase echoed:\n{}",
        run.text
    );
    assert!(
        !run.screen.contains(passphrase),
        "passphrase on screen:\n{}",
        run.screen
    );
}

/// teamotp's own prompt for a passphrase-encrypted vault: `Passphrase for VAULT: `.
const VAULT_PROMPT: &str = r"Passphrase[^\r\n]*: ";

/// age's prompts for an encrypted identity or OpenSSH key (`Type passphrase for ...: `).
const KEY_PROMPT: &str = r"(?i)passphrase[^\r\n]*: ";

#[test]
fn passphrase_vault_binary() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let vault = sandbox.fixture("passphrase.csv.age");
    let run = run_with_passphrase(&sandbox, &list_args(&vault, None), VAULT_PROMPT, VAULT_PASS);
    assert_eq!(run.prompts, 1, "{}", run.text);
    assert_codes_without_echo(&sandbox, &run, VAULT_PASS);
}

#[test]
fn passphrase_vault_armoured() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let vault = sandbox.fixture("passphrase.csv.age.asc");
    let run = run_with_passphrase(&sandbox, &list_args(&vault, None), VAULT_PROMPT, VAULT_PASS);
    assert_eq!(run.prompts, 1, "{}", run.text);
    assert_codes_without_echo(&sandbox, &run, VAULT_PASS);
}

#[test]
fn wrong_vault_passphrase_exits_2() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let vault = sandbox.fixture("passphrase.csv.age");
    let wrong = "not-the-vault-pass";
    let run = run_with_passphrase(&sandbox, &list_args(&vault, None), VAULT_PROMPT, wrong);
    // Asked 3 times, as ssh does (issue 14), saying so between tries.
    assert_eq!(run.prompts, 3, "{}", run.text);
    assert_eq!(run.text.matches("try again").count(), 2, "{}", run.text);
    assert_eq!(run.code, 2, "terminal showed:\n{}", run.text);
    assert!(run.text.contains("the passphrase is wrong"), "{}", run.text);
    assert!(
        !run.text.contains("run teamotp in a terminal"),
        "{}",
        run.text
    );
    assert!(
        !run.text.contains("name,issuer"),
        "no output on failure:\n{}",
        run.text
    );
    assert!(
        !run.text.contains(wrong),
        "passphrase echoed:\n{}",
        run.text
    );
}

#[test]
fn passphrase_encrypted_identity_file() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let vault = sandbox.fixture("enc-identity.csv.age");
    let identity = sandbox.fixture("encrypted-identity.age");
    let run = run_with_passphrase(
        &sandbox,
        &list_args(&vault, Some(&identity)),
        KEY_PROMPT,
        IDENTITY_PASS,
    );
    assert_eq!(run.prompts, 1, "{}", run.text);
    assert_codes_without_echo(&sandbox, &run, IDENTITY_PASS);
}

/// Decrypts multi.csv.age with a passphrase-protected OpenSSH key, answering every prompt.
fn ssh_key_run(key: &str) -> (Sandbox, Run) {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let vault = sandbox.fixture("multi.csv.age");
    let identity = sandbox.fixture(key);
    let run = run_with_passphrase(
        &sandbox,
        &list_args(&vault, Some(&identity)),
        KEY_PROMPT,
        SSH_PASS,
    );
    (sandbox, run)
}

#[test]
fn passphrase_protected_ssh_ed25519_key() {
    let (sandbox, run) = ssh_key_run("id_ed25519_pw");
    assert_codes_without_echo(&sandbox, &run, SSH_PASS);
}

#[test]
fn passphrase_protected_ssh_rsa_key() {
    let (sandbox, run) = ssh_key_run("id_rsa_pw");
    assert_codes_without_echo(&sandbox, &run, SSH_PASS);
}

/// Regression: age's own SSH wrapper asked once per stanza of the vault (4 times for id_ed25519_pw,
/// 5 for id_rsa_pw with multi.csv.age).
#[test]
fn passphrase_protected_ssh_keys_ask_once() {
    for key in ["id_ed25519_pw", "id_rsa_pw"] {
        let (sandbox, run) = ssh_key_run(key);
        assert_eq!(run.prompts, 1, "{key}: prompts:\n{}", run.text);
        assert_codes_without_echo(&sandbox, &run, SSH_PASS);
    }
}

/// Regression (issue 14): a wrong passphrase for an SSH key was asked once and reported as "the
/// identity's own passphrase is wrong, or its key could not be decrypted" with the hint "run teamotp in a
/// terminal", in a terminal. Now: 3 tries, then "wrong passphrase for '~/.ssh/id_ed25519'".
#[test]
fn wrong_ssh_key_passphrase_is_asked_three_times_and_names_the_key() {
    let sandbox = Sandbox::new("teamotp-pty-").with_fixtures();
    let vault = sandbox.fixture("multi.csv.age");
    let key = sandbox.home().join(".ssh/id_ed25519");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::copy(sandbox.fixture("id_ed25519_pw"), &key).unwrap();
    support::set_mode(&key, 0o600);
    let run = run_with_passphrase(
        &sandbox,
        &list_args(&vault, Some(&key)),
        KEY_PROMPT,
        "not-the-ssh-pass",
    );
    assert_eq!(run.prompts, 3, "{}", run.text);
    assert_eq!(run.code, 2, "{}", run.text);
    assert!(
        run.text
            .contains("wrong passphrase for '~/.ssh/id_ed25519'"),
        "{}",
        run.text
    );
    assert!(
        !run.text.contains("run teamotp in a terminal"),
        "{}",
        run.text
    );
}
