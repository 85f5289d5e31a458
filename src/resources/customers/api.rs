//! Customer handlers: the popup's lookup and registration, search, detail, edit, delete.
//! Each reads or writes in one D1 batch; the access check rides in the same batch and is
//! applied before anything read is returned.
use super::duplicates::check_attach;
use super::notes;
use super::queries::{self, card_columns, thirty_days_ago};
use crate::domain::access::{
    call_links_customer_sql, call_visible_sql, customer_visible_sql, Viewer,
};
use crate::domain::customer;
use crate::domain::error::ApiError;
use crate::domain::messages::{BroadcastRequest, CustomerCard};
use crate::domain::phone::{self, Phone};
use crate::domain::search;
use crate::pipeline::hub_client;
use crate::platform::db::{self, i, opt_i, opt_s, s};
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use crate::resources::{calls, stores};
use serde::Deserialize;
use serde_json::json;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Request, Response};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LookupBody {
    #[serde(default)]
    call_id: Option<serde_json::Value>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    incoming: Option<String>,
}

#[derive(Deserialize)]
struct CallNumbers {
    caller: String,
    dialled: String,
    store_id: Option<i64>,
}

/// `POST /api/customers/lookup` with `{"callId"}` (the popup: the numbers come from the call
/// log, so no number travels in a URL) or `{"phone", "incoming"?}` — everything the popup
/// shows for a caller: the store the call came in on, the customer (or several sharing the
/// number) this user may see, their latest notes, and the number's recent calls. A call this
/// user may not see is a 404.
pub async fn lookup(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    // Whatever the hub has not copied to D1 yet (a call that just popped) first.
    crate::pipeline::hub_client::flush(env).await;
    let viewer = Viewer::from(&session);
    let body: LookupBody = http::read_json(&mut req, 4096).await?;
    let db = env.d1("DB")?;
    let (raw_phone, raw_incoming, this_call) = match &body.call_id {
        Some(id) => {
            let id = match id {
                serde_json::Value::String(s) if crate::domain::call::call_id(s).is_some() => {
                    s.trim().to_string()
                }
                serde_json::Value::Number(n) => n.to_string(),
                _ => {
                    return Err(ApiError::bad(
                        "invalid_call_id",
                        "callId",
                        "callId が正しくありません",
                    ))
                }
            };
            let found = db
                .batch(vec![
                    db::stmt(
                        &db,
                        "SELECT caller, dialled, store_id FROM calls WHERE id = ?1",
                        &[s(&id)],
                    )?,
                    stores::table_stmt(&db),
                ])
                .await?;
            let call: CallNumbers = db::first(&found[0])?.ok_or(ApiError::NotFound)?;
            // The call's row reaches D1 through the hub's outbox (flushed above, best effort):
            // should it not have its store yet, the line's store is decided by the same rule.
            let store = call.store_id.or_else(|| {
                stores::table_from(&found[1])
                    .ok()
                    .and_then(|t| stores::store_for(&call.dialled, &t).id)
            });
            if !viewer.may_see_call(store) {
                return Err(ApiError::NotFound);
            }
            (call.caller, Some(call.dialled), Some(id))
        }
        None => (body.phone.unwrap_or_default(), body.incoming, None),
    };
    let incoming = match raw_incoming.filter(|v| !v.trim().is_empty()) {
        Some(raw) => Some(customer::phone(&raw, "incoming")?),
        None => None,
    };
    // A withheld caller (a call's empty number) has no customer, only the line it came in on.
    let phone = match (&body.call_id, phone::normalize(&raw_phone)) {
        (Some(_), Ok(Phone::Withheld)) => None,
        (Some(_), Err(_)) => None,
        _ => Some(customer::phone(&raw_phone, "phone")?),
    };
    let now = http::now_ms();
    let number = phone.clone().unwrap_or_default();
    let results = db
        .batch(vec![
            queries::by_phone_for(&db, &number, now, viewer.scope())?,
            calls::from_number_stmt(&db, viewer, &number, 10)?,
            stores::table_stmt(&db),
            db::stmt(
                &db,
                "SELECT customer_id, id, note_type, body, author_name, created_at FROM customer_notes \
                 WHERE customer_id IN (SELECT customer_id FROM customer_phones WHERE phone = ?1) \
                 ORDER BY id DESC LIMIT 50",
                &[s(&number)],
            )?,
            wrapups_stmt(&db, viewer, &number, this_call.as_deref())?,
        ])
        .await?;
    let (cards, hidden): (Vec<_>, Vec<_>) = queries::cards_from(&results[0])?
        .into_iter()
        .partition(|c| viewer.may_see_customer(c.home_store.as_ref().and_then(|h| h.id)));
    // The number belongs to customers this user may not see (another store's) and to none
    // they may: the popup says so instead of offering a registration that would be refused.
    // Who they are stays hidden (the access policy decides; `hidden` never leaves this scope).
    let other_store = cards.is_empty() && !hidden.is_empty();
    // A withheld number's "history" would be every withheld call: none is shown.
    let (mut history, wrapups): (Vec<calls::CallLogEntry>, Vec<Wrapup>) = match phone {
        Some(_) => (db::rows(&results[1])?, db::rows(&results[4])?),
        None => (vec![], vec![]),
    };
    // A call of this user's store may be linked to a customer they may not see: the row keeps
    // its call, not that customer's name.
    for h in &mut history {
        if !viewer.is_admin() && !cards.iter().any(|c| Some(c.id) == h.customer_id) {
            h.customer_id = None;
            h.customer_name = None;
        }
    }
    let table = stores::table_from(&results[2])?;
    let store = incoming.as_deref().map(|n| stores::store_for(n, &table));
    // The popup shows the latest notes of the one customer it shows.
    let notes: Vec<notes::Note> = match cards.as_slice() {
        [one] => notes::from(&results[3])?
            .into_iter()
            .filter(|n| n.customer_id == Some(one.id))
            .take(3)
            .collect(),
        _ => vec![],
    };
    let can_edit = match cards.as_slice() {
        [one] => viewer.may_edit_customer(one.home_store.as_ref().and_then(|h| h.id)),
        _ => false,
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
            "canEdit": can_edit,
            "wrapups": wrapups,
            "otherStore": other_store,
        }),
    )?)
}

