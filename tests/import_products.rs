//! `teamotp import` of password-manager and authenticator-app exports (issue 22), with real export
//! files from other projects' test data (`tests/fixtures/import/products/`, see its SOURCES file): each
//! imports the accounts those projects assert, with the codes oathtool computes at 1700000000.
//! Encrypted files: the right password, a wrong one, a cut-off file. Hostile files: KDF parameters
//! above the caps are refused before any work, a zip bomb stops at the cap, deep JSON is refused.

use std::io::Write;
use std::path::{Path, PathBuf};

mod support;

use support::{AT, BIN, Out, TIMEOUT, need_program, xdg_env};

const PRODUCTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/import/products"
);

/// The accounts of Aegis's test vectors (`VaultEntries.java`, `plain.txt`) that are TOTP or Steam,
/// with their codes at AT: `oathtool --totp[=sha256|sha512] -b -N @1700000000 -d DIGITS -s PERIOD
/// SECRET`, and the Steam code computed in Python (HMAC-SHA1, dynamic truncation, 5 characters of
/// `23456789BCDFGHJKMNPQRTVWXY`).
const MASON: (&str, &str, &str) = ("Mason", "Deno", "790195");
const JAMES: (&str, &str, &str) = ("James", "SPDX", "9993814");
const ELIJAH: (&str, &str, &str) = ("Elijah", "Airbnb", "65516786");
const SOPHIA: (&str, &str, &str) = ("Sophia", "Boeing", "747JR");

/// The HOTP vectors, which every importer must list as left out.
const HOTP: [&str; 3] = ["James", "Benjamin", "Mason"];

fn product(name: &str) -> PathBuf {
    Path::new(PRODUCTS).join(name)
}

/// The shared [`support::Sandbox`] with a new, empty vault (`team/vault.csv.age`).
struct Sandbox(support::Sandbox);

support::sandbox_wrapper!(Sandbox);

impl Sandbox {
    fn new() -> Self {
        let sandbox = Sandbox(support::Sandbox::empty("teamotp-import-products-"));
        let out = sandbox.run(&["init"]);
        assert_eq!(out.code, 0, "init failed: {out:?}");
        sandbox
    }

    fn vault(&self) -> PathBuf {
        self.path("team").join("vault.csv.age")
    }

    /// `teamotp --at AT -f VAULT ARGS` without a controlling terminal.
    fn run(&self, args: &[&str]) -> Out {
        let mut command = assert_cmd::Command::new(need_program("setsid"));
        command
            .env_clear()
            .envs(xdg_env(&self.home()))
            .current_dir(self.root())
            .arg("-w")
            .arg(BIN)
            .args(["--at", AT, "-f"])
            .arg(self.vault())
            .args(args)
            .timeout(TIMEOUT);
        let output = command.output().unwrap();
        Out {
            code: output.status.code().expect("teamotp ended by a signal"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }

    /// `import [--password-file F] FILE`, the password written to a file of the sandbox first.
    fn import(&self, file: &Path, password: Option<&str>) -> Out {
        let mut args = vec!["import".to_owned()];
        if let Some(password) = password {
            let path = self.write("password.txt", format!("{password}\n"));
            args.extend(["--password-file".to_owned(), path.display().to_string()]);
        }
        args.push(file.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args)
    }

    /// `list --format csv` at AT: (name, issuer, current code) of every account.
    fn list(&self) -> Vec<(String, String, String)> {
        let out = self.run(&["list", "--format", "csv"]);
        assert_eq!(out.code, 0, "{out:?}");
        let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_owned(), r[1].to_owned(), r[3].to_owned())
            })
            .collect()
    }

    /// The vault's bytes: what a refused import must leave alone.
    fn vault_bytes(&self) -> Vec<u8> {
        std::fs::read(self.vault()).unwrap()
    }
}

/// Every secret of the fixtures' accounts (base32, as the files or their URIs hold them): no output
/// may contain one.
const SECRETS: [&str; 18] = [
    "Y64VEVMBTSXCYIWRSHRNDZW62MPGVU2G",
    "I65VU7K5ZQL7WB4E",
    "TESTSECRET",
    "STEAMSECRETKEY",
    "4SJHB4GSD43FZBAI7C2HLRJGPQ",
    "5OM4WOOGPLQEF6UGN3CPEOOLWU",
    "7ELGJSGXNCCTV3O6LKJWYFV2RA",
    "JRZCL47CMXVOQMNPZR2F7J4RGI",
    "YOOMIXWS5GN6RTBPUFFWKTW5M4",
    "KUVJJOM753IHTNDSZVCNKL7GII",
    "5VAML3X35THCEBVRLV24CGBKOY",
    "JBSWY3DPEHPK3PXP",
    "DFDFDEF",
    "fsfsfsfsefefef",
    "MI4GCOJSGIZTKLJSGMZWKLJUGEZDQLJYG5STILJSMUYDIYTCMQ3TSOJRGI",
    "554VBDOGJRLDG2JV",
    "PIBTGMBYQYVSLN5PVZYQUTKYHOBRYYT7",
    "J4YFC3TZKVYWCVCNIVBWIV2GHFAXUNDF",
];

