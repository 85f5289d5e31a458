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
use crate::platform::db::{i, stmt};
use crate::platform::dialpad::{self, Dialpad, Endpoint, Outcome};
use crate::platform::http::{self, ApiResult};
use crate::platform::stub;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use worker::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, State};

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
            json!({"event": "dialpad_enqueue_failed", "error": e.code(), "detail": format!("{e:?}")})
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

impl DialpadSync {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    fn meta(&self, k: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct V {
            v: String,
        }
        self.sql()
            .exec("SELECT v FROM meta WHERE k = ?", vec![k.into()])
            .ok()?
            .to_array::<V>()
            .ok()?
            .into_iter()
            .next()
            .map(|r| r.v)
    }

    fn set_meta(&self, k: &str, v: &str) -> worker::Result<()> {
        self.sql().exec(
            "INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
            vec![k.into(), v.into()],
        )?;
        Ok(())
    }

    fn config(&self) -> Config {
        self.meta("config")
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default()
    }

    fn count(&self, sql: &str) -> i64 {
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        self.sql()
            .exec(sql, None)
            .and_then(|c| c.to_array::<N>())
            .ok()
            .and_then(|v| v.into_iter().next())
            .map_or(0, |r| r.n)
    }

    /// Adds a job at the end; a waiting job with the same key goes (the newer one says it all).
    fn push(&self, kind: &str, key: &str, arg: &str, now: i64) -> worker::Result<()> {
        let sql = self.sql();
        sql.exec(
            "DELETE FROM jobs WHERE key = ? AND refused = 0",
            vec![key.into()],
        )?;
        sql.exec(
            "INSERT INTO jobs (kind, key, arg, created_at) VALUES (?, ?, ?, ?)",
            vec![kind.into(), key.into(), arg.into(), now.into()],
        )?;
        Ok(())
    }

    async fn enqueue(&self, what: Enqueue) -> ApiResult<Value> {
        let config = self.config();
        let now = http::now_ms();
        if let Some(o) = what.origin.as_deref().filter(|o| o.starts_with("http")) {
            self.set_meta("origin", o)?;
        }
        let mut ids = what.customers.clone();
        if config.contacts && (what.all || what.since.is_some()) {
            #[derive(Deserialize)]
            struct Id {
                id: i64,
            }
            let db = self.env.d1("DB")?;
            let rows: Vec<Id> = match &what.since {
                Some(since) if !what.all => stmt(
                    &db,
                    "SELECT id FROM customers WHERE updated_at >= ?1 ORDER BY id",
                    &[crate::platform::db::s(since)],
                )?
                .all()
                .await?
                .results()?,
                _ => db
                    .prepare("SELECT id FROM customers ORDER BY id")
                    .all()
                    .await?
                    .results()?,
            };
            ids.extend(rows.into_iter().map(|r| r.id));
        }
        let mut queued = 0;
        if config.contacts {
            for id in &ids {
                self.push("contact", &format!("contact:{id}"), &id.to_string(), now)?;
                queued += 1;
            }
        }
        if let (true, Some(l)) = (config.labels, &what.labels) {
            let arg = serde_json::to_string(l).map_err(|e| ApiError::Unavailable(e.to_string()))?;
            self.push("labels", &format!("labels:{}", l.call_id), &arg, now)?;
            queued += 1;
        }
        if queued > 0 {
            self.kick().await?;
        }
        Ok(json!({ "queued": queued }))
    }

