//! The user rows behind sessions, and the sessions themselves (`sessions`, one row per login).
use crate::domain::access::Viewer;
use crate::domain::messages::UserState;
use crate::domain::token::{self, Role, Session};
use crate::platform::db::{self, i, s, Stmt, Val};
use crate::platform::http::ApiResult;
use serde::{Deserialize, Serialize};
use worker::D1Database;

#[derive(Deserialize, Clone)]
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
    crate::domain::token::store_set(
        stores
            .and_then(|j| serde_json::from_str::<Vec<Option<i64>>>(j).ok())
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .chain(store_id),
    )
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

/// For each `(uid, sid)`, in order, the user of that live session and when it was last used:
/// `None` when the session was logged out, expired or belongs to someone else (the idle
/// timeout is the caller's: it says so). One statement for them all, keyed (the sessions'
/// primary key and their users'): the concurrent requests' checks that `auth::authenticate`
/// coalesces.
pub async fn by_sessions(
    db: &D1Database,
    keys: &[(i64, String)],
    now_secs: i64,
) -> ApiResult<Vec<Option<(UserRow, i64)>>> {
    #[derive(Deserialize)]
    struct Both {
        #[serde(flatten)]
        user: UserRow,
        sid: String,
        last_seen: i64,
    }
    let rows: Vec<Both> = db::stmt(
        db,
        &format!(
            "SELECT u.id, u.login_id, u.display_name, coalesce(u.org_role, u.role) AS role, u.store_id, u.password_hash, \
             u.token_version, u.disabled, {STORES_OF_U}, s.id AS sid, s.last_seen FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.id IN (SELECT json_extract(value, '$[1]') FROM json_each(?1)) AND s.expires_at > ?2"
        ),
        &[db::json(keys), i(now_secs)],
    )?
    .all()
    .await?
    .results()?;
    Ok(keys
        .iter()
        .map(|(uid, sid)| {
            rows.iter()
                .find(|r| r.sid == *sid && r.user.id == *uid)
                .map(|r| (r.user.clone(), r.last_seen))
        })
        .collect())
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

/// An account as アカウント lists it (never a password hash).
#[derive(Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct ListedUser {
    pub id: i64,
    pub login_id: String,
    pub name: String,
    pub role: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// Every store of the account (`user_stores`, `store_id` included), as D1 answers it.
    #[serde(skip_serializing, default)]
    pub stores: Option<String>,
    /// The same, as the list answers it ([`ListedUser::with_store_ids`]).
    #[serde(skip_deserializing, default)]
    pub store_ids: Vec<i64>,
    #[serde(with = "flag")]
    pub disabled: bool,
    pub created_at: String,
    pub updated_at: String,
    /// The login id of the admin who last changed this account (None: the CLI or the seed).
    pub updated_by: Option<String>,
}

impl ListedUser {
    pub fn with_store_ids(mut self) -> Self {
        self.store_ids = store_set(self.store_id, self.stores.as_deref());
        self
    }
}

/// D1 answers booleans as 0/1.
mod flag {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(i64::deserialize(d)? != 0)
    }
    pub fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*v)
    }
}

fn list_sql() -> String {
    format!(
        "SELECT u.id, u.login_id, u.display_name AS name, coalesce(u.org_role, u.role) AS role, u.store_id, \
         st.name AS store_name, {}, u.disabled, u.created_at, u.updated_at, \
         ub.login_id AS updated_by FROM users u LEFT JOIN stores st ON st.id = u.store_id \
         LEFT JOIN users ub ON ub.id = u.updated_by",
        STORES_OF_U
    )
}

/// One account as listed ([`ListedUser`]).
pub fn listed(id: i64) -> Stmt {
    Stmt::new(format!("{} WHERE u.id = ?1", list_sql()), vec![id.into()])
}

/// Every account as listed: admins first, then by login id.
pub fn list_all() -> Stmt {
    Stmt::new(
        format!(
            "{} ORDER BY u.role = 'staff', u.org_role IS NOT NULL, u.login_id COLLATE NOCASE",
            list_sql()
        ),
        vec![],
    )
}

