//! What a person asks of Dialpad from the console: 発信 through the API (a linked account's
//! Dialpad user is rung, then the customer is called from the store's number), a recording's
//! or voicemail's share link (for a call the user may see), the Dialpad users an admin links
//! accounts to.
use super::active;
use crate::db::dialpad as db_dialpad;
use crate::db::dialpad::linked;
use crate::domain::access::Viewer;
use crate::domain::error::ApiError;
use crate::domain::phone::{self, Phone};
use crate::platform::db;
use crate::platform::dialpad::{self, Dialpad, Endpoint, Outcome};
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Method, Request, Response};

fn off(what: &str) -> ApiError {
    ApiError::Conflict {
        code: "dialpad_feature_off",
        message: format!("Dialpadの{what}は有効になっていません（設定）"),
        current: None,
    }
}

/// Dialpad's 429 as our own: who is waiting is told how long, and why.
fn limited(ms: i64, message: &str) -> ApiResult<Response> {
    let secs = ((ms + 999) / 1000).max(1);
    let resp = http::json_response(
        429,
        &json!({"error": {"code": "dialpad_rate_limited", "message": message, "retryAfter": secs}}),
    )?;
    resp.headers().set("Retry-After", &secs.to_string())?;
    Ok(resp)
}

/// Dialpad is busy: the message a person is shown with the 429.
const BUSY: &str = "Dialpadが混み合っています。しばらく待ってからもう一度お試しください";

/// Dialpad's answer to a person's request: its value, or what the person is answered instead
/// (a 429 with `Retry-After` and `busy` as the message), or Dialpad's refusal (409) or its
/// being unreachable (503) as the error.
fn answer(outcome: Outcome, busy: &str) -> ApiResult<Result<Value, Response>> {
    match outcome {
        Outcome::Ok(v) => Ok(Ok(v)),
        Outcome::Limited(ms) => limited(ms, busy).map(Err),
        Outcome::Refused(st, why) => Err(upstream(st, &why)),
        Outcome::Failed(why) => Err(ApiError::Unavailable(format!("dialpad: {why}"))),
    }
}