/// One of the number's latest wrap-ups, as the popup's 前回までの対応 shows it.
#[derive(Deserialize, serde::Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
struct Wrapup {
    call_id: String,
    started_at: i64,
    store_name: Option<String>,
    category: String,
    outcome: String,
    note: String,
    #[serde(rename(serialize = "by"))]
    updated_by: Option<String>,
    #[serde(rename(serialize = "at"))]
    updated_at: i64,
}

/// The last 3 wrap-ups written on calls from `phone` that `viewer` may see (the history's
/// visibility), newest call first, leaving out `except` (the call the popup is about: its
/// own wrap-up is the form) and wrap-ups left empty.
fn wrapups_stmt(
    db: &worker::D1Database,
    viewer: Viewer,
    phone: &str,
    except: Option<&str>,
) -> ApiResult<worker::D1PreparedStatement> {
    let sql = format!(
        "SELECT k.id AS call_id, k.started_at, s.name AS store_name, w.category, w.outcome, \
         w.note, w.updated_by, w.updated_at FROM calls k JOIN call_wrapups w ON w.call_id = k.id \
         LEFT JOIN stores s ON s.id = k.store_id \
         WHERE k.caller = ?1 AND (?2 IS NULL OR k.id <> ?2) AND {} \
         AND (w.category <> '' OR w.outcome <> '' OR w.note <> '') \
         ORDER BY k.started_at DESC LIMIT 3",
        call_visible_sql(3)
    );
    db::stmt(db, &sql, &[s(phone), opt_s(except), opt_i(viewer.scope())])
}

