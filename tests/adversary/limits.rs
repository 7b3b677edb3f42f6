//! Attacks: limits (see tests/adversary.rs). A secret pasted into the name column, `check` on a huge
//! vault, and times at the end of `u64`.

use crate::support::*;

/// A secret that must never be shown: it sits in the name column of rows whose secret cell is empty.
const CANARY: &str = "K5UW4ZDPO4QGK6DBNVYGYZJA";
/// The same canary as it would be pasted in groups of four, to catch a partial echo.
const CANARY_PIECE: &str = "K5UW4Z";

/// A plaintext team vault at `vault.csv` (mode 0600) in a new sandbox.
fn vault(prefix: &str, text: &str) -> Sandbox {
    let sandbox = Sandbox::new(prefix);
    sandbox.write("vault.csv", text);
    set_mode(&sandbox.path("vault.csv"), 0o600);
    sandbox
}

#[track_caller]
fn assert_no_canary(out: &Out, what: &str) {
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.to_uppercase().contains(CANARY_PIECE),
            "{what} shows the secret from the name column\n{out:?}"
        );
    }
}

// Before the fix, `check` printed "vault.csv:3: 'K5UW4ZDPO4QGK6DBNVYGYZJA': secret is empty" (and list's
// warning and textconv's line did the same).
#[test]
fn a_secret_in_the_name_column_is_never_echoed() {
    let cases = [
        // The secret cell (and every other) is empty.
        format!("name,issuer,secret,digits\nGood,,JBSWY3DPEHPK3PXP,\n{CANARY},,,\n"),
        // Fewer cells than the header (the secret cell is missing).
        format!("name,issuer,secret\nGood,,JBSWY3DPEHPK3PXP\n{CANARY},\n"),
        // The secret column first, the name column holding the secret.
        format!("secret,name\nJBSWY3DPEHPK3PXP,Good\n,{CANARY}\n"),
        // More cells than the header, all empty but the name.
        format!("name,secret\nGood,JBSWY3DPEHPK3PXP\n{CANARY},,,\n"),
        // Quoted and padded.
        format!("name,secret\nGood,JBSWY3DPEHPK3PXP\n\" {CANARY} \",\"\"\n"),
    ];
    for text in &cases {
        let sandbox = vault("limits-name", text);
        let check = sandbox.run(&["-f", "vault.csv", "check"], "");
        assert_eq!(check.code, 1, "{text}: {check:?}");
        assert_no_canary(&check, "check");
        assert!(
            check.stdout.contains("vault.csv:3: ") && check.stdout.contains("no secret"),
            "{text}: the row is reported by its line: {check:?}"
        );
        let list = sandbox.run(&["--at", AT, "-f", "vault.csv", "list"], "");
        assert_eq!(list.code, 0, "{text}: {list:?}");
        assert_no_canary(&list, "list");
        assert!(list.stdout.contains("Good"), "{list:?}");
        let csv = sandbox.run(
            &["--at", AT, "-f", "vault.csv", "list", "--format", "json"],
            "",
        );
        assert_no_canary(&csv, "list --format json");
        let textconv = sandbox.run(&["-f", "vault.csv", "textconv", "vault.csv"], "");
        assert_eq!(textconv.code, 0, "{text}: {textconv:?}");
        assert_no_canary(&textconv, "textconv");
        assert!(
            textconv.stdout.contains("(line 3) | invalid:"),
            "{textconv:?}"
        );
        // Nor by asking for it by name: the row has no name to match.
        let code = sandbox.run(&["--at", AT, "-f", "vault.csv", "code", CANARY], "");
        assert_eq!(code.code, 1, "{code:?}");
        assert!(!code.stdout.contains(CANARY_PIECE), "{code:?}");
    }
}

// The gauth form of the same paste: `SECRET:` (an empty secret after the colon) and a lone `SECRET`.
#[test]
fn a_secret_on_a_gauth_line_without_a_secret_is_never_echoed() {
    let sandbox = Sandbox::new("limits-gauth");
    sandbox.write(
        "vault.txt",
        format!("Good:JBSWY3DPEHPK3PXP\n{CANARY}:\n{CANARY}\n"),
    );
    set_mode(&sandbox.path("vault.txt"), 0o600);
    let check = sandbox.run(&["-f", "vault.txt", "check"], "");
    assert_eq!(check.code, 1, "{check:?}");
    assert_no_canary(&check, "check");
    assert_eq!(check.stdout.lines().count(), 2, "{check:?}");
    let textconv = sandbox.run(&["-f", "vault.txt", "textconv", "vault.txt"], "");
    assert_no_canary(&textconv, "textconv");
    let list = sandbox.run(&["--at", AT, "-f", "vault.txt", "list"], "");
    assert_no_canary(&list, "list");
}

/// `check` on `n` rows named `account-N`, where every 100th row repeats (in upper case) the name before it.
fn many_rows(n: usize) -> String {
    let mut text = String::from("name,secret\n");
    for i in 1..=n {
        if i % 100 == 0 {
            text.push_str(&format!("ACCOUNT-{},JBSWY3DPEHPK3PXP\n", i - 1));
        } else {
            text.push_str(&format!("account-{i},JBSWY3DPEHPK3PXP\n"));
        }
    }
    text
}

