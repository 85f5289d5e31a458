//! The user rows behind sessions, and the sessions themselves (`sessions`, one row per login).
use crate::domain::access::Viewer;
use crate::domain::messages::UserState;
use crate::domain::token::{self, Role, Session};
use crate::platform::db::{self, i, s, Stmt};
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
    /// The account's stores (`user_stores`) as a JSON array.
    #[serde(default)]
    pub stores: Option<String>,
}

impl UserRow {
    /// The session this account gets (None when its role is unknown).
    pub fn session(self, sid: String) -> Option<Session> {
        let stores = self.store_set();
        Some(Session {
            role: Role::parse(&self.role)?,
            uid: self.id,
            login: self.login_id,
            name: self.display_name,
            store: self.store_id,
            stores,
            tv: self.token_version,
            sid,
        })
    }

    /// Every store of the account: `user_stores` and `store_id` together, ascending.
    pub fn store_set(&self) -> Vec<i64> {
        store_set(self.store_id, self.stores.as_deref())
    }

    /// What the hub needs to know about this user.
    pub fn state(&self) -> UserState {
        UserState {
            uid: self.id,
            tv: self.token_version,
            disabled: self.disabled != 0,
            role: Role::parse(&self.role),
            store: self.store_id,
        }
    }
}

/// An account's stores from its row: `store_id` and the JSON array of [`STORES_OF_U`].
pub fn store_set(store_id: Option<i64>, stores: Option<&str>) -> Vec<i64> {
    let mut set: Vec<i64> = stores
        .and_then(|j| serde_json::from_str::<Vec<Option<i64>>>(j).ok())
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .chain(store_id)
        .collect();
    set.sort_unstable();
    set.dedup();
    set
}

/// What another account (an assignee) may see, from its row; None for an unknown role.
pub fn viewer_of(role: &str, store_id: Option<i64>, stores: Option<&str>) -> Option<Viewer> {
    Some(Viewer::new(Role::parse(role)?, store_set(store_id, stores)))
}

/// The stores of the user row aliased `u`, as one JSON array.
pub const STORES_OF_U: &str =
    "(SELECT json_group_array(us.store_id) FROM user_stores us WHERE us.user_id = u.id) AS stores";

fn user_select() -> String {
    format!(
        "SELECT u.id, u.login_id, u.display_name, coalesce(u.org_role, u.role) AS role, u.store_id, u.password_hash, \
         u.token_version, u.disabled, {STORES_OF_U} FROM users u"
    )
}

pub async fn by_login(db: &D1Database, login: &str) -> ApiResult<Option<UserRow>> {
    Ok(db::stmt(
        db,
        &format!("{} WHERE u.login_id = ?1", user_select()),
        &[s(login)],
    )?
    .first::<UserRow>(None)
    .await?)
}

pub async fn by_id(db: &D1Database, id: i64) -> ApiResult<Option<UserRow>> {
    Ok(
        db::stmt(db, &format!("{} WHERE u.id = ?1", user_select()), &[i(id)])?
            .first::<UserRow>(None)
            .await?,
    )
}

/// The user of a live session and when it was last used: `None` when the session was logged
/// out, expired or belongs to someone else (the idle timeout is the caller's: it says so). One
/// keyed read (the session's primary key and the user's).
pub async fn by_session(
    db: &D1Database,
    uid: i64,
    sid: &str,
    now_secs: i64,
) -> ApiResult<Option<(UserRow, i64)>> {
    #[derive(Deserialize)]
    struct Seen {
        last_seen: i64,
    }
    #[derive(Deserialize)]
    struct Both {
        #[serde(flatten)]
        user: UserRow,
        #[serde(flatten)]
        seen: Seen,
    }
    Ok(db::stmt(
        db,
        &format!(
            "SELECT u.id, u.login_id, u.display_name, coalesce(u.org_role, u.role) AS role, u.store_id, u.password_hash, \
             u.token_version, u.disabled, {STORES_OF_U}, s.last_seen FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.id = ?2 AND s.user_id = ?1 AND s.expires_at > ?3"
        ),
        &[i(uid), s(sid), i(now_secs)],
    )?
    .first::<Both>(None)
    .await?
    .map(|b| (b.user, b.seen.last_seen)))
}

/// Records that the session was used now (at most every few minutes: `token::idle_state`).
pub async fn touch_session(db: &D1Database, sid: &str, now_secs: i64) -> ApiResult<()> {
    db::stmt(
        db,
        "UPDATE sessions SET last_seen = ?2 WHERE id = ?1 AND last_seen < ?2",
        &[s(sid), i(now_secs)],
    )?
    .run()
    .await?;
    Ok(())
}

