//! The hub: one Durable Object per tenant that holds every console's WebSocket and fans call
//! events out to the rooms that may see them.
//!
//! Sockets are accepted with the hibernation API, so an idle hub is evicted from memory while
//! its sockets stay open. What a socket is lives with the runtime: its room is its hibernation
//! tag and its user is its serialized attachment, both handed back (`get_websockets_with_tag`,
//! `deserialize_attachment`) after a wake-up. Rust memory holds only a cache of them (each
//! room's list, dropped whenever a socket changes), which a new instance reads again.
//!
//! Recent events are kept in the object's SQLite storage with a sequence number, so a console
//! that reconnects asks for "everything after seq N" and misses nothing.
//!
//! Access ends when it should, without a D1 read on the pop's path: the hub keeps what it
//! needs about users in its own SQLite (`users`: token version, role, store, disabled;
//! `revoked_sessions`: logged-out session ids, looked up by key for the one socket that
//! connects or asks for a replay, never loaded as a set) and checks every socket against it
//! before sending anything, a broadcast and a `sync` replay alike.
//! - A change made through the Worker (logout, log out everywhere) reaches the hub as
//!   `/revoke` before the Worker answers: the user's sockets are closed with 4001 at once.
//! - A change made straight in D1 (the `npm run user` CLI) is found by the hub's alarm, which
//!   re-reads the connected users from D1 every `HUB_RECHECK_SECS` (20 s) and renews each
//!   socket's lease (3 re-checks long). A socket whose lease ran out (D1 did not answer) is
//!   sent nothing and asked to reconnect (1013), which re-authenticates through the Worker.
//!
//! Per user at most `MAX_SOCKETS_PER_USER` sockets; each socket's messages spend a small
//! token bucket, and a socket that floods (or sends anything oversized or binary) is closed,
//! so it costs the hub one cheap check per message and never slows the others.
mod claim;
mod connect;
mod drain;
mod index;
mod meta;
mod outbox;
mod pop;
mod rebuild;
mod sockets;

use crate::db::users;
use crate::domain::access;
use crate::domain::error::ApiError;
use crate::domain::limiter;
use crate::domain::messages::{
    self, BroadcastRequest, BroadcastResult, EventRequest, IndexChange, RevokeRequest,
    RevokeResult, SocketInfo, UserState,
};
use crate::domain::prefix::StoreTable;
use crate::domain::protocol::{close, ClientMessage, ErrorCode, HubRequest, SocketMessage};
use crate::domain::token::Role;
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client::SOCKET_HEADER;
use serde::Deserialize;
use sockets::{tag_session, tag_user, Access};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use worker::wasm_bindgen;
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, ResponseBuilder, State,
    WebSocket, WebSocketIncomingMessage, WebSocketPair, WebSocketRequestResponsePair,
};

/// How long events stay replayable, and how many at most.
const KEEP_MS: i64 = 15 * 60 * 1000;
const KEEP_COUNT: i64 = 2000;
/// The log is pruned every this many events (one DELETE, not one per event): it holds at most
/// `KEEP_COUNT + PRUNE_EVERY - 1` events, some up to that many events past `KEEP_MS`.
const PRUNE_EVERY: i64 = 32;
/// How often the alarm re-reads the connected users from D1 (default; `HUB_RECHECK_SECS`).
const RECHECK_SECS: i64 = 20;
/// A socket's lease lasts this many re-checks: one failed D1 read does not cut anyone off.
const LEASE_RECHECKS: i64 = 3;

/// How long a logged-out session id is remembered. Its sockets are closed at once and the
/// Worker refuses its token (the D1 row is gone), so this only covers a connect racing the
/// logout (a keyed lookup at connect and `sync`).
const REVOKED_KEEP_MS: i64 = 60 * 60 * 1000;

/// How long a leg's deliveries are kept for dedupe once its call is over: far longer than the
/// replay window (`domain::replay`) outside which a delivery is refused anyway.
const LEGS_KEEP_MS: i64 = 24 * 3600 * 1000;

/// At most this many outbox batches are written for a reader's flush.
const FLUSH_BATCHES: usize = 8;