// Untimed: the linear duplicate search reports exactly what the quadratic one did, in the same order.
#[test]
fn check_reports_every_duplicate_in_first_seen_order() {
    let mut text = String::from(
        "name,secret\n\
         b,JBSWY3DPEHPK3PXP\n\
         a,JBSWY3DPEHPK3PXP\n\
         B,JBSWY3DPEHPK3PXP\n\
         c,JBSWY3DPEHPK3PXP\n\
         A,JBSWY3DPEHPK3PXP\n\
         b,JBSWY3DPEHPK3PXP\n\
         ,JBSWY3DPEHPK3PXP\n\
         ,JBSWY3DPEHPK3PXP\n\
         Straße,JBSWY3DPEHPK3PXP\n\
         STRASSE,JBSWY3DPEHPK3PXP\n\
         ÉTÉ,JBSWY3DPEHPK3PXP\n\
         été,JBSWY3DPEHPK3PXP\n\
         c,bad8\n",
    );
    let sandbox = vault("limits-dups", &text);
    let out = sandbox.run(&["-f", "vault.csv", "check"], "");
    assert_eq!(
        out,
        Out::new(
            1,
            "vault.csv:8: account name is empty\n\
             vault.csv:9: account name is empty\n\
             vault.csv:14: 'c': secret has an invalid character '8' at position 4 (base32 uses only A-Z and 2-7)\n\
             vault.csv:2: 'b': the name is used on lines 2, 4, 7 (names must be unique)\n\
             vault.csv:3: 'a': the name is used on lines 3, 6 (names must be unique)\n\
             vault.csv:5: 'c': the name is used on lines 5, 14 (names must be unique)\n",
            "teamotp: vault.csv: 13 accounts (team CSV), 10 valid, 6 problems\n"
        )
    );
    // A larger file: one line per duplicate pair, in the order of first appearance.
    text = many_rows(3000);
    let sandbox = vault("limits-many", &text);
    let out = sandbox.run(&["-f", "vault.csv", "check"], "");
    assert_eq!(out.code, 1, "{out:?}");
    let expected: String = (1..=30)
        .map(|k| {
            let first = k * 100 - 1;
            format!(
                "vault.csv:{}: 'account-{first}': the name is used on lines {}, {} (names must be unique)\n",
                first + 1,
                first + 1,
                first + 2
            )
        })
        .collect();
    assert_eq!(out.stdout, expected);
}

/// The usage error for an `--at` beyond the last accepted time.
#[track_caller]
fn assert_at_refused(out: &Out, at: &str) {
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (2, ""),
        "--at {at}: {out:?}"
    );
    assert!(
        out.stderr.contains(&format!("'{at}'")) && out.stderr.contains("9999-12-31T23:59:59Z"),
        "--at {at}: the error names the value and the limit: {out:?}"
    );
}

// Before the fix: `--at 18446744073709551615 code Good --min-remaining 5` exited 0 with a code (the wait
// wrapped `now + wait` round to t=4 in release builds; a debug build panicked with exit 101).
#[test]
fn an_at_near_the_end_of_u64_is_a_usage_error_not_a_wrapped_code() {
    let sandbox = vault("limits-at", "name,secret\nGood,JBSWY3DPEHPK3PXP\n");
    let code_at_4 = sandbox.ok(&["--at", "4", "-f", "vault.csv", "code", "Good"], "");
    for at in [
        "18446744073709551615",
        "18446744073709551600",
        "253402300800",
        "10000-01-01T00:00:00Z",
        "9999-12-31T23:59:59-00:01",
        "9999-12-31T23:59:59.999-23:59",
    ] {
        let out = sandbox.run(
            &[
                "--at",
                at,
                "-f",
                "vault.csv",
                "code",
                "Good",
                "--min-remaining",
                "5",
            ],
            "",
        );
        assert_ne!(out.stdout, code_at_4.stdout, "--at {at}: the wrapped code");
        if at.starts_with("10000") {
            // Not RFC 3339 at all (a five-digit year).
            assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{out:?}");
            continue;
        }
        assert_at_refused(&out, at);
        assert_at_refused(
            &sandbox.run(&["--at", at, "-f", "vault.csv", "list"], ""),
            at,
        );
    }
    // The last accepted second, in both forms, still works, and its next window does not overflow.
    for at in [
        "253402300799",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59+01:00",
    ] {
        let out = sandbox.run(
            &[
                "--at",
                at,
                "-f",
                "vault.csv",
                "code",
                "Good",
                "--min-remaining",
                "5",
            ],
            "",
        );
        assert_eq!(out.code, 0, "--at {at}: {out:?}");
        assert_eq!(out.stdout.trim().len(), 6, "{out:?}");
        sandbox.ok(&["--at", at, "-f", "vault.csv", "list"], "");
    }
}

// A `--min-remaining` no code can satisfy (more than the account's period) is a usage error naming it,
// not a silent wait for a code that has less left than asked.
#[test]
fn an_impossible_min_remaining_is_a_usage_error() {
    let sandbox = vault("limits-min", "name,secret\nGood,JBSWY3DPEHPK3PXP\n");
    for min in ["31", "18446744073709551615"] {
        let out = sandbox.run(
            &[
                "--at",
                AT,
                "-f",
                "vault.csv",
                "code",
                "Good",
                "--min-remaining",
                min,
            ],
            "",
        );
        assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{min}: {out:?}");
        assert!(
            out.stderr.starts_with(&format!(
                "teamotp: error: --min-remaining '{min}' is not less than the 30 s period of 'Good'"
            )),
            "{out:?}"
        );
    }
    // The whole period is refused too (issue 14: only a code at its very first second has it); one
    // second less is fine.
    let refused = sandbox.run(
        &[
            "--at",
            AT,
            "-f",
            "vault.csv",
            "code",
            "Good",
            "--min-remaining",
            "30",
        ],
        "",
    );
    assert_eq!(refused.code, 2, "{refused:?}");
    sandbox.ok(
        &[
            "--at",
            AT,
            "-f",
            "vault.csv",
            "code",
            "Good",
            "--min-remaining",
            "29",
        ],
        "",
    );
}
