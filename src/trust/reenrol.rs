//! Re-enrolment marks: `members rm` records, in the vault's `reenrol` column, that the accounts a removed
//! member could read need a new secret at their service. The cell is `since=YYYY-MM-DD;by=LABEL,LABEL`
//! (labels percent-encoded where they hold `%`, `,`, `;` or `=`); `edit --secret` / `rotate` clears it.

use percent_encoding::percent_decode_str;

/// The team CSV column that holds the mark.
pub const COLUMN: &str = "reenrol";

/// A label with `%`, `,`, `;`, `=` and control characters percent-encoded (other text stays readable).
fn encode(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    for c in label.chars() {
        if matches!(c, '%' | ',' | ';' | '=') || c.is_control() {
            for byte in c.to_string().bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An account waiting for re-enrolment: since when, and because of whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reenrol {
    /// `YYYY-MM-DD` (as written; a cell without one keeps an empty date).
    pub since: String,
    /// The labels of the removed members, in order, without repeats.
    pub members: Vec<String>,
}

impl Reenrol {
    /// Reads a cell; an empty cell is no mark. Unknown parts are ignored, so a damaged cell still marks.
    pub fn parse(cell: &str) -> Option<Reenrol> {
        let cell = cell.trim();
        if cell.is_empty() {
            return None;
        }
        let mut mark = Reenrol {
            since: String::new(),
            members: Vec::new(),
        };
        for part in cell.split(';') {
            match part.trim().split_once('=') {
                Some(("since", date)) => mark.since = date.trim().to_owned(),
                Some(("by", labels)) => {
                    for label in labels.split(',').filter(|l| !l.trim().is_empty()) {
                        let label = percent_decode_str(label.trim())
                            .decode_utf8_lossy()
                            .into_owned();
                        if !mark.members.contains(&label) {
                            mark.members.push(label);
                        }
                    }
                }
                _ => {}
            }
        }
        Some(mark)
    }

    /// The cell's text.
    pub fn render(&self) -> String {
        let labels: Vec<String> = self.members.iter().map(|l| encode(l)).collect();
        format!("since={};by={}", self.since, labels.join(","))
    }

    /// Both marks in one: the earlier date, every member.
    pub fn join(&self, other: &Reenrol) -> Reenrol {
        let since = match (self.since.is_empty(), other.since.is_empty()) {
            (true, _) => other.since.clone(),
            (_, true) => self.since.clone(),
            _ => self.since.clone().min(other.since.clone()),
        };
        let mut members = self.members.clone();
        for m in &other.members {
            if !members.contains(m) {
                members.push(m.clone());
            }
        }
        Reenrol { since, members }
    }

    /// `alice, bob` for messages.
    pub fn who(&self) -> String {
        self.members.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_labels_with_separators() {
        let mark = Reenrol {
            since: "2026-11-29".into(),
            members: vec![
                "alice".into(),
                "bob, ops; 100%=".into(),
                "age1abc…xyz".into(),
            ],
        };
        let cell = mark.render();
        assert_eq!(
            cell,
            "since=2026-11-29;by=alice,bob%2C ops%3B 100%25%3D,age1abc…xyz"
        );
        assert_eq!(Reenrol::parse(&cell), Some(mark));
    }

    #[test]
    fn empty_is_no_mark_and_damage_still_marks() {
        assert_eq!(Reenrol::parse("  "), None);
        let mark = Reenrol::parse("garbage").unwrap();
        assert!(mark.since.is_empty() && mark.members.is_empty());
    }

    #[test]
    fn join_keeps_the_earlier_date_and_every_member() {
        let a = Reenrol::parse("since=2026-11-29;by=alice").unwrap();
        let b = Reenrol::parse("since=2026-10-01;by=bob,alice").unwrap();
        assert_eq!(a.join(&b).render(), "since=2026-10-01;by=alice,bob");
    }
}
