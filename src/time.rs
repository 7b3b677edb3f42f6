//! Time: the only wall-clock read ([`now`]), and parsing `--at TIME` (Unix seconds or an RFC 3339
//! timestamp). Everything else takes the time as a parameter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since the Unix epoch (zero if the system clock is set before 1970). The only place that reads the
/// wall clock.
pub fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

/// The latest time `--at` accepts: 9999-12-31T23:59:59Z, the last second RFC 3339 can write. Every time
/// teamotp computes with is at most this (or the clock's now), so adding a period or two to it cannot
/// overflow `u64`: arithmetic on times below the parse need no overflow handling of its own beyond
/// saturating as a second line of defence.
pub const LATEST: u64 = 253_402_300_799;
const LATEST_TEXT: &str = "9999-12-31T23:59:59Z";

/// Parses `1700000000`, `2023-11-14T22:13:20Z`, `2023-11-14T22:13:20.5+09:00` or `2023-11-14 22:13:20z`.
/// Fractions of a second are dropped. Times before 1970 and after [`LATEST`] are refused.
pub fn parse(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let too_late = || format!("'{text}' is after {LATEST_TEXT}, the latest time teamotp accepts");
    let unix = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().map_err(|_| too_late())?
    } else {
        rfc3339(text).ok_or_else(|| {
            format!("'{text}' is not a time: give Unix seconds (1700000000) or RFC 3339 (2023-11-14T22:13:20Z)")
        })?
    };
    if unix > LATEST {
        return Err(too_late());
    }
    Ok(unix)
}

/// `HH:MM:SS` (UTC) of a Unix time, for the TUI's title line.
pub fn clock_face(unix: u64) -> String {
    let seconds = unix % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Time on a clock that keeps running while the machine is suspended (CLOCK_BOOTTIME on Linux; the
/// monotonic clock elsewhere), for the agent's timeout: a laptop that sleeps past it wakes locked. The one
/// read of that clock, as [`now`] is the one read of the wall clock.
#[cfg(unix)]
pub fn boottime() -> std::time::Duration {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let id = rustix::time::ClockId::Boottime;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let id = rustix::time::ClockId::Monotonic;
    let t = rustix::time::clock_gettime(id);
    std::time::Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// `YYYY-MM-DD` (UTC) of a Unix time (the civil-from-days algorithm of Howard Hinnant's date library).
pub fn date(unix: u64) -> String {
    let days = (unix / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let (sign, hm) = match rest.as_bytes().first()? {
                b'+' => (1, &rest[1..]),
                b'-' => (-1, &rest[1..]),
                _ => return None,
            };
            let (h, m) = hm.split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let unix = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset;
    u64::try_from(unix).ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_of_unix_times() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_700_000_000), "2023-11-14");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(LATEST), "9999-12-31");
        assert_eq!(
            parse("2026-11-29T12:00:00Z").map(date),
            Ok("2026-11-29".into())
        );
    }

    #[test]
    fn clock_face_is_utc_time_of_day() {
        assert_eq!(clock_face(1_700_000_000), "22:13:20");
        assert_eq!(clock_face(59), "00:00:59");
    }

    #[test]
    fn unix_seconds() {
        assert_eq!(parse("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse("0"), Ok(0));
    }

    #[test]
    fn rfc3339_with_zulu_offset_and_fraction() {
        assert_eq!(parse("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert_eq!(parse("2023-11-15T07:13:20+09:00"), Ok(1_700_000_000));
        assert_eq!(parse("2023-11-14T17:13:20.999-05:00"), Ok(1_700_000_000));
        assert_eq!(parse("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse("2000-02-29t00:00:00z"), Ok(951_782_400));
        assert_eq!(parse("2603-10-11T11:33:20Z"), Ok(20_000_000_000));
    }

    #[test]
    fn the_latest_time_is_the_end_of_year_9999() {
        assert_eq!(parse("253402300799"), Ok(LATEST));
        assert_eq!(parse("9999-12-31T23:59:59Z"), Ok(LATEST));
        assert_eq!(parse("9999-12-31T23:59:59.999Z"), Ok(LATEST));
        assert_eq!(parse("9999-12-31T23:59:59+01:00"), Ok(LATEST - 3600));
        let too_late = |t: &str| {
            format!("'{t}' is after 9999-12-31T23:59:59Z, the latest time teamotp accepts")
        };
        for bad in [
            "253402300800",
            "18446744073709551600",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999",
            "9999-12-31T23:59:59-00:01",
            "9999-12-31T23:59:59-23:59",
        ] {
            assert_eq!(parse(bad), Err(too_late(bad)), "{bad}");
        }
    }

    #[test]
    fn rejects_nonsense_and_times_before_1970() {
        for bad in [
            "",
            "yesterday",
            "2023-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2023-11-14T22:13:20",
            "1969-12-31T23:59:59Z",
            "-5",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse("soon").unwrap_err(),
            "'soon' is not a time: give Unix seconds (1700000000) or RFC 3339 (2023-11-14T22:13:20Z)"
        );
    }
}
