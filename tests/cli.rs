//! End-to-end tests of the `teamotp` binary: `list`, `code`, `check`, and loading/decrypting the vault.
//!
//! Rules every test follows:
//! - every command runs with `--at` (a fixed time), `env_clear()` and `HOME` set to a fresh temporary
//!   directory, so nothing reads the real clock, the real home directory or the network;
//! - outputs are compared exactly (stdout, stderr and exit code);
//! - expected codes come from outside teamotp: the RFC 6238 vectors, `tests/data/oathtool.tsv`, or values
//!   computed with `oathtool` (the command is given next to each one) or, for Steam codes, an independent
//!   Python HMAC implementation.
//!
//! Identity fixtures from git are not 0600, so they are copied into the sandbox and chmod'ed first.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;

mod support;

use support::{AGE_FIXTURES, BIN, Out, TIMEOUT, need_program, out, run, set_mode};

const CLI_FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cli");
const OATHTOOL_TSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/oathtool.tsv");

/// The hints of a missing vault, after the error line.
const MISSING_VAULT_HINTS: &str = "teamotp: hint: pass a vault with -f/--file PATH or set TEAMOTP_FILE\n\
                                   teamotp: hint: try the demo vault: teamotp --demo\n\
                                   teamotp: hint: create a team vault: teamotp init\n";

/// Issue 21: where teamotp chose the vault itself (here the default path), one more hint says how it
/// looks for one and lists the configured vaults (none here).
fn discovery_hint(sandbox: &Sandbox) -> String {
    format!(
        "teamotp: hint: without -f teamotp looks in the directory it runs in and its git work tree (one \
         *.age file beside .age-recipients, or one passphrase vault), then at the vaults {} names (none), \
         then at the default path; run it where the vault is, or name the vault once: teamotp -f PATH \
         register NAME\n",
        sandbox.home().join(".config/teamotp/config.toml").display()
    )
}

/// `tests/fixtures/age/plain.csv` (what every fixture `.age` file decrypts to) as `list --format csv` at
/// 1234567890. AWS root: oathtool.tsv row 2. Root, production:
/// `oathtool --totp=SHA256 -d 8 -s 60 -b -N @1234567830|@1234567890|@1234567950 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ`.
const PLAIN_CSV_AT_1234567890: &str = "name,issuer,prev,curr,next,remaining\n\
                                       AWS root,Amazon,709928,742275,835227,30\n\
                                       \"Root, production\",ACME,82770559,30246158,55529483,30\n";

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// The shared [`support::Sandbox`] with only an empty `home/`; runs are `teamotp --at AT ARGS`.
struct Sandbox(support::Sandbox);

support::sandbox_wrapper!(Sandbox);

impl Sandbox {
    fn new() -> Self {
        Sandbox(support::Sandbox::empty("teamotp-cli-"))
    }

    /// Writes `bytes` at `rel` (relative to the sandbox root, parents created) with `mode`.
    fn write(&self, rel: &str, bytes: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        let path = self.0.write(rel, bytes);
        set_mode(&path, mode);
        path
    }

    /// Copies `tests/fixtures/age/NAME` to `rel` with `mode`.
    fn age_fixture(&self, name: &str, rel: &str, mode: u32) -> PathBuf {
        self.write(rel, read_fixture(AGE_FIXTURES, name), mode)
    }

    /// `teamotp --at AT` with a cleared environment, `HOME` in the sandbox, the sandbox as working directory.
    fn teamotp(&self, at: &str) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("HOME", self.home())
            .current_dir(self.root())
            .timeout(TIMEOUT)
            .arg("--at")
            .arg(at);
        cmd
    }

    /// Runs `teamotp --at AT ARGS...`.
    fn run(&self, at: &str, args: &[&str]) -> Out {
        run(self.teamotp(at).args(args))
    }
}

fn read_fixture(dir: &str, name: &str) -> Vec<u8> {
    fs::read(Path::new(dir).join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Fails when any 6-character piece of any secret occurs in stdout or stderr, ignoring case.
fn assert_no_secret_in(output: &Out, secrets: &[&str], context: &str) {
    let seen = format!("{}\n{}", output.stdout, output.stderr).to_lowercase();
    for secret in secrets {
        let chars: Vec<char> = secret.to_lowercase().chars().collect();
        for window in chars.windows(6) {
            let piece: String = window.iter().collect();
            assert!(
                !seen.contains(&piece),
                "{context}: the output contains {piece:?}, a piece of a secret:\n{seen}"
            );
        }
    }
}

/// Fails when the text holds a C0 or C1 control character other than the newline.
fn assert_no_control_characters(text: &str, context: &str) {
    let found: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect();
    assert!(
        found.is_empty(),
        "{context}: raw control characters {found:?} in {text:?}"
    );
}

// ---------------------------------------------------------------------------------------------------------
// list: table
// ---------------------------------------------------------------------------------------------------------

/// The demo vault at 1700000000 (2023-11-14T22:13:20Z). Every code was checked independently:
/// `oathtool --totp=ALG -d DIGITS -s PERIOD -b -N @T SECRET` for T = 1700000000 - period, 1700000000,
/// 1700000000 + period, and the Steam codes with a Python HMAC-SHA1 implementation of Steam Guard.
const DEMO_TABLE_AT_1700000000: &str = "                               prev     curr     next
AWS root (Amazon Web Services) 797823   406058   661763   [====      ] 10s
GitHub ops                     822542   324550   367665   [====      ] 10s
RFC 6238 SHA1                  84276857 81921300 67732303 [====      ] 10s
RFC 6238 SHA256                33487752 47769631 93269558 [====      ] 10s
RFC 6238 SHA512                23966158 24826435 37002109 [====      ] 10s
홈택스 법인 (국세청)           695683   526458   442727   [====      ] 10s
Vendor console, prod           45845351 87612532 94658990 [=======   ] 40s
Slack admin                    562890   016731   792553   [=======   ] 40s
Steam shared                   M6D57    DWTR5    3XC3R    [====      ] 10s
";

#[test]
fn list_table_of_demo_vault_shows_prev_curr_next_and_countdown_for_all_nine_accounts() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "list"]),
        out(0, DEMO_TABLE_AT_1700000000, "")
    );
}

#[test]
fn no_command_without_a_terminal_prints_the_list_table() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("1700000000", &["--demo"]),
        out(0, DEMO_TABLE_AT_1700000000, "")
    );
}

#[test]
fn list_table_aligns_korean_names_by_display_width() {
    let sandbox = Sandbox::new();
    // "홈택스 법인" is 6 characters, 16 bytes and 11 columns wide (Hangul takes 2 columns).
    sandbox.write(
        "vault.csv",
        "name,secret,digits,period,algorithm\n\
         홈택스 법인,kwdl tkik g6ts hyf5 jtns cobg 2mhj fxjp,6,30,SHA1\n\
         AWS root,KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP,6,60,SHA256\n\
         Short,JBSWY3DPEHPK3PXP,8,15,SHA1\n",
        0o600,
    );
    // Codes: oathtool.tsv (time 2000000000). Seconds left: 10 of 30, 40 of 60, 10 of 15.
    let expected = "            prev     curr     next\n\
                    홈택스 법인 287756   432209   675874   [====      ] 10s\n\
                    AWS root    496574   357223   860005   [=======   ] 40s\n\
                    Short       54242132 84476962 65999462 [=======   ] 10s\n";
    let got = sandbox.run("2000000000", &["-f", "vault.csv", "list"]);
    assert_eq!(got, out(0, expected, ""));
    // The code columns start at the same display column on every line: 11 columns of name, one space.
    for line in got.stdout.lines().skip(1) {
        let name: String = line.chars().take_while(|c| !c.is_ascii_digit()).collect();
        let columns: usize = name
            .chars()
            .map(|c| {
                if ('\u{AC00}'..='\u{D7A3}').contains(&c) {
                    2
                } else {
                    1
                }
            })
            .sum();
        assert_eq!(columns, 12, "{line:?}");
    }
}

