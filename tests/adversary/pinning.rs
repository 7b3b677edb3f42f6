//! Attacks: pinning (see tests/adversary.rs). A teammate with write access to `.age-recipients` tries to
//! get their key into the next write without the writer noticing: a label that rewrites the review on the
//! terminal, a line teamotp skipped, a first write on a fresh clone, `init` over a planted file, a vault
//! path that broke the pin file, a pin that could not be read, and a change that touched only a comment.

use std::fs;
use std::path::PathBuf;

use crate::support::*;

/// The caller's identity (its public key is `age_public("x25519.key")`).
const ME: &str = "keys/x25519.key";

const AWS_LIST: &str = "AWS,,822542,324550,367665,10\n";
const LIST_HEADER: &str = "name,issuer,prev,curr,next,remaining\n";
const RECIPIENTS_PREAMBLE: &str =
    "# teamotp recipients: every write encrypts the vault to exactly these keys.\n\n";

const LABELS_HINT: &str = "teamotp: hint: only the keys are authenticated: labels are comments anyone \
                           with write access can change; compare the keys\n";
const CHANGED_HINTS: &str = "teamotp: hint: if you expected this change (a teammate joined or left), \
                             accept it: teamotp members ack\n\
                             teamotp: hint: if not, someone may have slipped in a key: check the \
                             file's history before going on\n";
const FIRST_USE_HINT: &str = "teamotp: hint: if these are your team's keys, accept them: teamotp \
                              members ack (in a script: teamotp members ack --expect FINGERPRINT, with \
                              the fingerprint checked with a teammate)\n";

/// `teamotp --at AT -i ME -f v.age ARGS` with no terminal.
fn me(sb: &Sandbox, args: &[&str], stdin: &str) -> Out {
    sb.run(
        &[&["--at", AT, "-i", ME, "-f", "v.age"], args].concat(),
        stdin,
    )
}

fn me_pub() -> String {
    age_public("x25519.key")
}

fn mallory_pub() -> String {
    age_public("other.key")
}

/// `SHA256:<hex>` of some bytes, as the review prints a recipients file's fingerprint.
fn fingerprint(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("SHA256:{hex}")
}

