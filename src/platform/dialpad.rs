//! The one client of Dialpad's API v2: the key (`DIALPAD_API_KEY`, a secret), the base
//! (`DIALPAD_API_BASE`, default `https://dialpad.com`, so staging and tests can point at a
//! stand-in), every endpoint we use with its documented per-minute limit (the sync queue paces
//! by it), and one way to read an answer: success, 429 with `Retry-After`, a refusal (4xx, not
//! worth retrying) or a failure (5xx, network: retried with backoff by the caller). Logs name
//! the endpoint, the status and the time; never the key, and never a phone number.
use serde_json::Value;
use worker::{Env, Fetch, Headers, Method};

/// Dialpad's production API.
pub const DEFAULT_BASE: &str = "https://dialpad.com";

/// The endpoints we call, each with its documented rate limit (per minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `PUT /api/v2/contacts`: create or update by `uid`.
    ContactPut,
    /// `DELETE /api/v2/contacts/{id}`.
    ContactDelete,
    /// `GET /api/v2/call`: concluded calls, `calls:list`, company admin key.
    CallList,
    /// `GET /api/v2/call/{id}`.
    CallGet,
    /// `PUT /api/v2/call/{id}/labels`.
    CallLabels,
    /// `POST /api/v2/call` (ring a user's devices, then call the number).
    CallRing,
    /// `POST /api/v2/recordingsharelink`.
    RecordingShareLink,
    /// `GET /api/v2/users`.
    UserList,
}

impl Endpoint {
    pub fn per_minute(self) -> u32 {
        match self {
            Endpoint::ContactPut => 100,
            Endpoint::ContactDelete => 1200,
            Endpoint::CallList => 1200,
            Endpoint::CallGet => 10,
            Endpoint::CallLabels => 250,
            Endpoint::CallRing => 5,
            Endpoint::RecordingShareLink => 100,
            Endpoint::UserList => 1200,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ContactPut => "contacts.put",
            Endpoint::ContactDelete => "contacts.delete",
            Endpoint::CallList => "call.list",
            Endpoint::CallGet => "call.get",
            Endpoint::CallLabels => "call.labels",
            Endpoint::CallRing => "call.ring",
            Endpoint::RecordingShareLink => "recordingsharelink",
            Endpoint::UserList => "users.list",
        }
    }

    /// Milliseconds between two requests to stay under the limit, for a "minute" of
    /// `minute_ms` (60 000; a test may shorten it), with 5 % to spare.
    pub fn interval_ms(self, minute_ms: i64) -> i64 {
        (minute_ms * 105 / 100) / i64::from(self.per_minute())
    }
}

/// How a request went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(Value),
    /// 429: try again after this many milliseconds (`Retry-After`, seconds, or a minute).
    Limited(i64),
    /// A 4xx other than 429: Dialpad refuses this request; retrying will not help.
    Refused(u16, String),
    /// 5xx or no answer: transient.
    Failed(String),
}

