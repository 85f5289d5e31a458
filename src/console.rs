//! The console Worker's side: the console's API (routed, checked, buffered, dispatched to
//! `resources/`), `/` and the static pages, and the crons. Dialpad's deliveries never come
//! here (`crate::fetch` hands them to the pop Worker).
use crate::db::users;
use crate::domain::error::ApiError;
use crate::domain::{self, assets, messages::SocketInfo};
use crate::pipeline::{self, webhook};
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client;
use crate::platform::router::{self, Miss, Route};
use crate::resources::accounts::{admin as accounts, auth};
use crate::resources::customers::{api as customers, csv_io, duplicates, lookup, merge, notes};
use crate::resources::dialpad::{self as dialpad, actions as dialpad_actions};
use crate::resources::{
    audit, callbacks, calls, custom_fields, hours, reports, settings, stores, wrapups,
};
use crate::{buffered, platform, VERSION};
use worker::{Env, Headers, Method, Request, Response};

/// Everything but Dialpad's deliveries: the API, `/` and the static pages.
pub(crate) async fn serve(req: Request, env: &Env) -> worker::Result<Response> {
    let path = req.path();
    if path.starts_with("/api/") {
        let method = req.method();
        let result = api(req, env).await;
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
        return http::respond(result).map(http::with_hsts);
    }
    if path == "/" || path == "/admin" {
        let to = platform::url::with_path(&req, "/admin/")?;
        let resp = worker::web_sys::Response::redirect_with_status(&to, 302)?;
        return http::with_security_headers(Response::from(resp));
    }
    if let Some(page) = path.strip_prefix(OLD_POPUP_DIR) {
        let to = platform::url::with_path_keeping_query(&req, &format!("{POPUP_DIR}{page}"))?;
        let resp = worker::web_sys::Response::redirect_with_status(&to, 301)?;
        return http::with_security_headers(Response::from(resp));
    }
    static_file(req, env, &path).await
}

/// A page or one of its files, from the static assets (`domain::assets`): with
/// `ASSETS_VERSION` set, a page names its styles and scripts under `/v/<version>/`, and those
/// are cached by the browser for good; without it, everything is served as it is. The assets'
/// own redirects (`/admin/calls.html` → `/admin/calls`) reach the browser in every case.
async fn static_file(req: Request, env: &Env, path: &str) -> worker::Result<Response> {
    let configured = env.var("ASSETS_VERSION").ok().map(|v| v.to_string());
    let version = assets::version(configured.as_deref());
    let files = env.assets("ASSETS")?;
    if let Some((asked, file)) = assets::split(path).filter(|(_, f)| assets::is_static_file(f)) {
        let url = platform::url::with_path(&req, file)?;
        let inner = http::new_asset_request(&url, req.method(), req.headers())?;
        let resp = http::with_security_headers(files.fetch_request(inner).await?)?;
        // A 304 keeps what the browser stored with the file: it stays immutable.
        let current = version == Some(asked) && matches!(resp.status_code(), 200 | 304);
        let cache = if current {
            assets::IMMUTABLE
        } else {
            assets::REVALIDATE
        };
        resp.headers().set("Cache-Control", cache)?;
        return Ok(resp);
    }
    let Some(version) = version.filter(|_| assets::may_be_page(path)) else {
        return http::with_security_headers(files.fetch_request(req).await?);
    };
    // A page is asked for whole (no validator: a `304` would keep a page naming another
    // version's files) and rewritten for this version.
    let headers = Headers::new();
    for (k, v) in req.headers().entries() {
        if !matches!(
            k.as_str(),
            "if-none-match" | "if-modified-since" | "range" | "if-range"
        ) {
            headers.append(&k, &v)?;
        }
    }
    let url = platform::url::with_path_keeping_query(&req, path)?;
    let mut resp = files
        .fetch_request(http::new_asset_request(&url, req.method(), &headers)?)
        .await?;
    let html = resp
        .headers()
        .get("Content-Type")?
        .is_some_and(|t| t.starts_with("text/html"));
    let head = req.method() == Method::Head;
    if resp.status_code() != 200 || !html || !(head || req.method() == Method::Get) {
        return http::with_security_headers(resp);
    }
    let out = Headers::new();
    for (k, v) in resp.headers().entries() {
        if !matches!(k.as_str(), "etag" | "content-length" | "content-encoding") {
            out.append(&k, &v)?;
        }
    }
    out.set("Cache-Control", assets::REVALIDATE)?;
    // HEAD: the headers GET would answer, without the body.
    let page = if head {
        Vec::new()
    } else {
        assets::versioned_html(&resp.text().await?, version).into_bytes()
    };
    http::with_security_headers(
        worker::ResponseBuilder::new()
            .with_status(200)
            .with_headers(out)
            .fixed(page),
    )
}