/// The pin files of the sandbox's HOME.
fn pins(sb: &Sandbox) -> Vec<PathBuf> {
    let dir = sb.home().join(".local/state/teamotp/pins");
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// `init` of `v.age` encrypted to ME, then `add AWS`.
fn init_with_aws(sb: &Sandbox) {
    me(sb, &["init"], "").expect_code(0, "init");
    me(sb, &["add", "AWS"], "JBSWY3DPEHPK3PXP\n").expect_code(0, "add AWS");
}

fn add_github(sb: &Sandbox) -> Out {
    me(sb, &["add", "GitHub"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
}

fn changed_error(review: &[String], file: &[u8]) -> String {
    let mut text =
        "teamotp: error: the recipients file changed since you last wrote 'v.age':\n".to_owned();
    for line in review {
        text.push_str(&format!("    {line}\n"));
    }
    text.push_str(&format!(
        "    recipients file fingerprint: {}\n",
        fingerprint(file)
    ));
    text.push_str(LABELS_HINT);
    text.push_str(CHANGED_HINTS);
    text
}

#[test]
fn an_escape_laden_label_is_shown_visibly_beside_the_attackers_full_key() {
    let sb = Sandbox::new("teamotp-pin-");
    init_with_aws(&sb);
    let before = fs::read(sb.path("v.age")).unwrap();
    // Cursor up + erase line + line wrap off: on a terminal the old review's `+ LABEL (age1…)` line
    // vanished or read as the caller's own key.
    let label = format!("\x1b[1A\x1b[2K\x1b[?7l    + me ({})", &me_pub()[..20]);
    let mut text = sb.read(".age-recipients");
    text.push_str(&format!("# {label}\n{}\n", mallory_pub()));
    sb.write(".age-recipients", &text);

    let shown = teamotp::text::printable(&label).into_owned();
    let review = [format!("+ {}  # {shown}", mallory_pub())];
    let refused = add_github(&sb).expect_code(2, "add after a planted key");
    assert!(!refused.stderr.contains('\x1b'), "{:?}", refused.stderr);
    assert_eq!(refused.stderr, changed_error(&review, text.as_bytes()));
    assert_eq!(fs::read(sb.path("v.age")).unwrap(), before);

    let ack = me(&sb, &["members", "ack", "--yes"], "").expect_code(0, "ack");
    assert!(!ack.stderr.contains('\x1b'), "{:?}", ack.stderr);
    assert_eq!(
        ack.stderr,
        format!(
            "teamotp: the recipients file changed since your last write:\n    {}\n    recipients file \
             fingerprint: {}\n{LABELS_HINT}teamotp: accepted; the next write encrypts to these 2 \
             recipients (or run 'teamotp rekey' now)\n",
            review[0],
            fingerprint(text.as_bytes())
        )
    );
}

#[test]
fn a_recipients_line_age_cannot_use_is_an_error_and_nothing_is_written() {
    let sb = Sandbox::new("teamotp-pin-");
    init_with_aws(&sb);
    let before = fs::read(sb.path("v.age")).unwrap();
    let good = sb.read(".age-recipients");
    let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY= carol@laptop";
    let cases = [
        (
            format!("{good}# Carol\n{ecdsa}\n"),
            "teamotp: error: ./.age-recipients:5: 'ecdsa-sha2-nistp256' keys are not supported by age\n\
             teamotp: hint: remove the line, or replace it with an age1... key or an ssh-ed25519 or \
             ssh-rsa public key; nothing was written\n"
                .to_owned(),
        ),
        (
            format!("{good}sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5 dave\n"),
            "teamotp: error: ./.age-recipients:4: 'sk-ssh-ed25519@openssh.com' keys are not supported \
             by age\n\
             teamotp: hint: remove the line, or replace it with an age1... key or an ssh-ed25519 or \
             ssh-rsa public key; nothing was written\n"
                .to_owned(),
        ),
        (
            format!("{good}hello world\n"),
            "teamotp: error: ./.age-recipients:4: 'hello world' is not a recipient\n\
             teamotp: hint: each line is an age1... key, an ssh-ed25519 or ssh-rsa public key, or a # \
             comment\n"
                .to_owned(),
        ),
        (
            format!("{good}# again\n{}\n", me_pub()),
            "teamotp: error: ./.age-recipients:5: the key of line 3 is listed again\n\
             teamotp: hint: remove one of the two lines\n"
                .to_owned(),
        ),
    ];
    for (text, stderr) in cases {
        sb.write(".age-recipients", &text);
        assert_eq!(add_github(&sb), Out::new(2, "", &stderr), "{text}");
        assert_eq!(
            me(&sb, &["members", "ack", "--yes"], ""),
            Out::new(2, "", &stderr),
            "{text}"
        );
        assert_eq!(fs::read(sb.path("v.age")).unwrap(), before);
    }
}

#[test]
fn a_fresh_clone_with_a_planted_key_needs_ack_and_expect_accepts_only_that_file() {
    let sb = Sandbox::new("teamotp-pin-");
    init_with_aws(&sb);
    let mut text = sb.read(".age-recipients");
    text.push_str(&format!("# Bob\n{}\n", mallory_pub()));
    sb.write(".age-recipients", &text);
    // A fresh clone, a new machine, a moved checkout: no pin for this vault.
    fs::remove_dir_all(sb.home().join(".local")).unwrap();
    let before = fs::read(sb.path("v.age")).unwrap();
    let right = fingerprint(text.as_bytes());
    let listing = format!(
        "    {}\n    {}  # Bob\n    recipients file fingerprint: {right}\n",
        me_pub(),
        mallory_pub()
    );

    assert_eq!(
        add_github(&sb),
        Out::new(
            2,
            "",
            &format!(
                "teamotp: error: this machine has not accepted the recipients of 'v.age' yet (a new \
                 clone, machine or folder); a write would encrypt every secret to:\n{listing}\
                 {LABELS_HINT}{FIRST_USE_HINT}"
            )
        )
    );
    assert_eq!(fs::read(sb.path("v.age")).unwrap(), before);
    assert!(pins(&sb).is_empty());

    let wrong = format!("SHA256:{}", "0".repeat(64));
    assert_eq!(
        me(&sb, &["members", "ack", "--expect", &wrong], ""),
        Out::new(
            2,
            "",
            &format!(
                "teamotp: the recipients of 'v.age' (none accepted on this machine yet):\n{listing}\
                 {LABELS_HINT}\
                 teamotp: error: the recipients file's fingerprint is {right}, not '{wrong}'; nothing \
                 was accepted\n\
                 teamotp: hint: someone may have changed the file since the fingerprint was taken: \
                 compare the keys above\n"
            )
        )
    );
    assert!(pins(&sb).is_empty());

    // Bare hex in upper case is the same fingerprint.
    let bare = right.trim_start_matches("SHA256:").to_uppercase();
    assert_eq!(
        me(&sb, &["members", "ack", "--expect", &bare], ""),
        Out::new(
            0,
            "",
            &format!(
                "teamotp: the recipients of 'v.age' (none accepted on this machine yet):\n{listing}\
                 {LABELS_HINT}teamotp: accepted; the next write encrypts to these 2 recipients (or run \
                 'teamotp rekey' now)\n"
            )
        )
    );
    add_github(&sb).expect_code(0, "add after ack --expect");
    let pin = fs::read_to_string(&pins(&sb)[0]).unwrap();
    assert!(pin.starts_with("teamotp-pin v2\n"), "{pin}");
}

#[test]
fn init_beside_a_planted_recipients_file_shows_it_and_needs_confirmation() {
    let sb = Sandbox::new("teamotp-pin-");
    let text = format!("# me\n{}\n# Bob\n{}\n", me_pub(), mallory_pub());
    sb.write(".age-recipients", &text);
    let listing = format!(
        "    {}  # me\n    {}  # Bob\n    recipients file fingerprint: {}\n",
        me_pub(),
        mallory_pub(),
        fingerprint(text.as_bytes())
    );
    assert_eq!(
        me(&sb, &["init"], ""),
        Out::new(
            2,
            "",
            &format!(
                "teamotp: './.age-recipients' already exists; the new vault would be encrypted to:\n\
                 {listing}{LABELS_HINT}\
                 teamotp: error: './.age-recipients' lists recipients this machine has not accepted; \
                 nothing was created\n\
                 teamotp: hint: check the keys above, then pass -y/--yes, or accept this exact file \
                 first: teamotp members ack --expect FINGERPRINT\n"
            )
        )
    );
    assert!(!sb.path("v.age").exists());
    assert!(pins(&sb).is_empty());

    me(&sb, &["init", "--yes"], "").expect_code(0, "init --yes");
    assert_eq!(sb.read(".age-recipients"), text);
    add_github(&sb).expect_code(0, "add after init --yes");

    // Accepted beforehand with --expect: init goes ahead without asking.
    let sb = Sandbox::new("teamotp-pin-");
    sb.write(".age-recipients", &text);
    me(
        &sb,
        &["members", "ack", "--expect", &fingerprint(text.as_bytes())],
        "",
    )
    .expect_code(0, "ack before init");
    me(&sb, &["init"], "").expect_code(0, "init after ack");
}

#[test]
fn a_vault_path_with_a_newline_keeps_a_usable_pin() {
    let sb = Sandbox::new("teamotp-pin-");
    let vault = "team\nrepo/v.age";
    let run = |args: &[&str], stdin: &str| {
        sb.run(
            &[&["--at", AT, "-i", ME, "-f", vault], args].concat(),
            stdin,
        )
    };
    run(&["init"], "").expect_code(0, "init");
    run(&["add", "AWS"], "JBSWY3DPEHPK3PXP\n").expect_code(0, "first write");
    run(&["add", "GitHub"], "GEZDGNBVGY3TQOJQ\n").expect_code(0, "second write");
    let pin = fs::read_to_string(&pins(&sb)[0]).unwrap();
    let lines: Vec<&str> = pin.lines().collect();
    assert_eq!(lines.len(), 4, "{pin}");
    assert_eq!(lines[0], "teamotp-pin v2");
    assert!(
        lines[1].starts_with("vault /") && lines[1].ends_with("/team%0Arepo/v.age"),
        "{pin}"
    );
    run(&["members", "ack"], "").expect_code(0, "nothing to accept");
}

#[test]
fn a_corrupt_or_unreadable_pin_blocks_writes_and_is_named() {
    let sb = Sandbox::new("teamotp-pin-");
    init_with_aws(&sb);
    let before = fs::read(sb.path("v.age")).unwrap();
    let pin = pins(&sb).remove(0);
    let shown = pin.display().to_string();
    let hint = "teamotp: hint: it records the recipients file you accepted for 'v.age'; if you did not \
                change it, someone else may have: remove it, then review the recipients with 'teamotp \
                members ack'\n";

    fs::write(&pin, "teamotp-pin v2\nsha256 zz\n").unwrap();
    let out = add_github(&sb).expect_code(2, "corrupt pin");
    assert!(
        out.stderr.starts_with(&format!(
            "teamotp: error: the recipients pin '{shown}' is not usable: "
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.ends_with(hint), "{}", out.stderr);
    assert_eq!(fs::read(sb.path("v.age")).unwrap(), before);

    // Unreadable even for root: a directory where the pin file should be.
    fs::remove_file(&pin).unwrap();
    fs::create_dir(&pin).unwrap();
    let out = add_github(&sb).expect_code(2, "unreadable pin");
    assert!(
        out.stderr.starts_with(&format!(
            "teamotp: error: the recipients pin '{shown}' is not usable: "
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.ends_with(hint), "{}", out.stderr);
    assert_eq!(fs::read(sb.path("v.age")).unwrap(), before);
}

#[test]
fn no_state_directory_refuses_writes_instead_of_skipping_the_pin() {
    let sb = Sandbox::new("teamotp-pin-");
    init_with_aws(&sb);
    let before = fs::read(sb.path("v.age")).unwrap();
    let args = ["--at", AT, "-i", ME, "-f", "v.age", "add", "GitHub"];
    let mut cmd = sb.detached(args);
    cmd.env_remove("HOME");
    let out = execute(cmd, b"GEZDGNBVGY3TQOJQ\n");
    assert_eq!(
        out,
        Out::new(
            2,
            "",
            "teamotp: error: there is no state directory to keep the recipients pin of 'v.age' in, so \
             its recipients cannot be checked; nothing was written\n\
             teamotp: hint: set XDG_STATE_HOME (or HOME) to a directory of your own\n"
        )
    );
    assert_eq!(fs::read(sb.path("v.age")).unwrap(), before);
}

#[test]
fn a_comment_only_change_needs_ack_and_the_review_says_the_keys_are_the_same() {
    let sb = Sandbox::new("teamotp-pin-");
    init_with_aws(&sb);
    let before = fs::read(sb.path("v.age")).unwrap();
    let text = format!("{RECIPIENTS_PREAMBLE}# Mallory\n{}\n", me_pub());
    sb.write(".age-recipients", &text);
    let review = [
        "the keys are the same; only comments or labels changed:".to_owned(),
        format!("~ {}  # Mallory (was: no label)", me_pub()),
    ];
    assert_eq!(
        add_github(&sb),
        Out::new(2, "", &changed_error(&review, text.as_bytes()))
    );
    assert_eq!(fs::read(sb.path("v.age")).unwrap(), before);
    me(&sb, &["members", "ack", "--yes"], "").expect_code(0, "ack");
    add_github(&sb).expect_code(0, "add after ack");
    assert_eq!(
        me(&sb, &["list", "--format", "csv"], "").stdout,
        format!("{LIST_HEADER}{AWS_LIST}GitHub,,276857,921300,732303,10\n")
    );
}