/// Records a new session, forgets the user's expired and idle ones, and evicts the oldest
/// beyond `token::MAX_SESSIONS_PER_USER`, in one batch. Returns the evicted sessions' ids
/// (their sockets are to be closed).
pub async fn create_session(
    db: &D1Database,
    uid: i64,
    sid: &str,
    now_secs: i64,
    expires_at: i64,
    idle: i64,
) -> ApiResult<Vec<String>> {
    #[derive(Deserialize)]
    struct Sid {
        id: String,
    }
    let results = db
        .batch(vec![
            db::stmt(
                db,
                "DELETE FROM sessions WHERE user_id = ?1 AND (expires_at <= ?2 OR last_seen <= ?3)",
                &[i(uid), i(now_secs), i(now_secs - idle)],
            )?,
            db::stmt(
                db,
                "INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen) \
                 VALUES (?1, ?2, ?3, ?4, ?3)",
                &[s(sid), i(uid), i(now_secs), i(expires_at)],
            )?,
            db::stmt(
                db,
                "DELETE FROM sessions WHERE user_id = ?1 AND id NOT IN (SELECT id FROM sessions \
                 WHERE user_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2) RETURNING id",
                &[i(uid), i(token::MAX_SESSIONS_PER_USER as i64)],
            )?,
        ])
        .await?;
    let evicted: Vec<Sid> = match results.last() {
        Some(r) => r.results()?,
        None => Vec::new(),
    };
    Ok(evicted.into_iter().map(|s| s.id).collect())
}

/// The daily cron: deletes every expired or idle session (through `sessions_expires`, and
/// `last_seen` on what is left). Returns how many.
pub async fn prune_sessions(db: &D1Database, now_secs: i64, idle: i64) -> ApiResult<u64> {
    let r = db::stmt(
        db,
        "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen <= ?2",
        &[i(now_secs), i(now_secs - idle)],
    )?
    .run()
    .await?;
    Ok(r.meta()?.and_then(|m| m.changes).unwrap_or(0) as u64)
}

pub async fn delete_session(db: &D1Database, uid: i64, sid: &str) -> ApiResult<()> {
    db::stmt(
        db,
        "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2",
        &[s(sid), i(uid)],
    )?
    .run()
    .await?;
    Ok(())
}

/// Ends every session of the user: deletes them and bumps the token version (so a token
/// whose row somehow survived is refused too), in one batch with `change` (an admin's edit of
/// the user) when there is one.
pub async fn end_all_sessions(
    db: &D1Database,
    uid: i64,
    change: Option<worker::D1PreparedStatement>,
) -> ApiResult<()> {
    let mut batch: Vec<worker::D1PreparedStatement> = change.into_iter().collect();
    batch.extend([
        db::stmt(
            db,
            "UPDATE users SET token_version = token_version + 1, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            &[i(uid)],
        )?,
        db::stmt(db, "DELETE FROM sessions WHERE user_id = ?1", &[i(uid)])?,
    ]);
    db.batch(batch).await?;
    Ok(())
}

/// Replaces a password hash (a login upgrading an old hash), unless it changed meanwhile.
pub async fn upgrade_hash(db: &D1Database, uid: i64, old: &str, new: &str) -> ApiResult<()> {
    db::stmt(
        db,
        "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
        &[i(uid), s(old), s(new)],
    )?
    .run()
    .await?;
    Ok(())
}

/// The users among `uids` with their live (not expired, not idle for `idle` seconds) sessions
/// among `sids`: the hub's periodic re-check, keyed by the sessions' primary key.
pub async fn states(
    db: &D1Database,
    uids: &[i64],
    sids: &[String],
    now_secs: i64,
    idle: i64,
) -> ApiResult<(Vec<UserState>, Vec<String>)> {
    let users: Vec<UserRow> = db::stmt(
        db,
        &format!(
            "{} WHERE u.id IN (SELECT value FROM json_each(?1))",
            user_select()
        ),
        &[db::json(uids)],
    )?
    .all()
    .await?
    .results()?;
    #[derive(Deserialize)]
    struct Sid {
        id: String,
    }
    let live: Vec<Sid> = db::stmt(
        db,
        "SELECT id FROM sessions WHERE id IN (SELECT value FROM json_each(?1)) AND expires_at > ?2 \
         AND last_seen > ?3",
        &[db::json(sids), i(now_secs), i(now_secs - idle)],
    )?
    .all()
    .await?
    .results()?;
    Ok((
        users.iter().map(UserRow::state).collect(),
        live.into_iter().map(|s| s.id).collect(),
    ))
}

/// The active accounts an item (折り返し) may be assigned to, by name ([`Assignable`]); the
/// handler keeps those who may see the item's store.
pub fn assignable() -> Stmt {
    Stmt::new(
        format!(
            "SELECT u.id, u.display_name AS name, coalesce(u.org_role, u.role) AS role, u.store_id, {} FROM users u \
                 WHERE u.disabled = 0 ORDER BY u.display_name, u.id LIMIT 500",
            STORES_OF_U
        ),
        vec![],
    )
}

#[derive(Deserialize)]
pub struct Assignable {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub store_id: Option<i64>,
    pub stores: Option<String>,
}

/// An active account's role and stores ([`RoleRow`]), to check it as an assignee.
pub fn active_role(uid: Option<i64>) -> Stmt {
    Stmt::new(
        format!(
            "SELECT coalesce(u.org_role, u.role) AS role, u.store_id, {} FROM users u WHERE u.id = ?1 AND u.disabled = 0",
            STORES_OF_U
        ),
        vec![uid.into()],
    )
}

#[derive(Deserialize)]
pub struct RoleRow {
    pub role: String,
    pub store_id: Option<i64>,
    pub stores: Option<String>,
}
