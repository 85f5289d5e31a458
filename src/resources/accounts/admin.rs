//! アカウント: the admin's view of the user table. List, add (staff or admin, with a store),
//! change name / role / store, disable and enable, and reset a password (a generated one is
//! answered once and never stored in clear). Every change to an existing user ends all of
//! their sessions in the same D1 batch (token version bumped, session rows deleted) and tells
//! the hub, which closes their open sockets with 4001 before this answers. The rules on each
//! field are `domain::account`; hashing is `hashing` (WebCrypto), as at login.
use super::{auth, guard, hashing};
use crate::db::users;
use crate::domain::account;
use crate::domain::error::ApiError;
use crate::domain::password;
use crate::domain::token::{Role, Session};
use crate::platform::db::{self, i, opt_i, s};
use crate::platform::http::{self, ApiResult};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{D1Database, Env, Request, Response};

const BODY_LIMIT: usize = 4096;

#[derive(Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
struct ListedUser {
    id: i64,
    login_id: String,
    name: String,
    role: String,
    store_id: Option<i64>,
    store_name: Option<String>,
    #[serde(with = "flag")]
    disabled: bool,
    created_at: String,
    updated_at: String,
    /// The login id of the admin who last changed this account (None: the CLI or the seed).
    updated_by: Option<String>,
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

const LIST_SQL: &str = "SELECT u.id, u.login_id, u.display_name AS name, u.role, u.store_id, \
  st.name AS store_name, u.disabled, u.created_at, u.updated_at, ub.login_id AS updated_by \
  FROM users u LEFT JOIN stores st ON st.id = u.store_id LEFT JOIN users ub ON ub.id = u.updated_by";

async fn listed(db: &D1Database, id: i64) -> ApiResult<ListedUser> {
    db::stmt(db, &format!("{LIST_SQL} WHERE u.id = ?1"), &[i(id)])?
        .first::<ListedUser>(None)
        .await?
        .ok_or(ApiError::NotFound)
}

/// `GET /api/users` — every account (never a password hash), admins first, then by login id.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let rows: Vec<ListedUser> = env
        .d1("DB")?
        .prepare(format!(
            "{LIST_SQL} ORDER BY u.role = 'staff', u.login_id COLLATE NOCASE"
        ))
        .all()
        .await?
        .results()?;
    Ok(http::json_response(200, &json!({ "users": rows }))?)
}

async fn check_store(db: &D1Database, store: Option<i64>) -> ApiResult<()> {
    let Some(id) = store else { return Ok(()) };
    let found = db::stmt(db, "SELECT id FROM stores WHERE id = ?1", &[i(id)])?
        .first::<serde_json::Value>(None)
        .await?;
    if found.is_none() {
        return Err(ApiError::bad(
            "unknown_store",
            "storeId",
            "その店舗はありません",
        ));
    }
    Ok(())
}

/// The password to set: the typed one (under the policy) or a generated one.
fn chosen_password(typed: Option<String>) -> ApiResult<(String, bool)> {
    match typed.filter(|p| !p.is_empty()) {
        Some(p) => {
            account::typed_password(&p)?;
            Ok((p, false))
        }
        None => Ok((
            account::generate().map_err(|e| ApiError::Unavailable(e.to_string()))?,
            true,
        )),
    }
}

