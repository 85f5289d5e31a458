//! The outbox: the D1 writes of every event, kept in the hub's SQLite (in the same step as the
//! pop) and copied to D1 (`super::drain`), in order, in batches, idempotently. While D1 fails the
//! alarm backs off and pops go on; when D1 answers again, everything lands, nothing doubles
//! (each statement is idempotent and a batch is one D1 transaction, so a drain interrupted
//! after D1 committed but before the hub forgot the rows only runs them again).
use super::Hub;
use crate::db::callbacks::{self, CallFacts};
use crate::db::calls::{self as record, CallRow, EventRow};
use crate::domain::error::ApiError;
use crate::platform::http::{self, ApiResult};
use crate::platform::sql::Stmt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Above this many waiting operations, health warns.
pub(super) const WARN_AT: i64 = 10_000;
/// At this many, new events are refused with a 503 (Dialpad retries them) rather than
/// growing the hub's storage without end while D1 stays down.
const MAX_WAITING: i64 = 200_000;
/// Call events the hub ran (duplicates not counted), added as they leave the outbox
/// (`events_left`); the health figure adds those still waiting.
pub(super) const EVENTS_COUNTER: &str = "count_events";

/// One unit of D1 work, in the order it happened.
// Ops live one at a time, on their way to or from their JSON: boxing the large variant buys
// nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// A call event: its log row, the call upsert, the pop claim, the store and customer
    /// links, the callback list.
    Event {
        event: EventRow,
        call: CallRow,
        pop_key: Option<String>,
        store_id: Option<i64>,
        customer_id: Option<i64>,
        callback: Option<CallFacts>,
    },
    /// Calls closed as 不明 by the stale sweep.
    Close { ids: Vec<String>, cutoff: i64 },
}

/// Reads what `Serialize` wrote (`{"op": "event", …}`). The derived reader of an internally
/// tagged enum buffers every field in serde's `Content` first (the tag may come last), ~5 KB
/// of the pop module's gzip size; one flat struct reads the same JSON directly.
impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            Event,
            Close,
        }
        #[derive(Deserialize)]
        struct Flat {
            op: Kind,
            event: Option<EventRow>,
            call: Option<CallRow>,
            pop_key: Option<String>,
            store_id: Option<i64>,
            customer_id: Option<i64>,
            callback: Option<CallFacts>,
            ids: Option<Vec<String>>,
            cutoff: Option<i64>,
        }
        let f = Flat::deserialize(d)?;
        Ok(match f.op {
            Kind::Event => Op::Event {
                event: f.event.ok_or_else(|| D::Error::missing_field("event"))?,
                call: f.call.ok_or_else(|| D::Error::missing_field("call"))?,
                pop_key: f.pop_key,
                store_id: f.store_id,
                customer_id: f.customer_id,
                callback: f.callback,
            },
            Kind::Close => Op::Close {
                ids: f.ids.ok_or_else(|| D::Error::missing_field("ids"))?,
                cutoff: f.cutoff.ok_or_else(|| D::Error::missing_field("cutoff"))?,
            },
        })
    }
}

impl Op {
    /// The D1 statements, and the index (among them) of the callback statement that returns the
    /// stores whose list changed, if any.
    pub(super) fn statements(&self) -> (Vec<Stmt>, Option<usize>) {
        match self {
            Op::Event {
                event,
                call,
                pop_key,
                store_id,
                customer_id,
                callback,
            } => {
                let mut v = vec![record::insert_event(event), record::upsert_call(call)];
                if let Some(key) = pop_key {
                    v.push(record::claim_pop(&call.id, key));
                }
                v.push(record::finish(&call.id, *store_id, *customer_id));
                let queue = callback
                    .as_ref()
                    .map(|c| callbacks::on_call_event(c, call.now_ms))
                    .unwrap_or_default();
                // The last of the queue's statements says which store's list changed.
                let cb = (!queue.is_empty()).then(|| v.len() + queue.len() - 1);
                v.extend(queue);
                (v, cb)
            }
            Op::Close { ids, cutoff } => (
                vec![record::close_stale(
                    &serde_json::to_string(ids).unwrap_or_else(|_| "[]".into()),
                    *cutoff,
                )],
                None,
            ),
        }
    }

    fn call_id(&self) -> &str {
        match self {
            Op::Event { call, .. } => &call.id,
            Op::Close { .. } => "",
        }
    }

    /// Every call the operation writes.
    pub(super) fn call_ids(&self) -> Vec<&str> {
        match self {
            Op::Event { call, .. } => vec![&call.id],
            Op::Close { ids, .. } => ids.iter().map(String::as_str).collect(),
        }
    }
}

