//! Typed notes on a customer (一般・好み・苦情・注意・重要).
use crate::db::customers::{self as db_customers, Home};
use crate::db::notes::{self as db_notes, Note};
use crate::domain::access::Viewer;
use crate::domain::customer;
use crate::domain::error::ApiError;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::json;
use worker::{D1Result, Env, Request, Response};

pub fn from(r: &D1Result) -> ApiResult<Vec<Note>> {
    db::rows(r)
}

/// 404 for a customer that does not exist, 403 for one the viewer may not see.
pub fn check_visible(r: &D1Result, viewer: &Viewer) -> ApiResult<Home> {
    let home: Home = db::first(r)?.ok_or(ApiError::NotFound)?;
    if !viewer.may_see_customer(home.home_store_id) {
        return Err(ApiError::Forbidden("other_store"));
    }
    Ok(home)
}

/// `GET /api/customers/{id}/notes`
pub async fn list(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![
            db_customers::home(id).d1(&db)?,
            db_notes::list(id, 200).d1(&db)?,
        ])
        .await?;
    check_visible(&results[0], &Viewer::from(&session))?;
    Ok(http::json_response(
        200,
        &json!({ "notes": from(&results[1])? }),
    )?)
}

#[derive(Deserialize)]
struct NewNote {
    #[serde(rename = "type")]
    note_type: String,
    body: String,
}

/// `POST /api/customers/{id}/notes` — anyone who may see the customer may leave a note.
pub async fn add(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let note: NewNote = http::read_json(&mut req, 16 * 1024).await?;
    let note_type = customer::note_type(&note.note_type)?;
    let body = customer::note_body(&note.body)?;
    let db = env.d1("DB")?;
    let viewer = Viewer::from(&session);
    // The insert applies only when the policy allows it, in the same round trip as the check
    // that tells the caller why not.
    let results = db
        .batch(vec![
            db_customers::home(id).d1(&db)?,
            db_notes::add(
                id,
                &note_type,
                &body,
                session.uid,
                &session.name,
                viewer.scope(),
            )
            .d1(&db)?,
        ])
        .await?;
    check_visible(&results[0], &viewer)?;
    let created: Note = db::first(&results[1])?
        .ok_or_else(|| ApiError::Unavailable("note insert returned nothing".into()))?;
    crate::resources::audit::Entry::by(&session, crate::resources::audit::Action::NoteAdded)
        .customer(id)
        .detail(json!({ "type": note_type }))
        .record();
    Ok(http::json_response(201, &json!({ "note": created }))?)
}
