//! Typed notes on a customer (一般・好み・苦情・注意・重要).
use crate::db::customers::{self as db_customers, Home};
use crate::domain::access::{customer_visible_sql, Viewer};
use crate::domain::customer;
use crate::domain::error::ApiError;
use crate::platform::db::{self, i, s};
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{D1Database, D1PreparedStatement, D1Result, Env, Request, Response};

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct Note {
    /// Read only where notes of several customers come back together (the popup's lookup).
    #[serde(default, skip_serializing)]
    pub customer_id: Option<i64>,
    id: i64,
    note_type: String,
    body: String,
    author_name: String,
    created_at: String,
}

/// The newest `limit` notes of a customer.
pub fn list_stmt(db: &D1Database, customer: i64, limit: i64) -> ApiResult<D1PreparedStatement> {
    db::stmt(
        db,
        "SELECT id, note_type, body, author_name, created_at FROM customer_notes \
         WHERE customer_id = ?1 ORDER BY id DESC LIMIT ?2",
        &[i(customer), i(limit)],
    )
}

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
            list_stmt(&db, id, 200)?,
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
            db::stmt(
                &db,
                &format!(
                    "INSERT INTO customer_notes (customer_id, note_type, body, author_id, author_name) \
                     SELECT c.id, ?2, ?3, ?4, ?5 FROM customers c WHERE c.id = ?1 AND {} \
                     RETURNING id, note_type, body, author_name, created_at",
                    customer_visible_sql(6)
                ),
                &[
                    i(id),
                    s(&note_type),
                    s(&body),
                    i(session.uid),
                    s(&session.name),
                    db::scope(&viewer),
                ],
            )?,
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
