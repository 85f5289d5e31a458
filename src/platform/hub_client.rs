//! The Worker's side of the hub: the few calls the Worker (and any resource) makes to it.
//! Kept apart from the object itself so that resources can talk to the hub without
//! depending on the webhook pipeline.
use crate::domain::error::ApiError;
use crate::domain::messages::{
    BroadcastRequest, BroadcastResult, EventRequest, IndexChange, RevokeRequest, RevokeResult,
    SocketInfo,
};
use crate::domain::protocol::{HubRequest, SocketMessage};
use crate::platform::http::{self, ApiResult};
use crate::platform::stub;
use worker::{Env, Headers, Method, Response};

/// Header through which the Worker hands the authenticated socket's identity to the hub. The
/// hub is reachable only through the Worker's binding, never from the internet.
pub const SOCKET_HEADER: &str = "x-cti-socket";

/// The broadcast that tells a store's consoles (and the admins') that its callback list
/// changed (sent by the console's handlers and by the hub's outbox alike). `key` makes the
/// message once-only in the hub.
pub fn callbacks_changed(store: Option<i64>, key: &str) -> BroadcastRequest {
    BroadcastRequest {
        key: key.to_string(),
        store_id: store,
        message: SocketMessage::CallbacksChanged { store_id: store }.text(),
        staff_message: None,
        live: false,
    }
}

/// Asks the hub to broadcast.
pub async fn broadcast(env: &Env, req: &BroadcastRequest) -> ApiResult<BroadcastResult> {
    stub::post(
        &stub::object(env, "HUB")?,
        HubRequest::Broadcast.path(),
        req,
    )
    .await
}

/// Hands a verified call event to the hub, which pops it and answers what Dialpad is told.
pub async fn event(env: &Env, req: &EventRequest) -> ApiResult<serde_json::Value> {
    stub::post(&stub::object(env, "HUB")?, HubRequest::Event.path(), req).await
}

/// As [`event`], with the hub's answer passed on to Dialpad unread (the webhook's path: the
/// hub's JSON is already what Dialpad is told, headers included).
pub async fn event_response(env: &Env, req: &EventRequest) -> ApiResult<Response> {
    stub::post_for_response(&stub::object(env, "HUB")?, HubRequest::Event.path(), req).await
}

/// Tells the hub's pop index what a write path changed in D1; the hub has re-read those rows
/// when this returns. Best effort: a failure is logged, and the hub's periodic comparison with
/// D1 finds the difference within minutes.
pub async fn index_changed(env: &Env, change: &IndexChange) {
    let r: ApiResult<serde_json::Value> =
        async { stub::post(&stub::object(env, "HUB")?, HubRequest::Index.path(), change).await }
            .await;
    if let Err(e) = r {
        worker::console_warn!(
            "{}",
            serde_json::json!({"event": "index_change_not_applied", "error": e.code(), "detail": e.detail()})
        );
    }
}

/// Rebuilds the hub's pop index from D1 now; answers what was loaded.
pub async fn rebuild_index(env: &Env) -> ApiResult<serde_json::Value> {
    let all = IndexChange {
        all: true,
        ..Default::default()
    };
    stub::post(&stub::object(env, "HUB")?, HubRequest::Index.path(), &all).await
}

/// The cron's sweep: stale calls closed, calls past retention forgotten.
pub async fn sweep(
    env: &Env,
    now: i64,
    retention_cutoff: Option<i64>,
) -> ApiResult<serde_json::Value> {
    stub::post(
        &stub::object(env, "HUB")?,
        HubRequest::Sweep.path(),
        &serde_json::json!({"now": now, "retentionCutoff": retention_cutoff}),
    )
    .await
}

/// Before reading the call log (or writing what hangs off a call): gets what waits in the
/// hub's outbox into D1, so a call that just popped is there. Best effort: if the hub cannot,
/// the reader reads D1 as it is.
pub async fn flush(env: &Env) {
    let r: ApiResult<serde_json::Value> = async {
        stub::post(
            &stub::object(env, "HUB")?,
            HubRequest::Flush.path(),
            &serde_json::json!({}),
        )
        .await
    }
    .await;
    if let Err(e) = r {
        worker::console_warn!(
            "{}",
            serde_json::json!({"event": "outbox_flush_failed", "error": e.code()})
        );
    }
}

/// Tells the hub a user's access changed; it has closed the sockets that no longer fit (with
/// 4001) when this returns, so nothing more is sent to them.
pub async fn revoke(env: &Env, req: &RevokeRequest) -> ApiResult<RevokeResult> {
    stub::post(&stub::object(env, "HUB")?, HubRequest::Revoke.path(), req).await
}

/// Hands an authenticated WebSocket upgrade to the hub.
pub async fn connect(env: &Env, info: &SocketInfo, since: Option<i64>) -> ApiResult<Response> {
    let headers = Headers::new();
    headers.set("Upgrade", "websocket")?;
    headers.set(
        SOCKET_HEADER,
        &serde_json::to_string(info).map_err(|e| ApiError::Unavailable(e.to_string()))?,
    )?;
    let path = HubRequest::Connect.path();
    let url = match since {
        Some(s) => format!("https://hub{path}?since={s}"),
        None => format!("https://hub{path}"),
    };
    let req = http::new_request(&url, Method::Get, Some(&headers), None)?;
    Ok(stub::object(env, "HUB")?.fetch_with_request(req).await?)
}

/// Numbers for the health check.
pub async fn stats(env: &Env) -> ApiResult<serde_json::Value> {
    let mut resp = stub::object(env, "HUB")?
        .fetch_with_str(&format!("https://hub{}", HubRequest::Stats.path()))
        .await?;
    Ok(resp.json().await?)
}
