//! `list`, `code` and `check`: functions of a loaded vault and a time, writing to any `Write` (only `code`
//! reads the clock again, after waiting for a fresh code).

use std::io::{IsTerminal, Write};

use anyhow::Result;

use crate::account::Account;
use crate::error::UserError;
use crate::output::{self, Format, Line};
use crate::text::printable;
use crate::totp;
use crate::vault::Loaded;
use crate::vault::format::Row;
use crate::vault::inspect::Agreement;
use crate::vault::load::{Unparsed, describe_row};

/// True when the account's name or issuer contains `query`, case-insensitively.
pub fn matches(row: &Row, query: &str) -> bool {
    Query::new(query).matches(row)
}

/// A `list`/`code` query, lower-cased once (not once per row).
struct Query(String);

impl Query {
    fn new(query: &str) -> Query {
        Query(query.to_lowercase())
    }

    fn matches(&self, row: &Row) -> bool {
        row.name().to_lowercase().contains(&self.0)
            || row
                .entry
                .as_ref()
                .ok()
                .and_then(|a| a.issuer.as_deref())
                .is_some_and(|i| i.to_lowercase().contains(&self.0))
    }
}

/// Reports invalid rows on `err` as warnings.
pub fn warn_invalid(vault: &Loaded, err: &mut dyn Write) -> Result<()> {
    for (row, reason) in vault.parsed.invalid() {
        writeln!(
            err,
            "teamotp: warning: {}",
            printable(&vault.describe(row, reason))
        )?;
    }
    Ok(())
}

/// The vaults a read command shows: those that opened, by name, and the names of those that could not
/// be opened (already reported on stderr). `list` keeps them unparsed ([`Unparsed`]) to parse them row
/// by row; `code` and `check` hold their rows ([`Loaded`]).
pub struct Shown<V = Loaded> {
    pub vaults: Vec<(String, V)>,
    pub failed: Vec<String>,
}

impl<V> Shown<V> {
    /// One vault, under its name.
    pub fn one(name: impl Into<String>, vault: V) -> Shown<V> {
        Shown {
            vaults: vec![(name.into(), vault)],
            failed: Vec::new(),
        }
    }

    /// More than one vault is shown: accounts are named `VAULT/NAME`.
    pub fn several(&self) -> bool {
        self.vaults.len() + self.failed.len() > 1
    }
}