    /// Makes sure an alarm will work through the queue.
    async fn kick(&self) -> worker::Result<()> {
        if self.running.get() {
            return Ok(());
        }
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(0).await?;
        }
        Ok(())
    }

    fn status(&self) -> Value {
        #[derive(Deserialize, Serialize)]
        struct Refused {
            kind: String,
            key: String,
            reason: Option<String>,
            #[serde(rename = "at")]
            created_at: i64,
        }
        let refused: Vec<Refused> = self
            .sql()
            .exec(
                "SELECT kind, key, reason, created_at FROM jobs WHERE refused = 1 ORDER BY seq DESC LIMIT 20",
                None,
            )
            .and_then(|c| c.to_array())
            .unwrap_or_default();
        let waiting = self.count("SELECT count(*) AS n FROM jobs WHERE refused = 0");
        let waiting_contacts =
            self.count("SELECT count(*) AS n FROM jobs WHERE refused = 0 AND kind = 'contact'");
        let minute = dialpad::minute_ms(&self.env);
        let estimate_ms = waiting_contacts * Endpoint::ContactPut.interval_ms(minute)
            + (waiting - waiting_contacts) * Endpoint::CallLabels.interval_ms(minute);
        let num = |k: &str| {
            self.meta(k)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        json!({
            "config": self.config(),
            "synced": self.count("SELECT count(*) AS n FROM contacts"),
            "sent": num("sent"),
            "waiting": waiting,
            "refused": self.count("SELECT count(*) AS n FROM jobs WHERE refused = 1"),
            "refusedItems": refused,
            "limited": num("limited"),
            "lastError": self.meta("last_error"),
            "lastErrorAt": self.meta("last_error_at").and_then(|v| v.parse::<i64>().ok()),
            "lastSentAt": self.meta("last_sent_at").and_then(|v| v.parse::<i64>().ok()),
            "estimateSeconds": (estimate_ms + 999) / 1000,
            "running": self.running.get(),
        })
    }

    fn note_error(&self, what: &str, now: i64) {
        let _ = self.set_meta("last_error", what);
        let _ = self.set_meta("last_error_at", &now.to_string());
    }

    fn bump(&self, k: &str) {
        let n = self
            .meta(k)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        let _ = self.set_meta(k, &(n + 1).to_string());
    }

    /// Works through the queue, in order, until it is empty, the next step is far off, or the
    /// run's time is up. Returns when the next alarm is due, if any.
    async fn run(&self) -> ApiResult<Option<i64>> {
        let Some(client) = Dialpad::from_env(&self.env) else {
            return Ok(None);
        };
        let config = self.config();
        let minute = dialpad::minute_ms(&self.env);
        let started = http::now_ms();
        loop {
            let now = http::now_ms();
            if now - started > RUN_MS {
                return Ok(Some(now));
            }
            let job: Option<Job> = self
                .sql()
                .exec(
                    "SELECT seq, kind, arg, attempts, not_before FROM jobs WHERE refused = 0 \
                     ORDER BY seq LIMIT 1",
                    None,
                )?
                .to_array()?
                .into_iter()
                .next();
            let Some(job) = job else {
                return Ok(None);
            };
            let on = match job.kind.as_str() {
                "contact" => config.contacts,
                "labels" => config.labels,
                _ => false,
            };
            if !on {
                // Switched off meanwhile: the queue waits, as it is, until it is on again.
                return Ok(None);
            }
            if job.not_before > now {
                if job.not_before - now > SLEEP_MAX_MS {
                    return Ok(Some(job.not_before));
                }
                worker::Delay::from(std::time::Duration::from_millis(
                    (job.not_before - now) as u64,
                ))
                .await;
                continue;
            }
            let step = self.prepare(&job).await;
            let (endpoint, method, path, body, customer) = match step {
                Ok(Some(s)) => s,
                Ok(None) => {
                    // Nothing to send (a customer never synced and gone by now).
                    self.done(job.seq)?;
                    continue;
                }
                Err(e) => {
                    self.failed(&job, &format!("D1: {}", e.code()), now)?;
                    continue;
                }
            };
            let due = self
                .next_at
                .borrow()
                .get(endpoint.name())
                .copied()
                .unwrap_or(0);
            if due > now {
                if due - now > SLEEP_MAX_MS {
                    return Ok(Some(due));
                }
                worker::Delay::from(std::time::Duration::from_millis((due - now) as u64)).await;
            }
            let sent_at = http::now_ms();
            self.next_at
                .borrow_mut()
                .insert(endpoint.name(), sent_at + endpoint.interval_ms(minute));
            let outcome = client
                .send(endpoint, method, &path, &[], body.as_ref())
                .await;
            let now = http::now_ms();
            match outcome {
                Outcome::Ok(v) => {
                    if let Some(id) = customer {
                        if endpoint == Endpoint::ContactPut {
                            let contact = match &v["id"] {
                                Value::String(s) => s.clone(),
                                Value::Number(n) => n.to_string(),
                                _ => String::new(),
                            };
                            self.sql().exec(
                                "INSERT INTO contacts (customer_id, contact_id, synced_at) VALUES (?, ?, ?) \
                                 ON CONFLICT (customer_id) DO UPDATE SET contact_id = excluded.contact_id, \
                                 synced_at = excluded.synced_at",
                                vec![id.into(), contact.into(), now.into()],
                            )?;
                        } else {
                            self.sql().exec(
                                "DELETE FROM contacts WHERE customer_id = ?",
                                vec![id.into()],
                            )?;
                        }
                    }
                    self.bump("sent");
                    self.set_meta("last_sent_at", &now.to_string())?;
                    self.done(job.seq)?;
                }
                Outcome::Limited(ms) => {
                    // Dialpad's minute, not ours: wait what it says, then send the same job.
                    let ms = ms.max(100);
                    self.sql().exec(
                        "UPDATE jobs SET not_before = ? WHERE seq = ?",
                        vec![(now + ms).into(), job.seq.into()],
                    )?;
                    self.next_at.borrow_mut().insert(endpoint.name(), now + ms);
                    self.bump("limited");
                    self.note_error(&format!("429 {}: {} ms", endpoint.name(), ms), now);
                }
                Outcome::Refused(404, _) if endpoint == Endpoint::ContactDelete => {
                    // Already gone in Dialpad: what we wanted.
                    if let Some(id) = customer {
                        self.sql().exec(
                            "DELETE FROM contacts WHERE customer_id = ?",
                            vec![id.into()],
                        )?;
                    }
                    self.done(job.seq)?;
                }
                Outcome::Refused(status, reason) => {
                    let why = format!("{status} {}: {reason}", endpoint.name());
                    self.sql().exec(
                        "UPDATE jobs SET refused = 1, reason = ? WHERE seq = ?",
                        vec![why.as_str().into(), job.seq.into()],
                    )?;
                    self.note_error(&why, now);
                }
                Outcome::Failed(e) => {
                    self.failed(&job, &format!("{}: {e}", endpoint.name()), now)?;
                }
            }
        }
    }

    fn done(&self, seq: i64) -> worker::Result<()> {
        self.sql()
            .exec("DELETE FROM jobs WHERE seq = ?", vec![seq.into()])?;
        Ok(())
    }

    /// A transient failure: backoff (1 s, 2 s, 4 s … 5 min), set aside after MAX_ATTEMPTS.
    fn failed(&self, job: &Job, why: &str, now: i64) -> worker::Result<()> {
        let attempts = job.attempts + 1;
        self.note_error(why, now);
        if attempts >= MAX_ATTEMPTS {
            self.sql().exec(
                "UPDATE jobs SET refused = 1, attempts = ?, reason = ? WHERE seq = ?",
                vec![attempts.into(), why.into(), job.seq.into()],
            )?;
        } else {
            let backoff = (1000_i64 << attempts.min(9)).min(300_000);
            self.sql().exec(
                "UPDATE jobs SET attempts = ?, not_before = ? WHERE seq = ?",
                vec![attempts.into(), (now + backoff).into(), job.seq.into()],
            )?;
        }
        Ok(())
    }

    /// What a job sends, read now: (endpoint, method, path, body, customer id).
    #[allow(clippy::type_complexity)]
    async fn prepare(
        &self,
        job: &Job,
    ) -> ApiResult<Option<(Endpoint, Method, String, Option<Value>, Option<i64>)>> {
        match job.kind.as_str() {
            "contact" => {
                let id: i64 = job.arg.parse().unwrap_or(0);
                let db = self.env.d1("DB")?;
                let row: Option<CustomerRow> = stmt(
                    &db,
                    "SELECT c.id, c.name, (SELECT json_group_array(phone) FROM \
                       (SELECT phone FROM customer_phones WHERE customer_id = c.id ORDER BY rowid)) AS phones \
                     FROM customers c WHERE c.id = ?1",
                    &[i(id)],
                )?
                .first(None)
                .await?;
                match row {
                    Some(c) => {
                        let phones: Vec<String> = serde_json::from_str::<Vec<String>>(&c.phones)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|p| dialpad::e164(p))
                            .collect();
                        let (last, first) = split_name(&c.name);
                        let mut body = json!({
                            "first_name": first, "last_name": last, "uid": c.id.to_string(),
                        });
                        if !phones.is_empty() {
                            body["phones"] = json!(phones);
                        }
                        if let Some(origin) = self.meta("origin") {
                            body["urls"] =
                                json!([format!("{origin}/admin/customers.html?id={}", c.id)]);
                        }
                        Ok(Some((
                            Endpoint::ContactPut,
                            Method::Put,
                            "/api/v2/contacts".into(),
                            Some(body),
                            Some(c.id),
                        )))
                    }
                    None => {
                        #[derive(Deserialize)]
                        struct C {
                            contact_id: String,
                        }
                        let known: Option<C> = self
                            .sql()
                            .exec(
                                "SELECT contact_id FROM contacts WHERE customer_id = ?",
                                vec![id.into()],
                            )?
                            .to_array()?
                            .into_iter()
                            .next();
                        Ok(known.filter(|c| !c.contact_id.is_empty()).map(|c| {
                            (
                                Endpoint::ContactDelete,
                                Method::Delete,
                                format!("/api/v2/contacts/{}", encode_id(&c.contact_id)),
                                None,
                                Some(id),
                            )
                        }))
                    }
                }
            }
            "labels" => {
                let l: Labels = serde_json::from_str(&job.arg)
                    .map_err(|e| ApiError::Unavailable(e.to_string()))?;
                Ok(Some((
                    Endpoint::CallLabels,
                    Method::Put,
                    format!("/api/v2/call/{}/labels", encode_id(&l.call_id)),
                    Some(json!({ "labels": l.labels })),
                    None,
                )))
            }
            _ => Ok(None),
        }
    }
}

