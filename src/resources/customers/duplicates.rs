//! Numbers that other customers already have. Saving a customer with such a number is warned
//! about (the answer names the other customers this user may see, so the front desk can tell a
//! family's shared number from a duplicate record) and, for staff, refused when the other
//! customer belongs to another store. `POST /api/customers/duplicates` asks the same before a
//! save, so the page can warn before anything is written.
use crate::db::customers as db_customers;
use crate::domain::access::Viewer;
use crate::domain::customer::{self, NumberOwner, SharedNumber, MAX_SHARED};
use crate::domain::error::ApiError;
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::json;
use worker::{D1Database, Env, Request, Response};

/// The other customers (not `except`) who have one of `phones`: the home stores of all of
/// them (the staff rule needs every one) and the first [`MAX_SHARED`] by number, one batch.
async fn owners(
    db: &D1Database,
    phones: &[String],
    except: Option<i64>,
) -> ApiResult<(Vec<Option<i64>>, Vec<NumberOwner>)> {
    let batch = db_customers::owners(phones, except, MAX_SHARED * 2)
        .iter()
        .map(|s| s.d1(db))
        .collect::<ApiResult<Vec<_>>>()?;
    let results = db.batch(batch).await?;
    let homes = db::rows::<db_customers::Home>(&results[0])?
        .into_iter()
        .map(|h| h.home_store_id)
        .collect();
    Ok((homes, db::rows(&results[1])?))
}

/// Before a customer (`except`: the one being edited) is saved with `phones`: refuses (409)
/// giving a staff member's customer a number that another store's customer has; otherwise the
/// numbers that other customers already have, as this viewer may be told.
pub async fn check_attach(
    db: &D1Database,
    viewer: &Viewer,
    phones: &[String],
    except: Option<i64>,
) -> ApiResult<Vec<SharedNumber>> {
    if phones.is_empty() {
        return Ok(vec![]);
    }
    let (homes, owners) = owners(db, phones, except).await?;
    if !viewer.may_attach_number(&homes) {
        return Err(ApiError::Conflict {
            code: "number_of_other_store",
            message:
                "この電話番号は他店舗の顧客に登録されています。登録・変更は管理者に依頼してください"
                    .into(),
            current: None,
        });
    }
    Ok(customer::shared_numbers(viewer, &owners))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CheckBody {
    phones: Vec<String>,
    #[serde(default)]
    except: Option<i64>,
}

/// `POST /api/customers/duplicates` with `{phones, except?}` — before saving: which other
/// customers already have these numbers → `{duplicates: [{phone, customer}], allowed}`.
/// `customer` is `{id, name, homeStore}`, or null for a customer of another store (staff are
/// never told who); `allowed` is false when the save would be refused (409
/// `number_of_other_store`). Writes nothing.
pub async fn check(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let body: CheckBody = http::read_json(&mut req, 4096).await?;
    let phones = customer::phones(body.phones.iter().map(String::as_str))?;
    let (homes, owners) = owners(&env.d1("DB")?, &phones, body.except).await?;
    Ok(http::json_response(
        200,
        &json!({
            "duplicates": customer::shared_numbers(&viewer, &owners),
            "allowed": viewer.may_attach_number(&homes),
        }),
    )?)
}

/// Numbers listed by [`shared_numbers`] at most (each with its customers).
const SHARED_LIST_MAX: i64 = 500;

/// `GET /api/customers/shared-numbers` (admin) — the numbers claimed in two or more stores
/// (customers of different home stores have them): `{numbers: [{phone, customers: [{id,
/// name, homeStore}]}]}`, by number, at most 500 numbers. A store registering its own caller
/// is never refused because another store's customer has the number; an admin sees here where
/// that happened and may merge or correct the records.
pub async fn shared_numbers(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let rows: Vec<db_customers::SharedRow> = db_customers::shared_across_stores(SHARED_LIST_MAX)
        .d1(&env.d1("DB")?)?
        .all()
        .await?
        .results()?;
    let mut numbers: Vec<serde_json::Value> = vec![];
    for r in rows {
        let customer = json!({
            "id": r.id,
            "name": r.name,
            "homeStore": r.home_store_id.map(|id| json!({"id": id, "name": r.home_store_name})),
        });
        match numbers.last_mut() {
            Some(last) if last["phone"] == r.phone.as_str() => {
                if let Some(list) = last["customers"].as_array_mut() {
                    list.push(customer);
                }
            }
            _ => numbers.push(json!({"phone": r.phone, "customers": [customer]})),
        }
    }
    Ok(http::json_response(200, &json!({ "numbers": numbers }))?)
}
