//! Attacks: discovery in someone else's directory (see tests/adversary.rs). Another local user plants a
//! `.git/`, an `.age-recipients` and a vault encrypted to your public key in a shared folder (/tmp); run
//! anywhere below it, `teamotp code github` printed their code instead of your configured vault's,
//! without a word. Like git since CVE-2022-24765, discovery now uses only what belongs to you (or root).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::*;

const NOBODY: u32 = 65534;

fn me<'a>(vault: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["--at", AT, "-f", vault, "-i", "keys/x25519.key"];
    all.extend_from_slice(args);
    all
}

/// A new vault at `vault` holding `github` with `secret`: its code at AT.
fn vault_with_github(sb: &Sandbox, vault: &str, secret: &str) -> String {
    sb.ok(&me(vault, &["init"]), "");
    sb.ok(&me(vault, &["add", "github"]), &format!("{secret}\n"));
    sb.ok(&me(vault, &["code", "github"]), "").stdout
}

// Before the fix: stdout was the planted vault's code for 'github', stderr empty.
#[test]
fn a_vault_planted_by_another_user_above_you_is_ignored() {
    if !rustix::process::geteuid().is_root() {
        eprintln!(
            "skipped: the planted files must belong to another uid (the tests do not run as root)"
        );
        return;
    }
    let sb = Sandbox::new("teamotp-adv-discovery-");
    // Your vault, configured as the default.
    let yours = vault_with_github(&sb, "home/mine.csv.age", "JBSWY3DPEHPK3PXP");
    sb.write(
        "home/.config/teamotp/config.toml",
        format!(
            "default = \"mine\"\n[vaults.mine]\nfile = \"{}\"\n",
            sb.path("home/mine.csv.age").display(),
        ),
    );
    // Your key where teamotp looks by default: it opens whatever is encrypted to you.
    sb.install(
        &sb.path("keys/x25519.key"),
        &sb.path("home/.config/teamotp/identity.txt"),
    );
    // Theirs: in a world-writable folder, encrypted to your key, a different secret.
    let shared = sb.path("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
    let theirs = vault_with_github(&sb, "shared/planted.csv.age", "GEZDGNBVGY3TQOJQ");
    assert_ne!(yours, theirs);
    fs::create_dir_all(shared.join(".git")).unwrap();
    fs::create_dir_all(shared.join("deep")).unwrap();
    let chown = Command::new("chown")
        .args(["-R", &NOBODY.to_string()])
        .arg(&shared)
        .status()
        .unwrap();
    assert!(chown.success());

    let mut cmd = sb.detached(["--at", AT, "code", "github"]);
    cmd.current_dir(shared.join("deep"));
    let out = execute(cmd, b"");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout, yours,
        "your configured vault's code, not theirs"
    );
    assert!(
        out.stderr.contains("ignored the vault")
            && out.stderr.contains("planted.csv.age")
            && out
                .stderr
                .contains(&format!("belongs to another user (uid {NOBODY})")),
        "{}",
        out.stderr
    );
    // The same folder owned by you is found as before.
    let chown = Command::new("chown")
        .args(["-R", "0"])
        .arg(&shared)
        .status()
        .unwrap();
    assert!(chown.success());
    let mut cmd = sb.detached(["--at", AT, "code", "github"]);
    cmd.current_dir(shared.join("deep"));
    let out = execute(cmd, b"");
    assert_eq!(out.stdout, theirs, "{out:?}");
}
