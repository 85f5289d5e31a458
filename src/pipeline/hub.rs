//! The hub: one Durable Object per tenant that holds every console's WebSocket and fans call
//! events out to the rooms that may see them.
//!
//! Sockets are accepted with the hibernation API, so an idle hub is evicted from memory while
//! its sockets stay open. Nothing about a socket lives in Rust memory: its room is its
//! hibernation tag and its user is its serialized attachment, both handed back by the runtime
//! (`get_websockets_with_tag`, `deserialize_attachment`) after a wake-up.
//!
//! Recent events are kept in the object's SQLite storage with a sequence number, so a console
//! that reconnects asks for "everything after seq N" and misses nothing.
use super::hub_client::SOCKET_HEADER;
use crate::domain::access;
use crate::domain::error::ApiError;
use crate::domain::messages::{self, BroadcastRequest, BroadcastResult, SocketInfo};
use crate::platform::http::{self, ApiResult};
use serde::Deserialize;
use worker::wasm_bindgen;
use worker::{
    durable_object, DurableObject, Env, Method, Request, Response, ResponseBuilder,
    SqlStorageValue, State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
    WebSocketRequestResponsePair,
};

/// How long events stay replayable, and how many at most.
const KEEP_MS: i64 = 15 * 60 * 1000;
const KEEP_COUNT: i64 = 2000;
#[durable_object]
pub struct Hub {
    state: State,
}

#[derive(Deserialize)]
struct EventRow {
    seq: i64,
    store_id: Option<i64>,
    body: String,
}

impl Hub {
    fn sql(&self) -> worker::SqlStorage {
        self.state.storage().sql()
    }

    fn latest_seq(&self) -> i64 {
        #[derive(Deserialize)]
        struct Max {
            seq: Option<i64>,
        }
        self.sql()
            .exec("SELECT max(seq) AS seq FROM events", None)
            .and_then(|c| c.one::<Max>())
            .ok()
            .and_then(|m| m.seq)
            .unwrap_or(0)
    }

    /// Sends `info`'s socket what it missed: the events after `since`, or, for a fresh
    /// console, the latest event of every call that is still live.
    fn catch_up(
        &self,
        ws: &WebSocket,
        info: &SocketInfo,
        since: Option<i64>,
    ) -> worker::Result<u32> {
        let latest = self.latest_seq();
        let rows: Vec<EventRow> = match since {
            // A `since` from before a storage reset is older than anything we have: the client
            // resynchronises from the hello's seq instead of waiting for numbers never sent.
            Some(s) if s <= latest => self
                .sql()
                .exec(
                    "SELECT seq, store_id, body FROM events WHERE seq > ? ORDER BY seq",
                    vec![SqlStorageValue::from(s)],
                )?
                .to_array()?,
            _ => self
                .sql()
                .exec(
                    "SELECT seq, store_id, body FROM events WHERE seq IN \
                       (SELECT max(seq) FROM events GROUP BY call_id) AND live = 1 ORDER BY seq",
                    None,
                )?
                .to_array()?,
        };
        let viewer = info.viewer();
        let visible: Vec<&EventRow> = rows
            .iter()
            .filter(|r| viewer.may_see_call(r.store_id))
            .collect();
        let mut sent = 0;
        ws.send_with_str(
            serde_json::json!({"type": "hello", "seq": latest, "replay": visible.len()})
                .to_string(),
        )?;
        for row in visible {
            ws.send_with_str(messages::with_seq(&row.body, row.seq))?;
            sent += 1;
        }
        Ok(sent)
    }

    fn accept(&self, req: &Request) -> ApiResult<Response> {
        let info: SocketInfo = req
            .headers()
            .get(SOCKET_HEADER)?
            .and_then(|h| serde_json::from_str(&h).ok())
            .ok_or(ApiError::Unauthenticated("missing_identity"))?;
        let since = http::query_param(req, "since").and_then(|s| s.parse::<i64>().ok());
        let pair = WebSocketPair::new()?;
        let rooms = info.viewer().rooms();
        let tags: Vec<&str> = rooms.iter().map(String::as_str).collect();
        self.state.accept_websocket_with_tags(&pair.server, &tags);
        pair.server.serialize_attachment(&info)?;
        self.catch_up(&pair.server, &info, since)?;
        Ok(ResponseBuilder::new()
            .with_status(101)
            .with_websocket(pair.client)
            .empty())
    }