fn no_secret(what: &str, out: &Out) {
    for secret in SECRETS {
        for text in [&out.stdout, &out.stderr] {
            assert!(
                !text.to_uppercase().contains(&secret.to_uppercase()),
                "{what}: a secret in the output:\n{text}"
            );
        }
    }
}

fn rows(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    expected
        .iter()
        .map(|(n, i, c)| ((*n).to_owned(), (*i).to_owned(), (*c).to_owned()))
        .collect()
}

/// Imports `file` and asserts exit 0, the accounts (in the vault's order) and the left-out HOTP names.
fn imports(file: &str, password: Option<&str>, want: &[(&str, &str, &str)], hotp: &[&str]) -> Out {
    let sandbox = Sandbox::new();
    let out = sandbox.import(&product(file), password);
    assert_eq!(out.code, 0, "{file}: {out:?}");
    assert!(out.stdout.is_empty(), "{file}: {out:?}");
    no_secret(file, &out);
    assert_eq!(sandbox.list(), rows(want), "{file}: {}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "teamotp: imported {} account{} from ",
            want.len(),
            if want.len() == 1 { "" } else { "s" }
        )),
        "{file}: {}",
        out.stderr
    );
    for name in hotp {
        assert!(
            out.stderr.lines().any(|l| l.starts_with("  ! ")
                && l.contains(name)
                && l.contains("not imported: HOTP")),
            "{file}: HOTP {name} not listed:\n{}",
            out.stderr
        );
    }
    if hotp.is_empty() {
        assert!(!out.stderr.contains("left out"), "{file}: {}", out.stderr);
    } else {
        assert!(
            out.stderr
                .contains(&format!("teamotp: {} entries left out:\n", hotp.len())),
            "{file}: {}",
            out.stderr
        );
    }
    out
}

/// A refused import: exit 2, an error naming the file and `reason`, the vault untouched.
fn refused(file: &Path, password: Option<&str>, reason: &str) {
    let sandbox = Sandbox::new();
    let before = sandbox.vault_bytes();
    let out = sandbox.import(file, password);
    assert_eq!(out.code, 2, "{}: {out:?}", file.display());
    no_secret(&file.display().to_string(), &out);
    assert!(
        out.stderr
            .starts_with(&format!("teamotp: error: cannot import {}", file.display()))
            && out.stderr.contains("nothing was imported")
            && out.stderr.contains(reason),
        "{}: want {reason:?}:\n{}",
        file.display(),
        out.stderr
    );
    assert_eq!(sandbox.vault_bytes(), before, "{}", file.display());
}

/// An encrypted fixture: with `password` it imports `want` (and lists `hotp` as left out); with
/// `wrong` it is refused as a wrong password for `product`; cut to half its bytes it is refused with
/// `cut` in the message.
fn encrypted(
    file: &str,
    password: &str,
    want: &[(&str, &str, &str)],
    hotp: &[&str],
    (wrong, product): (&str, &str),
    cut: &str,
) -> Out {
    let out = imports(file, Some(password), want, hotp);
    refused(
        &self::product(file),
        Some(wrong),
        &format!("wrong password for this {product}"),
    );
    let scratch = support::Sandbox::empty("teamotp-import-cut-");
    refused(&truncated(&scratch, file, 0.5), Some(password), cut);
    out
}

/// A copy of a product fixture cut to `keep` of its bytes, in `sandbox`.
fn truncated(sandbox: &support::Sandbox, file: &str, keep: f64) -> PathBuf {
    let bytes = std::fs::read(product(file)).unwrap();
    let cut = (bytes.len() as f64 * keep) as usize;
    sandbox.write(&format!("cut-{file}"), &bytes[..cut])
}

// ---------------------------------------------------------------------------------------------------------
// Authenticator apps, encrypted (Aegis's importer test data; password "test")
// ---------------------------------------------------------------------------------------------------------

