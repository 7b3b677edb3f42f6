//! Membership survives git (issue 19): a team of members, each with their own home, key and clone of one
//! bare repository, working through the real `git` with teamotp's real drivers. After every merge,
//! rebase and cherry-pick the vault on the branch is checked from outside (the age crate with each
//! member's key, teamotp's own `list` only for the accounts): a removed member cannot open it, an added
//! member can, no account is lost or duplicated, and `check` is clean.

mod support;

use support::git_team::*;

/// The outside checks after a merge on `who`'s branch: exactly `members` open the committed vault,
/// `outsiders` do not, the recipients file and the version's record name exactly the members, and
/// `check` is clean.
fn assert_membership(team: &Team, who: &Member, members: &[&Member], outsiders: &[&Member]) {
    let vault = team.committed(who, "HEAD");
    for m in members {
        assert!(m.opens(&vault), "{} must open {}'s HEAD", m.name, who.name);
    }
    for m in outsiders {
        assert!(
            !m.opens(&vault),
            "{} must NOT open {}'s HEAD",
            m.name,
            who.name
        );
    }
    let mut expected: Vec<String> = members.iter().map(|m| m.public.clone()).collect();
    expected.sort();
    assert_eq!(recipients(who), expected, "{}'s .age-recipients", who.name);
    assert_eq!(
        support::team::recorded_keys(&vault),
        Some(expected),
        "{}'s HEAD records its recipients",
        who.name
    );
    let check = team.teamotp(who, &["check"], "");
    assert_eq!(
        check.code, 0,
        "{}: check after the merge: {check:?}",
        who.name
    );
    // Clean: no mismatch (a removal's re-enrolment list is expected, and not a problem).
    assert!(
        check.stdout.is_empty() || check.stdout.starts_with("re-enrol:\n"),
        "{}: check lists a problem: {check:?}",
        who.name
    );
}

#[test]
fn a_branch_merged_after_a_removal_does_not_give_the_removed_member_access() {
    let team = Team::new();
    let (alice, bob, carol) = team.founded();
    // Alice removes Carol and pushes.
    team.remove_member(&alice, &carol);
    team.git_ok(&alice, &["push", "-q"]);
    // Bob had added an account meanwhile; his pull merges.
    team.add(&bob, "After", SECRETS[1]);
    team.commit(&bob, "an account");
    let pull = team.git(&bob, &["pull", "-q", "--no-rebase", "--no-edit"]);
    assert_eq!(pull.code, 0, "{pull:?}");
    assert_membership(&team, &bob, &[&alice, &bob], &[&carol]);
    assert_eq!(team.names(&bob), ["After", "Base"]);
}

#[test]
fn a_branch_merged_after_a_new_member_joined_lets_them_in_after_the_review() {
    let team = Team::new();
    let (alice, bob, carol) = team.founded();
    let dave = team.person("dave");
    team.add_member(&alice, &dave);
    team.git_ok(&alice, &["push", "-q"]);
    team.add(&bob, "After", SECRETS[1]);
    team.commit(&bob, "an account");
    // Bob's machine has not accepted Dave: the vault's merge stops with the review.
    let pull = team.git(&bob, &["pull", "-q", "--no-rebase", "--no-edit"]);
    assert_ne!(pull.code, 0, "{pull:?}");
    assert!(
        pull.stderr.contains("keys this machine has not accepted")
            && pull.stderr.contains(&dave.public),
        "{}",
        pull.stderr
    );
    assert!(
        pull.stderr.contains("teamotp members ack"),
        "{}",
        pull.stderr
    );
    // One command reviews, finishes the vault's merge and stages it; git commit completes the pull.
    let ack = team.teamotp_ok(&bob, &["members", "ack", "--yes"], "");
    assert!(ack.stderr.contains("finished the merge"), "{}", ack.stderr);
    team.git_ok(&bob, &["commit", "-q", "--no-edit"]);
    assert_membership(&team, &bob, &[&alice, &bob, &carol, &dave], &[]);
    assert_eq!(team.names(&bob), ["After", "Base"]);
}

#[test]
fn both_sides_change_members_at_once() {
    let team = Team::new();
    let (alice, bob, carol) = team.founded();
    let dave = team.person("dave");
    // Alice adds Dave; Bob removes Carol and adds an account.
    team.add_member(&alice, &dave);
    team.git_ok(&alice, &["push", "-q"]);
    team.teamotp_ok(&bob, &["members", "rm", &carol.public, "--yes"], "");
    team.add(&bob, "Bobs", SECRETS[2]);
    team.commit(&bob, "carol left");
    let pull = team.git(&bob, &["pull", "-q", "--no-rebase", "--no-edit"]);
    assert_ne!(pull.code, 0, "Dave is new to Bob's machine: {pull:?}");
    team.teamotp_ok(&bob, &["members", "ack", "--yes"], "");
    team.git_ok(&bob, &["commit", "-q", "--no-edit"]);
    assert_membership(&team, &bob, &[&alice, &bob, &dave], &[&carol]);
    assert_eq!(team.names(&bob), ["Base", "Bobs"]);
}