/// The popup's folder, and where it was until issue 24: an old address (a bookmark, a window
/// restored by the browser, a Dialpad app still configured with it) answers 301 to the same
/// page in the new folder, query kept.
const POPUP_DIR: &str = "/admin/popup/";
const OLD_POPUP_DIR: &str = "/admin/customer-management/";

/// Bytes of a refused request's body read anyway, so a small refused request does not cost
/// the client its keep-alive connection (workerd resets a connection whose request body was
/// left unread). A bigger body is cut off after this much.
const DRAIN_REFUSED: usize = 64 * 1024;

/// Everything decided before a body is read: the route (404/405), the session token's
/// signature for routes that need one (401), and for browser (cookie) writes the origin (403)
/// and content type (415). Only then is the body read, as a stream and up to the route's
/// limit (413), and handed to the handler.
async fn api(mut req: Request, env: &Env) -> ApiResult<Response> {
    let found = router::find(req.method().as_ref(), &req.path()).map_err(|m| match m {
        Miss::NotFound => ApiError::NotFound,
        Miss::MethodNotAllowed => ApiError::MethodNotAllowed,
    });
    let checked = found.and_then(|(route, id)| gate(&req, env, route).map(|_| (route, id)));
    let (route, id) = match checked {
        Ok(found) => found,
        Err(e) => {
            http::discard_body(&mut req, DRAIN_REFUSED).await;
            return Err(e);
        }
    };
    let req = buffered(req, route.body_limit()).await?;
    dispatch(route, id, req, env).await
}

