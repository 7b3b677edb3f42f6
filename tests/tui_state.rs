//! TUI state tests: an `App` with a fixed time and a fake clipboard, keys in, state out. No terminal.

use std::cell::RefCell;
use std::rc::Rc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use teamotp::totp;
use teamotp::tui::app::{App, Clipboard};
use teamotp::vault::{self, Loaded};

mod support;

use support::tui::{T, press};

/// 30 s and 60 s accounts, a Korean name, an invalid row in the middle.
const VAULT: &str = "\
name,issuer,secret,digits,period
AWS root,Amazon,JBSWY3DPEHPK3PXP,,
홈택스 법인,국세청,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60
Broken,,a2b3c4d5e6f7g8h9,,
GitHub ops,GitHub,KRUGS4ZANFZSAYJAMRSW233TMVRXEZLU,,
Slack,Slack,ONSWG4TFOQQHGZLDOJSXIIDTNRQWG2ZA,6,60
";

/// A clipboard that records what happened; `contents` can be changed behind the app's back.
#[derive(Clone, Default)]
struct Fake {
    contents: Rc<RefCell<Option<String>>>,
    clears: Rc<RefCell<usize>>,
}

impl Clipboard for Fake {
    fn set(&mut self, text: &str) -> Result<(), String> {
        *self.contents.borrow_mut() = Some(text.to_owned());
        Ok(())
    }
    fn get(&mut self) -> Option<String> {
        Some(self.contents.borrow().clone().unwrap_or_default())
    }
    fn clear(&mut self) -> Result<(), String> {
        *self.contents.borrow_mut() = None;
        *self.clears.borrow_mut() += 1;
        Ok(())
    }
    fn name(&self) -> &'static str {
        "fake clipboard"
    }
}

fn loaded() -> Loaded {
    Loaded {
        label: "team.csv".into(),
        parsed: vault::format::parse(VAULT.as_bytes()).unwrap(),
        encrypted: false,
        agreement: Default::default(),
    }
}

fn app_at(now: u64) -> (App, Fake, Loaded) {
    let fake = Fake::default();
    let vault = loaded();
    let app = App::new(&vault, now, Box::new(fake.clone()));
    (app, fake, vault)
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn selected_label(app: &App) -> String {
    app.selected_entry().unwrap().label.clone()
}

fn visible_labels(app: &App) -> Vec<String> {
    app.visible()
        .iter()
        .map(|i| app.entries()[*i].label.clone())
        .collect()
}

/// The codes the app shows for an account must be exactly `totp::window` at the app's time.
fn assert_codes_match(app: &App, vault: &Loaded) {
    let accounts: Vec<_> = vault.parsed.rows.iter().map(|r| r.entry.as_ref()).collect();
    for (entry, account) in app.entries().iter().zip(accounts) {
        match account {
            Ok(account) => assert_eq!(
                entry.window.as_ref().unwrap(),
                &totp::window(account, app.now()),
                "{} at {}",
                entry.label,
                app.now()
            ),
            Err(_) => assert!(entry.window.is_none()),
        }
    }
}

#[test]
fn invalid_rows_stay_in_place_with_their_reason() {
    let (app, _, _) = app_at(T);
    assert_eq!(
        visible_labels(&app),
        [
            "AWS root (Amazon)",
            "홈택스 법인 (국세청)",
            "Broken",
            "GitHub ops",
            "Slack"
        ]
    );
    let broken = &app.entries()[2];
    assert_eq!(
        broken.account.as_ref().unwrap_err(),
        "line 4: secret has an invalid character '8' at position 14 (base32 uses only A-Z and 2-7)"
    );
}

#[test]
fn moves_with_arrows_vi_keys_pages_home_and_end() {
    let (mut app, _, _) = app_at(T);
    app.set_viewport(2);
    assert_eq!(app.selected(), Some(0));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.selected(), Some(2));
    assert_eq!(app.offset(), 1, "the selection stays in view");
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Up);
    assert_eq!(app.selected(), Some(0));
    assert_eq!(app.offset(), 0);
    press(&mut app, KeyCode::End);
    assert_eq!(app.selected(), Some(4));
    assert_eq!(app.offset(), 3);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.selected(), Some(4), "stops at the last row");
    press(&mut app, KeyCode::Home);
    assert_eq!(app.selected(), Some(0));
    press(&mut app, KeyCode::PageDown);
    assert_eq!(
        app.selected(),
        Some(1),
        "a page is the viewport less one row"
    );
    app.set_viewport(10);
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.selected(), Some(4));
    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.selected(), Some(0));
}

