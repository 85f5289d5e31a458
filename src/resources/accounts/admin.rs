//! アカウント: the admin's view of the user table. List, add (staff or admin, with a store),
//! change name / role / store, disable and enable, and reset a password (a generated one is
//! answered once and never stored in clear). Every change to an existing user ends all of
//! their sessions in the same D1 batch (token version bumped, session rows deleted) and tells
//! the hub, which closes their open sockets with 4001 before this answers. The rules on each
//! field are `domain::account`; hashing is `hashing` (WebCrypto), as at login.
use super::{auth, guard, hashing};
use crate::db::users::{self, ListedUser};
use crate::domain::account;
use crate::domain::error::ApiError;
use crate::domain::password;
use crate::domain::token::{Role, Session};
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use serde::Deserialize;
use serde_json::json;
use worker::{D1Database, Env, Request, Response};

const BODY_LIMIT: usize = 4096;

async fn listed(db: &D1Database, id: i64) -> ApiResult<ListedUser> {
    users::listed(id)
        .d1(db)?
        .first::<ListedUser>(None)
        .await?
        .map(ListedUser::with_store_ids)
        .ok_or(ApiError::NotFound)
}

/// `GET /api/users` — every account (never a password hash), admins first, then by login id.
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let rows: Vec<ListedUser> = users::list_all()
        .d1(&env.d1("DB")?)?
        .all()
        .await?
        .results::<ListedUser>()?
        .into_iter()
        .map(ListedUser::with_store_ids)
        .collect();
    Ok(http::json_response(200, &json!({ "users": rows }))?)
}

/// Every store of `set` exists (one bound JSON array, whatever the set's size).
async fn check_stores(db: &D1Database, set: &[i64]) -> ApiResult<()> {
    if set.is_empty() {
        return Ok(());
    }
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let found = crate::db::stores::count_of(set)
        .d1(db)?
        .first::<N>(None)
        .await?
        .map_or(0, |r| r.n);
    if found != set.len() as i64 {
        return Err(ApiError::bad(
            "unknown_store",
            "storeIds",
            "その店舗はありません",
        ));
    }
    Ok(())
}

/// Statements prepared for one D1 batch.
fn d1_all(db: &D1Database, stmts: Vec<db::Stmt>) -> ApiResult<Vec<worker::D1PreparedStatement>> {
    stmts.iter().map(|s| s.d1(db)).collect()
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
    /// Every store of the account (several stores per person); `storeId` alone means one.
    #[serde(default)]
    store_ids: Option<Vec<i64>>,
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
    let (primary, set) = account::store_set(body.store_id, body.store_ids.as_deref(), None)?;
    account::store_fits(role, primary)?;
    let (password, generated) = chosen_password(body.password)?;
    let db = env.d1("DB")?;
    check_stores(&db, &set).await?;
    let hash = hashed(&password).await?;
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let id = users::create(&users::NewUser {
        login: &login,
        name: &name,
        role: role.base(),
        org_role: role.org_role(),
        store: primary,
        password_hash: &hash,
        by: me.uid,
    })
    .d1(&db)?
    .first::<Id>(None)
    .await?
    .ok_or_else(|| ApiError::Conflict {
        code: "login_id_taken",
        message: format!("ログインID「{login}」は既に使われています"),
        current: None,
    })?
    .id;
    db.batch(d1_all(&db, users::set_stores(id, &set))?).await?;
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
    /// The account's stores, replacing the set (`storeId` then picks the first among them).
    #[serde(default)]
    store_ids: Option<Vec<i64>>,
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
    let (store, set) = match (&body.store_ids, body.store_id) {
        // The stores unchanged (and the first one too).
        (None, None) => (current.store_id, current.store_set()),
        // An older client moving the account: one store (or none), as before.
        (None, Some(one)) => account::store_set(one, None, None)?,
        (Some(ids), one) => account::store_set(one.flatten(), Some(ids), current.store_id)?,
    };
    account::store_fits(role, store)?;
    let disabled = body.disabled.unwrap_or(current.disabled != 0);
    if uid == me.uid && (disabled || role != Role::Admin) {
        return Err(ApiError::Conflict {
            code: "own_account",
            message: "自分のアカウントを無効化したり、権限を外したりはできません".into(),
            current: None,
        });
    }
    if body.store_id.is_some() || body.store_ids.is_some() {
        check_stores(&db, &set).await?;
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
    // The stores are rewritten only if the change applied (its version bump is the sign).
    let edit = users::UserEdit {
        name: &name,
        role: role.base(),
        org_role: role.org_role(),
        store,
        disabled,
        by: me.uid,
        still_admin,
        token_version: current.token_version,
    };
    let mut stmts = users::update(uid, &edit);
    stmts.extend(users::set_stores_if_updated(
        uid,
        &set,
        current.token_version,
    ));
    let batch = d1_all(&db, stmts)?;
    let results = db.batch(batch).await?;
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
    let change = users::set_password(uid, &hash, me.uid).d1(&db)?;
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