fn upstream(status: u16, why: &str) -> ApiError {
    ApiError::Conflict {
        code: "dialpad_refused",
        message: format!("Dialpadが受け付けませんでした（{status}）: {why}"),
        current: None,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CallBody {
    phone: String,
    #[serde(default)]
    customer_id: Option<i64>,
    #[serde(default)]
    store_id: Option<i64>,
}

/// `POST /api/dialpad/call` — `{phone, customerId?, storeId?}`: Dialpad rings the linked
/// user's devices and calls the number from the store's caller ID (`POST /api/v2/call`, 5 a
/// minute: a 429 says so, with `Retry-After`).
pub async fn call(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let body: CallBody = http::read_json(&mut req, 4096).await?;
    let Some((client, settings)) = active(env).await? else {
        return Err(off("発信"));
    };
    if !settings.click_to_call {
        return Err(off("発信"));
    }
    let number = match phone::normalize(&body.phone) {
        Ok(Phone::Number(n)) => n,
        _ => {
            return Err(ApiError::bad(
                "invalid_phone",
                "phone",
                "電話番号が正しくありません",
            ))
        }
    };
    let to = dialpad::e164(&number)
        .ok_or_else(|| ApiError::bad("invalid_phone", "phone", "電話番号が正しくありません"))?;
    let db = env.d1("DB")?;
    let Some((user_id, _)) = linked(&db, session.uid).await? else {
        return Err(ApiError::Conflict {
            code: "dialpad_not_linked",
            message: "このアカウントはDialpadのユーザーに紐づいていません（アカウント画面）".into(),
            current: None,
        });
    };
    let viewer = Viewer::from(&session);
    let customer = match body.customer_id {
        Some(id) => {
            let c: Option<crate::db::customers::NameRow> = crate::db::customers::name_and_home(id)
                .d1(&db)?
                .first(None)
                .await?;
            let c = c
                .filter(|c| viewer.may_see_customer(c.home_store_id))
                .ok_or(ApiError::NotFound)?;
            Some((c.id, c.name))
        }
        None => None,
    };
    let store = if viewer.is_admin() {
        body.store_id.or(session.store)
    } else {
        body.store_id
            .filter(|s| viewer.belongs_to(Some(*s)))
            .or(session.store)
            .or(viewer.default_store())
    };
    let front = crate::resources::settings::load(&db).await?;
    let caller_id = front
        .caller_ids
        .iter()
        .find(|c| Some(c.store_id) == store)
        .and_then(|c| dialpad::e164(&c.number));
    let user_id: i64 = user_id
        .parse()
        .map_err(|_| ApiError::Unavailable("linked Dialpad user id is not a number".into()))?;
    let mut data = json!({ "source": "cti-edge", "by": session.uid });
    if let Some((id, name)) = &customer {
        data["customerId"] = json!(id);
        data["customerName"] = json!(name);
    }
    let mut message = json!({
        "phone_number": to,
        "user_id": user_id,
        "custom_data": data.to_string(),
    });
    if let Some(cid) = caller_id {
        message["outbound_caller_id"] = json!(cid);
    }
    let rung = client
        .send(
            Endpoint::CallRing,
            Method::Post,
            "/api/v2/call",
            &[],
            Some(&message),
        )
        .await;
    match answer(
        rung,
        "Dialpadからの発信は1分間に5回までです。しばらく待ってからもう一度発信してください",
    )? {
        Ok(v) => Ok(http::json_response(
            200,
            &json!({ "ok": true, "callId": v["call_id"].as_i64().map(|c| c.to_string()) }),
        )?),
        Err(busy) => Ok(busy),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecordingBody {
    call_id: String,
    kind: String,
}

/// `POST /api/dialpad/recording` — `{callId, kind: "recording" | "voicemail"}`: a share link
/// for the call's recording or voicemail (made once, privacy per 設定), for a call this user
/// may see (404 otherwise) → `{url}`.
pub async fn recording(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let body: RecordingBody = http::read_json(&mut req, 4096).await?;
    let kind = match body.kind.as_str() {
        "recording" | "voicemail" => body.kind.clone(),
        _ => {
            return Err(ApiError::bad(
                "invalid_kind",
                "kind",
                "kind は recording か voicemail です",
            ))
        }
    };
    let call_id = body.call_id.trim().to_string();
    if call_id.is_empty() || call_id.len() > 32 || !call_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad(
            "invalid_call_id",
            "callId",
            "callId が正しくありません",
        ));
    }
    let Some((client, settings)) = active(env).await? else {
        return Err(off("録音の再生"));
    };
    if !settings.recordings {
        return Err(off("録音の再生"));
    }
    let db = env.d1("DB")?;
    let viewer = Viewer::from(&session);
    #[derive(Deserialize)]
    struct Visible {
        #[allow(dead_code)]
        id: String,
    }
    let visible: Option<Visible> = crate::db::calls::visible_id(&call_id, viewer.scope())
        .d1(&db)?
        .first(None)
        .await?;
    if visible.is_none() {
        return Err(ApiError::NotFound);
    }
    crate::resources::audit::Entry::by(&session, crate::resources::audit::Action::RecordingPlayed)
        .call(Some(&call_id))
        .customer_of_call()
        .detail(json!({ "kind": kind }))
        .record();
    let known: Option<db_dialpad::LinkRow> = db_dialpad::share_link(&call_id, &kind)
        .d1(&db)?
        .first(None)
        .await?;
    if let Some(l) = known {
        return Ok(http::json_response(
            200,
            &json!({ "url": l.url, "kind": kind }),
        )?);
    }
    // The recording's id is in the call's details (`recording_details`).
    let call = client
        .send(
            Endpoint::CallGet,
            Method::Get,
            &format!("/api/v2/call/{call_id}"),
            &[],
            None,
        )
        .await;
    if matches!(call, Outcome::Refused(404, _)) {
        return Err(ApiError::NotFound);
    }
    let details = match answer(call, BUSY)? {
        Ok(v) => v,
        Err(busy) => return Ok(busy),
    };
    let wanted: &[&str] = if kind == "voicemail" {
        &["voicemail"]
    } else {
        &["callrecording", "admincallrecording"]
    };
    let rec = details["recording_details"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| wanted.contains(&r["recording_type"].as_str().unwrap_or("")));
    let Some(rec) = rec else {
        return Err(ApiError::Conflict {
            code: "no_recording",
            message: "この着信には再生できる録音がありません".into(),
            current: None,
        });
    };
    let rec_id = match &rec["id"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let message = json!({
        "recording_id": rec_id,
        "recording_type": rec["recording_type"],
        "privacy": settings.recording_privacy,
    });
    let shared = client
        .send(
            Endpoint::RecordingShareLink,
            Method::Post,
            "/api/v2/recordingsharelink",
            &[],
            Some(&message),
        )
        .await;
    let link = match answer(shared, BUSY)? {
        Ok(v) => v["access_link"].as_str().unwrap_or("").to_string(),
        Err(busy) => return Ok(busy),
    };
    if !link.starts_with("https://") && !link.starts_with("http://") {
        return Err(ApiError::Unavailable(
            "share link without an address".into(),
        ));
    }
    db_dialpad::save_share_link(&call_id, &kind, &link, http::now_ms())
        .d1(&db)?
        .run()
        .await?;
    Ok(http::json_response(
        200,
        &json!({ "url": link, "kind": kind }),
    )?)
}

/// `GET /api/dialpad/users` (admin): Dialpad's users (`GET /api/v2/users`, every page) →
/// `{users: [{id, name, email}]}`, for アカウント's picker.
pub async fn users(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let client = Dialpad::from_env(env).ok_or_else(|| off("API"))?;
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..20 {
        let query: Vec<(&str, String)> = cursor.iter().map(|c| ("cursor", c.clone())).collect();
        let listed = client
            .send(
                Endpoint::UserList,
                Method::Get,
                "/api/v2/users",
                &query,
                None,
            )
            .await;
        let page = match answer(listed, BUSY)? {
            Ok(v) => v,
            Err(busy) => return Ok(busy),
        };
        for u in page["items"].as_array().into_iter().flatten() {
            let id = match &u["id"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            let name = u["display_name"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| {
                    format!(
                        "{} {}",
                        u["first_name"].as_str().unwrap_or(""),
                        u["last_name"].as_str().unwrap_or("")
                    )
                    .trim()
                    .to_string()
                });
            let email = u["emails"][0].as_str().unwrap_or("");
            out.push(json!({ "id": id, "name": name, "email": email }));
        }
        cursor = crate::platform::dialpad::next_cursor(&page);
        if cursor.is_none() {
            break;
        }
    }
    Ok(http::json_response(200, &json!({ "users": out }))?)
}

/// `GET /api/dialpad/links` (admin): which account is linked to which Dialpad user.
pub async fn links(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let db = env.d1("DB")?;
    let rows: Vec<Value> = db.prepare(db_dialpad::LINKS).all().await?.results()?;
    Ok(http::json_response(200, &json!({ "links": rows }))?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LinkBody {
    dialpad_user_id: Option<String>,
    #[serde(default)]
    name: String,
}

/// `PUT /api/users/{id}/dialpad` (admin): `{dialpadUserId, name}` links the account to a
/// Dialpad user (`null` unlinks).
pub async fn link(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let body: LinkBody = http::read_json(&mut req, 4096).await?;
    let db = env.d1("DB")?;
    let Some(dp) = body.dialpad_user_id.map(|d| d.trim().to_string()) else {
        db_dialpad::unlink(id).d1(&db)?.run().await?;
        crate::resources::audit::settings_changed(&session, "dialpad_link", "unlink", Some(id));
        return Ok(http::json_response(200, &json!({ "link": null }))?);
    };
    if dp.is_empty() || dp.len() > 32 || !dp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad(
            "invalid_dialpad_user",
            "dialpadUserId",
            "DialpadのユーザーIDが正しくありません",
        ));
    }
    crate::domain::error::max_chars(&body.name, 100, "invalid_name", "name", "名前")?;
    let r = db_dialpad::link(id, &dp, body.name.trim(), http::now_ms())
        .d1(&db)?
        .run()
        .await?;
    if db::changes(&r) == 0 {
        return Err(ApiError::NotFound);
    }
    crate::resources::audit::settings_changed(&session, "dialpad_link", "link", Some(id));
    Ok(http::json_response(
        200,
        &json!({ "link": { "userId": id, "dialpadUserId": dp, "name": body.name.trim() } }),
    )?)
}
