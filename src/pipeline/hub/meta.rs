//! The hub's `meta` table: its settings, marks and health counters as key and value, read
//! through an in-memory copy (only this instance writes the table).
use super::Hub;
use serde::Deserialize;

/// Requests for the hub's figures (`/stats`): the health flood test reads it.
pub(super) const STATS_COUNTER: &str = "count_stats_requests";

impl Hub {
    /// A `meta` value. Read through an in-memory copy: the event path asks for several per
    /// event, and only this instance writes the table (the copy starts empty with the instance).
    pub(super) fn meta_get(&self, key: &str) -> Option<String> {
        if let Some(v) = self.meta.borrow().get(key) {
            return v.clone();
        }
        #[derive(Deserialize)]
        struct V {
            value: Option<String>,
        }
        let rows = self
            .sql()
            .exec("SELECT value FROM meta WHERE key = ?", vec![key.into()])
            .and_then(|c| c.to_array::<V>());
        // A failed read is not remembered as "absent".
        let Ok(rows) = rows else { return None };
        let v = rows.into_iter().next().and_then(|v| v.value);
        self.meta.borrow_mut().insert(key.to_string(), v.clone());
        v
    }

    pub(super) fn meta_set(&self, key: &str, value: &str) -> worker::Result<()> {
        self.meta.borrow_mut().remove(key);
        self.sql().exec(
            "INSERT INTO meta (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            vec![key.into(), value.into()],
        )?;
        self.meta
            .borrow_mut()
            .insert(key.to_string(), Some(value.to_string()));
        Ok(())
    }

    /// Forgets a `meta` value (no write when it is already absent).
    pub(super) fn meta_delete(&self, key: &str) -> worker::Result<()> {
        if self.meta.borrow().get(key).is_some_and(|v| v.is_none()) {
            return Ok(());
        }
        self.meta.borrow_mut().remove(key);
        self.sql()
            .exec("DELETE FROM meta WHERE key = ?", vec![key.into()])?;
        self.meta.borrow_mut().insert(key.to_string(), None);
        Ok(())
    }

    /// Adds `by` to the counter `key` kept in `meta`; returns the new value.
    pub(super) fn add_to(&self, key: &str, by: i64) -> worker::Result<i64> {
        let n = self.counter(key) + by;
        self.meta_set(key, &n.to_string())?;
        Ok(n)
    }

    /// A counter kept in `meta` (0 until first added to).
    pub(super) fn counter(&self, key: &str) -> i64 {
        self.meta_get(key)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
    }
}
