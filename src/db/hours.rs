//! `hours_settings` (the organisation's business day and 折り返し rules) and `store_hours`.
use crate::platform::sql::Stmt;

/// Whether closing a 折り返し needs an attempt first (`n`: 0 or 1; no row: no).
pub fn require_outcome() -> Stmt {
    Stmt::new(
        "SELECT callback_require_outcome AS n FROM hours_settings WHERE id = 1",
        vec![],
    )
}
