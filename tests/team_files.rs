//! End-to-end tests of what team-vault writes leave on disk: modes, backups, temporary files.
//! Rules and helpers: tests/team_init.rs and tests/support/team.rs.

mod support;

use assert_cmd::Command;

use support::team::Sandbox;
use support::team::*;
use support::*;

// ---------------------------------------------------------------------------------------------------------
// Files: modes, backups, temporary files
// ---------------------------------------------------------------------------------------------------------

/// Runs `teamotp -i ME -f v.age ARGS` under `umask 022` (a usual login umask), stdin from `stdin`.
fn with_umask_022(sb: &Sandbox, args: &[&str], stdin: &str) -> Out {
    let mut cmd = Command::new(setsid());
    cmd.env_clear()
        .env("HOME", sb.home())
        .current_dir(sb.root())
        .timeout(TIMEOUT)
        .args([
            "-w",
            "/bin/sh",
            "-c",
            "umask 022 && exec \"$0\" \"$@\"",
            BIN,
        ])
        .args(["--at", AT, "-i", ME, "-f", "v.age"])
        .args(args)
        .write_stdin(stdin);
    run(&mut cmd)
}

#[test]
fn a_rewrite_keeps_the_vaults_mode() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    set_mode(&sb.path("v.age"), 0o640);
    assert_eq!(
        with_umask_022(&sb, &["add", "GitHub"], "JBSWY3DPEHPK3PXP").code,
        0
    );
    assert_eq!(mode(&sb.path("v.age")), 0o640);
}

#[test]
/// Regression: a rewrite applies the umask to the kept mode: a group-writable vault (0660) becomes 0640 under umask 022
fn a_rewrite_keeps_a_group_writable_vaults_mode() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    set_mode(&sb.path("v.age"), 0o660);
    assert_eq!(
        with_umask_022(&sb, &["add", "GitHub"], "JBSWY3DPEHPK3PXP").code,
        0
    );
    assert_eq!(mode(&sb.path("v.age")), 0o660);
}

#[test]
fn every_write_keeps_the_previous_ciphertext_as_bak_and_leaves_no_temporary_file() {
    let sb = Sandbox::new();
    sb.init();
    let (ed, _) = ssh_public("id_ed25519.pub");
    let writes: [(&[&str], &str); 8] = [
        (&["add", "AWS"], "JBSWY3DPEHPK3PXP\n"),
        (
            &["add", "--uri"],
            "otpauth://totp/GitHub?secret=GEZDGNBVGY3TQOJQ",
        ),
        (&["rename", "GitHub", "GH"], ""),
        (&["edit", "GH", "--issuer", "GitHub"], ""),
        (&["members", "add", &ed, "--name", "Ed"], ""),
        (&["rekey"], ""),
        (&["members", "rm", "Ed", "--yes"], ""),
        (&["rm", "GH", "--yes"], ""),
    ];
    for (args, stdin) in writes {
        let before = sb.bytes("v.age");
        let before_plain = decrypt(&sb.path(ME), &sb.path("v.age")).unwrap();
        let result = sb.me_stdin(args, stdin);
        assert_eq!(result.code, 0, "{args:?}: {result:?}");
        if matches!(args[0], "rekey" | "members") && args.get(1) != Some(&"add") {
            // rekey and members rm re-encrypt the previous version to the new recipients.
            let key = sb.path(ME);
            assert_eq!(
                decrypt(&key, &sb.path("v.age.bak")),
                decrypt(&key, &sb.path("v.age")).map(|_| before_plain.clone()),
                "{args:?}: .bak is the previous version"
            );
        } else {
            assert_eq!(
                sb.bytes("v.age.bak"),
                before,
                "{args:?}: .bak is the previous ciphertext"
            );
        }
        assert_ne!(sb.bytes("v.age"), before, "{args:?}");
        assert_eq!(mode(&sb.path("v.age")), 0o600, "{args:?}");
        assert_eq!(
            sb.names("."),
            strings(&[".age-recipients", "home", "keys", "v.age", "v.age.bak"]),
            "{args:?}"
        );
    }
    assert_opens(
        &sb,
        ME,
        "v.age",
        // members rm marked the accounts Ed could read (docs/team-sharing.md, re-enrolment).
        "name,issuer,secret,digits,period,algorithm,type,reenrol\nAWS,,JBSWY3DPEHPK3PXP,,,,,since=2023-11-14;by=Ed\n",
        &format!("{LIST_HEADER}{AWS_LIST}"),
    );
    assert_refused(&sb, ED25519, "v.age");
}
