//! Business hours (営業時間) per store, holidays, and the organisation's business-day cutoff
//! (営業日切替). Pure: no worker types. Japan has no daylight saving time, so local time is
//! always UTC+9 (JST) and every computation here is plain arithmetic on epoch milliseconds.
//!
//! A store's hours are seven lists of ranges (月 … 日); a range may run past midnight
//! (`18:00`–`02:00`): it belongs to the day it opens on, so a holiday on that day closes its
//! spill-over too. A holiday entry replaces the weekday's ranges for its date (no ranges:
//! closed all day). A store with no hours configured is always open (nothing is 時間外).
use crate::domain::date;
use crate::domain::error::ApiError;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 86_400_000;
const MIN_MS: i64 = 60_000;
/// JST = UTC+9, all year round.
pub const JST_OFFSET_MS: i64 = 9 * 3_600_000;
/// Most ranges in one day, most holiday entries: bounds on a stored document.
const MAX_RANGES: usize = 4;
const MAX_HOLIDAYS: usize = 400;
/// The longest note on a holiday (`tests/corpus/field-limits.json`).
pub const MAX_HOLIDAY_NOTE_CHARS: usize = 100;
/// How far `next_opening` looks ahead (a year and a bit: a store closed longer has none).
const LOOKAHEAD_DAYS: i64 = 400;
/// Weekday labels, Monday first (the order of `Hours::weekly`).
pub const WEEKDAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// One opening range as the API writes it: `"10:00"` to `"20:00"`; a close earlier than (or
/// equal to `00:00` after) the open runs past midnight. `"24:00"` is allowed as a close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub open: String,
    pub close: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// `YYYY-MM-DD` (a local, JST date).
    pub date: String,
    /// Special hours for the date; empty: closed all day.
    #[serde(default)]
    pub ranges: Vec<Range>,
    #[serde(default)]
    pub note: String,
}

/// A store's hours document, as stored (JSON) and as the API reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Hours {
    /// Seven days, Monday first; an empty day is closed. Empty `weekly` (no days at all):
    /// hours not configured, always open.
    #[serde(default)]
    pub weekly: Vec<Vec<Range>>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

/// A range in minutes from its day's local midnight: `open < close`, `close` up to 48h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    open: i64,
    close: i64,
}

/// Validated, ready-to-decide hours.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    configured: bool,
    weekly: [Vec<Span>; 7],
    /// (local day number, spans), sorted by day.
    holidays: Vec<(i64, Vec<Span>)>,
}

fn bad(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad("invalid_hours", field, message)
}

/// `"HH:MM"` as minutes; `allow_24` admits `"24:00"`.
fn minutes(s: &str, allow_24: bool) -> Option<i64> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 {
        return None;
    }
    match h {
        0..=23 => Some(h * 60 + m),
        24 if allow_24 && m == 0 => Some(1440),
        _ => None,
    }
}

fn span(r: &Range, where_: &str) -> Result<Span, ApiError> {
    let open = minutes(r.open.trim(), false).ok_or_else(|| {
        bad(
            "open",
            format!(
                "{where_}: 開始時刻「{}」は HH:MM (00:00〜23:59) で入力してください",
                r.open
            ),
        )
    })?;
    let close = minutes(r.close.trim(), true).ok_or_else(|| {
        bad(
            "close",
            format!(
                "{where_}: 終了時刻「{}」は HH:MM (00:00〜24:00) で入力してください",
                r.close
            ),
        )
    })?;
    if open == close {
        return Err(bad(
            "close",
            format!("{where_}: 開始と終了が同じ時刻です (終日は 00:00〜24:00)"),
        ));
    }
    let close = if close <= open { close + 1440 } else { close };
    Ok(Span { open, close })
}

/// Ranges of one day, sorted, checked for overlaps.
fn spans(ranges: &[Range], where_: &str) -> Result<Vec<Span>, ApiError> {
    if ranges.len() > MAX_RANGES {
        return Err(bad(
            "ranges",
            format!("{where_}: 1日の時間帯は{MAX_RANGES}つまでです"),
        ));
    }
    let mut out = ranges
        .iter()
        .map(|r| span(r, where_))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(|s| s.open);
    if out.windows(2).any(|w| w[1].open < w[0].close) {
        return Err(bad("ranges", format!("{where_}: 時間帯が重なっています")));
    }
    Ok(out)
}

