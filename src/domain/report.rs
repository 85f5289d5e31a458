//! 着信分析 (issue 27): the period a report covers, by business day in Japan time, and the
//! arithmetic of its figures. Pure.
//!
//! A business day starts `day_start` minutes after midnight JST (0 until the organisation's
//! 営業日切替 exists; it plugs in here). The rollups are per hour, so the boundary is a whole
//! hour: minutes that are not a multiple of 60 are refused rather than rounded silently.
use crate::domain::date;
use crate::domain::error::ApiError;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
const JST_MS: i64 = 9 * HOUR_MS;
/// The longest period one report covers (a year and a little; the previous period is read too).
pub const MAX_DAYS: i64 = 400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    Week,
    Month,
}

impl GroupBy {
    pub fn parse(v: Option<&str>) -> Result<Self, ApiError> {
        match v.unwrap_or("day") {
            "day" => Ok(GroupBy::Day),
            "week" => Ok(GroupBy::Week),
            "month" => Ok(GroupBy::Month),
            _ => Err(ApiError::bad(
                "invalid_group_by",
                "groupBy",
                "groupBy は day / week / month のいずれかです",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
        }
    }
}

/// Business days `first..=last` (day numbers: see [`Period::day_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first: i64,
    pub last: i64,
    /// Minutes after midnight JST when a business day starts.
    pub day_start: i64,
}

impl Period {
    /// `from`/`to`: business days `YYYY-MM-DD`, inclusive.
    pub fn parse(from: &str, to: &str, day_start: Option<i64>) -> Result<Period, ApiError> {
        let day = |v: &str, field: &'static str| {
            date::parse_ymd(v.trim())
                .filter(|(y, m, d)| date::valid(*y, *m, *d) && (2000..=2200).contains(y))
                .map(|(y, m, d)| date::days_from_civil(y, m, d))
                .ok_or_else(|| ApiError::bad("invalid_date", field, "日付は YYYY-MM-DD 形式です"))
        };
        let first = day(from, "from")?;
        let last = day(to, "to")?;
        if last < first {
            return Err(ApiError::bad(
                "invalid_period",
                "to",
                "終了日は開始日以降にしてください",
            ));
        }
        if last - first + 1 > MAX_DAYS {
            return Err(ApiError::bad(
                "period_too_long",
                "to",
                format!("期間は{MAX_DAYS}日までです"),
            ));
        }
        let day_start = day_start.unwrap_or(0);
        if !(0..24 * 60).contains(&day_start) || day_start % 60 != 0 {
            return Err(ApiError::bad(
                "invalid_day_start",
                "dayStartMinutes",
                "営業日の切替は 0〜1380 分の1時間単位です（集計は1時間ごと）",
            ));
        }
        Ok(Period {
            first,
            last,
            day_start,
        })
    }

    pub fn days(&self) -> i64 {
        self.last - self.first + 1
    }

    /// Epoch ms when business day `day` starts.
    pub fn day_start_ms(&self, day: i64) -> i64 {
        day * DAY_MS - JST_MS + self.day_start * 60_000
    }

    pub fn start_ms(&self) -> i64 {
        self.day_start_ms(self.first)
    }

    pub fn end_ms(&self) -> i64 {
        self.day_start_ms(self.last + 1)
    }

    /// The same number of days just before.
    pub fn previous(&self) -> Period {
        Period {
            first: self.first - self.days(),
            last: self.first - 1,
            day_start: self.day_start,
        }
    }

    /// The business day (days since 1970-01-01) a moment falls in.
    pub fn day_of(&self, ms: i64) -> i64 {
        (ms + JST_MS - self.day_start * 60_000).div_euclid(DAY_MS)
    }

    /// The SQL expression of [`Self::day_of`] for an epoch hour `col`, with the day start in
    /// ms bound at `?n` (it is `day_start * 60000`; D1 binds a JS number as a REAL, hence the
    /// cast: the division must be an integer one).
    pub fn day_sql(col: &str, n: usize) -> String {
        format!("(({col}) * 3600000 + 32400000 - CAST(?{n} AS INTEGER)) / 86400000")
    }
}