/// `teamotp list`: exit 0, or 1 when a QUERY matched nothing, or 2 when a vault could not be opened.
///
/// CSV is written row by row as the vault is parsed, each row's codes computed and the row dropped: a
/// 10,000-account vault is never held as rows, lines or code strings (a warning for an invalid row
/// comes when the row does). The table needs its widths and JSON its whole array first: they parse
/// every vault, then write the warnings, then the lines.
pub fn list(
    shown: &Shown<Unparsed>,
    query: Option<&str>,
    format: Format,
    now: u64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    let qualified = shown.several();
    let query = query.map(|q| (q, Query::new(q)));
    let wanted = |row: &Row| query.as_ref().is_none_or(|(_, q)| q.matches(row));
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, out);
    let mut matched = 0;
    if format == Format::Csv {
        output::csv_header(&mut out)?;
        for (name, vault) in &shown.vaults {
            let mut rows = 0;
            let mut failed = None;
            vault.each_row(|row| {
                rows += 1;
                if failed.is_some() || !wanted(&row) {
                    return;
                }
                matched += 1;
                let written = match &row.entry {
                    Err(reason) => writeln!(
                        err,
                        "teamotp: warning: {}",
                        printable(&describe_row(&vault.label, &row, reason))
                    ),
                    Ok(account) => output::csv_line(
                        &mut out,
                        &Line {
                            account,
                            window: totp::window(account, now),
                            vault: name,
                            qualified,
                            reenrol: row.reenrol.as_ref(),
                        },
                    ),
                };
                failed = written.err();
            })?;
            if let Some(e) = failed {
                return Err(e.into());
            }
            if query.is_none() && rows == 0 {
                writeln!(err, "teamotp: {} has no accounts", vault.label)?;
            }
        }
    } else {
        let vaults = shown
            .vaults
            .iter()
            .map(|(name, vault)| Ok((name, vault.parse()?)))
            .collect::<Result<Vec<_>, UserError>>()?;
        let mut lines: Vec<Line> = Vec::new();
        for (name, vault) in &vaults {
            for row in vault.parsed.rows.iter().filter(|r| wanted(r)) {
                matched += 1;
                match &row.entry {
                    Err(reason) => writeln!(
                        err,
                        "teamotp: warning: {}",
                        printable(&vault.describe(row, reason))
                    )?,
                    Ok(account) => lines.push(Line {
                        account,
                        window: totp::window(account, now),
                        vault: name,
                        qualified,
                        reenrol: row.reenrol.as_ref(),
                    }),
                }
            }
            if query.is_none() && vault.parsed.rows.is_empty() {
                writeln!(err, "teamotp: {} has no accounts", vault.label)?;
            }
        }
        match format {
            Format::Table if lines.is_empty() => {}
            Format::Table => output::table(&mut out, &lines)?,
            _ => output::json(&mut out, &lines)?,
        }
    }
    out.flush()?;
    if !shown.failed.is_empty() {
        return Ok(2);
    }
    match query {
        Some((q, _)) if matched == 0 => {
            writeln!(err, "teamotp: no account matches '{}'", printable(q))?;
            Ok(1)
        }
        _ => Ok(0),
    }
}

/// The rows `query` names in one vault: the exact (case-insensitive) names if any (`true`), else every
/// row whose name or issuer contains it.
fn candidates<'a>(vault: &'a Loaded, query: &str) -> (Vec<&'a Row>, bool) {
    let lower = query.to_lowercase();
    let rows = &vault.parsed.rows;
    let exact: Vec<&Row> = rows
        .iter()
        .filter(|r| r.name().to_lowercase() == lower)
        .collect();
    if exact.is_empty() {
        let query = Query::new(query);
        (rows.iter().filter(|r| query.matches(r)).collect(), false)
    } else {
        (exact, true)
    }
}

/// The single account `query` names: an exact (case-insensitive) name wins, else the only row whose
/// name or issuer contains it. Errors carry exit code 1 for no match and 2 for several or an invalid row.
pub fn find<'a>(vault: &'a Loaded, query: &str) -> Result<&'a Account, UserError> {
    let (found, _) = candidates(vault, query);
    one_of(
        &found.iter().map(|r| (vault, *r, None)).collect::<Vec<_>>(),
        query,
    )
}

/// The account among `found` (each with its vault and, when several vaults are shown, the vault's name).
fn one_of<'a>(
    found: &[(&'a Loaded, &'a Row, Option<&str>)],
    query: &str,
) -> Result<&'a Account, UserError> {
    match found {
        [] => Err(UserError::new(format!("no account matches '{}'", printable(query))).code(1)),
        [(vault, row, _)] => row.entry.as_ref().map_err(|reason| {
            UserError::new(printable(&vault.describe(row, reason)).into_owned())
                .hint("run 'teamotp check' to see every problem in the vault")
        }),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|(_, r, vault)| match vault {
                    Some(v) => format!("'{}/{}'", printable(v), printable(r.name())),
                    None => format!("'{}'", printable(r.name())),
                })
                .collect();
            let vaults: Vec<&str> = several.iter().filter_map(|(_, _, v)| *v).collect();
            let in_several = vaults.windows(2).any(|w| w[0] != w[1]);
            let error = UserError::new(format!(
                "'{}' matches {} accounts: {}",
                printable(query),
                several.len(),
                names.join(", ")
            ));
            Err(if in_several {
                error.hint("name the vault too: teamotp code VAULT/NAME")
            } else {
                error.hint("give the exact account name, or more of it")
            })
        }
    }
}

