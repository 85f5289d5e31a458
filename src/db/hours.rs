//! `hours_settings` (the organisation's business day and 折り返し rules) and `store_hours`.
use crate::platform::sql::Stmt;
use serde::Deserialize;

/// Whether closing a 折り返し needs an attempt first (`n`: 0 or 1; no row: no).
pub fn require_outcome() -> Stmt {
    Stmt::new(
        "SELECT callback_require_outcome AS n FROM hours_settings WHERE id = 1",
        vec![],
    )
}

/// Every store's hours ([`StoreHoursRow`]).
pub const ALL_STORE_HOURS: &str = "SELECT store_id, body, require_wrapup FROM store_hours";

/// The organisation's settings ([`SettingsRow`]; no row: the defaults).
pub const SETTINGS: &str =
    "SELECT cutoff_min, callback_due_min, callback_require_outcome FROM hours_settings WHERE id = 1";

#[derive(Deserialize)]
pub struct StoreHoursRow {
    pub store_id: i64,
    pub body: String,
    pub require_wrapup: i64,
}

#[derive(Deserialize)]
pub struct SettingsRow {
    pub cutoff_min: i64,
    pub callback_due_min: i64,
    pub callback_require_outcome: i64,
}

/// Saves the organisation's settings (the whole row), by `by` at `now`.
pub fn save_settings(
    cutoff_min: i64,
    callback_due_min: i64,
    callback_require_outcome: bool,
    by: &str,
    now: i64,
) -> Stmt {
    Stmt::new(
        "INSERT INTO hours_settings (id, cutoff_min, callback_due_min, callback_require_outcome, \
         updated_by, updated_at) VALUES (1, ?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET \
         cutoff_min = excluded.cutoff_min, callback_due_min = excluded.callback_due_min, \
         callback_require_outcome = excluded.callback_require_outcome, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        vec![
            cutoff_min.into(),
            callback_due_min.into(),
            (callback_require_outcome as i64).into(),
            by.into(),
            now.into(),
        ],
    )
}

/// One store's hours ([`StoreHoursRow`]; no row: none set).
pub fn store_hours(store: i64) -> Stmt {
    Stmt::new(
        "SELECT store_id, body, require_wrapup FROM store_hours WHERE store_id = ?1",
        vec![store.into()],
    )
}

/// Saves a store's hours (`body`, a JSON document) and its required wrap-up; None keeps what
/// is stored (or the defaults). Returns the row as saved ([`SavedStoreHours`]).
pub fn save_store_hours(
    store: i64,
    body: Option<&str>,
    require_wrapup: Option<bool>,
    by: &str,
    now: i64,
) -> Stmt {
    Stmt::new(
        "INSERT INTO store_hours (store_id, body, require_wrapup, updated_by, updated_at) \
         VALUES (?1, coalesce(?2, '{}'), coalesce(?3, 0), ?4, ?5) ON CONFLICT (store_id) DO UPDATE SET \
         body = coalesce(?2, body), require_wrapup = coalesce(?3, require_wrapup), \
         updated_by = ?4, updated_at = ?5 RETURNING body, require_wrapup",
        vec![
            store.into(),
            body.into(),
            require_wrapup.map(i64::from).into(),
            by.into(),
            now.into(),
        ],
    )
}

#[derive(Deserialize)]
pub struct SavedStoreHours {
    pub body: String,
    pub require_wrapup: i64,
}
