//! Attacks: spoofable keys (issue 20, finding 2; see tests/adversary.rs). age's SSH recipient parser
//! reads only the first 68 base64 characters of an `ssh-ed25519` key and ignores what is glued after
//! them; teamotp kept the whole token as the key and showed a token over 100 characters by its first and
//! last 20 characters and a hash. A teammate glued the ending of a colleague's key onto their own and
//! labelled the line with the colleague's name: the review never showed a byte of the attacker's key, and
//! after `ack` every write was readable by them. Now a recipient line is read only in its canonical form
//! (whatever the Go `age` CLI refuses is refused, and a second spelling of a key is refused too), and a
//! key is shown whole, or by a SHA-256 fingerprint (`ssh-keygen -l`'s form for SSH keys).
//!
//! Against the code before the fix: `a_key_with_a_colleagues_ending_glued_on_is_refused_naming_the_line`
//! failed (`members ack --yes` accepted the line, exit 0, and the next `add` wrote a vault that
//! `age -d -i keys/id_ed25519` opened); the RSA fingerprint test failed (`members` printed the whole
//! key, the review its ends and a hex hash); the age CLI test failed at the first line teamotp took,
//! `{CAROL}AAAA`, which `members` listed as a member.

use std::process::Command;

use crate::support::*;

const ME: &str = "keys/x25519.key";

/// A colleague's ed25519 key (public part only; made with `ssh-keygen -t ed25519`).
const CAROL: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDNwW0TczxsEzRxwnUhCsTLZaVPJ8mLDDOGz2rngMHay";

fn me(sb: &Sandbox, args: &[&str], stdin: &str) -> Out {
    sb.run(
        &[&["--at", AT, "-i", ME, "-f", "v.age"], args].concat(),
        stdin,
    )
}

/// A vault of ME with Carol as a member, accepted; AWS in it.
fn team_with_carol(sb: &Sandbox) {
    me(sb, &["init"], "").expect_code(0, "init");
    me(sb, &["add", "AWS"], "JBSWY3DPEHPK3PXP\n").expect_code(0, "add AWS");
    me(sb, &["members", "add", CAROL, "--name", "Carol"], "").expect_code(0, "members add");
}