impl Hub {
    /// The hub's own working tables: calls and their legs (the live state the pop decides
    /// from, and the figures of a card), and the outbox.
    pub(super) fn init_pipeline(sql: &worker::SqlStorage) {
        for ddl in [
            "CREATE TABLE IF NOT EXISTS calls (id TEXT PRIMARY KEY, direction TEXT NOT NULL, \
               caller TEXT NOT NULL DEFAULT '', dialled TEXT NOT NULL DEFAULT '', store_id INTEGER, \
               customer_id INTEGER, state TEXT NOT NULL, phase TEXT NOT NULL, \
               rank INTEGER NOT NULL DEFAULT 0, popped_by TEXT, is_test INTEGER NOT NULL DEFAULT 0, \
               started_at INTEGER NOT NULL, connected_at INTEGER, ended_at INTEGER, duration_ms INTEGER, \
               answered_by TEXT, updated_at INTEGER NOT NULL, voicemail_url TEXT, recording_urls TEXT, \
               transcript TEXT, summary TEXT)",
            "CREATE INDEX IF NOT EXISTS calls_caller ON calls(caller, started_at DESC)",
            // The card's figures read this index alone (migrations/0009 gives D1 the same).
            "CREATE INDEX IF NOT EXISTS calls_caller_usage ON calls(caller, is_test, started_at, store_id, phase)",
            // The card's missed calls (migrations/0010 gives D1 the same).
            "CREATE INDEX IF NOT EXISTS calls_caller_phase ON calls(caller, is_test, phase, started_at, store_id)",
            // A store's card (`cards::by_phone_with_store`): the caller's calls at one store.
            "CREATE INDEX IF NOT EXISTS calls_caller_store ON calls(caller, is_test, store_id, started_at, phase)",
            "CREATE INDEX IF NOT EXISTS calls_open ON calls(rank, updated_at)",
            "CREATE TABLE IF NOT EXISTS call_events (call_id TEXT NOT NULL, state TEXT NOT NULL, \
               group_id TEXT NOT NULL, received_at INTEGER NOT NULL, event_ts INTEGER, \
               rank INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (call_id, state))",
            "CREATE INDEX IF NOT EXISTS call_events_group ON call_events(group_id)",
            "CREATE INDEX IF NOT EXISTS call_events_received ON call_events(received_at)",
            "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, \
               call_id TEXT NOT NULL, op TEXT NOT NULL, created_at INTEGER NOT NULL, \
               attempts INTEGER NOT NULL DEFAULT 0)",
            "CREATE INDEX IF NOT EXISTS outbox_call ON outbox(call_id)",
            "CREATE TABLE IF NOT EXISTS outbox_dead (seq INTEGER PRIMARY KEY, op TEXT NOT NULL, \
               error TEXT NOT NULL, created_at INTEGER NOT NULL)",
        ] {
            let _ = sql.exec(ddl, None);
        }
    }

    pub(super) fn waiting(&self) -> i64 {
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        self.sql()
            .exec("SELECT count(*) AS n FROM outbox", None)
            .and_then(|c| c.one::<N>())
            .map_or(0, |n| n.n)
    }

    /// Checked on every event, so by the ends of the sequence (two index lookups) rather than
    /// a count: rows leave from the front, so the span is the number waiting, or a little more.
    pub(super) fn outbox_full(&self) -> bool {
        #[derive(Deserialize)]
        struct N {
            n: Option<i64>,
        }
        self.sql()
            .exec("SELECT max(seq) - min(seq) + 1 AS n FROM outbox", None)
            .and_then(|c| c.one::<N>())
            .is_ok_and(|n| n.n.unwrap_or(0) >= MAX_WAITING)
    }

    pub(super) fn append(&self, op: &Op) -> ApiResult<()> {
        let text = serde_json::to_string(op).map_err(|e| ApiError::Unavailable(e.to_string()))?;
        self.sql().exec(
            "INSERT INTO outbox (call_id, op, created_at) VALUES (?, ?, ?)",
            vec![
                op.call_id().into(),
                text.as_str().into(),
                http::now_ms().into(),
            ],
        )?;
        Ok(())
    }

