//! The one writer of `audit_log`. A handler records an entry with one line
//! (`Entry::by(&session, Action::CustomerViewed).customer(id).record()`); nothing is written
//! then: entries wait in this isolate's queue and `flush` writes them in one D1 batch from the
//! request's `ctx.wait_until`, after the response is sent (see `crate::fetch`). So recording
//! never delays an answer, and a failure to write (logged as `audit_write_failed`) never fails
//! the user's request. The pop Worker and its hub record nothing.
//!
//! The queue is shared by the requests an isolate runs at the same time: whichever request's
//! flush runs first writes every entry waiting, and each request flushes after its own answer,
//! so no entry is left behind. A streamed export records itself when its stream ends or is
//! dropped ([`ExportAudit`]); the flush of the request that opened it waits for that.
use crate::db::audit as db_audit;
use crate::domain::audit::Action;
use crate::domain::token::Session;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use std::cell::{Cell, RefCell};
use worker::Env;

/// One row of `audit_log`, built by the handler that did it.
#[derive(Debug, Clone)]
pub struct Entry {
    at: i64,
    user_id: Option<i64>,
    login: Option<String>,
    store_id: Option<i64>,
    action: Action,
    customer_id: Option<i64>,
    call_id: Option<String>,
    count: Option<i64>,
    detail: Option<serde_json::Value>,
    /// Take the customer from the call's row when written (a wrap-up: the call's customer).
    customer_of_call: bool,
}

thread_local! {
    static PENDING: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    /// Recorded streams still open, by the number they were opened with.
    static OPEN_STREAMS: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    static STREAMS_OPENED: Cell<u64> = const { Cell::new(0) };
}

impl Entry {
    /// What a signed-in user did (their id, login id and store as they are now).
    pub fn by(session: &Session, action: Action) -> Entry {
        Entry {
            user_id: Some(session.uid),
            login: Some(session.login.clone()),
            store_id: session.store,
            ..Entry::anonymous(action)
        }
    }

    /// What nobody signed in did (a failed login).
    pub fn anonymous(action: Action) -> Entry {
        Entry {
            at: http::now_ms(),
            user_id: None,
            login: None,
            store_id: None,
            action,
            customer_id: None,
            call_id: None,
            count: None,
            detail: None,
            customer_of_call: false,
        }
    }

    pub fn customer(mut self, id: i64) -> Entry {
        self.customer_id = Some(id);
        self
    }

    pub fn maybe_customer(mut self, id: Option<i64>) -> Entry {
        self.customer_id = id;
        self
    }

    pub fn call(mut self, id: Option<&str>) -> Entry {
        self.call_id = id.filter(|c| !c.is_empty()).map(str::to_string);
        self
    }

    /// The customer is the one the call (see [`Entry::call`]) is linked to when written.
    pub fn customer_of_call(mut self) -> Entry {
        self.customer_of_call = true;
        self
    }

    pub fn count(mut self, n: i64) -> Entry {
        self.count = Some(n);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Entry {
        self.detail = Some(detail);
        self
    }

    /// Queues the entry; it is written after the answer.
    pub fn record(self) {
        PENDING.with(|p| p.borrow_mut().push(self));
    }

    fn statement(&self, database: &worker::D1Database) -> ApiResult<worker::D1PreparedStatement> {
        let detail = self.detail.as_ref().map(|d| d.to_string());
        db_audit::insert(&db_audit::NewEntry {
            at: self.at,
            user_id: self.user_id,
            login: self.login.as_deref(),
            action: self.action.code(),
            customer_id: self.customer_id,
            call_id: self.call_id.as_deref(),
            store_id: self.store_id,
            count: self.count,
            detail: detail.as_deref(),
            customer_of_call: self.customer_of_call,
        })
        .d1(database)
    }
}

/// Where a request starts: the streams opened from then on are its own (see [`flush`]).
#[derive(Debug, Clone, Copy)]
pub struct Mark(u64);

pub fn mark() -> Mark {
    Mark(STREAMS_OPENED.with(Cell::get))
}

/// Whether a stream opened since `mark` is still open.
fn open_since(mark: Mark) -> bool {
    OPEN_STREAMS.with(|o| o.borrow().iter().any(|n| *n > mark.0))
}

/// Whether anything waits to be written (or a stream the request opened is still open): the
/// request then hands [`flush`] to `ctx.wait_until`.
pub fn has_pending(mark: Mark) -> bool {
    PENDING.with(|p| !p.borrow().is_empty()) || open_since(mark)
}

fn take() -> Vec<Entry> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// How long a flush waits for its request's recorded stream (an export being downloaded) to
/// end; a download still going after that records itself with a later request's flush.
const STREAM_WAIT_MS: i64 = 15 * 60_000;
const STREAM_POLL_MS: u64 = 100;

/// Writes every waiting entry in one D1 batch; then, while a recorded stream opened since
/// `mark` (by this request) is still open, what it records when it ends. Never fails: an
/// error is logged.
pub async fn flush(env: Env, mark: Mark) {
    let started = http::now_ms();
    loop {
        let batch = take();
        if !batch.is_empty() {
            if let Err(e) = write(&env, &batch).await {
                worker::console_error!(
                    "{}",
                    serde_json::json!({"event": "audit_write_failed", "entries": batch.len(),
                        "error": e.code(), "detail": e.detail()})
                );
            }
        }
        if !open_since(mark) || http::now_ms() - started > STREAM_WAIT_MS {
            if PENDING.with(|p| p.borrow().is_empty()) {
                return;
            }
            continue;
        }
        worker::Delay::from(std::time::Duration::from_millis(STREAM_POLL_MS)).await;
    }
}

async fn write(env: &Env, batch: &[Entry]) -> ApiResult<()> {
    let database = env.d1("DB")?;
    let stmts = batch
        .iter()
        .map(|e| e.statement(&database))
        .collect::<ApiResult<Vec<_>>>()?;
    database.batch(stmts).await?;
    Ok(())
}

/// Records a streamed export when its stream ends, with the number of rows it sent (or, for
/// a download cut off by the client, the rows sent so far, marked `complete: false`). Held by
/// the stream's state: dropping it records the entry.
pub struct ExportAudit {
    stream: u64,
    entry: Option<Entry>,
    rows: i64,
    complete: bool,
}

impl ExportAudit {
    pub fn new(entry: Entry) -> ExportAudit {
        let stream = STREAMS_OPENED.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        OPEN_STREAMS.with(|o| o.borrow_mut().push(stream));
        ExportAudit {
            stream,
            entry: Some(entry),
            rows: 0,
            complete: false,
        }
    }