/// The class is `CallHub` in the pop Worker: a name of its own, because the console Worker,
/// which held the hub as `Hub` before the two Workers, deletes that class (wrangler.toml,
/// migration v2) and Cloudflare refuses to delete a class that a binding of the same name
/// still refers to. In the crate it is `Hub`.
#[cfg_attr(feature = "pop", durable_object)]
pub struct CallHub {
    state: State,
    env: Env,
    /// When the alarm this instance last set is due (epoch ms): lets an event skip the two
    /// storage round trips of asking and setting the alarm when one is due soon anyway.
    alarm_at: Rc<Cell<Option<i64>>>,
    /// Whether a prompt drain is pending or running (one at a time; readers' flushes do not
    /// wait on it).
    draining: Rc<Cell<bool>>,
    /// When this instance last tried to build a never-built index on an event's path.
    index_tried_at: Rc<Cell<Option<i64>>>,
    /// This instance's copy of the `meta` table (`index::meta_get`).
    meta: Rc<RefCell<HashMap<String, Option<String>>>>,
    /// Each room's sockets with their attachments, read once and kept until a socket comes,
    /// goes or has its attachment renewed (`sockets::room_sockets`).
    rooms: Rc<RefCell<HashMap<String, Rc<sockets::RoomSockets>>>>,
    /// Every user the hub knows (`sockets::known`; a revoked session is looked up by key).
    known_all: Rc<RefCell<Option<Rc<sockets::Known>>>>,
    /// The pop index rebuilds running and what write paths changed meanwhile
    /// (`index::rebuild` applies it again after replacing the index).
    rebuilds: Rc<RefCell<rebuild::Rebuilds>>,
    /// The newest seq of the event log, once read (`connect::latest_seq`).
    latest: Rc<Cell<Option<i64>>>,
    /// What each session was replayed in the last minute (`connect::Replays`).
    replays: Rc<RefCell<connect::Replays>>,
    /// The stores' lines (`stores::TABLE_SQL` on the index), read once and kept until the
    /// index's stores are written again (`index::stores_written`).
    stores_table: Rc<RefCell<Option<Rc<StoreTable>>>>,
}

pub type Hub = CallHub;

impl Hub {
    /// The same object, owned: for work that goes on after the request that started it (the
    /// prompt drain). The in-memory state is shared, not copied.
    fn handle(&self) -> Hub {
        Hub {
            state: {
                use worker::wasm_bindgen::JsCast;
                let raw: &wasm_bindgen::JsValue = self.state.as_raw().as_ref();
                State::from(
                    raw.clone()
                        .unchecked_into::<worker::worker_sys::DurableObjectState>(),
                )
            },
            env: self.env.clone(),
            alarm_at: self.alarm_at.clone(),
            draining: self.draining.clone(),
            index_tried_at: self.index_tried_at.clone(),
            meta: self.meta.clone(),
            rooms: self.rooms.clone(),
            known_all: self.known_all.clone(),
            rebuilds: self.rebuilds.clone(),
            latest: self.latest.clone(),
            replays: self.replays.clone(),
            stores_table: self.stores_table.clone(),
        }
    }
}

impl Hub {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    fn broadcast(&self, req: BroadcastRequest) -> ApiResult<BroadcastResult> {
        let now = http::now_ms();
        if req.live {
            // Live only (`call_wrapup`): nothing stored, no seq, never replayed.
            let customer = messages::is_customer_change(&req.message);
            let delivered = self.send_to_rooms(req.store_id, customer, &req.message, None, now)?;
            return Ok(BroadcastResult {
                delivered,
                seq: None,
                duplicate: false,
            });
        }
        // Only three fields are needed: the rest of the message is skipped, not built.
        let head = messages::Head::of(&req.message)
            .map_err(|e| ApiError::bad("invalid_message", "message", e.to_string()))?;
        let customer = head.is_customer_change();
        let call_id = head.call_id.unwrap_or_else(|| req.key.clone());
        let live = matches!(
            head.phase.as_deref(),
            Some("ringing" | "connected" | "hold")
        );
        #[derive(Deserialize)]
        struct Seq {
            seq: i64,
        }
        let inserted: Vec<Seq> = self
            .sql()
            .exec(
                "INSERT INTO events (key, call_id, store_id, live, created_at, body, staff_body) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING seq",
                vec![
                    req.key.as_str().into(),
                    call_id.as_str().into(),
                    req.store_id.into(),
                    (live as i64).into(),
                    now.into(),
                    req.message.as_str().into(),
                    req.staff_message.as_deref().into(),
                ],
            )?
            .to_array()?;
        let Some(Seq { seq }) = inserted.into_iter().next() else {
            return Ok(BroadcastResult {
                delivered: 0,
                seq: None,
                duplicate: true,
            });
        };
        self.latest.set(Some(seq));
        let text = messages::with_seq(&req.message, seq);
        // The store room hears the staff version when there is one; the admin room the whole.
        let staff_text = req
            .staff_message
            .as_deref()
            .map(|m| messages::with_seq(m, seq));
        let delivered =
            self.send_to_rooms(req.store_id, customer, &text, staff_text.as_deref(), now)?;
        if seq % PRUNE_EVERY == 0 {
            self.prune(now, seq)?;
        }
        Ok(BroadcastResult {
            delivered,
            seq: Some(seq),
            duplicate: false,
        })
    }