#[test]
fn aegis_encrypted_vault_right_wrong_and_cut_off() {
    let out = encrypted(
        "aegis-encrypted.json",
        "test",
        &[MASON, JAMES, ELIJAH, SOPHIA],
        &HOTP,
        ("tset", "Aegis encrypted vault"),
        "not valid JSON",
    );
    // A file that needed a password is not plaintext: no reminder to shred it.
    assert!(
        !out.stderr.contains("remove the plaintext"),
        "{}",
        out.stderr
    );
    let scratch = support::Sandbox::empty("teamotp-import-cut-");
    // The vault's Base64 cut short inside valid JSON: the password is right, the contents are not.
    let text = std::fs::read_to_string(product("aegis-encrypted.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let db = value["db"].as_str().unwrap();
    let mut shortened = value.clone();
    shortened["db"] = serde_json::Value::String(db[..db.len() / 2 / 4 * 4].to_owned());
    let file = scratch.write("short-db.json", shortened.to_string());
    refused(&file, Some("test"), "the file is damaged or cut off");
}

#[test]
fn two_fas_encrypted_backup_right_wrong_and_cut_off() {
    encrypted(
        "2fas-encrypted-v4.2fas",
        "test",
        &[MASON, SOPHIA],
        &HOTP,
        ("TEST", "2FAS encrypted backup"),
        "not valid JSON",
    );
}

#[test]
fn and_otp_encrypted_backup_right_wrong_and_cut_off() {
    encrypted(
        "andotp-encrypted.bin",
        "test",
        &[MASON, JAMES, ELIJAH, SOPHIA],
        &HOTP,
        ("test ", "andOTP encrypted backup"),
        "wrong password for this andOTP encrypted backup (or the file is damaged)",
    );
}

#[test]
fn authenticator_pro_backups_plain_encrypted_and_legacy() {
    // Aegis's Stratum (Authenticator Pro) fixtures, password "test": Argon2id + AES-GCM, and the legacy
    // PBKDF2-SHA1 + AES-CBC format.
    let all = [MASON, JAMES, ELIJAH, SOPHIA];
    imports("authenticator-pro-plain.json", None, &all, &HOTP);
    for file in [
        "authenticator-pro-encrypted.bin",
        "authenticator-pro-encrypted-legacy.bin",
    ] {
        encrypted(
            file,
            "test",
            &all,
            &HOTP,
            ("Test", "Authenticator Pro encrypted backup"),
            "wrong password for this Authenticator Pro encrypted backup (or the file is damaged)",
        );
    }
}

#[test]
fn encrypted_export_without_a_terminal_or_password_file_names_the_product() {
    let sandbox = Sandbox::new();
    let out = sandbox.import(&product("aegis-encrypted.json"), None);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(
            "the file is encrypted (Aegis encrypted vault) and there is no terminal to ask for its \
             password (--password-file FILE reads it from a file)"
        ),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------------------------
// Authenticator apps, plain (Aegis's importer test data)
// ---------------------------------------------------------------------------------------------------------

#[test]
fn ente_auth_plain_export() {
    // Ente writes otpauth URIs with its own `codeDisplay` parameter; the label keeps its issuer prefix
    // as otpauth lists do (src/vault/format/otpauth.rs decides how a label splits).
    let sandbox = Sandbox::new();
    let out = sandbox.import(&product("ente-auth.txt"), None);
    assert_eq!(out.code, 0, "{out:?}");
    let listed = sandbox.list();
    for (name, issuer, code) in [MASON, JAMES, ELIJAH, SOPHIA] {
        assert!(
            listed
                .iter()
                .any(|(n, i, c)| n.ends_with(name) && i == issuer && c == code),
            "{name} {issuer} {code} in {listed:?}"
        );
    }
    assert_eq!(listed.len(), 4, "{listed:?}");
    assert!(
        out.stderr.contains("teamotp: 3 entries left out:"),
        "{}",
        out.stderr
    );
}

#[test]
fn proton_authenticator_export() {
    imports(
        "proton-authenticator.json",
        None,
        &[MASON, JAMES, ELIJAH],
        &[],
    );
}

#[test]
fn ente_auth_encrypted_export_with_entes_own_vector() {
    // No Ente encrypted export is public: the file wraps the values of Ente's CLI test vector
    // (TestDecryptChaCha20poly1305: password "test_password", salt, 64 MiB, 2 passes, a secretstream
    // message holding "plain_text") in Ente's documented export JSON. It decrypts to one line that is
    // no otpauth URI, so that line is left out: only the right key can show it.
    let file = "ente-auth-encrypted-cli-vector.json";
    let sandbox = Sandbox::new();
    let before = sandbox.vault_bytes();
    let out = sandbox.import(&product(file), Some("test_password"));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "teamotp: 1 entry left out:\n  ! line 1: not imported: not an otpauth:// URI\n"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.vault_bytes(), before);
    refused(
        &product(file),
        Some("test_passwore"),
        "wrong password for this Ente Auth encrypted export",
    );
    let scratch = support::Sandbox::empty("teamotp-import-cut-");
    refused(
        &truncated(&scratch, file, 0.5),
        Some("test_password"),
        "not valid JSON",
    );
    // The nonce cut short inside valid JSON.
    let text = std::fs::read_to_string(product(file)).unwrap();
    let short = scratch.write(
        "short-nonce.json",
        text.replace("v7wsI+BFZsRMIjDm3rTxPhmi/CaUdkdJ", "v7wsI+BFZsRMIjDm"),
    );
    refused(
        &short,
        Some("test_password"),
        "encryptionNonce is not 24 bytes",
    );
}

#[test]
fn proton_authenticator_exports_of_ente_plain_and_encrypted() {
    // Ente's Proton Authenticator fixtures: the plain export and the same accounts password-protected
    // (password "1231246": Argon2id, AES-256-GCM with associated data). Ente's test asserts the
    // issuers, accounts and secrets; the codes are oathtool's.
    let want = [
        ("example@ente.io", ".env", "622262"),
        ("cool@ente.com", "/e/", "765252"),
        ("simple@ente.sh", "ente", "845273"),
        ("r@ente.com", "reddit", "909741"),
    ];
    imports("proton-authenticator-ente.json", None, &want, &[]);
    encrypted(
        "proton-authenticator-ente-encrypted.json",
        "1231246",
        &want,
        &[],
        ("wrong-password", "Proton Authenticator encrypted export"),
        "not valid JSON",
    );
}

#[test]
fn lastpass_authenticator_exports() {
    // Bitwarden Authenticator's LastPass Authenticator test data (Kotlin constants, copied verbatim):
    // the original user and issuer names name the account, as Bitwarden's test asserts.
    imports(
        "lastpass-authenticator.json",
        None,
        &[("test@example.com", "Test Issuer", "324550")],
        &[],
    );
    // userName "modified@github.com", originalUserName "user@github.com"; secret TESTSECRET (oathtool
    // 045137).
    imports(
        "lastpass-authenticator-original-names.json",
        None,
        &[("user@github.com", "GitHub", "045137")],
        &[],
    );
}

#[test]
fn bitwarden_authenticator_exports() {
    // Bitwarden Authenticator's own test data (its export shape: `encrypted` and `items`): an otpauth
    // URI, and a `steam://` secret of 14 symbols (6 stray bits dropped; 8 bytes, Steam code KG6F5
    // computed in Python).
    imports(
        "bitwarden-authenticator.json",
        None,
        &[("user", "GitHub", "324550")],
        &[],
    );
    let out = imports(
        "bitwarden-authenticator-steam.json",
        None,
        &[("Steam", "", "KG6F5")],
        &[],
    );
    assert!(
        out.stderr.contains("(secret normalised: "),
        "{}",
        out.stderr
    );
}

#[test]
fn freeotp_plus_export() {
    // FreeOTP+ keeps secrets as signed bytes; its token order lists the HOTP ones first.
    imports("freeotp-plus.json", None, &[ELIJAH, JAMES, MASON], &HOTP);
}

// ---------------------------------------------------------------------------------------------------------
// Bitwarden
// ---------------------------------------------------------------------------------------------------------

#[test]
fn bitwarden_json_and_csv_exports() {
    // Aegis's Bitwarden fixtures: otpauth URIs (named by their label and issuer) and a steam:// secret
    // (named by the item's title, as there is no user name).
    imports(
        "bitwarden.json",
        None,
        &[MASON, JAMES, ELIJAH, ("Test Steam", "", "747JR")],
        &[],
    );
    let out = imports(
        "bitwarden.csv",
        None,
        &[MASON, JAMES, ELIJAH, ("Test 4", "", "747JR")],
        &[],
    );
    assert!(
        out.stderr
            .contains("teamotp: hint: now remove the plaintext"),
        "{}",
        out.stderr
    );
}

#[test]
fn bitwarden_passkeys_are_listed_as_left_out() {
    // KeePassXC's Bitwarden passkey fixture: two logins with a passkey (fido2Credentials) and no TOTP.
    let file = product("bitwarden-keepassxc-passkey.json");
    let sandbox = Sandbox::new();
    let before = sandbox.vault_bytes();
    let out = sandbox.import(&file, None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "teamotp: 2 entries left out:\n  ! webauthn.io (KPXC_BITWARDEN): not imported: a passkey: \
             teamotp holds one-time-password secrets only (the passkey stays in the password \
             manager)\n  ! webauthn.io b64 (KPXC_BITWARDEN): not imported: a passkey"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(sandbox.vault_bytes(), before);
}

#[test]
fn bitwarden_password_protected_exports_pbkdf2_and_argon2id() {
    // bitwarden_backup_decryptor's fixtures (password "passphrase"): the one login's TOTP is
    // "otpauth://totp/my-secret-key", a URI with no secret, so it is listed as left out under the
    // item's title and user name, which only a correct decryption can show.
    for file in [
        "bitwarden-pbkdf2.json",
        "bitwarden-argon2id.json",
        "bitwarden-maximum-pbkdf2.json",
    ] {
        let sandbox = Sandbox::new();
        let before = sandbox.vault_bytes();
        let out = sandbox.import(&product(file), Some("passphrase"));
        assert_eq!(out.code, 1, "{file}: {out:?}");
        assert!(
            out.stderr.contains(
                "teamotp: 1 entry left out:\n  ! Login Name (myusername@gmail.com): not imported: \
                 the URI has no secret= parameter\n"
            ),
            "{file}: {}",
            out.stderr
        );
        assert!(
            out.stderr.ends_with(&format!(
                "teamotp: nothing was imported from {}: every entry was left out\n",
                product(file).display()
            )),
            "{file}: {}",
            out.stderr
        );
        assert_eq!(sandbox.vault_bytes(), before, "{file}");
    }
    for file in ["bitwarden-pbkdf2.json", "bitwarden-argon2id.json"] {
        refused(
            &product(file),
            Some("passphraseA"),
            "wrong password for this Bitwarden password-protected export",
        );
        let scratch = support::Sandbox::empty("teamotp-import-cut-");
        refused(
            &truncated(&scratch, file, 0.5),
            Some("passphrase"),
            "not valid JSON",
        );
        // The data field cut short inside valid JSON: its MAC does not verify.
        let mut value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(product(file)).unwrap()).unwrap();
        let data = value["data"].as_str().unwrap().to_owned();
        let (head, mac) = data.rsplit_once('|').unwrap();
        let (iv, cipher) = head.split_once('|').unwrap();
        value["data"] = format!("{iv}|{}|{mac}", &cipher[..cipher.len() / 2 / 4 * 4]).into();
        let short = scratch.write("short-data.json", value.to_string());
        refused(&short, Some("passphrase"), "damaged or cut off");
    }
}

#[test]
fn bitwarden_kdf_parameters_above_the_caps_are_refused_before_any_work() {
    let scratch = support::Sandbox::empty("teamotp-import-caps-");
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(product("bitwarden-argon2id.json")).unwrap())
            .unwrap();
    let cases: [(&str, serde_json::Value, &str); 3] = [
        (
            "kdfMemory",
            2048.into(),
            "2048 MiB of memory, above the cap of 1024 MiB",
        ),
        ("kdfIterations", 65.into(), "65 passes, above the cap of 64"),
        ("kdfParallelism", 64.into(), "64 lanes, above the cap of 16"),
    ];
    for (field, value, reason) in cases {
        let mut hostile = original.clone();
        hostile[field] = value;
        let file = scratch.write(&format!("{field}.json"), hostile.to_string());
        // No password file and no terminal: the cap is what stops it, before the password is asked.
        refused(&file, None, reason);
    }
    // 1 GiB over 11 passes: each parameter within its cap, the work above it.
    let mut work = original.clone();
    work["kdfMemory"] = 1024.into();
    work["kdfIterations"] = 11.into();
    let file = scratch.write("work.json", work.to_string());
    refused(
        &file,
        None,
        "1024 MiB and 11 passes, above the cap of 10 passes over 1024 MiB",
    );
    let mut pbkdf2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(product("bitwarden-pbkdf2.json")).unwrap()).unwrap();
    pbkdf2["kdfIterations"] = 10_000_001.into();
    let file = scratch.write("iterations.json", pbkdf2.to_string());
    refused(
        &file,
        None,
        "PBKDF2 with 10000001 iterations, above the cap of 10000000",
    );
}