    pub fn add_rows(&mut self, n: usize) {
        self.rows += n as i64;
    }

    pub fn finished(&mut self) {
        self.complete = true;
    }
}

impl Drop for ExportAudit {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            let mut entry = entry.count(self.rows);
            if !self.complete {
                let mut detail = entry
                    .detail
                    .take()
                    .and_then(|d| d.as_object().cloned())
                    .unwrap_or_default();
                detail.insert("complete".into(), serde_json::Value::Bool(false));
                entry.detail = Some(serde_json::Value::Object(detail));
            }
            entry.record();
        }
        OPEN_STREAMS.with(|o| o.borrow_mut().retain(|n| *n != self.stream));
    }
}

/// The daily cron's retention: rows older than `cutoff_ms` go, a bounded number per run so a
/// first prune of years of rows stays within D1's per-query limits (the rest the next day).
pub async fn prune(env: &Env, cutoff_ms: i64) -> ApiResult<usize> {
    let database = env.d1("DB")?;
    let mut deleted = 0;
    for _ in 0..PRUNE_ROUNDS {
        let r = db_audit::prune(cutoff_ms, PRUNE_BATCH)
            .d1(&database)?
            .run()
            .await?;
        let n = db::changes(&r);
        deleted += n;
        if (n as i64) < PRUNE_BATCH {
            break;
        }
    }
    Ok(deleted)
}

const PRUNE_BATCH: i64 = 5_000;
const PRUNE_ROUNDS: usize = 20;

/// The popup's lookup: one row per customer it showed (none for an unknown caller), with the
/// call it was opened from.
pub fn popup_opened(session: &Session, customers: &[i64], call: Option<&str>) {
    if customers.is_empty() {
        Entry::by(session, Action::PopupOpened).call(call).record();
    }
    for id in customers.iter().take(20) {
        Entry::by(session, Action::PopupOpened)
            .customer(*id)
            .call(call)
            .record();
    }
}

/// A settings change: `area` (see `domain::audit::area_label`), what was done and to which id.
pub fn settings_changed(session: &Session, area: &str, op: &str, id: Option<i64>) {
    let mut detail = serde_json::json!({"area": area, "op": op});
    if let Some(id) = id {
        detail["id"] = id.into();
    }
    Entry::by(session, Action::SettingsChanged)
        .detail(detail)
        .record();
}

/// An account change by an admin: the account (id and login id) and what was changed (the
/// labels whose flag is set).
pub fn account_changed(
    me: &Session,
    action: Action,
    uid: i64,
    login: &str,
    changes: &[(bool, &str)],
) {
    let changes: Vec<&str> = changes
        .iter()
        .filter_map(|(set, label)| set.then_some(*label))
        .collect();
    let mut detail = serde_json::json!({ "id": uid });
    if !login.is_empty() {
        detail["target"] = login.into();
    }
    if !changes.is_empty() {
        detail["changes"] = changes.into();
    }
    Entry::by(me, action).detail(detail).record();
}

/// A login: who, and a pseudonym of the client network (never the address itself).
pub fn login_succeeded(session: &Session, secret: &str, network: &str) {
    let net = crate::domain::audit::pseudonym(secret.as_bytes(), "network", network);
    Entry::by(session, Action::Login)
        .detail(serde_json::json!({ "networkHash": net }))
        .record();
}

/// A refused login (wrong password or unknown id, a disabled account): pseudonyms of the
/// login id typed and of the client network, never the values. Throttled attempts (429) are
/// not recorded: the guard already refuses them, and anyone could otherwise grow the table.
pub fn login_failed(secret: &str, login: &str, network: &str, reason: &str) {
    let detail = serde_json::json!({
        "loginHash": crate::domain::audit::pseudonym(secret.as_bytes(), "login", &login.to_lowercase()),
        "networkHash": crate::domain::audit::pseudonym(secret.as_bytes(), "network", network),
        "reason": reason,
    });
    Entry::anonymous(Action::LoginFailed)
        .detail(detail)
        .record();
}
