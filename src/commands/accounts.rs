//! The account commands: `add`, `rm`, `rename`, `edit`. Each opens the vault for editing, changes its
//! document and writes it through [`Transaction::commit`].

use std::io::Write;

use super::ask::{Terminal, confirm, read_secret, show};
use crate::account::{Account, Params};
use crate::error::UserError;
use crate::text::printable;
use crate::vault;
use crate::vault::document::Changes;
use crate::vault::format::otpauth;
use crate::vault::transaction::{Context, Transaction};

/// `teamotp add NAME` (secret from the terminal or stdin) or `teamotp add --uri [NAME]`.
pub fn add(
    ctx: &Context,
    name: Option<&str>,
    uri: bool,
    flags: &Changes,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    // Asked before the vault is locked: a teammate's write never waits for us to type. A pasted
    // otpauth:// URI is taken as one, with or without --uri.
    let prompt = match (uri, name) {
        (true, _) => "otpauth:// URI (hidden): ".to_owned(),
        (false, Some(name)) => format!("Secret for '{name}' (hidden): "),
        (false, None) => {
            "otpauth:// URI (hidden; for a bare secret: teamotp add NAME): ".to_owned()
        }
    };
    let text = read_secret(&prompt)?;
    let from_label;
    let mut account = if otpauth::is_uri(&text) {
        let mut account = otpauth::parse(&text)
            .map_err(|(_, reason)| UserError::new(format!("the URI is not usable: {reason}")))?;
        from_label = name.is_none();
        if let Some(name) = name {
            account.name = name.to_owned();
        }
        account
    } else if uri {
        return Err(UserError::new("that is not an otpauth:// URI")
            .hint("without --uri, teamotp add NAME reads the base32 secret itself"));
    } else {
        let name = name.ok_or_else(|| {
            UserError::new("give the account's name: teamotp add NAME")
                .hint("or paste an otpauth:// URI: teamotp add reads it instead of a secret")
        })?;
        let secret = crate::secret::decode(&text)
            .map_err(|e| UserError::new(format!("the secret is not usable: {e}")))?;
        from_label = false;
        Account {
            name: name.to_owned(),
            issuer: None,
            params: Params::default(),
            secret,
        }
    };
    flags.apply(&mut account);
    account.name = account.name.trim().to_owned();
    if account.name.is_empty() {
        return Err(UserError::new("the account name is empty"));
    }
    let mut open = Transaction::open(ctx, &mut Terminal, err)?;
    // A name from the URI's label that another service's account already has is qualified as the
    // importers do (`admin (Slack)`); the same service's is a duplicate.
    if from_label
        && let Some(existing) = open
            .parsed
            .accounts()
            .find(|a| a.name.eq_ignore_ascii_case(&account.name))
        && !existing
            .issuer
            .as_deref()
            .zip(account.issuer.as_deref())
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
    {
        let qualified = otpauth::unique_name(&account.name, account.issuer.as_deref(), |n| {
            open.document.contains(n)
        });
        let _ = writeln!(
            err,
            "teamotp: the vault already has an account named '{}': adding this one as '{}'",
            printable(&account.name),
            printable(&qualified)
        );
        account.name = qualified;
    }
    if open.document.contains(&account.name) {
        return Err(UserError::new(format!(
            "an account named '{}' already exists",
            printable(&account.name)
        ))
        .hint("choose another name, or re-enrol it: teamotp edit NAME --secret"));
    }
    open.document.push(&account);
    open.commit(ctx, None, false, err)?;
    let _ = writeln!(
        err,
        "teamotp: added '{}' to {}; {}",
        printable(&account.name),
        open.path.display(),
        show(&account, ctx.now)
    );
    Ok(())
}

/// The exact (case-insensitive) name of an existing row, or an error listing close names.
pub(crate) fn existing<'a>(
    open: &'a Transaction,
    name: &str,
) -> Result<&'a vault::format::Row, UserError> {
    open.parsed
        .rows
        .iter()
        .find(|r| r.name().trim().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            let error = UserError::new(format!("no account is named '{}'", printable(name)));
            match did_you_mean(name, open.parsed.rows.iter().map(|r| r.name())) {
                Some(hint) => error.hint(hint),
                None => error.hint("'teamotp list' shows the accounts"),
            }
        })
}

/// Most names a "did you mean" offers.
const MOST_SUGGESTED: usize = 5;

/// `did you mean 'GitHub ops'?` for the names close to `query` (see [`is_close`]), if any: what `code`,
/// `rm`, `rename` and `edit` say when no account has that name.
pub(crate) fn did_you_mean<'a>(
    query: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut close: Vec<String> = Vec::new();
    for name in names {
        let shown = format!("'{}'", printable(name));
        if is_close(query, name) && !close.contains(&shown) {
            close.push(shown);
        }
    }
    if close.is_empty() {
        return None;
    }
    close.truncate(MOST_SUGGESTED);
    Some(format!("did you mean {}?", close.join(", ")))
}

