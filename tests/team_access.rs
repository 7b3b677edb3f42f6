//! Offboarding and access review (issue 23): `access`, `audit` and `members rm --all` against a
//! repository built here with members joining and leaving and secrets rotated over several commits, the
//! expected answers known from that history (including versions the auditor cannot open).

mod support;

use support::git_team::*;

/// The history: Base and Second set with Alice, Bob and Carol; Carol leaves; Second is rotated; Dave
/// joins. Returns the team and its people.
fn history() -> (Team, Member, Member, Member, Member) {
    let team = Team::new();
    let (alice, bob, carol) = team.founded();
    team.add(&alice, "Second", SECRETS[1]);
    team.commit(&alice, "second account");
    team.remove_member(&alice, &carol);
    team.teamotp_ok(&alice, &["rotate", "Second"], &format!("{}\n", SECRETS[2]));
    team.commit(&alice, "second rotated");
    let dave = team.person("dave");
    team.add_member(&alice, &dave);
    team.git_ok(&alice, &["push", "-q"]);
    (team, alice, bob, carol, dave)
}

#[test]
fn access_tells_where_a_key_is_a_recipient_and_what_it_could_read() {
    let (team, alice, _bob, carol, dave) = history();
    // Carol: removed; Base was never rotated (she could read it), Second was (she could not).
    let out = team.teamotp(&alice, &["access", &carol.public], "");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("not a recipient now; last in"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Base: could read its current secret (")
            && out.stdout.contains("re-enrol it"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Second: never held its current secret"),
        "{}",
        out.stdout
    );
    // Dave, by label: a recipient since he joined; both current secrets are readable to him now.
    let out = team.teamotp(&alice, &["access", "dave"], "");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with(&dave.public), "{}", out.stdout);
    assert!(
        out.stdout.contains("a recipient now, since"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("[recorded]"), "{}", out.stdout);
    assert!(
        out.stdout.contains("Base: can read its current secret"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Second: can read its current secret"),
        "{}",
        out.stdout
    );
    // Someone who never was a member.
    let erin = team.person("erin");
    let out = team.teamotp(&alice, &["access", &erin.public], "");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("never was a recipient"), "{out:?}");
    // A label nobody carries now.
    let out = team.teamotp(&alice, &["access", "carol"], "");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("neither a key nor the label"),
        "{out:?}"
    );
}

#[test]
fn audit_lists_readers_and_removals_without_rotation() {
    let (team, alice, bob, carol, dave) = history();
    let out = team.teamotp(&alice, &["audit", "--format", "csv"], "");
    assert_eq!(
        out.code, 1,
        "Carol could read Base and Base was not rotated: {out:?}"
    );
    let mut lines = out.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            "vault,account,secret_set,secret_set_known,secret_set_commit,secret_set_by,key,label,\
             readable_from,readable_until,member_now,removed_without_rotation,basis"
        )
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    let reader = |account: &str, key: &str| {
        rows.iter()
            .find(|r| r[1] == account && r[6] == key)
            .cloned()
    };
    // Base: Alice, Bob, Carol (removed, not rotated) and Dave.
    for who in [&alice, &bob, &dave] {
        let row = reader("Base", &who.public).unwrap_or_else(|| panic!("{} reads Base", who.name));
        assert_eq!(
            (row[10].as_str(), row[11].as_str()),
            ("yes", "no"),
            "{row:?}"
        );
    }
    let row = reader("Base", &carol.public).expect("carol could read Base");
    assert_eq!(
        (row[10].as_str(), row[11].as_str()),
        ("no", "yes"),
        "{row:?}"
    );
    assert_eq!(row[12], "recorded");
    // Second was rotated after Carol left: she is not a reader of its current secret.
    assert!(reader("Second", &carol.public).is_none(), "{rows:?}");
    assert!(reader("Second", &dave.public).is_some());
    let second = reader("Second", &alice.public).unwrap();
    assert_eq!(second[3], "exact");
    assert_eq!(second[5], "Test Author");
    // The table says the same for people.
    let table = team.teamotp(&alice, &["audit"], "");
    assert!(
        table.stdout.contains("Base: secret set")
            && table.stdout.contains("REMOVED WITHOUT ROTATION: carol"),
        "{}",
        table.stdout
    );
    // JSON carries the same columns.
    let json = team.teamotp(&alice, &["audit", "--format", "json"], "");
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value.as_array().unwrap().len(), 2);
    assert_eq!(value[0]["account"], "Base");
    // --since after Carol left: she no longer shows up.
    let later = team.teamotp(
        &alice,
        &["audit", "--format", "csv", "--since", "2999-01-01"],
        "",
    );
    assert!(!later.stdout.contains(&carol.public), "{}", later.stdout);
}