#[test]
fn filter_as_you_type_reranks_and_esc_clears() {
    let (mut app, _, _) = app_at(T);
    press(&mut app, KeyCode::Down); // select the Korean row
    press(&mut app, KeyCode::Char('/'));
    assert!(app.is_filtering());
    type_text(&mut app, "git");
    assert_eq!(visible_labels(&app), ["GitHub ops"]);
    assert_eq!(
        selected_label(&app),
        "GitHub ops",
        "the best match is selected"
    );
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    assert_eq!(app.visible().len(), 5);
    type_text(&mut app, "AMAZON");
    assert_eq!(
        visible_labels(&app),
        ["AWS root (Amazon)"],
        "case-insensitive, on the issuer"
    );
    press(&mut app, KeyCode::Esc);
    assert!(!app.is_filtering());
    assert_eq!(app.filter(), "");
    assert_eq!(app.visible().len(), 5);
    assert_eq!(
        selected_label(&app),
        "AWS root (Amazon)",
        "the selection survives clearing"
    );
    assert!(!app.should_quit(), "Esc while filtering does not quit");
}

#[test]
fn fuzzy_filter_matches_korean_and_scattered_letters() {
    let (mut app, _, _) = app_at(T);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "홈택");
    assert_eq!(visible_labels(&app), ["홈택스 법인 (국세청)"]);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "ghops");
    assert_eq!(visible_labels(&app), ["GitHub ops"]);
    type_text(&mut app, "zzz");
    assert!(app.visible().is_empty());
    assert_eq!(app.selected(), None);
    press(&mut app, KeyCode::Enter); // nothing selected: no panic
}

#[test]
fn enter_after_filtering_keeps_the_filter_and_esc_then_clears_it() {
    let (mut app, _, _) = app_at(T);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "slack");
    press(&mut app, KeyCode::Enter);
    assert!(!app.is_filtering());
    assert_eq!(visible_labels(&app), ["Slack"]);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.should_quit(), "q quits outside the filter input");
    let (mut app, _, _) = app_at(T);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "slack");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Esc);
    assert!(!app.should_quit(), "the first Esc clears an applied filter");
    assert_eq!(app.visible().len(), 5);
    press(&mut app, KeyCode::Esc);
    assert!(app.should_quit());
}

#[test]
fn copies_current_next_and_previous_codes_with_a_status() {
    let (mut app, fake, vault) = app_at(T + 12);
    let aws = vault.parsed.accounts().next().unwrap();
    let window = totp::window(aws, T + 12);
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        fake.contents.borrow().as_deref(),
        Some(window.curr.as_str())
    );
    assert_eq!(
        app.status_text().unwrap(),
        "Copied the current code of 'AWS root (Amazon)' to the fake clipboard; cleared in 18 s"
    );
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(
        fake.contents.borrow().as_deref(),
        Some(window.next.as_str())
    );
    assert!(app.status_text().unwrap().ends_with("cleared in 48 s"));
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(
        fake.contents.borrow().as_deref(),
        Some(window.prev.as_str())
    );
    press(&mut app, KeyCode::Char('c'));
    assert_eq!(
        fake.contents.borrow().as_deref(),
        Some(window.curr.as_str())
    );
}

#[test]
fn copying_an_invalid_row_copies_nothing() {
    let (mut app, fake, _) = app_at(T);
    press(&mut app, KeyCode::End);
    press(&mut app, KeyCode::Up);
    assert_eq!(selected_label(&app), "GitHub ops");
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Enter);
    assert_eq!(*fake.contents.borrow(), None);
    assert_eq!(
        app.status_text().unwrap(),
        "'Broken' is invalid: nothing to copy"
    );
}