/// How `code` runs: `--min-remaining`, whether it may really wait (not at a fixed `--at` time), and
/// `--clip` (the environment that tells which clipboard).
pub struct CodeOptions<'a> {
    pub min_remaining: Option<u64>,
    pub may_wait: bool,
    pub clip: Option<&'a crate::env::Env>,
}

/// The single account `query` names across the shown vaults (exact names first, as [`find`]). With a
/// vault that could not be opened, finding nothing is an error (exit 2): the account may be there.
pub fn find_in<'a>(shown: &'a Shown, query: &str) -> Result<&'a Account, UserError> {
    let several = shown.several();
    let mut exact = Vec::new();
    let mut partial = Vec::new();
    for (name, vault) in &shown.vaults {
        let (rows, is_exact) = candidates(vault, query);
        let into = if is_exact { &mut exact } else { &mut partial };
        into.extend(
            rows.into_iter()
                .map(|r| (vault, r, several.then_some(name.as_str()))),
        );
    }
    let found = if exact.is_empty() { partial } else { exact };
    one_of(&found, query).map_err(|e| {
        if e.code == 1 && shown.failed.is_empty() {
            let names = shown
                .vaults
                .iter()
                .flat_map(|(_, v)| v.parsed.rows.iter().map(|r| r.name()));
            match super::accounts::did_you_mean(query, names) {
                Some(hint) => e.hint(hint),
                None => e,
            }
        } else if e.code == 1 && !shown.failed.is_empty() {
            let names: Vec<String> = shown.failed.iter().map(|n| format!("'{n}'")).collect();
            UserError::new(format!(
                "no account matches '{}' in the vaults that opened; {} could not be opened",
                printable(query),
                names.join(", ")
            ))
        } else {
            e
        }
    })
}