async fn hashed(password: &str) -> ApiResult<String> {
    hashing::hash(password)
        .await
        .ok_or_else(|| ApiError::Unavailable("password hashing failed".into()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    login_id: String,
    #[serde(default)]
    name: Option<String>,
    role: String,
    #[serde(default)]
    store_id: Option<i64>,
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/users` — adds an account. Answers the account and, when none was typed, the
/// generated password (this once).
pub async fn create(mut req: Request, env: &Env) -> ApiResult<Response> {
    let me = auth::require_admin(&req, env).await?;
    let body: CreateBody = http::read_json(&mut req, BODY_LIMIT).await?;
    let login = account::login_id(&body.login_id)?;
    let name = match body
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) => account::display_name(n)?,
        None => login.clone(),
    };
    let role = account::role(&body.role)?;
    account::store_fits(role, body.store_id)?;
    let (password, generated) = chosen_password(body.password)?;
    let db = env.d1("DB")?;
    check_store(&db, body.store_id).await?;
    let hash = hashed(&password).await?;
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let id = db::stmt(
        &db,
        "INSERT INTO users (login_id, display_name, role, store_id, password_hash, updated_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (login_id) DO NOTHING RETURNING id",
        &[
            s(&login),
            s(&name),
            s(role.as_str()),
            opt_i(body.store_id),
            s(&hash),
            i(me.uid),
        ],
    )?
    .first::<Id>(None)
    .await?
    .ok_or_else(|| ApiError::Conflict {
        code: "login_id_taken",
        message: format!("ログインID「{login}」は既に使われています"),
        current: None,
    })?
    .id;
    let user = listed(&db, id).await?;
    crate::resources::audit::account_changed(
        &me,
        crate::resources::audit::Action::AccountCreated,
        id,
        &login,
        &[(true, role.as_str())],
    );
    Ok(http::json_response(
        201,
        &json!({ "user": user, "password": generated.then_some(password) }),
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default, with = "http::double_option")]
    store_id: Option<Option<i64>>,
    #[serde(default)]
    disabled: Option<bool>,
    /// The acting admin's own password: needed to change an admin's role.
    #[serde(default)]
    current_password: Option<String>,
}

/// `PATCH /api/users/{id}` — `{name?, role?, storeId?, disabled?, currentPassword?}`. An
/// admin cannot disable or demote their own account, no change may leave no enabled admin
/// (409 `last_admin`), and demoting an admin needs the acting admin's password.
pub async fn update(mut req: Request, env: &Env, uid: i64) -> ApiResult<Response> {
    let me = auth::require_admin(&req, env).await?;
    let body: UpdateBody = http::read_json(&mut req, BODY_LIMIT).await?;
    let db = env.d1("DB")?;
    let current = users::by_id(&db, uid).await?.ok_or(ApiError::NotFound)?;
    let name = match &body.name {
        Some(n) => account::display_name(n)?,
        None => current.display_name.clone(),
    };
    let role = match &body.role {
        Some(r) => account::role(r)?,
        None => account::role(&current.role)?,
    };
    let store = body.store_id.unwrap_or(current.store_id);
    account::store_fits(role, store)?;
    let disabled = body.disabled.unwrap_or(current.disabled != 0);
    if uid == me.uid && (disabled || role != Role::Admin) {
        return Err(ApiError::Conflict {
            code: "own_account",
            message: "自分のアカウントを無効化したり、権限を外したりはできません".into(),
            current: None,
        });
    }
    if body.store_id.is_some() {
        check_store(&db, store).await?;
    }
    if current.role == Role::Admin.as_str() && role != Role::Admin {
        // Taking an admin's rights away needs the acting admin's own password: a session
        // left open on a shared PC cannot demote the others.
        reauth(&req, env, &me, body.current_password.as_deref()).await?;
    }
    // One statement decides and writes: the change applies only if an enabled admin remains
    // afterwards (this account, or another one), so two admins disabling or demoting each
    // other at the same moment cannot both win. The token version is bumped in the same
    // statement, and the sessions are deleted in the same batch only if it applied.
    let still_admin = role == Role::Admin && !disabled;
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                "UPDATE users SET display_name = ?2, role = ?3, store_id = ?4, disabled = ?5, \
                 updated_by = ?6, token_version = token_version + 1, \
                 updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
                 WHERE id = ?1 AND (?7 OR EXISTS (SELECT 1 FROM users o WHERE o.id != ?1 \
                 AND o.role = 'admin' AND o.disabled = 0)) RETURNING id",
                &[
                    i(uid),
                    s(&name),
                    s(role.as_str()),
                    opt_i(store),
                    i(disabled as i64),
                    i(me.uid),
                    i(still_admin as i64),
                ],
            )?,
            db::stmt(
                &db,
                "DELETE FROM sessions WHERE user_id = ?1 \
                 AND (SELECT token_version FROM users WHERE id = ?1) > ?2",
                &[i(uid), i(current.token_version)],
            )?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Id {
        #[allow(dead_code)]
        id: i64,
    }
    let applied: Vec<Id> = match results.first() {
        Some(r) => r.results()?,
        None => Vec::new(),
    };
    if applied.is_empty() {
        users::by_id(&db, uid).await?.ok_or(ApiError::NotFound)?;
        return Err(ApiError::Conflict {
            code: "last_admin",
            message: "有効な管理者がいなくなるため、この変更はできません".into(),
            current: None,
        });
    }
    let closed = auth::revoke_user(env, uid).await?;
    crate::resources::audit::account_changed(
        &me,
        crate::resources::audit::Action::AccountUpdated,
        uid,
        &current.login_id,
        &[
            (body.name.is_some(), "名前"),
            (body.role.is_some(), "役割"),
            (body.store_id.is_some(), "店舗"),
            (body.disabled == Some(true), "無効にする"),
            (body.disabled == Some(false), "有効にする"),
        ],
    );
    Ok(http::json_response(
        200,
        &json!({ "user": listed(&db, uid).await?, "socketsClosed": closed }),
    )?)
}

/// The acting admin proves who they are again: `currentPassword` is their own password,
/// checked through the login guard (so it cannot be guessed through here either). Missing:
/// 403 `reauth_required`; wrong: 401 `invalid_credentials`.
async fn reauth(req: &Request, env: &Env, me: &Session, given: Option<&str>) -> ApiResult<()> {
    let Some(given) = given.filter(|p| !p.is_empty()) else {
        return Err(ApiError::Forbidden("reauth_required"));
    };
    if given.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::InvalidCredentials);
    }
    let network = auth::client_network(req)?;
    guard::reserve(env, &me.login, &network).await?;
    let db = env.d1("DB")?;
    let row = users::by_id(&db, me.uid)
        .await?
        .ok_or(ApiError::Unauthenticated("session_revoked"))?;
    let stored = password::parse(&row.password_hash).ok_or(ApiError::InvalidCredentials)?;
    if !hashing::verify(given, &stored).await {
        return Err(ApiError::InvalidCredentials);
    }
    guard::succeeded(env, &me.login, &network).await
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PasswordBody {
    #[serde(default)]
    password: Option<String>,
    /// The acting admin's own password: needed to reset another admin's password.
    #[serde(default)]
    current_password: Option<String>,
}

/// `POST /api/users/{id}/password` — sets a new password (typed, under the policy, or
/// generated) and ends the user's sessions. A generated password is in this answer only.
/// Another admin's password needs the acting admin's own (`currentPassword`).
pub async fn reset_password(mut req: Request, env: &Env, uid: i64) -> ApiResult<Response> {
    let me = auth::require_admin(&req, env).await?;
    let raw = http::read_body(&mut req, BODY_LIMIT).await?;
    let body: PasswordBody = if raw.iter().all(u8::is_ascii_whitespace) {
        PasswordBody::default()
    } else {
        serde_json::from_slice(&raw).map_err(|e| ApiError::BadRequest {
            code: "invalid_json",
            field: None,
            message: format!("request body is not the expected JSON: {e}"),
        })?
    };
    let db = env.d1("DB")?;
    let target = users::by_id(&db, uid).await?.ok_or(ApiError::NotFound)?;
    let (password, generated) = chosen_password(body.password)?;
    if target.role == Role::Admin.as_str() && uid != me.uid {
        reauth(&req, env, &me, body.current_password.as_deref()).await?;
    }
    let hash = hashed(&password).await?;
    let change = db::stmt(
        &db,
        "UPDATE users SET password_hash = ?2, updated_by = ?3 WHERE id = ?1",
        &[i(uid), s(&hash), i(me.uid)],
    )?;
    let closed = auth::end_everywhere(env, uid, Some(change)).await?;
    crate::resources::audit::account_changed(
        &me,
        crate::resources::audit::Action::PasswordReset,
        uid,
        &target.login_id,
        &[(generated, "自動生成")],
    );
    Ok(http::json_response(
        200,
        &json!({
            "ok": true,
            "password": generated.then_some(password),
            "socketsClosed": closed,
        }),
    )?)
}