#[test]
fn list_table_row_ends_with_a_bar_and_the_seconds_left() {
    let sandbox = Sandbox::new();
    sandbox.write("vault.txt", "GitHub:JBSWY3DPEHPK3PXP\n", 0o600);
    // 1700000028 is 18 s into its 30 s period: 12 s left, 4 of 10 bar cells.
    // oathtool --totp -b -N @1699999998|@1700000028|@1700000058 JBSWY3DPEHPK3PXP
    assert_eq!(
        sandbox.run("1700000028", &["-f", "vault.txt", "list"]),
        out(
            0,
            "       prev   curr   next\n\
             GitHub 324550 367665 870960 [====      ] 12s\n",
            ""
        )
    );
    // The last second of a period: a sliver of bar, not an empty one.
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "list"]),
        out(
            0,
            "       prev   curr   next\n\
             GitHub 282760 996554 602287 [=         ]  1s\n",
            ""
        )
    );
}

// ---------------------------------------------------------------------------------------------------------
// list: csv and json
// ---------------------------------------------------------------------------------------------------------

#[test]
fn list_csv_has_the_exact_header_and_quotes_fields_per_rfc_4180() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        "name,issuer,secret,digits,period,algorithm\n\
         \"Root, production\",ACME,KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP,8,60,SHA1\n\
         \"Say \"\"hi\"\"\",,JBSWY3DPEHPK3PXP,,,\n",
        0o600,
    );
    // oathtool.tsv rows for time 1234567890.
    assert_eq!(
        sandbox.run(
            "1234567890",
            &["-f", "vault.csv", "list", "--format", "csv"]
        ),
        out(
            0,
            "name,issuer,prev,curr,next,remaining\n\
             \"Root, production\",ACME,71933193,39353141,10824211,30\n\
             \"Say \"\"hi\"\"\",,709928,742275,835227,30\n",
            ""
        )
    );
}

/// One row of `tests/data/oathtool.tsv`.
#[derive(Debug)]
struct Reference {
    pasted: String,
    algorithm: String,
    digits: String,
    period: u64,
    time: u64,
    prev: String,
    curr: String,
    next: String,
}

fn oathtool_rows() -> Vec<Reference> {
    let tsv = fs::read_to_string(OATHTOOL_TSV).unwrap();
    let rows: Vec<Reference> = tsv
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 8, "{line}");
            Reference {
                // `\t` in the file stands for a tab.
                pasted: f[0].replace("\\t", "\t"),
                algorithm: f[1].to_owned(),
                digits: f[2].to_owned(),
                period: f[3].parse().unwrap(),
                time: f[4].parse().unwrap(),
                prev: f[5].to_owned(),
                curr: f[6].to_owned(),
                next: f[7].to_owned(),
            }
        })
        .collect();
    assert_eq!(rows.len(), 62);
    rows
}

/// A team CSV vault with one account per reference row, named `row0`, `row1`, ...
fn oathtool_vault(rows: &[Reference]) -> String {
    let mut vault = String::from("name,secret,algorithm,digits,period\n");
    for (i, r) in rows.iter().enumerate() {
        vault.push_str(&format!(
            "row{i},\"{}\",{},{},{}\n",
            r.pasted, r.algorithm, r.digits, r.period
        ));
    }
    vault
}

#[test]
fn list_csv_matches_every_oathtool_reference_row() {
    let sandbox = Sandbox::new();
    let rows = oathtool_rows();
    sandbox.write("vault.csv", oathtool_vault(&rows), 0o600);
    let times: std::collections::BTreeSet<u64> = rows.iter().map(|r| r.time).collect();
    for time in times {
        let got = sandbox.run(
            &time.to_string(),
            &["-f", "vault.csv", "list", "--format", "csv"],
        );
        assert_eq!((got.code, got.stderr.as_str()), (0, ""), "at {time}");
        let lines: BTreeMap<&str, &str> = got
            .stdout
            .lines()
            .skip(1)
            .map(|l| l.split_once(',').unwrap())
            .collect();
        assert_eq!(lines.len(), rows.len());
        for (i, r) in rows.iter().enumerate().filter(|(_, r)| r.time == time) {
            let remaining = r.period - time % r.period;
            assert_eq!(
                lines[format!("row{i}").as_str()],
                format!(",{},{},{},{remaining}", r.prev, r.curr, r.next),
                "{r:?}"
            );
        }
    }
}

#[test]
fn list_json_is_an_array_of_objects_with_every_field_and_null_issuer() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        "name,issuer,secret,digits,period,algorithm,type\n\
         Plain,,JBSWY3DPEHPK3PXP,,,,\n\
         ACME ops,ACME,KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP,7,60,sha-256,\n\
         Steam,Valve,STEAMSECRETSTEAMSECRET23,,,,Steam\n",
        0o600,
    );
    let got = sandbox.run(
        "1234567890",
        &["-f", "vault.csv", "list", "--format", "json"],
    );
    assert_eq!((got.code, got.stderr.as_str()), (0, ""));
    assert!(got.stdout.ends_with("]\n"), "{:?}", got.stdout);
    // serde_json is a normal dependency of the crate, so integration tests can use it.
    let value: serde_json::Value = serde_json::from_str(&got.stdout).expect("valid JSON");
    // oathtool.tsv rows for time 1234567890; Steam: Python HMAC-SHA1 Steam Guard.
    let expected = serde_json::json!([
        {"name": "Plain", "issuer": null, "prev": "709928", "curr": "742275", "next": "835227",
         "remaining": 30, "period": 30, "digits": 6, "algorithm": "SHA1", "type": "totp",
         "vault": "vault.csv", "reenrol": null},
        {"name": "ACME ops", "issuer": "ACME", "prev": "0153861", "curr": "2975945", "next": "6092123",
         "remaining": 30, "period": 60, "digits": 7, "algorithm": "SHA256", "type": "totp",
         "vault": "vault.csv", "reenrol": null},
        {"name": "Steam", "issuer": "Valve", "prev": "7XHX8", "curr": "2PN75", "next": "BNCR9",
         "remaining": 30, "period": 30, "digits": 5, "algorithm": "SHA1", "type": "steam",
         "vault": "vault.csv", "reenrol": null},
    ]);
    assert_eq!(value, expected);
}

// ---------------------------------------------------------------------------------------------------------
// list: query, invalid rows, empty vaults
// ---------------------------------------------------------------------------------------------------------

#[test]
fn list_query_filters_case_insensitively_on_name_or_issuer() {
    let sandbox = Sandbox::new();
    let csv =
        |query: &str| sandbox.run("1700000000", &["--demo", "list", query, "--format", "csv"]);
    let header = "name,issuer,prev,curr,next,remaining\n";
    assert_eq!(
        csv("GITHUB"),
        out(
            0,
            &format!("{header}GitHub ops,GitHub,822542,324550,367665,10\n"),
            ""
        )
    );
    // Matches the issuer only.
    assert_eq!(
        csv("web SERVICES"),
        out(
            0,
            &format!("{header}AWS root,Amazon Web Services,797823,406058,661763,10\n"),
            ""
        )
    );
    assert_eq!(
        csv("국세청"),
        out(
            0,
            &format!("{header}홈택스 법인,국세청,695683,526458,442727,10\n"),
            ""
        )
    );
    assert_eq!(
        csv("rfc 6238 sha"),
        out(
            0,
            &format!(
                "{header}RFC 6238 SHA1,RFC 6238,84276857,81921300,67732303,10\n\
                 RFC 6238 SHA256,RFC 6238,33487752,47769631,93269558,10\n\
                 RFC 6238 SHA512,RFC 6238,23966158,24826435,37002109,10\n"
            ),
            ""
        )
    );
    // The table too.
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "list", "slack"]),
        out(
            0,
            "            prev   curr   next\n\
             Slack admin 562890 016731 792553 [=======   ] 40s\n",
            ""
        )
    );
}