    /// Call events that just left the outbox (written to D1 or set aside) are added to the
    /// hub's events counter, in the same synchronous step as their `DELETE`: the count is
    /// exact across restarts, with no write of its own per event (`index_stats` adds the
    /// events still waiting).
    pub(super) fn events_left<'a>(&self, ops: impl Iterator<Item = &'a Op>) -> ApiResult<()> {
        let n = ops.filter(|op| matches!(op, Op::Event { .. })).count() as i64;
        if n > 0 {
            self.add_to(EVENTS_COUNTER, n)?;
        }
        Ok(())
    }

    /// The call events in the outbox, not yet counted by [`Self::events_left`]: every
    /// operation but the stale sweep's closes, the only ones with no call of their own
    /// (`Op::call_id`), found through `outbox_call` without reading an operation's JSON (a
    /// health check during a long D1 outage counts up to `MAX_WAITING` rows).
    pub(super) fn events_waiting(&self) -> i64 {
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        self.sql()
            .exec(
                "SELECT (SELECT count(*) FROM outbox) - \
                   (SELECT count(*) FROM outbox WHERE call_id = '') AS n",
                None,
            )
            .and_then(|c| c.one::<N>())
            .map_or(0, |n| n.n)
    }

    pub(super) fn outbox_stats(&self) -> Value {
        #[derive(Deserialize)]
        struct S {
            waiting: i64,
            oldest: Option<i64>,
            dead: i64,
        }
        let s = self
            .sql()
            .exec(
                "SELECT (SELECT count(*) FROM outbox) AS waiting, \
                   (SELECT min(created_at) FROM outbox) AS oldest, \
                   (SELECT count(*) FROM outbox_dead) AS dead",
                None,
            )
            .and_then(|c| c.one::<S>())
            .ok();
        let num = |k: &str| self.meta_get(k).and_then(|v| v.parse::<i64>().ok());
        let waiting = s.as_ref().map_or(0, |s| s.waiting);
        let mut warnings = vec![];
        if waiting >= WARN_AT {
            warnings.push(format!("{waiting} call events wait for D1"));
        }
        if s.as_ref().is_some_and(|s| s.dead > 0) {
            warnings.push("some call events could not be written to D1 (outbox_dead)".into());
        }
        json!({
            "waiting": waiting,
            "oldestWaiting": s.as_ref().and_then(|s| s.oldest).map(http::iso),
            "setAside": s.as_ref().map_or(0, |s| s.dead),
            "drained": num("outbox_drained").unwrap_or(0),
            "failuresInARow": num("outbox_failures").unwrap_or(0),
            "retryAt": num("outbox_retry_at").map(http::iso),
            "warnings": warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(pop_key: Option<&str>, callback: bool) -> Op {
        Op::Event {
            event: EventRow {
                call_id: "1".into(),
                state: "ringing".into(),
                group_id: "1".into(),
                received_at: 5,
                event_ts: None,
                rank: 1,
            },
            call: CallRow {
                id: "1".into(),
                direction: "inbound".into(),
                caller: "09012345678".into(),
                dialled: "05017481234".into(),
                state: "ringing".into(),
                phase: "ringing".into(),
                rank: 1,
                is_test: false,
                started_at: 4,
                connected_at: None,
                ended_at: None,
                duration_ms: Some(1500),
                answered_by: Some("西船橋".into()),
                now_ms: 5,
                leg: "1".into(),
                voicemail_url: None,
                recording_urls: Some("[\"https://x/r\"]".into()),
                transcript: None,
                summary: None,
            },
            pop_key: pop_key.map(Into::into),
            store_id: Some(1),
            customer_id: None,
            callback: callback.then(|| CallFacts {
                call_id: "1".into(),
                caller: "09012345678".into(),
                direction: "inbound".into(),
                phase: "missed".into(),
                connected: false,
                store_id: Some(1),
                started_at: Some(4),
            }),
        }
    }

    #[test]
    fn every_op_reads_back_what_it_wrote() {
        let close = Op::Close {
            ids: vec!["1".into(), "2".into()],
            cutoff: 9,
        };
        for op in [event(Some("1:ringing"), true), event(None, false), close] {
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(serde_json::from_str::<Op>(&json).unwrap(), op, "{json}");
        }
    }

    #[test]
    fn an_outbox_row_written_before_started_at_still_reads() {
        let mut json = serde_json::to_value(event(None, true)).unwrap();
        json["callback"]
            .as_object_mut()
            .unwrap()
            .remove("started_at");
        let Op::Event { callback, .. } = serde_json::from_value::<Op>(json).unwrap() else {
            panic!("an event")
        };
        assert_eq!(callback.unwrap().started_at, None);
        // A missed call: the item (if none is open) and the call's link, which answers.
        let (stmts, cb) = event(None, true).statements();
        assert_eq!(cb, Some(stmts.len() - 1));
        assert!(stmts[cb.unwrap()].sql.contains("RETURNING"));
    }

    #[test]
    fn the_tag_may_come_anywhere_and_a_missing_part_is_an_error() {
        let op: Op = serde_json::from_str(r#"{"ids":["7"],"cutoff":3,"op":"close"}"#).unwrap();
        assert_eq!(
            op,
            Op::Close {
                ids: vec!["7".into()],
                cutoff: 3
            }
        );
        assert!(serde_json::from_str::<Op>(r#"{"op":"close","ids":[]}"#).is_err());
        assert!(serde_json::from_str::<Op>(r#"{"op":"event","call":null}"#).is_err());
        assert!(serde_json::from_str::<Op>(r#"{"op":"other"}"#).is_err());
    }
}
