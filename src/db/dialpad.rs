//! The Dialpad integration's tables: `dialpad_user_links` (which Dialpad user an account is
//! linked to), `dialpad_settings`, `dialpad_state` and `dialpad_share_links`.
use crate::platform::db::{self, i, Stmt};
use crate::platform::http::ApiResult;
use serde::Deserialize;
use worker::D1Database;

pub async fn linked(db: &D1Database, uid: i64) -> ApiResult<Option<(String, String)>> {
    #[derive(Deserialize)]
    struct L {
        dialpad_user_id: String,
        dialpad_name: String,
    }
    let l: Option<L> = db::stmt(
        db,
        "SELECT dialpad_user_id, dialpad_name FROM dialpad_user_links WHERE user_id = ?1",
        &[i(uid)],
    )?
    .first(None)
    .await?;
    Ok(l.map(|l| (l.dialpad_user_id, l.dialpad_name)))
}

/// The Dialpad settings document (`db::settings::BodyRow`; no row: all off).
pub const SETTINGS: &str = "SELECT body FROM dialpad_settings WHERE id = 1";

/// Replaces the Dialpad settings document, by `by` at `now`.
pub fn save_settings(body: &str, by: &str, now: i64) -> Stmt {
    crate::db::settings::save_document("dialpad_settings", body, by, now)
}

/// A piece of the integration's state (`dialpad_state`, a JSON value under `key`; [`StateRow`]).
pub fn state(key: &str) -> Stmt {
    Stmt::new(
        "SELECT value FROM dialpad_state WHERE key = ?1",
        vec![key.into()],
    )
}

#[derive(Deserialize)]
pub struct StateRow {
    pub value: String,
}

/// Saves the state under `key` (`value`, a JSON text) at `now`.
pub fn save_state(key: &str, value: &str, now: i64) -> Stmt {
    Stmt::new(
        "INSERT INTO dialpad_state (key, value, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        vec![key.into(), value.into(), now.into()],
    )
}

/// The share link Dialpad gave for a call's recording or voicemail (`kind`), if one was kept
/// ([`LinkRow`]).
pub fn share_link(call_id: &str, kind: &str) -> Stmt {
    Stmt::new(
        "SELECT url FROM dialpad_share_links WHERE call_id = ?1 AND kind = ?2",
        vec![call_id.into(), kind.into()],
    )
}

#[derive(Deserialize)]
pub struct LinkRow {
    pub url: String,
}

/// Keeps a call's share link (the first one kept stays).
pub fn save_share_link(call_id: &str, kind: &str, url: &str, now: i64) -> Stmt {
    Stmt::new(
        "INSERT OR IGNORE INTO dialpad_share_links (call_id, kind, url, created_at) VALUES (?1, ?2, ?3, ?4)",
        vec![call_id.into(), kind.into(), url.into(), now.into()],
    )
}

/// Every account's link to a Dialpad user, as the API answers it (camelCase columns).
pub const LINKS: &str =
    "SELECT user_id AS userId, dialpad_user_id AS dialpadUserId, dialpad_name AS name \
     FROM dialpad_user_links ORDER BY user_id";

/// Unlinks the account `uid`.
pub fn unlink(uid: i64) -> Stmt {
    Stmt::new(
        "DELETE FROM dialpad_user_links WHERE user_id = ?1",
        vec![uid.into()],
    )
}

/// Links the account `uid` (if it exists: no row changed otherwise) to a Dialpad user.
pub fn link(uid: i64, dialpad_user_id: &str, name: &str, now: i64) -> Stmt {
    Stmt::new(
        "INSERT INTO dialpad_user_links (user_id, dialpad_user_id, dialpad_name, updated_at) \
         SELECT id, ?2, ?3, ?4 FROM users WHERE id = ?1 \
         ON CONFLICT (user_id) DO UPDATE SET dialpad_user_id = excluded.dialpad_user_id, \
         dialpad_name = excluded.dialpad_name, updated_at = excluded.updated_at",
        vec![uid.into(), dialpad_user_id.into(), name.into(), now.into()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_documents_save_with_the_statement_they_had() {
        let tail = " (id, body, updated_by, updated_at) VALUES (1, ?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at";
        let s = crate::db::settings::save_front_desk("{}", "a", 1);
        assert_eq!(s.sql, format!("INSERT INTO front_desk_settings{tail}"));
        assert_eq!(s.params, vec!["{}".into(), "a".into(), 1.into()]);
        let d = save_settings("{}", "a", 1);
        assert_eq!(d.sql, format!("INSERT INTO dialpad_settings{tail}"));
        assert_eq!(d.params, s.params);
    }
}