#[test]
fn clipboard_is_cleared_when_the_code_expires_but_only_if_it_is_still_ours() {
    let (mut app, fake, _) = app_at(T + 25);
    press(&mut app, KeyCode::Enter);
    app.tick(T + 29);
    assert!(fake.contents.borrow().is_some(), "still valid at 1 s left");
    app.tick(T + 30);
    assert_eq!(*fake.contents.borrow(), None);
    assert_eq!(*fake.clears.borrow(), 1);
    assert_eq!(
        app.status_text().unwrap(),
        "The copied code expired; clipboard cleared"
    );

    let (mut app, fake, _) = app_at(T + 25);
    press(&mut app, KeyCode::Enter);
    *fake.contents.borrow_mut() = Some("something the user copied".into());
    app.tick(T + 31);
    press(&mut app, KeyCode::Char('q'));
    assert_eq!(
        fake.contents.borrow().as_deref(),
        Some("something the user copied")
    );
    assert_eq!(*fake.clears.borrow(), 0);
}

#[test]
fn quitting_clears_our_code_from_the_clipboard() {
    for quit in [
        KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    ] {
        let (mut app, fake, _) = app_at(T);
        press(&mut app, KeyCode::Enter);
        assert!(fake.contents.borrow().is_some());
        app.handle_key(quit);
        assert!(app.should_quit(), "{quit:?}");
        assert_eq!(*fake.contents.borrow(), None, "{quit:?}");
    }
}

#[test]
fn ctrl_c_quits_even_while_filtering() {
    let (mut app, _, _) = app_at(T);
    press(&mut app, KeyCode::Char('/'));
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.should_quit());
}

#[test]
fn key_releases_are_ignored() {
    let (mut app, _, _) = app_at(T);
    let mut release = KeyEvent::new(KeyCode::Down, KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    app.handle_key(release);
    assert_eq!(app.selected(), Some(0));
}

#[test]
fn h_hides_and_shows_codes() {
    let (mut app, _, vault) = app_at(T);
    assert!(!app.is_hidden());
    press(&mut app, KeyCode::Char('h'));
    assert!(app.is_hidden());
    press(&mut app, KeyCode::Char('h'));
    assert!(!app.is_hidden());
    let app = App::new(&vault, T, Box::new(Fake::default())).with_hidden(true);
    assert!(app.is_hidden());
}

#[test]
fn help_overlay_opens_and_any_key_closes_it() {
    let (mut app, _, _) = app_at(T);
    press(&mut app, KeyCode::Char('?'));
    assert!(app.shows_help());
    press(&mut app, KeyCode::Char('q'));
    assert!(!app.shows_help());
    assert!(
        !app.should_quit(),
        "the key that closes help does nothing else"
    );
}

#[test]
fn ticks_across_period_boundaries_with_30_and_60_second_rows() {
    // T is a multiple of 60, so T - 30 is a 30 s boundary in the middle of a 60 s period.
    let (mut app, _, vault) = app_at(T - 31);
    let before: Vec<_> = app.entries().iter().map(|e| e.window).collect();
    app.tick(T - 30);
    assert_codes_match(&app, &vault);
    let after: Vec<_> = app.entries().iter().map(|e| e.window).collect();
    // 30 s row: new codes, shifted by one; 60 s row: same codes, one second less.
    let (aws_before, aws_after) = (before[0].as_ref().unwrap(), after[0].as_ref().unwrap());
    assert_eq!(aws_after.prev, aws_before.curr);
    assert_eq!(aws_after.curr, aws_before.next);
    assert_eq!((aws_before.remaining, aws_after.remaining), (1, 30));
    let (kr_before, kr_after) = (before[1].as_ref().unwrap(), after[1].as_ref().unwrap());
    assert_eq!(kr_after.curr, kr_before.curr);
    assert_eq!((kr_before.remaining, kr_after.remaining), (31, 30));
    // Both roll over at T.
    app.tick(T);
    assert_codes_match(&app, &vault);
    let kr_now = app.entries()[1].window.as_ref().unwrap();
    assert_eq!(kr_now.prev, kr_before.curr);
    assert_eq!(kr_now.remaining, 60);
}

#[test]
fn clock_jumps_forwards_and_backwards_are_correct_at_once() {
    let (mut app, _, vault) = app_at(T);
    for now in [T + 86_400 * 3 + 7, T - 3_600, T - 3_599, T + 1, 59, T] {
        app.tick(now);
        assert_codes_match(&app, &vault);
    }
}

#[test]
fn click_selects_and_double_click_copies() {
    let (mut app, fake, vault) = app_at(T);
    app.click(Some(3), 1_000);
    assert_eq!(selected_label(&app), "GitHub ops");
    assert_eq!(*fake.contents.borrow(), None);
    app.click(Some(3), 1_400);
    let github = vault.parsed.accounts().nth(2).unwrap();
    assert_eq!(
        fake.contents.borrow().as_deref(),
        Some(totp::code(github, T).as_str())
    );
    // Slow clicks and clicks outside the rows do not copy.
    *fake.contents.borrow_mut() = None;
    app.click(Some(0), 5_000);
    app.click(Some(0), 6_000);
    app.click(None, 6_100);
    app.click(Some(99), 6_200);
    assert_eq!(*fake.contents.borrow(), None);
    assert_eq!(app.selected(), Some(0));
}

#[test]
fn status_messages_expire() {
    let (mut app, _, _) = app_at(T);
    press(&mut app, KeyCode::Char('h'));
    assert!(app.status().is_some());
    app.tick(T + 4);
    assert!(app.status().is_none());
}

/// Regression (issue 14): the status line said "cleared in 18 s" until it disappeared; it counts down.
#[test]
fn the_copy_status_counts_down() {
    let (mut app, _, _) = app_at(T + 12);
    press(&mut app, KeyCode::Enter);
    assert!(app.status_text().unwrap().ends_with("; cleared in 18 s"));
    app.tick(T + 18);
    assert!(
        app.status_text().unwrap().ends_with("; cleared in 12 s"),
        "{:?}",
        app.status_text()
    );
}

/// A clipboard that cannot be cleared (OSC 52 under tmux was one until issue 21).
#[derive(Clone, Default)]
struct Tmux(Fake);

impl Clipboard for Tmux {
    fn set(&mut self, text: &str) -> Result<(), String> {
        self.0.set(text)
    }
    fn get(&mut self) -> Option<String> {
        None
    }
    fn clear(&mut self) -> Result<(), String> {
        // Ignored: the code stays.
        Ok(())
    }
    fn name(&self) -> &'static str {
        "terminal clipboard (OSC 52)"
    }
    fn can_clear(&self) -> bool {
        false
    }
}

