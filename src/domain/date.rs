//! Calendar dates (proleptic Gregorian, UTC) by arithmetic, for the three places that read or
//! write one: ISO timestamps in answers and logs, 最終来店日, and the call log's day filter.
//! Pure. chrono stays in the tree for jwt-compact's claim types, but its strftime-style parser
//! and formatter cost ~25 KB of wasm (issue #12, docs/benchmarks.md "Size"); these functions
//! give the same results (the tests compare them with chrono over the whole range).

/// The years chrono's `NaiveDate` can hold; a date outside them is "no date", as there.
const MIN_YEAR: i64 = -262_143;
const MAX_YEAR: i64 = 262_142;
const DAY_MS: i64 = 86_400_000;

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Whether `y-m-d` is a real date within chrono's range.
pub fn valid(y: i64, m: u32, d: u32) -> bool {
    (MIN_YEAR..=MAX_YEAR).contains(&y)
        && (1..=12).contains(&m)
        && d >= 1
        && d <= days_in_month(y, m)
}

/// Days from 1970-01-01 to `y-m-d` (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (a year outside 0..=9999 with its sign
/// and at least 4 digits), or "" outside chrono's range: what
/// `DateTime::from_timestamp_millis(ms).to_rfc3339_opts(SecondsFormat::Millis, true)` writes.
pub fn iso_ms(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return String::new();
    }
    let t = ms.rem_euclid(DAY_MS);
    let (h, min, s, milli) = (t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else {
        format!("{y:+05}")
    };
    format!("{year}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// Reads `[+-]Y-M-D` as chrono's `NaiveDate::parse_from_str(s, "%Y-%m-%d")` does: whitespace
/// allowed before each number; the year 1 to 4 digits, or any number of digits after a sign;
/// month and day 1 or 2 digits; nothing after the day.
pub fn parse_ymd(s: &str) -> Option<(i64, u32, u32)> {
    let s = s.trim_start();
    let (year, s) = if let Some(rest) = s.strip_prefix('-') {
        let (v, rest) = digits(rest, usize::MAX)?;
        (-v, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        digits(rest, usize::MAX)?
    } else {
        digits(s, 4)?
    };
    let (month, s) = digits(s.strip_prefix('-')?.trim_start(), 2)?;
    let (day, s) = digits(s.strip_prefix('-')?.trim_start(), 2)?;
    if !s.is_empty() || i32::try_from(year).is_err() {
        return None;
    }
    let (month, day) = (month as u32, day as u32);
    valid(year, month, day).then_some((year, month, day))
}

/// 1 to `max` ASCII digits at the start of `s`, and the rest.
fn digits(s: &str, max: usize) -> Option<(i64, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for b in s[..n].bytes() {
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some((v, &s[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};
    use proptest::prelude::*;

    fn chrono_iso(ms: i64) -> String {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    }

    fn chrono_ymd(s: &str) -> Option<(i64, u32, u32)> {
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Some((i64::from(d.year()), d.month(), d.day()))
    }

    #[test]
    fn iso_examples() {
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(1_795_532_400_123), "2026-11-24T15:00:00.123Z");
        assert_eq!(iso_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_ms(i64::MAX), "");
        assert_eq!(iso_ms(i64::MIN), "");
        for ms in [
            -62_167_219_200_001, // -0001-12-31T23:59:59.999Z
            -62_167_219_200_000, // 0000-01-01
            253_402_300_799_999, // 9999-12-31T23:59:59.999Z
            253_402_300_800_000, // +10000-01-01
            8_210_266_876_799_999,
            8_210_266_876_800_000,
            -8_334_601_228_800_000,
            -8_334_601_228_800_001,
        ] {
            assert_eq!(iso_ms(ms), chrono_iso(ms), "{ms}");
        }
    }

    #[test]
    fn days_round_trip() {
        for days in (-100_000_000..100_000_000).step_by(9_973) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn parse_examples() {
        for s in [
            "2026-11-25",
            "2026-1-5",
            "2024-02-29",
            "2023-02-29",
            "2026-13-01",
            "26-1-1",
            "+2026-01-01",
            "-0001-01-01",
            "+262142-12-31",
            "+262143-01-01",
            "-262143-01-01",
            "-262144-12-31",
            "2026- 1- 5",
            " 2026-01-05",
            "2026 -01-05",
            "2026-01-05 ",
            "2026-001-05",
            "02026-01-01",
            "2026-01-5x",
            "",
            "-",
            "+",
            "2026--01",
            "yesterday",
            "2026-00-10",
            "2026-01-00",
            "2026-01-32",
            "+99999999999999999999-01-01",
            "+4294967296-01-01",
            "2026-\u{3000}1-01",
            "٢٠٢٦-01-01",
        ] {
            assert_eq!(parse_ymd(s), chrono_ymd(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn iso_matches_chrono(ms in any::<i64>()) {
            prop_assert_eq!(iso_ms(ms), chrono_iso(ms));
        }

        #[test]
        fn iso_matches_chrono_near_now(ms in -5_000_000_000_000i64..5_000_000_000_000) {
            prop_assert_eq!(iso_ms(ms), chrono_iso(ms));
        }

        #[test]
        fn iso_matches_chrono_in_range(ms in -8_334_601_228_800_000i64..8_210_266_876_800_000) {
            prop_assert_eq!(iso_ms(ms), chrono_iso(ms));
        }

        #[test]
        fn parse_matches_chrono(s in "[ +\\-0-9]{0,14}") {
            prop_assert_eq!(parse_ymd(&s), chrono_ymd(&s));
        }

        #[test]
        fn parse_matches_chrono_dates(s in "[+-]?[0-9]{1,7}-[ ]?[0-9]{1,3}-[ ]?[0-9]{1,3}[ x]?") {
            prop_assert_eq!(parse_ymd(&s), chrono_ymd(&s));
        }

        #[test]
        fn valid_matches_chrono(y in -300_000i64..300_000, m in 0u32..14, d in 0u32..33) {
            let c = i32::try_from(y).ok().and_then(|y| NaiveDate::from_ymd_opt(y, m, d)).is_some();
            prop_assert_eq!(valid(y, m, d), c);
        }
    }
}
