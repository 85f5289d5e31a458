//! Stores (店舗) and the number prefixes that identify them. Which store a dialled number
//! belongs to is decided by `domain::prefix::longest_match` alone: this module loads the table
//! it needs.
use crate::db::stores::{self as db_stores, table_from, table_stmt};
use crate::domain::error::ApiError;
use crate::domain::messages::StoreRef;
use crate::domain::phone::{self, Phone};
use crate::domain::prefix::{self, StoreTable};
use crate::domain::store;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::json;
use worker::{D1Database, D1Result, Env, Request, Response};

/// The store a dialled number belongs to (`不明` when no prefix matches).
pub fn store_for(dialled: &str, table: &StoreTable) -> StoreRef {
    store::of_call(
        store::CallLines {
            dialled,
            ..Default::default()
        },
        table,
    )
}

/// `GET /api/stores` — stores and prefixes (for forms and the store checker).
pub async fn list(req: Request, env: &Env) -> ApiResult<Response> {
    auth::authenticate(&req, env).await?;
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![table_stmt(&db), db_stores::all().d1(&db)?])
        .await?;
    let table = table_from(&results[0])?;
    let list: Vec<_> = db::rows::<db_stores::StoreRow>(&results[1])?
        .into_iter()
        .map(|st| {
            let mut ps: Vec<&str> = table
                .prefixes
                .iter()
                .filter(|p| p.store_id == st.id)
                .map(|p| p.prefix.as_str())
                .collect();
            ps.sort_unstable();
            json!({ "id": st.id, "name": st.name, "prefixes": ps, "dialpadOfficeId": st.dialpad_office_id })
        })
        .collect();
    Ok(http::json_response(
        200,
        &json!({ "stores": list, "unknown": StoreRef::unknown() }),
    )?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
struct StoreBody {
    name: Option<String>,
    prefixes: Option<Vec<String>>,
    /// Dialpad's office id (digits): "" or null clears it.
    #[serde(default, with = "http::double_option")]
    dialpad_office_id: Option<Option<String>>,
}

/// A Dialpad office id as typed: its digits (Dialpad ids are 64-bit integers), or none.
fn office_id(v: Option<&str>) -> ApiResult<Option<String>> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(v.to_string()))
        }
        Some(_) => Err(ApiError::bad(
            "invalid_office_id",
            "dialpadOfficeId",
            "DialpadオフィスIDは数字で入力してください",
        )),
    }
}

fn store_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > crate::domain::store::MAX_NAME_CHARS {
        return Err(ApiError::bad(
            "invalid_name",
            "name",
            "店舗名は1〜100文字で入力してください",
        ));
    }
    Ok(name)
}

/// Checks, in one round trip, that the name is free and no prefix belongs to another store.
async fn check_free(
    db: &D1Database,
    name: Option<&str>,
    prefixes: &[String],
    store: Option<i64>,
) -> ApiResult<()> {
    let batch = db_stores::taken(name, prefixes, store)
        .iter()
        .map(|s| s.d1(db))
        .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(batch).await?;
    if let (Some(name), false) = (name, results[0].results::<serde_json::Value>()?.is_empty()) {
        return Err(ApiError::Conflict {
            code: "store_name_taken",
            message: format!("店舗名「{name}」は既に使われています"),
            current: None,
        });
    }
    if let Some(h) = db::first::<db_stores::PrefixHit>(&results[1])? {
        return Err(ApiError::Conflict {
            code: "prefix_conflict",
            message: format!(
                "プレフィックス {} は既に「{}」に割り当てられています",
                h.prefix, h.name
            ),
            current: None,
        });
    }
    Ok(())
}

/// `POST /api/stores` (admin) `{name, prefixes}`.
pub async fn create(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let body: StoreBody = http::read_json(&mut req, 16 * 1024).await?;
    let name = store_name(body.name.as_deref().unwrap_or(""))?;
    let prefixes = prefix::parse_list(&body.prefixes.unwrap_or_default())?;
    let office = office_id(body.dialpad_office_id.flatten().as_deref())?;
    let db = env.d1("DB")?;
    check_free(&db, Some(name), &prefixes, None).await?;
    #[derive(Deserialize)]
    struct Created {
        id: i64,
    }
    let batch = db_stores::create(name, office.as_deref(), &prefixes)
        .iter()
        .map(|s| s.d1(&db))
        .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(batch).await?;
    let st: Created = db::first(&results[0])?
        .ok_or_else(|| ApiError::Unavailable("store insert returned no id".into()))?;
    crate::resources::audit::settings_changed(&session, "store", "create", Some(st.id));
    Ok(http::json_response(
        201,
        &json!({ "store": { "id": st.id, "name": name, "prefixes": prefixes, "dialpadOfficeId": office } }),
    )?)
}