    /// Forgets what is past the replay window, as of the event `seq` just inserted.
    fn prune(&self, now: i64, seq: i64) -> worker::Result<()> {
        self.sql().exec(
            "DELETE FROM events WHERE created_at < ? OR seq <= ?",
            vec![(now - KEEP_MS).into(), (seq - KEEP_COUNT).into()],
        )?;
        Ok(())
    }

    fn stats(&self) -> serde_json::Value {
        // Counted, so a test can show that an anonymous health check never reaches the hub.
        let _ = self.add_to(meta::STATS_COUNTER, 1);
        let sockets = self.state.get_websockets();
        serde_json::json!({
            "statsRequests": self.meta_get(meta::STATS_COUNTER).and_then(|v| v.parse::<i64>().ok()),
            "sockets": sockets.len(),
            "admin": self.state.get_websockets_with_tag(access::ADMIN_ROOM).len(),
            "seq": self.latest_seq(),
            "index": self.index_stats(),
            "outbox": self.outbox_stats(),
        })
    }

    async fn route(&self, mut req: Request) -> ApiResult<Response> {
        let Some(request) = HubRequest::parse(req.method() == Method::Get, &req.path()) else {
            return Err(ApiError::NotFound);
        };
        if !request.is_get() && req.method() != Method::Post {
            return Err(ApiError::NotFound);
        }
        match request {
            HubRequest::Connect => self.accept(&req).await,
            HubRequest::Revoke => {
                let body: RevokeRequest = http::read_json(&mut req, 4096).await?;
                Ok(http::json_response(200, &self.revoke(body)?)?)
            }
            HubRequest::Broadcast => {
                let body: BroadcastRequest = http::read_json(&mut req, 256 * 1024).await?;
                Ok(http::json_response(200, &self.broadcast(body)?)?)
            }
            HubRequest::Event => {
                let body: EventRequest = http::read_json(&mut req, 256 * 1024).await?;
                // The Worker passes this answer on to Dialpad as it is (its headers included).
                Ok(http::json_response(200, &self.on_event(body).await?)?)
            }
            HubRequest::Index => {
                let body: IndexChange = http::read_json(&mut req, 256 * 1024).await?;
                Ok(http::json_response(200, &self.index_change(&body).await?)?)
            }
            HubRequest::Sweep => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Sweep {
                    now: i64,
                    retention_cutoff: Option<i64>,
                }
                let body: Sweep = http::read_json(&mut req, 4096).await?;
                Ok(http::json_response(
                    200,
                    &self.sweep(body.now, body.retention_cutoff).await?,
                )?)
            }
            HubRequest::Flush => {
                // A reader of the call log first gets what waits in the outbox into D1, so a
                // call that just popped is in the log it reads. Bounded: a long backlog (D1
                // was down) is left to the alarm.
                let left = self.drain(drain::Until::Batches(FLUSH_BATCHES)).await?;
                if let Some(at) = left {
                    self.schedule_at(at).await?;
                }
                Ok(http::json_response(
                    200,
                    &serde_json::json!({"waiting": self.waiting()}),
                )?)
            }
            HubRequest::Stats => Ok(http::json_response(200, &self.stats())?),
        }
    }
}