/// Replaces the account's stores by `set` (`user_stores`) when `applied` (bound at ?3, a
/// statement's condition) holds.
fn write_stores(uid: i64, set: &[i64], applied: &str, applied_arg: i64) -> Vec<Stmt> {
    vec![
        Stmt::new(
            format!("DELETE FROM user_stores WHERE user_id = ?1 AND {applied}"),
            vec![uid.into(), Val::Null, applied_arg.into()],
        ),
        Stmt::new(
            format!(
                "INSERT INTO user_stores (user_id, store_id) \
                 SELECT ?1, value FROM json_each(?2) WHERE {applied}"
            ),
            vec![uid.into(), db::json(set), applied_arg.into()],
        ),
    ]
}

/// The stores of a new account.
pub fn set_stores(uid: i64, set: &[i64]) -> Vec<Stmt> {
    write_stores(uid, set, "?3 = ?3", 0)
}

/// The stores of an edited account, rewritten only if the edit ([`update`]) applied: its
/// token version is past `token_version` (in the same batch).
pub fn set_stores_if_updated(uid: i64, set: &[i64], token_version: i64) -> Vec<Stmt> {
    write_stores(
        uid,
        set,
        "(SELECT token_version FROM users WHERE id = ?1) > ?3",
        token_version,
    )
}

/// A new account (no row returned: the login id is taken), with the fields the handler
/// validated; returns its `id`.
pub struct NewUser<'a> {
    pub login: &'a str,
    pub name: &'a str,
    /// `role.base()` and `role.org_role()`.
    pub role: &'a str,
    pub org_role: Option<&'a str>,
    pub store: Option<i64>,
    pub password_hash: &'a str,
    pub by: i64,
}

pub fn create(u: &NewUser) -> Stmt {
    Stmt::new(
        "INSERT INTO users (login_id, display_name, role, org_role, store_id, password_hash, \
         updated_by) VALUES (?1, ?2, ?3, ?7, ?4, ?5, ?6) ON CONFLICT (login_id) DO NOTHING \
         RETURNING id",
        vec![
            u.login.into(),
            u.name.into(),
            u.role.into(),
            u.store.into(),
            u.password_hash.into(),
            u.by.into(),
            u.org_role.into(),
        ],
    )
}

/// An edit of an account, validated by the handler.
pub struct UserEdit<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub org_role: Option<&'a str>,
    pub store: Option<i64>,
    pub disabled: bool,
    pub by: i64,
    /// The account stays an enabled admin: the edit may apply whoever else is one.
    pub still_admin: bool,
    /// The token version read with the account: its sessions are deleted only if the edit
    /// applied (and bumped it).
    pub token_version: i64,
}

/// One statement decides and writes: the edit applies only if an enabled admin remains
/// afterwards (this account, or another one), and bumps the token version (returns `id`
/// when it applied); then the account's sessions are deleted, if it applied.
pub fn update(uid: i64, e: &UserEdit) -> Vec<Stmt> {
    vec![
        Stmt::new(
            "UPDATE users SET display_name = ?2, role = ?3, org_role = ?8, store_id = ?4, disabled = ?5, \
                 updated_by = ?6, token_version = token_version + 1, \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                 WHERE id = ?1 AND (?7 OR EXISTS (SELECT 1 FROM users o WHERE o.id != ?1 \
                 AND o.role = 'admin' AND o.disabled = 0)) RETURNING id",
            vec![
                uid.into(),
                e.name.into(),
                e.role.into(),
                e.store.into(),
                (e.disabled as i64).into(),
                e.by.into(),
                (e.still_admin as i64).into(),
                e.org_role.into(),
            ],
        ),
        Stmt::new(
            "DELETE FROM sessions WHERE user_id = ?1 \
                 AND (SELECT token_version FROM users WHERE id = ?1) > ?2",
            vec![uid.into(), e.token_version.into()],
        ),
    ]
}

/// A new password hash for the account, set by `by`.
pub fn set_password(uid: i64, hash: &str, by: i64) -> Stmt {
    Stmt::new(
        "UPDATE users SET password_hash = ?2, updated_by = ?3 WHERE id = ?1",
        vec![uid.into(), hash.into(), by.into()],
    )
}