#[test]
fn pull_rebase_and_cherry_pick_keep_membership() {
    let team = Team::new();
    let (alice, bob, carol) = team.founded();
    // Rebase: Alice removes Carol; Bob rebases his account onto it.
    team.remove_member(&alice, &carol);
    team.git_ok(&alice, &["push", "-q"]);
    team.add(&bob, "Rebased", SECRETS[1]);
    team.commit(&bob, "an account");
    let pull = team.git(&bob, &["pull", "-q", "--rebase"]);
    assert_eq!(pull.code, 0, "{pull:?}");
    assert_membership(&team, &bob, &[&alice, &bob], &[&carol]);
    assert_eq!(team.names(&bob), ["Base", "Rebased"]);
    team.git_ok(&bob, &["push", "-q"]);

    // Cherry-pick: a branch of Alice's adds Erin; main moved on; the commit is picked onto main.
    let erin = team.person("erin");
    team.git_ok(&alice, &["pull", "-q", "--no-rebase"]);
    team.git_ok(&alice, &["checkout", "-q", "-b", "erin"]);
    team.add_member(&alice, &erin);
    team.git_ok(&alice, &["checkout", "-q", "main"]);
    team.teamotp_ok(&alice, &["members", "ack", "--yes"], "");
    team.add(&alice, "OnMain", SECRETS[3]);
    team.commit(&alice, "an account on main");
    // Back on main, Alice's machine accepted main's members, not Erin: the pick stops for the review.
    let pick = team.git(&alice, &["cherry-pick", "erin"]);
    assert_ne!(pick.code, 0, "{pick:?}");
    assert!(pick.stderr.contains(&erin.public), "{}", pick.stderr);
    team.teamotp_ok(&alice, &["members", "ack", "--yes"], "");
    team.git_ok(&alice, &["cherry-pick", "--continue"]);
    assert_membership(&team, &alice, &[&alice, &bob, &erin], &[&carol]);
    assert_eq!(team.names(&alice), ["Base", "OnMain", "Rebased"]);
}

#[test]
fn git_log_p_works_over_the_whole_history_for_a_member_who_joined_last() {
    let team = Team::new();
    let (alice, _bob, _carol) = team.founded();
    team.add(&alice, "Second", SECRETS[1]);
    team.commit(&alice, "second");
    let dave = team.person("dave");
    team.add_member(&alice, &dave);
    team.git_ok(&alice, &["push", "-q"]);
    team.join(&dave);
    let log = team.git(&dave, &["log", "-p", "--", VAULT]);
    assert_eq!(log.code, 0, "{log:?}");
    assert!(
        log.stdout
            .contains("(a version you cannot open: encrypted to 3 recipients"),
        "{}",
        log.stdout
    );
    assert!(log.stdout.contains("Second | issuer: -"), "{}", log.stdout);
    let show = team.git(&dave, &["show", "HEAD~1", "--", VAULT]);
    assert_eq!(show.code, 0, "{show:?}");
}

#[test]
fn a_merge_whose_base_predates_you_merges_two_ways() {
    let team = Team::new();
    let (alice, _bob, _carol) = team.founded();
    let dave = team.person("dave");
    // Dave is added on a branch; on main, an account is added and one removed; the branch adds one.
    team.git_ok(&alice, &["checkout", "-q", "-b", "dave"]);
    team.teamotp_ok(
        &alice,
        &["members", "add", &dave.public, "--name", "dave"],
        "",
    );
    team.add(&alice, "Branch", SECRETS[1]);
    team.commit(&alice, "dave joined");
    team.git_ok(&alice, &["push", "-q", "origin", "dave"]);
    team.git_ok(&alice, &["checkout", "-q", "main"]);
    // (Back on main, Alice's machine accepts main's recipients again.)
    team.teamotp_ok(&alice, &["members", "ack", "--yes"], "");
    team.teamotp_ok(
        &alice,
        &["members", "add", &dave.public, "--name", "dave"],
        "",
    );
    team.add(&alice, "Main", SECRETS[2]);
    team.commit(&alice, "dave joined on main too");
    team.git_ok(&alice, &["push", "-q", "origin", "main"]);
    // Dave merges the branch into main: the base (before him) is not his to open.
    team.join(&dave);
    team.git_ok(&dave, &["fetch", "-q"]);
    let merge = team.git(&dave, &["merge", "--no-edit", "origin/dave"]);
    assert_eq!(merge.code, 0, "{merge:?}");
    assert!(
        merge.stderr.contains("merged ours and theirs two ways"),
        "{}",
        merge.stderr
    );
    assert_eq!(team.names(&dave), ["Base", "Branch", "Main"]);
}

