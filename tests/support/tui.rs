//! Helpers of the in-process TUI tests (tui_render.rs, tui_state.rs, hygiene_debug.rs): an `App` with a
//! fixed time, keys in.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use teamotp::tui::app::App;

/// A multiple of both 30 and 60.
pub const T: u64 = 1_700_000_040;

/// A clipboard that holds nothing, for an in-process `App`.
pub struct NoClipboard;

impl teamotp::tui::app::Clipboard for NoClipboard {
    fn set(&mut self, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn get(&mut self) -> Option<String> {
        None
    }
    fn clear(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn name(&self) -> &'static str {
        "test clipboard"
    }
}

/// Presses `code` without modifiers.
pub fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}
