//! The one way to reach a Durable Object: by binding name, one object per tenant.
use crate::domain::error::ApiError;
use crate::domain::placement::{self, Placement};
use crate::platform::http;
use crate::platform::http::ApiResult;
use serde::{de::DeserializeOwned, Serialize};
use worker::wasm_bindgen::JsValue;
use worker::{Env, Method, Response, Stub};

/// The tenant (business) these Workers serve: the `TENANT` variable, default `default`.
pub fn tenant(env: &Env) -> String {
    env.var("TENANT")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "default".into())
}

/// The tenant's object behind `binding` (`HUB`, `GUARD`). A tenant (business) is one object of
/// each kind, named by the `TENANT` variable, and created near `HUB_LOCATION` (a location
/// hint, see `domain::placement`; it only matters when the object is first created). A value
/// that is not a hint is a configuration error: refused loudly rather than silently ignored.
pub fn object(env: &Env, binding: &str) -> ApiResult<Stub> {
    named(env, binding, &tenant(env))
}

/// The object named `name` behind `binding`, created near `HUB_LOCATION` as [`object`]'s
/// (the login guard's objects: one per account and one per network, named under the tenant).
pub fn named(env: &Env, binding: &str, name: &str) -> ApiResult<Stub> {
    let location = env.var("HUB_LOCATION").ok().map(|v| v.to_string());
    let placement = placement::parse(location.as_deref()).map_err(ApiError::Unavailable)?;
    let namespace = env.durable_object(binding)?;
    let id = namespace.id_from_name(name)?;
    Ok(match placement {
        Placement::Nearest => id.get_stub()?,
        Placement::Hint(hint) => id.get_stub_with_location_hint(hint)?,
    })
}

/// POSTs `body` as JSON to `path` on the object and decodes its JSON answer. Anything but a
/// 200 is the object failing: transient for our caller.
pub async fn post<B: Serialize, T: DeserializeOwned>(
    stub: &Stub,
    path: &str,
    body: &B,
) -> ApiResult<T> {
    Ok(post_for_response(stub, path, body).await?.json().await?)
}

/// As [`post`], but hands back the object's 200 response unread, for a caller that passes it
/// on as it is.
pub async fn post_for_response<B: Serialize>(
    stub: &Stub,
    path: &str,
    body: &B,
) -> ApiResult<Response> {
    let text = serde_json::to_string(body).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let req = http::new_request(
        &format!("https://do{path}"),
        Method::Post,
        None,
        Some(&JsValue::from_str(&text)),
    )?;
    let resp = stub.fetch_with_request(req).await?;
    if resp.status_code() != 200 {
        return Err(ApiError::Unavailable(format!(
            "{path} answered {}",
            resp.status_code()
        )));
    }
    Ok(resp)
}