#[cfg(feature = "pop")]
impl DurableObject for Hub {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        crate::platform::sql::create_all(
            &sql,
            &[
                "CREATE TABLE IF NOT EXISTS users (uid INTEGER PRIMARY KEY, tv INTEGER NOT NULL, \
                   disabled INTEGER NOT NULL, role TEXT, store INTEGER)",
                "CREATE TABLE IF NOT EXISTS revoked_sessions (sid TEXT PRIMARY KEY, until INTEGER NOT NULL)",
                "CREATE INDEX IF NOT EXISTS revoked_until ON revoked_sessions(until)",
                "CREATE TABLE IF NOT EXISTS events (\
                   seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, \
                   call_id TEXT NOT NULL, store_id INTEGER, live INTEGER NOT NULL, \
                   created_at INTEGER NOT NULL, body TEXT NOT NULL, staff_body TEXT)",
            ],
        );
        // Hubs created before `staff_body` existed get the column once.
        #[derive(Deserialize)]
        struct N {
            n: i64,
        }
        let has_staff_body = sql
            .exec(
                "SELECT count(*) AS n FROM pragma_table_info('events') WHERE name = 'staff_body'",
                None,
            )
            .and_then(|c| c.one::<N>())
            .map_or(true, |r| r.n > 0);
        if !has_staff_body {
            let _ = sql.exec("ALTER TABLE events ADD COLUMN staff_body TEXT", None);
        }
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS events_created ON events(created_at)",
            None,
        );
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS events_call ON events(call_id, seq)",
            None,
        );
        Self::init_index(&sql);
        Self::init_pipeline(&sql);
        // Answered by the runtime itself, without waking the object: the browser's liveness
        // probe costs nothing even while the hub hibernates.
        if let Ok(pair) = WebSocketRequestResponsePair::new("ping", "pong") {
            state.set_websocket_auto_response(&pair);
        }
        Self {
            state,
            env,
            alarm_at: Default::default(),
            draining: Default::default(),
            index_tried_at: Default::default(),
            meta: Default::default(),
            rooms: Default::default(),
            known_all: Default::default(),
            rebuilds: Default::default(),
            latest: Default::default(),
            replays: Default::default(),
            stores_table: Default::default(),
        }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        http::respond(self.route(req).await)
    }

    /// One alarm for three jobs: copy the outbox to D1 (as soon as something waits, backing
    /// off while D1 fails), re-check the connected users every `HUB_RECHECK_SECS`, and compare
    /// the pop index with D1 every few minutes while consoles are connected.
    async fn alarm(&self) -> worker::Result<Response> {
        self.alarm_at.set(None);
        let now = http::now_ms();
        let mut next: Option<i64> = match self.drain(drain::Until::Empty).await {
            Ok(at) => at,
            Err(e) => {
                worker::console_warn!(
                    "{}",
                    serde_json::json!({"event": "outbox_drain_failed", "error": e.code(), "detail": e.detail()})
                );
                Some(now + 5000)
            }
        };
        if !self.state.get_websockets().is_empty() {
            let due = self
                .meta_get("recheck_at")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            let mut at = due;
            if due <= now {
                self.recheck().await?;
                at = http::now_ms() + self.recheck_ms();
                self.meta_set("recheck_at", &at.to_string())?;
            }
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        // At most every few minutes, and only when the hub has work (an alarm): a change made
        // straight in D1 reaches the index without anyone asking.
        if let Err(e) = self.check_index(now).await {
            worker::console_warn!(
                "{}",
                serde_json::json!({"event": "index_check_failed", "error": e.code()})
            );
        }
        if let Some(at) = next {
            self.schedule_at(at).await?;
        }
        Response::empty()
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        // Whatever the message leads to (a close, a claim) may change who hears what.
        self.sockets_changed();
        let WebSocketIncomingMessage::String(text) = message else {
            return ws.close(Some(close::UNSUPPORTED), Some("text only"));
        };
        if text.len() > limiter::MAX_CLIENT_MESSAGE {
            return ws.close(Some(close::TOO_BIG), Some("message too big"));
        }
        let Some(mut info) = sockets::read_info(&ws)? else {
            return ws.close(Some(close::REVOKED), Some("session ended"));
        };
        let now = http::now_ms();
        if !info.bucket.take(now) {
            return ws.close(Some(close::POLICY), Some("too many messages"));
        }
        sockets::write_info(&ws, &info)?;
        if text == "ping" {
            // Normally answered by the auto-response; kept for runtimes without it.
            return ws.send_with_str("pong");
        }
        match ClientMessage::parse(&text) {
            // A console that noticed a gap asks for a replay without reconnecting: the same
            // checks as a broadcast first.
            Some(ClientMessage::Sync { since }) => {
                let access = Self::access(&info, &*self.known(Some(&info))?, now);
                if access == Access::Allowed {
                    self.catch_up(&ws, &info, since)?;
                } else {
                    Self::close_for(&ws, access);
                }
                Ok(())
            }
            // 「対応中」: this user has the call (answering it, or its wrap-up open).
            Some(ClientMessage::Claim { call_id }) => self.claim(&ws, &info, &call_id, now).await,
            None => ws.send_with_str(SocketMessage::error(ErrorCode::UnknownMessage).text()),
        }
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> worker::Result<()> {
        // Complete the closing handshake. 1005/1006 are reserved and cannot be sent back.
        let code = if code == 1005 || code == 1006 {
            1000
        } else {
            code as u16
        };
        self.sockets_changed();
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, error: worker::Error) -> worker::Result<()> {
        worker::console_warn!(
            "{}",
            serde_json::json!({"event": "socket_error", "error": error.to_string()})
        );
        self.sockets_changed();
        let _ = ws.close(Some(close::SOCKET_ERROR), Some("socket error"));
        Ok(())
    }
}
