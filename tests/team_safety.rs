//! Safety of the team-vault writes (`src/vault/store.rs`, `docs/team-sharing.md` "Every write is safe"):
//!
//! - killed at any moment (SIGKILL, swept across a whole `add`), the vault is the old version or the new
//!   one, never damaged, and whatever a kill leaves behind is ciphertext or empty;
//! - no secret reaches any file (vault directory, `$TMPDIR`, `/dev/shm`, the home directory) in any
//!   encoding, through every writing command;
//! - `store::save` refuses to replace a vault that changed since it was read (a lost update), leaving the
//!   vault, its backup and the directory exactly as they were.
//!
//! Every command runs with `env_clear()`, `HOME` in a temporary directory, and identity fixtures copied
//! there with mode 0600 (git does not keep modes). Nothing uses the network.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use assert_cmd::Command;

mod support;

use support::{AT, TIMEOUT, execute, spaced_lower};

/// The vault, relative to the sandbox root.
const VAULT: &str = "vault/V.age";

/// The start of every binary age file.
const AGE_HEADER: &[u8] = b"age-encryption.org/v1\n";

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// The shared [`support::Sandbox`] (no `keys/`) where `key.txt` is a 0600 copy of
/// `tests/fixtures/age/x25519.key`, `other.key` of `other.key`, and `vault/` holds the vault; its extra
/// environment (`env`) is for `TMPDIR`.
struct Sandbox(support::Sandbox);

support::sandbox_wrapper!(Sandbox);

impl Sandbox {
    fn new(prefix: &str) -> Self {
        let sandbox = support::Sandbox::empty(prefix);
        sandbox.copy_fixture("x25519.key", "key.txt");
        sandbox.copy_fixture("other.key", "other.key");
        Sandbox(sandbox)
    }

    /// The public key (recipient) of an identity in the sandbox, derived from its secret key.
    fn public_key(&self, rel: &str) -> String {
        let text = fs::read_to_string(self.path(rel)).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .expect("an age secret key line");
        age::x25519::Identity::from_str(line)
            .expect("a valid age identity")
            .to_public()
            .to_string()
    }

    /// A `std::process::Command` for `teamotp -f VAULT -i key.txt ARGS...` in the sandbox, with a cleared
    /// environment.
    fn std_command(&self, args: &[&str]) -> StdCommand {
        self.command_on(VAULT, args)
    }

    /// The same for another vault (relative to the root).
    fn command_on(&self, vault: &str, args: &[&str]) -> StdCommand {
        self.0
            .command(["-f", vault, "-i", "key.txt"].iter().chain(args))
    }

