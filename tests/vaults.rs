//! Every vault you belong to (issue 13): the config file, finding the vault without flags, several vaults
//! shown together (`list`, `code`, `check`), writes to exactly one, `init`'s closing line and
//! `--register`, and re-enrolment marks (`members rm`, `check`, `list --format json`, `rotate`).

mod support;

use std::fs;

use support::team::Sandbox;
use support::team::*;
use support::*;

/// `infra/v.age` (AWS) and `finance/v.age` (AWS, Bank), both encrypted to ME, each with its recipients
/// file, named in the config with ME as their identity.
fn two_vaults() -> Sandbox {
    let sb = Sandbox::new();
    for dir in ["infra", "finance"] {
        fs::create_dir(sb.path(dir)).unwrap();
        let file = format!("{dir}/v.age");
        sb.run(&["-i", ME, "-f", &file, "init"])
            .expect_code(0, "init");
        sb.run_stdin(&["-i", ME, "-f", &file, "add", "AWS"], "JBSWY3DPEHPK3PXP\n")
            .expect_code(0, "add AWS");
    }
    sb.run_stdin(
        &["-i", ME, "-f", "finance/v.age", "add", "Bank"],
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
    )
    .expect_code(0, "add Bank");
    let key = sb.path(ME);
    write_config(
        &sb,
        &format!(
            "# my vaults\n[vaults.infra]\nfile = \"{}\"\nidentity = [\"{}\"]\n\n[vaults.finance]\nfile = \"{}\"\nidentity = [\"{}\"]\n",
            sb.path("infra/v.age").display(),
            key.display(),
            sb.path("finance/v.age").display(),
            key.display()
        ),
    );
    sb
}

fn config_path(sb: &Sandbox) -> std::path::PathBuf {
    sb.home().join(".config/teamotp/config.toml")
}

