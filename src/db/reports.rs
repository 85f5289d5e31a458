//! 着信分析's reads, one batch: the per-store and per-hour rollups (`call_rollups`,
//! `call_rollups_day`, `call_wrapup_rollups`), the 折り返し items opened in the period
//! (`callbacks`), and the period's callers from the call log (`calls`, by its covering index
//! `calls_report`). Pure statement builders; `resources::reports` reads their rows in this
//! order.
use crate::domain::access::customer_visible_sql;
use crate::domain::report::Period;
use crate::platform::sql::{Stmt, Val};
use serde::Deserialize;

const SUMS: &str = "sum(r.calls) AS calls, sum(r.answered) AS answered, sum(r.missed) AS missed, \
  sum(r.voicemail) AS voicemail, sum(r.ring_n) AS ring_n, sum(r.ring_ms) AS ring_ms, \
  max(r.ring_max_ms) AS ring_max_ms, sum(r.talk_n) AS talk_n, sum(r.talk_ms) AS talk_ms, \
  sum(r.withheld) AS withheld";

/// The period's calls that count (inbound, not a test) in the stores at `?3`, between `?1` and
/// `?2` (epoch ms). Covered by `calls_report`.
const PERIOD_CALLS: &str = "FROM calls k WHERE k.started_at >= ?1 AND k.started_at < ?2 \
  AND k.direction = 'inbound' AND k.is_test = 0 \
  AND (?3 IS NULL OR coalesce(k.store_id, 0) IN (SELECT value FROM json_each(?3)))";

/// The rollup rows of the stores at `?3` (every store when NULL; 0: calls no store matched).
const IN_STORES: &str = "(?3 IS NULL OR r.store_id IN (SELECT value FROM json_each(?3)))";

/// The 折り返し items opened between `?1` and `?2` in the stores at `?3`.
const CALLBACKS_IN: &str = "created_at >= ?1 AND created_at < ?2 \
  AND (?3 IS NULL OR coalesce(store_id, 0) IN (SELECT value FROM json_each(?3)))";

/// Which rollups a span is read from: business days from midnight are the daily rollups' days
/// (365 rows a year per store), any other day start is summed from the hourly ones.
struct Rollup {
    table: &'static str,
    /// The column the span bounds (`?1`, `?2`).
    column: &'static str,
    /// The business day of a row.
    day: String,
}

impl Rollup {
    fn hourly() -> Rollup {
        Rollup {
            table: "call_rollups",
            column: "r.hour",
            day: Period::day_sql("r.hour", 4),
        }
    }

    fn of(period: &Period) -> Rollup {
        if period.day_start == 0 {
            Rollup {
                table: "call_rollups_day",
                column: "r.day",
                day: "r.day".into(),
            }
        } else {
            Rollup::hourly()
        }
    }

    /// `?1`, `?2`: the span from `from` (the first day of the period, or of the previous one)
    /// to the period's end, in the table's unit; `?3` the stores; `?4` the day start (ms) the
    /// hourly table's days are cut at.
    fn args(&self, period: &Period, from: &Period, stores: &Val) -> Vec<Val> {
        let hour = |ms: i64| ms / 3_600_000;
        let (lo, hi) = if self.table == "call_rollups_day" {
            (from.first, period.last + 1)
        } else {
            (hour(from.start_ms()), hour(period.end_ms()))
        };
        let mut args = vec![lo.into(), hi.into(), stores.clone()];
        if self.table == "call_rollups" {
            args.push((period.day_start * 60_000).into());
        }
        args
    }
}