/// The cursor of the next page of a Dialpad list (`None` on the last page).
pub fn next_cursor(page: &Value) -> Option<String> {
    page["cursor"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(String::from)
}

/// The key and base, when a key is configured (every feature is off without one).
#[derive(Clone)]
pub struct Dialpad {
    key: String,
    base: String,
}

/// The pacing "minute" in ms (`DIALPAD_MINUTE_MS`, default 60 000): how the sync queue spaces
/// its requests. Only a test against a stand-in with a shorter minute changes it; 429 and
/// `Retry-After` are honoured whatever it is.
pub fn minute_ms(env: &Env) -> i64 {
    env.var("DIALPAD_MINUTE_MS")
        .ok()
        .and_then(|v| v.to_string().parse::<i64>().ok())
        .filter(|m| (100..=600_000).contains(m))
        .unwrap_or(60_000)
}

impl Dialpad {
    pub fn from_env(env: &Env) -> Option<Dialpad> {
        let key = env
            .secret("DIALPAD_API_KEY")
            .map(|s| s.to_string())
            .or_else(|_| env.var("DIALPAD_API_KEY").map(|v| v.to_string()))
            .ok()
            .filter(|k| !k.trim().is_empty())?;
        let base = env
            .var("DIALPAD_API_BASE")
            .map(|v| v.to_string())
            .ok()
            .filter(|b| b.starts_with("https://") || b.starts_with("http://"))
            .unwrap_or_else(|| DEFAULT_BASE.to_string());
        Some(Dialpad {
            key: key.trim().to_string(),
            base: base.trim_end_matches('/').to_string(),
        })
    }

    /// Whether a key is configured.
    pub fn configured(env: &Env) -> bool {
        Self::from_env(env).is_some()
    }

    /// One request. `path` starts with `/api/v2/` and carries ids only (never a number);
    /// `query` pairs are URL-encoded here.
    pub async fn send(
        &self,
        endpoint: Endpoint,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Outcome {
        let started = crate::platform::http::now_ms();
        let mut url = format!("{}{}", self.base, path);
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect();
            url.push('?');
            url.push_str(&q.join("&"));
        }
        let method_name = method.to_string();
        let outcome = self.fetch(method, &url, body).await;
        let status = match &outcome {
            Ok((s, _, _)) => *s,
            Err(_) => 0,
        };
        let result = match outcome {
            Err(e) => Outcome::Failed(e),
            Ok((s, _, text)) if (200..300).contains(&s) => {
                Outcome::Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
            }
            Ok((429, retry, _)) => Outcome::Limited(retry.unwrap_or(60_000)),
            Ok((s, _, text)) if (400..500).contains(&s) => Outcome::Refused(s, reason(&text)),
            Ok((s, _, text)) => Outcome::Failed(format!("{s} {}", reason(&text))),
        };
        worker::console_log!(
            "{}",
            serde_json::json!({"event": "dialpad_api", "endpoint": endpoint.name(),
                "method": method_name, "status": status,
                "ms": crate::platform::http::now_ms() - started})
        );
        result
    }

    async fn fetch(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Option<i64>, String), String> {
        let headers = Headers::new();
        let h = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
        h("Authorization", &format!("Bearer {}", self.key))?;
        h("Accept", "application/json")?;
        let text = body.map(|b| b.to_string());
        if text.is_some() {
            h("Content-Type", "application/json")?;
        }
        let js = text.map(|t| worker::wasm_bindgen::JsValue::from_str(&t));
        let req = crate::platform::http::new_request(url, method, Some(&headers), js.as_ref())
            .map_err(|e| e.to_string())?;
        let mut resp = Fetch::Request(req)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let retry = resp
            .headers()
            .get("Retry-After")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|secs| (secs * 1000.0).ceil() as i64);
        let text = resp.text().await.unwrap_or_default();
        Ok((resp.status_code(), retry, text))
    }
}

/// Dialpad's error message (`{"error": {"message"}}` or `{"message"}`), cut short; never the
/// request itself.
fn reason(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let m = v["error"]["message"]
        .as_str()
        .or_else(|| v["message"].as_str())
        .or_else(|| v["error"].as_str())
        .unwrap_or(text);
    m.chars().take(200).collect()
}

fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A stored number (domestic digits `0…`, or `+…`) in E.164, as Dialpad takes it; None for
/// anything else.
pub fn e164(number: &str) -> Option<String> {
    if let Some(rest) = number.strip_prefix('+') {
        return (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
            .then(|| number.to_string());
    }
    let rest = number.strip_prefix('0')?;
    (rest.len() >= 8 && rest.bytes().all(|b| b.is_ascii_digit())).then(|| format!("+81{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_e164() {
        assert_eq!(e164("09012345678").as_deref(), Some("+819012345678"));
        assert_eq!(e164("+12025550100").as_deref(), Some("+12025550100"));
        assert_eq!(e164("12345"), None);
        assert_eq!(e164(""), None);
    }

    #[test]
    fn pacing_stays_under_the_documented_limits() {
        assert!(Endpoint::ContactPut.interval_ms(60_000) >= 600);
        assert!(Endpoint::CallLabels.interval_ms(60_000) >= 240);
        assert_eq!(Endpoint::CallRing.per_minute(), 5);
    }

    #[test]
    fn reasons_are_short_and_never_the_request() {
        assert_eq!(reason(r#"{"error":{"message":"bad uid"}}"#), "bad uid");
        assert_eq!(reason(&"x".repeat(500)).len(), 200);
    }
}