/// The checks made on a request's headers alone (see [`api`]).
fn gate(req: &Request, env: &Env, route: Route) -> ApiResult<()> {
    let bearer = http::bearer(req);
    let cookie = http::cookie(req, auth::SESSION_COOKIE);
    let writes = !matches!(req.method(), Method::Get | Method::Head | Method::Options);
    if writes && bearer.is_none() && cookie.is_some() {
        // A browser write: it must come from our own pages (a cross-site form or fetch can
        // carry the cookie of a lax browser) and be JSON, multipart or CSV, which a
        // cross-site form cannot send without a preflight.
        match req.headers().get("Origin")? {
            Some(_) => auth::check_origin(req, env)?,
            None => {
                let site = req.headers().get("Sec-Fetch-Site")?.unwrap_or_default();
                if site != "same-origin" {
                    return Err(ApiError::Forbidden("bad_origin"));
                }
            }
        }
        if has_body(req)? {
            let ct = req.headers().get("Content-Type")?.unwrap_or_default();
            if !route.accepts_content_type(&ct) {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
    }
    if route.needs_session() {
        // The signature only: the handler re-checks the user against D1.
        let token = bearer
            .or(cookie)
            .ok_or(ApiError::Unauthenticated("not_logged_in"))?;
        let secret = auth::secret(env, "JWT_SECRET")?;
        domain::token::verify_session(&token, secret.as_bytes(), http::now_ms() / 1000)
            .map_err(|e| ApiError::Unauthenticated(e.code()))?;
    }
    Ok(())
}

/// Whether a request carries a body (a declared non-zero length, or a chunked upload).
fn has_body(req: &Request) -> ApiResult<bool> {
    let h = req.headers();
    if let Some(len) = h.get("Content-Length")? {
        return Ok(len.trim() != "0");
    }
    Ok(h.get("Transfer-Encoding")?.is_some() || req.inner().body().is_some())
}

/// The handler of `route`, with the steps the table declares around it: the hub's outbox
/// flushed first for a route that reads the call log, the hub's pop index told after a
/// successful write that changed what it holds (`Route::reads_call_log`,
/// `Route::index_effect`).
async fn dispatch(route: Route, id: Option<i64>, req: Request, env: &Env) -> ApiResult<Response> {
    if route.reads_call_log() {
        hub_client::flush(env).await;
    }
    let mut named = Vec::new();
    let resp = handle(route, id, req, env, &mut named).await?;
    if let Some(effect) = route.index_effect() {
        hub_client::index_changed(env, &effect.change(id, &named)).await;
    }
    Ok(resp)
}

/// The handler of `route`. A handler whose write the hub's index must learn of by ids the
/// path does not carry (a new customer, a merged one) names them in `named`.
async fn handle(
    route: Route,
    id: Option<i64>,
    req: Request,
    env: &Env,
    named: &mut Vec<i64>,
) -> ApiResult<Response> {
    let id = || http::path_id(id);
    match route {
        // `fetch` hands every delivery to `deliver` before the API is routed.
        Route::Webhook => Err(ApiError::NotFound),
        Route::TestCall => {
            auth::require_admin(&req, env).await?;
            webhook::test_call(req, env).await
        }
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
        Route::Health => health(req, env).await,
        Route::IndexRebuild => rebuild_index(req, env).await,
        Route::CustomerLookup => lookup::lookup(req, env).await,
        Route::CustomerSearch => customers::search(req, env).await,
        Route::CustomerCreate => customers::create(req, env).await.map(|w| w.named(named)),
        Route::CustomerDuplicates => duplicates::check(req, env).await,
        Route::CustomerSharedNumbers => duplicates::shared_numbers(req, env).await,
        Route::CustomerImport => csv_io::import(req, env).await,
        Route::CustomerExport => csv_io::export(req, env).await,
        Route::CustomerDetail => customers::detail(req, env, id()?).await,
        Route::CustomerUpdate => customers::update(req, env, id()?).await,
        Route::CustomerDelete => customers::delete(req, env, id()?).await,
        Route::CustomerMerge => merge::merge(req, env, id()?).await.map(|w| w.named(named)),
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
        Route::CallbackDetail => callbacks::detail(req, env, id()?).await,
        Route::CallbackUpdate => callbacks::update(req, env, id()?).await,
        Route::CallbackAttempt => callbacks::add_attempt(req, env, id()?).await,
        Route::CallbackClose => callbacks::close(req, env).await,
        Route::ReportCalls => reports::calls(req, env).await,
        Route::ReportSettings => reports::get_settings(req, env).await,
        Route::ReportSettingsSave => reports::put_settings(req, env).await,
        Route::ReportSettingsTest => reports::send_test(req, env).await,
        Route::DialpadSettings => dialpad::get(req, env).await,
        Route::DialpadSettingsSave => dialpad::put(req, env).await,
        Route::DialpadSyncStatus => dialpad::sync_status(req, env).await,
        Route::DialpadResync => dialpad::resync(req, env).await,
        Route::DialpadSyncRetry => dialpad::sync_retry(req, env).await,
        Route::DialpadGapFill => gap_fill(req, env).await,
        Route::DialpadCall => dialpad_actions::call(req, env).await,
        Route::DialpadRecording => dialpad_actions::recording(req, env).await,
        Route::DialpadUsers => dialpad_actions::users(req, env).await,
        Route::DialpadLinks => dialpad_actions::links(req, env).await,
        Route::DialpadLink => dialpad_actions::link(req, env, id()?).await,
        Route::CustomFieldList => custom_fields::list(req, env).await,
        Route::CustomFieldCreate => custom_fields::create(req, env).await,
        Route::CustomFieldUpdate => custom_fields::update(req, env, id()?).await,
        Route::CustomFieldDelete => custom_fields::delete(req, env, id()?).await,
        Route::StoreHours => hours::get_store(req, env, id()?).await,
        Route::StoreHoursSave => hours::put_store(req, env, id()?).await,
        Route::HoursSettings => hours::get_settings(req, env).await,
        Route::CallbackAssignees => callbacks::assignees(req, env).await,
        Route::HoursSettingsSave => hours::put_settings(req, env).await,
        Route::AuditSearch => audit::list::search(req, env).await,
        Route::AuditExport => audit::list::export(req, env).await,
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
        stores: session.store_set(),
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

pub(crate) async fn scheduled(event: worker::ScheduledEvent, env: Env) {
    let now = http::now_ms();
    let log = |r: ApiResult<serde_json::Value>, what: &str| match r {
        Ok(v) => worker::console_log!("{}", v),
        Err(e) => worker::console_error!(
            "{}",
            serde_json::json!({"event": format!("{what}_failed"), "error": e.code(), "detail": e.detail()})
        ),
    };
    let retention = (event.cron() == RETENTION_CRON)
        .then(|| {
            let setting = env
                .var("CALL_LOG_RETENTION_DAYS")
                .ok()
                .map(|v| v.to_string());
            domain::retention::cutoff_ms(now, setting.as_deref())
        })
        .flatten();
    log(
        pipeline::stale::close(&env, now, retention).await,
        "stale_calls",
    );
    // Dialpad's concluded calls that no webhook brought (when the gap filler is on).
    if let Some(r) = dialpad::gap::run(&env, now).await.transpose() {
        log(r, "gap_fill");
    }
    if let Ok(db) = env.d1("DB") {
        log(
            crate::db::customers::backfill_keys(&db)
                .await
                .map(|n| serde_json::json!({"event": "search_keys", "customers": n})),
            "search_keys",
        );
    }
    // 着信分析's weekly summary (Monday from 09:00 JST, once a week), by the run's own time.
    log(
        reports::weekly(&env, event.schedule() as i64).await,
        "weekly_summary",
    );
    // Daily: expired and idle sessions go (whatever the call-log retention).
    if event.cron() == RETENTION_CRON {
        if let Ok(db) = env.d1("DB") {
            log(
                users::prune_sessions(&db, now / 1000, auth::idle_secs(&env))
                    .await
                    .map(|n| serde_json::json!({"event": "sessions_pruned", "sessions": n})),
                "sessions_pruned",
            );
        }
        // 操作履歴 older than AUDIT_RETENTION_DAYS (default 3 years; "0" keeps everything).
        let setting = env.var("AUDIT_RETENTION_DAYS").ok().map(|v| v.to_string());
        if let Some(cutoff) = domain::audit::retention_cutoff_ms(now, setting.as_deref()) {
            log(
                audit::prune(&env, cutoff).await.map(|n| {
                    serde_json::json!({"event": "audit_pruned", "cutoff": http::iso(cutoff), "rows": n})
                }),
                "audit_pruned",
            );
        }
    }
    let Some(cutoff) = retention else {
        return;
    };
    // Retention applies to the record as a whole: what still waits in the hub's outbox first.
    hub_client::flush(&env).await;
    log(
        calls::prune(&env, cutoff, now).await.map(|(calls, events)| {
            serde_json::json!({"event": "retention", "cutoff": http::iso(cutoff), "calls": calls, "events": events})
        }),
        "retention",
    );
}

/// `POST /api/dialpad/gap-fill` (admin): the gap filler's run now, rather than at the next
/// cron → the run's result (`{lastRun, filled, missed, …}`); 409 when it is off.
async fn gap_fill(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    match dialpad::gap::run(env, http::now_ms()).await? {
        Some(v) => Ok(http::json_response(200, &v)?),
        None => Err(ApiError::Conflict {
            code: "dialpad_feature_off",
            message: "Dialpadの通話履歴の補完は有効になっていません（設定）".into(),
            current: None,
        }),
    }
}

/// `POST /api/admin/index/rebuild` (admin): re-reads the hub's pop index from D1 now, for a
/// change made straight in D1 (a migration, the CLI, a restore). Answers what was loaded.
async fn rebuild_index(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let loaded = hub_client::rebuild_index(env).await?;
    Ok(http::json_response(200, &loaded)?)
}

/// `GET /api/health` — whether the service answers, and its version: that is all the public
/// (and staff) get, from the Worker alone — no D1 query, no request to the hub, so no flood of
/// anonymous checks can slow a pop. Only an admin's request also says whether D1 and the hub
/// answer, with the hub's counters.
async fn health(req: Request, env: &Env) -> ApiResult<Response> {
    let has_token =
        http::bearer(&req).is_some() || http::cookie(&req, auth::SESSION_COOKIE).is_some();
    if !(has_token && auth::require_admin(&req, env).await.is_ok()) {
        return Ok(http::json_response(
            200,
            &serde_json::json!({ "ok": true, "version": VERSION }),
        )?);
    }
    let d1 = match env.d1("DB") {
        Ok(db) => db
            .prepare("SELECT 1 AS ok")
            .first::<serde_json::Value>(None)
            .await
            .is_ok(),
        Err(_) => false,
    };
    let hub = hub_client::stats(env).await.ok();
    let ok = d1 && hub.is_some();
    let body = serde_json::json!({
        "ok": ok,
        "version": VERSION,
        "d1": d1,
        "hub": hub.is_some(),
        "hubStats": hub.unwrap_or(serde_json::Value::Null),
        "dialpad": dialpad::health(env).await,
    });
    Ok(http::json_response(if ok { 200 } else { 503 }, &body)?)
}
