//! Secret hygiene, part 3: the `Debug` output of the loaded state holds no secret and no key bytes.
//!
//! What the tests share (canaries, the leak check, the sandbox, keys and vaults) is in
//! tests/support/hygiene.rs, with the rules every run follows.

mod support;

use std::collections::HashSet;
use std::fmt;

use support::hygiene::*;
use support::tui::NoClipboard;

// ---------------------------------------------------------------------------------------------------------
// 3. Debug output of the loaded state
// ---------------------------------------------------------------------------------------------------------

/// Autoref specialisation: `debug_text!(value)` is `Some` of its `{:?}` and `{:#?}` output when the
/// type implements `Debug`, and `None` when it does not.
struct Probe<'a, T>(&'a T);

trait ViaDebug {
    fn debug_text(&self) -> Option<String>;
}

impl<T: fmt::Debug> ViaDebug for Probe<'_, T> {
    fn debug_text(&self) -> Option<String> {
        Some(format!("{:?}\n{:#?}", self.0, self.0))
    }
}

trait ViaNothing {
    fn debug_text(&self) -> Option<String>;
}

impl<T> ViaNothing for &Probe<'_, T> {
    fn debug_text(&self) -> Option<String> {
        None
    }
}

macro_rules! debug_text {
    ($value:expr) => {
        (&Probe(&$value)).debug_text()
    };
}

/// What of a secret a `Debug` output must not hold, beyond [`leaks`]: the raw key bytes as hex, and as
/// a list of numbers (how a byte vector prints), and the canary's own bytes as numbers.
fn debug_leaks(text: &str) -> Vec<String> {
    let mut found = leaks(text, &[]);
    let lower = text.to_lowercase();
    let numbers: Vec<u32> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .filter_map(|n| n.parse().ok())
        .collect();
    let number_runs: HashSet<Vec<u32>> = numbers.windows(6).map(<[u32]>::to_vec).collect();
    for canonical in all_canaries() {
        let key = key_bytes(&canonical);
        let hex = data_encoding::HEXLOWER.encode(&key);
        if let Some(piece) = (0..=hex.len() - 12)
            .step_by(2)
            .map(|i| &hex[i..i + 12])
            .find(|p| lower.contains(p))
        {
            found.push(format!("key bytes of {canonical} as hex ('{piece}')"));
        }
        for (what, bytes) in [
            ("key bytes", key.clone()),
            ("text", canonical.clone().into_bytes()),
            ("text", spaced_lower(&canonical).into_bytes()),
        ] {
            let hit = bytes
                .windows(6)
                .map(|w| w.iter().map(|b| u32::from(*b)).collect::<Vec<_>>())
                .find(|run| number_runs.contains(run));
            if let Some(run) = hit {
                found.push(format!("{what} of {canonical} as numbers ({run:?})"));
            }
        }
    }
    found
}

/// The loaded state of the mixed team CSV vault (decrypted in-process) and the mixed gauth vault.
struct Loaded {
    plain: teamotp::vault::Plaintext,
    team: teamotp::vault::format::Parsed,
    gauth: teamotp::vault::format::Parsed,
    loaded: teamotp::vault::Loaded,
}

fn load_in_process() -> Loaded {
    use teamotp::age::identity::Identities;
    let (me, _) = new_key();
    let encrypted = encrypt_to(&me, &mixed_team_csv());
    let plain = teamotp::vault::load::open(
        &encrypted,
        "mixed.age".to_owned(),
        || {
            Ok(Identities {
                list: vec![Box::new(me.clone())],
                paths: Vec::new(),
            })
        },
        || Err(teamotp::age::decrypt::Failure::NoTerminal),
        &teamotp::env::Env::default(),
    )
    .unwrap_or_else(|e| panic!("{}", e.message));
    assert!(plain.encrypted);
    assert_eq!(&plain.bytes[..], &mixed_team_csv()[..]);
    let team = teamotp::vault::format::parse(&plain.bytes).unwrap();
    let gauth = teamotp::vault::format::parse(&mixed_gauth()).unwrap();
    let loaded = teamotp::vault::load::parse(&plain).unwrap();
    assert_eq!(team.accounts().count(), 5);
    assert_eq!(gauth.accounts().count(), 3);
    Loaded {
        plain,
        team,
        gauth,
        loaded,
    }
}