#[test]
fn a_key_with_a_colleagues_ending_glued_on_is_refused_naming_the_line() {
    let sb = Sandbox::new("teamotp-adv-keys-");
    team_with_carol(&sb);
    let pin_dir = sb.home().join(".local/state/teamotp/pins");
    let pins_before: Vec<Vec<u8>> = std::fs::read_dir(&pin_dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let vault = sb.bytes("v.age");

    // Mallory's own key, the last 20 base64 characters of Carol's glued on, and Carol's name.
    let (mallory, _) = ssh_public("id_ed25519.pub");
    let carol_body = CAROL.split_once(' ').unwrap().1;
    let spoof = format!("{mallory}{}", &carol_body[carol_body.len() - 20..]);
    let mut text = sb.read(".age-recipients");
    text.push_str(&format!("# Carol (new laptop)\n{spoof}\n"));
    sb.write(".age-recipients", &text);
    let line = text.lines().count();

    let ack = me(&sb, &["members", "ack", "--yes"], "");
    assert_eq!(
        ack.code, 2,
        "the spoofed line was accepted:\n{}",
        ack.stderr
    );
    assert!(
        ack.stderr.contains(&format!(
            ".age-recipients:{line}: 15 bytes follow the 'ssh-ed25519' key inside its base64"
        )),
        "{}",
        ack.stderr
    );
    // Nothing was accepted and nothing can be written to Mallory.
    let pins_after: Vec<Vec<u8>> = std::fs::read_dir(&pin_dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(pins_after, pins_before);
    let add = me(
        &sb,
        &["add", "GitHub"],
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
    );
    assert_eq!(add.code, 2, "{}", add.stderr);
    assert_eq!(sb.bytes("v.age"), vault);
    let members = me(&sb, &["members"], "");
    assert_eq!((members.code, members.stdout.as_str()), (2, ""));
}

#[test]
fn members_and_the_review_identify_an_rsa_key_by_its_ssh_keygen_fingerprint() {
    let sb = Sandbox::new("teamotp-adv-keys-");
    team_with_carol(&sb);
    let keygen = Command::new(need_program("ssh-keygen"))
        .args(["-l", "-f"])
        .arg(sb.path("keys/id_rsa.pub"))
        .output()
        .unwrap();
    // `2048 SHA256:... COMMENT (RSA)`
    let listed = String::from_utf8(keygen.stdout).unwrap();
    let fingerprint = listed.split(' ').nth(1).unwrap().to_owned();
    assert!(fingerprint.starts_with("SHA256:"), "{listed}");
    let (rsa, _) = ssh_public("id_rsa.pub");

    // A teammate adds the RSA key to the file: the review shows the fingerprint, not the key's ends.
    let mut text = sb.read(".age-recipients");
    text.push_str(&format!("# Dan\n{rsa}\n"));
    sb.write(".age-recipients", &text);
    let ack = me(&sb, &["members", "ack", "--yes"], "").expect_code(0, "ack");
    assert!(
        ack.stderr
            .contains(&format!("    + ssh-rsa {fingerprint}  # Dan\n")),
        "{}",
        ack.stderr
    );
    let members = me(&sb, &["members"], "").expect_code(0, "members");
    let me_key = age_public("x25519.key");
    assert_eq!(
        members.stdout,
        format!(
            "x25519       {me_key}\nssh-ed25519  {CAROL}  # Carol\nssh-rsa      ssh-rsa {fingerprint}  # Dan\n"
        )
    );
}

/// Recipient lines the Go `age` CLI (Debian `age` 1.1.1) refuses as malformed or skips as unusable: the
/// spoof, bytes glued after a key, base64 of the wrong length or padding, a key of the wrong length,
/// spaces before a key or around an age1 key, an upper-case age1 key.
fn age_refuses() -> Vec<String> {
    let carol_body = CAROL.split_once(' ').unwrap().1;
    let (rsa, _) = ssh_public("id_rsa.pub");
    let x25519 = age_public("x25519.key");
    // An ed25519 key of 31 bytes inside a well-formed SSH blob.
    let mut short = vec![0, 0, 0, 11];
    short.extend_from_slice(b"ssh-ed25519");
    short.extend_from_slice(&[0, 0, 0, 31]);
    short.extend_from_slice(&[7; 31]);
    let short = data_encoding::BASE64.encode(&short);
    vec![
        "hello".to_owned(),
        format!("{CAROL}AAAA"),
        format!("{CAROL}xyz"),
        format!("{CAROL}="),
        format!("ssh-ed25519 {}", &carol_body[..carol_body.len() - 1]),
        format!("ssh-ed25519 {short}"),
        format!("{rsa}AAAA"),
        format!("  {CAROL}"),
        format!(" {x25519}"),
        format!("{x25519} "),
        format!("{x25519} # Alice"),
        x25519.to_uppercase(),
        format!("{x25519}x"),
        format!("{CAROL}\u{1b}]52;c;SGVsbG8=\u{7}"),
    ]
}

/// What `age -R FILE` says of a recipients file of `line`: true when it encrypts to it.
fn age_accepts(sb: &Sandbox, line: &str) -> bool {
    let file = sb.write("age-check.txt", format!("{line}\n"));
    let output = Command::new(need_program("age"))
        .arg("-R")
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    output.status.success() && !stderr.contains("ignoring")
}

#[test]
fn every_recipient_line_the_age_cli_refuses_is_refused_naming_the_line() {
    let sb = Sandbox::new("teamotp-adv-keys-");
    me(&sb, &["init"], "").expect_code(0, "init");
    let accepted = sb.read(".age-recipients");
    for line in age_refuses() {
        assert!(!age_accepts(&sb, &line), "age accepts {line:?}");
        let text = format!("{accepted}{line}\n");
        sb.write(".age-recipients", &text);
        let out = me(&sb, &["members"], "");
        let number = text.lines().count();
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{line:?}");
        assert!(
            out.stderr
                .starts_with(&format!("teamotp: error: ./.age-recipients:{number}: ")),
            "{line:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains('\u{1b}'), "{}", out.stderr);
    }
    // What age accepts but is a second spelling of a key: refused too (age reads `ssh-rsa` followed by an
    // ed25519 key as that ed25519 key, and base64 with stray bits after its last byte as its bytes).
    let status = Command::new(need_program("ssh-keygen"))
        .args(["-q", "-t", "rsa", "-b", "3072", "-N", "", "-C", "", "-f"])
        .arg(sb.path("rsa3072"))
        .status()
        .unwrap();
    assert!(status.success());
    let body = sb.read("rsa3072.pub").split(' ').nth(1).unwrap().to_owned();
    let (core, pad) = body.split_at(body.trim_end_matches('=').len());
    assert_eq!(pad, "=", "a 3072-bit key's blob leaves 2 stray bits");
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let last = ALPHABET
        .iter()
        .position(|c| *c == *core.as_bytes().last().unwrap())
        .unwrap();
    let stray = format!(
        "ssh-rsa {}{}=",
        &core[..core.len() - 1],
        ALPHABET[last | 1] as char
    );
    let carol_body = CAROL.split_once(' ').unwrap().1;
    for line in [stray, format!("ssh-rsa {carol_body}")] {
        assert!(age_accepts(&sb, &line), "age refuses {line:?}");
        let text = format!("{accepted}{line}\n");
        sb.write(".age-recipients", &text);
        let out = me(&sb, &["members"], "");
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{line:?}");
        assert!(
            out.stderr.starts_with(&format!(
                "teamotp: error: ./.age-recipients:{}: ",
                text.lines().count()
            )),
            "{line:?}: {}",
            out.stderr
        );
    }
    // What age accepts (and is canonical) stays accepted, comments and options included.
    let (rsa, _) = ssh_public("id_rsa.pub");
    for line in [
        format!("{CAROL} carol@laptop"),
        format!("ssh-ed25519\t{carol_body}"),
        format!("{rsa} dan"),
    ] {
        assert!(age_accepts(&sb, &line), "age refuses {line:?}");
        sb.write(".age-recipients", format!("{accepted}{line}\n"));
        me(&sb, &["members"], "").expect_code(0, &line);
    }
    // The documented exception: `authorized_keys` options, which age skips and teamotp reads.
    sb.write(".age-recipients", format!("{accepted}no-pty {CAROL}\n"));
    let out = me(&sb, &["members"], "").expect_code(0, "options");
    assert!(out.stdout.contains(CAROL), "{}", out.stdout);
}
