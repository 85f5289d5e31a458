//! Call-log retention: how old a call may get before the daily cron deletes it. Pure.

/// Default when `CALL_LOG_RETENTION_DAYS` is unset: a little over a year, so "same month last
/// year" stays answerable.
pub const DEFAULT_DAYS: i64 = 400;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// The epoch-ms cutoff before which call-log rows are deleted, or `None` when retention is
/// switched off (`0`) . An unreadable setting falls back to the default rather than deleting
/// more than intended.
pub fn cutoff_ms(now_ms: i64, setting: Option<&str>) -> Option<i64> {
    let days = match setting.map(str::trim) {
        None | Some("") => DEFAULT_DAYS,
        Some(s) => match s.parse::<i64>() {
            Ok(0) => return None,
            Ok(d) if (1..=36_500).contains(&d) => d,
            _ => DEFAULT_DAYS,
        },
    };
    Some(now_ms - days * DAY_MS)
}

/// Midnight (Japan time, UTC+9, no DST) at the start of `YYYY-MM-DD`, as epoch ms.
pub fn jst_day_start_ms(day: &str) -> Option<i64> {
    let (y, m, d) = super::date::parse_ymd(day.trim())?;
    Some(super::date::days_from_civil(y, m, d) * DAY_MS - 9 * 3600 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japan_days() {
        // 2026-11-25 00:00 JST = 2026-11-24 15:00 UTC
        assert_eq!(jst_day_start_ms("2026-11-25"), Some(1_795_532_400_000));
        assert_eq!(jst_day_start_ms("2026-13-01"), None);
        assert_eq!(jst_day_start_ms("yesterday"), None);
    }

    #[test]
    fn settings() {
        let now = 1_000 * DAY_MS;
        assert_eq!(cutoff_ms(now, None), Some(now - 400 * DAY_MS));
        assert_eq!(cutoff_ms(now, Some("30")), Some(now - 30 * DAY_MS));
        assert_eq!(cutoff_ms(now, Some(" 7 ")), Some(now - 7 * DAY_MS));
        assert_eq!(cutoff_ms(now, Some("0")), None);
        assert_eq!(cutoff_ms(now, Some("-5")), Some(now - 400 * DAY_MS));
        assert_eq!(cutoff_ms(now, Some("forever")), Some(now - 400 * DAY_MS));
    }
}