    fn broadcast(&self, req: BroadcastRequest) -> ApiResult<BroadcastResult> {
        let now = http::now_ms();
        let v: serde_json::Value = serde_json::from_str(&req.message)
            .map_err(|e| ApiError::bad("invalid_message", "message", e.to_string()))?;
        let call_id = v
            .get("callId")
            .and_then(|c| c.as_str())
            .unwrap_or(&req.key)
            .to_string();
        let live = matches!(
            v.get("phase").and_then(|p| p.as_str()),
            Some("ringing" | "connected" | "hold")
        );
        #[derive(Deserialize)]
        struct Seq {
            seq: i64,
        }
        let inserted: Vec<Seq> = self
            .sql()
            .exec(
                "INSERT INTO events (key, call_id, store_id, live, created_at, body) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING RETURNING seq",
                vec![
                    req.key.as_str().into(),
                    call_id.as_str().into(),
                    req.store_id.into(),
                    (live as i64).into(),
                    now.into(),
                    req.message.as_str().into(),
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
        let text = messages::with_seq(&req.message, seq);
        let now_secs = now / 1000;
        let mut delivered = 0;
        for room in access::call_rooms(req.store_id) {
            for ws in self.state.get_websockets_with_tag(&room) {
                match ws.deserialize_attachment::<SocketInfo>() {
                    Ok(Some(info)) if info.exp > now_secs => {
                        if ws.send_with_str(&text).is_ok() {
                            delivered += 1;
                        }
                    }
                    // Session over (or unreadable): the console logs in again.
                    _ => {
                        let _ = ws.close(Some(4001), Some("session expired"));
                    }
                }
            }
        }
        self.prune(now)?;
        Ok(BroadcastResult {
            delivered,
            seq: Some(seq),
            duplicate: false,
        })
    }

    fn prune(&self, now: i64) -> worker::Result<()> {
        self.sql().exec(
            "DELETE FROM events WHERE created_at < ? OR seq <= (SELECT max(seq) FROM events) - ?",
            vec![(now - KEEP_MS).into(), KEEP_COUNT.into()],
        )?;
        Ok(())
    }

    fn stats(&self) -> serde_json::Value {
        let sockets = self.state.get_websockets();
        serde_json::json!({
            "sockets": sockets.len(),
            "admin": self.state.get_websockets_with_tag(access::ADMIN_ROOM).len(),
            "seq": self.latest_seq(),
        })
    }

    async fn route(&self, mut req: Request) -> ApiResult<Response> {
        match (req.method(), req.path().as_str()) {
            (Method::Get, "/connect") => self.accept(&req),
            (Method::Post, "/broadcast") => {
                let body: BroadcastRequest = http::read_json(&mut req, 256 * 1024).await?;
                Ok(http::json_response(200, &self.broadcast(body)?)?)
            }
            (Method::Get, "/stats") => Ok(http::json_response(200, &self.stats())?),
            _ => Err(ApiError::NotFound),
        }
    }
}

impl DurableObject for Hub {
    fn new(state: State, _env: Env) -> Self {
        let sql = state.storage().sql();
        // Runs on every wake-up; IF NOT EXISTS makes it a no-op after the first.
        let _ = sql.exec(
            "CREATE TABLE IF NOT EXISTS events (\
               seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, \
               call_id TEXT NOT NULL, store_id INTEGER, live INTEGER NOT NULL, \
               created_at INTEGER NOT NULL, body TEXT NOT NULL)",
            None,
        );
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS events_created ON events(created_at)",
            None,
        );
        let _ = sql.exec(
            "CREATE INDEX IF NOT EXISTS events_call ON events(call_id, seq)",
            None,
        );
        // Answered by the runtime itself, without waking the object: the browser's liveness
        // probe costs nothing even while the hub hibernates.
        if let Ok(pair) = WebSocketRequestResponsePair::new("ping", "pong") {
            state.set_websocket_auto_response(&pair);
        }
        Self { state }
    }

    async fn fetch(&self, req: Request) -> worker::Result<Response> {
        http::respond(self.route(req).await)
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        let WebSocketIncomingMessage::String(text) = message else {
            return Ok(());
        };
        if text == "ping" {
            // Normally answered by the auto-response; kept for runtimes without it.
            return ws.send_with_str("pong");
        }
        #[derive(Deserialize)]
        struct ClientMessage {
            #[serde(rename = "type")]
            kind: String,
            since: Option<i64>,
        }
        match serde_json::from_str::<ClientMessage>(&text) {
            // A console that noticed a gap asks for a replay without reconnecting.
            Ok(m) if m.kind == "sync" => {
                if let Some(info) = ws.deserialize_attachment::<SocketInfo>()? {
                    self.catch_up(&ws, &info, m.since)?;
                }
                Ok(())
            }
            _ => ws.send_with_str(
                serde_json::json!({"type": "error", "code": "unknown_message"}).to_string(),
            ),
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
        let _ = ws.close(Some(code), Some("bye"));
        Ok(())
    }

    async fn websocket_error(&self, ws: WebSocket, error: worker::Error) -> worker::Result<()> {
        worker::console_warn!(
            "{}",
            serde_json::json!({"event": "socket_error", "error": error.to_string()})
        );
        let _ = ws.close(Some(1011), Some("socket error"));
        Ok(())
    }
}
