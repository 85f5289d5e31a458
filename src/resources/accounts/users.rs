//! The user rows behind sessions.
use crate::domain::token::{Role, Session};
use crate::platform::db::{self, i, s};
use crate::platform::http::ApiResult;
use serde::Deserialize;
use worker::D1Database;

#[derive(Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub login_id: String,
    pub display_name: String,
    pub role: String,
    pub store_id: Option<i64>,
    pub password_hash: String,
    pub token_version: i64,
    pub disabled: i64,
}

impl UserRow {
    /// The session this account gets (None when its role is unknown).
    pub fn session(self) -> Option<Session> {
        Some(Session {
            role: Role::parse(&self.role)?,
            uid: self.id,
            login: self.login_id,
            name: self.display_name,
            store: self.store_id,
            tv: self.token_version,
        })
    }
}

const USER_SELECT: &str = "SELECT id, login_id, display_name, role, store_id, password_hash, \
  token_version, disabled FROM users";

pub async fn by_login(db: &D1Database, login: &str) -> ApiResult<Option<UserRow>> {
    Ok(db::stmt(
        db,
        &format!("{USER_SELECT} WHERE login_id = ?1"),
        &[s(login)],
    )?
    .first::<UserRow>(None)
    .await?)
}

pub async fn by_id(db: &D1Database, id: i64) -> ApiResult<Option<UserRow>> {
    Ok(
        db::stmt(db, &format!("{USER_SELECT} WHERE id = ?1"), &[i(id)])?
            .first::<UserRow>(None)
            .await?,
    )
}