    /// Runs `teamotp -f VAULT -i key.txt ARGS...` with `stdin`; returns (exit code, stdout, stderr).
    fn run(&self, args: &[&str], stdin: &str) -> (i32, String, String) {
        let out = execute(self.std_command(args), stdin.as_bytes());
        (out.code, out.stdout, out.stderr)
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let (code, stdout, stderr) = self.run(args, stdin);
        assert_eq!(
            code, 0,
            "teamotp {args:?} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        stdout
    }

    /// `list --format csv --at AT` of `vault` (relative to the root), which must exit 0.
    fn listing_of(&self, vault: &str) -> String {
        let output =
            Command::from_std(self.command_on(vault, &["list", "--format", "csv", "--at", AT]))
                .timeout(TIMEOUT)
                .output()
                .expect("teamotp runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "'{vault}' does not decrypt and parse: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8 output")
    }

    fn listing(&self) -> String {
        self.listing_of(VAULT)
    }
}

/// File names directly in `dir`, sorted.
fn names_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Every regular file under `dir` (recursively; unreadable directories are skipped).
fn files_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            files_under(&entry.path(), found);
        } else if kind.is_file() {
            found.push(entry.path());
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A deterministic pseudo-random 80-bit base32 secret (splitmix64).
fn secret_for(index: u64) -> String {
    let mut state = index.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut bytes = next().to_le_bytes().to_vec();
    bytes.extend_from_slice(&next().to_le_bytes()[..2]);
    data_encoding::BASE32_NOPAD.encode(&bytes)
}

/// Where two listings first differ, for a readable failure.
fn first_difference(actual: &str, expected: &str) -> String {
    let (a, e): (Vec<&str>, Vec<&str>) = (actual.lines().collect(), expected.lines().collect());
    let line = a
        .iter()
        .zip(&e)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(e.len()));
    format!(
        "{} lines vs {} expected; first difference at line {}: {:?} vs {:?}",
        a.len(),
        e.len(),
        line + 1,
        a.get(line),
        e.get(line)
    )
}

// ---------------------------------------------------------------------------------------------------------
// 1. Crash safety: SIGKILL swept across a whole write
// ---------------------------------------------------------------------------------------------------------

/// Accounts in the vault: large enough that a write takes a while to kill inside, small enough that the
/// sweep stays within the time budget in a debug build.
const CRASH_ROWS: u64 = 4_000;
/// Kills in the sweep (fewer if the budget runs out first: the order below covers the range evenly anyway).
const CRASH_ITERATIONS: usize = 40;
/// Stop starting new kills after this long.
const CRASH_BUDGET: Duration = Duration::from_secs(45);
/// Uninterrupted adds timed before the sweep.
const MEASURED_ADDS: usize = 3;
/// The secret of every added account (all new rows then share the same codes).
const NEW_SECRET: &str = "JBSWY3DPEHPK3PXP";

/// Checks what killed writes left in the vault directory: only temp files beside the vault (or beside its
/// backup) that are empty or ciphertext, with no plaintext in them. Returns how many there are.
fn check_leftovers(dir: &Path) -> usize {
    let mut temps = 0;
    for name in names_in(dir) {
        if ["V.age", "V.age.bak", ".age-recipients"].contains(&name.as_str()) {
            continue;
        }
        if name == "V.age.lock" {
            // A killed writer's lock file: it names the holder, nothing else (and blocks nobody).
            let text = fs::read_to_string(dir.join(&name)).unwrap();
            assert!(
                text.is_empty() || text.contains(" pid "),
                "lock file: {text:?}"
            );
            continue;
        }
        assert!(
            // `.V.age.RANDOM.tmp/` (the new vault) or `.V.age.bak.RANDOM.tmp/` (the backup): a private
            // staging directory holding at most the file being written, `new`.
            name.starts_with(".V.age.") && name.ends_with(".tmp"),
            "unexpected file '{name}' in the vault directory"
        );
        let staged = names_in(&dir.join(&name));
        assert!(
            staged.is_empty() || staged.iter().eq(["new"]),
            "'{name}' holds {staged:?}"
        );
        let Some(file) = staged.first() else {
            temps += 1;
            continue;
        };
        let bytes = fs::read(dir.join(&name).join(file)).unwrap();
        let prefix = bytes.len().min(AGE_HEADER.len());
        assert_eq!(
            &bytes[..prefix],
            &AGE_HEADER[..prefix],
            "'{name}' ({} bytes) is neither empty nor age ciphertext",
            bytes.len()
        );
        for plaintext in [
            b"name,issuer".as_slice(),
            b"acct-",
            NEW_SECRET.as_bytes(),
            secret_for(0).as_bytes(),
            secret_for(CRASH_ROWS - 1).as_bytes(),
        ] {
            assert!(
                !contains(&bytes, plaintext),
                "'{name}' holds plaintext ({:?})",
                String::from_utf8_lossy(plaintext)
            );
        }
        temps += 1;
    }
    temps
}

#[test]
fn sigkill_at_any_moment_of_add_leaves_the_old_or_the_new_vault() {
    let started = Instant::now();
    let sandbox = Sandbox::new("teamotp-crash-");
    let recipient = sandbox.public_key("key.txt");

    let mut plain = String::from("name,issuer,secret,digits,period,algorithm,type\n");
    for i in 0..CRASH_ROWS {
        plain.push_str(&format!("acct-{i:05},Issuer {i},{},,,,\n", secret_for(i)));
    }
    fs::write(sandbox.path("plain.csv"), &plain).unwrap();
    sandbox.ok(&["encrypt", "plain.csv", "-r", &recipient], "");
    fs::remove_file(sandbox.path("plain.csv")).unwrap();
    let mut current = sandbox.listing();
    assert_eq!(current.lines().count() as u64, CRASH_ROWS + 1);
    let vault_dir = sandbox.path("vault");
    assert_eq!(check_leftovers(&vault_dir), 0);

    // Uninterrupted adds: how long a write takes (the slowest of a few, as the machine's load varies), and
    // the codes every new row lists (they all have the same secret).
    let mut write_time = Duration::ZERO;
    let mut codes = None;
    for m in 0..MEASURED_ADDS {
        let name = format!("acct-measure-{m}");
        let clock = Instant::now();
        let output = sandbox
            .std_command(&["add", &name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{NEW_SECRET}\n").as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        write_time = write_time.max(clock.elapsed());
        assert!(
            output.status.success(),
            "the measured add failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let after = sandbox.listing();
        let added = after.strip_prefix(current.as_str()).unwrap_or_else(|| {
            panic!(
                "add changed other rows: {}",
                first_difference(&after, &current)
            )
        });
        let row_codes = added
            .strip_prefix(&format!("{name},,"))
            .unwrap_or_else(|| panic!("add appended {added:?}"))
            .to_owned();
        assert_eq!(row_codes.lines().count(), 1, "add appended {added:?}");
        assert_eq!(*codes.get_or_insert_with(|| row_codes.clone()), row_codes);
        current = after;
        assert_eq!(
            check_leftovers(&vault_dir),
            0,
            "a completed add left a temp file"
        );
    }
    let codes = codes.unwrap();

    // Kill times sweep 0..1.2 x write_time; the order (a stride coprime with the count) spreads any prefix
    // of the sweep over the whole range, so stopping at the budget still covers it.
    let (mut before_commit, mut killed_after_commit, mut finished_first) = (0, 0, 0);
    let mut leftovers = 0;
    let mut iterations = 0;
    let loop_started = Instant::now();
    for k in 0..CRASH_ITERATIONS {
        if loop_started.elapsed() > CRASH_BUDGET {
            break;
        }
        iterations += 1;
        let slot = k * 17 % CRASH_ITERATIONS;
        let delay = write_time.mul_f64(1.2 * slot as f64 / (CRASH_ITERATIONS - 1) as f64);
        let name = format!("acct-new-{k:02}");

        let spawned = Instant::now();
        let mut child = sandbox
            .std_command(&["add", &name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("teamotp starts");
        if let Some(mut stdin) = child.stdin.take() {
            // The child may already be dead (delay 0): a broken pipe is fine.
            let _ = stdin.write_all(format!("{NEW_SECRET}\n").as_bytes());
        }
        std::thread::sleep(delay.saturating_sub(spawned.elapsed()));
        // SIGKILL; a child that already exited is a zombie until waited for, so this cannot hit another
        // process.
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        let killed = output.status.signal() == Some(rustix::process::Signal::KILL.as_raw());
        assert!(
            killed || output.status.success(),
            "add {name} neither finished nor was killed ({:?}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );

        let listing = sandbox.listing();
        let new = format!("{current}{name},,{codes}");
        if listing == current {
            assert!(killed, "add {name} exited 0 but the vault is unchanged");
            before_commit += 1;
        } else if listing == new {
            if killed {
                killed_after_commit += 1;
            } else {
                finished_first += 1;
            }
            current = new;
        } else {
            panic!(
                "after killing add {name} at {delay:?} the vault is neither the old nor the new version: {}",
                first_difference(&listing, &new)
            );
        }
        let now_left = check_leftovers(&vault_dir);
        assert!(
            killed || now_left == leftovers,
            "add {name} completed but left a temp file"
        );
        leftovers = now_left;
    }

    // The backup is a whole earlier version: it decrypts, and its rows are a prefix of the vault's.
    let backup = sandbox.listing_of("vault/V.age.bak");
    assert!(
        current.starts_with(&backup) && backup.lines().count() > CRASH_ROWS as usize,
        "V.age.bak is not an earlier version: {}",
        first_difference(&backup, &current)
    );

    eprintln!(
        "crash safety: {CRASH_ROWS} accounts, one add takes {write_time:.2?}; {iterations} adds SIGKILLed after \
         delays swept over 0..{:.2?}: {before_commit} landed before the commit (old vault), {killed_after_commit} after the \
         commit (new vault, process killed), {finished_first} after the add had finished; {leftovers} temp \
         files left behind (all empty or ciphertext); {:.1?} in all",
        write_time.mul_f64(1.2),
        started.elapsed()
    );
    assert!(
        before_commit >= 1,
        "no kill landed before the commit (the delay-0 kill should)"
    );
    if killed_after_commit + finished_first == 0 {
        eprintln!(
            "crash safety: note: no kill landed after the commit (the machine was slower than the measured add)"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// 2. No plaintext on disk
// ---------------------------------------------------------------------------------------------------------

/// A canary secret: 32 base32 characters (20 bytes) starting with CANARY and naming where it is used.
fn canary(tag: &str) -> String {
    let mut text = format!("CANARY{tag}");
    while text.len() < 32 {
        text.push('Q');
    }
    assert!(
        text.len() == 32
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
    );
    text
}

/// Every form a secret could take on disk: base32 as typed, canonical and lower case, the raw key bytes,
/// its hex and its base64 (standard, unpadded, URL-safe).
fn encodings(canonical: &str) -> Vec<(String, Vec<u8>)> {
    use data_encoding::{
        BASE32_NOPAD, BASE64, BASE64_NOPAD, BASE64URL, BASE64URL_NOPAD, HEXLOWER, HEXUPPER,
    };
    let key = BASE32_NOPAD.decode(canonical.as_bytes()).unwrap();
    vec![
        ("base32".into(), canonical.as_bytes().to_vec()),
        (
            "lower-case base32".into(),
            canonical.to_ascii_lowercase().into_bytes(),
        ),
        ("spaced base32".into(), spaced_lower(canonical).into_bytes()),
        ("raw key bytes".into(), key.clone()),
        ("hex".into(), HEXLOWER.encode(&key).into_bytes()),
        ("HEX".into(), HEXUPPER.encode(&key).into_bytes()),
        ("base64".into(), BASE64.encode(&key).into_bytes()),
        (
            "unpadded base64".into(),
            BASE64_NOPAD.encode(&key).into_bytes(),
        ),
        ("base64url".into(), BASE64URL.encode(&key).into_bytes()),
        (
            "unpadded base64url".into(),
            BASE64URL_NOPAD.encode(&key).into_bytes(),
        ),
    ]
}

#[test]
fn no_secret_reaches_any_file_through_any_writing_command() {
    let mut sandbox = Sandbox::new("teamotp-disk-");
    let tmpdir = sandbox.path("tmp");
    fs::create_dir(&tmpdir).unwrap();
    sandbox.env.push(("TMPDIR".into(), tmpdir.clone().into()));
    let shm = Path::new("/dev/shm");
    let shm_before: BTreeSet<PathBuf> = {
        let mut files = Vec::new();
        files_under(shm, &mut files);
        files.into_iter().collect()
    };
    let me = sandbox.public_key("key.txt");
    let other = sandbox.public_key("other.key");

    let plain_secret = canary("PLAINFILE");
    let doomed_secret = canary("REMOVED");
    let stdin_secret = canary("STDIN");
    let spaced_secret = canary("SPACED");
    let uri_secret = canary("URI");
    let edit_secret = canary("EDITED");
    let all = [
        &plain_secret,
        &doomed_secret,
        &stdin_secret,
        &spaced_secret,
        &uri_secret,
        &edit_secret,
    ];

    // encrypt reads a plaintext file the test made, in the vault directory (it is left out of the search).
    fs::create_dir(sandbox.path("vault")).unwrap();
    let plain_path = sandbox.path("vault/plain.csv");
    fs::write(
        &plain_path,
        format!(
            "name,issuer,secret,digits,period,algorithm,type\n\
             plain-acct,Plain,{plain_secret},,,,\n\
             doomed,,{},8,60,SHA256,\n",
            spaced_lower(&doomed_secret)
        ),
    )
    .unwrap();
    fs::set_permissions(&plain_path, fs::Permissions::from_mode(0o600)).unwrap();

    sandbox.ok(&["encrypt", "vault/plain.csv", "-r", &me], "");
    sandbox.ok(&["add", "stdin-acct"], &format!("{stdin_secret}\n"));
    sandbox.ok(
        &["add", "spaced-acct"],
        &format!("{}\n", spaced_lower(&spaced_secret)),
    );
    sandbox.ok(
        &["add", "--uri"],
        &format!("otpauth://totp/UriIssuer:uri-acct?secret={uri_secret}&issuer=UriIssuer\n"),
    );
    sandbox.ok(
        &["edit", "stdin-acct", "--secret"],
        &format!("{}\n", spaced_lower(&edit_secret)),
    );
    sandbox.ok(
        &["edit", "spaced-acct", "--issuer", "Spaced", "--digits", "8"],
        "",
    );
    sandbox.ok(&["rename", "spaced-acct", "spaced-renamed"], "");
    sandbox.ok(&["rm", "doomed", "-y"], "");
    sandbox.ok(&["rekey"], "");
    sandbox.ok(&["members", "add", &other, "--name", "Other"], "");
    sandbox.ok(&["members", "rm", "Other", "-y"], "");

    // The commands did what they say.
    let names: Vec<String> = sandbox
        .listing()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        // An otpauth URI's label `Issuer:account` gives the name `account` (issue 21; the Key URI format,
        // docs/secrets-format.md).
        ["plain-acct", "stdin-acct", "spaced-renamed", "uri-acct"]
    );
    assert_eq!(
        sandbox.ok(&["members"], "").trim(),
        format!("x25519       {me}")
    );
    // And left nothing behind in the vault directory.
    assert_eq!(
        names_in(&sandbox.path("vault")),
        [".age-recipients", "V.age", "V.age.bak", "plain.csv"]
            .into_iter()
            .map(String::from)
            .collect()
    );

    // Search every file: the sandbox (vault directory, TMPDIR, HOME) and what appeared in /dev/shm.
    let mut files = Vec::new();
    files_under(sandbox.root(), &mut files);
    files.retain(|f| f != &plain_path);
    let mut shm_files = Vec::new();
    files_under(shm, &mut shm_files);
    files.extend(shm_files.into_iter().filter(|f| !shm_before.contains(f)));
    assert!(files.contains(&sandbox.path(VAULT)));
    let mut found = Vec::new();
    for file in &files {
        let Ok(bytes) = fs::read(file) else {
            continue;
        };
        for secret in all {
            for (encoding, needle) in encodings(secret) {
                if contains(&bytes, &needle) {
                    found.push(format!("{secret} as {encoding} in {}", file.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "secrets on disk:\n{}", found.join("\n"));
    eprintln!(
        "no plaintext on disk: {} files searched for {} secrets in 10 encodings each",
        files.len(),
        all.len()
    );
}

// ---------------------------------------------------------------------------------------------------------
// 3. Lost updates, through the library
// ---------------------------------------------------------------------------------------------------------

#[test]
fn save_with_the_hash_of_an_older_version_refuses_and_changes_nothing() {
    use teamotp::age::identity;
    use teamotp::age::recipients::Member;
    use teamotp::age::sha256;
    use teamotp::vault::store::{Check, Protection, Request, save};

    let sandbox = Sandbox::new("teamotp-lost-update-");
    let identities = identity::load(&[sandbox.path("key.txt")]).unwrap();
    let members = [Member {
        key: sandbox.public_key("key.txt"),
        label: None,
        line: 1,
    }];
    let dir = sandbox.path("vault");
    fs::create_dir(&dir).unwrap();
    let path = dir.join("V.age");
    let (path_ref, members_ref, identities_ref) = (path.as_path(), &members[..], &identities);
    let request = move |plaintext: &'static [u8], expected_hash: Option<[u8; 32]>| Request {
        path: path_ref,
        plaintext,
        protection: Protection::Recipients(members_ref),
        check: Check::Identities(identities_ref),
        armored: false,
        expected_hash,
        backup: teamotp::vault::store::Backup::Copy,
    };

    save(&request(b"name,secret\none,JBSWY3DPEHPK3PXP\n", None)).unwrap();
    let first = fs::read(&path).unwrap();
    save(&request(
        b"name,secret\none,JBSWY3DPEHPK3PXP\ntwo,JBSWY3DPEHPK3PXP\n",
        Some(sha256(&first)),
    ))
    .unwrap();
    let second = fs::read(&path).unwrap();
    assert_eq!(fs::read(dir.join("V.age.bak")).unwrap(), first);
    let listing = || names_in(&dir);
    let expected: BTreeSet<String> = ["V.age", "V.age.bak"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(listing(), expected);

    // A teammate's save (the second version) happened after we read the first: refused.
    let error = save(&request(
        b"name,secret\none,JBSWY3DPEHPK3PXP\nthree,JBSWY3DPEHPK3PXP\n",
        Some(sha256(&first)),
    ))
    .expect_err("a save over a newer version is refused");
    assert!(
        error
            .message
            .contains("changed on disk since teamotp read it")
            && error.message.contains("nothing was written"),
        "{}",
        error.message
    );
    assert_eq!(fs::read(&path).unwrap(), second, "the vault changed");
    assert_eq!(
        fs::read(dir.join("V.age.bak")).unwrap(),
        first,
        "the backup changed"
    );
    assert_eq!(listing(), expected, "a temp file was left behind");

    // Creating (no hash: the vault must not exist) over a vault that appeared meanwhile: refused too.
    let error = save(&request(b"name,secret\nnew,JBSWY3DPEHPK3PXP\n", None))
        .expect_err("creating over an existing vault is refused");
    assert!(
        error
            .message
            .contains("appeared while teamotp was creating it"),
        "{}",
        error.message
    );
    assert_eq!(fs::read(&path).unwrap(), second, "the vault changed");
    assert_eq!(
        fs::read(dir.join("V.age.bak")).unwrap(),
        first,
        "the backup changed"
    );
    assert_eq!(listing(), expected, "a temp file was left behind");

    // With the current version's hash the same write goes through: the refusal was the hash.
    save(&request(
        b"name,secret\none,JBSWY3DPEHPK3PXP\nthree,JBSWY3DPEHPK3PXP\n",
        Some(sha256(&second)),
    ))
    .unwrap();
    assert_eq!(fs::read(dir.join("V.age.bak")).unwrap(), second);
    assert_eq!(listing(), expected);
}
