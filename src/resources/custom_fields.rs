//! `/api/custom-fields`: the definitions of the business's own customer fields (フリー項目).
//! Everyone signed in reads those that apply to them (the popup and 顧客 need them); admins
//! define them. The rules are `domain::fields`'s.
use crate::db::custom_fields as db_fields;
use crate::domain::access::Viewer;
use crate::domain::error::ApiError;
use crate::domain::fields::{self, Definition};
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::json;
use worker::{D1Database, D1PreparedStatement, D1Result, Env, Request, Response};

/// Every definition, in the order the card and the forms show them.
pub fn all_stmt(db: &D1Database) -> D1PreparedStatement {
    db.prepare(db_fields::ALL)
}

pub fn from(r: &D1Result) -> ApiResult<Vec<Definition>> {
    Ok(db::rows::<db_fields::FieldRow>(r)?
        .into_iter()
        .map(db_fields::FieldRow::definition)
        .collect())
}

pub async fn load(db: &D1Database) -> ApiResult<Vec<Definition>> {
    from(&all_stmt(db).all().await?)
}

/// `GET /api/custom-fields`: the definitions this user works with (a staff member: the
/// business's and their store's).
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let defs: Vec<Definition> = load(&env.d1("DB")?)
        .await?
        .into_iter()
        .filter(|d| viewer.may_see_store_setting(d.store_id))
        .collect();
    Ok(http::json_response(
        200,
        &json!({ "fields": defs, "kinds": fields::KINDS }),
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Input {
    label: Option<String>,
    kind: Option<String>,
    options: Option<Vec<String>>,
    #[serde(default, with = "http::double_option")]
    store_id: Option<Option<i64>>,
    on_card: Option<bool>,
    position: Option<i64>,
    staff_edit: Option<bool>,
}

fn checked(input: Input, base: Option<Definition>) -> Result<Definition, ApiError> {
    let base = base.unwrap_or(Definition {
        id: 0,
        label: String::new(),
        kind: String::new(),
        options: vec![],
        store_id: None,
        on_card: false,
        position: 0,
        staff_edit: true,
    });
    let kind = match input.kind {
        Some(k) => fields::kind(k.trim())?,
        None if base.kind.is_empty() => fields::kind("")?,
        None => base.kind,
    };
    let options = fields::options(&kind, &input.options.unwrap_or(base.options))?;
    let position = input.position.unwrap_or(base.position);
    if !(0..=10_000).contains(&position) {
        return Err(ApiError::bad(
            "invalid_position",
            "position",
            "表示順は0〜10000で入力してください",
        ));
    }
    Ok(Definition {
        id: base.id,
        label: crate::domain::csv::field_label(&input.label.unwrap_or(base.label))?,
        kind,
        options,
        store_id: input.store_id.unwrap_or(base.store_id),
        on_card: input.on_card.unwrap_or(base.on_card),
        position,
        staff_edit: input.staff_edit.unwrap_or(base.staff_edit),
    })
}

fn write_error(e: worker::Error) -> ApiError {
    match ApiError::from(e) {
        ApiError::BadRequest {
            code: "invalid_reference",
            ..
        } => ApiError::bad("unknown_store", "storeId", "店舗が見つかりません"),
        ApiError::Conflict { .. } => {
            ApiError::bad("duplicate_label", "label", "同じ名前のフリー項目があります")
        }
        other => other,
    }
}

async fn save(db: &D1Database, d: &Definition) -> ApiResult<Vec<Definition>> {
    let results = db
        .batch(vec![db_fields::save(d).d1(db)?, all_stmt(db)])
        .await
        .map_err(write_error)?;
    from(&results[1])
}

/// `POST /api/custom-fields` (admin).
pub async fn create(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let input: Input = http::read_json(&mut req, 16 * 1024).await?;
    let db = env.d1("DB")?;
    let existing = load(&db).await?;
    if existing.len() >= fields::MAX_FIELDS {
        return Err(ApiError::bad(
            "too_many_fields",
            "label",
            format!("フリー項目は{}件までです", fields::MAX_FIELDS),
        ));
    }
    let def = checked(input, None)?;
    let all = save(&db, &def).await?;
    let field = all
        .iter()
        .filter(|d| d.label == def.label)
        .max_by_key(|d| d.id);
    crate::resources::audit::settings_changed(
        &session,
        "custom_field",
        "create",
        field.map(|f| f.id),
    );
    Ok(http::json_response(
        201,
        &json!({ "field": field, "fields": all }),
    )?)
}

/// `PATCH /api/custom-fields/{id}` (admin). The kind of a field that has values stays.
pub async fn update(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let input: Input = http::read_json(&mut req, 16 * 1024).await?;
    let db = env.d1("DB")?;
    let base = load(&db)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(ApiError::NotFound)?;
    if input.kind.as_deref().is_some_and(|k| k != base.kind) {
        return Err(ApiError::bad(
            "kind_fixed",
            "kind",
            "種類は作成後に変更できません（新しい項目を作成してください）",
        ));
    }
    let def = checked(input, Some(base))?;
    let all = save(&db, &def).await?;
    crate::resources::audit::settings_changed(&session, "custom_field", "update", Some(id));
    Ok(http::json_response(
        200,
        &json!({ "field": def, "fields": all }),
    )?)
}

/// `DELETE /api/custom-fields/{id}` (admin). Values stay in the customers' rows but are no
/// longer shown, exported or accepted.
pub async fn delete(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let r = db_fields::delete(id).d1(&env.d1("DB")?)?.run().await?;
    if db::changes(&r) == 0 {
        return Err(ApiError::NotFound);
    }
    crate::resources::audit::settings_changed(&session, "custom_field", "delete", Some(id));
    Ok(http::json_response(200, &json!({ "ok": true }))?)
}
