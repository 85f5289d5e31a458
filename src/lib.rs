//! Edge CTI: Dialpad call webhooks -> this Worker -> a Durable Object hub -> staff browsers.
//!
//! Pure logic (tokens, events, phones, prefixes, passwords, messages, errors) lives in modules
//! that never touch `worker` types and is unit-tested natively. The rest are thin adapters.
pub mod csv;
pub mod dialpad;
pub mod error;
pub mod limiter;
pub mod messages;
pub mod password;
pub mod phone;
pub mod prefix;
pub mod retention;
pub mod token;

mod auth;
mod customers;
mod db;
mod guard;
mod http;
mod hub;
mod records;
mod webhook;

pub use guard::Guard;
pub use hub::Hub;

use error::ApiError;
use http::ApiResult;
use messages::SocketInfo;
use worker::{event, Context, Env, Method, Request, Response};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let path = req.path();
    if path.starts_with("/api/") {
        let req = match buffered(req).await {
            Ok(r) => r,
            Err(e) => return http::respond(Err(e)),
        };
        let method = req.method();
        let result = api(req, &env).await;
        if let Err(e) = &result {
            // Webhook rejections are logged by the webhook handler with their timing.
            if path != "/api/dialpad/webhook" && e.status() < 500 {
                worker::console_log!(
                    "{}",
                    serde_json::json!({"event": "request_rejected", "method": method.to_string(),
                        "path": path, "status": e.status(), "code": e.code()})
                );
            }
        }
        return http::respond(result);
    }
    if path == "/" || path == "/admin" {
        let mut url = req.url()?;
        url.set_path("/admin/");
        url.set_query(None);
        return Response::redirect_with_status(url, 302);
    }
    let resp = env.assets("ASSETS")?.fetch_request(req).await?;
    http::with_security_headers(resp)
}

/// Largest API request body (a CSV import); webhooks have their own, smaller limit.
const MAX_API_BODY: usize = 5 * 1024 * 1024;

/// Reads a request's body before routing. A handler that answers early (401, 403, 404, 405)
/// without reading the body would otherwise leave it unread, and workerd then resets the
/// client's keep-alive connection, failing that client's *next* request.
async fn buffered(mut req: Request) -> ApiResult<Request> {
    if matches!(req.method(), Method::Get | Method::Head | Method::Options) {
        return Ok(req);
    }
    let body = http::read_body(&mut req, MAX_API_BODY).await?;
    let mut init = worker::RequestInit::new();
    init.with_method(req.method())
        .with_headers(req.headers().clone());
    if !body.is_empty() {
        init.with_body(Some(
            worker::js_sys::Uint8Array::from(body.as_slice()).into(),
        ));
    }
    Ok(Request::new_with_init(req.url()?.as_str(), &init)?)
}

