//! Worker-side HTTP plumbing: JSON responses, the error mapping, security headers, bodies,
//! cookies. Handlers return `ApiResult`; only `respond` turns it into a `Response`.
use crate::domain::error::ApiError;
use serde::Serialize;
use worker::{Headers, Request, Response, ResponseBuilder};

pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::from_storage(e.to_string())
    }
}

/// Content-Security-Policy for everything we serve: scripts and styles only from files of our
/// own origin (no inline script, so injected markup cannot run), sockets to our own origin,
/// and no framing by other sites.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

pub fn security_headers(h: &Headers) -> worker::Result<()> {
    h.set("Content-Security-Policy", CSP)?;
    h.set("X-Content-Type-Options", "nosniff")?;
    h.set("Referrer-Policy", "no-referrer")?;
    h.set("X-Frame-Options", "DENY")?;
    h.set(
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=()",
    )?;
    Ok(())
}

pub fn json_response<T: Serialize>(status: u16, body: &T) -> worker::Result<Response> {
    let text = serde_json::to_string(body).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let headers = Headers::new();
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    security_headers(&headers)?;
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(text.into_bytes()))
}

pub fn error_response(e: &ApiError) -> worker::Result<Response> {
    let resp = json_response(e.status(), &e.body())?;
    if let ApiError::RateLimited(secs) = e {
        resp.headers().set("Retry-After", &secs.to_string())?;
    }
    Ok(resp)
}

/// Converts a handler's result; a failure to even build the response is the last resort 500.
pub fn respond(result: ApiResult<Response>) -> worker::Result<Response> {
    match result {
        Ok(r) => Ok(r),
        Err(e) => {
            // The detail of our own failures goes to the log, never to the client.
            if let ApiError::Unavailable(detail) = &e {
                worker::console_error!(
                    "{}",
                    serde_json::json!({"event": "error", "code": e.code(), "detail": detail})
                );
            }
            error_response(&e)
        }
    }
}

/// Re-issues a fetched response (whose headers are immutable) with our security headers.
pub fn with_security_headers(resp: Response) -> worker::Result<Response> {
    let status = resp.status_code();
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        headers.append(&k, &v)?;
    }
    security_headers(&headers)?;
    let (_, body) = resp.into_parts();
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .body(body))
}

/// Reads the body, refusing more than `limit` bytes (checked against Content-Length first so
/// an oversized upload is refused before it is buffered).
pub async fn read_body(req: &mut Request, limit: usize) -> ApiResult<Vec<u8>> {
    if let Some(len) = req.headers().get("Content-Length")? {
        if len.trim().parse::<u64>().is_ok_and(|n| n > limit as u64) {
            return Err(ApiError::PayloadTooLarge);
        }
    }
    let body = req.bytes().await?;
    if body.len() > limit {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(body)
}

/// Parses a JSON request body into `T`; any failure is a 400 naming the problem.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    req: &mut Request,
    limit: usize,
) -> ApiResult<T> {
    let body = read_body(req, limit).await?;
    serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
        code: "invalid_json",
        field: None,
        message: format!("request body is not the expected JSON: {e}"),
    })
}

pub fn cookie(req: &Request, name: &str) -> Option<String> {
    let header = req.headers().get("Cookie").ok()??;
    header.split(';').find_map(|part| {
        let (k, v) = part.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

pub fn bearer(req: &Request) -> Option<String> {
    let h = req.headers().get("Authorization").ok()??;
    let (scheme, token) = h.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    let url = req.url().ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub fn now_ms() -> i64 {
    worker::Date::now().as_millis() as i64
}

/// Formats epoch milliseconds as ISO 8601 UTC.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The positive integer id a route carried (the router only matches those).
pub fn path_id(id: Option<i64>) -> ApiResult<i64> {
    id.filter(|n| *n > 0).ok_or(ApiError::NotFound)
}

/// `page` (from 1) and `perPage` (1 to 100, default 20) of a list request.
pub fn page_params(req: &Request) -> (i64, i64) {
    let page = query_param(req, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1i64)
        .max(1);
    let per = query_param(req, "perPage")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20i64)
        .clamp(1, 100);
    (page, per)
}

/// For `#[serde(default, with = "http::double_option")]` on an `Option<Option<T>>` field of a
/// PATCH body: tells "field absent" (leave as is) from "field: null" (clear it).
pub mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}