#[test]
fn list_query_matching_nothing_exits_1_with_a_message() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "list", "x"]),
        out(1, "", "teamotp: no account matches 'x'\n")
    );
}

#[test]
fn list_warns_about_invalid_rows_on_stderr_and_leaves_them_out_of_stdout() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.txt",
        "Google:a2b3c4d5e6f7g8h9\nGitHub:JBSWY3DPEHPK3PXP\njust-some-text\n",
        0o600,
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "list"]),
        out(
            0,
            "       prev   curr   next\n\
             GitHub 282760 996554 602287 [=         ]  1s\n",
            "teamotp: warning: vault.txt:1: 'Google': secret has an invalid character '8' at position 14 \
             (base32 uses only A-Z and 2-7)\n\
             teamotp: warning: vault.txt:3: no ':' between the account name and the secret \
             (gauth lines are NAME:SECRET)\n"
        )
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "list", "--format", "csv"]),
        out(
            0,
            "name,issuer,prev,curr,next,remaining\nGitHub,,282760,996554,602287,1\n",
            "teamotp: warning: vault.txt:1: 'Google': secret has an invalid character '8' at position 14 \
             (base32 uses only A-Z and 2-7)\n\
             teamotp: warning: vault.txt:3: no ':' between the account name and the secret \
             (gauth lines are NAME:SECRET)\n"
        )
    );
}

#[test]
fn header_only_and_empty_vaults_have_no_accounts() {
    let sandbox = Sandbox::new();
    sandbox.write("header.csv", "name,secret\n", 0o600);
    sandbox.write("empty.txt", "", 0o600);
    for (file, format) in [("header.csv", "team CSV"), ("empty.txt", "gauth lines")] {
        let none = format!("teamotp: {file} has no accounts\n");
        assert_eq!(sandbox.run("59", &["-f", file, "list"]), out(0, "", &none));
        assert_eq!(
            sandbox.run("59", &["-f", file, "list", "--format", "csv"]),
            out(0, "name,issuer,prev,curr,next,remaining\n", &none)
        );
        assert_eq!(
            sandbox.run("59", &["-f", file, "list", "--format", "json"]),
            out(0, "[]\n", &none)
        );
        assert_eq!(
            sandbox.run("59", &["-f", file, "check"]),
            out(
                0,
                "",
                &format!("teamotp: {file}: 0 accounts ({format}), all valid\n")
            )
        );
        assert_eq!(
            sandbox.run("59", &["-f", file, "code", "x"]),
            out(1, "", "teamotp: no account matches 'x'\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// code
// ---------------------------------------------------------------------------------------------------------

#[test]
fn code_prints_only_the_code_and_a_newline() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        "name,secret,digits\nRFC,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8\n",
        0o600,
    );
    // RFC 6238 Appendix B, SHA1; the second keeps its leading zero.
    for (at, code) in [
        ("59", "94287082\n"),
        ("1111111109", "07081804\n"),
        ("1234567890", "89005924\n"),
    ] {
        assert_eq!(
            sandbox.run(at, &["-f", "vault.csv", "code", "RFC"]),
            out(0, code, ""),
            "at {at}"
        );
    }
}

#[test]
fn code_matches_every_oathtool_reference_row() {
    let sandbox = Sandbox::new();
    let rows = oathtool_rows();
    sandbox.write("vault.csv", oathtool_vault(&rows), 0o600);
    for (i, r) in rows.iter().enumerate() {
        // row1 is also a substring of row10..row19: the exact name must win.
        assert_eq!(
            sandbox.run(
                &r.time.to_string(),
                &["-f", "vault.csv", "code", &format!("ROW{i}")]
            ),
            out(0, &format!("{}\n", r.curr), ""),
            "{r:?}"
        );
    }
}

#[test]
fn code_exact_name_wins_even_when_it_is_a_substring_of_other_names() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.txt",
        "AWS root:KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP\nAWS:JBSWY3DPEHPK3PXP\nAWS staging:KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP\n",
        0o600,
    );
    // oathtool.tsv: JBSWY3DPEHPK3PXP at 1234567890 is 742275.
    assert_eq!(
        sandbox.run("1234567890", &["-f", "vault.txt", "code", "aws"]),
        out(0, "742275\n", "")
    );
    // Exact, ignoring case (oathtool.tsv: the 160-bit key, SHA1 6 digits 30 s at 2000000000).
    assert_eq!(
        sandbox.run("2000000000", &["-f", "vault.txt", "code", "aws ROOT"]),
        out(0, "432209\n", "")
    );
}

#[test]
fn code_finds_the_single_account_whose_name_or_issuer_contains_the_query() {
    let sandbox = Sandbox::new();
    // Substring of one name.
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "code", "HUB"]),
        out(0, "324550\n", "")
    );
    // Substring of one issuer only.
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "code", "국세"]),
        out(0, "526458\n", "")
    );
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "code", "amazon"]),
        out(0, "406058\n", "")
    );
    // A Steam account (codes from a Python HMAC-SHA1 Steam Guard implementation).
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "code", "steam"]),
        out(0, "DWTR5\n", "")
    );
}

#[test]
fn code_with_no_match_exits_1() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "code", "x"]),
        out(1, "", "teamotp: no account matches 'x'\n")
    );
}

#[test]
fn code_with_several_matches_exits_2_and_lists_their_names() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("1700000000", &["--demo", "code", "rfc"]),
        out(
            2,
            "",
            "teamotp: error: 'rfc' matches 3 accounts: 'RFC 6238 SHA1', 'RFC 6238 SHA256', 'RFC 6238 SHA512'\n\
             teamotp: hint: give the exact account name, or more of it\n"
        )
    );
    // Two rows with the same name (ignoring case) are both exact matches.
    sandbox.write(
        "vault.txt",
        "ops:JBSWY3DPEHPK3PXP\nOPS:JBSWY3DPEHPK3PXP\nops2:JBSWY3DPEHPK3PXP\n",
        0o600,
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "code", "Ops"]),
        out(
            2,
            "",
            "teamotp: error: 'Ops' matches 2 accounts: 'ops', 'OPS'\n\
             teamotp: hint: give the exact account name, or more of it\n"
        )
    );
}

#[test]
fn code_for_an_invalid_row_exits_2_with_its_reason() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.txt",
        "Google:a2b3c4d5e6f7g8h9\nGoogle Workspace:JBSWY3DPEHPK3PXP\n",
        0o600,
    );
    // The exact name wins, even though it is invalid and another valid name contains it.
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "code", "google"]),
        out(
            2,
            "",
            "teamotp: error: vault.txt:1: 'Google': secret has an invalid character '8' at position 14 \
             (base32 uses only A-Z and 2-7)\n\
             teamotp: hint: run 'teamotp check' to see every problem in the vault\n"
        )
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "code", "workspace"]),
        out(0, "996554\n", "")
    );
}

#[test]
fn code_min_remaining_prints_the_next_code_when_too_little_time_is_left() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        "name,secret,period\nthirty,KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP,30\nsixty,KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP,60\n",
        0o600,
    );
    // oathtool.tsv, 160-bit key, SHA1 6 digits. At 1700000039 the 30 s code has 1 s left.
    let code = |at: &str, args: &[&str]| {
        let mut all = vec!["-f", "vault.csv", "code"];
        all.extend_from_slice(args);
        sandbox.run(at, &all)
    };
    assert_eq!(code("1700000039", &["thirty"]), out(0, "023469\n", ""));
    assert_eq!(
        code("1700000039", &["thirty", "--min-remaining", "1"]),
        out(0, "023469\n", "")
    );
    assert_eq!(
        code("1700000039", &["thirty", "--min-remaining", "2"]),
        out(0, "198467\n", "")
    );
    assert_eq!(
        code("1700000040", &["thirty", "--min-remaining", "29"]),
        out(0, "198467\n", "")
    );
    // Regression (issue 14): S equal to the period was accepted (a wait for an exact boundary).
    for min in ["30", "31"] {
        assert_eq!(
            code("1700000040", &["thirty", "--min-remaining", min]),
            out(
                2,
                "",
                &format!(
                    "teamotp: error: --min-remaining '{min}' is not less than the 30 s period of 'thirty': \
                     no code is valid that long\nteamotp: hint: give at most 29 seconds\n"
                )
            )
        );
    }
    // 58 s left of 60: with --at there is no real sleep, so this returns at once (and says nothing).
    let start = Instant::now();
    let got = run(sandbox
        .teamotp("1700000042")
        .timeout(Duration::from_secs(20))
        .args(["-f", "vault.csv", "code", "sixty", "--min-remaining", "59"]));
    assert_eq!(got, out(0, "856492\n", ""));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------------------------

