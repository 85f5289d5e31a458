//! アカウント: the admin's view of the user table. List, add (staff or admin, with a store),
//! change name / role / store, disable and enable, and reset a password (a generated one is
//! answered once and never stored in clear). Every change to an existing user ends all of
//! their sessions in the same D1 batch (token version bumped, session rows deleted) and tells
//! the hub, which closes their open sockets with 4001 before this answers. The rules on each
//! field are `domain::account`; hashing is `hashing` (WebCrypto), as at login.
use super::{auth, hashing, users};
use crate::domain::account;
use crate::domain::error::ApiError;
use crate::domain::token::Role;
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
  st.name AS store_name, u.disabled, u.created_at, u.updated_at \
  FROM users u LEFT JOIN stores st ON st.id = u.store_id";

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
    auth::require_admin(&req, env).await?;
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
        "INSERT INTO users (login_id, display_name, role, store_id, password_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (login_id) DO NOTHING RETURNING id",
        &[
            s(&login),
            s(&name),
            s(role.as_str()),
            opt_i(body.store_id),
            s(&hash),
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
}

/// `PATCH /api/users/{id}` — `{name?, role?, storeId?, disabled?}`. An admin cannot disable
/// or demote their own account (the last admin would lock everyone out).
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
    let change = db::stmt(
        &db,
        "UPDATE users SET display_name = ?2, role = ?3, store_id = ?4, disabled = ?5 WHERE id = ?1",
        &[
            i(uid),
            s(&name),
            s(role.as_str()),
            opt_i(store),
            i(disabled as i64),
        ],
    )?;
    let closed = auth::end_everywhere(env, uid, Some(change)).await?;
    Ok(http::json_response(
        200,
        &json!({ "user": listed(&db, uid).await?, "socketsClosed": closed }),
    )?)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PasswordBody {
    #[serde(default)]
    password: Option<String>,
}

/// `POST /api/users/{id}/password` — sets a new password (typed, under the policy, or
/// generated) and ends the user's sessions. A generated password is in this answer only.
pub async fn reset_password(mut req: Request, env: &Env, uid: i64) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
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
    users::by_id(&db, uid).await?.ok_or(ApiError::NotFound)?;
    let (password, generated) = chosen_password(body.password)?;
    let hash = hashed(&password).await?;
    let change = db::stmt(
        &db,
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        &[i(uid), s(&hash)],
    )?;
    let closed = auth::end_everywhere(env, uid, Some(change)).await?;
    Ok(http::json_response(
        200,
        &json!({
            "ok": true,
            "password": generated.then_some(password),
            "socketsClosed": closed,
        }),
    )?)
}
