//! `dialpad_user_links`: which Dialpad user an account is linked to.
use crate::platform::db::{self, i};
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
