//! The queue itself, in the object's SQLite: jobs in order, a later job for the same
//! customer or call replacing a waiting one, the status, and what a failure does to a job.
use super::{Config, DialpadSync, Enqueue, Job, MAX_ATTEMPTS};
use crate::db::dialpad_sync as q;
use crate::domain::error::ApiError;
use crate::platform::dialpad::{self, Endpoint};
use crate::platform::http::{self, ApiResult};
use crate::platform::sql::Stmt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

impl DialpadSync {
    pub(super) fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    /// Runs one of the queue's statements (`db::dialpad_sync`) on this object's storage.
    pub(super) fn exec(&self, s: &Stmt) -> worker::Result<worker::SqlCursor> {
        s.exec(&self.sql())
    }

    pub(super) fn meta(&self, k: &str) -> Option<String> {
        #[derive(Deserialize)]
        struct V {
            v: String,
        }
        self.exec(&q::meta(k))
            .ok()?
            .to_array::<V>()
            .ok()?
            .into_iter()
            .next()
            .map(|r| r.v)
    }

    pub(super) fn set_meta(&self, k: &str, v: &str) -> worker::Result<()> {
        self.exec(&q::set_meta(k, v))?;
        Ok(())
    }

    pub(super) fn config(&self) -> Config {
        self.meta("config")
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_default()
    }

    pub(super) fn count(&self, s: &Stmt) -> i64 {
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        self.exec(s)
            .and_then(|c| c.to_array::<N>())
            .ok()
            .and_then(|v| v.into_iter().next())
            .map_or(0, |r| r.n)
    }

    /// Adds a job at the end; a waiting job with the same key goes (the newer one says it all).
    pub(super) fn push(&self, kind: &str, key: &str, arg: &str, now: i64) -> worker::Result<()> {
        for s in &q::push(kind, key, arg, now) {
            self.exec(s)?;
        }
        Ok(())
    }

    pub(super) async fn enqueue(&self, what: Enqueue) -> ApiResult<Value> {
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
            let since = what.since.as_deref().filter(|_| !what.all);
            let rows: Vec<Id> = crate::db::customers::ids(since)
                .d1(&db)?
                .all()
                .await?
                .results()?;
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
    pub(super) async fn kick(&self) -> worker::Result<()> {
        if self.running.get() {
            return Ok(());
        }
        let storage = self.state.storage();
        if storage.get_alarm().await?.is_none() {
            storage.set_alarm(0).await?;
        }
        Ok(())
    }

    pub(super) fn status(&self) -> Value {
        #[derive(Deserialize, Serialize)]
        struct Refused {
            kind: String,
            key: String,
            reason: Option<String>,
            #[serde(rename = "at")]
            created_at: i64,
        }
        let refused: Vec<Refused> = self
            .exec(&q::refused_items())
            .and_then(|c| c.to_array())
            .unwrap_or_default();
        let waiting = self.count(&q::waiting());
        let waiting_contacts = self.count(&q::waiting_contacts());
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
            "synced": self.count(&q::synced()),
            "sent": num("sent"),
            "waiting": waiting,
            "refused": self.count(&q::refused()),
            "refusedItems": refused,
            "limited": num("limited"),
            "lastError": self.meta("last_error"),
            "lastErrorAt": self.meta("last_error_at").and_then(|v| v.parse::<i64>().ok()),
            "lastSentAt": self.meta("last_sent_at").and_then(|v| v.parse::<i64>().ok()),
            "estimateSeconds": (estimate_ms + 999) / 1000,
            "running": self.running.get(),
        })
    }

    pub(super) fn note_error(&self, what: &str, now: i64) {
        let _ = self.set_meta("last_error", what);
        let _ = self.set_meta("last_error_at", &now.to_string());
    }

    pub(super) fn bump(&self, k: &str) {
        let n = self
            .meta(k)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        let _ = self.set_meta(k, &(n + 1).to_string());
    }

    pub(super) fn done(&self, seq: i64) -> worker::Result<()> {
        self.exec(&q::done(seq))?;
        Ok(())
    }

    /// A transient failure: backoff (1 s, 2 s, 4 s … 5 min), set aside after MAX_ATTEMPTS.
    pub(super) fn failed(&self, job: &Job, why: &str, now: i64) -> worker::Result<()> {
        let attempts = job.attempts + 1;
        self.note_error(why, now);
        if attempts >= MAX_ATTEMPTS {
            self.exec(&q::give_up(job.seq, attempts, why))?;
        } else {
            let backoff = (1000_i64 << attempts.min(9)).min(300_000);
            self.exec(&q::back_off(job.seq, attempts, now + backoff))?;
        }
        Ok(())
    }
}