/// `teamotp code QUERY`: the current code on `out` (or, with `--clip`, on a clipboard). With
/// `min_remaining`, a code with fewer seconds left is waited out (only when `may_wait`, i.e. not at a
/// fixed `--at` time) and the next one printed.
pub fn code(
    shown: &Shown,
    query: &str,
    options: &CodeOptions,
    now: u64,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8> {
    let account = find_in(shown, query)?;
    let (wait, mut code) = code_plan(account, now, options.min_remaining)?;
    let mut at = now.saturating_add(wait);
    if wait > 0 && options.may_wait {
        // At a terminal, say why nothing appears yet (scripts get stderr untouched).
        if std::io::stderr().is_terminal() {
            let _ = writeln!(err, "teamotp: waiting {wait} s for a fresh code");
        }
        std::thread::sleep(std::time::Duration::from_secs(wait));
        // Read the clock again after sleeping: the code is for the moment it is printed.
        at = crate::time::now().as_secs();
        let (_, fresh) = code_plan(account, at, None)?;
        code = fresh;
    }
    if let Some(env) = options.clip {
        // The code stays valid for what is left of its period, counted on the wall clock.
        let left = totp::remaining(account.params.period, at);
        let expires_at = crate::time::now().as_secs().saturating_add(left);
        let code = zeroize::Zeroizing::new(code);
        super::clip::copy(&code, &printable(&account.name), expires_at, env, err)?;
        return Ok(0);
    }
    writeln!(out, "{code}")?;
    out.flush()?;
    Ok(0)
}

/// What `code` should print and how long to wait first: with `min_remaining`, a code with fewer seconds
/// left is skipped for the next one. A `min_remaining` longer than the period (no code ever has that
/// long, or exactly that long) is a usage error, and so is a time whose next window does not fit in `u64` (`--at` is bounded
/// by [`crate::time::LATEST`], so only a broken clock gets there).
pub fn code_plan(
    account: &Account,
    now: u64,
    min_remaining: Option<u64>,
) -> Result<(u64, String), UserError> {
    let period = account.params.period;
    // A code is valid for at most the period, and has the whole period left only at its first instant:
    // asking for that much would wait for an exact second boundary, so it is refused too.
    if let Some(min) = min_remaining.filter(|min| *min >= period) {
        return Err(UserError::new(format!(
            "--min-remaining '{min}' is not less than the {period} s period of '{}': no code is valid that long",
            printable(&account.name)
        ))
        .hint(format!("give at most {} seconds", period - 1)));
    }
    let left = totp::remaining(period, now);
    let wait = match min_remaining {
        Some(min) if left < min => left,
        _ => 0,
    };
    let at = now
        .checked_add(wait)
        .ok_or_else(|| UserError::new(format!("the time '{now}' is too late to compute a code")))?;
    Ok((wait, totp::code(account, at).to_string()))
}

/// `teamotp check`: every problem on `out`, a summary per vault on `err`, then the accounts waiting for
/// re-enrolment under "re-enrol". Exit 0 when clean, 1 with a problem (or, with `strict`, an account to
/// re-enrol), 2 when a vault could not be opened.
pub fn check(shown: &Shown, strict: bool, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let mut code = 0;
    let mut marked = Vec::new();
    for (name, vault) in &shown.vaults {
        code = code.max(check_one(vault, out, err)?);
        for row in &vault.parsed.rows {
            if let Some(mark) = &row.reenrol {
                let shown_name = if shown.several() {
                    format!("{name}/{}", row.name())
                } else {
                    row.name().to_owned()
                };
                marked.push((shown_name, mark));
            }
        }
    }
    if !marked.is_empty() {
        writeln!(out, "re-enrol:")?;
        for (name, mark) in &marked {
            let since = if mark.since.is_empty() {
                "an unknown date"
            } else {
                &mark.since
            };
            writeln!(
                out,
                "  '{}': since {}, removed: {}",
                printable(name),
                printable(since),
                printable(&mark.who())
            )?;
        }
        writeln!(
            err,
            "teamotp: {} account{} to re-enrol: set a new secret at each service, then 'teamotp rotate NAME'",
            marked.len(),
            if marked.len() == 1 { "" } else { "s" }
        )?;
        if strict {
            code = code.max(1);
        }
    }
    if !shown.failed.is_empty() {
        code = 2;
    }
    Ok(code)
}

fn check_one(vault: &Loaded, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8> {
    let mut problems = 0;
    match &vault.agreement {
        Agreement::Mismatch(line) => {
            writeln!(out, "{}", printable(line))?;
            problems += 1;
        }
        Agreement::NoRecord => writeln!(
            err,
            "teamotp: note: '{}' was written by another tool (such as plain age) or an older teamotp: \
             it carries no record of its recipients, so it cannot be checked against .age-recipients \
             (the next teamotp write adds one)",
            printable(&vault.label)
        )?,
        Agreement::Agrees => {}
    }
    for (row, reason) in vault.parsed.invalid() {
        writeln!(out, "{}", printable(&vault.describe(row, reason)))?;
        problems += 1;
    }
    for (name, lines) in vault.parsed.duplicate_names() {
        let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "{}:{}: '{}': the name is used on lines {} (names must be unique)",
            printable(&vault.label),
            lines[0],
            printable(&name),
            lines.join(", ")
        )?;
        problems += 1;
    }
    let total = vault.parsed.rows.len();
    let valid = vault.parsed.accounts().count();
    if problems == 0 {
        writeln!(
            err,
            "teamotp: {}: {total} accounts ({}), all valid",
            vault.label, vault.parsed.format
        )?;
        Ok(0)
    } else {
        writeln!(
            err,
            "teamotp: {}: {total} accounts ({}), {valid} valid, {problems} problem{}",
            vault.label,
            vault.parsed.format,
            if problems == 1 { "" } else { "s" }
        )?;
        Ok(1)
    }
}
