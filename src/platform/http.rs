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
/// audio also from https (a Dialpad recording's share link played in place), and no framing
/// by other sites.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
media-src 'self' https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// Strict-Transport-Security on every response: browsers that saw us once never talk to us over
/// plain HTTP again (a downgraded connection would carry the session cookie in clear).
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

pub fn security_headers(h: &Headers) -> worker::Result<()> {
    h.set("Strict-Transport-Security", HSTS)?;
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

/// A `Request` made with the runtime's own constructor, as `worker::Request::new_with_init`
/// makes one (method, the headers when given, `redirect: "follow"`, the body), without going
/// through `worker::RequestInit`: its conversion also writes Cloudflare `cf` options, which we
/// never set, and that code (with the serde serializer it uses) is ~12 KB of wasm (issue #12).
pub fn new_request(
    url: &str,
    method: worker::Method,
    headers: Option<&Headers>,
    body: Option<&worker::wasm_bindgen::JsValue>,
) -> worker::Result<Request> {
    build_request(url, method, headers, body, false)
}

/// [`new_request`] and [`new_asset_request`]: `manual` leaves redirects to the caller.
fn build_request(
    url: &str,
    method: worker::Method,
    headers: Option<&Headers>,
    body: Option<&worker::wasm_bindgen::JsValue>,
    manual: bool,
) -> worker::Result<Request> {
    use worker::web_sys;
    let init = web_sys::RequestInit::new();
    if let Some(h) = headers {
        init.set_headers(h.as_ref());
    }
    init.set_method(method.as_ref());
    init.set_redirect(if manual {
        web_sys::RequestRedirect::Manual
    } else {
        web_sys::RequestRedirect::Follow
    });
    if let Some(b) = body {
        init.set_body(b);
    }
    web_sys::Request::new_with_str_and_init(url, &init)
        .map(Request::from)
        .map_err(|e| {
            worker::Error::JsError(
                e.as_string()
                    .unwrap_or_else(|| "invalid URL or options for Request".to_string()),
            )
        })
}

/// A request for the static assets (`ASSETS`) made from the browser's: its method and
/// `headers`, and `redirect: manual`, so the assets' own redirects reach the browser as they
/// would without the Worker in front.
pub fn new_asset_request(
    url: &str,
    method: worker::Method,
    headers: &Headers,
) -> worker::Result<Request> {
    build_request(url, method, Some(headers), None, true)
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
            match &e {
                ApiError::Unavailable(detail) => worker::console_error!(
                    "{}",
                    serde_json::json!({"event": "error", "code": e.code(), "detail": detail})
                ),
                ApiError::Misconfigured(what) => worker::console_error!(
                    "{}",
                    serde_json::json!({"event": "error", "code": e.code(), "detail": what})
                ),
                _ => {}
            }
            error_response(&e)
        }
    }
}

/// Adds HSTS to a response we built (its headers are mutable). A response whose headers are
/// not (a WebSocket upgrade passed on from the hub) is returned as it is.
pub fn with_hsts(resp: Response) -> Response {
    // Asked first: setting a header of a response that came from elsewhere throws, and a JS
    // exception (with its stack) costs more than the rest of a webhook's answer.
    if resp
        .headers()
        .has("Strict-Transport-Security")
        .unwrap_or(false)
    {
        return resp;
    }
    let _ = resp.headers().set("Strict-Transport-Security", HSTS);
    resp
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

/// Reads the body chunk by chunk, refusing more than `limit` bytes: the stream is cancelled as
/// soon as the limit is passed, so an oversized upload (chunked ones included, which carry no
/// Content-Length) costs at most `limit` bytes of reading and memory. A declared
/// Content-Length over the limit is refused before anything is read.
pub async fn read_body(req: &mut Request, limit: usize) -> ApiResult<Vec<u8>> {
    read_raw_body(req.inner(), limit).await
}

/// [`read_body`] on the runtime's own request (the webhook's path, which skips
/// `worker::Request`).
pub async fn read_raw_body(req: &worker::web_sys::Request, limit: usize) -> ApiResult<Vec<u8>> {
    use worker::js_sys::{Reflect, Uint8Array};
    use worker::wasm_bindgen::JsCast;
    use worker::wasm_bindgen_futures::JsFuture;
    let unreadable = |_| ApiError::BadRequest {
        code: "unreadable_body",
        field: None,
        message: "リクエスト本文を読み取れませんでした".into(),
    };
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|len| len.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    if declared.is_some() {
        // The runtime holds a body to its declared length, so it is read in one step (one
        // promise instead of two per chunk), without asking for its stream first: `body()`
        // builds a stream object on every call, and an empty body reads as empty anyway.
        let buf = JsFuture::from(req.array_buffer().map_err(unreadable)?)
            .await
            .map_err(unreadable)?;
        return Ok(Uint8Array::new(&buf).to_vec());
    }
    let Some(stream) = req.body() else {
        return Ok(Vec::new());
    };
    let reader: worker::web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut body = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(unreadable)?;
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(body);
        }
        let value = Reflect::get(&chunk, &"value".into()).map_err(unreadable)?;
        let bytes = Uint8Array::new(&value);
        let n = bytes.length() as usize;
        if body.len() + n > limit {
            // Stop the upload here; what was read is dropped.
            let _ = reader.cancel();
            return Err(ApiError::PayloadTooLarge);
        }
        let start = body.len();
        body.resize(start + n, 0);
        bytes.copy_to(&mut body[start..]);
    }
}