#[test]
fn check_on_a_clean_vault_exits_0_with_a_summary_on_stderr() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("59", &["--demo", "check"]),
        out(
            0,
            "",
            "teamotp: demo vault: 9 accounts (team CSV), all valid\n"
        )
    );
    sandbox.write(
        "vault.txt",
        "a:JBSWY3DPEHPK3PXP\nb:JBSWY3DPEHPK3PXP\n",
        0o600,
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "check"]),
        out(
            0,
            "",
            "teamotp: vault.txt: 2 accounts (gauth lines), all valid\n"
        )
    );
}

#[test]
fn check_lists_every_invalid_team_csv_row_with_file_line_name_and_reason() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        b"name,issuer,secret,digits,period,algorithm,type\n\
          empty,,,,,,\n\
          Google,,a2b3c4d5e6f7g8h9,,,,\n\
          badlen,,JBSWY3DPE,,,,\n\
          digits,,JBSWY3DPEHPK3PXP,9,,,\n\
          period,,JBSWY3DPEHPK3PXP,,0,,\n\
          algo,,JBSWY3DPEHPK3PXP,,,MD5,\n\
          kind,,JBSWY3DPEHPK3PXP,,,,hotp\n\
          Caf\xc3\xa9,Caf\xe9,JBSWY3DPEHPK3PXP,,,,\n\
          Root, production,ACME,JBSWY3DPEHPK3PXP,,,,\n\
          ,,JBSWY3DPEHPK3PXP,,,,\n\
          good,,JBSWY3DPEHPK3PXP,,,,\n",
        0o600,
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.csv", "check"]),
        out(
            1,
            "vault.csv:2: the row has no secret, only a name (is the secret in the name column?)\n\
             vault.csv:3: 'Google': secret has an invalid character '8' at position 14 (base32 uses only A-Z and 2-7)\n\
             vault.csv:4: 'badlen': secret has an impossible length: 9 base32 characters (a secret has a multiple \
             of 8, or 2, 4, 5 or 7 more; a character is probably missing or extra)\n\
             vault.csv:5: 'digits': digits must be 6, 7 or 8, not '9'\n\
             vault.csv:6: 'period': period must be a whole number of seconds, at least 1, not '0'\n\
             vault.csv:7: 'algo': algorithm must be SHA1, SHA256 or SHA512, not 'MD5'\n\
             vault.csv:8: 'kind': type must be totp or steam, not 'hotp'\n\
             vault.csv:9: 'Café': the row is not valid UTF-8 (save the file as UTF-8)\n\
             vault.csv:10: 'Root': the row has 8 fields but the header has 7 (quote a field that contains a comma)\n\
             vault.csv:11: account name is empty\n",
            "teamotp: vault.csv: 11 accounts (team CSV), 1 valid, 10 problems\n"
        )
    );
    // One bad row never hides the others: the good one still works.
    assert_eq!(
        sandbox.run("59", &["-f", "vault.csv", "code", "good"]),
        out(0, "996554\n", "")
    );
}

#[test]
fn check_lists_every_invalid_gauth_line_with_file_line_name_and_reason() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.txt",
        b"# gauth\n\
          Google:a2b3c4d5e6f7g8h9\n\
          just-a-secret\n\
          \n\
          OK:JBSWY3DPEHPK3PXP\n\
          Cafe:JBSWY3DP\xe9HPK3PXP\n\
          otpauth://hotp/Bank?secret=JBSWY3DPEHPK3PXP&counter=1\n\
          :JBSWY3DPEHPK3PXP\n\
          Work: GitHub:JBSWY3DPEHPK3PXP\n\
          otpauth://totp/Mail?secret=JBSWY3DPEHPK3PXP&digits=9\n",
        0o600,
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "check"]),
        out(
            1,
            "vault.txt:2: 'Google': secret has an invalid character '8' at position 14 (base32 uses only A-Z and 2-7)\n\
             vault.txt:3: no ':' between the account name and the secret (gauth lines are NAME:SECRET)\n\
             vault.txt:6: 'Cafe': the row is not valid UTF-8 (save the file as UTF-8)\n\
             vault.txt:7: 'Bank': HOTP (counter-based) accounts are not supported, only TOTP\n\
             vault.txt:8: account name is empty\n\
             vault.txt:9: 'Work': secret has an invalid character ':' at position 7 (base32 uses only A-Z and 2-7)\n\
             vault.txt:10: 'Mail': digits must be 6, 7 or 8, not '9'\n",
            "teamotp: vault.txt: 8 accounts (gauth lines), 1 valid, 7 problems\n"
        )
    );
}

#[test]
fn check_reports_duplicate_names() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.txt",
        "a:JBSWY3DPEHPK3PXP\nb:JBSWY3DPEHPK3PXP\nA:JBSWY3DPEHPK3PXP\n",
        0o600,
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "check"]),
        out(
            1,
            "vault.txt:1: 'a': the name is used on lines 1, 3 (names must be unique)\n",
            "teamotp: vault.txt: 3 accounts (gauth lines), 3 valid, 1 problem\n"
        )
    );
}

// ---------------------------------------------------------------------------------------------------------
// File formats
// ---------------------------------------------------------------------------------------------------------

#[test]
fn team_csv_header_in_any_case_and_order_with_unknown_columns_comments_and_quotes() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        "# our team vault\n\
         \n\
         Secret,Owner,NAME,Digits,Algorithm,Period,Issuer,TYPE\n\
         KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP,ops team,\"Root, prod\",8,sha1,60,ACME,\n\
         # a comment between rows\n\
         \"kwdl tkik g6ts hyf5 jtns cobg 2mhj fxjp\",x,Lower,,,,,TOTP\n",
        0o600,
    );
    // oathtool.tsv: the 160-bit key, SHA1 8 digits 60 s at 1234567890, and 6 digits 30 s at 2000000000.
    assert_eq!(
        sandbox.run(
            "1234567890",
            &["-f", "vault.csv", "list", "root", "--format", "csv"]
        ),
        out(
            0,
            "name,issuer,prev,curr,next,remaining\n\"Root, prod\",ACME,71933193,39353141,10824211,30\n",
            ""
        )
    );
    assert_eq!(
        sandbox.run(
            "2000000000",
            &["-f", "vault.csv", "list", "lower", "--format", "csv"]
        ),
        out(
            0,
            "name,issuer,prev,curr,next,remaining\nLower,,287756,432209,675874,10\n",
            ""
        )
    );
    assert_eq!(
        sandbox.run("2000000000", &["-f", "vault.csv", "check"]),
        out(
            0,
            "",
            "teamotp: vault.csv: 2 accounts (team CSV), all valid\n"
        )
    );
}

#[test]
fn team_csv_with_bom_and_crlf_line_endings() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        "\u{feff}# exported on Windows\r\nname,secret\r\nGitHub,JBSWY3DPEHPK3PXP\r\nbad,JBSWY3DPE\r\n",
        0o600,
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.csv", "list", "--format", "csv"]),
        out(
            0,
            "name,issuer,prev,curr,next,remaining\nGitHub,,282760,996554,602287,1\n",
            "teamotp: warning: vault.csv:4: 'bad': secret has an impossible length: 9 base32 characters \
             (a secret has a multiple of 8, or 2, 4, 5 or 7 more; a character is probably missing or extra)\n"
        )
    );
}

