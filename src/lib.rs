//! Edge CTI: Dialpad call webhooks -> this Worker -> a Durable Object hub -> staff browsers.
//!
//! The folders follow the flow:
//! - `domain/`: the pure rules (tokens, events, phones, prefixes, passwords, who may see what,
//!   customer fields, errors, messages). No `worker` types; unit-tested natively.
//! - `platform/`: thin adapters to the runtime (HTTP, D1 helpers, the route table, stubs).
//! - `resources/`: what the console reads and edits (customers, stores, calls, accounts).
//! - `pipeline/`: a call event's way from the webhook through the call log to the hub.
//!
//! This file holds the entry points and maps each route to its handler.
pub mod domain;
pub mod pipeline;
pub mod platform;
pub mod resources;

pub use pipeline::hub::Hub;
pub use resources::accounts::guard::Guard;

use domain::error::ApiError;
use domain::messages::SocketInfo;
use pipeline::{hub_client, webhook};
use platform::http::{self, ApiResult};
use platform::router::{self, Miss, Route};
use resources::accounts::{admin as accounts, auth};
use resources::customers::{api as customers, csv_io, notes};
use resources::{callbacks, calls, settings, stores, wrapups};
use worker::{event, Context, Env, Method, Request, Response};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    // A Worker with a missing, short, placeholder or shared secret serves nothing (500
    // `server_misconfigured` naming the setting, never its value).
    if let Err(e) = auth::check_secrets(&env) {
        return http::respond(Err(e));
    }
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
    let (route, id) = router::find(req.method().as_ref(), &req.path()).map_err(|m| match m {
        Miss::NotFound => ApiError::NotFound,
        Miss::MethodNotAllowed => ApiError::MethodNotAllowed,
    })?;
    let id = || http::path_id(id);
    match route {
        Route::Webhook => webhook::webhook(req, env).await,
        Route::TestCall => webhook::test_call(req, env).await,
        Route::Login => auth::login(req, env).await,
        Route::Logout => auth::logout(req, env).await,
        Route::LogoutAll => auth::logout_all(req, env).await,
        Route::LogoutUser => auth::logout_user(req, env, id()?).await,
        Route::UserList => accounts::list(req, env).await,
        Route::UserCreate => accounts::create(req, env).await,
        Route::UserUpdate => accounts::update(req, env, id()?).await,
        Route::UserPassword => accounts::reset_password(req, env, id()?).await,
        Route::Me => auth::me(req, env).await,
        Route::Socket => socket(req, env).await,
        Route::Health => health(env).await,
        Route::CustomerLookup => customers::lookup(req, env).await,
        Route::CustomerSearch => customers::search(req, env).await,
        Route::CustomerCreate => customers::create(req, env).await,
        Route::CustomerImport => csv_io::import(req, env).await,
        Route::CustomerExport => csv_io::export(req, env).await,
        Route::CustomerDetail => customers::detail(req, env, id()?).await,
        Route::CustomerUpdate => customers::update(req, env, id()?).await,
        Route::CustomerDelete => customers::delete(req, env, id()?).await,
        Route::NotesList => notes::list(req, env, id()?).await,
        Route::NotesAdd => notes::add(req, env, id()?).await,
        Route::RecentCalls => calls::recent(req, env).await,
        Route::CallLog => calls::log(req, env).await,
        Route::StoreList => stores::list(req, env).await,
        Route::StoreCreate => stores::create(req, env).await,
        Route::StoreResolve => stores::resolve(req, env).await,
        Route::StoreUpdate => stores::update(req, env, id()?).await,
        Route::StoreDelete => stores::delete(req, env, id()?).await,
        Route::FrontDeskSettings => settings::get(req, env).await,
        Route::FrontDeskSettingsSave => settings::put(req, env).await,
        Route::WrapupGet => wrapups::get(req, env).await,
        Route::WrapupSave => wrapups::put(req, env).await,
        Route::CallbackList => callbacks::list(req, env).await,
        Route::CallbackCount => callbacks::count(req, env).await,
        Route::CallbackUpdate => callbacks::update(req, env, id()?).await,
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
        tv: session.tv,
        sid: session.sid,
        lease: 0,
        bucket: Default::default(),
    };
    hub_client::connect(env, &info, since).await
}

/// The daily cron (03:30 JST) deletes call-log rows older than `CALL_LOG_RETENTION_DAYS`
/// (default 400). Every run, the quarter-hourly one included, closes calls whose end never
/// arrived (`pipeline::stale`).
const RETENTION_CRON: &str = "30 18 * * *";

#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let now = http::now_ms();
    let log = |r: ApiResult<serde_json::Value>, what: &str| match r {
        Ok(v) => worker::console_log!("{}", v),
        Err(e) => worker::console_error!(
            "{}",
            serde_json::json!({"event": format!("{what}_failed"), "error": e.code(), "detail": format!("{e:?}")})
        ),
    };
    log(pipeline::stale::close(&env, now).await, "stale_calls");
    if let Ok(db) = env.d1("DB") {
        log(
            customers::backfill_keys(&db)
                .await
                .map(|n| serde_json::json!({"event": "search_keys", "customers": n})),
            "search_keys",
        );
    }
    if event.cron() != RETENTION_CRON {
        return;
    }
    let setting = env
        .var("CALL_LOG_RETENTION_DAYS")
        .ok()
        .map(|v| v.to_string());
    let Some(cutoff) = domain::retention::cutoff_ms(now, setting.as_deref()) else {
        return;
    };
    log(
        calls::prune(&env, cutoff, now).await.map(|(calls, events)| {
            serde_json::json!({"event": "retention", "cutoff": http::iso(cutoff), "calls": calls, "events": events})
        }),
        "retention",
    );
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
    let hub = hub_client::stats(env).await.is_ok();
    let ok = d1 && hub;
    Ok(http::json_response(
        if ok { 200 } else { 503 },
        &serde_json::json!({ "ok": ok, "version": VERSION, "d1": d1, "hub": hub }),
    )?)
}
