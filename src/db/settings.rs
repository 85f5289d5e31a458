//! `front_desk_settings`: the front desk's settings document (one row), as the settings page,
//! the popup's lookup and the wrap-up read it.
use crate::platform::sql::Stmt;
use serde::Deserialize;

/// The stored document ([`BodyRow`]; no row: the defaults).
pub const FRONT_DESK: &str = "SELECT body FROM front_desk_settings WHERE id = 1";

#[derive(Deserialize)]
pub struct BodyRow {
    pub body: String,
}

/// Replaces the document, by `by` at `now`.
pub fn save_front_desk(body: &str, by: &str, now: i64) -> Stmt {
    save_document("front_desk_settings", body, by, now)
}

/// Replaces a one-row settings document (row 1 of `table`, a constant name; its JSON `body`),
/// by `by` at `now`. `db::dialpad`'s settings are one too.
pub(crate) fn save_document(table: &str, body: &str, by: &str, now: i64) -> Stmt {
    Stmt::new(
        format!(
            "INSERT INTO {table} (id, body, updated_by, updated_at) VALUES (1, ?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at"
        ),
        vec![body.into(), by.into(), now.into()],
    )
}
