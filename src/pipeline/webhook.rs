//! The Worker's half of the pipeline: a Dialpad delivery is authenticated (signed token, or the
//! unsigned key when configured), checked against the replay window and parsed; a genuine event
//! goes to the hub (`pipeline::hub`), which pops it from its own index in one synchronous step
//! and records it in D1 through its outbox.
//!
//! Idempotent end to end, because Dialpad retries any 5xx (about 2, 4 and 8 s later, possibly
//! out of order): the event log is keyed by (leg, state, occurrence), the call's single pop is
//! claimed by one key, and the hub decides each delivery once.
use crate::domain::dialpad;
use crate::domain::error::ApiError;
use crate::domain::messages::EventRequest;
use crate::domain::replay;
use crate::domain::token;
use crate::platform::http::{self, ApiResult};
use crate::platform::hub_client;
use crate::platform::secrets;
use crate::platform::url;
use serde::Deserialize;
use serde_json::json;
use worker::{web_sys, Env, Request, Response};

/// Whether plain-JSON (unsigned) webhooks are accepted. Off unless explicitly configured:
/// anyone who knows the URL could otherwise pop windows on every console.
fn unsigned_allowed(env: &Env) -> bool {
    env.var("ALLOW_UNSIGNED_WEBHOOKS")
        .map(|v| v.to_string() == "true")
        .unwrap_or(false)
}

/// Shortest `UNSIGNED_WEBHOOK_KEY` accepted: a long random key, not a password.
const MIN_UNSIGNED_KEY: usize = 32;

/// An unsigned event must carry the hook URL's `?key=`, equal (compared in constant time) to
/// the secret `UNSIGNED_WEBHOOK_KEY` of at least 32 characters: knowing the URL alone is not
/// enough to pop windows.
fn check_unsigned_key(req: &web_sys::Request, env: &Env) -> ApiResult<()> {
    let expected = env
        .secret("UNSIGNED_WEBHOOK_KEY")
        .map(|s| s.to_string())
        .or_else(|_| env.var("UNSIGNED_WEBHOOK_KEY").map(|v| v.to_string()))
        .ok()
        .filter(|k| k.len() >= MIN_UNSIGNED_KEY)
        .ok_or(ApiError::Misconfigured("UNSIGNED_WEBHOOK_KEY"))?;
    let given = url::query_param_of(&req.url(), "key").unwrap_or_default();
    if !http::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::Unauthenticated("bad_webhook_key"));
    }
    Ok(())
}

/// `POST /api/dialpad/webhook`
pub async fn webhook(req: &web_sys::Request, env: &Env) -> ApiResult<Response> {
    let started = http::now_ms();
    let result = async {
        let body = http::read_raw_body(req, token::MAX_WEBHOOK_BYTES).await?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::Webhook(token::TokenError::Malformed))?
            .trim();
        let signed = !text.starts_with('{');
        let claims = if !signed {
            if !unsigned_allowed(env) {
                return Err(ApiError::Unsigned);
            }
            check_unsigned_key(req, env)?;
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text)
                .map_err(|_| ApiError::Webhook(token::TokenError::MalformedClaims))?
        } else {
            let secret = secrets::secret(env, "DIALPAD_WEBHOOK_SECRET")?;
            token::verify_webhook(text, secret.as_bytes(), started / 1000)?
        };
        replay::check(&claims, started).map_err(ApiError::Replay)?;
        match dialpad::parse(&claims) {
            Ok(_) => {
                hub_client::event_response(
                    env,
                    &EventRequest {
                        claims,
                        is_test: false,
                        received_at: started,
                        reconciled: false,
                    },
                )
                .await
            }
            // An unsigned body (allowed by configuration) proved nothing: its flaws are
            // the sender's to fix.
            Err(e) if !signed => Err(e.into()),
            // Genuine, but about no call we could name: recorded in the log, answered 2xx
            // (a 4xx would tell Dialpad a genuine event was forged, and drop it).
            Err(e) => {
                log(json!({"event": "webhook", "decision": "unattributable", "code": e.code,
                    "field": e.field, "state": claims.get("state"), "ms": http::now_ms() - started}));
                Ok(http::json_response(
                    200,
                    &json!({ "ok": true, "status": "unattributable" }),
                )?)
            }
        }
    }
    .await;
    if let Err(e) = &result {
        log(json!({
            "event": "webhook_rejected", "status": e.status(), "code": e.code(),
            "ms": http::now_ms() - started,
        }));
    }
    result
}

