//! `/api/settings/front-desk`: the front desk's settings document (the popup's action buttons,
//! the 用件 list, click-to-call). Everyone signed in reads it (the popup needs it); admins
//! write it. The rules are `domain::front_desk`'s.
use crate::db::settings::{self as db_settings, BodyRow};
use crate::domain::access::Viewer;
use crate::domain::front_desk::{self, Settings, OUTCOMES};
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde_json::json;
use worker::{D1Database, Env, Request, Response};

/// The stored settings, or the defaults when an admin has not saved any yet.
pub async fn load(db: &D1Database) -> ApiResult<Settings> {
    let row: Option<BodyRow> = db.prepare(db_settings::FRONT_DESK).first(None).await?;
    Ok(row
        .and_then(|r| serde_json::from_str(&r.body).ok())
        .unwrap_or_default())
}

/// The settings from a `db::settings::FRONT_DESK` result run in a batch (the
/// defaults when none are saved, or when the stored document cannot be read).
pub fn from_row(r: &worker::D1Result) -> ApiResult<Settings> {
    Ok(db::rows::<BodyRow>(r)?
        .into_iter()
        .next()
        .and_then(|r| serde_json::from_str(&r.body).ok())
        .unwrap_or_default())
}

fn body(settings: &Settings) -> serde_json::Value {
    json!({ "settings": settings, "outcomes": OUTCOMES, "placeholders": front_desk::PLACEHOLDERS })
}

/// `GET /api/settings/front-desk` — staff get only their store's (and the global) action
/// buttons and their own store's caller id (`Viewer::may_see_store_setting`).
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let mut settings = load(&env.d1("DB")?).await?;
    settings
        .actions
        .retain(|a| viewer.may_see_store_setting(a.store_id));
    settings
        .caller_ids
        .retain(|c| viewer.may_see_store_setting(Some(c.store_id)));
    Ok(http::json_response(200, &body(&settings))?)
}

/// `PUT /api/settings/front-desk` (admin): replaces the whole document.
pub async fn put(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let input: Settings = http::read_json(&mut req, 64 * 1024).await?;
    let settings = front_desk::settings(input)?;
    let text = serde_json::to_string(&settings)
        .map_err(|e| crate::domain::error::ApiError::Unavailable(e.to_string()))?;
    let db = env.d1("DB")?;
    db_settings::save_front_desk(&text, &session.name, http::now_ms())
        .d1(&db)?
        .run()
        .await?;
    // The hub's pops follow 顧客の共有 from the next call on.
    crate::platform::hub_client::index_changed(
        env,
        &crate::domain::messages::IndexChange {
            sharing: Some(settings.customer_sharing.clone()),
            ..Default::default()
        },
    )
    .await;
    crate::resources::audit::settings_changed(&session, "front_desk", "update", None);
    Ok(http::json_response(200, &body(&settings))?)
}