/// Customers one user may create per minute (popup and 顧客 together): a person at the front
/// desk registers a few an hour; a script squatting on numbers is stopped (429 `rate_limited`).
const CREATES_PER_MINUTE: i64 = 60;

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
    let viewer = Viewer::from(&session);
    let body: NewCustomer = http::read_json(&mut req, 16 * 1024).await?;
    let name = customer::name(&body.name)?;
    let kana = customer::kana(&body.kana)?;
    let memo = customer::memo(&body.memo)?;
    let phone = customer::phone(&body.phone, "phone")?;
    // Staff register customers for their own store only.
    let home_store = if viewer.is_admin() {
        body.home_store_id
    } else {
        session.store
    };
    // The calls the hub has not copied to D1 yet (the caller's call that just popped) first,
    // so that the create links them.
    crate::pipeline::hub_client::flush(env).await;
    let db = env.d1("DB")?;
    super::csv_io::rate_limit(
        &db,
        &format!("create:{}", session.uid),
        CREATES_PER_MINUTE,
        60_000,
    )
    .await?;
    let duplicates = check_attach(&db, viewer, std::slice::from_ref(&phone), None).await?;
    let now = http::now_ms();
    // One batch is one transaction: the customer, their number, the link of their earlier
    // calls and the card read back, together or not at all. An unknown store fails the
    // customer's foreign key and rolls the whole batch back.
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                "INSERT INTO customers (name, kana, memo, home_store_id, name_key, kana_key, created_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                &[
                    s(&name),
                    s(&kana),
                    s(&memo),
                    opt_i(home_store),
                    s(&search::key(&name)),
                    s(&search::key(&kana)),
                    i(session.uid),
                ],
            )?,
            db::stmt(
                &db,
                "INSERT INTO customer_phones (phone, customer_id) VALUES (?1, last_insert_rowid())",
                &[s(&phone)],
            )?,
            // Links the earlier calls from the number that the creator may see and whose
            // store may see the new customer: a staff create links its own store's calls only,
            // never another store's (no squatting on a number another store's caller uses).
            db::stmt(
                &db,
                &format!(
                    "UPDATE calls AS k SET customer_id = (SELECT max(id) FROM customers) \
                     WHERE k.caller = ?1 AND k.customer_id IS NULL AND {} AND {}",
                    call_visible_sql(2),
                    call_links_customer_sql(3)
                ),
                &[s(&phone), opt_i(viewer.scope()), opt_i(home_store)],
            )?,
            queries::newest_stmt(&db, now, viewer.scope())?,
        ])
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::BadRequest {
                code: "invalid_reference",
                ..
            } => ApiError::bad("unknown_store", "homeStoreId", "店舗が見つかりません"),
            other => other,
        })?;
    let card = queries::one(&results[3])?;
    reindex(env, &[card.id]).await;
    announce(env, &card, None).await;
    crate::resources::dialpad::sync::customers(env, &req, &[card.id]).await;
    Ok(http::json_response(
        201,
        &json!({ "customer": card, "duplicates": duplicates }),
    )?)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SearchBody {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

/// `POST /api/customers/search` with `{"q", "page", "perPage"}` — search by number (any
/// format, any part of it), name or kana, among the customers this user may see. The query
/// travels in the body: a number in a URL ends up in logs.
pub async fn search(mut req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let body: SearchBody = http::read_json(&mut req, 4096).await?;
    let q = body.q.trim();
    if q.chars().count() > 100 {
        return Err(ApiError::bad("invalid_query", "q", "検索語が長すぎます"));
    }
    let (page, per) = http::page_of(body.page, body.per_page);
    // A query that normalises to digits is a number search; anything else is a text search.
    let digits = match phone::normalize(q) {
        Ok(Phone::Number(n)) if !q.is_empty() => Some(n),
        _ => None,
    };
    // Text matches the folded keys; `instr`, not LIKE, so the query's length in bytes is no
    // limit (D1 caps a LIKE pattern at 50 bytes: about 16 kanji).
    let filter = format!(
        "(?1 = '' OR (?2 IS NOT NULL AND EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id \
           AND instr(p.phone, ?2) > 0)) OR instr(c.name_key, ?3) > 0 OR instr(c.kana_key, ?3) > 0) AND {}",
        customer_visible_sql(4)
    );
    let args = [
        s(&search::key(q)),
        opt_s(digits.as_deref()),
        s(&search::key(q)),
        opt_i(viewer.scope()),
        i(per),
        i((page - 1) * per),
        i(thirty_days_ago(http::now_ms())),
        opt_i(viewer.scope()),
    ];
    let db = env.d1("DB")?;
    backfill_keys(&db).await?;
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                &format!("SELECT count(*) AS n FROM customers c WHERE {filter}"),
                &args[..4],
            )?,
            db::stmt(
                &db,
                &format!(
                    "SELECT {} FROM customers c LEFT JOIN stores hs ON hs.id = c.home_store_id \
                     WHERE {filter} ORDER BY c.kana, c.name, c.id LIMIT ?5 OFFSET ?6",
                    card_columns(7)
                ),
                &args,
            )?,
        ])
        .await?;
    let total = db::count(&results[0])?;
    let customers = queries::cards_from(&results[1])?;
    Ok(http::json_response(
        200,
        &json!({ "customers": customers, "total": total, "page": page, "perPage": per }),
    )?)
}