/// `YYYY-MM-DD` of day number `day`.
pub fn ymd(day: i64) -> String {
    let (y, m, d) = date::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// The label of the series bucket a day falls in: the day, the Monday of its week, its month.
pub fn bucket(group: GroupBy, day: i64) -> String {
    match group {
        GroupBy::Day => ymd(day),
        GroupBy::Week => ymd(day - weekday(day) as i64),
        GroupBy::Month => ymd(day)[..7].to_string(),
    }
}

/// A share in percent with one decimal, none of nothing.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// Milliseconds as seconds with one decimal.
pub fn secs(ms: f64) -> f64 {
    (ms / 100.0).round() / 10.0
}

/// The longest weekly-summary URL taken, in bytes (`tests/corpus/field-limits.json`).
pub const MAX_WEBHOOK_URL_LEN: usize = 1000;

/// The weekly summary's destination: an `https://` URL (a chat channel's incoming webhook),
/// or nothing (`None`: no summary).
pub fn webhook_url(v: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad(
            "invalid_webhook_url",
            "webhookUrl",
            "送信先は https:// で始まるURLにしてください",
        )
    };
    let rest = v
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("https://"))
        .map(|_| &v[8..])
        .ok_or_else(bad)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if v.len() > MAX_WEBHOOK_URL_LEN
        || host.is_empty()
        || host.contains('@')
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(Some(v.to_string()))
}

/// The week before the one `now` falls in (Monday to Sunday, Japan time), and its label.
pub fn last_week(now_ms: i64) -> (Period, String) {
    let today = (now_ms + JST_MS).div_euclid(DAY_MS);
    let monday = today - weekday(today) as i64 - 7;
    (
        Period {
            first: monday,
            last: monday + 6,
            day_start: 0,
        },
        ymd(monday),
    )
}

/// Whether the weekly summary is due at `now_ms`: from Monday 09:00 Japan time on.
pub fn weekly_due(now_ms: i64) -> bool {
    let t = now_ms + JST_MS;
    let today = t.div_euclid(DAY_MS);
    weekday(today) > 0 || t.rem_euclid(DAY_MS) >= 9 * HOUR_MS
}

/// One store's line of the weekly summary.
pub struct SummaryRow {
    pub store: String,
    pub calls: i64,
    pub answered: i64,
    pub missed: i64,
    pub voicemail: i64,
}