#[test]
fn gauth_lines_split_at_the_first_colon_trimmed_with_uris_comments_bom_and_crlf() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.txt",
        "\u{feff}# gauth.csv\r\n\
         \r\n\
         \u{20}AWS : jbsw y3dp ehpk 3pxp \r\n\
         \u{20}  # indented comment\r\n\
         OTPAUTH://TOTP/ACME%20Co:ops@acme.example?secret=KWDLTKIKG6TSHYF5JTNSCOBG2MHJFXJP\
         &issuer=ACME%20Co&digits=7&period=60&algorithm=SHA256\r\n\
         otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP\r\n\
         Google:a2b3c4d5e6f7g8h9\r\n",
        0o600,
    );
    // oathtool.tsv, time 1234567890.
    assert_eq!(
        sandbox.run("1234567890", &["-f", "vault.txt", "list"]),
        out(
            0,
            // Issue 21: the label splits into issuer and name (the Key URI format).
            "                           prev    curr    next\n\
             AWS                        709928  742275  835227  [==========] 30s\n\
             ops@acme.example (ACME Co) 0153861 2975945 6092123 [=====     ] 30s\n\
             alice (Example)            709928  742275  835227  [==========] 30s\n",
            "teamotp: warning: vault.txt:7: 'Google': secret has an invalid character '8' at position 14 \
             (base32 uses only A-Z and 2-7)\n"
        )
    );
    let got = sandbox.run(
        "1234567890",
        &["-f", "vault.txt", "list", "acme", "--format", "json"],
    );
    let value: serde_json::Value = serde_json::from_str(&got.stdout).expect("valid JSON");
    assert_eq!(
        value,
        serde_json::json!([{"name": "ops@acme.example", "issuer": "ACME Co", "prev": "0153861",
            "curr": "2975945", "next": "6092123", "remaining": 30, "period": 60, "digits": 7,
            "algorithm": "SHA256", "type": "totp", "vault": "vault.txt", "reenrol": null}])
    );
    // The issuer comes from the label prefix when there is no issuer= parameter.
    assert_eq!(
        sandbox.run(
            "1234567890",
            &["-f", "vault.txt", "list", "alice", "--format", "csv"]
        ),
        out(
            0,
            "name,issuer,prev,curr,next,remaining\nalice,Example,709928,742275,835227,30\n",
            ""
        )
    );
}

#[test]
fn team_csv_header_naming_a_column_twice_is_an_error() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        "name,secret,Secret\nx,JBSWY3DPEHPK3PXP,\n",
        0o600,
    );
    assert_eq!(
        sandbox.run("59", &["-f", "vault.csv", "list"]),
        out(
            2,
            "",
            "teamotp: error: vault.csv: line 1: the header names the column 'Secret' twice\n"
        )
    );
}

// ---------------------------------------------------------------------------------------------------------
// Finding the vault
// ---------------------------------------------------------------------------------------------------------

#[test]
fn missing_vault_names_the_default_path_and_hints_what_to_do() {
    let sandbox = Sandbox::new();
    let looked = sandbox.home().join(".config/teamotp/secrets.csv.age");
    assert_eq!(
        sandbox.run("59", &["list"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: no vault at '{}'\n{MISSING_VAULT_HINTS}{}",
                looked.display(),
                discovery_hint(&sandbox)
            )
        )
    );
    assert_eq!(
        sandbox.run("59", &["-f", "nope.csv", "code", "x"]),
        out(
            2,
            "",
            &format!("teamotp: error: no vault at 'nope.csv'\n{MISSING_VAULT_HINTS}")
        )
    );
}

#[test]
fn missing_vault_hint_names_an_existing_gauth_file() {
    let sandbox = Sandbox::new();
    let gauth = sandbox.write("home/.config/gauth.csv", "a:JBSWY3DPEHPK3PXP\n", 0o600);
    let looked = sandbox.home().join(".config/teamotp/secrets.csv.age");
    let gauth_hint = |p: &Path| {
        format!(
            "teamotp: hint: your gauth file can be read as it is: teamotp -f '{}'\n",
            p.display()
        )
    };
    assert_eq!(
        sandbox.run("59", &["list"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: no vault at '{}'\n{MISSING_VAULT_HINTS}{}{}",
                looked.display(),
                gauth_hint(&gauth),
                discovery_hint(&sandbox)
            )
        )
    );
    let elsewhere = sandbox.write("elsewhere/my-gauth.csv", "a:JBSWY3DPEHPK3PXP\n", 0o600);
    assert_eq!(
        run(sandbox
            .teamotp("59")
            .env("GAUTH_CONFIG", &elsewhere)
            .arg("list")),
        out(
            2,
            "",
            &format!(
                "teamotp: error: no vault at '{}'\n{MISSING_VAULT_HINTS}{}{}",
                looked.display(),
                gauth_hint(&elsewhere),
                discovery_hint(&sandbox)
            )
        )
    );
}

#[test]
fn teamotp_file_selects_the_vault_and_file_flag_overrides_it() {
    let sandbox = Sandbox::new();
    sandbox.write("env.txt", "env:JBSWY3DPEHPK3PXP\n", 0o600);
    sandbox.write("flag.txt", "flag:JBSWY3DPEHPK3PXP\n", 0o600);
    assert_eq!(
        run(sandbox
            .teamotp("59")
            .env("TEAMOTP_FILE", "env.txt")
            .args(["list", "--format", "csv"])),
        out(
            0,
            "name,issuer,prev,curr,next,remaining\nenv,,282760,996554,602287,1\n",
            ""
        )
    );
    assert_eq!(
        run(sandbox
            .teamotp("59")
            .env("TEAMOTP_FILE", "env.txt")
            .args(["--file", "flag.txt", "list", "--format", "csv"])),
        out(
            0,
            "name,issuer,prev,curr,next,remaining\nflag,,282760,996554,602287,1\n",
            ""
        )
    );
    assert_eq!(
        run(sandbox
            .teamotp("59")
            .env("TEAMOTP_FILE", "gone.txt")
            .args(["list"])),
        out(
            2,
            "",
            &format!("teamotp: error: no vault at 'gone.txt'\n{MISSING_VAULT_HINTS}")
        )
    );
}

#[test]
fn default_vault_and_identity_are_under_xdg_config_home() {
    let sandbox = Sandbox::new();
    let xdg = sandbox.root().join("xdg");
    sandbox.age_fixture("x25519.csv.age", "xdg/teamotp/secrets.csv.age", 0o644);
    sandbox.age_fixture("x25519.key", "xdg/teamotp/identity.txt", 0o600);
    assert_eq!(
        run(sandbox
            .teamotp("1234567890")
            .env("XDG_CONFIG_HOME", &xdg)
            .args(["list", "--format", "csv"])),
        out(0, PLAIN_CSV_AT_1234567890, "")
    );
}

#[test]
fn default_vault_and_identity_fall_back_to_dot_config() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture(
        "x25519.csv.age",
        "home/.config/teamotp/secrets.csv.age",
        0o644,
    );
    sandbox.age_fixture("x25519.key", "home/.config/teamotp/identity.txt", 0o600);
    assert_eq!(
        sandbox.run("1234567890", &["list", "--format", "csv"]),
        out(0, PLAIN_CSV_AT_1234567890, "")
    );
}

#[test]
fn default_identity_falls_back_to_ssh_id_ed25519() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("multi.csv.age", "vault.age", 0o644);
    sandbox.age_fixture("id_ed25519", "home/.ssh/id_ed25519", 0o600);
    assert_eq!(
        sandbox.run(
            "1234567890",
            &["-f", "vault.age", "list", "--format", "csv"]
        ),
        out(0, PLAIN_CSV_AT_1234567890, "")
    );
}

// ---------------------------------------------------------------------------------------------------------
// Identities and decryption
// ---------------------------------------------------------------------------------------------------------