/// A typo away from `name` (case ignored): either holds the other, or `query` is within one edit of the
/// whole name, of one of its words, or of its start (two edits for queries of five characters or more,
/// none for one or two; a swap of neighbours counts as one).
fn is_close(query: &str, name: &str) -> bool {
    let query = query.trim().to_lowercase();
    let name = name.trim().to_lowercase();
    if query.is_empty() || name.is_empty() {
        return false;
    }
    if name.contains(&query) || query.contains(&name) {
        return true;
    }
    let query: Vec<char> = query.chars().collect();
    let limit = match query.len() {
        0..=2 => 0,
        3..=4 => 1,
        _ => 2,
    };
    let whole: Vec<char> = name.chars().collect();
    let start: Vec<char> = whole.iter().copied().take(query.len()).collect();
    std::iter::once(whole.clone())
        .chain(std::iter::once(start))
        .chain(
            name.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(|w| w.chars().collect()),
        )
        .any(|candidate: Vec<char>| edits(&query, &candidate) <= limit)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
fn edits(a: &[char], b: &[char]) -> usize {
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// `teamotp rm NAME`.
pub fn rm(ctx: &Context, name: &str, yes: bool, err: &mut dyn Write) -> Result<(), UserError> {
    let mut open = Transaction::open(ctx, &mut Terminal, err)?;
    let row_name = existing(&open, name)?.name().to_owned();
    let question = format!(
        "Remove '{}' from {}? (the previous version stays in {}.bak until the next write)",
        printable(&row_name),
        open.path.display(),
        open.path.display()
    );
    if !confirm(&question, yes)? {
        let _ = writeln!(err, "teamotp: nothing removed");
        return Ok(());
    }
    open.document.remove(&row_name);
    open.commit(ctx, None, false, err)?;
    let _ = writeln!(err, "teamotp: removed '{}'", printable(&row_name));
    Ok(())
}

/// `teamotp rename OLD NEW`.
pub fn rename(ctx: &Context, old: &str, new: &str, err: &mut dyn Write) -> Result<(), UserError> {
    let mut open = Transaction::open(ctx, &mut Terminal, err)?;
    let old_name = existing(&open, old)?.name().to_owned();
    let new = new.trim();
    if new.is_empty() {
        return Err(UserError::new("the new name is empty"));
    }
    if !old_name.eq_ignore_ascii_case(new) && open.document.contains(new) {
        return Err(UserError::new(format!(
            "an account named '{}' already exists",
            printable(new)
        )));
    }
    open.document.rename(&old_name, new);
    open.commit(ctx, None, false, err)?;
    let _ = writeln!(
        err,
        "teamotp: renamed '{}' to '{}'",
        printable(&old_name),
        printable(new)
    );
    Ok(())
}

/// `teamotp edit NAME [--issuer ...] [--digits ...] [--period ...] [--algorithm ...] [--secret]`.
pub fn edit(
    ctx: &Context,
    name: &str,
    flags: &Changes,
    new_secret: bool,
    err: &mut dyn Write,
) -> Result<(), UserError> {
    if flags.is_empty() && !new_secret {
        return Err(UserError::new("nothing to change").hint(
            "pass --issuer, --digits, --period, --algorithm or --type, or --secret to re-enrol",
        ));
    }
    let mut open = Transaction::open(ctx, &mut Terminal, err)?;
    let row_name = existing(&open, name)?.name().to_owned();
    if new_secret {
        let text = read_secret(&format!("New secret for '{row_name}' (hidden): "))?;
        let secret = crate::secret::decode(&text)
            .map_err(|e| UserError::new(format!("the secret is not usable: {e}")))?;
        open.document.set_secret(&row_name, &secret);
    }
    open.document.edit(&row_name, flags);
    // The edited row must still be usable.
    let reparsed = vault::format::parse(&open.document.serialize())
        .map_err(|e| UserError::new(format!("the edit would break the vault: {e}")))?;
    let row = reparsed
        .rows
        .iter()
        .find(|r| r.name().eq_ignore_ascii_case(&row_name));
    let account = match row.map(|r| &r.entry) {
        Some(Ok(account)) => account.clone(),
        Some(Err(reason)) => {
            return Err(UserError::new(format!(
                "after the edit '{}' would be invalid: {reason}",
                printable(&row_name)
            )));
        }
        None => {
            return Err(UserError::new(
                "the edited row disappeared; nothing was written",
            ));
        }
    };
    open.commit(ctx, None, false, err)?;
    let _ = writeln!(
        err,
        "teamotp: updated '{}'; {}",
        printable(&row_name),
        show(&account, ctx.now)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_suggest_close_names() {
        let names = ["GitHub ops", "AWS root", "Slack admin", "Datadog"];
        assert_eq!(
            did_you_mean("githbu", names).as_deref(),
            Some("did you mean 'GitHub ops'?")
        );
        assert_eq!(
            did_you_mean("datdog", names).as_deref(),
            Some("did you mean 'Datadog'?")
        );
        assert_eq!(
            did_you_mean("aws", names).as_deref(),
            Some("did you mean 'AWS root'?")
        );
        assert_eq!(did_you_mean("zzz", names), None);
        assert_eq!(did_you_mean("x", ["y"]), None);
    }

    #[test]
    fn edits_count_a_swap_as_one() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edits(&chars("github"), &chars("githbu")), 1);
        assert_eq!(edits(&chars("github"), &chars("gthiub")), 2);
        assert_eq!(edits(&chars("ab"), &chars("ba")), 1);
        assert_eq!(edits(&chars(""), &chars("abc")), 3);
    }
}