/// The report's statements, in the order their rows are read: 0 per store, 1 weekday × hour,
/// 2 per business day (this period and the previous one), 3 折り返し opened, 4 their times to
/// 対応済, 5 wrap-ups, and 6 the callers when `with_callers`. `stores`: the ids the report
/// covers (`None`: every store); `scope`: the viewer's (`Viewer::scope`), for customer names.
pub fn statements(
    period: Period,
    stores: Option<&[i64]>,
    scope: Option<String>,
    with_callers: bool,
) -> Vec<Stmt> {
    let prev = period.previous();
    let stores_v = stores.map_or(Val::Null, |s| {
        Val::Text(serde_json::to_string(s).unwrap_or_else(|_| "[]".into()))
    });
    let hourly = Rollup::hourly();
    let rollup = Rollup::of(&period);
    let (table, column) = (rollup.table, rollup.column);
    let calls_args: Vec<Val> = vec![
        period.start_ms().into(),
        period.end_ms().into(),
        stores_v.clone(),
    ];
    let hour_args = hourly.args(&period, &period, &stores_v);
    let mut stmts = vec![
        // 0: per store
        Stmt::new(
            format!(
                "SELECT r.store_id, s.name AS store_name, {SUMS} FROM {table} r \
                 LEFT JOIN stores s ON s.id = r.store_id \
                 WHERE {column} >= ?1 AND {column} < ?2 AND {IN_STORES} \
                 GROUP BY r.store_id ORDER BY r.store_id"
            ),
            rollup.args(&period, &period, &stores_v)[..3].to_vec(),
        ),
        // 1: weekday × hour of the day (clock time, JST)
        Stmt::new(
            format!(
                "SELECT ({} + 3) % 7 AS dow, (r.hour + 9) % 24 AS hod, sum(r.calls) AS calls, \
                   sum(r.calls - r.answered) AS unanswered \
                 FROM call_rollups r WHERE r.hour >= ?1 AND r.hour < ?2 AND {IN_STORES} \
                 GROUP BY dow, hod",
                hourly.day
            ),
            hour_args.clone(),
        ),
        // 2: per business day, this period and the previous one
        Stmt::new(
            format!(
                "SELECT {} AS day, sum(r.calls) AS calls, sum(r.answered) AS answered, \
                   sum(r.calls - r.answered) AS unanswered \
                 FROM {table} r WHERE {column} >= ?1 AND {column} < ?2 AND {IN_STORES} \
                 GROUP BY day",
                rollup.day
            ),
            rollup.args(&period, &prev, &stores_v),
        ),
        // 3: 折り返し opened in the period
        Stmt::new(
            format!(
                "SELECT count(*) AS opened, coalesce(sum(status = 'done'), 0) AS done, \
                   coalesce(sum(status != 'done'), 0) AS still_open, \
                   coalesce(sum(closed_by_call IS NOT NULL), 0) AS called_back_first \
                 FROM callbacks WHERE {CALLBACKS_IN}"
            ),
            calls_args.clone(),
        ),
        // 4: median and 90th percentile (nearest rank) of opened → 対応済, in whole minutes:
        // ranked over the minutes' counts, not over every item (`+status`: read by the
        // period's covering index, not by every done item's)
        Stmt::new(
            format!(
                "SELECT min(CASE WHEN cum >= (50 * n + 99) / 100 THEN m END) AS p50, \
                   min(CASE WHEN cum >= (90 * n + 99) / 100 THEN m END) AS p90 \
                 FROM (SELECT m, sum(c) OVER (ORDER BY m) AS cum, sum(c) OVER () AS n \
                   FROM (SELECT (updated_at - created_at) / 60000 AS m, count(*) AS c \
                     FROM callbacks WHERE {CALLBACKS_IN} AND +status = 'done' GROUP BY m))"
            ),
            calls_args.clone(),
        ),
        // 5: wrap-ups (用件 × 対応結果) of the period's calls, from their rollups
        Stmt::new(
            format!(
                "SELECT r.category, r.outcome, sum(r.n) AS n FROM call_wrapup_rollups r \
                 WHERE r.hour >= ?1 AND r.hour < ?2 AND {IN_STORES} \
                 GROUP BY r.category, r.outcome"
            ),
            hour_args[..3].to_vec(),
        ),
    ];
    // 6: callers, one grouping of the period's calls read three ways: how many numbers
    // (and how many registered), the top repeat callers (a name only where the viewer may
    // see the customer), unknown numbers that called 3 times or more (to register)
    if with_callers {
        let known = "EXISTS (SELECT 1 FROM customer_phones p WHERE p.phone = g.caller)";
        stmts.push(Stmt::new(
            format!(
                "WITH g AS MATERIALIZED (SELECT k.caller, count(*) AS n {PERIOD_CALLS} \
                   AND k.caller != '' GROUP BY k.caller), \
                 h AS MATERIALIZED (SELECT g.caller, g.n, {known} AS known FROM g) \
                 SELECT 'all' AS kind, NULL AS phone, count(*) AS calls, \
                   coalesce(sum(known), 0) AS known, NULL AS name FROM h \
                 UNION ALL SELECT * FROM (SELECT 'repeat', h.caller, h.n, h.known, \
                   (SELECT c.name FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
                    WHERE p.phone = h.caller AND {} ORDER BY c.id LIMIT 1) \
                   FROM h WHERE h.n >= 2 ORDER BY h.n DESC, h.caller LIMIT 10) \
                 UNION ALL SELECT * FROM (SELECT 'unknown', h.caller, h.n, h.known, NULL \
                   FROM h WHERE h.n >= 3 AND NOT h.known ORDER BY h.n DESC, h.caller LIMIT 20)",
                customer_visible_sql(4)
            ),
            [calls_args, vec![scope.into()]].concat(),
        ));
    }
    stmts
}

/// The weekly summary's destination and the last week sent ([`WeeklyRow`]; no row: none).
pub const WEEKLY_SETTINGS: &str =
    "SELECT webhook_url, last_sent_week FROM report_settings WHERE id = 1";

#[derive(Deserialize)]
pub struct WeeklyRow {
    pub webhook_url: Option<String>,
    pub last_sent_week: Option<String>,
}

/// Saves the weekly summary's destination (None: none), by `by` at `now`.
pub fn save_weekly_url(url: Option<&str>, by: &str, now: i64) -> Stmt {
    Stmt::new(
        "INSERT INTO report_settings (id, webhook_url, updated_by, updated_at) VALUES (1, ?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET webhook_url = excluded.webhook_url, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        vec![url.into(), by.into(), now.into()],
    )
}

/// Claims the week `label` for the summary: changes the row only if no later or equal week
/// was sent (so two cron runs do not both send).
pub fn claim_week(label: &str) -> Stmt {
    Stmt::new(
        "UPDATE report_settings SET last_sent_week = ?1 \
         WHERE id = 1 AND (last_sent_week IS NULL OR last_sent_week < ?1)",
        vec![label.into()],
    )
}

/// How many 折り返し items are still to do, over every store (`n`).
pub const OPEN_CALLBACKS: &str = "SELECT count(*) AS n FROM callbacks WHERE status != 'done'";
