//! The Worker's side of the hub: the few calls the Worker (and any resource) makes to it.
//! Kept apart from the object itself so that resources can talk to the hub without
//! depending on the webhook pipeline.
use crate::domain::error::ApiError;
use crate::domain::messages::{
    BroadcastRequest, BroadcastResult, RevokeRequest, RevokeResult, SocketInfo,
};
use crate::platform::http::ApiResult;
use crate::platform::stub;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

/// Header through which the Worker hands the authenticated socket's identity to the hub. The
/// hub is reachable only through the Worker's binding, never from the internet.
pub const SOCKET_HEADER: &str = "x-cti-socket";

/// Asks the hub to broadcast.
pub async fn broadcast(env: &Env, req: &BroadcastRequest) -> ApiResult<BroadcastResult> {
    stub::post(&stub::object(env, "HUB")?, "/broadcast", req).await
}

/// Tells the hub a user's access changed; it has closed the sockets that no longer fit (with
/// 4001) when this returns, so nothing more is sent to them.
pub async fn revoke(env: &Env, req: &RevokeRequest) -> ApiResult<RevokeResult> {
    stub::post(&stub::object(env, "HUB")?, "/revoke", req).await
}

/// Hands an authenticated WebSocket upgrade to the hub.
pub async fn connect(env: &Env, info: &SocketInfo, since: Option<i64>) -> ApiResult<Response> {
    let headers = Headers::new();
    headers.set("Upgrade", "websocket")?;
    headers.set(
        SOCKET_HEADER,
        &serde_json::to_string(info).map_err(|e| ApiError::Unavailable(e.to_string()))?,
    )?;
    let url = match since {
        Some(s) => format!("https://hub/connect?since={s}"),
        None => "https://hub/connect".to_string(),
    };
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    Ok(stub::object(env, "HUB")?
        .fetch_with_request(Request::new_with_init(&url, &init)?)
        .await?)
}

/// Numbers for the health check.
pub async fn stats(env: &Env) -> ApiResult<serde_json::Value> {
    let mut resp = stub::object(env, "HUB")?
        .fetch_with_str("https://hub/stats")
        .await?;
    Ok(resp.json().await?)
}
