//! DialpadSync: the durable, ordered queue of writes to Dialpad (contacts, call labels), a
//! Durable Object of its own in the console Worker, never the hub: a slow Dialpad answer holds
//! nothing but this queue. Its SQLite keeps the jobs in order (`seq`), so a restart resumes
//! where it stopped; its alarm works through them one at a time, spaced under each endpoint's
//! documented limit (`platform::dialpad::Endpoint`), waits out a 429 for its `Retry-After`,
//! retries a 5xx with backoff, and sets aside what Dialpad refuses, with the reason.
//!
//! A contact job names a customer only: what is sent is read from D1 when it is sent (the
//! customer as they are then; a customer gone by then is deleted in Dialpad). A later job for
//! the same customer (or call) replaces a waiting one, so the queue never sends stale data
//! twice. `PUT /api/v2/contacts` is create-or-update by `uid`, so a job sent again after a
//! restart mid-request doubles nothing.
use crate::domain::error::ApiError;
use crate::platform::dialpad::Dialpad;
use crate::platform::http::{self, ApiResult};
use crate::platform::stub;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use worker::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

/// The binding of the object in the console Worker.
pub const BINDING: &str = "DIALPAD_SYNC";
/// One alarm works this long at most, then hands over to the next alarm.
const RUN_MS: i64 = 20_000;
/// Waits shorter than this are slept through; longer ones end the run with an alarm.
const SLEEP_MAX_MS: i64 = 3_000;
/// A job that failed (5xx, no answer) this many times is set aside.
const MAX_ATTEMPTS: i64 = 8;

/// Worker → queue.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Enqueue {
    /// Customers created, edited, merged (both) or deleted.
    #[serde(default)]
    pub customers: Vec<i64>,
    /// Every customer changed at or after this time (`customers.updated_at`, ISO): a CSV import.
    #[serde(default)]
    pub since: Option<String>,
    /// Every customer: a full resync.
    #[serde(default)]
    pub all: bool,
    /// A call's labels.
    #[serde(default)]
    pub labels: Option<Labels>,
    /// The console's origin, for the contact's link to its customer page.
    #[serde(default)]
    pub origin: Option<String>,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Labels {
    pub call_id: String,
    pub labels: Vec<String>,
}

/// Which kinds of job the queue sends (設定).
#[derive(Serialize, Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub contacts: bool,
    pub labels: bool,
}

async fn post(env: &Env, path: &str, body: &impl Serialize) -> ApiResult<Value> {
    stub::post(&stub::object(env, BINDING)?, path, body).await
}

/// Enqueues; best effort, never failing the write that asked (a customer saved is saved).
/// Nothing is asked of the queue while no API key is configured.
pub async fn enqueue(env: &Env, what: Enqueue) {
    if !Dialpad::configured(env) {
        return;
    }
    if let Err(e) = post(env, "/enqueue", &what).await {
        worker::console_warn!(
            "{}",
            json!({"event": "dialpad_enqueue_failed", "error": e.code(), "detail": e.detail()})
        );
    }
}

/// The customers a write changed.
pub async fn customers(env: &Env, req: &Request, ids: &[i64]) {
    let what = Enqueue {
        customers: ids.to_vec(),
        origin: crate::platform::url::origin(req),
        ..Default::default()
    };
    enqueue(env, what).await
}

pub async fn configure(env: &Env, config: Config) -> ApiResult<Value> {
    post(env, "/config", &config).await
}

pub async fn status(env: &Env) -> ApiResult<Value> {
    post(env, "/status", &json!({})).await
}

pub async fn resync(env: &Env, origin: Option<String>) -> ApiResult<Value> {
    post(
        env,
        "/enqueue",
        &Enqueue {
            all: true,
            origin,
            ..Default::default()
        },
    )
    .await
}

pub async fn retry_refused(env: &Env) -> ApiResult<Value> {
    post(env, "/retry", &json!({})).await
}

#[cfg_attr(feature = "console", durable_object)]
pub struct DialpadSync {
    state: State,
    env: Env,
    /// Whether an alarm is working through the queue now.
    running: Rc<Cell<bool>>,
    /// When each endpoint may next be called (pacing, this instance).
    next_at: Rc<RefCell<HashMap<&'static str, i64>>>,
}

#[derive(Deserialize)]
struct Job {
    seq: i64,
    kind: String,
    arg: String,
    attempts: i64,
    not_before: i64,
}

#[derive(Deserialize)]
struct CustomerRow {
    id: i64,
    name: String,
    phones: String,
}

mod queue;
mod send;

#[cfg(feature = "console")]
impl DurableObject for DialpadSync {
    fn new(state: State, env: Env) -> Self {
        crate::platform::sql::create_all(&state.storage().sql(), crate::db::dialpad_sync::SCHEMA);
        Self {
            state,
            env,
            running: Rc::new(Cell::new(false)),
            next_at: Rc::new(RefCell::new(HashMap::new())),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let path = req.path();
        let result = async {
            let v = match path.as_str() {
                "/enqueue" => {
                    let what: Enqueue = http::read_json(&mut req, 64 * 1024).await?;
                    self.enqueue(what).await?
                }
                "/config" => {
                    let c: Config = http::read_json(&mut req, 1024).await?;
                    self.set_meta(
                        "config",
                        &serde_json::to_string(&c).unwrap_or_else(|_| "{}".into()),
                    )?;
                    self.kick().await?;
                    self.status()
                }
                "/retry" => {
                    self.exec(&crate::db::dialpad_sync::retry_all())?;
                    self.kick().await?;
                    self.status()
                }
                "/status" => {
                    // A queue left with work and no alarm (e.g. switched on again) resumes.
                    if self.count(&crate::db::dialpad_sync::waiting()) > 0 {
                        self.kick().await?;
                    }
                    self.status()
                }
                _ => return Err(ApiError::NotFound),
            };
            Ok(http::json_response(200, &v)?)
        }
        .await;
        http::respond(result)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        if self.running.replace(true) {
            return Response::ok("busy");
        }
        let next = self.run().await;
        self.running.set(false);
        let next = match next {
            Ok(n) => n,
            Err(e) => {
                worker::console_warn!(
                    "{}",
                    json!({"event": "dialpad_sync_failed", "error": e.code(), "detail": e.detail()})
                );
                Some(http::now_ms() + 5_000)
            }
        };
        if let Some(at) = next {
            self.state
                .storage()
                .set_alarm((at - http::now_ms()).max(0))
                .await?;
        }
        Response::ok("ok")
    }
}