/// An id as a path segment: digits, letters, `_` and `-` only (anything else is dropped).
fn encode_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// A customer's name as Dialpad's (last, first): 「山田 太郎」 → (山田, 太郎); a name without a
/// space is all first name.
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once([' ', '　']) {
        Some((last, first)) if !last.is_empty() && !first.trim().is_empty() => {
            (last.to_string(), first.trim().to_string())
        }
        _ => (String::new(), name.to_string()),
    }
}

#[cfg(feature = "console")]
impl DurableObject for DialpadSync {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        for ddl in [
            "CREATE TABLE IF NOT EXISTS jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, \
             key TEXT NOT NULL, arg TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, \
             not_before INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0, reason TEXT, \
             created_at INTEGER NOT NULL)",
            "CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, refused)",
            "CREATE INDEX IF NOT EXISTS jobs_order ON jobs (refused, seq)",
            "CREATE TABLE IF NOT EXISTS contacts (customer_id INTEGER PRIMARY KEY, contact_id TEXT NOT NULL, \
             synced_at INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
        ] {
            let _ = sql.exec(ddl, None);
        }
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
                    self.sql().exec(
                        "UPDATE jobs SET refused = 0, attempts = 0, not_before = 0, reason = NULL \
                         WHERE refused = 1",
                        None,
                    )?;
                    self.kick().await?;
                    self.status()
                }
                "/status" => {
                    // A queue left with work and no alarm (e.g. switched on again) resumes.
                    if self.count("SELECT count(*) AS n FROM jobs WHERE refused = 0") > 0 {
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
                    json!({"event": "dialpad_sync_failed", "error": e.code(), "detail": format!("{e:?}")})
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

#[cfg(test)]
mod tests {
    use super::split_name;

    #[test]
    fn names_split_family_first() {
        assert_eq!(split_name("山田 太郎"), ("山田".into(), "太郎".into()));
        assert_eq!(split_name("山田　花子"), ("山田".into(), "花子".into()));
        assert_eq!(split_name("ヤマダ"), (String::new(), "ヤマダ".into()));
    }
}