fn log(v: serde_json::Value) {
    worker::console_log!("{v}");
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestCallBody {
    customer_phone: String,
    incoming_number: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    call_id: Option<String>,
}

/// A number written the way the README and the seed write examples, `0501748XXXX`: digits
/// (and separators) with X's standing for the digits to fill in.
fn is_placeholder(number: &str) -> bool {
    let mut x = false;
    for c in number.chars() {
        match c {
            'X' | 'x' | 'Ｘ' | 'ｘ' => x = true,
            '0'..='9' | '+' | '-' | ' ' | '(' | ')' => {}
            _ => return false,
        }
    }
    x
}

/// `POST /api/dialpad/test-call` (admin: the console's dispatcher checks it): the same path as
/// a real call, marked `isTest`, so a deployment can be checked end to end without phoning it.
pub async fn test_call(mut req: Request, env: &Env) -> ApiResult<Response> {
    let body: TestCallBody = http::read_json(&mut req, 4096).await?;
    for (value, field) in [
        (&body.customer_phone, "customerPhone"),
        (&body.incoming_number, "incomingNumber"),
    ] {
        if is_placeholder(value) {
            return Err(ApiError::bad(
                "placeholder_number",
                field,
                format!(
                    "「{value}」の X は例の伏せ字です。X を実際の電話番号の数字に置き換えてください \
                     (the X's in `{field}` are placeholders: replace them with a real number)"
                ),
            ));
        }
    }
    let now = http::now_ms();
    let mut claims = serde_json::Map::new();
    claims.insert(
        "call_id".into(),
        body.call_id.unwrap_or_else(|| format!("test-{now}")).into(),
    );
    claims.insert(
        "state".into(),
        body.state.unwrap_or_else(|| "ringing".into()).into(),
    );
    claims.insert("direction".into(), "inbound".into());
    claims.insert("external_number".into(), body.customer_phone.into());
    claims.insert("internal_number".into(), body.incoming_number.into());
    claims.insert("date_started".into(), now.into());
    claims.insert("event_timestamp".into(), now.into());
    let event = dialpad::parse(&claims).map_err(|e| {
        // Name the request's own fields, not Dialpad's.
        let field = match e.field {
            "external_number" => "customerPhone",
            "internal_number" => "incomingNumber",
            "call_id" => "callId",
            other => other,
        };
        ApiError::bad(e.code, field, format!("`{field}` is missing or invalid"))
    })?;
    // Unlike a Dialpad event, this is typed by an admin: a number that is not one is a mistake
    // to report, not a withheld caller to record.
    for (kind, field, code) in [
        (
            event.external_kind,
            "customerPhone",
            "invalid_external_number",
        ),
        (
            event.internal_kind,
            "incomingNumber",
            "invalid_internal_number",
        ),
    ] {
        if kind == dialpad::NumberKind::Unusable {
            return Err(ApiError::bad(
                code,
                field,
                format!("`{field}` is not a phone number"),
            ));
        }
    }
    let outcome = process(env, claims, true, now).await?;
    Ok(http::json_response(
        200,
        &json!({ "success": true, "message": "Test call broadcasted", "data": outcome }),
    )?)
}

/// Hands one verified event to the hub, which pops it from its own index and records it
/// through its outbox (`pipeline::hub`): no D1 round trip on the way to the answer. Returns
/// the JSON answered to the sender. A hub that cannot take it answers 503, which Dialpad
/// retries.
pub async fn process(
    env: &Env,
    claims: serde_json::Map<String, serde_json::Value>,
    is_test: bool,
    now: i64,
) -> ApiResult<serde_json::Value> {
    hub_client::event(
        env,
        &EventRequest {
            claims,
            is_test,
            received_at: now,
            reconciled: false,
        },
    )
    .await
}

#[cfg(test)]
mod placeholder_tests {
    use super::is_placeholder;

    #[test]
    fn placeholders_are_told_apart_from_numbers() {
        assert!(is_placeholder("0501748XXXX"));
        assert!(is_placeholder("050-1748-xxxx"));
        assert!(!is_placeholder("05017481234"));
        assert!(!is_placeholder("anonymous"));
        assert!(!is_placeholder(""));
    }
}