/// A local date `YYYY-MM-DD` as its day number (days since 1970-01-01).
pub fn day_of(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = date::parse_ymd(s)?;
    Some(date::days_from_civil(y, m, d))
}

/// The day number as `YYYY-MM-DD`.
pub fn ymd(day: i64) -> String {
    let (y, m, d) = date::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Validates a document (clear 400s) and returns it normalised and its schedule.
pub fn validate(input: Hours) -> Result<(Hours, Schedule), ApiError> {
    if !input.weekly.is_empty() && input.weekly.len() != 7 {
        return Err(bad(
            "weekly",
            "weekly は月曜から日曜までの7日分 (または空) で指定してください",
        ));
    }
    if input.holidays.len() > MAX_HOLIDAYS {
        return Err(bad(
            "holidays",
            format!("休業日・特別営業日は{MAX_HOLIDAYS}件までです"),
        ));
    }
    let mut schedule = Schedule {
        configured: !input.weekly.is_empty(),
        ..Schedule::default()
    };
    for (i, day) in input.weekly.iter().enumerate() {
        schedule.weekly[i] = spans(day, &format!("{}曜日", WEEKDAYS[i]))?;
    }
    let mut holidays = input.holidays;
    for h in &mut holidays {
        h.date = h.date.trim().to_string();
        h.note = h.note.trim().to_string();
        if h.note.chars().count() > MAX_HOLIDAY_NOTE_CHARS {
            return Err(bad("note", "休業日のメモは100文字までです"));
        }
        let day = day_of(&h.date).ok_or_else(|| {
            bad(
                "date",
                format!("休業日の日付「{}」は YYYY-MM-DD で入力してください", h.date),
            )
        })?;
        if schedule.holidays.iter().any(|(d, _)| *d == day) {
            return Err(bad("date", format!("休業日 {} が重複しています", h.date)));
        }
        schedule.holidays.push((day, spans(&h.ranges, &h.date)?));
        schedule.configured = true;
    }
    holidays.sort_by(|a, b| a.date.cmp(&b.date));
    schedule.holidays.sort_by_key(|(d, _)| *d);
    Ok((
        Hours {
            weekly: input.weekly,
            holidays,
        },
        schedule,
    ))
}

/// A stored document's schedule; one that no longer validates counts as not configured.
pub fn schedule(stored: &str) -> Schedule {
    serde_json::from_str::<Hours>(stored)
        .ok()
        .and_then(|h| validate(h).ok())
        .map(|(_, s)| s)
        .unwrap_or_default()
}

/// The local (JST) day number and minute of the day of `ms`.
fn local(ms: i64) -> (i64, i64) {
    let l = ms + JST_OFFSET_MS;
    (l.div_euclid(DAY_MS), l.rem_euclid(DAY_MS) / MIN_MS)
}

/// 1970-01-01 was a Thursday: index into `weekly` (Monday 0).
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

impl Schedule {
    /// Whether hours are configured (otherwise the store is always open).
    pub fn configured(&self) -> bool {
        self.configured
    }

    /// The spans of a local day: its holiday entry, or its weekday's.
    fn day_spans(&self, day: i64) -> &[Span] {
        match self.holidays.binary_search_by_key(&day, |(d, _)| *d) {
            Ok(i) => &self.holidays[i].1,
            Err(_) => &self.weekly[weekday(day)],
        }
    }

    /// The intervals `[start, end)` in epoch ms that open on local day `day`.
    fn intervals(&self, day: i64) -> impl Iterator<Item = (i64, i64)> + '_ {
        let base = day * DAY_MS - JST_OFFSET_MS;
        self.day_spans(day)
            .iter()
            .map(move |s| (base + s.open * MIN_MS, base + s.close * MIN_MS))
    }

    /// Whether `ms` is inside the hours (always, when none are configured).
    pub fn is_open(&self, ms: i64) -> bool {
        if !self.configured {
            return true;
        }
        let (day, _) = local(ms);
        [day - 1, day]
            .into_iter()
            .any(|d| self.intervals(d).any(|(a, b)| a <= ms && ms < b))
    }

    /// The first moment at or after `ms` inside the hours: `ms` itself when open, `None` when
    /// the store does not open within the look-ahead.
    pub fn next_opening(&self, ms: i64) -> Option<i64> {
        if !self.configured {
            return Some(ms);
        }
        let (day, _) = local(ms);
        (day - 1..=day + LOOKAHEAD_DAYS)
            .flat_map(|d| self.intervals(d))
            .find(|&(_, end)| end > ms)
            .map(|(start, _)| start.max(ms))
    }
}

