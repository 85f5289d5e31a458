//! The Worker's secrets (the webhook's and the sessions' signing keys): read from the
//! environment, and refused when missing, short, a placeholder or shared, before anything is
//! served.
use crate::domain::error::ApiError;
use crate::platform::http::ApiResult;
use worker::Env;

/// Placeholders shipped in `.dev.vars.example`: a Worker started with one of them refuses to
/// serve (anyone who read the repository could sign tokens or webhooks).
const PLACEHOLDERS: &[&str] = &[
    "change-me-dialpad-webhook-secret-at-least-32-chars",
    "change-me-session-signing-secret-at-least-32-chars",
    "change-me-dialpad-webhook-secret",
    "change-me-session-signing-secret",
];
/// Shortest secret accepted (HS256 with a short key is brute-forceable offline).
pub const MIN_SECRET_CHARS: usize = 32;

fn raw_secret(env: &Env, name: &'static str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

/// What is wrong with the secrets, naming the setting (never its value): missing, shorter than
/// 32 characters, still the example's placeholder, or the session secret equal to the webhook
/// secret (then a webhook sender could mint console sessions).
pub fn check_secrets(env: &Env) -> ApiResult<()> {
    thread_local! {
        // Secrets and variables are fixed for an isolate's life (a change is a new deploy, so
        // a new isolate): once they passed, every later request of this isolate passes.
        static PASSED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if PASSED.with(|p| p.get()) {
        return Ok(());
    }
    check_secrets_now(env)?;
    PASSED.with(|p| p.set(true));
    Ok(())
}

fn check_secrets_now(env: &Env) -> ApiResult<()> {
    let webhook = raw_secret(env, "DIALPAD_WEBHOOK_SECRET");
    let jwt = raw_secret(env, "JWT_SECRET");
    for (name, v) in [("DIALPAD_WEBHOOK_SECRET", &webhook), ("JWT_SECRET", &jwt)] {
        match v {
            Some(v)
                if v.chars().count() >= MIN_SECRET_CHARS && !PLACEHOLDERS.contains(&v.as_str()) => {
            }
            _ => return Err(ApiError::Misconfigured(name)),
        }
    }
    if webhook == jwt {
        return Err(ApiError::Misconfigured("JWT_SECRET"));
    }
    Ok(())
}

pub fn secret(env: &Env, name: &'static str) -> ApiResult<String> {
    check_secrets(env)?;
    raw_secret(env, name).ok_or(ApiError::Misconfigured(name))
}
