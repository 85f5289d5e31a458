//! Copying the outbox (`super::outbox`) to D1: promptly after events (a kick that gathers a
//! burst), by the alarm as a backup and while D1 fails (backing off), and for a reader of the
//! call log (a bounded flush). In order, in batches, each one D1 transaction; an operation D1
//! keeps refusing is set aside so it cannot hold up the rest.
use super::outbox::Op;
use super::Hub;
use crate::db::callbacks;
use crate::db::rollups;
use crate::domain::error::ApiError;
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client;
use serde::Deserialize;
use serde_json::json;

/// Operations per D1 batch (each a handful of statements).
const BATCH_OPS: i64 = 25;
/// The alarm that backs up the prompt drain (`drain_soon` after each event) is due
/// within this long: longer than the 20 s user re-check, so that while consoles are connected
/// that alarm serves and an event never pays for setting one (an alarm write holds the pop's
/// messages at the output gate like any storage write).
const BACKUP_MS: i64 = 30_000;
/// How long a prompt drain waits before it runs, so that a burst shares one drain.
const KICK_DELAY_MS: u64 = 100;
/// An operation that fails this many times for a reason other than D1 being unavailable is
/// set aside (`outbox_dead`, reported by health) so that it cannot hold up the rest.
const MAX_ATTEMPTS: i64 = 5;
/// Backoff while D1 fails: 1 s doubling up to a minute.
const BACKOFF_MAX_MS: i64 = 60_000;
/// How far a [`Hub::drain`] goes.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Until {
    /// Until the outbox is empty (the alarm).
    Empty,
    /// At most this many batches (a reader's flush).
    Batches(usize),
    /// Until a batch is not full (the prompt drain): what arrives while D1 writes a batch is
    /// gathered for [`KICK_DELAY_MS`] into the next one, rather than sent at once in batches
    /// of one or two, each with the same fixed work (the rollups' recompute, the outbox's
    /// bookkeeping).
    ShortBatch,
}
#[derive(Deserialize)]
struct Waiting {
    seq: i64,
    op: String,
    attempts: i64,
}

impl Hub {
    /// Makes sure an alarm will drain the outbox if the prompt drain does not happen (the
    /// object evicted before [`Self::drain_soon`] ran): one due within [`BACKUP_MS`], or at the end
    /// of the backoff while D1 fails.
    pub(super) async fn ensure_drain_alarm(&self) -> worker::Result<()> {
        let retry = self
            .meta_get("outbox_retry_at")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        self.schedule_at(retry.max(http::now_ms() + BACKUP_MS))
            .await
    }