#[test]
fn a_version_the_auditor_cannot_open_is_reported_never_guessed() {
    let (team, _alice, _bob, carol, dave) = history();
    team.join(&dave);
    let out = team.teamotp(&dave, &["audit", "--format", "csv"], "");
    assert!(
        out.stderr
            .contains("versions of its history are not yours to open and are not counted"),
        "{out:?}"
    );
    // Dave sees Base from the first version he can open: at or before that, not exactly.
    let base = out
        .stdout
        .lines()
        .find(|l| l.contains(",Base,"))
        .expect("Base");
    assert!(base.contains(",at or before,"), "{base}");
    // access: Carol's readability of Base is unknown to Dave (the versions she was in are not his).
    let out = team.teamotp(&dave, &["access", &carol.public], "");
    assert!(out.stdout.contains("Base: unknown:"), "{out:?}");
}

#[test]
fn members_rm_all_removes_a_key_from_every_configured_vault() {
    let (team, alice, bob, _carol, _dave) = history();
    // A second vault of Alice's, outside git, with Bob too.
    // Alice in her home, with no -f: the configured vaults.
    let home = |args: &[&str]| {
        let mut all = vec!["--at", support::AT];
        all.extend_from_slice(args);
        let bin = std::path::Path::new(support::BIN);
        team.run_in(&alice.home, &alice.home, bin, &all, "")
    };
    let fin = |args: &[&str], stdin: &str| {
        let mut all = vec!["--at", support::AT, "-f", "fin.csv.age"];
        all.extend_from_slice(args);
        let bin = std::path::Path::new(support::BIN);
        let out = team.run_in(&alice.home, &alice.home, bin, &all, stdin);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
    };
    fin(&["init", "-r", &alice.public, "-r", &bob.public], "");
    fin(&["add", "Bank"], &format!("{}\n", SECRETS[3]));
    std::fs::write(
        alice.home.join(".config/teamotp/config.toml"),
        format!(
            "[vaults.infra]\nfile = \"{}\"\n[vaults.fin]\nfile = \"{}\"\n",
            alice.work().join(VAULT).display(),
            alice.home.join("fin.csv.age").display()
        ),
    )
    .unwrap();
    let out = home(&["members", "rm", &bob.public, "--all", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "re-enrol:\n  fin/Bank\n  infra/Base\n  infra/Second\n"
    );
    assert!(out.stderr.contains("removed from 2 vaults"), "{out:?}");
    for vault in [alice.work().join(VAULT), alice.home.join("fin.csv.age")] {
        assert!(
            !bob.opens(&std::fs::read(&vault).unwrap()),
            "{}",
            vault.display()
        );
    }
    let check = home(&["--all", "check"]);
    assert!(
        check.stdout.contains("'fin/Bank'") && check.stdout.contains("'infra/Base'"),
        "{check:?}"
    );
}

/// A change not committed yet counts: rotating Base in the work tree ends Carol's exposure at once.
#[test]
fn an_uncommitted_rotation_counts() {
    let (team, alice, _bob, carol, _dave) = history();
    team.teamotp_ok(&alice, &["rotate", "Base"], &format!("{}\n", SECRETS[4]));
    let out = team.teamotp(&alice, &["audit", "--format", "csv"], "");
    assert_eq!(
        out.code, 0,
        "nobody removed can read a current secret: {out:?}"
    );
    assert!(!out.stdout.contains(&carol.public), "{}", out.stdout);
    let base = out
        .stdout
        .lines()
        .find(|l| l.starts_with("vault.csv.age,Base,"))
        .expect("Base");
    assert!(base.contains(",exact,(not committed),,"), "{base}");
}