#[test]
fn a_vault_overwritten_with_text_is_an_error_never_an_empty_vault() {
    let team = Team::new();
    let (alice, _bob, _carol) = team.founded();
    std::fs::write(alice.work().join(VAULT), "garbage\n").unwrap();
    let list = team.teamotp(&alice, &["list"], "");
    assert_eq!(list.code, 2, "{list:?}");
    assert!(
        list.stderr.starts_with(&format!(
            "teamotp: error: '{VAULT}' is not an age file (its name ends in .age): it was overwritten \
             or is not a vault\n"
        )),
        "{}",
        list.stderr
    );
    let code = team.teamotp(&alice, &["code", "base"], "");
    assert_eq!(code.code, 2, "{code:?}");
    assert_eq!(code.stdout, "");
}

#[test]
fn a_clone_without_the_drivers_is_told_once() {
    let team = Team::new();
    let (alice, _bob, _carol) = team.founded();
    let dave = team.person("dave");
    team.add_member(&alice, &dave);
    team.git_ok(&alice, &["push", "-q"]);
    team.clone_for(&dave);
    let list = team.teamotp(&dave, &["list", "--format", "csv"], "");
    assert_eq!(list.code, 0, "{list:?}");
    assert_eq!(
        list.stderr,
        format!(
            "teamotp: note: '{VAULT}' is in a git clone without teamotp's drivers: git shows its diffs \
             as binary and a merge of two changed versions conflicts; run once in this clone: teamotp \
             git-setup\n"
        )
    );
    team.teamotp_ok(&dave, &["git-setup"], "");
    assert_eq!(
        team.teamotp_ok(&dave, &["list", "--format", "csv"], "")
            .stderr,
        ""
    );
}

#[test]
fn a_version_that_does_not_match_its_recipients_file_is_said_and_rekey_fixes_it() {
    let team = Team::new();
    let (alice, bob, carol) = team.founded();
    // The recipients file loses Carol without a re-encryption (a hand edit, a plain-git merge).
    let path = alice.work().join(".age-recipients");
    let text = std::fs::read_to_string(&path).unwrap();
    let without: String = text
        .lines()
        .filter(|l| *l != carol.public && *l != "# carol")
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, without).unwrap();
    let list = team.teamotp(&alice, &["list", "--format", "csv"], "");
    assert_eq!(list.code, 0);
    assert!(
        list.stderr
            .contains("is not encrypted to exactly the keys of")
            && list
                .stderr
                .contains("can open it but is not in .age-recipients")
            && list.stderr.contains("teamotp rekey"),
        "{}",
        list.stderr
    );
    let check = team.teamotp(&alice, &["check"], "");
    assert_eq!(check.code, 1, "{check:?}");
    assert!(
        check
            .stdout
            .contains("can open it but is not in .age-recipients"),
        "{check:?}"
    );
    team.teamotp_ok(&alice, &["members", "ack", "--yes"], "");
    team.teamotp_ok(&alice, &["rekey"], "");
    let vault = std::fs::read(alice.work().join(VAULT)).unwrap();
    assert!(!carol.opens(&vault) && bob.opens(&vault));
    let check = team.teamotp(&alice, &["check"], "");
    assert_eq!((check.code, check.stdout.as_str()), (0, ""), "{check:?}");
}

