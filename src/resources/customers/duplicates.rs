//! Numbers that other customers already have. Saving a customer with such a number is warned
//! about (the answer names the other customers this user may see, so the front desk can tell a
//! family's shared number from a duplicate record) and, for staff, refused when the other
//! customer belongs to another store. `POST /api/customers/duplicates` asks the same before a
//! save, so the page can warn before anything is written.
use crate::domain::access::Viewer;
use crate::domain::customer::{self, NumberOwner, SharedNumber, MAX_SHARED};
use crate::domain::error::ApiError;
use crate::platform::db::{self, opt_i};
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
    #[derive(Deserialize)]
    struct Home {
        home_store_id: Option<i64>,
    }
    let args = [db::json(phones), opt_i(except)];
    const WHERE: &str =
        "p.phone IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR c.id <> ?2)";
    let results = db
        .batch(vec![
            db::stmt(
                db,
                &format!(
                    "SELECT DISTINCT c.home_store_id FROM customer_phones p \
                     JOIN customers c ON c.id = p.customer_id WHERE {WHERE}"
                ),
                &args,
            )?,
            db::stmt(
                db,
                &format!(
                    "SELECT p.phone, c.id, c.name, c.home_store_id, hs.name AS home_store_name \
                     FROM customer_phones p JOIN customers c ON c.id = p.customer_id \
                     LEFT JOIN stores hs ON hs.id = c.home_store_id WHERE {WHERE} \
                     ORDER BY p.phone, c.id LIMIT {}",
                    MAX_SHARED * 2
                ),
                &args,
            )?,
        ])
        .await?;
    let homes = db::rows::<Home>(&results[0])?
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
    viewer: Viewer,
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
            "duplicates": customer::shared_numbers(viewer, &owners),
            "allowed": viewer.may_attach_number(&homes),
        }),
    )?)
}
