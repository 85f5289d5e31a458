//! The Dialpad sync queue's own tables, on its Durable Object's storage
//! (`resources::dialpad::sync`): `jobs` in order, `contacts` (which Dialpad contact each
//! customer became) and `meta` (its settings and counters).
use crate::platform::sql::Stmt;

/// The tables and their indexes (`platform::sql::create_all`).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, \
     key TEXT NOT NULL, arg TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, \
     not_before INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0, reason TEXT, \
     created_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, refused)",
    "CREATE INDEX IF NOT EXISTS jobs_order ON jobs (refused, seq)",
    "CREATE TABLE IF NOT EXISTS contacts (customer_id INTEGER PRIMARY KEY, contact_id TEXT NOT NULL, \
     synced_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
];

/// A setting or counter (`v`).
pub fn meta(k: &str) -> Stmt {
    Stmt::new("SELECT v FROM meta WHERE k = ?", vec![k.into()])
}

pub fn set_meta(k: &str, v: &str) -> Stmt {
    Stmt::new(
        "INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
        vec![k.into(), v.into()],
    )
}

/// Counts (`n`): the jobs waiting, the contact jobs waiting, the jobs set aside, the
/// customers synced.
pub fn waiting() -> Stmt {
    Stmt::new("SELECT count(*) AS n FROM jobs WHERE refused = 0", vec![])
}
pub fn waiting_contacts() -> Stmt {
    Stmt::new(
        "SELECT count(*) AS n FROM jobs WHERE refused = 0 AND kind = 'contact'",
        vec![],
    )
}
pub fn refused() -> Stmt {
    Stmt::new("SELECT count(*) AS n FROM jobs WHERE refused = 1", vec![])
}
pub fn synced() -> Stmt {
    Stmt::new("SELECT count(*) AS n FROM contacts", vec![])
}

/// The last 20 jobs set aside (kind, key, reason, created_at).
pub fn refused_items() -> Stmt {
    Stmt::new(
        "SELECT kind, key, reason, created_at FROM jobs WHERE refused = 1 ORDER BY seq DESC LIMIT 20",
        vec![],
    )
}

/// A job at the end; a waiting job with the same key goes first (the newer one says it all).
pub fn push(kind: &str, key: &str, arg: &str, now: i64) -> [Stmt; 2] {
    [
        Stmt::new(
            "DELETE FROM jobs WHERE key = ? AND refused = 0",
            vec![key.into()],
        ),
        Stmt::new(
            "INSERT INTO jobs (kind, key, arg, created_at) VALUES (?, ?, ?, ?)",
            vec![kind.into(), key.into(), arg.into(), now.into()],
        ),
    ]
}

/// The next waiting job (seq, kind, arg, attempts, not_before).
pub fn next_job() -> Stmt {
    Stmt::new(
        "SELECT seq, kind, arg, attempts, not_before FROM jobs WHERE refused = 0 \
         ORDER BY seq LIMIT 1",
        vec![],
    )
}

pub fn done(seq: i64) -> Stmt {
    Stmt::new("DELETE FROM jobs WHERE seq = ?", vec![seq.into()])
}

/// Sets a job aside after `attempts`, with why.
pub fn give_up(seq: i64, attempts: i64, why: &str) -> Stmt {
    Stmt::new(
        "UPDATE jobs SET refused = 1, attempts = ?, reason = ? WHERE seq = ?",
        vec![attempts.into(), why.into(), seq.into()],
    )
}

/// Tries a job again at `not_before`, after `attempts`.
pub fn back_off(seq: i64, attempts: i64, not_before: i64) -> Stmt {
    Stmt::new(
        "UPDATE jobs SET attempts = ?, not_before = ? WHERE seq = ?",
        vec![attempts.into(), not_before.into(), seq.into()],
    )
}

/// Sends a job again, not before `not_before` (Dialpad's rate limit).
pub fn delay(seq: i64, not_before: i64) -> Stmt {
    Stmt::new(
        "UPDATE jobs SET not_before = ? WHERE seq = ?",
        vec![not_before.into(), seq.into()],
    )
}

/// Sets a job aside: Dialpad refused it.
pub fn refuse(seq: i64, why: &str) -> Stmt {
    Stmt::new(
        "UPDATE jobs SET refused = 1, reason = ? WHERE seq = ?",
        vec![why.into(), seq.into()],
    )
}

/// Puts every job set aside back in the queue.
pub fn retry_all() -> Stmt {
    Stmt::new(
        "UPDATE jobs SET refused = 0, attempts = 0, not_before = 0, reason = NULL \
         WHERE refused = 1",
        vec![],
    )
}

/// The Dialpad contact a customer became (`contact_id`).
pub fn contact_of(customer: i64) -> Stmt {
    Stmt::new(
        "SELECT contact_id FROM contacts WHERE customer_id = ?",
        vec![customer.into()],
    )
}

/// Records the Dialpad contact a customer became, at `now`.
pub fn synced_as(customer: i64, contact: &str, now: i64) -> Stmt {
    Stmt::new(
        "INSERT INTO contacts (customer_id, contact_id, synced_at) VALUES (?, ?, ?) \
         ON CONFLICT (customer_id) DO UPDATE SET contact_id = excluded.contact_id, \
         synced_at = excluded.synced_at",
        vec![customer.into(), contact.into(), now.into()],
    )
}

pub fn forget_contact(customer: i64) -> Stmt {
    Stmt::new(
        "DELETE FROM contacts WHERE customer_id = ?",
        vec![customer.into()],
    )
}