#[test]
fn identity_flag_and_teamotp_identity_decrypt_the_vault() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("x25519.csv.age", "vault.age", 0o644);
    sandbox.age_fixture("x25519.csv.age.asc", "vault.age.asc", 0o644);
    sandbox.age_fixture("x25519.key", "me.key", 0o600);
    sandbox.age_fixture("other.key", "other.key", 0o600);
    for vault in ["vault.age", "vault.age.asc"] {
        assert_eq!(
            sandbox.run(
                "1234567890",
                &["-f", vault, "-i", "me.key", "list", "--format", "csv"]
            ),
            out(0, PLAIN_CSV_AT_1234567890, ""),
            "{vault}"
        );
    }
    // Several -i: any one that matches will do.
    assert_eq!(
        sandbox.run(
            "1234567890",
            &[
                "-f",
                "vault.age",
                "-i",
                "other.key",
                "-i",
                "me.key",
                "list",
                "--format",
                "csv"
            ]
        ),
        out(0, PLAIN_CSV_AT_1234567890, "")
    );
    assert_eq!(
        run(sandbox
            .teamotp("1234567890")
            .env("TEAMOTP_IDENTITY", "me.key")
            .args(["-f", "vault.age", "list", "--format", "csv"])),
        out(0, PLAIN_CSV_AT_1234567890, "")
    );
    // -i wins over TEAMOTP_IDENTITY.
    assert_eq!(
        run(sandbox
            .teamotp("1234567890")
            .env("TEAMOTP_IDENTITY", "other.key")
            .args(["-f", "vault.age", "-i", "me.key", "list", "--format", "csv"])),
        out(0, PLAIN_CSV_AT_1234567890, "")
    );
    // An SSH key named with -i (the vault is also encrypted to it).
    sandbox.age_fixture("multi.csv.age", "multi.age", 0o644);
    sandbox.age_fixture("id_rsa", "id_rsa", 0o600);
    assert_eq!(
        sandbox.run(
            "1234567890",
            &["-f", "multi.age", "-i", "id_rsa", "list", "--format", "csv"]
        ),
        out(0, PLAIN_CSV_AT_1234567890, "")
    );
}

#[test]
fn wrong_identity_exits_2_naming_the_vault_and_every_identity_tried() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("x25519.csv.age", "vault.age", 0o644);
    sandbox.age_fixture("other.key", "other.key", 0o600);
    sandbox.age_fixture("id_ed25519", "id_ed25519", 0o600);
    let hint = "teamotp: hint: the vault is not encrypted to your key: send your public key to a teammate, \
                who adds it with 'teamotp members add'\n";
    assert_eq!(
        sandbox.run("59", &["-f", "vault.age", "-i", "other.key", "list"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: cannot decrypt 'vault.age': none of the identities can open it (tried 'other.key')\n{hint}"
            )
        )
    );
    assert_eq!(
        sandbox.run(
            "59",
            &[
                "-f",
                "vault.age",
                "-i",
                "other.key",
                "-i",
                "id_ed25519",
                "code",
                "aws"
            ]
        ),
        out(
            2,
            "",
            &format!(
                "teamotp: error: cannot decrypt 'vault.age': none of the identities can open it \
                 (tried 'other.key', 'id_ed25519')\n{hint}"
            )
        )
    );
    // The default identity is named too.
    let default = sandbox.age_fixture("other.key", "home/.config/teamotp/identity.txt", 0o600);
    assert_eq!(
        sandbox.run("59", &["-f", "vault.age", "check"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: cannot decrypt 'vault.age': none of the identities can open it (tried '{}')\n{hint}",
                default.display()
            )
        )
    );
}

#[test]
fn encrypted_vault_without_any_identity_says_where_it_looked() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("x25519.csv.age", "vault.age", 0o644);
    let home = sandbox.home();
    assert_eq!(
        sandbox.run("59", &["-f", "vault.age", "list"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: cannot decrypt 'vault.age': it is encrypted to recipients, but no identity was found\n\
                 teamotp: hint: pass your key with -i/--identity PATH or set TEAMOTP_IDENTITY\n\
                 teamotp: hint: without them teamotp looks for: {h}/.config/teamotp/identity.txt, \
                 {h}/.ssh/id_ed25519, {h}/.ssh/id_rsa\n",
                h = home.display()
            )
        )
    );
}

#[test]
fn missing_identity_file_is_an_error_naming_it() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("x25519.csv.age", "vault.age", 0o644);
    assert_eq!(
        sandbox.run("59", &["-f", "vault.age", "-i", "nope.key", "list"]),
        out(
            2,
            "",
            "teamotp: error: cannot read identity file 'nope.key': No such file or directory (os error 2)\n\
             teamotp: hint: pass another identity with -i/--identity PATH, or set TEAMOTP_IDENTITY\n"
        )
    );
}

#[test]
fn corrupt_vault_exits_2_with_nothing_on_stdout() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("x25519.key", "me.key", 0o600);
    let mut bytes = read_fixture(AGE_FIXTURES, "x25519.csv.age");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    sandbox.write("flipped.age", &bytes, 0o644);
    assert_eq!(
        sandbox.run("59", &["-f", "flipped.age", "-i", "me.key", "list"]),
        out(
            2,
            "",
            "teamotp: error: cannot decrypt 'flipped.age': it is damaged or truncated (decryption error)\n\
             teamotp: hint: restore the file from version control or from its backup (VAULT.bak)\n"
        )
    );
}

#[test]
fn truncated_vault_exits_2_with_nothing_on_stdout() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("x25519.key", "me.key", 0o600);
    let bytes = read_fixture(AGE_FIXTURES, "x25519.csv.age");
    sandbox.write("cut.age", &bytes[..bytes.len() - 20], 0o644);
    assert_eq!(
        sandbox.run("59", &["-f", "cut.age", "-i", "me.key", "code", "aws"]),
        out(
            2,
            "",
            "teamotp: error: cannot decrypt 'cut.age': it is damaged or truncated (decryption error)\n\
             teamotp: hint: restore the file from version control or from its backup (VAULT.bak)\n"
        )
    );
    sandbox.write("half.age", &bytes[..bytes.len() / 2], 0o644);
    assert_eq!(
        sandbox.run("59", &["-f", "half.age", "-i", "me.key", "list"]),
        out(
            2,
            "",
            "teamotp: error: cannot decrypt 'half.age': it is damaged or truncated (failed to fill whole buffer)\n\
             teamotp: hint: restore the file from version control or from its backup (VAULT.bak)\n"
        )
    );
}

#[test]
fn identity_file_readable_by_others_is_refused_with_a_chmod_hint() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("x25519.csv.age", "vault.age", 0o644);
    sandbox.age_fixture("x25519.key", "me.key", 0o644);
    assert_eq!(
        sandbox.run("59", &["-f", "vault.age", "-i", "me.key", "list"]),
        out(
            2,
            "",
            "teamotp: error: identity file 'me.key' is accessible by group or others (mode 0644)\n\
             teamotp: hint: make it private: chmod 600 'me.key'\n"
        )
    );
    let default = sandbox.age_fixture("x25519.key", "home/.config/teamotp/identity.txt", 0o640);
    assert_eq!(
        sandbox.run("59", &["-f", "vault.age", "list"]),
        out(
            2,
            "",
            &format!(
                "teamotp: error: identity file '{p}' is accessible by group or others (mode 0640)\n\
                 teamotp: hint: make it private: chmod 600 '{p}'\n",
                p = default.display()
            )
        )
    );
}

#[test]
fn plaintext_vault_readable_by_others_warns_but_still_works() {
    let sandbox = Sandbox::new();
    sandbox.write("vault.txt", "GitHub:JBSWY3DPEHPK3PXP\n", 0o644);
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "code", "github"]),
        out(
            0,
            "996554\n",
            "teamotp: warning: 'vault.txt' is not encrypted and is readable by group or others (mode 0644)\n\
             teamotp: hint: make it private (chmod 600 'vault.txt'), or encrypt it with age (see docs/secrets-format.md)\n"
        )
    );
}