#[test]
fn bitwarden_exports_of_keepassxc() {
    // KeePassXC's Bitwarden fixtures: the plain export's "Login Name" has an otpauth URI whose secret,
    // DFDFDEF=, is 7 symbols (4 bytes, oathtool 238248).
    imports(
        "bitwarden-keepassxc.json",
        None,
        &[("myusername@gmail.com", "Google", "238248")],
        &[],
    );
    // The password-protected ones (password "a"; PBKDF2 and Argon2id) hold one login, "KeePassXC" /
    // keepassxc, whose TOTP is the bare secret "fsfsfsfsefefef": 14 symbols, 70 bits, so 6 stray bits
    // are dropped (oathtool refuses the string; 304179 is HMAC-SHA1 of its first 8 bytes, in Python).
    for file in [
        "bitwarden-keepassxc-pbkdf2.json",
        "bitwarden-keepassxc-argon2id.json",
    ] {
        let out = imports(
            file,
            Some("a"),
            &[("keepassxc", "KeePassXC", "304179")],
            &[],
        );
        assert!(
            out.stderr.contains(
                "  + keepassxc (KeePassXC) · SHA1 · 6 digits · 30 s (secret normalised: stray bits \
                 after its last whole byte dropped, as the source app does)\n"
            ),
            "{file}: {}",
            out.stderr
        );
        refused(
            &product(file),
            Some("b"),
            "wrong password for this Bitwarden password-protected export",
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// LastPass
// ---------------------------------------------------------------------------------------------------------

#[test]
fn lastpass_csv_export() {
    // Bitwarden's LastPass CSV test ("should parse login with totp"): example.com / someUser, TOTP
    // Y64VEVMBTSXCYIWRSHRNDZW62MPGVU2G (oathtool 130345). Its data row is indented, as in the test.
    imports(
        "lastpass-bitwarden-clients.csv",
        None,
        &[("someUser", "example.com", "130345")],
        &[],
    );
}

// ---------------------------------------------------------------------------------------------------------
// Keeper
// ---------------------------------------------------------------------------------------------------------

#[test]
fn keeper_json_export_names_the_same_account_at_three_records_apart() {
    // Four records of Bitwarden's Keeper test export: three share one otpauth URI (label
    // totp@authenticationtest.com, an empty issuer=; oathtool 914433), one (a Wi-Fi record) has no code.
    // The URI's label names each, the record's title fills in the issuer, and the second and third are
    // qualified by it.
    let out = imports(
        "keeper-bitwarden-clients.json",
        None,
        &[
            (
                "totp@authenticationtest.com",
                "General Information Record",
                "914433",
            ),
            (
                "totp@authenticationtest.com (Wells Fargo Checking)",
                "Wells Fargo Checking",
                "914433",
            ),
            (
                "totp@authenticationtest.com (Amazon Account)",
                "Amazon Account",
                "914433",
            ),
        ],
        &[],
    );
    // The issuer is not repeated after a name that already holds it.
    assert!(
        out.stderr.contains(
            "  + totp@authenticationtest.com (Amazon Account) · SHA1 · 6 digits · 30 s\n"
        ),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------------------------
// 1Password
// ---------------------------------------------------------------------------------------------------------

#[test]
fn one_password_1pux_item_with_two_one_time_passwords() {
    // KeePassXC's 1PUX fixture: the item "Login" (team@keepassxc.org) holds two one-time-password
    // fields, DFDFDEF and DFDFDEFDEF (oathtool 238248 and 978209). Both come in, the second numbered:
    // the same service twice.
    let out = imports(
        "1password-keepassxc.1pux",
        None,
        &[
            ("team@keepassxc.org", "Login", "238248"),
            ("team@keepassxc.org (2)", "Login", "978209"),
        ],
        &[],
    );
    assert!(
        out.stderr
            .contains("teamotp: hint: now remove the plaintext"),
        "{}",
        out.stderr
    );
    let scratch = support::Sandbox::empty("teamotp-import-cut-");
    refused(
        &truncated(&scratch, "1password-keepassxc.1pux", 0.5),
        None,
        "the zip archive cannot be read",
    );
}

#[test]
fn one_password_opvault_folder_right_wrong_and_damaged() {
    // KeePassXC's OPVault fixture (password "a"): the login "KeePassXC" / keepassxc (TOTP
    // JBSWY3DPEHPK3PXP, oathtool 324550) and "Complex Password", whose otpauth URI names
    // team@keepassxc.org at KeePassXC, SHA256, 8 digits, 45 s (KeePassXC's test asserts 8 and 45;
    // oathtool --totp=sha256 -d8 -s45 gives 64158300). Trashed items are skipped.
    imports(
        "1password-keepassxc.opvault",
        Some("a"),
        &[
            ("team@keepassxc.org", "KeePassXC", "64158300"),
            ("keepassxc", "KeePassXC", "324550"),
        ],
        &[],
    );
    refused(
        &product("1password-keepassxc.opvault"),
        Some("b"),
        "wrong password for this 1Password OPVault",
    );
    // A copy whose profile is cut short, and one whose iteration count is above the cap.
    let scratch = support::Sandbox::empty("teamotp-import-opvault-");
    let source = product("1password-keepassxc.opvault").join("default");
    for (name, edit) in [
        (
            "cut",
            &(|p: String| p[..p.len() / 2].to_owned()) as &dyn Fn(String) -> String,
        ),
        ("costly", &|p: String| {
            p.replace("\"iterations\":100000", "\"iterations\":20000000")
        }),
    ] {
        let dir = scratch.path(&format!("{name}.opvault/default"));
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&source).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        let profile = std::fs::read_to_string(dir.join("profile.js")).unwrap();
        std::fs::write(dir.join("profile.js"), edit(profile)).unwrap();
    }
    refused(
        &scratch.path("cut.opvault"),
        Some("a"),
        "an OPVault file holds no JSON object (is the folder damaged?)",
    );
    refused(
        &scratch.path("costly.opvault"),
        None,
        "PBKDF2 with 20000000 iterations, above the cap of 10000000",
    );
}

// ---------------------------------------------------------------------------------------------------------
// KeePass and KeePassXC
// ---------------------------------------------------------------------------------------------------------

#[test]
fn keepass_kdbx4_keepassxc_otp_fields() {
    // keepass-rs's fixtures (password "test"): a KeePassXC `otp` URI, SHA-1 and SHA-512.
    encrypted(
        "keepass-kdbx4-with-totp-entry.kdbx",
        "test",
        &[("none", "KeePassXC", "324550")],
        &[],
        ("tEst", "KeePass database"),
        "cannot be read",
    );
    imports(
        "keepass-kdbx4-with-totp-sha512-entry.kdbx",
        Some("test"),
        &[("none", "sha512 totp", "095850")],
        &[],
    );
}

#[test]
fn keepass_kdbx3_every_totp_convention() {
    // Regression: a wrong password for a KDBX 3.1 database was reported as a damaged file (the crate
    // finds the bad padding before it compares the key).
    refused(
        &product("keepass-pass-import.kdbx"),
        Some("correct horse battery stable"),
        "wrong password for this KeePass database",
    );
    // pass-import's KDBX 3.1 database (password "correct horse battery staple"): KeePass 2.47's
    // TimeOtp-* fields, KeeTrayTOTP's TOTP Seed/Settings (one of them Steam, "30;S"), and KeeWeb's
    // otp URI. Each entry's title is the issuer and its user name the name, except KeeWeb's, whose
    // URI has a label ("test"). Codes: oathtool, and Python for the Steam one.
    imports(
        "keepass-pass-import.kdbx",
        Some("correct horse battery staple"),
        &[
            ("Xoh5Abai", "KeeTrayTOTP - Steam", "2KM2P"),
            ("ug5ujaiH", "Tray TOTP", "416459"),
            ("test", "KeeWeb", "576165"),
            ("Fai1equu", "KeePass 2.47", "324550"),
        ],
        &[],
    );
}

#[test]
fn keepass_key_file_opens_a_key_file_only_database() {
    // keepass-rs's key-file-only KDBX 4 database (no TOTP entries): the right key file opens it, a
    // wrong one is refused as such.
    let sandbox = Sandbox::new();
    let empty = sandbox.write("empty-password", "\n");
    let key = product("keepass-kdbx4-with-keyfile.key");
    let db = product("keepass-kdbx4-with-keyfile.kdbx");
    let args = |key: &Path| {
        vec![
            "import".to_owned(),
            "--password-file".to_owned(),
            empty.display().to_string(),
            "--key-file".to_owned(),
            key.display().to_string(),
            db.display().to_string(),
        ]
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sandbox.run(&args)
    };
    let out = run(args(&key));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.starts_with("teamotp: imported 0 accounts from "),
        "{}",
        out.stderr
    );
    let wrong = sandbox.write("wrong.key", "not the key file\n");
    let out = run(args(&wrong));
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("wrong password or key file for this KeePass database"),
        "{}",
        out.stderr
    );
}

/// KDBX 4 keeps the KDF parameters in the outer header, before any integrity check: a hostile file can
/// ask for any Argon2 memory. The cap refuses it before the password is even asked.
#[test]
fn keepass_argon2_memory_above_the_cap_is_refused_before_any_work() {
    let mut bytes = std::fs::read(product("keepass-kdbx4-with-totp-entry.kdbx")).unwrap();
    // The variant dictionary entry `M` (UInt64, type 0x05): key length 1, "M", value length 8.
    let needle = [0x05, 0x01, 0x00, 0x00, 0x00, b'M', 0x08, 0x00, 0x00, 0x00];
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("an Argon2 KDBX 4 fixture")
        + needle.len();
    bytes[at..at + 8].copy_from_slice(&(64u64 << 30).to_le_bytes());
    let scratch = support::Sandbox::empty("teamotp-import-caps-");
    let file = scratch.write("hostile.kdbx", &bytes);
    refused(
        &file,
        None,
        "65536 MiB of memory, above the cap of 1024 MiB",
    );
}

// ---------------------------------------------------------------------------------------------------------
// Proton Pass
// ---------------------------------------------------------------------------------------------------------

#[test]
fn proton_pass_zip_export() {
    // Aegis's Proton Pass fixture: three logins, one with a TOTP URI.
    imports("proton-pass.zip", None, &[MASON], &[]);
}

#[test]
fn zip_bomb_stops_at_the_cap() {
    let scratch = support::Sandbox::empty("teamotp-import-bomb-");
    let path = scratch.path("bomb.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("Proton Pass/data.json", options).unwrap();
    let block = vec![b' '; 1 << 20];
    for _ in 0..80 {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
    refused(&path, None, "decompresses to more than 64 MiB");
}

// ---------------------------------------------------------------------------------------------------------
// Rules every format follows
// ---------------------------------------------------------------------------------------------------------

/// Issue 22: two accounts of one file with the same name at different services both come in, the
/// second qualified by its service.
#[test]
fn same_name_at_two_services_both_come_in() {
    let sandbox = Sandbox::new();
    let file = sandbox.write(
        "bitwarden.csv",
        "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n\
         ,,login,Deno,,,0,,Mason,,4SJHB4GSD43FZBAI7C2HLRJGPQ\n\
         ,,login,WWE,,,0,,Mason,,JBSWY3DPEHPK3PXP\n",
    );
    let out = sandbox.import(&file, None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        sandbox.list(),
        rows(&[MASON, ("Mason (WWE)", "WWE", "324550")]),
        "{}",
        out.stderr
    );
}

/// Issue 22: a secret whose length leaves stray bits (11, 14 or 17 base32 characters) is decoded with
/// them dropped, and the report says so; a bad entry beside it is left out, the good one comes in.
#[test]
fn stray_bits_are_dropped_and_reported_and_a_bad_entry_does_not_stop_the_others() {
    let sandbox = Sandbox::new();
    let file = sandbox.write(
        "bitwarden.csv",
        "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n\
         ,,login,Odd,,,0,,ops,,JBSWY3DPEHPK3PXPG\n\
         ,,login,Broken,,,0,,dev,,JBSWY3DPEHPK3PX8\n\
         ,,login,Good,,,0,,qa,,JBSWY3DPEHPK3PXP\n",
    );
    let out = sandbox.import(&file, None);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(
            "  + ops (Odd) · SHA1 · 6 digits · 30 s (secret normalised: stray bits after its last \
             whole byte dropped, as the source app does)\n"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "teamotp: 1 entry left out:\n  ! Broken (dev): not imported: secret has an invalid \
             character '8' at position 16"
        ),
        "{}",
        out.stderr
    );
    // 17 symbols: the first 16 are JBSWY3DPEHPK3PXP, so the code is that secret's.
    assert_eq!(
        sandbox.list(),
        rows(&[("ops", "Odd", "324550"), ("qa", "Good", "324550")])
    );
}

#[test]
fn deeply_nested_json_is_refused() {
    let scratch = support::Sandbox::empty("teamotp-import-deep-");
    let file = scratch.write(
        "deep.json",
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    );
    refused(&file, None, "nests deeper than 64 levels");
}

// ---------------------------------------------------------------------------------------------------------
// The password on the terminal
// ---------------------------------------------------------------------------------------------------------

/// `sh -c` script for [`support::pty::script_command`]: `$1` rows, `$2` columns, then teamotp and its
/// arguments; it waits for the test's first line, then sets the size and turns echo on.
const PTY_SCRIPT: &str = r#"
rows=$1 cols=$2
shift 2
read -r go || exit 96
stty sane echo rows "$rows" cols "$cols" || exit 97
exec "$@"
"#;

/// Imports `file` on a pseudo-terminal, typing `password` once echo is off: the prompt names the file
/// and the product, the password is never echoed, and it is asked once.
fn import_on_pty(sandbox: &Sandbox, file: &Path, product: &str, password: &str) -> (i32, String) {
    let mut command = support::pty::script_command(PTY_SCRIPT, 24, 200);
    command
        .envs(xdg_env(&sandbox.home()))
        .current_dir(sandbox.root())
        .arg(BIN)
        .args(["--at", AT, "-f"])
        .arg(sandbox.vault())
        .arg("import")
        .arg(file);
    let mut term = support::pty::Term::spawn(command, 24, 200);
    let prompt = format!("Password for {} ({product}): ", file.display());
    term.wait_until(
        TIMEOUT,
        "the password prompt",
        |t| t.text().ends_with(&prompt),
        |t| format!("received:\n{}", t.text()),
    );
    term.wait_for_echo_off(TIMEOUT);
    term.send(format!("{password}\n").as_bytes());
    term.wait_for_end(TIMEOUT, |t| format!("received:\n{}", t.text()));
    let code = match term.session.get_process().wait().unwrap() {
        expectrl::process::unix::WaitStatus::Exited(_, code) => code,
        other => panic!("teamotp did not exit normally: {other:?}\n{}", term.text()),
    };
    let text = term.text();
    // (Compared after the prompt: a short password like "test" is also in the fixtures' path.)
    assert!(
        !text.contains(&format!("{prompt}{password}")),
        "the password was echoed:\n{text}"
    );
    assert_eq!(
        text.matches("Password for").count(),
        1,
        "asked more than once:\n{text}"
    );
    (code, text)
}

#[test]
fn the_password_is_asked_hidden_on_the_terminal_naming_file_and_product() {
    let sandbox = Sandbox::new();
    let file = product("aegis-encrypted.json");
    let (code, text) = import_on_pty(&sandbox, &file, "Aegis encrypted vault", "test");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("imported 4 accounts"), "{text}");
    assert_eq!(sandbox.list(), rows(&[MASON, JAMES, ELIJAH, SOPHIA]));

    let sandbox = Sandbox::new();
    let file = product("keepass-pass-import.kdbx");
    let (code, text) = import_on_pty(&sandbox, &file, "KeePass database", "wrong horse");
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("wrong password for this KeePass database"),
        "{text}"
    );
    assert!(sandbox.list().is_empty());
}

// ---------------------------------------------------------------------------------------------------------
// Dashlane and Keeper CSV
// ---------------------------------------------------------------------------------------------------------

#[test]
fn dashlane_csv_export_imports_its_two_logins_with_a_code() {
    // Proton Pass's Dashlane CSV test data: 8 logins, two with otpSecret RL3FRZ5V3EBM7T4ZMGJWGO43MQSTTMIT
    // for user john (oathtool 765981); a quoted multi-line note, commas and quotes in cells. The second
    // john is qualified by its title, the service.
    imports(
        "dashlane-proton.csv",
        None,
        &[
            ("john", "login with 2fa scanned from qr code", "765981"),
            (
                "john (login with 2fa manually entered)",
                "login with 2fa manually entered",
                "765981",
            ),
        ],
        &[],
    );
}

#[test]
fn dashlane_zip_export_reads_its_credentials_csv() {
    // Dashlane's "readable" export is a zip of CSV files; the logins are credentials.csv (here the same
    // Proton test file, zipped in the test).
    let sandbox = Sandbox::new();
    let zip_path = sandbox.path("dashlane.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("securenotes.csv", options).unwrap();
    std::io::Write::write_all(&mut zip, b"title,note,category\nWi-Fi,x,Home\n").unwrap();
    zip.start_file("credentials.csv", options).unwrap();
    std::io::Write::write_all(
        &mut zip,
        &std::fs::read(product("dashlane-proton.csv")).unwrap(),
    )
    .unwrap();
    zip.finish().unwrap();
    let out = sandbox.import(&zip_path, None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(sandbox.list().len(), 2, "{}", out.stderr);
}

#[test]
fn keeper_csv_export_with_and_without_its_header() {
    // No public Keeper CSV with a TOTP exists (SOURCES): a file in Keeper Commander's layout, the TOTP
    // after TFC:Keeper among the custom fields (oathtool 017492); a record without one is not an entry.
    // The TOTP is an otpauth URI, so its label (db) names the account and the title is the issuer.
    imports(
        "keeper-made-here.csv",
        None,
        &[("db", "Prod DB", "017492")],
        &[],
    );
    // Older exports have no header row: the TFC:Keeper field alone tells the format.
    let sandbox = Sandbox::new();
    let text = std::fs::read_to_string(product("keeper-made-here.csv")).unwrap();
    let headless = sandbox.write("keeper.csv", text.split_once("\r\n").unwrap().1);
    let out = sandbox.import(&headless, None);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        sandbox.list(),
        rows(&[("db", "Prod DB", "017492")]),
        "{}",
        out.stderr
    );
}
