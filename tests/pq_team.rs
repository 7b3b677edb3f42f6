//! Post-quantum teams end to end (issue 12): age1pq1 and tag recipients in `.age-recipients`, the refused
//! PQ/classic mix, `members` kinds, the migration (`members add --next`, `members ack --next`, `rekey
//! --post-quantum`, the recorded downgrade), `keygen` and `whoami`, and typage decrypting what teamotp
//! wrote (when node and tests/interop-pq/node_modules exist).

mod support;

use std::path::Path;
use std::process::Command;

use support::{Sandbox, mode};

/// How `members` and reviews show a post-quantum key (issue 20): its prefix and the SHA-256 of its text,
/// as `SHA256:` and unpadded base64.
fn pq_shown(key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    format!(
        "age1pq1 SHA256:{}",
        data_encoding::BASE64_NOPAD.encode(&digest)
    )
}

/// age 0.12's own test vector of a hardware P-256 tag recipient (src/native/tag.rs).
const TAG: &str = "age1tag1qt8lw0ual6avlwmwatk888yqnmdamm7xfd0wak53ut6elz5c4swx2yqdj4e";

/// A sandbox whose own identity (keygen's default) exists: `home/.config/teamotp/identity.txt`.
fn team() -> (Sandbox, String) {
    let sb = Sandbox::new("pq-team-");
    let me = sb.ok(&["keygen"], "").stdout.trim().to_owned();
    (sb, me)
}

fn keygen(sb: &Sandbox, file: &str, pq: bool) -> String {
    let mut args = vec!["keygen", "-o", file];
    if pq {
        args.push("--pq");
    }
    sb.ok(&args, "").stdout.trim().to_owned()
}

fn stanzas(path: &Path) -> Vec<String> {
    teamotp::age::header::stanza_types(&std::fs::read(path).unwrap())
        .into_iter()
        .filter(|t| !t.ends_with("-grease") && !t.contains("grease") && t != "teamotp-recipients")
        .collect()
}

#[test]
fn keygen_writes_0600_never_overwrites_and_prints_the_public_key() {
    let (sb, me) = team();
    assert!(me.starts_with("age1") && !me.starts_with("age1pq1"), "{me}");
    let default = sb.path("home/.config/teamotp/identity.txt");
    assert_eq!(mode(&default), 0o600);
    let before = sb.bytes("home/.config/teamotp/identity.txt");
    let again = sb.run(&["keygen"], "");
    assert_eq!(again.code, 2);
    assert!(again.stdout.is_empty());
    assert!(
        again
            .stderr
            .contains("already exists; teamotp never overwrites an identity"),
        "{}",
        again.stderr
    );
    assert_eq!(sb.bytes("home/.config/teamotp/identity.txt"), before);
    let pq = keygen(&sb, "pq.txt", true);
    assert!(pq.starts_with("age1pq1"), "{pq}");
    assert_eq!(mode(&sb.path("pq.txt")), 0o600);
    assert!(sb.read("pq.txt").contains("\nAGE-SECRET-KEY-PQ-1"));
    assert_eq!(sb.run(&["keygen", "--pq", "-o", "pq.txt"], "").code, 2);
    // whoami: every key of every identity teamotp would use, with its file.
    let who = sb.ok(
        &[
            "-i",
            "pq.txt",
            "-i",
            "home/.config/teamotp/identity.txt",
            "whoami",
        ],
        "",
    );
    // Issue 21: the bare keys on stdout (so `members add "$(teamotp whoami)"` takes one), which is
    // which on stderr.
    assert_eq!(who.stdout, format!("{pq}\n{me}\n"));
    // A post-quantum key is shown by its fingerprint in `members` and reviews: whoami says which.
    let fingerprint = teamotp::age::recipients::fingerprint(&pq);
    assert!(
        who.stderr.contains(&format!(
            "line 1: pq key from pq.txt (fingerprint {fingerprint})\nteamotp: line 2: x25519 key from \
             home/.config/teamotp/identity.txt\n"
        )),
        "{}",
        who.stderr
    );
    let default_who = sb.ok(&["whoami"], "");
    assert_eq!(default_who.stdout, format!("{me}\n"));
    // An SSH key: from KEY.pub, or from the private key file itself.
    let (ssh, _) = support::ssh_public("id_ed25519.pub");
    let who = sb.ok(&["-i", "keys/id_ed25519", "whoami"], "");
    assert_eq!(who.stdout, format!("{ssh}\n"));
    assert!(
        who.stderr
            .contains("line 1: ssh-ed25519 key from keys/id_ed25519"),
        "{}",
        who.stderr
    );
    std::fs::remove_file(sb.path("keys/id_ed25519.pub")).unwrap();
    assert_eq!(
        sb.ok(&["-i", "keys/id_ed25519", "whoami"], "").stdout,
        format!("{ssh}\n")
    );
    // An encrypted identity file: its keys need the passphrase, asked only on a terminal.
    sb.install(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pq/identity-encrypted.age"),
        &sb.path("enc.age"),
    );
    let enc = sb.run(&["-i", "enc.age", "whoami"], "");
    assert_eq!(enc.code, 2);
    assert!(
        enc.stderr
            .contains("is an encrypted identity file: its public keys need its passphrase"),
        "{}",
        enc.stderr
    );
}