/// Most customers rows written before search keys existed (or by a script straight into D1)
/// get theirs here, in bounded steps: one read, one write.
pub async fn backfill_keys(db: &worker::D1Database) -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        name: String,
        kana: String,
    }
    let rows: Vec<Row> = db
        .prepare("SELECT id, name, kana FROM customers WHERE name_key IS NULL LIMIT 1000")
        .all()
        .await?
        .results()?;
    if rows.is_empty() {
        return Ok(0);
    }
    let keys: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| json!([r.id, search::key(&r.name), search::key(&r.kana)]))
        .collect();
    db::stmt(
        db,
        "UPDATE customers SET name_key = json_extract(j.value, '$[1]'), kana_key = json_extract(j.value, '$[2]') \
         FROM json_each(?1) j WHERE customers.id = json_extract(j.value, '$[0]')",
        &[db::json(&keys)],
    )?
    .run()
    .await?;
    Ok(rows.len())
}

/// `GET /api/customers/{id}` — the card, its notes and the last 10 calls from its numbers.
pub async fn detail(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    // Whatever the hub has not copied to D1 yet (a call that just popped) first.
    crate::pipeline::hub_client::flush(env).await;
    let viewer = Viewer::from(&session);
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![
            notes::home_stmt(&db, id)?,
            queries::by_id_stmt(&db, id, http::now_ms(), viewer.scope())?,
            notes::list_stmt(&db, id, 50)?,
            calls::of_customer_stmt(&db, viewer, id, 10)?,
        ])
        .await?;
    let home = notes::check_visible(&results[0], viewer)?;
    let history: Vec<calls::CallLogEntry> = db::rows(&results[3])?;
    Ok(http::json_response(
        200,
        &json!({
            "customer": queries::one(&results[1])?,
            "notes": notes::from(&results[2])?,
            "history": history,
            "canEdit": viewer.may_edit_customer(home.home_store_id),
        }),
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CustomerPatch {
    version: Option<i64>,
    name: Option<String>,
    kana: Option<String>,
    memo: Option<String>,
    customer_type: Option<String>,
    #[serde(default, with = "http::double_option")]
    flag: Option<Option<String>>,
    #[serde(default, with = "http::double_option")]
    home_store_id: Option<Option<i64>>,
    phones: Option<Vec<String>>,
    visits: Option<i64>,
    total_spend: Option<i64>,
    #[serde(default, with = "http::double_option")]
    last_visit: Option<Option<String>>,
}

/// `PATCH /api/customers/{id}` — an edit based on `version`. A stale version is a 409 with the
/// current record, so concurrent edits never silently drop text.
pub async fn update(mut req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let viewer = Viewer::from(&session);
    let patch: CustomerPatch = http::read_json(&mut req, 32 * 1024).await?;
    let version = patch.version.ok_or_else(|| {
        ApiError::bad(
            "missing_version",
            "version",
            "version (編集元の版) が必要です",
        )
    })?;
    // ?1 id, ?2 version, ?3 edit token, ?4 the viewer's scope; the columns follow.
    let mut sets: Vec<&str> = Vec::new();
    let mut args: Vec<JsValue> = vec![i(id), i(version), JsValue::NULL, opt_i(viewer.scope())];
    let mut set = |col: &'static str, v: JsValue| {
        sets.push(col);
        args.push(v);
    };
    if let Some(v) = &patch.name {
        let name = customer::name(v)?;
        set("name_key", s(&search::key(&name)));
        set("name", s(&name));
    }
    if let Some(v) = &patch.kana {
        let kana = customer::kana(v)?;
        set("kana_key", s(&search::key(&kana)));
        set("kana", s(&kana));
    }
    if let Some(v) = &patch.memo {
        set("memo", s(&customer::memo(v)?));
    }
    if let Some(v) = &patch.customer_type {
        set("customer_type", s(&customer::customer_type(v)?));
    }
    if let Some(v) = &patch.flag {
        set("flag", opt_s(customer::flag(v.as_deref())?.as_deref()));
    }
    if let Some(store) = patch.home_store_id {
        if !viewer.may_assign_home(store) {
            return Err(ApiError::Forbidden("other_store"));
        }
        set("home_store_id", opt_i(store));
    }
    if let Some(n) = patch.visits {
        set("visit_count", i(customer::amount(n, "visits", "来店回数")?));
    }
    if let Some(n) = patch.total_spend {
        set(
            "total_spend",
            i(customer::amount(n, "totalSpend", "累計利用額")?),
        );
    }
    if let Some(d) = &patch.last_visit {
        let day = customer::last_visit(d.as_deref().unwrap_or(""))?;
        set("last_visit_at", opt_s(day.as_deref()));
    }
    let phones = match &patch.phones {
        Some(list) => Some(customer::phones(list.iter().map(String::as_str))?),
        None => None,
    };
    // One token per edit: the phone statements below apply only if this edit's version and
    // access checks passed (a batch is one transaction, but a zero-row UPDATE is no failure).
    let mut token = [0u8; 12];
    getrandom::getrandom(&mut token).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let token = crate::domain::password::to_hex(&token);
    args[2] = s(&token);
    let assignments: String = sets
        .iter()
        .enumerate()
        .map(|(n, col)| format!(", {col} = ?{}", n + 5))
        .collect();
    let update_sql = format!(
        "UPDATE customers AS c SET version = version + 1, edit_token = ?3, \
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'){assignments} \
         WHERE c.id = ?1 AND c.version = ?2 AND {}",
        customer_visible_sql(4)
    );
    let db = env.d1("DB")?;
    let duplicates = match &phones {
        Some(phones) => check_attach(&db, viewer, phones, Some(id)).await?,
        None => vec![],
    };
    let mut batch = vec![
        notes::home_stmt(&db, id)?,
        db::stmt(&db, &update_sql, &args)?,
    ];
    if let Some(phones) = &phones {
        batch.push(db::stmt(
            &db,
            "DELETE FROM customer_phones WHERE customer_id = ?1 \
             AND (SELECT edit_token FROM customers WHERE id = ?1) = ?2",
            &[i(id), s(&token)],
        )?);
        batch.push(db::stmt(
            &db,
            "INSERT OR IGNORE INTO customer_phones (phone, customer_id) SELECT value, ?1 FROM json_each(?2) \
             WHERE (SELECT edit_token FROM customers WHERE id = ?1) = ?3",
            &[i(id), db::json(phones), s(&token)],
        )?);
    }
    batch.push(queries::by_id_stmt(
        &db,
        id,
        http::now_ms(),
        viewer.scope(),
    )?);
    let results = db.batch(batch).await?;
    let home = notes::check_visible(&results[0], viewer)?;
    if !viewer.may_edit_customer(home.home_store_id) {
        return Err(ApiError::Forbidden("other_store"));
    }
    let current = queries::one(results.last().expect("the batch ends with the read"))?;
    if db::changes(&results[1]) == 0 {
        return Err(ApiError::Conflict {
            code: "version_conflict",
            message: "他の人がこの顧客を更新しました。最新の内容を確認してから保存してください"
                .into(),
            current: serde_json::to_value(&current).ok(),
        });
    }
    reindex(env, &[id]).await;
    announce(env, &current, None).await;
    crate::resources::dialpad::sync::customers(env, &req, &[id]).await;
    Ok(http::json_response(
        200,
        &json!({ "customer": current, "duplicates": duplicates }),
    )?)
}

/// Tells the consoles and popups that may see this customer (admins, and the staff of the
/// home store) that a caller's name or numbers changed, so open rows and popups follow
/// without a reload. `merged_from`: the customer just merged into this one (gone now) and
/// their home store, so a popup showing them switches to the one kept; the home store's staff
/// are told that id only when they could see that customer. Best effort: the write is done
/// whether or not the hub answers.
pub(crate) async fn announce(
    env: &Env,
    card: &CustomerCard,
    merged_from: Option<(i64, Option<i64>)>,
) {
    let store_id = card.home_store.as_ref().and_then(|h| h.id);
    let message = json!({
        "type": "customer_changed",
        "customer": { "id": card.id, "name": card.name, "phones": card.phones },
        "storeId": store_id,
    });
    let mut whole = message.clone();
    let mut staff_message = None;
    if let Some((from, from_home)) = merged_from {
        whole["mergedFrom"] = json!(from);
        let staff = Viewer {
            role: crate::domain::token::Role::Staff,
            store: store_id,
        };
        if !staff.may_see_customer(from_home) {
            staff_message = Some(message.to_string());
        }
    }
    let req = BroadcastRequest {
        // Unique per change: the hub sends each key once.
        key: format!("customer:{}:{}:{}", card.id, card.version, http::now_ms()),
        store_id,
        message: whole.to_string(),
        // The store room is the customer's home store: its staff may see the customer.
        staff_message,
        live: false,
    };
    if let Err(e) = hub_client::broadcast(env, &req).await {
        worker::console_warn!("customer_changed not broadcast: {e:?}");
    }
}

/// `DELETE /api/customers/{id}` (admin).
pub async fn delete(req: Request, env: &Env, id: i64) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let r = db::stmt(
        &env.d1("DB")?,
        "DELETE FROM customers WHERE id = ?1",
        &[i(id)],
    )?
    .run()
    .await?;
    if db::changes(&r) == 0 {
        return Err(ApiError::NotFound);
    }
    reindex(env, &[id]).await;
    crate::resources::dialpad::sync::customers(env, &req, &[id]).await;
    Ok(http::json_response(200, &json!({ "ok": true }))?)
}

/// Brings the hub's pop index up to date with customers this request changed in D1, before
/// the request is answered: the next call from their numbers pops with what was just saved.
pub(crate) async fn reindex(env: &Env, ids: &[i64]) {
    crate::pipeline::hub_client::index_changed(
        env,
        &crate::domain::messages::IndexChange {
            customers: ids.to_vec(),
            ..Default::default()
        },
    )
    .await;
}