/// Reads and drops at most `max` bytes of a request being refused, so that a small refused
/// request leaves the client's keep-alive connection usable; anything bigger is cut off.
pub async fn discard_body(req: &mut Request, max: usize) {
    let _ = read_body(req, max).await;
}

/// Parses a JSON request body into `T`; any failure is a 400 naming the problem.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    req: &mut Request,
    limit: usize,
) -> ApiResult<T> {
    let body = read_body(req, limit).await?;
    let invalid = |e: &dyn std::fmt::Display| ApiError::BadRequest {
        code: "invalid_json",
        field: None,
        message: format!("request body is not the expected JSON: {e}"),
    };
    // Read as text first: every other JSON in the module is parsed from a `&str`, and one
    // reader (serde_json's `StrRead`) instead of two keeps one copy of each type's parser in
    // the wasm (docs/benchmarks.md, "Pop module size, trimmed").
    let text = std::str::from_utf8(&body).map_err(|e| invalid(&e))?;
    serde_json::from_str(text).map_err(|e| invalid(&e))
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
    super::url::query_param(req, name)
}

pub fn now_ms() -> i64 {
    // `Date.now()` itself: `worker::Date::now()` builds a JS `Date` object to read it, and a
    // webhook reads the clock several times.
    worker::js_sys::Date::now() as i64
}

/// Formats epoch milliseconds as ISO 8601 UTC.
pub fn iso(ms: i64) -> String {
    crate::domain::date::iso_ms(ms)
}

/// A write's answer with the customers it changed that its route's path does not name (a new
/// customer, a merged one): the route table tells the hub's pop index of them.
pub struct Written {
    pub response: Response,
    pub customers: Vec<i64>,
}

impl Written {
    /// The answer, the customers appended to `named`.
    pub fn named(self, named: &mut Vec<i64>) -> Response {
        named.extend(self.customers);
        self.response
    }
}

/// A CSV file streamed as it is produced (`attachment; filename`, never cached), with the
/// security headers every answer carries.
pub fn csv_download<S>(filename: &str, stream: S) -> ApiResult<Response>
where
    S: futures_util::TryStream + 'static,
    S::Ok: Into<Vec<u8>>,
    S::Error: Into<worker::Error>,
{
    let headers = Headers::new();
    headers.set("Content-Type", "text/csv; charset=utf-8")?;
    headers.set(
        "Content-Disposition",
        &format!("attachment; filename=\"{filename}\""),
    )?;
    headers.set("Cache-Control", "no-store")?;
    security_headers(&headers)?;
    Ok(ResponseBuilder::new()
        .with_headers(headers)
        .from_stream(stream)?)
}

/// The positive integer id a route carried (the router only matches those).
pub fn path_id(id: Option<i64>) -> ApiResult<i64> {
    id.filter(|n| *n > 0).ok_or(ApiError::NotFound)
}

/// `page` (from 1) and `perPage` (1 to 100, default 20) as a JSON body gave them.
/// `page` and `perPage` from a GET list's query (see [`page_of`]).
pub fn page_params(req: &Request) -> (i64, i64) {
    let n = |name| query_param(req, name).and_then(|p| p.parse().ok());
    page_of(n("page"), n("perPage"))
}

pub fn page_of(page: Option<i64>, per_page: Option<i64>) -> (i64, i64) {
    (
        page.unwrap_or(1).max(1),
        per_page.unwrap_or(20).clamp(1, 100),
    )
}

/// Byte-wise equality whose time does not depend on where the inputs differ (only on their
/// lengths), for comparing secrets.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

#[cfg(test)]
mod tests {
    #[test]
    fn constant_time_eq() {
        assert!(super::constant_time_eq(b"abc", b"abc"));
        assert!(!super::constant_time_eq(b"abc", b"abd"));
        assert!(!super::constant_time_eq(b"abc", b"abcd"));
    }
}
