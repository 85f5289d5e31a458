//! Edge CTI: Dialpad call webhooks -> this Worker -> a Durable Object hub -> staff browsers.
//!
//! The folders follow the flow:
//! - `domain/`: the pure rules (tokens, events, phones, prefixes, passwords, who may see what,
//!   customer fields, errors, messages). No `worker` types; unit-tested natively.
//! - `platform/`: thin adapters to the runtime (HTTP, bound statements, the route table, the
//!   hub's client, stubs).
//! - `db/`: the SQL, one module per table: statement builders and row types.
//! - `resources/`: what the console reads and edits (customers, stores, calls, accounts).
//! - `pipeline/`: a call event's way from the webhook through the call log to the hub.
//!
//! Dependencies run one way: domain ← platform ← db ← {pipeline, resources} ← this file and
//! `console.rs` (`tests/layers.test.mjs`).
//!
//! The crate is deployed as two Workers (Cargo features, see `Cargo.toml`): `pop` serves
//! Dialpad's deliveries and holds the hub (a small module that starts fast, so the first call
//! of the morning pops without waiting on the console's code), `console` serves everything
//! else (`console.rs`) and reaches the hub through a Durable Object binding to the pop
//! Worker's class. This file holds the entry points.
// Each deployed module compiles the whole crate and uses half of it; the default build (both
// halves: tests, clippy) is the one that checks for dead code.
#![cfg_attr(
    not(all(feature = "pop", feature = "console")),
    allow(dead_code, unused_imports)
)]
pub mod db;
pub mod domain;
pub mod pipeline;
pub mod platform;
pub mod resources;

#[cfg(feature = "console")]
mod console;

#[cfg(feature = "pop")]
pub use pipeline::hub::CallHub;
#[cfg(feature = "console")]
pub use resources::accounts::guard::Guard;
#[cfg(feature = "console")]
pub use resources::dialpad::sync::DialpadSync;

use domain::error::ApiError;
use pipeline::webhook;
use platform::http::{self, ApiResult};
use platform::router::{self, Route};
use resources::accounts::auth;
use worker::{event, web_sys, Context, Env, Method, Request, Response};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(raw: web_sys::Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // A Worker with a missing, short, placeholder or shared secret serves nothing (500
    // `server_misconfigured` naming the setting, never its value).
    if let Err(e) = auth::check_secrets(&env) {
        return http::respond(Err(e));
    }
    // Dialpad's deliveries take the shortest way to the hub: no `worker::Request` (whose
    // conversion reads the runtime's `cf` object, rebuilt on every read: a quarter of a
    // millisecond) and no router buffering. The route is still the table's.
    let found = router::find(&raw.method(), platform::url::path_of(&raw.url()));
    if found.is_ok_and(|(route, _)| route == Route::Webhook) {
        return http::respond(deliver(raw, &env).await).map(http::with_hsts);
    }
    #[cfg(feature = "console")]
    {
        let mark = resources::audit::mark();
        let resp = console::serve(Request::from(raw), &env).await;
        // 操作履歴: what the request recorded is written after its answer (resources::audit).
        if resources::audit::has_pending(mark) {
            ctx.wait_until(resources::audit::flush(env, mark));
        }
        resp
    }
    // The pop Worker serves deliveries only.
    #[cfg(not(feature = "console"))]
    {
        let _ = ctx;
        let miss = match found {
            Err(router::Miss::MethodNotAllowed) => ApiError::MethodNotAllowed,
            _ => ApiError::NotFound,
        };
        http::respond(Err(miss)).map(http::with_hsts)
    }
}

/// A Dialpad delivery, in the pop Worker.
#[cfg(feature = "pop")]
async fn deliver(raw: web_sys::Request, env: &Env) -> ApiResult<Response> {
    // Dialpad's deliveries declare their length: the body is read straight from the
    // runtime's request, up to the route's limit. A chunked body is buffered first (a copy of
    // the request with its body in memory), so an oversized one still gets its 413.
    if !raw.headers().has("Content-Length").unwrap_or(false) {
        let req = buffered(Request::from(raw), Route::Webhook.body_limit()).await?;
        let inner: &worker::wasm_bindgen::JsValue = req.inner().as_ref();
        return webhook::webhook(&web_sys::Request::from(inner.clone()), env).await;
    }
    let result = webhook::webhook(&raw, env).await;
    if matches!(result, Err(ApiError::PayloadTooLarge)) {
        // Read and drop what the route table allows, so the client reads its 413: workerd
        // resets a connection whose request body was left unread.
        let _ = http::read_raw_body(&raw, Route::Webhook.body_limit()).await;
    }
    result
}

/// A Dialpad delivery that reached the console Worker (local development, or a deployment
/// whose webhook path has no route of its own): handed on unchanged to the pop Worker through
/// the `POP` service binding, which answers it.
#[cfg(not(feature = "pop"))]
async fn deliver(raw: web_sys::Request, env: &Env) -> ApiResult<Response> {
    let pop = env
        .service("POP")
        .map_err(|_| ApiError::Misconfigured("POP"))?;
    // Not reaching it is transient (503: Dialpad retries); its own answer passes unchanged.
    pop.fetch_request(Request::from(raw))
        .await
        .map_err(|e| ApiError::Unavailable(format!("pop worker: {e}")))
}

/// Reads a request's body (up to `limit`, as a stream) before the handler runs. A handler
/// that answers early (403, 404 …) without reading the body would otherwise leave it unread,
/// and workerd then resets the client's keep-alive connection, failing that client's *next*
/// request.
pub(crate) async fn buffered(mut req: Request, limit: usize) -> ApiResult<Request> {
    if matches!(req.method(), Method::Get | Method::Head | Method::Options) {
        return Ok(req);
    }
    let body = http::read_body(&mut req, limit).await?;
    let body = (!body.is_empty()).then(|| worker::js_sys::Uint8Array::from(body.as_slice()).into());
    Ok(http::new_request(
        &req.inner().url(),
        req.method(),
        Some(req.headers()),
        body.as_ref(),
    )?)
}

#[cfg(feature = "console")]
#[event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    console::scheduled(event, env).await
}