/// The weekly summary as chat text.
pub fn summary_text(period: &Period, rows: &[SummaryRow], open_callbacks: i64) -> String {
    let mut out = format!(
        "着信分析 週次サマリー {}〜{}\n",
        ymd(period.first),
        ymd(period.last)
    );
    for r in rows {
        let rate = rate(r.answered, r.calls).map_or("—".to_string(), |v| format!("{v}%"));
        out.push_str(&format!(
            "・{}: 着信 {} / 応答 {} ({rate}) / 不在着信 {} / 留守電 {}\n",
            r.store, r.calls, r.answered, r.missed, r.voicemail
        ));
    }
    if rows.is_empty() {
        out.push_str("・着信はありませんでした\n");
    }
    out.push_str(&format!("未完了の折り返し: {open_callbacks}件"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_business_days_in_japan_time() {
        let p = Period::parse("2026-11-25", "2026-11-25", None).unwrap();
        // 2026-11-25 00:00 JST = 2026-11-24 15:00 UTC
        assert_eq!(p.start_ms(), 1_795_532_400_000);
        assert_eq!(p.end_ms() - p.start_ms(), DAY_MS);
        assert_eq!(p.day_of(p.start_ms()), p.first);
        assert_eq!(p.day_of(p.start_ms() - 1), p.first - 1);
        assert_eq!(p.day_of(p.end_ms() - 1), p.first);
        // 23:59 JST stays on its day; 00:01 the next day is the next one.
        assert_eq!(p.day_of(p.end_ms() - 60_000), p.first);
        assert_eq!(p.day_of(p.end_ms() + 60_000), p.first + 1);
    }

    #[test]
    fn a_cutoff_moves_the_boundary() {
        let p = Period::parse("2026-11-25", "2026-11-25", Some(300)).unwrap();
        assert_eq!(p.start_ms(), 1_795_532_400_000 + 5 * HOUR_MS);
        // 02:00 JST on the 26th still belongs to the 25th.
        let two_am = 1_795_532_400_000 + DAY_MS + 2 * HOUR_MS;
        assert_eq!(p.day_of(two_am), p.first);
        assert!(matches!(
            Period::parse("2026-11-25", "2026-11-25", Some(90)),
            Err(ApiError::BadRequest {
                code: "invalid_day_start",
                ..
            })
        ));
        assert!(Period::parse("2026-11-25", "2026-11-25", Some(1440)).is_err());
    }

    #[test]
    fn the_sql_day_agrees() {
        let p = Period::parse("2026-11-25", "2026-11-30", Some(240)).unwrap();
        for h in 0..24 * 7 {
            let ms = p.start_ms() + h * HOUR_MS;
            // What the SQL computes for epoch hour ms / 3600000 (integer arithmetic).
            let hour = ms / HOUR_MS;
            let sql_day = (hour * 3_600_000 + 32_400_000 - p.day_start * 60_000) / 86_400_000;
            assert_eq!(sql_day, p.day_of(ms), "hour {h}");
        }
        assert_eq!(
            Period::day_sql("hour", 4),
            "((hour) * 3600000 + 32400000 - CAST(?4 AS INTEGER)) / 86400000"
        );
    }

    #[test]
    fn bad_periods_are_clear_400s() {
        for (from, to, code) in [
            ("2026-11-31", "2026-12-01", "invalid_date"),
            ("yesterday", "2026-12-01", "invalid_date"),
            ("2026-12-02", "2026-12-01", "invalid_period"),
            ("2025-01-01", "2026-12-01", "period_too_long"),
        ] {
            match Period::parse(from, to, None) {
                Err(ApiError::BadRequest { code: c, .. }) => assert_eq!(c, code, "{from} {to}"),
                other => panic!("{from} {to}: {other:?}"),
            }
        }
        assert!(GroupBy::parse(Some("hour")).is_err());
    }

    #[test]
    fn the_weekly_summary() {
        assert_eq!(webhook_url(None).unwrap(), None);
        assert_eq!(webhook_url(Some("  ")).unwrap(), None);
        assert_eq!(
            webhook_url(Some(" https://hooks.example/x?y=1 ")).unwrap(),
            Some("https://hooks.example/x?y=1".into())
        );
        for bad in [
            "http://hooks.example/x",
            "https://",
            "https:///x",
            "https://a b.example",
            "https://user@hooks.example/",
            "javascript:alert(1)",
            "ftp://x",
        ] {
            assert!(webhook_url(Some(bad)).is_err(), "{bad}");
        }
        // 2026-12-07 is a Monday: at 10:00 JST last week is 11-30 … 12-06.
        let monday_10 = Period::parse("2026-12-07", "2026-12-07", None)
            .unwrap()
            .start_ms()
            + 10 * HOUR_MS;
        let (p, label) = last_week(monday_10);
        assert_eq!(
            (ymd(p.first), ymd(p.last), label.as_str()),
            ("2026-11-30".into(), "2026-12-06".into(), "2026-11-30")
        );
        assert!(weekly_due(monday_10));
        assert!(!weekly_due(monday_10 - 2 * HOUR_MS), "Monday 08:00");
        assert!(
            weekly_due(monday_10 + 2 * DAY_MS),
            "later in the week, if missed"
        );
        let text = summary_text(
            &p,
            &[SummaryRow {
                store: "西船橋".into(),
                calls: 3,
                answered: 2,
                missed: 1,
                voicemail: 0,
            }],
            4,
        );
        assert_eq!(
            text,
            "着信分析 週次サマリー 2026-11-30〜2026-12-06\n\
             ・西船橋: 着信 3 / 応答 2 (66.7%) / 不在着信 1 / 留守電 0\n未完了の折り返し: 4件"
        );
    }

    #[test]
    fn previous_period_buckets_and_figures() {
        let p = Period::parse("2026-11-01", "2026-11-30", None).unwrap();
        let prev = p.previous();
        assert_eq!(
            (ymd(prev.first), ymd(prev.last)),
            ("2026-10-02".into(), "2026-10-31".into())
        );
        // 2026-11-25 is a Wednesday.
        let d = Period::parse("2026-11-25", "2026-11-25", None)
            .unwrap()
            .first;
        assert_eq!(weekday(d), 2);
        assert_eq!(bucket(GroupBy::Week, d), "2026-11-23");
        assert_eq!(bucket(GroupBy::Month, d), "2026-11");
        assert_eq!(rate(2, 3), Some(66.7));
        assert_eq!(rate(1, 0), None);
        assert_eq!(secs(12_345.0), 12.3);
    }
}
