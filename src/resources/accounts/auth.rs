//! Console authentication: login, logout, and resolving the caller of any API request.
//!
//! Transport of the session: a `__Host-` cookie, `HttpOnly; Secure; SameSite=Strict`, set at
//! login (the login response no longer carries the token). Each login is a row in D1's
//! `sessions`; the token names it, so a logout ends the token everywhere it was used. A
//! browser cannot put an Authorization header on a WebSocket, but it does send the cookie on a
//! same-origin upgrade, so the console and the popup authenticate their sockets with no token
//! in the URL (URLs end up in logs) and no token readable by scripts (XSS cannot steal it).
//! Cross-site socket hijacking is stopped by SameSite=Strict plus the Origin check below.
//! Scripts and tests may send the same token as `Authorization: Bearer` instead.
use super::{guard, hashing};
use crate::db::users;
use crate::domain::account;
use crate::domain::error::ApiError;
use crate::domain::limiter;
use crate::domain::messages::RevokeRequest;
use crate::domain::password;
use crate::domain::token::{self, Role, Session};
use crate::platform::batch::Coalescer;
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client;
use serde::Deserialize;
use worker::{Env, Method, Request, Response};

/// The session cookie. `__Host-`: the browser only accepts it `Secure`, with `Path=/` and no
/// `Domain`, so no sibling subdomain can set or overwrite it.
pub const SESSION_COOKIE: &str = "__Host-cti_session";

pub use crate::platform::secrets::{check_secrets, secret, MIN_SECRET_CHARS};

fn own_origin(req: &Request) -> Option<String> {
    crate::platform::url::origin(req)
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

/// The token a request carries: `Authorization: Bearer` (scripts, tests, other non-browser
/// clients, which read it from the login's `Set-Cookie`) or the session cookie (browsers).
fn token_of(req: &Request) -> Option<(String, bool)> {
    http::bearer(req)
        .map(|t| (t, false))
        .or_else(|| http::cookie(req, SESSION_COOKIE).map(|t| (t, true)))
}

type SessionRead = ApiResult<Option<(users::UserRow, i64)>>;

thread_local! {
    /// The session checks of this isolate's concurrent requests ([`authenticate`]).
    static SESSION_READS: Coalescer<(i64, String), SessionRead> = Coalescer::default();
}

/// The signed-in user behind a request, re-checked against D1 (the user row and the session
/// row) so that disabling a user, resetting a password, changing a role or store, and logging
/// out end their sessions at once.
pub async fn authenticate(req: &Request, env: &Env) -> ApiResult<(Session, i64)> {
    let (token, from_cookie) = token_of(req).ok_or(ApiError::Unauthenticated("not_logged_in"))?;
    if from_cookie && req.method() != Method::Get {
        // Cookie-authenticated writes must come from our own pages (CSRF defence in depth).
        check_origin(req, env)?;
    }
    let secret = secret(env, "JWT_SECRET")?;
    let now = http::now_ms() / 1000;
    let (claims, exp) = token::verify_session(&token, secret.as_bytes(), now)
        .map_err(|e| ApiError::Unauthenticated(e.code()))?;
    if claims.sid.is_empty() {
        return Err(ApiError::Unauthenticated("session_revoked"));
    }
    let db = env.d1("DB")?;
    // Read with the other requests' checks waiting at this moment (platform::batch): one D1
    // statement for a reconnect storm's hundred sockets instead of a hundred.
    let reads = SESSION_READS.with(Coalescer::clone);
    let read = |keys: Vec<(i64, String)>| {
        let db = &db;
        async move {
            match users::by_sessions(db, &keys, http::now_ms() / 1000).await {
                Ok(found) => found.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e); keys.len()],
            }
        }
    };
    let pause = || worker::Delay::from(std::time::Duration::from_millis(1));
    let (user, last_seen) = reads
        .get((claims.uid, claims.sid.clone()), read, pause)
        .await?
        .ok_or(ApiError::Unauthenticated("session_revoked"))?;
    if user.disabled != 0 || user.token_version != claims.tv {
        return Err(ApiError::Unauthenticated("session_revoked"));
    }
    // Activity keeps a session alive; a store PC left signed in overnight asks again. The
    // refresh is written at most every few minutes, not on every request.
    match token::idle_state(last_seen, now, idle_secs(env)) {
        token::Idle::Fresh => {}
        token::Idle::Touch => users::touch_session(&db, &claims.sid, now).await?,
        token::Idle::Expired => return Err(ApiError::Unauthenticated("session_idle")),
    }
    let session = user
        .session(claims.sid)
        .ok_or(ApiError::Unauthenticated("session_revoked"))?;
    Ok((session, exp))
}