fn write_config(sb: &Sandbox, text: &str) {
    let path = config_path(sb);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Bank's codes at AT (60 s period? no: 30 s, 6 digits) as `list --format csv` prints them.
fn bank_line(sb: &Sandbox) -> String {
    let got = sb.run(&["--vault", "finance", "list", "Bank", "--format", "csv"]);
    assert_eq!(got.code, 0, "{got:?}");
    got.stdout.lines().nth(1).unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------------------
// the config file
// ---------------------------------------------------------------------------------------------------------

#[test]
fn a_bad_config_names_file_line_and_key_with_a_hint() {
    let sb = Sandbox::new();
    write_config(
        &sb,
        "hide = false\n\n[vaults.infra]\nfile = \"/x.age\"\ncolour = \"red\"\n",
    );
    let got = sb.run(&["list"]);
    let path = config_path(&sb);
    assert_eq!(got.code, 2, "{got:?}");
    assert!(
        got.stderr.starts_with(&format!(
            "teamotp: error: {}:5: unknown field `colour`",
            path.display()
        )),
        "{}",
        got.stderr
    );
    assert!(
        got.stderr
            .contains("teamotp: hint: every key is described in docs/config.md")
    );
    write_config(&sb, "hide = \"yes\"\n");
    let got = sb.run(&["list"]);
    assert!(
        got.stderr
            .contains("config.toml:1: invalid type: string \"yes\", expected a boolean"),
        "{}",
        got.stderr
    );
    // The demo never reads the config.
    assert_eq!(sb.run(&["--demo", "list"]).code, 0);
}

#[test]
fn the_demo_runs_with_no_config() {
    let sb = Sandbox::new();
    let got = sb.run(&["--demo", "list", "--format", "csv"]);
    assert_eq!(got.code, 0, "{got:?}");
    assert!(got.stdout.starts_with(LIST_HEADER));
}

// ---------------------------------------------------------------------------------------------------------
// several vaults
// ---------------------------------------------------------------------------------------------------------

#[test]
fn list_shows_every_configured_vault_with_qualified_names_in_every_format() {
    let sb = two_vaults();
    let bank = bank_line(&sb);
    let bank_rest = bank.strip_prefix("Bank").unwrap();
    let got = sb.run(&["list", "--format", "csv"]);
    assert_eq!(
        got,
        out(
            0,
            &format!("{LIST_HEADER}finance/{AWS_LIST}finance/Bank{bank_rest}\ninfra/{AWS_LIST}"),
            ""
        )
    );
    let got = sb.run(&["--all", "list"]);
    assert_eq!(got.code, 0);
    let lines: Vec<&str> = got.stdout.lines().collect();
    assert!(lines[1].starts_with("finance/AWS "), "{}", got.stdout);
    assert!(lines[3].starts_with("infra/AWS "), "{}", got.stdout);
    let got = sb.run(&["list", "aws", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&got.stdout).unwrap();
    let names: Vec<(&str, &str)> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["vault"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("finance/AWS", "finance"), ("infra/AWS", "infra")]);
    // One vault chosen: plain names, and JSON still says which vault.
    let got = sb.run(&["--vault", "infra", "list", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&got.stdout).unwrap();
    assert_eq!(value[0]["name"], "AWS");
    assert_eq!(value[0]["vault"], "infra");
    assert_eq!(value[0]["reenrol"], serde_json::Value::Null);
    // A query whose first part is a vault's name picks that vault.
    let got = sb.run(&["list", "infra/aws", "--format", "csv"]);
    assert_eq!(got, out(0, &format!("{LIST_HEADER}{AWS_LIST}"), ""));
}

#[test]
fn code_picks_a_vault_by_qualified_name_and_refuses_ambiguity() {
    let sb = two_vaults();
    assert_eq!(sb.run(&["code", "infra/AWS"]), out(0, "324550\n", ""));
    let bank = bank_line(&sb);
    let curr = bank.split(',').nth(3).unwrap();
    assert_eq!(sb.run(&["code", "bank"]), out(0, &format!("{curr}\n"), ""));
    assert_eq!(
        sb.run(&["code", "AWS"]),
        out(
            2,
            "",
            "teamotp: error: 'AWS' matches 2 accounts: 'finance/AWS', 'infra/AWS'\n\
             teamotp: hint: name the vault too: teamotp code VAULT/NAME\n"
        )
    );
    assert_eq!(
        sb.run(&["code", "nothing"]),
        out(1, "", "teamotp: no account matches 'nothing'\n")
    );
    // Not a vault name: an account name with a slash, searched everywhere.
    assert_eq!(sb.run(&["code", "ops/AWS"]).code, 1);
}

#[test]
fn a_vault_that_cannot_be_opened_is_reported_and_the_others_shown() {
    let sb = two_vaults();
    let mut config = fs::read_to_string(config_path(&sb)).unwrap();
    config.push_str(&format!(
        "\n[vaults.gone]\nfile = \"{}\"\n",
        sb.path("gone/v.age").display()
    ));
    write_config(&sb, &config);
    let got = sb.run(&["list", "--format", "csv"]);
    assert_eq!(got.code, 2, "{got:?}");
    assert!(got.stdout.contains("infra/AWS,"), "{}", got.stdout);
    assert!(got.stdout.contains("finance/Bank,"), "{}", got.stdout);
    assert!(
        got.stderr.starts_with(&format!(
            "teamotp: error: gone: no vault at '{}'",
            sb.path("gone/v.age").display()
        )),
        "{}",
        got.stderr
    );
    // code: found elsewhere is fine; not found could have been in the broken vault.
    assert_eq!(sb.run(&["code", "infra/AWS"]).code, 0);
    assert_eq!(sb.run(&["code", "bank"]).code, 0);
    let got = sb.run(&["code", "nothing"]);
    assert_eq!(got.code, 2);
    assert!(
        got.stderr.ends_with(
            "teamotp: error: no account matches 'nothing' in the vaults that opened; 'gone' could not be opened\n"
        ),
        "{}",
        got.stderr
    );
    let got = sb.run(&["check"]);
    assert_eq!(got.code, 2, "{got:?}");
}

#[test]
fn check_covers_every_vault() {
    let sb = two_vaults();
    let got = sb.run(&["check"]);
    assert_eq!(got.code, 0, "{got:?}");
    assert!(
        got.stderr
            .contains("finance/v.age: 2 accounts (team CSV), all valid"),
        "{}",
        got.stderr
    );
    assert!(
        got.stderr
            .contains("infra/v.age: 1 accounts (team CSV), all valid"),
        "{}",
        got.stderr
    );
}

#[test]
fn writes_go_to_exactly_one_vault() {
    let sb = two_vaults();
    assert_eq!(
        sb.run_stdin(&["add", "New"], "JBSWY3DPEHPK3PXP\n"),
        out(
            2,
            "",
            "teamotp: error: several vaults are configured ('finance', 'infra') and none is chosen: a write \
             goes to one vault\n\
             teamotp: hint: choose it with --vault NAME, or set default = \"NAME\" in the config\n"
        )
    );
    let got = sb.run_stdin(&["--vault", "infra", "add", "New"], "JBSWY3DPEHPK3PXP\n");
    assert_eq!(got.code, 0, "{got:?}");
    assert_eq!(sb.run(&["code", "new"]), out(0, "324550\n", ""));
    // -f with --vault, and --recipients-file with several vaults, are usage errors.
    let got = sb.run(&["-f", "infra/v.age", "--vault", "infra", "list"]);
    assert_eq!(got.code, 2);
    assert!(got.stderr.contains("cannot be used with"), "{}", got.stderr);
    let got = sb.run(&["--recipients-file", "x", "list"]);
    assert_eq!(got.code, 2);
    assert!(
        got.stderr
            .contains("--recipients-file names the recipients of one vault"),
        "{}",
        got.stderr
    );
    let got = sb.run(&["--vault", "nope", "list"]);
    assert_eq!(
        got,
        out(
            2,
            "",
            "teamotp: error: no vault is named 'nope' in the config\n\
             teamotp: hint: the configured vaults are 'finance', 'infra'\n"
        )
    );
    // A default makes writes (and reads) go to it.
    let mut config = fs::read_to_string(config_path(&sb)).unwrap();
    config.insert_str(0, "default = \"finance\"\n");
    write_config(&sb, &config);
    assert_eq!(
        sb.run_stdin(&["add", "Other"], "JBSWY3DPEHPK3PXP\n").code,
        0
    );
    assert_eq!(
        sb.run(&["list", "--format", "csv"]).stdout.lines().count(),
        4,
        "the default vault only: header, AWS, Bank, Other"
    );
}

// ---------------------------------------------------------------------------------------------------------
// discovery
// ---------------------------------------------------------------------------------------------------------

/// A git work tree `repo/` holding `team.csv.age` (AWS) and its recipients file.
fn repo() -> Sandbox {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("repo/.git")).unwrap();
    // The clone has teamotp's drivers (as `teamotp git-setup` leaves it), so no note about them.
    sb.write(
        "repo/.git/config",
        "[merge \"teamotp\"]\n\tdriver = teamotp merge-driver %O %A %B %P\n\
         [merge \"teamotp-recipients\"]\n\tdriver = teamotp merge-recipients %O %A %B %P\n",
    );
    fs::create_dir_all(sb.path("repo/docs/deep")).unwrap();
    sb.run(&["-i", ME, "-f", "repo/team.csv.age", "init"])
        .expect_code(0, "init");
    sb.run_stdin(
        &["-i", ME, "-f", "repo/team.csv.age", "add", "AWS"],
        "JBSWY3DPEHPK3PXP\n",
    )
    .expect_code(0, "add");
    sb
}

fn run_in<S: AsRef<str>>(sb: &Sandbox, dir: &str, args: &[S], env: &[(&str, &str)]) -> Out {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    let mut cmd = sb.command(&args);
    cmd.current_dir(sb.path(dir));
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

#[test]
fn the_vault_of_the_directory_or_its_git_work_tree_is_found() {
    let sb = repo();
    let listed = format!("{LIST_HEADER}{AWS_LIST}");
    for dir in ["repo", "repo/docs", "repo/docs/deep"] {
        assert_eq!(
            run_in(
                &sb,
                dir,
                &[
                    "-i",
                    &sb.path(ME).display().to_string(),
                    "list",
                    "--format",
                    "csv"
                ],
                &[]
            ),
            out(0, &listed, ""),
            "from {dir}"
        );
    }
    // JSON names it by its file name.
    let got = run_in(
        &sb,
        "repo",
        &[
            "-i",
            &sb.path(ME).display().to_string(),
            "list",
            "--format",
            "json",
        ],
        &[],
    );
    let value: serde_json::Value = serde_json::from_str(&got.stdout).unwrap();
    assert_eq!(value[0]["vault"], "team.csv.age");
    // Writes too (still under the pinning rules: this machine wrote the file's recipients).
    let got = run_in(
        &sb,
        "repo/docs",
        &["-i", &sb.path(ME).display().to_string(), "add", "New"],
        &[],
    );
    assert_eq!(got.code, 2, "no stdin secret: {got:?}");
}

#[test]
fn discovery_order_file_env_vault_directory_default_fallback() {
    let sb = repo();
    let me = sb.path(ME).display().to_string();
    fs::create_dir(sb.path("other")).unwrap();
    sb.run(&["-i", ME, "-f", "other/o.age", "init"])
        .expect_code(0, "init");
    sb.run_stdin(
        &["-i", ME, "-f", "other/o.age", "add", "Other"],
        "JBSWY3DPEHPK3PXP\n",
    )
    .expect_code(0, "add");
    let other = sb.path("other/o.age").display().to_string();
    write_config(
        &sb,
        &format!("default = \"o\"\n[vaults.o]\nfile = \"{other}\"\n"),
    );
    let names = |got: Out| -> Vec<String> {
        assert_eq!(got.code, 0, "{got:?}");
        got.stdout
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_owned())
            .collect()
    };
    let csv = ["list", "--format", "csv"];
    let with = |extra: &[&str]| -> Vec<String> {
        ["-i", me.as_str()]
            .iter()
            .chain(extra)
            .chain(&csv)
            .map(|s| s.to_string())
            .collect()
    };
    // 1. -f beats everything; TEAMOTP_FILE too.
    assert_eq!(
        names(run_in(&sb, "repo", &with(&["-f", &other]), &[])),
        ["Other"]
    );
    assert_eq!(
        names(run_in(&sb, "repo", &with(&[]), &[("TEAMOTP_FILE", &other)])),
        ["Other"]
    );
    // 2. --vault beats the directory.
    assert_eq!(
        names(run_in(&sb, "repo", &with(&["--vault", "o"]), &[])),
        ["Other"]
    );
    // 3. the directory's vault beats the default.
    assert_eq!(names(run_in(&sb, "repo/docs", &with(&[]), &[])), ["AWS"]);
    // 4. elsewhere, the default.
    assert_eq!(names(run_in(&sb, "other", &with(&[]), &[])), ["Other"]);
    assert_eq!(names(run_in(&sb, ".", &with(&[]), &[])), ["Other"]);
    // 5. no config: today's default path.
    fs::remove_file(config_path(&sb)).unwrap();
    let got = run_in(&sb, ".", &with(&[]), &[]);
    assert_eq!(got.code, 2);
    assert!(
        got.stderr.starts_with(&format!(
            "teamotp: error: no vault at '{}'",
            sb.home().join(".config/teamotp/secrets.csv.age").display()
        )),
        "{}",
        got.stderr
    );
    // Several vaults in one directory: an error listing them.
    fs::copy(sb.path("repo/team.csv.age"), sb.path("repo/second.age")).unwrap();
    let got = run_in(&sb, "repo/docs", &with(&[]), &[]);
    assert_eq!(got.code, 2);
    assert!(
        got.stderr.contains("holds several vaults: "),
        "{}",
        got.stderr
    );
    assert!(
        got.stderr.contains("second.age'") && got.stderr.contains("team.csv.age'"),
        "{}",
        got.stderr
    );
}

#[test]
fn init_says_how_the_vault_will_be_found_and_registers_it() {
    let sb = Sandbox::new();
    fs::create_dir_all(sb.path("repo/.git")).unwrap();
    // Created from inside its directory: found from there.
    let got = run_in(
        &sb,
        "repo",
        &[
            "-i",
            &sb.path(ME).display().to_string(),
            "-f",
            "v.age",
            "init",
        ],
        &[],
    );
    assert_eq!(got.code, 0, "{got:?}");
    assert!(
        got.stderr.ends_with("teamotp: commands run in this directory (or below it in its git work tree) find it without -f\n"),
        "{}",
        got.stderr
    );
    // Created elsewhere: the config lines are offered.
    fs::create_dir(sb.path("far")).unwrap();
    let got = sb.run(&["-i", ME, "-f", "far/v.age", "init"]);
    assert_eq!(got.code, 0, "{got:?}");
    let far = fs::canonicalize(sb.path("far/v.age")).unwrap();
    assert!(
        got.stderr.contains(&format!(
            "teamotp: hint: other commands find it with -f '{}', or name it in {}:\n    [vaults.far]\n    file = \"{}\"\n",
            far.display(),
            config_path(&sb).display(),
            far.display()
        )),
        "{}",
        got.stderr
    );
    // Issue 21: the hint is a command that works on the vault just created.
    let hint = format!("teamotp -f '{}' register far", far.display());
    assert!(got.stderr.contains(&hint), "{}", got.stderr);
    // --register adds it to the config, keeping what was there.
    write_config(&sb, "# my comment\nhide = true\n");
    fs::create_dir(sb.path("reg")).unwrap();
    let got = sb.run(&["-i", ME, "-f", "reg/v.age", "init", "--register", "team"]);
    assert_eq!(got.code, 0, "{got:?}");
    assert!(
        got.stderr.contains("registered the vault as 'team'"),
        "{}",
        got.stderr
    );
    let reg = fs::canonicalize(sb.path("reg/v.age")).unwrap();
    assert_eq!(
        fs::read_to_string(config_path(&sb)).unwrap(),
        format!(
            "# my comment\nhide = true\n\n[vaults.team]\nfile = \"{}\"\n",
            reg.display()
        )
    );
    sb.run_stdin(
        &["-i", ME, "--vault", "team", "add", "AWS"],
        "JBSWY3DPEHPK3PXP\n",
    )
    .expect_code(0, "add to the registered vault");
    assert_eq!(
        sb.run(&["-i", ME, "list", "--format", "csv"]),
        out(0, &format!("{LIST_HEADER}{AWS_LIST}"), "")
    );
}

// ---------------------------------------------------------------------------------------------------------
// re-enrolment
// ---------------------------------------------------------------------------------------------------------

#[test]
fn members_rm_marks_check_lists_json_carries_and_rotate_clears() {
    let sb = Sandbox::new();
    sb.init_with_aws();
    sb.me_stdin(&["add", "Bank"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
        .expect_code(0, "add Bank");
    sb.me(&["members", "add", &other_pub(), "--name", "Olga"])
        .expect_code(0, "members add");
    assert_eq!(sb.me(&["check", "--strict"]).code, 0);
    let got = sb.me(&["members", "rm", "olga", "--yes"]);
    assert_eq!(got.code, 0, "{got:?}");
    assert!(
        got.stderr.contains("then 'teamotp rotate NAME'"),
        "{}",
        got.stderr
    );

    let got = sb.me(&["check"]);
    assert_eq!(
        got,
        out(
            0,
            "re-enrol:\n  'AWS': since 2023-11-14, removed: Olga\n  'Bank': since 2023-11-14, removed: Olga\n",
            "teamotp: v.age: 2 accounts (team CSV), all valid\n\
             teamotp: 2 accounts to re-enrol: set a new secret at each service, then 'teamotp rotate NAME'\n"
        )
    );
    assert_eq!(sb.me(&["check", "--strict"]).code, 1);
    let got = sb.me(&["list", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&got.stdout).unwrap();
    assert_eq!(
        value[0]["reenrol"],
        serde_json::json!({"since": "2023-11-14", "members": ["Olga"]})
    );
    // The mark is in the vault itself, as its own column.
    let plaintext = decrypt(&sb.path(ME), &sb.path("v.age")).unwrap();
    assert!(
        plaintext.starts_with("name,issuer,secret,digits,period,algorithm,type,reenrol\n"),
        "{plaintext}"
    );
    // Edits keep the mark; a new account never has one.
    sb.me(&["edit", "Bank", "--issuer", "Big Bank"])
        .expect_code(0, "edit");
    sb.me_stdin(&["add", "Fresh"], "JBSWY3DPEHPK3PXP\n")
        .expect_code(0, "add");
    // rotate: a new secret, the code to confirm, the mark cleared.
    let got = sb.me_stdin(&["rotate", "AWS"], "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n");
    assert_eq!(got.code, 0, "{got:?}");
    assert!(
        got.stderr
            .starts_with("teamotp: updated 'AWS'; its current code is "),
        "{}",
        got.stderr
    );
    // edit --secret clears it too.
    sb.me_stdin(&["edit", "Bank", "--secret"], "JBSWY3DPEHPK3PXP\n")
        .expect_code(0, "edit --secret");
    let got = sb.me(&["check", "--strict"]);
    assert_eq!(
        got,
        out(0, "", "teamotp: v.age: 3 accounts (team CSV), all valid\n")
    );
    let value: serde_json::Value =
        serde_json::from_str(&sb.me(&["list", "--format", "json"]).stdout).unwrap();
    assert!(
        value
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["reenrol"].is_null())
    );
}
