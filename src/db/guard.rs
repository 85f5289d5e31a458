//! The login guard's own tables, on each guard object's SQLite storage
//! (`resources::accounts::guard`): `attempts`, one counter window per key, and `known`, the
//! networks an account signed in from lately.
use crate::platform::sql::Stmt;
use serde::Deserialize;

/// The tables and their indexes (`platform::sql::create_all`).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS attempts (key TEXT PRIMARY KEY, window_start INTEGER NOT NULL, \
     failures INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS known (account TEXT NOT NULL, network TEXT NOT NULL, \
     seen INTEGER NOT NULL, PRIMARY KEY (account, network))",
    "CREATE INDEX IF NOT EXISTS attempts_window ON attempts(window_start)",
    "CREATE INDEX IF NOT EXISTS known_seen ON known(seen)",
];

/// The counter window of `key` ([`WindowRow`]; no row: none yet).
pub fn window(key: &str) -> Stmt {
    Stmt::new(
        "SELECT window_start, failures FROM attempts WHERE key = ?",
        vec![key.into()],
    )
}

#[derive(Deserialize)]
pub struct WindowRow {
    pub window_start: i64,
    pub failures: i64,
}

/// Writes the counter window of `key`.
pub fn put(key: &str, window_start: i64, failures: i64) -> Stmt {
    Stmt::new(
        "INSERT INTO attempts (key, window_start, failures) VALUES (?, ?, ?) \
         ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, \
         failures = excluded.failures",
        vec![key.into(), window_start.into(), failures.into()],
    )
}

/// One attempt handed back to `key`'s budget.
pub fn hand_back(key: &str) -> Stmt {
    Stmt::new(
        "UPDATE attempts SET failures = max(failures - 1, 0) WHERE key = ?",
        vec![key.into()],
    )
}

/// Forgets `key`'s counter.
pub fn forget(key: &str) -> Stmt {
    Stmt::new("DELETE FROM attempts WHERE key = ?", vec![key.into()])
}

/// Drops the windows that started before `before` (through `attempts_window`).
pub fn prune_windows(before: i64) -> Stmt {
    Stmt::new(
        "DELETE FROM attempts WHERE window_start < ?",
        vec![before.into()],
    )
}

/// Whether `account` signed in from `network` after `since` (a row: yes).
pub fn known(account: &str, network: &str, since: i64) -> Stmt {
    Stmt::new(
        "SELECT seen FROM known WHERE account = ? AND network = ? AND seen > ?",
        vec![account.into(), network.into(), since.into()],
    )
}

/// Records that `account` signed in from `network` at `now`.
pub fn remember(account: &str, network: &str, now: i64) -> Stmt {
    Stmt::new(
        "INSERT INTO known (account, network, seen) VALUES (?, ?, ?) \
         ON CONFLICT (account, network) DO UPDATE SET seen = excluded.seen",
        vec![account.into(), network.into(), now.into()],
    )
}

/// Forgets the networks last seen before `before`.
pub fn prune_known(before: i64) -> Stmt {
    Stmt::new("DELETE FROM known WHERE seen < ?", vec![before.into()])
}

/// Every counter's key, in order (tests: each object holds only its own).
pub fn keys() -> Stmt {
    Stmt::new("SELECT key FROM attempts ORDER BY key", vec![])
}