/// The idle timeout in seconds: `SESSION_IDLE_SECS` (tests) or `SESSION_IDLE_MINUTES`
/// (default 12 h).
pub fn idle_secs(env: &Env) -> i64 {
    let var = |name: &str| env.var(name).ok().map(|v| v.to_string());
    token::idle_secs(
        var("SESSION_IDLE_SECS").as_deref(),
        var("SESSION_IDLE_MINUTES").as_deref(),
    )
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
        "id": s.uid, "loginId": s.login, "name": s.name, "role": s.role.as_str(), "storeId": s.store,
        "storeIds": s.store_set()
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody {
    login_id: String,
    password: String,
}

fn random_sid() -> ApiResult<String> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(password::to_hex(&b))
}

fn log_login(outcome: &str, pbkdf2: u32, iterations: u32) {
    worker::console_log!(
        "{}",
        serde_json::json!({"event": "login", "outcome": outcome, "pbkdf2": pbkdf2,
            "iterations": iterations})
    );
}

/// Whether the demo passwords may sign in: only where `ALLOW_DEMO_PASSWORDS` is `"true"`
/// (`.dev.vars` written by `npm start`, the test helper), never in a deployment.
fn demo_passwords_allowed(env: &Env) -> bool {
    env.var("ALLOW_DEMO_PASSWORDS")
        .map(|v| v.to_string() == "true")
        .unwrap_or(false)
}

/// The client network of a request (`CF-Connecting-IP`, see `limiter::network`).
pub fn client_network(req: &Request) -> ApiResult<String> {
    let ip = req
        .headers()
        .get("CF-Connecting-IP")?
        .unwrap_or_else(|| "unknown".into());
    Ok(limiter::network(&ip))
}

pub async fn login(mut req: Request, env: &Env) -> ApiResult<Response> {
    check_origin(&req, env)?;
    let body: LoginBody = http::read_json(&mut req, 4096).await?;
    // The same rule as at creation (characters, not bytes): see domain::account.
    let Some(login) = account::login_attempt(&body.login_id) else {
        return Err(ApiError::bad(
            "invalid_login_id",
            "loginId",
            "ログインIDを入力してください",
        ));
    };
    if body.password.is_empty() || body.password.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::bad(
            "invalid_password",
            "password",
            "パスワードを入力してください",
        ));
    }
    // The demo passwords are published: they sign in only in local development.
    if password::is_demo(&body.password) && !demo_passwords_allowed(env) {
        log_login("demo_password", 0, 0);
        return Err(ApiError::Forbidden("demo_password"));
    }
    let secret = secret(env, "JWT_SECRET")?;
    let network = client_network(&req)?;
    // Reserved before the (deliberately slow) hash: a refused attempt costs no CPU, and
    // parallel guesses cannot all slip in before the first failure is counted.
    if let Err(e) = guard::reserve(env, login, &network).await {
        log_login("throttled", 0, 0);
        return Err(e);
    }
    let db = env.d1("DB")?;
    let user = users::by_login(&db, login).await?;
    // An unknown id is checked against a constant hash with today's parameters: one
    // derivation either way, so the time taken does not tell whether the id exists.
    let stored_text = user
        .as_ref()
        .map_or(password::DUMMY_HASH, |u| u.password_hash.as_str())
        .to_string();
    let stored = password::parse(&stored_text)
        .or_else(|| password::parse(password::DUMMY_HASH))
        .ok_or(ApiError::InvalidCredentials)?;
    let ok = hashing::verify(&body.password, &stored).await;
    let user = match user {
        Some(u) if ok && u.disabled == 0 => u,
        // The right password of a disabled account: say so, so nobody retries in vain.
        Some(_) if ok => {
            crate::resources::audit::login_failed(&secret, login, &network, "account_disabled");
            return Err(ApiError::Forbidden("account_disabled"));
        }
        _ => {
            log_login("failed", 1, stored.iterations);
            crate::resources::audit::login_failed(&secret, login, &network, "invalid_credentials");
            return Err(ApiError::InvalidCredentials);
        }
    };
    // Successful logins are limited per account too (each one is a session row): a loop of
    // login/logout by one valid account is refused with 429 before it costs anything more.
    if let Err(e) = guard::succeeded(env, login, &network).await {
        log_login("throttled", 1, stored.iterations);
        return Err(e);
    }
    log_login("ok", 1, stored.iterations);
    if stored.needs_upgrade() {
        // Migration path: a hash made with fewer iterations than today's is replaced now that
        // the password is known to be right.
        if let Some(new) = hashing::hash(&body.password).await {
            users::upgrade_hash(&db, user.id, &stored_text, &new).await?;
        }
    }
    let sid = random_sid()?;
    let session = user.session(sid).ok_or(ApiError::InvalidCredentials)?;
    let now = http::now_ms() / 1000;
    let ttl = token::session_ttl(session.role);
    let expires = now + ttl;
    let evicted =
        users::create_session(&db, session.uid, &session.sid, now, expires, idle_secs(env)).await?;
    // Beyond the cap the oldest sessions were deleted: their open sockets close now.
    for sid in evicted {
        hub_client::revoke(
            env,
            &RevokeRequest {
                uid: session.uid,
                sid: Some(sid),
                user: None,
            },
        )
        .await?;
    }
    let token = token::issue_session(&session, secret.as_bytes(), now);
    crate::resources::audit::login_succeeded(&session, &secret, &network);
    // The token goes only into the HttpOnly cookie: page scripts never see it. Non-browser
    // clients read it from Set-Cookie and may send it as `Authorization: Bearer`.
    let resp = http::json_response(
        200,
        &serde_json::json!({
            "expiresAt": http::iso(expires * 1000),
            "user": user_json(&session),
        }),
    )?;
    resp.headers().set(
        "Set-Cookie",
        &format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={ttl}"
        ),
    )?;
    Ok(resp)
}