/// A seeded random team: in each round every member changes their clone (an account of their own
/// added, edited, renamed or removed; Alice also adds or removes a member), then the members sync in a
/// random order, each by merge or rebase. After every sync the syncing member's branch holds exactly the
/// accounts of the changes synced so far, and exactly the current members can open it.
#[test]
fn a_seeded_random_team_keeps_every_change_and_the_right_members() {
    let seed: u64 = std::env::var("TEAMOTP_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026);
    let mut rng = seed;
    let mut next = |n: u64| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) % n
    };
    let team = Team::new();
    let (alice, bob, carol) = team.founded();
    let spares = [team.person("dave"), team.person("erin")];
    let workers = [&alice, &bob, &carol];
    let mut in_team = vec![false, false];
    // The model: account name -> secret index.
    let mut model: std::collections::BTreeMap<String, usize> =
        [("Base".to_owned(), 0)].into_iter().collect();
    let mut counter = 0;
    for round in 0..4 {
        let before = in_team.clone();
        // Each member's change this round, applied to the model when they sync.
        let mut changes: Vec<(usize, Change)> = Vec::new();
        for (w, who) in workers.iter().enumerate() {
            let own: Vec<String> = model
                .keys()
                .filter(|n| n.starts_with(&format!("{}-", who.name)))
                .cloned()
                .collect();
            let action = if own.is_empty() { 0 } else { next(4) };
            counter += 1;
            let secret = 1 + (counter % (SECRETS.len() - 1));
            match action {
                0 => {
                    let name = format!("{}-{counter}", who.name);
                    team.add(who, &name, SECRETS[secret]);
                    changes.push((
                        w,
                        Box::new(move |m| {
                            m.insert(name.clone(), secret);
                        }),
                    ));
                }
                1 => {
                    let name = own[next(own.len() as u64) as usize].clone();
                    team.teamotp_ok(who, &["rm", &name, "--yes"], "");
                    changes.push((
                        w,
                        Box::new(move |m| {
                            m.remove(&name);
                        }),
                    ));
                }
                2 => {
                    let name = own[next(own.len() as u64) as usize].clone();
                    let renamed = format!("{}-{counter}", who.name);
                    team.teamotp_ok(who, &["rename", &name, &renamed], "");
                    changes.push((
                        w,
                        Box::new(move |m| {
                            let s = m.remove(&name).unwrap();
                            m.insert(renamed.clone(), s);
                        }),
                    ));
                }
                _ => {
                    let name = own[next(own.len() as u64) as usize].clone();
                    team.teamotp_ok(who, &["edit", &name, "--digits", "8"], "");
                    changes.push((w, Box::new(|_| {})));
                }
            }
            if w == 0 {
                let spare = next(2) as usize;
                let key = spares[spare].public.clone();
                if in_team[spare] {
                    team.teamotp_ok(who, &["members", "rm", &key, "--yes"], "");
                } else {
                    team.teamotp_ok(
                        who,
                        &["members", "add", &key, "--name", spares[spare].name],
                        "",
                    );
                }
                in_team[spare] = !in_team[spare];
            }
            team.commit(who, &format!("round {round}: {}", who.name));
        }
        // Sync in a random order.
        let mut order: Vec<usize> = vec![0, 1, 2];
        for i in (1..order.len()).rev() {
            order.swap(i, next(i as u64 + 1) as usize);
        }
        for &w in &order {
            let who = workers[w];
            let rebase = next(2) == 0;
            let mode = if rebase { "--rebase" } else { "--no-rebase" };
            let pull = team.git(who, &["pull", "-q", mode, "--no-edit"]);
            if pull.code != 0 {
                // A member this machine has not accepted: the documented path.
                assert!(
                    pull.stderr.contains("teamotp members ack"),
                    "round {round}, {}: {pull:?}",
                    who.name
                );
                team.teamotp_ok(who, &["members", "ack", "--yes"], "");
                let done = if rebase {
                    team.git(who, &["rebase", "--continue"])
                } else {
                    team.git(who, &["commit", "-q", "--no-edit"])
                };
                assert_eq!(done.code, 0, "round {round}, {}: {done:?}", who.name);
            }
            team.teamotp_ok(who, &["members", "ack", "--yes"], "");
            let (_, change) = changes.iter().find(|(i, _)| *i == w).unwrap();
            change(&mut model);
            let expected: Vec<String> = model.keys().cloned().collect();
            assert_eq!(
                team.names(who),
                expected,
                "round {round}, seed {seed}: {}'s accounts",
                who.name
            );
            let mut members: Vec<&Member> = vec![&alice, &bob, &carol];
            let mut outsiders: Vec<&Member> = Vec::new();
            // Alice's membership change of this round is on this branch once she has synced.
            let state = if w == 0 || alice_synced(&order, w) {
                &in_team
            } else {
                &before
            };
            for (spare, member) in spares.iter().enumerate() {
                if state[spare] {
                    members.push(member);
                } else {
                    outsiders.push(member);
                }
            }
            let vault = team.committed(who, "HEAD");
            for m in &members {
                assert!(
                    m.opens(&vault),
                    "round {round}, seed {seed}: {} must open {}'s HEAD",
                    m.name,
                    who.name
                );
            }
            for m in &outsiders {
                assert!(
                    !m.opens(&vault),
                    "round {round}, seed {seed}: {} must NOT open {}'s HEAD",
                    m.name,
                    who.name
                );
            }
            let check = team.teamotp(who, &["check"], "");
            assert_eq!(check.code, 0, "round {round}, {}: {check:?}", who.name);
            assert!(
                !check.stdout.contains("not encrypted to exactly"),
                "round {round}, {}: {check:?}",
                who.name
            );
            team.git_ok(who, &["push", "-q"]);
        }
    }
}

/// A member's change to the model of the vault (account name -> secret index), applied when they sync.
type Change = Box<dyn Fn(&mut std::collections::BTreeMap<String, usize>)>;

/// Alice (worker 0) synced before worker `w` in this round's order.
fn alice_synced(order: &[usize], w: usize) -> bool {
    let pos = |x: usize| order.iter().position(|o| *o == x).unwrap();
    pos(0) < pos(w)
}
