//! The 着信分析 rollups (`call_rollups`, migration 0013): per store and per hour, kept by the
//! outbox in the same D1 batch as the calls it copies. The hours a batch touches (each call's
//! start before and after its upsert: a later leg may move the start earlier) are marked, then
//! recomputed from the call log and unmarked, all in the one transaction. Recomputing is
//! idempotent, so a batch that runs twice (its answer lost after D1 committed) changes
//! nothing; and an hour holds few calls, so the recompute is a short indexed read.
use crate::platform::sql::{Stmt, Val};

/// The recompute of every marked hour (shared with `npm run reports:rebuild`): the calls'
/// figures, and the wrap-ups' counts (用件 × 対応結果) of the calls that started in it.
pub const RECOMPUTE: &str = include_str!("rollup.sql");
pub const RECOMPUTE_WRAPUPS: &str = include_str!("rollup_wrapups.sql");

/// The Japan-time days (midnight to midnight, days since 1970-01-01) of the marked hours.
const DIRTY_DAYS: &str = "SELECT DISTINCT (hour + 9) / 24 FROM call_rollup_dirty";

/// The days of the marked hours summed again from their hours: a year's totals and daily line
/// read 365 rows per store instead of 24 times as many.
const RECOMPUTE_DAYS: &str = "INSERT INTO call_rollups_day (day, store_id, calls, answered, \
  missed, voicemail, ring_n, ring_ms, ring_max_ms, talk_n, talk_ms, withheld) \
  SELECT d.day, r.store_id, sum(r.calls), sum(r.answered), sum(r.missed), sum(r.voicemail), \
    sum(r.ring_n), sum(r.ring_ms), max(r.ring_max_ms), sum(r.talk_n), sum(r.talk_ms), sum(r.withheld) \
  FROM (SELECT DISTINCT (hour + 9) / 24 AS day FROM call_rollup_dirty) d \
  JOIN call_rollups r ON r.hour >= d.day * 24 - 9 AND r.hour < d.day * 24 + 15 \
  GROUP BY d.day, r.store_id";

/// Marks the hours of the calls (`ids`) as they are now.
pub fn mark(ids: &[&str]) -> Stmt {
    Stmt::new(
        "INSERT OR IGNORE INTO call_rollup_dirty (hour) \
         SELECT started_at / 3600000 FROM calls WHERE id IN (SELECT value FROM json_each(?1))",
        vec![Val::Text(
            serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()),
        )],
    )
}

/// Recomputes the marked hours and unmarks them.
pub fn recompute() -> Vec<Stmt> {
    vec![
        Stmt::new(
            "DELETE FROM call_rollups WHERE hour IN (SELECT hour FROM call_rollup_dirty)",
            vec![],
        ),
        Stmt::new(RECOMPUTE, vec![]),
        Stmt::new(
            "DELETE FROM call_wrapup_rollups WHERE hour IN (SELECT hour FROM call_rollup_dirty)",
            vec![],
        ),
        Stmt::new(RECOMPUTE_WRAPUPS, vec![]),
        Stmt::new(
            format!("DELETE FROM call_rollups_day WHERE day IN ({DIRTY_DAYS})"),
            vec![],
        ),
        Stmt::new(RECOMPUTE_DAYS, vec![]),
        Stmt::new("DELETE FROM call_rollup_dirty", vec![]),
    ]
}

/// For a write outside the outbox that changes what a call's hour rolls up (a wrap-up saved):
/// its hour marked and recomputed, to run in the same batch after the write.
pub fn refresh(ids: &[&str]) -> Vec<Stmt> {
    let mut v = vec![mark(ids)];
    v.extend(recompute());
    v
}

/// A batch's statements wrapped in the rollup upkeep: the calls' hours marked before and
/// after, then recomputed. The batch's own statements keep their order (shifted by one).
pub fn wrap(ids: &[&str], batch: Vec<Stmt>) -> Vec<Stmt> {
    if ids.is_empty() {
        return batch;
    }
    let mut v = Vec::with_capacity(batch.len() + 9);
    v.push(mark(ids));
    v.extend(batch);
    v.push(mark(ids));
    v.extend(recompute());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_is_wrapped_in_marks_and_the_recompute() {
        let own = vec![Stmt::new("SELECT 1", vec![])];
        let v = wrap(&["a", "b"], own.clone());
        assert_eq!(v.len(), 10);
        assert_eq!(v[1], own[0]);
        assert_eq!(v[0], v[2]);
        assert_eq!(v[0].params, vec![Val::Text("[\"a\",\"b\"]".into())]);
        assert!(v[4].sql.starts_with("INSERT INTO call_rollups"));
        assert!(v[6].sql.starts_with("INSERT INTO call_wrapup_rollups"));
        assert!(v[8].sql.starts_with("INSERT INTO call_rollups_day"));
        assert_eq!(refresh(&["a"]).len(), 8);
        assert_eq!(wrap(&[], own.clone()), own);
    }
}
