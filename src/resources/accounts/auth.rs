//! Console authentication: login, logout, and resolving the caller of any API request.
//!
//! Transport of the session: an `HttpOnly; Secure; SameSite=Strict` cookie set at login. A
//! browser cannot put an Authorization header on a WebSocket, but it does send the cookie on a
//! same-origin upgrade, so the console and the popup authenticate their sockets with no token
//! in the URL (URLs end up in logs) and no token readable by scripts (XSS cannot steal it).
//! Cross-site socket hijacking is stopped by SameSite=Strict plus the Origin check below.
//! Scripts and tests may send the same token as `Authorization: Bearer` instead.
use super::{guard, users};
use crate::domain::error::ApiError;
use crate::domain::password;
use crate::domain::token::{self, Role, Session};
use crate::platform::http::{self, ApiResult, SESSION_COOKIE};
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

pub fn secret(env: &Env, name: &'static str) -> ApiResult<String> {
    let v = env
        .secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .map_err(|_| ApiError::Misconfigured(name))?;
    if v.len() < 16 {
        // A short secret makes HS256 brute-forceable; refuse to run with one.
        return Err(ApiError::Misconfigured(name));
    }
    Ok(v)
}

fn own_origin(req: &Request) -> Option<String> {
    let url = req.url().ok()?;
    Some(url.origin().ascii_serialization())
}

/// Refuses a request whose `Origin` is another site. Browsers always send Origin on WebSocket
/// upgrades and cross-site POSTs; its absence means a non-browser client, which is fine.
pub fn check_origin(req: &Request, env: &Env) -> ApiResult<()> {
    let Some(origin) = req.headers().get("Origin")? else {
        return Ok(());
    };
    if Some(&origin) == own_origin(req).as_ref() {
        return Ok(());
    }
    let allowed = env
        .var("ALLOWED_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_default();
    if allowed.split(',').any(|a| a.trim() == origin) {
        return Ok(());
    }
    Err(ApiError::Forbidden("bad_origin"))
}

/// The signed-in user behind a request, re-checked against D1 so that disabling a user or
/// resetting a password ends their sessions at once.
pub async fn authenticate(req: &Request, env: &Env) -> ApiResult<(Session, i64)> {
    let from_cookie = http::cookie(req, SESSION_COOKIE);
    let token = http::bearer(req)
        .or_else(|| from_cookie.clone())
        .ok_or(ApiError::Unauthenticated("not_logged_in"))?;
    if from_cookie.is_some() && http::bearer(req).is_none() && req.method() != Method::Get {
        // Cookie-authenticated writes must come from our own pages (CSRF defence in depth).
        check_origin(req, env)?;
    }
    let secret = secret(env, "JWT_SECRET")?;
    let now = http::now_ms() / 1000;
    let (session, exp) = token::verify_session(&token, secret.as_bytes(), now)
        .map_err(|e| ApiError::Unauthenticated(e.code()))?;
    let user = users::by_id(&env.d1("DB")?, session.uid)
        .await?
        .ok_or(ApiError::Unauthenticated("session_revoked"))?;
    if user.disabled != 0 || user.token_version != session.tv {
        return Err(ApiError::Unauthenticated("session_revoked"));
    }
    let session = user
        .session()
        .ok_or(ApiError::Unauthenticated("session_revoked"))?;
    Ok((session, exp))
}

pub async fn require_admin(req: &Request, env: &Env) -> ApiResult<Session> {
    let (s, _) = authenticate(req, env).await?;
    if s.role != Role::Admin {
        return Err(ApiError::Forbidden("admin_only"));
    }
    Ok(s)
}

fn user_json(s: &Session) -> serde_json::Value {
    serde_json::json!({
        "id": s.uid, "loginId": s.login, "name": s.name, "role": s.role.as_str(), "storeId": s.store
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody {
    login_id: String,
    password: String,
}

pub async fn login(mut req: Request, env: &Env) -> ApiResult<Response> {
    check_origin(&req, env)?;
    let body: LoginBody = http::read_json(&mut req, 4096).await?;
    let login = body.login_id.trim();
    if login.is_empty() || login.len() > 64 {
        return Err(ApiError::bad(
            "invalid_login_id",
            "loginId",
            "ログインIDを入力してください",
        ));
    }
    if body.password.is_empty() || body.password.len() > 256 {
        return Err(ApiError::bad(
            "invalid_password",
            "password",
            "パスワードを入力してください",
        ));
    }
    let secret = secret(env, "JWT_SECRET")?;
    // Throttled before the (deliberately slow) hash, so a locked account costs no CPU.
    let ip = req
        .headers()
        .get("CF-Connecting-IP")?
        .unwrap_or_else(|| "unknown".into());
    let account_key = format!("acct:{}", login.to_lowercase());
    let keys = [account_key.clone(), format!("ip:{ip}")];
    guard::check(env, &keys).await?;
    let user = users::by_login(&env.d1("DB")?, login).await?;
    // Hash even for an unknown id so both failures take the same time.
    let stored = user
        .as_ref()
        .map_or_else(password::dummy_hash, |u| u.password_hash.clone());
    let ok = password::verify(&body.password, &stored);
    let user = match user {
        Some(u) if ok && u.disabled == 0 => u,
        // The right password of a disabled account: say so, so nobody retries in vain.
        Some(_) if ok => return Err(ApiError::Forbidden("account_disabled")),
        _ => {
            guard::failed(env, &keys).await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    guard::succeeded(env, &[account_key]).await?;
    let session = user.session().ok_or(ApiError::InvalidCredentials)?;
    let now = http::now_ms() / 1000;
    let token = token::issue_session(&session, secret.as_bytes(), now);
    let resp = http::json_response(
        200,
        &serde_json::json!({
            "token": token,
            "expiresAt": http::iso((now + token::SESSION_TTL_SECS) * 1000),
            "user": user_json(&session),
        }),
    )?;
    resp.headers().set(
        "Set-Cookie",
        &format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
            token::SESSION_TTL_SECS
        ),
    )?;
    Ok(resp)
}

pub fn logout() -> ApiResult<Response> {
    let resp = http::json_response(200, &serde_json::json!({ "ok": true }))?;
    resp.headers().set(
        "Set-Cookie",
        &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
    )?;
    Ok(resp)
}

pub async fn me(req: Request, env: &Env) -> ApiResult<Response> {
    let (s, exp) = authenticate(&req, env).await?;
    let mut u = user_json(&s);
    u["expiresAt"] = http::iso(exp * 1000).into();
    Ok(http::json_response(200, &serde_json::json!({ "user": u }))?)
}