#[test]
fn private_plaintext_vault_gives_no_warning() {
    let sandbox = Sandbox::new();
    sandbox.write("vault.txt", "GitHub:JBSWY3DPEHPK3PXP\n", 0o600);
    assert_eq!(
        sandbox.run("59", &["-f", "vault.txt", "code", "github"]),
        out(0, "996554\n", "")
    );
}

#[test]
fn passphrase_vault_without_a_terminal_fails_with_a_hint() {
    let sandbox = Sandbox::new();
    sandbox.age_fixture("passphrase.csv.age", "vault.age", 0o644);
    sandbox.age_fixture("passphrase.csv.age.asc", "vault.age.asc", 0o644);
    for vault in ["vault.age", "vault.age.asc"] {
        // setsid -w: a new session with no controlling terminal, and wait for teamotp's exit status.
        let mut cmd = Command::new(need_program("setsid"));
        cmd.env_clear()
            .env("HOME", sandbox.home())
            .current_dir(sandbox.root())
            .timeout(TIMEOUT)
            .args(["-w", BIN, "--at", "59", "-f", vault, "list"]);
        assert_eq!(
            run(&mut cmd),
            out(
                2,
                "",
                &format!(
                    "teamotp: error: cannot decrypt '{vault}': the passphrase is needed and there is no terminal to ask for it\n\
                     teamotp: hint: run teamotp in a terminal, or have the vault encrypted to an identity file \
                     instead of a passphrase\n\
                     teamotp: hint: or type it once per session: teamotp unlock\n"
                )
            )
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// --at, usage errors, broken pipe
// ---------------------------------------------------------------------------------------------------------

#[test]
fn at_accepts_rfc_3339_as_well_as_unix_seconds() {
    let sandbox = Sandbox::new();
    for at in [
        "1700000000",
        "2023-11-14T22:13:20Z",
        "2023-11-15T07:13:20+09:00",
    ] {
        assert_eq!(
            sandbox.run(at, &["--demo", "list"]),
            out(0, DEMO_TABLE_AT_1700000000, ""),
            "--at {at}"
        );
    }
}

#[test]
fn bad_at_is_a_usage_error_exit_2() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("soon", &["--demo", "list"]),
        out(
            2,
            "",
            "teamotp: error: invalid value 'soon' for '--at <TIME>': 'soon' is not a time: give Unix seconds \
             (1700000000) or RFC 3339 (2023-11-14T22:13:20Z)\n\
             teamotp: hint: for more information, try '--help'\n"
        )
    );
    for bad in [
        "2023-13-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2023-11-14T22:13:20",
    ] {
        let got = sandbox.run(bad, &["--demo", "code", "github"]);
        assert_eq!((got.code, got.stdout.as_str()), (2, ""), "--at {bad}");
        assert!(
            got.stderr.starts_with(&format!(
                "teamotp: error: invalid value '{bad}' for '--at <TIME>': '{bad}' is not a time"
            )),
            "{got:?}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("59", &["--demo", "bogus"]),
        out(
            2,
            "",
            "teamotp: error: unrecognized subcommand 'bogus'\n\
             teamotp: hint: usage: teamotp [OPTIONS] [COMMAND]\n\
             teamotp: hint: for more information, try '--help'\n"
        )
    );
    assert_eq!(
        sandbox.run("59", &["--demo", "list", "--format", "xml"]),
        out(
            2,
            "",
            "teamotp: error: invalid value 'xml' for '--format <FORMAT>'\n\
             teamotp: hint: possible values: table, csv, json\n\
             teamotp: hint: for more information, try '--help'\n"
        )
    );
    assert_eq!(
        sandbox.run("59", &["--demo", "-f", "vault.txt", "list"]),
        out(
            2,
            "",
            "teamotp: error: the argument '--demo' cannot be used with '--file <PATH>'\n\
             teamotp: hint: usage: teamotp --at <TIME> --demo\n\
             teamotp: hint: for more information, try '--help'\n"
        )
    );
    let got = sandbox.run("59", &["--demo", "code"]);
    assert_eq!((got.code, got.stdout.as_str()), (2, ""));
    assert!(
        got.stderr.starts_with(
            "teamotp: error: the following required arguments were not provided: <QUERY>\n"
        ),
        "{got:?}"
    );
}

/// Regression (issue 14): usage errors were clap's own "error: ..." text, not the documented
/// `teamotp: error:` / `teamotp: hint:` style; --help and --version stay clap's.
#[test]
fn usage_errors_are_in_teamotps_style_and_help_is_clap_s() {
    let sandbox = Sandbox::new();
    assert_eq!(
        sandbox.run("59", &["--demo", "lst"]),
        out(
            2,
            "",
            "teamotp: error: unrecognized subcommand 'lst'\n\
             teamotp: hint: a similar subcommand exists: 'list'\n\
             teamotp: hint: usage: teamotp [OPTIONS] [COMMAND]\n\
             teamotp: hint: for more information, try '--help'\n"
        )
    );
    let help = sandbox.run("59", &["--help"]);
    assert_eq!(help.code, 0, "{help:?}");
    assert!(help.stdout.contains("Usage: teamotp"), "{help:?}");
    let version = sandbox.run("59", &["--version"]);
    assert_eq!(version.code, 0, "{version:?}");
    assert!(version.stdout.starts_with("teamotp "), "{version:?}");
}

#[test]
fn broken_pipe_exits_0_quietly() {
    let sandbox = Sandbox::new();
    // About 240 kB of table: far more than a pipe holds, so teamotp is still writing when head exits.
    let vault: String = (0..5000)
        .map(|i| format!("acct{i:05}:JBSWY3DPEHPK3PXP\n"))
        .collect();
    sandbox.write("big.txt", vault, 0o600);
    let mut cmd = Command::new(need_program("bash"));
    cmd.env_clear()
        .env("HOME", sandbox.home())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(sandbox.root())
        .timeout(TIMEOUT)
        .args([
            "-c",
            r#""$0" --at 59 -f big.txt list | head -n 1; exit "${PIPESTATUS[0]}""#,
            BIN,
        ]);
    assert_eq!(run(&mut cmd), out(0, "          prev   curr   next\n", ""));
}

/// Regression: the CSV writer wrapped the closed pipe in its own error, so `list --format csv | head -1`
/// printed "teamotp: error: Broken pipe" and exited 2.
#[test]
fn broken_pipe_exits_0_quietly_for_csv_and_json() {
    let sandbox = Sandbox::new();
    let vault: String = (0..5000)
        .map(|i| format!("acct{i:05}:JBSWY3DPEHPK3PXP\n"))
        .collect();
    sandbox.write("big.txt", vault, 0o600);
    for (format, first) in [
        ("csv", "name,issuer,prev,curr,next,remaining\n"),
        ("json", "[\n"),
    ] {
        let mut cmd = Command::new(need_program("bash"));
        cmd.env_clear()
            .env("HOME", sandbox.home())
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(sandbox.root())
            .timeout(TIMEOUT)
            .args([
                "-c",
                r#""$0" --at 59 -f big.txt list --format "$1" | head -n 1; exit "${PIPESTATUS[0]}""#,
                BIN,
                format,
            ]);
        assert_eq!(run(&mut cmd), out(0, first, ""), "{format}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Control characters
// ---------------------------------------------------------------------------------------------------------

#[test]
fn control_characters_in_names_are_not_printed_raw() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.txt",
        "Evil\u{1b}[2Jname:JBSWY3DPEHPK3PXP\n\
         Evil\u{1b}]0;x\u{7}two:JBSWY3DPEHPK3PXP\n\
         Bad\u{1b}[31m:JBSWY3DPEHPK3PX8\n\
         C1\u{9b}31m:JBSWY3DPEHPK3PXP\n\
         C1\u{9b}31m:JBSWY3DPEHPK3PXP\n",
        0o600,
    );
    let warning = "teamotp: warning: vault.txt:3: 'Bad\\u{1b}[31m': secret has an invalid character '8' \
                   at position 16 (base32 uses only A-Z and 2-7)\n";
    let cases = [
        (
            vec!["list"],
            out(
                0,
                "                       prev   curr   next\n\
                 Evil\\u{1b}[2Jname      282760 996554 602287 [=         ]  1s\n\
                 Evil\\u{1b}]0;x\\u{7}two 282760 996554 602287 [=         ]  1s\n\
                 C1\\u{9b}31m            282760 996554 602287 [=         ]  1s\n\
                 C1\\u{9b}31m            282760 996554 602287 [=         ]  1s\n",
                warning,
            ),
        ),
        (
            vec!["code", "evil"],
            out(
                2,
                "",
                "teamotp: error: 'evil' matches 2 accounts: 'Evil\\u{1b}[2Jname', 'Evil\\u{1b}]0;x\\u{7}two'\n\
                 teamotp: hint: give the exact account name, or more of it\n",
            ),
        ),
        (
            vec!["code", "bad"],
            out(
                2,
                "",
                "teamotp: error: vault.txt:3: 'Bad\\u{1b}[31m': secret has an invalid character '8' at position 16 \
                 (base32 uses only A-Z and 2-7)\n\
                 teamotp: hint: run 'teamotp check' to see every problem in the vault\n",
            ),
        ),
        (
            vec!["code", "x\u{1b}[2J"],
            out(1, "", "teamotp: no account matches 'x\\u{1b}[2J'\n"),
        ),
        (
            vec!["list", "x\u{1b}[2J"],
            out(1, "", "teamotp: no account matches 'x\\u{1b}[2J'\n"),
        ),
        (
            vec!["check"],
            out(
                1,
                "vault.txt:3: 'Bad\\u{1b}[31m': secret has an invalid character '8' at position 16 \
                 (base32 uses only A-Z and 2-7)\n\
                 vault.txt:4: 'C1\\u{9b}31m': the name is used on lines 4, 5 (names must be unique)\n",
                "teamotp: vault.txt: 5 accounts (gauth lines), 4 valid, 2 problems\n",
            ),
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["-f", "vault.txt"];
        all.extend_from_slice(&args);
        let got = sandbox.run("59", &all);
        assert_no_control_characters(&got.stdout, &format!("{args:?} stdout"));
        assert_no_control_characters(&got.stderr, &format!("{args:?} stderr"));
        assert_eq!(got, expected, "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Canary: no piece of a secret in any output
// ---------------------------------------------------------------------------------------------------------

/// Every secret written in `tests/fixtures/cli/canary-*`.
const CANARY_SECRETS: &[&str] = &[
    "CANARYCANARYCANARY234567",
    "CANARYZZ8CANARY",
    "CANARYZZ=CANARY",
    "CANARYCANARYCANARY2345",
    "CANARYCANARYCANARY2",
    "CANARYCANARY\u{1b}CANARY234567",
    "CANARY%FFCANARYCANARY234567",
    "canary canary-canary 234567",
    "canary canary canary 234567",
];

/// Every command, with queries that hit valid, invalid, several and no rows.
const CANARY_COMMANDS: &[&[&str]] = &[
    &[],
    &["list"],
    &["list", "--format", "csv"],
    &["list", "--format", "json"],
    &["list", "alpha"],
    &["list", "bravo"],
    &["list", "lima"],
    &["list", "zulu"],
    &["check"],
    &["code", "alpha"],
    &["code", "bravo"],
    &["code", "juliet"],
    &["code", "mike"],
    &["code", "lima"],
    &["code", "oscar"],
    &["code", "sierra"],
    &["code", "zulu"],
    &["code", "a"],
    &["code", "--min-remaining", "29", "juliet"],
];

fn assert_canary_commands_leak_nothing(sandbox: &Sandbox, base: &[&str], context: &str) {
    for command in CANARY_COMMANDS {
        let mut args = base.to_vec();
        args.extend_from_slice(command);
        let got = sandbox.run("1700000000", &args);
        assert!([0, 1, 2].contains(&got.code), "{context} {args:?}: {got:?}");
        assert_no_secret_in(&got, CANARY_SECRETS, &format!("{context} {args:?}"));
    }
}

#[test]
fn secrets_never_appear_in_any_output_of_a_plaintext_vault() {
    let sandbox = Sandbox::new();
    let team = read_fixture(CLI_FIXTURES, "canary-team.csv");
    let gauth = read_fixture(CLI_FIXTURES, "canary-gauth.txt");
    sandbox.write("team.csv", &team, 0o600);
    sandbox.write("gauth.txt", &gauth, 0o600);
    sandbox.write("open.csv", &team, 0o644);
    for file in ["team.csv", "gauth.txt", "open.csv"] {
        assert_canary_commands_leak_nothing(&sandbox, &["-f", file], file);
    }
    // The vaults really do hold a mix of valid and invalid rows.
    let check = sandbox.run("1700000000", &["-f", "team.csv", "check"]);
    assert_eq!(
        check.stderr,
        "teamotp: team.csv: 14 accounts (team CSV), 3 valid, 12 problems\n"
    );
    let check = sandbox.run("1700000000", &["-f", "gauth.txt", "check"]);
    assert_eq!(
        check.stderr,
        "teamotp: gauth.txt: 13 accounts (gauth lines), 2 valid, 12 problems\n"
    );
}

#[test]
fn secrets_never_appear_in_any_output_of_an_encrypted_vault_or_its_errors() {
    let sandbox = Sandbox::new();
    // canary-team.csv.age is canary-team.csv encrypted to tests/fixtures/age/x25519.key.
    let encrypted = read_fixture(CLI_FIXTURES, "canary-team.csv.age");
    sandbox.write("vault.age", &encrypted, 0o644);
    sandbox.age_fixture("x25519.key", "me.key", 0o600);
    sandbox.age_fixture("other.key", "other.key", 0o600);
    sandbox.age_fixture("x25519.key", "open.key", 0o644);
    let mut flipped = encrypted.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    sandbox.write("flipped.age", &flipped, 0o644);
    sandbox.write("cut.age", &encrypted[..encrypted.len() - 20], 0o644);

    // Decrypts to the same thing as the plaintext fixture.
    sandbox.write(
        "plain.csv",
        read_fixture(CLI_FIXTURES, "canary-team.csv"),
        0o600,
    );
    let plain = sandbox.run("1700000000", &["-f", "plain.csv", "check"]);
    let decrypted = sandbox.run("1700000000", &["-f", "vault.age", "-i", "me.key", "check"]);
    assert_eq!(
        decrypted.stdout,
        plain.stdout.replace("plain.csv:", "vault.age:")
    );
    assert_eq!(decrypted.code, 1);

    let bases: [&[&str]; 6] = [
        &["-f", "vault.age", "-i", "me.key"],
        &["-f", "vault.age", "-i", "other.key"],
        &["-f", "vault.age"],
        &["-f", "vault.age", "-i", "open.key"],
        &["-f", "flipped.age", "-i", "me.key"],
        &["-f", "cut.age", "-i", "me.key"],
    ];
    for base in bases {
        assert_canary_commands_leak_nothing(&sandbox, base, &format!("{base:?}"));
    }
}

/// Regression: a lone field (a secret pasted on its own line) was shown as the account name.
#[test]
fn team_csv_row_holding_only_a_secret_does_not_echo_it() {
    // A common paste mistake: the secret alone on a line, as in a gauth file without the 'name:' part.
    // For gauth lines teamotp takes care not to show such a line; team CSV rows should be as careful.
    let sandbox = Sandbox::new();
    sandbox.write(
        "vault.csv",
        "name,issuer,secret\nGitHub,,JBSWY3DPEHPK3PXP\nCANARYCANARYCANARY234567\n",
        0o600,
    );
    for command in [&["check"][..], &["list"], &["code", "github"]] {
        let mut args = vec!["-f", "vault.csv"];
        args.extend_from_slice(command);
        let got = sandbox.run("59", &args);
        assert_no_secret_in(&got, &["CANARYCANARYCANARY234567"], &format!("{args:?}"));
    }
}
