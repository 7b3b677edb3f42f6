//! TUI rendering tests: `ui::render` into a `TestBackend` at fixed times, compared with insta snapshots
//! (text) and checked cell by cell where style matters (the expiring colour, NO_COLOR).

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};
use teamotp::tui::app::App;
use teamotp::tui::ui;
use teamotp::vault::{self, Loaded};

mod support;

use support::tui::{NoClipboard, T, press};

const VAULT: &str = "\
name,issuer,secret,digits,period,type
AWS root,Amazon,JBSWY3DPEHPK3PXP,,,
홈택스 법인,국세청,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ,8,60,
Broken,,a2b3c4d5e6f7g8h9,,,
\"Vendor console, prod\",Vendor,KRUGS4ZANFZSAYJAMRSW233TMVRXEZLU,8,60,
Steam shared,Steam,STEAMSECRETSTEAMSECRET23,,,steam
";

fn app(now: u64) -> App {
    let vault = Loaded {
        label: "team.csv.age".into(),
        parsed: vault::format::parse(VAULT.as_bytes()).unwrap(),
        encrypted: true,
        agreement: Default::default(),
    };
    App::new(&vault, now, Box::new(NoClipboard))
}

fn draw(app: &mut App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    app.set_viewport(ui::viewport_rows(height));
    terminal.draw(|frame| ui::render(app, frame)).unwrap();
    terminal
}

/// The screen as text lines (without styles).
fn lines(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            let mut line = String::new();
            let mut x = 0;
            while x < buffer.area.width {
                let symbol = buffer[(x, y)].symbol();
                line.push_str(symbol);
                x += unicode_width::UnicodeWidthStr::width(symbol).max(1) as u16;
            }
            line
        })
        .collect()
}