#[test]
fn pq_recipients_with_init_add_rm_members_and_rekey() {
    let (sb, _) = team();
    let alice = keygen(&sb, "alice.txt", true);
    let bob = keygen(&sb, "bob.txt", true);
    let carol = keygen(&sb, "carol.txt", true);
    sb.ok(
        &["-f", "v.age", "-i", "alice.txt", "init", "-r", &alice],
        "",
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["mlkem768x25519"]);
    let as_alice = |args: &[&str]| {
        let mut all = vec!["-f", "v.age", "-i", "alice.txt"];
        all.extend_from_slice(args);
        sb.run(&all, "JBSWY3DPEHPK3PXP\n")
    };
    assert_eq!(as_alice(&["add", "AWS"]).code, 0);
    assert_eq!(as_alice(&["members", "add", &bob, "--name", "Bob"]).code, 0);
    assert_eq!(
        as_alice(&["members", "add", &carol, "--name", "Carol"]).code,
        0
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["mlkem768x25519"; 3]);
    let listed = as_alice(&["members"]);
    assert_eq!(
        listed.stdout,
        format!(
            "pq           {}\npq           {}  # Bob\npq           {}  # Carol\n",
            pq_shown(&alice),
            pq_shown(&bob),
            pq_shown(&carol)
        )
    );
    assert_eq!(as_alice(&["members", "rm", "Carol", "--yes"]).code, 0);
    assert_eq!(as_alice(&["rekey"]).code, 0);
    assert_eq!(stanzas(&sb.path("v.age")), ["mlkem768x25519"; 2]);
    // Bob opens it with his post-quantum identity alone; Carol no longer can.
    let list = sb.run(
        &[
            "-f",
            "v.age",
            "-i",
            "bob.txt",
            "--at",
            "1700000000",
            "list",
            "--format",
            "csv",
        ],
        "",
    );
    assert_eq!(
        list.stdout,
        "name,issuer,prev,curr,next,remaining\nAWS,,822542,324550,367665,10\n"
    );
    assert_eq!(
        sb.run(&["-f", "v.age", "-i", "carol.txt", "list"], "").code,
        2
    );
}