/// The cutoff (営業日切替) as minutes after local midnight, from `"HH:MM"` (00:00〜23:59).
pub fn cutoff_minutes(s: &str) -> Result<i64, ApiError> {
    minutes(s.trim(), false).ok_or_else(|| {
        ApiError::bad(
            "invalid_cutoff",
            "businessDayCutoff",
            format!("営業日切替「{s}」は HH:MM (00:00〜23:59) で入力してください"),
        )
    })
}

/// The business day (day number) of `ms`: the local date, minus one day before the cutoff.
/// With a 05:00 cutoff, 04:59 on the 2nd belongs to the 1st; 05:01 to the 2nd.
pub fn business_day(ms: i64, cutoff_min: i64) -> i64 {
    (ms + JST_OFFSET_MS - cutoff_min * MIN_MS).div_euclid(DAY_MS)
}

/// The first moment (epoch ms) of business day `day`.
pub fn business_day_start(day: i64, cutoff_min: i64) -> i64 {
    day * DAY_MS - JST_OFFSET_MS + cutoff_min * MIN_MS
}

/// The default due time of a callback created at `ms`: `minutes` later when the store is
/// open, else `minutes` after the next opening (so it waits for the morning).
pub fn callback_due(schedule: &Schedule, ms: i64, minutes: i64) -> i64 {
    let from = if schedule.is_open(ms) {
        ms
    } else {
        schedule.next_opening(ms).unwrap_or(ms)
    };
    from + minutes * MIN_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(open: &str, close: &str) -> Range {
        Range {
            open: open.into(),
            close: close.into(),
        }
    }

    /// Epoch ms of a JST wall-clock time.
    fn jst(y: i64, m: u32, d: u32, h: i64, min: i64) -> i64 {
        date::days_from_civil(y, m, d) * DAY_MS + h * 3_600_000 + min * MIN_MS - JST_OFFSET_MS
    }

    /// 月〜金 10:00–20:00, 土 10:00–18:00, 日 休み.
    fn salon() -> Schedule {
        let wk = vec![r("10:00", "20:00")];
        let hours = Hours {
            weekly: vec![
                wk.clone(),
                wk.clone(),
                wk.clone(),
                wk.clone(),
                wk,
                vec![r("10:00", "18:00")],
                vec![],
            ],
            holidays: vec![Holiday {
                date: "2026-12-31".into(),
                ranges: vec![],
                note: "大晦日".into(),
            }],
        };
        validate(hours).unwrap().1
    }

    /// A bar: every day 18:00–02:00 (past midnight), closed Sundays.
    fn bar() -> Schedule {
        let mut weekly = vec![vec![r("18:00", "02:00")]; 6];
        weekly.push(vec![]);
        validate(Hours {
            weekly,
            holidays: vec![Holiday {
                date: "2026-12-09".into(),
                ranges: vec![],
                note: String::new(),
            }],
        })
        .unwrap()
        .1
    }

    #[test]
    fn weekday_of_known_dates() {
        // 2026-12-07 is a Monday, 2026-12-13 a Sunday.
        assert_eq!(weekday(date::days_from_civil(2026, 12, 7)), 0);
        assert_eq!(weekday(date::days_from_civil(2026, 12, 13)), 6);
        assert_eq!(weekday(0), 3); // 1970-01-01, a Thursday
    }

    #[test]
    fn cutoff_at_0459_and_0501() {
        let cutoff = cutoff_minutes("05:00").unwrap();
        let d2 = date::days_from_civil(2026, 12, 2);
        assert_eq!(business_day(jst(2026, 12, 2, 4, 59), cutoff), d2 - 1);
        assert_eq!(business_day(jst(2026, 12, 2, 5, 1), cutoff), d2);
        assert_eq!(business_day(jst(2026, 12, 2, 5, 0), cutoff), d2);
        assert_eq!(business_day(jst(2026, 12, 2, 23, 59), cutoff), d2);
        assert_eq!(
            ymd(business_day(jst(2026, 12, 2, 4, 59), cutoff)),
            "2026-12-01"
        );
        // No cutoff: the JST calendar date, not UTC's (00:30 JST is 15:30 UTC the day before).
        assert_eq!(business_day(jst(2026, 12, 2, 0, 30), 0), d2);
        assert_eq!(business_day_start(d2, cutoff), jst(2026, 12, 2, 5, 0));
        assert_eq!(business_day(business_day_start(d2, cutoff), cutoff), d2);
        assert_eq!(
            business_day(business_day_start(d2, cutoff) - 1, cutoff),
            d2 - 1
        );
    }

    #[test]
    fn jst_has_no_dst() {
        // Every day of the year, noon JST is 03:00 UTC: no shift in summer.
        for day in date::days_from_civil(2026, 1, 1)..date::days_from_civil(2027, 1, 1) {
            let noon = day * DAY_MS + 12 * 3_600_000 - JST_OFFSET_MS;
            assert_eq!(noon.rem_euclid(DAY_MS), 3 * 3_600_000);
            assert_eq!(business_day(noon, 300), day);
        }
        let s = salon();
        assert!(s.is_open(jst(2026, 7, 15, 10, 0))); // a Wednesday in summer
        assert!(!s.is_open(jst(2026, 7, 15, 9, 59)));
    }

    #[test]
    fn weekly_hours_open_and_closed() {
        let s = salon();
        assert!(s.is_open(jst(2026, 12, 7, 10, 0))); // Mon 10:00, the opening minute
        assert!(s.is_open(jst(2026, 12, 7, 19, 59)));
        assert!(!s.is_open(jst(2026, 12, 7, 20, 0))); // closing is exclusive
        assert!(!s.is_open(jst(2026, 12, 7, 9, 59)));
        assert!(s.is_open(jst(2026, 12, 12, 17, 0))); // Sat
        assert!(!s.is_open(jst(2026, 12, 12, 18, 30))); // Sat after 18:00
        assert!(!s.is_open(jst(2026, 12, 13, 12, 0))); // Sun: closed
    }

    #[test]
    fn holiday_closes_and_special_hours_open() {
        let s = salon();
        assert!(!s.is_open(jst(2026, 12, 31, 12, 0))); // a Thursday, but a holiday
        assert!(s.is_open(jst(2026, 12, 30, 12, 0)));
        let (_, special) = validate(Hours {
            weekly: vec![vec![]; 7],
            holidays: vec![Holiday {
                date: "2026-12-13".into(),
                ranges: vec![r("13:00", "15:00")],
                note: "特別営業".into(),
            }],
        })
        .unwrap();
        assert!(special.is_open(jst(2026, 12, 13, 13, 30)));
        assert!(!special.is_open(jst(2026, 12, 13, 15, 0)));
        assert!(!special.is_open(jst(2026, 12, 14, 13, 30)));
    }

    #[test]
    fn range_past_midnight() {
        let b = bar();
        assert!(b.is_open(jst(2026, 12, 7, 23, 0))); // Mon night
        assert!(b.is_open(jst(2026, 12, 8, 1, 59))); // Tue 01:59: Monday's range
        assert!(!b.is_open(jst(2026, 12, 8, 2, 0)));
        assert!(!b.is_open(jst(2026, 12, 8, 17, 59)));
        // Saturday's range runs into Sunday though Sunday is closed.
        assert!(b.is_open(jst(2026, 12, 13, 1, 0)));
        assert!(!b.is_open(jst(2026, 12, 13, 20, 0)));
        // Monday 00:30 follows a closed Sunday.
        assert!(!b.is_open(jst(2026, 12, 14, 0, 30)));
        // The holiday on Wednesday 12-09 closes its evening and its spill-over into Thursday.
        assert!(!b.is_open(jst(2026, 12, 9, 20, 0)));
        assert!(!b.is_open(jst(2026, 12, 10, 1, 0)));
        // Tuesday's spill-over into the holiday morning still counts (it opened on Tuesday).
        assert!(b.is_open(jst(2026, 12, 9, 1, 0)));
    }

    #[test]
    fn call_across_the_cutoff() {
        // A bar open 18:00–02:00 with a 05:00 cutoff: the whole night is one business day.
        let cutoff = 300;
        let b = bar();
        let start = jst(2026, 12, 7, 23, 50);
        let after_midnight = jst(2026, 12, 8, 0, 10);
        assert!(b.is_open(start) && b.is_open(after_midnight));
        assert_eq!(
            business_day(start, cutoff),
            business_day(after_midnight, cutoff)
        );
        // A call ringing at 04:58 that ends at 05:02 belongs to the day it started in.
        let ring = jst(2026, 12, 8, 4, 58);
        let end = jst(2026, 12, 8, 5, 2);
        assert_eq!(ymd(business_day(ring, cutoff)), "2026-12-07");
        assert_eq!(ymd(business_day(end, cutoff)), "2026-12-08");
    }

    #[test]
    fn next_opening() {
        let s = salon();
        let open = jst(2026, 12, 7, 12, 0);
        assert_eq!(s.next_opening(open), Some(open));
        assert_eq!(
            s.next_opening(jst(2026, 12, 7, 21, 0)),
            Some(jst(2026, 12, 8, 10, 0))
        );
        // Saturday evening → Monday (Sunday closed).
        assert_eq!(
            s.next_opening(jst(2026, 12, 12, 19, 0)),
            Some(jst(2026, 12, 14, 10, 0))
        );
        // Wednesday 12-30 evening → skips the 12-31 holiday → Friday 01-01.
        assert_eq!(
            s.next_opening(jst(2026, 12, 30, 21, 0)),
            Some(jst(2027, 1, 1, 10, 0))
        );
        let b = bar();
        // Inside Monday's range after midnight: open now.
        let late = jst(2026, 12, 8, 1, 0);
        assert_eq!(b.next_opening(late), Some(late));
        assert_eq!(
            b.next_opening(jst(2026, 12, 8, 3, 0)),
            Some(jst(2026, 12, 8, 18, 0))
        );
        let never = validate(Hours {
            weekly: vec![vec![]; 7],
            holidays: vec![],
        })
        .unwrap()
        .1;
        assert_eq!(never.next_opening(late), None);
        assert!(!never.is_open(late));
    }

    #[test]
    fn not_configured_is_always_open() {
        let s = Schedule::default();
        assert!(s.is_open(jst(2026, 12, 13, 3, 0)));
        assert_eq!(s.next_opening(5), Some(5));
        assert!(!schedule("not json").configured());
        assert!(schedule(r#"{"weekly":[[],[],[],[],[],[],[]]}"#).configured());
    }

    #[test]
    fn callback_due_in_and_outside_hours() {
        let s = salon();
        let in_hours = jst(2026, 12, 7, 12, 0);
        assert_eq!(callback_due(&s, in_hours, 30), in_hours + 30 * MIN_MS);
        assert_eq!(
            callback_due(&s, jst(2026, 12, 7, 22, 0), 30),
            jst(2026, 12, 8, 10, 30)
        );
    }

    #[test]
    fn validation_errors() {
        let bad_day = |ranges: Vec<Range>| {
            let mut weekly = vec![vec![]; 7];
            weekly[0] = ranges;
            validate(Hours {
                weekly,
                holidays: vec![],
            })
        };
        assert!(bad_day(vec![r("25:00", "26:00")]).is_err());
        assert!(bad_day(vec![r("10:00", "10:00")]).is_err());
        assert!(bad_day(vec![r("10", "12:00")]).is_err());
        assert!(bad_day(vec![r("10:00", "12:60")]).is_err());
        assert!(bad_day(vec![r("10:00", "14:00"), r("13:00", "18:00")]).is_err());
        assert!(bad_day(vec![r("10:00", "14:00"), r("15:00", "18:00")]).is_ok());
        assert!(bad_day(vec![r("00:00", "24:00")]).is_ok());
        assert!(bad_day(vec![r("24:00", "02:00")]).is_err());
        let six = validate(Hours {
            weekly: vec![vec![]; 6],
            holidays: vec![],
        });
        let Err(ApiError::BadRequest { field, .. }) = six else {
            panic!("six days accepted")
        };
        assert_eq!(field, Some("weekly"));
        let holiday = |date: &str| {
            validate(Hours {
                weekly: vec![],
                holidays: vec![Holiday {
                    date: date.into(),
                    ranges: vec![],
                    note: String::new(),
                }],
            })
        };
        assert!(holiday("2026-02-30").is_err());
        assert!(holiday("2026/12/31").is_err());
        assert!(holiday("2026-12-31").is_ok());
        assert!(cutoff_minutes("05:00").is_ok());
        assert!(cutoff_minutes("24:00").is_err());
        assert!(cutoff_minutes("5時").is_err());
    }
}
