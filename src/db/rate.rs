//! `rate_events`: the actions counted per key for a rate limit (exports, registrations).
use crate::platform::sql::Stmt;

/// Forgets `key`'s actions older than the window, then counts one at `now` only if fewer than
/// `max` happened in the last `window_ms` (the second statement changes no row otherwise).
/// One statement decides, so parallel requests cannot both take the last slot.
pub fn count_action(key: &str, now: i64, window_ms: i64, max: i64) -> [Stmt; 2] {
    [
        Stmt::new(
            "DELETE FROM rate_events WHERE key = ?1 AND at <= ?2",
            vec![key.into(), (now - window_ms).into()],
        ),
        Stmt::new(
            "INSERT INTO rate_events (key, at) SELECT ?1, ?2 \
             WHERE (SELECT count(*) FROM rate_events WHERE key = ?1 AND at > ?3) < ?4",
            vec![key.into(), now.into(), (now - window_ms).into(), max.into()],
        ),
    ]
}