#[test]
fn a_pq_and_classic_mix_is_refused_saying_why_and_what_to_do() {
    let (sb, me) = team();
    sb.ok(&["-f", "v.age", "init"], "");
    let pq = keygen(&sb, "pq.txt", true);
    let before = sb.bytes("v.age");
    let refused = sb.run(&["-f", "v.age", "members", "add", &pq, "--name", "Pat"], "");
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.starts_with("teamotp: error: this write would mix post-quantum and classic recipients; nothing was written\n"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("age's 'postquantum' label"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("harvest now, decrypt later"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("teamotp members add --next KEY"),
        "{}",
        refused.stderr
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert!(!sb.read(".age-recipients").contains("age1pq1"));
    let init = sb.run(
        &[
            "-f",
            "w.age",
            "--recipients-file",
            "w.rcp",
            "init",
            "-r",
            &me,
            "-r",
            &pq,
        ],
        "",
    );
    assert_eq!(init.code, 2);
    assert!(
        init.stderr.contains("would mix post-quantum and classic"),
        "{}",
        init.stderr
    );
    assert!(!sb.path("w.age").exists());
}

#[test]
fn tag_recipients_are_members_encrypted_to_with_their_stanza() {
    let (sb, me) = team();
    sb.ok(&["-f", "v.age", "init"], "");
    sb.ok(
        &["-f", "v.age", "members", "add", TAG, "--name", "Yubi"],
        "",
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519", "p256tag"]);
    assert_eq!(
        sb.ok(&["-f", "v.age", "members"], "").stdout,
        format!("x25519       {me}\ntag          {TAG}  # Yubi\n")
    );
    // age1tagpq1 (age 0.12's test vector): post-quantum, so refused beside classic keys and accepted alone.
    let tagpq = include_str!("fixtures/pq/tagpq-recipient.txt").trim();
    let mixed = sb.run(&["-f", "v.age", "members", "add", tagpq], "");
    assert!(
        mixed.stderr.contains("would mix post-quantum and classic"),
        "{}",
        mixed.stderr
    );
    let pq = keygen(&sb, "pq.txt", true);
    sb.ok(
        &[
            "-f",
            "t.age",
            "--recipients-file",
            "t.rcp",
            "-i",
            "pq.txt",
            "init",
            "-r",
            &pq,
            "-r",
            tagpq,
        ],
        "",
    );
    assert_eq!(
        stanzas(&sb.path("t.age")),
        ["mlkem768x25519", "mlkem768p256tag"]
    );
    let listed = sb
        .ok(
            &["-f", "t.age", "--recipients-file", "t.rcp", "members"],
            "",
        )
        .stdout;
    assert!(
        listed
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("tagpq        age1tagpq1"),
        "{listed}"
    );
}

#[test]
fn members_shows_each_kind_in_a_column() {
    let (sb, me) = team();
    let (ssh, _) = support::ssh_public("id_ed25519.pub");
    let (rsa, _) = support::ssh_public("id_rsa.pub");
    sb.ok(
        &["-f", "v.age", "init", "-r", &me, "-r", &ssh, "-r", &rsa],
        "",
    );
    let listed = sb.ok(&["-f", "v.age", "members"], "").stdout;
    let kinds: Vec<&str> = listed
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(kinds, ["x25519", "ssh-ed25519", "ssh-rsa"]);
    assert!(
        listed.lines().all(|l| l.as_bytes()[11..13] == *b"  "),
        "{listed}"
    );
}

#[test]
fn the_migration_prepare_ack_refuse_switch_and_downgrade() {
    let (sb, me) = team();
    let ident = "home/.config/teamotp/identity.txt";
    let bob = keygen(&sb, "bob.txt", false);
    let (ssh, _) = support::ssh_public("id_ed25519.pub");
    sb.ok(
        &["-f", "v.age", "init", "-r", &me, "-r", &bob, "-r", &ssh],
        "",
    );
    sb.ok(&["-f", "v.age", "add", "AWS"], "JBSWY3DPEHPK3PXP\n");
    // Prepare: my PQ key replaces my classic key; nothing is encrypted to it yet.
    let my_pq = keygen(&sb, "my-pq.txt", true);
    let before = sb.bytes("v.age");
    let added = sb.ok(
        &[
            "-f",
            "v.age",
            "members",
            "add",
            "--next",
            &my_pq,
            "--name",
            "Me",
            "--replaces",
            &me,
        ],
        "",
    );
    assert!(
        added
            .stderr
            .contains("nothing is encrypted to it before 'teamotp rekey --post-quantum'"),
        "{}",
        added.stderr
    );
    assert_eq!(sb.bytes("v.age"), before);
    assert!(!sb.read(".age-recipients").contains("age1pq1"));
    assert_eq!(
        sb.read(".age-recipients.next")
            .matches("# replaces: ")
            .count(),
        1
    );
    // A classic key has no place in the next file.
    let classic = sb.run(&["-f", "v.age", "members", "add", "--next", &bob], "");
    assert!(
        classic.stderr.contains("is a classic (x25519) key"),
        "{}",
        classic.stderr
    );
    // Readiness by key: ready, waiting, and an SSH key that cannot become ready (with the reason).
    let listed = sb.ok(&["-f", "v.age", "members"], "");
    assert_eq!(
        listed.stdout,
        format!(
            "x25519       ready    {me}\nx25519       waiting  {bob}\nssh-ed25519  cannot   {ssh}\n"
        )
    );
    assert!(
        listed
            .stderr
            .contains("post-quantum switch: 1 of 3 members ready"),
        "{}",
        listed.stderr
    );
    assert!(
        listed
            .stderr
            .contains("cannot become ready with this key: an SSH key has no post-quantum form"),
        "{}",
        listed.stderr
    );
    // Not ready: refused, listing who.
    let refused = sb.run(
        &[
            "-f",
            "v.age",
            "-i",
            ident,
            "-i",
            "my-pq.txt",
            "rekey",
            "--post-quantum",
        ],
        "",
    );
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains(
            "2 of 3 members are not ready for the post-quantum switch; nothing was written"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("[x25519]: no post-quantum key registered yet"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("[ssh-ed25519]: an SSH key has no post-quantum form"),
        "{}",
        refused.stderr
    );
    assert_eq!(sb.bytes("v.age"), before);
    // Someone else's edit of the next file needs `members ack --next` (pinned like the main file).
    let bob_pq = keygen(&sb, "bob-pq.txt", true);
    let sam_pq = keygen(&sb, "sam-pq.txt", true);
    let mut next = sb.read(".age-recipients.next");
    next.push_str(&format!(
        "# Bob\n# replaces: {bob}\n{bob_pq}\n# Sam\n# replaces: {ssh}\n{sam_pq}\n"
    ));
    sb.write(".age-recipients.next", &next);
    let unaccepted = sb.run(
        &[
            "-f",
            "v.age",
            "-i",
            ident,
            "-i",
            "my-pq.txt",
            "rekey",
            "--post-quantum",
        ],
        "",
    );
    assert!(
        unaccepted
            .stderr
            .contains("this machine accepted another version of './.age-recipients.next'"),
        "{}",
        unaccepted.stderr
    );
    assert!(
        unaccepted.stderr.contains("teamotp members ack --next"),
        "{}",
        unaccepted.stderr
    );
    let ack = sb.ok(&["-f", "v.age", "members", "ack", "--next", "--yes"], "");
    assert!(
        ack.stderr.contains(&format!("+ {}", pq_shown(&bob_pq))),
        "{}",
        ack.stderr
    );
    assert!(
        sb.ok(&["-f", "v.age", "members"], "")
            .stderr
            .contains("3 of 3 members ready")
    );
    // The switch: PQ keys only, .next becomes .age-recipients, the history warning.
    let switched = sb.ok(
        &[
            "-f",
            "v.age",
            "-i",
            ident,
            "-i",
            "my-pq.txt",
            "rekey",
            "--post-quantum",
        ],
        "",
    );
    assert!(
        switched
            .stderr
            .contains("switched v.age to post-quantum keys: re-encrypted to 3 recipients"),
        "{}",
        switched.stderr
    );
    assert!(switched.stderr.contains("older versions of the vault (git history, clones, backups) stay encrypted to the classic keys"), "{}", switched.stderr);
    assert!(
        switched.stderr.contains("re-enrol these accounts"),
        "{}",
        switched.stderr
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["mlkem768x25519"; 3]);
    assert_eq!(sb.read(".age-recipients"), next);
    assert!(!sb.path(".age-recipients.next").exists());
    for identity in ["my-pq.txt", "bob-pq.txt", "sam-pq.txt"] {
        assert_eq!(
            sb.run(&["-f", "v.age", "-i", identity, "list"], "").code,
            0,
            "{identity}"
        );
    }
    assert_eq!(
        sb.run(&["-f", "v.age", "-i", "bob.txt", "list"], "").code,
        2
    );
    // Back to classic keys: a downgrade, refused without --force, loud with it, recorded and reported.
    sb.write(".age-recipients", format!("# Me\n{me}\n"));
    sb.ok(&["-f", "v.age", "members", "ack", "--yes"], "");
    let both = ["-f", "v.age", "-i", ident, "-i", "my-pq.txt"];
    let down = sb.run(&[&both[..], &["rekey"]].concat(), "");
    assert_eq!(down.code, 2);
    assert!(
        down.stderr.contains(
            "is encrypted to post-quantum keys only; this write would DOWNGRADE it to classic keys"
        ),
        "{}",
        down.stderr
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["mlkem768x25519"; 3]);
    let forced = sb.ok(&[&both[..], &["rekey", "--force"]].concat(), "");
    assert!(
        forced.stderr.contains("WARNING: DOWNGRADE"),
        "{}",
        forced.stderr
    );
    assert_eq!(stanzas(&sb.path("v.age")), ["X25519"]);
    let pins = sb.names("home/.local/state/teamotp/pins");
    let pin = sb.read(&format!("home/.local/state/teamotp/pins/{}", pins[0]));
    assert!(pin.lines().any(|l| l.starts_with("downgrade ")), "{pin}");
    let later = sb.ok(&["-f", "v.age", "rename", "AWS", "AWS2"], "");
    assert!(
        later
            .stderr
            .contains("was downgraded from post-quantum to classic keys on "),
        "{}",
        later.stderr
    );
}

#[test]
fn typage_decrypts_a_vault_teamotp_encrypted_to_pq_recipients() {
    let Some(dir) = support::typage_dir() else {
        return;
    };
    let (sb, _) = team();
    let alice = keygen(&sb, "alice.txt", true);
    let bob = keygen(&sb, "bob.txt", true);
    sb.ok(
        &[
            "-f",
            "v.age",
            "-i",
            "alice.txt",
            "init",
            "-r",
            &alice,
            "-r",
            &bob,
        ],
        "",
    );
    sb.ok(
        &["-f", "v.age", "-i", "alice.txt", "add", "AWS"],
        "JBSWY3DPEHPK3PXP\n",
    );
    let output = Command::new("node")
        .arg(dir.join("decrypt.mjs"))
        .arg(sb.path("bob.txt"))
        .arg(sb.path("v.age"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("AWS,,JBSWY3DPEHPK3PXP"));
}