async fn api(req: Request, env: &Env) -> ApiResult<Response> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(2).collect();
    // Routes with an id in the path.
    match (req.method(), segments.as_slice()) {
        (Method::Get, ["customers", id]) if *id != "lookup" && *id != "export" => {
            return records::detail(req, env, id).await
        }
        (Method::Patch, ["customers", id]) => return records::update(req, env, id).await,
        (Method::Delete, ["customers", id]) => return records::delete(req, env, id).await,
        (Method::Get | Method::Post, ["customers", id, "notes"]) => {
            return records::notes(req, env, id).await
        }
        (Method::Patch, ["stores", id]) => return records::update_store(req, env, id).await,
        (Method::Delete, ["stores", id]) => return records::delete_store(req, env, id).await,
        (_, ["customers", _] | ["customers", _, "notes"] | ["stores", _])
            if !matches!(
                segments.as_slice(),
                ["customers", "lookup" | "export" | "import"] | ["stores", "resolve"]
            ) =>
        {
            return Err(ApiError::MethodNotAllowed)
        }
        _ => {}
    }
    match (req.method(), path.as_str()) {
        (Method::Post, "/api/dialpad/webhook") => webhook::webhook(req, env).await,
        (Method::Post, "/api/dialpad/test-call") => webhook::test_call(req, env).await,
        (Method::Post, "/api/auth/login") => auth::login(req, env).await,
        (Method::Post, "/api/auth/logout") => auth::logout(),
        (Method::Get, "/api/auth/me") => auth::me(req, env).await,
        (Method::Get, "/api/cti/socket") => socket(req, env).await,
        (Method::Get, "/api/customers/lookup") => customers::lookup(req, env).await,
        (Method::Post, "/api/customers") => customers::create(req, env).await,
        (Method::Get, "/api/calls/recent") => customers::recent(req, env).await,
        (Method::Get, "/api/stores") => customers::stores(req, env).await,
        (Method::Post, "/api/stores") => records::create_store(req, env).await,
        (Method::Get, "/api/stores/resolve") => records::resolve_store(req, env).await,
        (Method::Get, "/api/customers") => records::search(req, env).await,
        (Method::Post, "/api/customers/import") => records::import(req, env).await,
        (Method::Get, "/api/customers/export") => records::export(req, env).await,
        (Method::Get, "/api/calls") => records::call_log(req, env).await,
        (Method::Get, "/api/health") => health(env).await,
        (
            _,
            "/api/dialpad/webhook"
            | "/api/dialpad/test-call"
            | "/api/auth/login"
            | "/api/auth/logout"
            | "/api/auth/me"
            | "/api/cti/socket"
            | "/api/customers/lookup"
            | "/api/customers"
            | "/api/calls/recent"
            | "/api/stores"
            | "/api/health",
        ) => Err(ApiError::MethodNotAllowed),
        _ => Err(ApiError::NotFound),
    }
}

/// `GET /api/cti/socket` — the console's and the popup's live channel. Authenticated and
/// origin-checked here, before the upgrade, so a refused client never reaches the hub.
async fn socket(req: Request, env: &Env) -> ApiResult<Response> {
    let upgrade = req.headers().get("Upgrade")?.unwrap_or_default();
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return Err(ApiError::UpgradeRequired);
    }
    auth::check_origin(&req, env)?;
    let (session, exp) = auth::authenticate(&req, env).await?;
    let since = match http::query_param(&req, "since") {
        None => None,
        Some(s) => Some(s.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad("invalid_since", "since", "since must be a sequence number")
        })?),
    };
    let info = SocketInfo {
        uid: session.uid,
        role: session.role,
        store: session.store,
        exp,
    };
    hub::connect(env, &info, since).await
}

/// Daily cron: deletes call-log rows older than `CALL_LOG_RETENTION_DAYS` (default 400).
#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let setting = env
        .var("CALL_LOG_RETENTION_DAYS")
        .ok()
        .map(|v| v.to_string());
    let Some(cutoff) = retention::cutoff_ms(http::now_ms(), setting.as_deref()) else {
        return;
    };
    match db::prune_calls(&env, cutoff).await {
        Ok((calls, events)) => worker::console_log!(
            "{}",
            serde_json::json!({"event": "retention", "cutoff": http::iso(cutoff), "calls": calls, "events": events})
        ),
        Err(e) => worker::console_error!(
            "{}",
            serde_json::json!({"event": "retention_failed", "error": e.code(), "detail": format!("{e:?}")})
        ),
    }
}

/// `GET /api/health` — version and whether D1 and the hub answer. No secrets, no data.
async fn health(env: &Env) -> ApiResult<Response> {
    let d1 = match env.d1("DB") {
        Ok(db) => db
            .prepare("SELECT 1 AS ok")
            .first::<serde_json::Value>(None)
            .await
            .is_ok(),
        Err(_) => false,
    };
    let hub = hub::stats(env).await.is_ok();
    let ok = d1 && hub;
    Ok(http::json_response(
        if ok { 200 } else { 503 },
        &serde_json::json!({ "ok": ok, "version": VERSION, "d1": d1, "hub": hub }),
    )?)
}
