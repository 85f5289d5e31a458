//! `call_wrapups`: the wrap-up of one call (用件, 対応結果, note), saved on the call with a
//! version (a save names the version it read). The call log reads it with the call
//! (`db::calls::log_select`).
use crate::domain::access::call_visible_sql;
use crate::platform::sql::Stmt;
use serde::{Deserialize, Serialize};

/// A wrap-up as validated by its handler.
pub struct Wrapup<'a> {
    pub call_id: &'a str,
    pub category: &'a str,
    pub outcome: &'a str,
    pub note: &'a str,
    pub by: &'a str,
    pub now: i64,
    /// The version the writer read (0: there was none).
    pub version: i64,
}

/// Saves the wrap-up (the whole of it) on a call `scope` may see, if `version` is the one
/// stored (no row changed otherwise), then reads it back ([`Current`]).
pub fn save(w: &Wrapup, scope: Option<String>) -> Vec<Stmt> {
    vec![
        Stmt::new(
            format!(
                "INSERT INTO call_wrapups (call_id, category, outcome, note, updated_by, updated_at, version) \
                 SELECT k.id, ?2, ?3, ?4, ?5, ?6, 1 FROM calls k WHERE k.id = ?1 AND {} \
                 ON CONFLICT (call_id) DO UPDATE SET category = excluded.category, \
                 outcome = excluded.outcome, note = excluded.note, updated_by = excluded.updated_by, \
                 updated_at = excluded.updated_at, version = call_wrapups.version + 1 \
                 WHERE call_wrapups.version = ?8",
                call_visible_sql(7)
            ),
            vec![
                w.call_id.into(),
                w.category.into(),
                w.outcome.into(),
                w.note.into(),
                w.by.into(),
                w.now.into(),
                scope.clone().into(),
                w.version.into(),
            ],
        ),
        Stmt::new(
            format!(
                "SELECT w.category, w.outcome, w.note, w.updated_by AS by_name, w.updated_at AS at, \
                 w.version, k.caller, k.store_id FROM call_wrapups w JOIN calls k ON k.id = w.call_id \
                 WHERE w.call_id = ?1 AND {}",
                call_visible_sql(2)
            ),
            vec![w.call_id.into(), scope.into()],
        ),
    ]
}

/// The wrap-up as it is stored now (a conflict's `current`, and the broadcast).
#[derive(Debug, Deserialize, Serialize)]
pub struct Current {
    pub category: String,
    pub outcome: String,
    pub note: String,
    #[serde(rename(serialize = "by"))]
    pub by_name: Option<String>,
    pub at: i64,
    pub version: i64,
    #[serde(skip_serializing)]
    pub caller: String,
    #[serde(skip_serializing)]
    pub store_id: Option<i64>,
}

/// The last 3 wrap-ups written on calls from `phone` that `scope` may see (the history's
/// visibility), newest call first, leaving out `except` (the call the popup is about: its own
/// wrap-up is the form) and wrap-ups left empty ([`Recent`]).
pub fn recent_of_number(phone: &str, except: Option<&str>, scope: Option<String>) -> Stmt {
    Stmt::new(
        format!(
            "SELECT k.id AS call_id, k.started_at, s.name AS store_name, w.category, w.outcome, \
             w.note, w.updated_by, w.updated_at FROM calls k JOIN call_wrapups w ON w.call_id = k.id \
             LEFT JOIN stores s ON s.id = k.store_id \
             WHERE k.caller = ?1 AND (?2 IS NULL OR k.id <> ?2) AND {} \
             AND (w.category <> '' OR w.outcome <> '' OR w.note <> '') \
             ORDER BY k.started_at DESC LIMIT 3",
            call_visible_sql(3)
        ),
        vec![phone.into(), except.into(), scope.into()],
    )
}

/// One of the number's latest wrap-ups, as the popup's 前回までの対応 shows it.
#[derive(Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct Recent {
    pub call_id: String,
    pub started_at: i64,
    pub store_name: Option<String>,
    pub category: String,
    pub outcome: String,
    pub note: String,
    #[serde(rename(serialize = "by"))]
    pub updated_by: Option<String>,
    #[serde(rename(serialize = "at"))]
    pub updated_at: i64,
}
