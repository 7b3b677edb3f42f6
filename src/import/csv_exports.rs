//! Two password managers' CSV exports that need more than a column layout: Dashlane (a CSV with its TOTP
//! in `otpSecret` or, in newer exports, `otpUrl`; or the zip of CSV files that holds it as
//! `credentials.csv`) and Keeper (a CSV with no header in older exports, whose TOTP is a custom field:
//! columns 0 folder, 1 title, 2 login, 3 password, 4 URL, 5 notes, 6 shared folder, then name/value
//! pairs, the TOTP being the value after a `TFC:Keeper` name, as Keeper Commander writes and reads it).

use super::archive::Archive;
use super::bitwarden::{self, CsvLayout};
use super::{Entry, MAX_ENTRIES};

/// Dashlane's credentials export: `username,username2,username3,title,password,note,url,category,otpSecret`.
const DASHLANE_SECRET: CsvLayout = CsvLayout {
    product: "Dashlane",
    title: "title",
    username: "username",
    totp: "otpSecret",
};

/// The same, in exports that carry an `otpauth://` URI instead (`otpUrl`).
const DASHLANE_URL: CsvLayout = CsvLayout {
    product: "Dashlane",
    title: "title",
    username: "username",
    totp: "otpUrl",
};

/// The header of a Dashlane credentials CSV.
pub fn is_dashlane_header(line: &str) -> bool {
    let columns: Vec<&str> = line.split(',').map(str::trim).collect();
    ["username", "username2", "title", "password", "url"]
        .iter()
        .all(|c| columns.contains(c))
        && (columns.contains(&"otpSecret") || columns.contains(&"otpUrl"))
}

/// A zip that holds Dashlane's `credentials.csv`.
pub fn is_dashlane_zip(names: &[String]) -> bool {
    names
        .iter()
        .any(|n| n.rsplit('/').next() == Some("credentials.csv"))
}

/// The entries of a Dashlane export: its credentials CSV, or the zip that holds it.
pub fn dashlane(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    if super::archive::is_zip(bytes) {
        let mut archive = Archive::open(bytes)?;
        let Some(name) = archive
            .names()
            .into_iter()
            .find(|n| n.rsplit('/').next() == Some("credentials.csv"))
        else {
            return Err(
                "the zip archive holds no credentials.csv: it is not a Dashlane export".into(),
            );
        };
        let csv = archive.read(&name)?;
        return dashlane_csv(&csv);
    }
    dashlane_csv(bytes)
}

fn dashlane_csv(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let text = String::from_utf8_lossy(bytes);
    let header = text.lines().next().unwrap_or("");
    let layout = match header.split(',').any(|c| c.trim() == "otpUrl") {
        true => DASHLANE_URL,
        false => DASHLANE_SECRET,
    };
    bitwarden::csv_export(bytes, layout)
}

/// The cell that names Keeper's TOTP custom field.
const KEEPER_TOTP: &str = "TFC:Keeper";

/// A Keeper CSV export: its header (newer exports), or a record holding a `TFC:Keeper` field where Keeper
/// puts it (older exports have no header).
pub fn is_keeper_csv(text: &str) -> bool {
    let first = text
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches('\u{feff}');
    if first.starts_with("Folder,Title,Login,Password") {
        return true;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .take(50)
        .filter_map(Result::ok)
        .any(|record| keeper_totp(&record).is_some())
}

/// The TOTP of a Keeper record: the value after `TFC:Keeper` among the name/value pairs from column 7.
fn keeper_totp(record: &csv::StringRecord) -> Option<&str> {
    (7..record.len())
        .step_by(2)
        .find(|i| record.get(*i) == Some(KEEPER_TOTP))
        .and_then(|i| record.get(i + 1))
}

/// The entries of a Keeper CSV export: every record with a `TFC:Keeper` field.
pub fn keeper(bytes: &[u8]) -> Result<Vec<Entry>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut entries = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("the Keeper CSV is malformed ({e})")),
        }
        let header = first && record.get(1) == Some("Title") && record.get(2) == Some("Login");
        first = false;
        if header || record.len() < 7 {
            continue;
        }
        let Some(totp) = keeper_totp(&record) else {
            continue;
        };
        if totp.trim().is_empty() {
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("");
        entries.push(bitwarden::entry(field(1), field(2), totp));
        if entries.len() > MAX_ENTRIES {
            break;
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashlane_headers_are_told_apart() {
        assert!(is_dashlane_header(
            "username,username2,username3,title,password,note,url,category,otpSecret"
        ));
        assert!(is_dashlane_header(
            "username,username2,username3,title,password,note,url,category,otpUrl"
        ));
        assert!(!is_dashlane_header(
            "url,username,password,totp,extra,name,grouping,fav"
        ));
    }

    #[test]
    fn keeper_csv_is_recognised_with_or_without_its_header() {
        let row = "Work,AWS,admin,pw,https://aws.example,notes,,TFC:Keeper,otpauth://totp/AWS?secret=JBSWY3DPEHPK3PXP,Port,22\n";
        assert!(is_keeper_csv(row));
        assert!(is_keeper_csv(&format!(
            "Folder,Title,Login,Password,Website Address,Notes,Shared Folder,Custom Fields\n{row}"
        )));
        assert!(!is_keeper_csv(
            "Work,AWS,admin,pw,https://aws.example,notes,,Port,22\n"
        ));
        // A TFC:Keeper name in a value position is not the field.
        assert!(!is_keeper_csv("a,b,c,d,e,f,g,Name,TFC:Keeper\n"));
    }
}