#[test]
fn debug_output_of_the_loaded_state_holds_no_secret() {
    let state = load_in_process();
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut not_debug = std::collections::BTreeSet::new();
    let mut add = |what: String, text: Option<String>| match text {
        Some(text) => outputs.push((what, text)),
        // The type's name, without the instance.
        None => {
            not_debug.insert(what.split(' ').next().unwrap_or_default().to_owned());
        }
    };
    for (which, parsed) in [("team", &state.team), ("gauth", &state.gauth)] {
        add(format!("{which} Parsed"), debug_text!(*parsed));
        for row in &parsed.rows {
            add(format!("{which} Row {}", row.line), debug_text!(*row));
            match &row.entry {
                Ok(account) => {
                    add(
                        format!("{which} Account {}", row.line),
                        debug_text!(*account),
                    );
                    add(
                        format!("{which} Secret {}", row.line),
                        debug_text!(account.secret),
                    );
                    add(
                        format!("{which} Params {}", row.line),
                        debug_text!(account.params),
                    );
                }
                Err(reason) => add(format!("{which} Reason {}", row.line), debug_text!(*reason)),
            }
        }
    }
    add("Loaded".into(), debug_text!(state.loaded));
    add("Plaintext".into(), debug_text!(state.plain));
    add("Plaintext.bytes".into(), debug_text!(state.plain.bytes));
    let app = teamotp::tui::app::App::new(&state.loaded, 1_700_000_000, Box::new(NoClipboard));
    add("tui::app::App".into(), debug_text!(app));
    for entry in app.entries() {
        add(
            format!("tui::app::Entry {}", entry.label),
            debug_text!(*entry),
        );
        if let Some(window) = &entry.window {
            add(
                format!("totp::Window {}", entry.label),
                debug_text!(*window),
            );
        }
    }

    // The check works on a byte vector's Debug output (what a derived Debug of the plaintext would be).
    assert!(!debug_leaks(&format!("{:?}", mixed_team_csv())).is_empty());
    assert!(!debug_leaks(&format!("{:?}", key_bytes(&secret("alpha")))).is_empty());

    let mut failures = Vec::new();
    for (what, text) in &outputs {
        let found = debug_leaks(text);
        if !found.is_empty() {
            failures.push(format!("{what}: {}\n{text}", found.join(", ")));
        }
    }
    assert!(
        failures.is_empty(),
        "secrets in Debug output:\n\n{}",
        failures.join("\n\n")
    );
    // The secrets are there to be found, and the accounts are usable.
    assert!(
        outputs
            .iter()
            .any(|(what, text)| what.starts_with("team Secret") && text.contains("Secret(..)"))
    );
    eprintln!(
        "Debug outputs checked: {}; types without Debug (nothing to print): {}",
        outputs.len(),
        not_debug.into_iter().collect::<Vec<_>>().join(", ")
    );
}

#[test]
fn debug_output_of_the_editable_document_holds_no_secret() {
    let state = load_in_process();
    // A vault with a non-UTF-8 row is refused for editing (rewriting would change those bytes), so the
    // editable document is made from the UTF-8 lines of the same vault.
    let utf8_lines: Vec<u8> = state
        .plain
        .bytes
        .split_inclusive(|b| *b == b'\n')
        .filter(|line| std::str::from_utf8(line).is_ok())
        .flatten()
        .copied()
        .collect();
    let utf8_team = teamotp::vault::format::parse(&utf8_lines).unwrap();
    let document =
        teamotp::vault::document::Document::from_plaintext(&utf8_lines, &utf8_team).unwrap();
    let gauth_valid = teamotp::vault::format::parse(
        format!(
            "mike:{}\nvictor:{}\n",
            secret("g-mike"),
            spaced_lower(&secret("g-victor"))
        )
        .as_bytes(),
    )
    .unwrap();
    let from_gauth = teamotp::vault::document::Document::from_plaintext(b"", &gauth_valid).unwrap();
    // The document holds the secrets: serialising it gives them back.
    let serialized = String::from_utf8_lossy(&document.serialize()).into_owned();
    assert!(serialized.contains(&secret("alpha")));
    let mut failures = Vec::new();
    for (what, text) in [
        ("Document (team CSV)", debug_text!(document)),
        ("Document (from gauth lines)", debug_text!(from_gauth)),
    ] {
        let Some(text) = text else {
            eprintln!("{what} does not implement Debug");
            continue;
        };
        let found = debug_leaks(&text);
        if !found.is_empty() {
            failures.push(format!("{what}: {}\n{text}", found.join(", ")));
        }
    }
    assert!(
        failures.is_empty(),
        "secrets in Debug output:\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn debug_output_of_the_csv_records_holds_no_secret() {
    let bytes = mixed_team_csv();
    let records = teamotp::vault::format::records::records(&bytes);
    let items = teamotp::vault::format::records::items(&bytes);
    assert!(records.len() > 10);
    let mut failures = Vec::new();
    for (what, text) in [
        ("records::Record list", debug_text!(records)),
        ("records::Item list", debug_text!(items)),
    ] {
        let Some(text) = text else {
            eprintln!("{what} does not implement Debug");
            continue;
        };
        let found = debug_leaks(&text);
        if !found.is_empty() {
            failures.push(format!("{what}: {}\n{text}", found.join(", ")));
        }
    }
    assert!(
        failures.is_empty(),
        "secrets in Debug output:\n\n{}",
        failures.join("\n\n")
    );
}