#[test]
fn one_second_before_both_periods_end() {
    let terminal = draw(&mut app(T - 1), 80, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn on_the_boundary_of_both_periods() {
    let terminal = draw(&mut app(T), 80, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn one_second_after_the_boundary() {
    let terminal = draw(&mut app(T + 1), 80, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn thirty_second_boundary_inside_a_sixty_second_period() {
    let terminal = draw(&mut app(T + 30), 80, 24);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn narrow_terminal_drops_previous_and_next_before_truncating_names() {
    let terminal = draw(&mut app(T + 1), 50, 10);
    insta::assert_snapshot!(terminal.backend());
    let screen = lines(&terminal);
    assert!(screen[1].contains("Current") && !screen[1].contains("Previous"));
    assert!(screen[3].contains("홈택스 법인 (국세청)"), "{}", screen[3]);
}

#[test]
fn very_narrow_terminal_truncates_names_last() {
    let terminal = draw(&mut app(T + 1), 32, 10);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn too_small_terminal_says_so() {
    let terminal = draw(&mut app(T), 20, 4);
    let screen = lines(&terminal).join("\n");
    assert!(screen.contains("terminal too small"), "{screen}");
}

#[test]
fn wide_names_align_by_display_width() {
    let terminal = draw(&mut app(T + 1), 80, 12);
    let screen = lines(&terminal);
    // Every code column starts at the same display column on every valid row.
    let header_col = screen[1].find("Current").unwrap();
    let header_display = unicode_width::UnicodeWidthStr::width(&screen[1][..header_col]);
    for row in [2, 3, 5, 6] {
        let text = &screen[row];
        let name_end = text.find("  ").unwrap();
        let code_start = name_end + text[name_end..].find(|c: char| c != ' ').unwrap();
        let codes_from = unicode_width::UnicodeWidthStr::width(&text[..code_start]);
        assert!(codes_from < header_display, "{text}");
    }
    let korean = &screen[3];
    let aws = &screen[2];
    let col = |s: &str| {
        let i = s.find('█').unwrap_or(s.len());
        unicode_width::UnicodeWidthStr::width(&s[..i])
    };
    assert_eq!(col(korean), col(aws), "bars line up:\n{aws}\n{korean}");
}

#[test]
fn expiring_code_changes_colour_in_its_last_five_seconds() {
    let current_cell_fg = |now: u64| {
        let terminal = draw(&mut app(now), 80, 12);
        let screen = lines(&terminal);
        let x = screen[1].find("Current").unwrap() as u16;
        let cell = &terminal.backend().buffer()[(x, 2)];
        (cell.fg, cell.modifier)
    };
    // AWS root (30 s): 6 s left, then 5 s left.
    assert_eq!(current_cell_fg(T + 24).0, Color::Reset);
    assert!(current_cell_fg(T + 24).1.contains(Modifier::BOLD));
    assert_eq!(current_cell_fg(T + 25).0, Color::Red);
}

#[test]
fn no_colour_mode_draws_no_colours_but_keeps_emphasis() {
    let mut app = app(T + 27).with_color(false);
    let terminal = draw(&mut app, 80, 12);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!(cell.fg, Color::Reset);
        assert_eq!(cell.bg, Color::Reset);
    }
    let screen = lines(&terminal);
    let x = screen[1].find("Current").unwrap() as u16;
    assert!(buffer[(x, 2)].modifier.contains(Modifier::BOLD));
}

#[test]
fn hidden_codes_show_only_on_the_selected_row() {
    let mut app = app(T + 1).with_hidden(true);
    press(&mut app, KeyCode::Down);
    let terminal = draw(&mut app, 80, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn filtering_shows_the_query_and_the_match_count() {
    let mut app = app(T + 1);
    press(&mut app, KeyCode::Char('/'));
    for c in "vend".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let terminal = draw(&mut app, 80, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_overlay() {
    let mut app = app(T + 1);
    press(&mut app, KeyCode::Char('?'));
    let terminal = draw(&mut app, 80, 20);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn scrolled_list_keeps_the_selection_visible_and_clicks_map_to_rows() {
    let mut app = app(T + 1);
    press(&mut app, KeyCode::End);
    let terminal = draw(&mut app, 80, 7); // 3 account rows fit
    let screen = lines(&terminal);
    assert!(screen[4].contains("Steam shared"), "{screen:#?}");
    let area = ratatui::layout::Rect::new(0, 0, 80, 7);
    assert_eq!(ui::row_at(&app, area, 2), Some(2));
    assert_eq!(ui::row_at(&app, area, 4), Some(4));
    assert_eq!(ui::row_at(&app, area, 1), None);
    assert_eq!(ui::row_at(&app, area, 5), None);
}

/// Regression (issue 14): a copy's status hid the filter's match count, the count stood still ("cleared
/// in 18 s" to the end), and after Enter nothing on screen said a filter was applied.
#[test]
fn a_kept_filter_shows_in_the_title_and_the_status_keeps_the_match_count_and_counts_down() {
    let mut app = app(T + 1);
    press(&mut app, KeyCode::Char('/'));
    for c in "vend".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('c'));
    app.tick(T + 9);
    let terminal = draw(&mut app, 120, 10);
    let text = lines(&terminal);
    assert!(text[0].contains("filter 'vend'"), "{text:#?}");
    assert!(text[8].contains("cleared in 51 s"), "{text:#?}");
    assert!(text[8].contains("1 of 5 match 'vend'"), "{text:#?}");
    insta::assert_snapshot!(terminal.backend());
}

/// Regression (issue 14): at 110 columns the header showed "Previo…".
#[test]
fn the_header_never_cuts_a_word_at_110_columns() {
    // Only 6-digit codes: the code columns are 7 wide, narrower than "Previous".
    let vault = Loaded {
        label: "six.csv".into(),
        parsed: vault::format::parse(b"name,secret\nAWS root,JBSWY3DPEHPK3PXP\n").unwrap(),
        encrypted: true,
        agreement: Default::default(),
    };
    let mut app = App::new(&vault, T + 1, Box::new(NoClipboard));
    let terminal = draw(&mut app, 110, 10);
    let text = lines(&terminal);
    assert!(!text[1].contains('…'), "{:?}", text[1]);
    assert!(text[1].contains("Prev"), "{:?}", text[1]);
}

/// Regression (issue 14): at 50 columns the footer was cut mid-hint and lost `? help`.
#[test]
fn a_narrow_footer_drops_whole_hints_and_keeps_help() {
    let mut app = app(T + 1);
    let terminal = draw(&mut app, 50, 10);
    let footer = lines(&terminal)[9].clone();
    assert!(footer.contains("? help"), "{footer:?}");
    assert!(
        footer.trim_end().ends_with("quit") || footer.trim_end().ends_with("help"),
        "{footer:?}"
    );
    insta::assert_snapshot!(terminal.backend());
}

/// Regression (issue 14): the help did not list g/G, Ctrl-Z, the wheel or `?` itself.
#[test]
fn the_help_lists_every_key() {
    let mut app = app(T + 1);
    press(&mut app, KeyCode::Char('?'));
    let text = lines(&draw(&mut app, 80, 22)).join("\n");
    for key in [
        "g G", "Ctrl-Z", "wheel", "PgUp", "Home End", "Ctrl-C", " ? ", " n ", " p ", " h ",
    ] {
        assert!(text.contains(key), "{key:?} missing from the help:\n{text}");
    }
}

// ---- several vaults (issue 13) ----

fn two_vaults(now: u64) -> App {
    let infra = Loaded {
        label: "/home/u/src/infra/vault.csv.age".into(),
        parsed: vault::format::parse(
            b"name,issuer,secret,reenrol\nAWS root,Amazon,JBSWY3DPEHPK3PXP,since=2026-11-29;by=bob\nGitHub ops,GitHub,KRUGS4ZANFZSAYJAMRSW233TMVRXEZLU,\n",
        )
        .unwrap(),
        encrypted: true,
        agreement: Default::default(),
    };
    let finance = Loaded {
        label: "/home/u/src/finance/otp.csv.age".into(),
        parsed: vault::format::parse(b"name,secret\nBank,GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n")
            .unwrap(),
        encrypted: true,
        agreement: Default::default(),
    };
    App::with_vaults(
        &[
            ("infra".into(), Ok(&infra)),
            ("finance".into(), Ok(&finance)),
            (
                "customer".into(),
                Err("no vault at '/home/u/customer.age'".into()),
            ),
        ],
        now,
        Box::new(NoClipboard),
    )
}

#[test]
fn two_vaults_grouped_with_a_reenrol_mark_and_an_unopened_vault() {
    let terminal = draw(&mut two_vaults(T + 1), 100, 12);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn grouped_rows_map_clicks_past_the_headers() {
    let mut app = two_vaults(T + 1);
    let terminal = draw(&mut app, 100, 12);
    let screen = lines(&terminal);
    assert!(screen[2].starts_with(" infra"), "{screen:?}");
    let area = ratatui::layout::Rect::new(0, 0, 100, 12);
    assert_eq!(ui::row_at(&app, area, 2), None, "the header is not a row");
    assert_eq!(ui::row_at(&app, area, 3), Some(0));
    assert_eq!(ui::row_at(&app, area, 5), None);
    assert_eq!(ui::row_at(&app, area, 6), Some(2));
}
