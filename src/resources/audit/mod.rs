//! 操作履歴 (the audit log): `write` records what a handler did, after the answer; `list`
//! serves the admin page (`POST /api/audit/search`, `POST /api/audit/export`). What is
//! recorded and its labels: `domain::audit`.
pub mod list;
pub mod write;

pub use crate::domain::audit::Action;
pub use write::{
    account_changed, flush, has_pending, login_failed, login_succeeded, mark, popup_opened, prune,
    settings_changed, Entry, ExportAudit,
};