/// Regression (issue 14): under tmux, OSC 52 clearing is ignored, yet the status said "clipboard cleared".
#[test]
fn under_tmux_the_status_never_claims_the_clipboard_was_cleared() {
    let mut app = App::new(&loaded(), T + 25, Box::new(Tmux::default()));
    press(&mut app, KeyCode::Enter);
    let copied = app.status_text().unwrap();
    assert!(copied.contains("cannot be cleared"), "{copied}");
    assert!(!copied.contains("cleared in"), "{copied}");
    app.tick(T + 30);
    let expired = app.status_text().unwrap();
    assert!(expired.contains("could not be cleared"), "{expired}");
    assert!(!expired.contains("clipboard cleared"), "{expired}");
}

/// A filter kept with Enter stays visible in the title (see tui_render.rs), and the state keeps it.
#[test]
fn a_filter_kept_with_enter_stays_applied() {
    let (mut app, _, _) = app_at(T);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "slack");
    press(&mut app, KeyCode::Enter);
    assert!(!app.is_filtering());
    assert_eq!(app.filter(), "slack");
}

// ---- several vaults, reload, re-enrolment (issue 13) ----

const INFRA: &str = "name,issuer,secret,reenrol\nAWS,,JBSWY3DPEHPK3PXP,since=2026-11-29;by=bob\nGitHub,,KRUGS4ZANFZSAYJAMRSW233TMVRXEZLU,\n";
const FINANCE: &str =
    "name,secret\nBank,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\nAWS billing,JBSWY3DPEHPK3PXP\n";

fn vault_of(label: &str, text: &str) -> Loaded {
    Loaded {
        label: label.into(),
        parsed: vault::format::parse(text.as_bytes()).unwrap(),
        encrypted: true,
        agreement: Default::default(),
    }
}