    /// After an event was taken: copies the outbox to D1 shortly ([`KICK_DELAY_MS`]), off the
    /// pop's path and after the answer, unless a drain is already pending or running (it takes
    /// what arrived meanwhile) or D1 is being waited out. The alarm set by
    /// [`Self::ensure_drain_alarm`] drains if this does not happen (the object evicted).
    pub(super) fn drain_soon(&self) {
        let retry = self
            .meta_get("outbox_retry_at")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        if self.draining.get() || retry > http::now_ms() {
            return;
        }
        self.draining.set(true);
        let hub = self.handle();
        worker::wasm_bindgen_futures::spawn_local(async move {
            // Events arriving meanwhile join this drain: one D1 batch (and one set of outbox
            // writes, which hold the object's outgoing messages like any write) for all of them.
            let left = loop {
                worker::Delay::from(std::time::Duration::from_millis(KICK_DELAY_MS)).await;
                match hub.drain(Until::ShortBatch).await {
                    // A short batch written: more may have come meanwhile, gathered by the next
                    // kick (an empty outbox ends the loop there).
                    Ok(Some(at)) if at <= http::now_ms() => continue,
                    left => break left,
                }
            };
            hub.draining.set(false);
            let scheduled = match left {
                Ok(Some(at)) => hub.schedule_at(at).await.map_err(ApiError::from),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = scheduled {
                worker::console_warn!(
                    "{}",
                    serde_json::json!({"event": "outbox_drain_failed", "error": e.code(),
                        "detail": e.detail()})
                );
            }
        });
    }

    /// Sets the alarm for `at` (epoch ms) unless one is due sooner.
    pub(super) async fn schedule_at(&self, at: i64) -> worker::Result<()> {
        let now = http::now_ms();
        if self
            .alarm_at
            .get()
            .is_some_and(|due| due <= at && due > now)
        {
            return Ok(());
        }
        let storage = self.state.storage();
        let current = storage.get_alarm().await?;
        if current.is_none_or(|c| c > at) {
            storage.set_alarm((at - now).max(0)).await?;
            self.alarm_at.set(Some(at));
        } else {
            self.alarm_at.set(current);
        }
        Ok(())
    }

    /// Copies the outbox to D1 until it is empty, D1 fails, or `until` says to stop. Returns
    /// when to try again (epoch ms), if anything is (or may be) left: now when `until` stopped
    /// it, later while D1 fails.
    ///
    /// Two drains may overlap (the alarm, and a reader's flush): both may then write the same
    /// operations, which is harmless because every statement is idempotent and monotonic (a
    /// call's state only moves forward, its first facts stay, a delivery is logged once).
    pub(super) async fn drain(&self, until: Until) -> ApiResult<Option<i64>> {
        let db = self.env.d1("DB")?;
        let mut batches = 0;
        loop {
            if matches!(until, Until::Batches(m) if batches >= m) {
                return Ok(Some(http::now_ms()));
            }
            batches += 1;
            let rows: Vec<Waiting> = self
                .sql()
                .exec(
                    "SELECT seq, op, attempts FROM outbox ORDER BY seq LIMIT ?",
                    vec![BATCH_OPS.into()],
                )?
                .to_array()?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                self.meta_delete("outbox_retry_at")?;
                return Ok(None);
            };
            let ops: Vec<(i64, Option<Op>, i64)> = rows
                .iter()
                .map(|r| (r.seq, serde_json::from_str::<Op>(&r.op).ok(), r.attempts))
                .collect();
            match self
                .apply(&db, ops.iter().filter_map(|(_, o, _)| o.as_ref()))
                .await
            {
                Ok(()) => {
                    // Unreadable rows (none expected) are set aside with the batch's others.
                    for (seq, op, _) in &ops {
                        if op.is_none() {
                            self.dead(*seq, "unreadable operation")?;
                        }
                    }
                    self.sql()
                        .exec("DELETE FROM outbox WHERE seq <= ?", vec![last.into()])?;
                    self.events_left(ops.iter().filter_map(|(_, o, _)| o.as_ref()))?;
                    self.drained(ops.iter().filter_map(|(_, o, _)| o.as_ref()));
                    self.add_to("outbox_drained", rows.len() as i64)?;
                    if until == Until::ShortBatch && (rows.len() as i64) < BATCH_OPS {
                        self.meta_delete("outbox_failures")?;
                        return Ok(Some(http::now_ms()));
                    }
                }
                Err(e) if e.status() == 503 || rows.len() == 1 => {
                    // D1 unavailable (or the one operation left is refused): back off.
                    let first = &ops[0];
                    if e.status() != 503 && first.2 + 1 >= MAX_ATTEMPTS {
                        self.dead(first.0, &format!("{}: {}", e.code(), e.detail()))?;
                        self.sql()
                            .exec("DELETE FROM outbox WHERE seq = ?", vec![first.0.into()])?;
                        self.events_left(first.1.iter())?;
                        continue;
                    }
                    self.sql().exec(
                        "UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?",
                        vec![first.0.into()],
                    )?;
                    let failures = self.add_to("outbox_failures", 1)?;
                    let wait = (1000i64 << failures.clamp(0, 6)).min(BACKOFF_MAX_MS);
                    let at = http::now_ms() + wait;
                    self.meta_set("outbox_retry_at", &at.to_string())?;
                    worker::console_warn!(
                        "{}",
                        json!({"event": "outbox_drain_failed", "waiting": self.waiting(),
                            "retryInMs": wait, "error": e.code(), "detail": e.detail()})
                    );
                    return Ok(Some(at));
                }
                Err(_) => {
                    // One of the batch is refused by D1 (a constraint): apply them one by one,
                    // so the good ones land and the bad one is found.
                    for (seq, op, attempts) in &ops {
                        let Some(op) = op else {
                            self.dead(*seq, "unreadable operation")?;
                            self.sql()
                                .exec("DELETE FROM outbox WHERE seq = ?", vec![(*seq).into()])?;
                            continue;
                        };
                        match self.apply(&db, std::iter::once(op)).await {
                            Ok(()) => self.drained(std::iter::once(op)),
                            Err(e) if e.status() == 503 => break,
                            Err(e) if attempts + 1 >= MAX_ATTEMPTS => {
                                self.dead(*seq, &format!("{}: {}", e.code(), e.detail()))?;
                            }
                            Err(_) => {
                                self.sql().exec(
                                    "UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?",
                                    vec![(*seq).into()],
                                )?;
                                break;
                            }
                        }
                        self.sql()
                            .exec("DELETE FROM outbox WHERE seq = ?", vec![(*seq).into()])?;
                        self.events_left(std::iter::once(op))?;
                    }
                }
            }
            self.meta_delete("outbox_failures")?;
        }
    }

    /// Runs operations as one D1 batch (one transaction), then tells the consoles whose
    /// callback lists changed.
    async fn apply<'a>(
        &self,
        db: &worker::D1Database,
        ops: impl Iterator<Item = &'a Op>,
    ) -> ApiResult<()> {
        let mut own = vec![];
        let mut callback_at = vec![];
        let mut ids = vec![];
        for op in ops {
            let (v, cb) = op.statements();
            if let (Some(i), Op::Event { call, .. }) = (cb, op) {
                // +1: the rollups' first mark goes before the batch's own statements.
                callback_at.push((own.len() + i + 1, call.id.clone(), call.phase.clone()));
            }
            ids.extend(op.call_ids());
            own.extend(v);
        }
        if own.is_empty() {
            return Ok(());
        }
        // The 着信分析 rollups of the hours these calls fall in, in the same transaction.
        let stmts = rollups::wrap(&ids, own)
            .iter()
            .map(|s| s.d1(db))
            .collect::<ApiResult<Vec<_>>>()?;
        let results = db
            .batch(stmts)
            .await
            .map_err(|e| ApiError::from_storage(e.to_string()))?;
        for (i, call, phase) in callback_at {
            for store in callbacks::changed_stores(&results[i])? {
                self.broadcast(hub_client::callbacks_changed(
                    store,
                    &format!("callbacks:{call}:{phase}:{store:?}"),
                ))?;
            }
        }
        Ok(())
    }

    fn dead(&self, seq: i64, error: &str) -> ApiResult<()> {
        worker::console_error!(
            "{}",
            json!({"event": "outbox_operation_set_aside", "seq": seq, "error": error})
        );
        self.sql().exec(
            "INSERT OR REPLACE INTO outbox_dead (seq, op, error, created_at) \
             SELECT seq, op, ?, ? FROM outbox WHERE seq = ?",
            vec![error.into(), http::now_ms().into(), seq.into()],
        )?;
        Ok(())
    }
}