fn cleared() -> ApiResult<Response> {
    let resp = http::json_response(200, &serde_json::json!({ "ok": true }))?;
    resp.headers().set(
        "Set-Cookie",
        &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0"),
    )?;
    Ok(resp)
}

/// `POST /api/auth/logout`: ends this session server-side (the token stops working wherever
/// it was used, and its open sockets close with 4001), then clears the cookie. Without a
/// valid session it only clears the cookie.
pub async fn logout(req: Request, env: &Env) -> ApiResult<Response> {
    match authenticate(&req, env).await {
        Ok((s, _)) => {
            users::delete_session(&env.d1("DB")?, s.uid, &s.sid).await?;
            hub_client::revoke(
                env,
                &RevokeRequest {
                    uid: s.uid,
                    sid: Some(s.sid),
                    user: None,
                },
            )
            .await?;
            cleared()
        }
        Err(ApiError::Unauthenticated(_)) => cleared(),
        Err(e) => Err(e),
    }
}

/// Ends every session of user `uid` (with `change`, an admin's edit, in the same batch) and
/// closes all their sockets before answering; returns how many closed.
pub async fn end_everywhere(
    env: &Env,
    uid: i64,
    change: Option<worker::D1PreparedStatement>,
) -> ApiResult<u32> {
    users::end_all_sessions(&env.d1("DB")?, uid, change).await?;
    revoke_user(env, uid).await
}

/// Tells the hub what user `uid` is now (after a change in D1 that ended their sessions): it
/// closes their sockets that no longer fit, before this returns how many.
pub async fn revoke_user(env: &Env, uid: i64) -> ApiResult<u32> {
    let user = users::by_id(&env.d1("DB")?, uid)
        .await?
        .ok_or(ApiError::NotFound)?;
    let r = hub_client::revoke(
        env,
        &RevokeRequest {
            uid,
            sid: None,
            user: Some(user.state()),
        },
    )
    .await?;
    Ok(r.closed)
}

/// `POST /api/auth/logout-all`: 「すべての端末からログアウト」 for the signed-in user.
pub async fn logout_all(req: Request, env: &Env) -> ApiResult<Response> {
    let (s, _) = authenticate(&req, env).await?;
    end_everywhere(env, s.uid, None).await?;
    cleared()
}

/// `POST /api/users/{id}/logout-all`: an admin ends every session of another user.
pub async fn logout_user(req: Request, env: &Env, uid: i64) -> ApiResult<Response> {
    let me = require_admin(&req, env).await?;
    let closed = end_everywhere(env, uid, None).await?;
    crate::resources::audit::account_changed(
        &me,
        crate::resources::audit::Action::AccountLoggedOut,
        uid,
        "",
        &[],
    );
    Ok(http::json_response(
        200,
        &serde_json::json!({ "ok": true, "socketsClosed": closed }),
    )?)
}

pub async fn me(req: Request, env: &Env) -> ApiResult<Response> {
    let (s, exp) = authenticate(&req, env).await?;
    let mut u = user_json(&s);
    u["expiresAt"] = http::iso(exp * 1000).into();
    // The Dialpad user this account is linked to (アカウント): in 応答時 mode the console pops
    // only the calls that user answered.
    let link = crate::db::dialpad::linked(&env.d1("DB")?, s.uid).await?;
    u["dialpadUserId"] = link.map(|l| l.0).into();
    Ok(http::json_response(200, &serde_json::json!({ "user": u }))?)
}