/// `PATCH /api/stores/{id}` (admin) `{name?, prefixes?, dialpadOfficeId?}` — prefixes replace
/// the store's list; `dialpadOfficeId: null` (or "") clears it.
pub async fn update(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let body: StoreBody = http::read_json(&mut req, 16 * 1024).await?;
    let name = body.name.as_deref().map(store_name).transpose()?;
    let prefixes = body
        .prefixes
        .as_deref()
        .map(prefix::parse_list)
        .transpose()?;
    let office = body
        .dialpad_office_id
        .as_ref()
        .map(|o| office_id(o.as_deref()))
        .transpose()?;
    let db = env.d1("DB")?;
    check_free(&db, name, prefixes.as_deref().unwrap_or(&[]), Some(id)).await?;
    let batch = db_stores::update(
        id,
        name,
        office.as_ref().map(|o| o.as_deref()),
        prefixes.as_deref(),
    )
    .iter()
    .map(|s| s.d1(&db))
    .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(batch).await?;
    let resp = store_json(results.last().expect("the batch ends with the read"))?;
    crate::resources::audit::settings_changed(&session, "store", "update", Some(id));
    Ok(resp)
}

fn store_json(r: &D1Result) -> ApiResult<Response> {
    let r: db_stores::StoreWithPrefixes = db::first(r)?.ok_or(ApiError::NotFound)?;
    let prefixes: Vec<&str> = r
        .prefixes
        .as_deref()
        .map(|p| p.split(' ').collect())
        .unwrap_or_default();
    Ok(http::json_response(
        200,
        &json!({ "store": { "id": r.id, "name": r.name, "prefixes": prefixes, "dialpadOfficeId": r.dialpad_office_id } }),
    )?)
}

/// `DELETE /api/stores/{id}` (admin). Its prefixes go with it; customers and calls keep their
/// data with no store.
pub async fn delete(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let db = env.d1("DB")?;
    // A store with customers or accounts is not deleted: its customers would become "no
    // home store", visible and editable by every store's staff.
    let batch = db_stores::delete(id)
        .iter()
        .map(|s| s.d1(&db))
        .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(batch).await?;
    let in_use: Option<db_stores::InUse> = db::first(&results[0])?;
    if let Some(u) = in_use.filter(|u| u.customers > 0 || u.users > 0) {
        return Err(ApiError::Conflict {
            code: "store_in_use",
            message: format!(
                "この店舗には顧客が{}人、アカウントが{}件あります。先に別の店舗へ移してから削除してください",
                u.customers, u.users
            ),
            current: Some(json!({ "customers": u.customers, "users": u.users })),
        });
    }
    if db::changes(&results[3]) == 0 {
        return Err(ApiError::NotFound);
    }
    crate::resources::audit::settings_changed(&session, "store", "delete", Some(id));
    Ok(http::json_response(200, &json!({ "ok": true }))?)
}

/// `GET /api/stores/resolve?number=` — which store a dialled number would hit.
pub async fn resolve(req: Request, env: &Env) -> ApiResult<Response> {
    auth::authenticate(&req, env).await?;
    let raw = http::query_param(&req, "number").unwrap_or_default();
    let number = match phone::normalize(&raw) {
        Ok(Phone::Number(n)) => n,
        _ => {
            return Err(ApiError::bad(
                "invalid_phone",
                "number",
                "電話番号の形式が正しくありません",
            ))
        }
    };
    let table = table_from(&table_stmt(&env.d1("DB")?).all().await?)?;
    let hit = prefix::longest_match(&number, &table.prefixes);
    Ok(http::json_response(
        200,
        &json!({ "number": number, "store": store_for(&number, &table), "prefix": hit.map(|p| p.prefix.clone()) }),
    )?)
}
