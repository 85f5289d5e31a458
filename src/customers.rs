//! Customer lookup for the popup, on-the-spot registration, and the recent-call list.
use crate::auth;
use crate::db::{self, i, opt_i, s, CallLogEntry};
use crate::error::{max_chars, ApiError};
use crate::http::{self, ApiResult};
use crate::messages::StoreRef;
use crate::phone::{self, Phone};
use crate::token::{Role, Session};
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};

fn parse_phone(raw: &str, field: &'static str) -> ApiResult<String> {
    match phone::normalize(raw) {
        Ok(Phone::Number(n)) => Ok(n),
        Ok(Phone::Withheld) => Err(ApiError::bad(
            "missing_phone",
            field,
            "電話番号を入力してください",
        )),
        Err(_) => Err(ApiError::bad(
            "invalid_phone",
            field,
            "電話番号の形式が正しくありません",
        )),
    }
}

/// Staff see their own store's calls only; admins see all.
fn store_scope(session: &Session) -> Option<i64> {
    match session.role {
        Role::Admin => None,
        Role::Staff => Some(session.store.unwrap_or(-1)),
    }
}

/// `GET /api/customers/lookup?phone=…&incoming=…` — everything the popup shows for a caller:
/// the store the call came in on, the customer (or several sharing the number), and the
/// number's recent calls.
pub async fn lookup(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let phone = parse_phone(
        &http::query_param(&req, "phone").unwrap_or_default(),
        "phone",
    )?;
    let incoming = match http::query_param(&req, "incoming").filter(|v| !v.trim().is_empty()) {
        Some(raw) => Some(parse_phone(&raw, "incoming")?),
        None => None,
    };
    let db = env.d1("DB")?;
    let now = http::now_ms();
    let results = db
        .batch(vec![
            db::customers_by_phone_stmt(&db, &phone, now)?,
            db::history_stmt(&db, &phone, 10)?,
            db.prepare(db::PREFIXES_SQL),
        ])
        .await?;
    let cards = db::cards_from(&results[0])?;
    let scope = store_scope(&session);
    let history: Vec<CallLogEntry> = results[1]
        .results::<CallLogEntry>()?
        .into_iter()
        .filter(|c| scope.is_none() || c.store_id == scope)
        .collect();
    // Staff see a customer of another store only when this number has called their store
    // (then the popup must show who it is); otherwise the number looks unregistered to them.
    let cards: Vec<_> = match scope {
        None => cards,
        Some(mine) => cards
            .into_iter()
            .filter(|c| {
                c.home_store.as_ref().is_none_or(|h| h.id == Some(mine)) || !history.is_empty()
            })
            .collect(),
    };
    let prefixes = db::prefixes_from(&results[2])?;
    let store = incoming.as_deref().map(|n| db::store_for(n, &prefixes));
    // The popup shows the latest notes of the one customer with this number.
    let notes = match cards.as_slice() {
        [one] => {
            crate::records::notes_from(&crate::records::notes_stmt(&db, one.id, 3)?.all().await?)?
        }
        _ => vec![],
    };
    Ok(http::json_response(
        200,
        &json!({
            "phone": phone,
            "incomingNumber": incoming,
            "store": store,
            "customer": if cards.len() == 1 { Some(&cards[0]) } else { None },
            "candidates": if cards.len() > 1 { cards.clone() } else { vec![] },
            "history": history,
            "notes": notes,
            // Whether this user may edit the one customer shown (admins: all; staff: their
            // store's and unassigned customers).
            "canEdit": match (cards.as_slice(), scope) {
                ([_], None) => true,
                ([one], Some(mine)) => one.home_store.as_ref().is_none_or(|h| h.id == Some(mine)),
                _ => false,
            },
        }),
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCustomer {
    name: String,
    #[serde(default)]
    kana: String,
    #[serde(default)]
    memo: String,
    phone: String,
    #[serde(default)]
    home_store_id: Option<i64>,
}

/// `POST /api/customers` — registers an unknown caller from the popup.
pub async fn create(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let body: NewCustomer = http::read_json(&mut req, 16 * 1024).await?;
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::bad(
            "missing_name",
            "name",
            "氏名を入力してください",
        ));
    }
    max_chars(name, 100, "invalid_name", "name", "氏名")?;
    max_chars(body.kana.trim(), 100, "invalid_kana", "kana", "フリガナ")?;
    max_chars(&body.memo, 2000, "invalid_memo", "memo", "メモ")?;
    let phone = parse_phone(&body.phone, "phone")?;
    let home_store = match session.role {
        // Staff register customers for their own store only.
        Role::Staff => session.store,
        Role::Admin => body.home_store_id,
    };
    let db = env.d1("DB")?;
    if let Some(store) = home_store {
        let exists = db::stmt(&db, "SELECT id FROM stores WHERE id = ?1", &[i(store)])?
            .first::<serde_json::Value>(None)
            .await?;
        if exists.is_none() {
            return Err(ApiError::bad(
                "unknown_store",
                "homeStoreId",
                "店舗が見つかりません",
            ));
        }
    }
    let now = http::now_ms();
    // One batch is one transaction: the customer, their number, and the link of their earlier
    // calls are written together or not at all.
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                "INSERT INTO customers (name, kana, memo, home_store_id) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                &[s(name), s(body.kana.trim()), s(&body.memo), opt_i(home_store)],
            )?,
            db::stmt(
                &db,
                "INSERT INTO customer_phones (phone, customer_id) VALUES (?1, last_insert_rowid())",
                &[s(&phone)],
            )?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let id = results[0]
        .results::<Id>()?
        .first()
        .map(|r| r.id)
        .ok_or_else(|| ApiError::Unavailable("insert returned no id".into()))?;
    db::stmt(
        &db,
        "UPDATE calls SET customer_id = ?1 WHERE caller = ?2 AND customer_id IS NULL",
        &[i(id), s(&phone)],
    )?
    .run()
    .await?;
    let card = db::cards_from(&db::customer_by_id_stmt(&db, id, now)?.all().await?)?
        .pop()
        .ok_or(ApiError::NotFound)?;
    Ok(http::json_response(201, &json!({ "customer": card }))?)
}

/// `GET /api/calls/recent?limit=` — the console's call list, newest first.
pub async fn recent(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let limit = http::query_param(&req, "limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(20)
        .clamp(1, 100);
    let calls = db::recent_calls(&env.d1("DB")?, store_scope(&session), limit).await?;
    Ok(http::json_response(200, &json!({ "calls": calls }))?)
}

/// `GET /api/stores` — stores and prefixes (for forms and the store checker).
pub async fn stores(req: Request, env: &Env) -> ApiResult<Response> {
    auth::authenticate(&req, env).await?;
    let prefixes = db::load_prefixes(&env.d1("DB")?).await?;
    #[derive(Deserialize, serde::Serialize)]
    struct StoreRow {
        id: i64,
        name: String,
    }
    let stores: Vec<StoreRow> = env
        .d1("DB")?
        .prepare("SELECT id, name FROM stores ORDER BY id")
        .all()
        .await?
        .results()?;
    let list: Vec<_> = stores
        .into_iter()
        .map(|st| {
            let mut ps: Vec<&str> = prefixes
                .iter()
                .filter(|p| p.store_id == st.id)
                .map(|p| p.prefix.as_str())
                .collect();
            ps.sort_unstable();
            json!({ "id": st.id, "name": st.name, "prefixes": ps })
        })
        .collect();
    Ok(http::json_response(
        200,
        &json!({ "stores": list, "unknown": StoreRef::unknown() }),
    )?)
}