fn two_vaults() -> App {
    let (infra, finance) = (vault_of("infra.age", INFRA), vault_of("fin.age", FINANCE));
    App::with_vaults(
        &[
            ("infra".into(), Ok(&infra)),
            ("finance".into(), Ok(&finance)),
        ],
        T,
        Box::new(Fake::default()),
    )
}

#[test]
fn several_vaults_are_grouped_under_a_header_each() {
    use teamotp::tui::app::Slot;
    let app = two_vaults();
    assert!(app.grouped());
    assert_eq!(app.title(), "infra, finance");
    assert_eq!(
        app.slots(),
        [
            Slot::Header(0),
            Slot::Row(0),
            Slot::Row(1),
            Slot::Header(1),
            Slot::Row(2),
            Slot::Row(3)
        ]
    );
    assert!(app.entries()[0].reenrol, "AWS carries its mark");
    assert!(!app.entries()[1].reenrol);
}

#[test]
fn the_filter_searches_every_vault_and_keeps_the_groups() {
    use teamotp::tui::app::Slot;
    let mut app = two_vaults();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "aws");
    assert_eq!(visible_labels(&app), ["AWS", "AWS billing"]);
    assert_eq!(
        app.slots(),
        [Slot::Header(0), Slot::Row(0), Slot::Header(1), Slot::Row(1)]
    );
}

#[test]
fn scrolling_counts_the_headers() {
    let mut app = two_vaults();
    app.set_viewport(2);
    press(&mut app, KeyCode::End);
    // Lines: [infra] AWS GitHub [finance] Bank AWS-billing; the last row is line 5.
    assert_eq!(app.offset(), 4);
    press(&mut app, KeyCode::Home);
    assert_eq!(
        app.offset(),
        0,
        "the first group's header shows with its first row"
    );
}

#[test]
fn a_vault_that_cannot_be_opened_is_a_row_saying_why() {
    let infra = vault_of("infra.age", INFRA);
    let app = App::with_vaults(
        &[
            ("infra".into(), Ok(&infra)),
            (
                "finance".into(),
                Err("cannot decrypt 'fin.age': no identity matched".into()),
            ),
        ],
        T,
        Box::new(Fake::default()),
    );
    let last = app.entries().last().unwrap();
    assert_eq!(last.vault, 1);
    assert_eq!(
        last.account.as_ref().unwrap_err(),
        "cannot be opened: cannot decrypt 'fin.age': no identity matched"
    );
}

#[test]
fn a_reload_keeps_selection_and_filter_and_says_what_changed() {
    let mut app = two_vaults();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "a");
    press(&mut app, KeyCode::Enter);
    // Select GitHub? It has no 'a'... select Bank (finance).
    let bank = app
        .visible()
        .iter()
        .position(|&i| app.entries()[i].label == "Bank")
        .unwrap();
    while app.selected() != Some(bank) {
        press(&mut app, KeyCode::Down);
    }
    let changed = vault_of(
        "fin.age",
        "name,secret\nSlack,ONSWG4TFOQQHGZLDOJSXIIDTNRQWG2ZA\nBank,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\nAnalytics,JBSWY3DPEHPK3PXP\n",
    );
    app.reload(1, Ok(&changed));
    assert_eq!(app.filter(), "a");
    assert_eq!(
        selected_label(&app),
        "Bank",
        "the selected account stays selected"
    );
    assert_eq!(
        app.status().unwrap().text,
        "finance: reloaded, +2 -1 accounts"
    );
    assert!(visible_labels(&app).contains(&"Slack".to_string()));
    assert!(!visible_labels(&app).contains(&"AWS billing".to_string()));
    // The other vault's rows are untouched and still first.
    assert_eq!(app.entries()[0].label, "AWS");
}

#[test]
fn a_failed_reload_keeps_the_accounts_and_says_why() {
    let mut app = two_vaults();
    let before = visible_labels(&app);
    app.reload(
        0,
        Err("cannot decrypt 'infra.age': the file is damaged".into()),
    );
    assert_eq!(visible_labels(&app), before);
    assert_eq!(
        app.status().unwrap().text,
        "infra: reload failed, showing the accounts read before: cannot decrypt 'infra.age': the file is damaged"
    );
}
