//! Customer records: search, detail, edits with a version precondition, notes, CSV import and
//! export; stores and their prefixes; the call log with filters.
//!
//! Access: admins see and edit everything. Staff edit customers of their own store (and
//! unassigned ones) and may read a customer of another store only when that customer has
//! called their store (the popup must work for them); lists are limited to their store.
use crate::auth;
use crate::csv::{self, RowError};
use crate::db::{self, i, opt_i, opt_s, s, CallLogEntry};
use crate::error::{max_chars, ApiError};
use crate::http::{self, ApiResult};
use crate::messages::CustomerCard;
use crate::phone::{self, Phone};
use crate::token::{Role, Session};
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::wasm_bindgen::{self, prelude::*, JsValue};
use worker::{js_sys, D1Database, Env, Request, Response, ResponseBuilder};

pub const NOTE_TYPES: &[&str] = &["一般", "好み", "苦情", "注意", "重要"];

#[derive(Deserialize)]
struct AccessRow {
    home_store_id: Option<i64>,
    called_here: i64,
}

struct Access {
    read: bool,
    edit: bool,
}

async fn access(db: &D1Database, session: &Session, id: i64) -> ApiResult<Access> {
    let store = session.store.unwrap_or(-1);
    let row = db::stmt(
        db,
        "SELECT home_store_id, EXISTS (SELECT 1 FROM calls k WHERE k.store_id = ?2 AND k.caller IN \
           (SELECT phone FROM customer_phones WHERE customer_id = c.id)) AS called_here \
         FROM customers c WHERE c.id = ?1",
        &[i(id), i(store)],
    )?
    .first::<AccessRow>(None)
    .await?
    .ok_or(ApiError::NotFound)?;
    Ok(match session.role {
        Role::Admin => Access {
            read: true,
            edit: true,
        },
        Role::Staff => {
            let edit = row.home_store_id.is_none() || row.home_store_id == session.store;
            Access {
                read: edit || row.called_here != 0,
                edit,
            }
        }
    })
}

async fn card(db: &D1Database, id: i64) -> ApiResult<CustomerCard> {
    db::cards_from(
        &db::customer_by_id_stmt(db, id, http::now_ms())?
            .all()
            .await?,
    )?
    .pop()
    .ok_or(ApiError::NotFound)
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct Note {
    id: i64,
    note_type: String,
    body: String,
    author_name: String,
    created_at: String,
}

pub fn notes_stmt(
    db: &D1Database,
    customer: i64,
    limit: i64,
) -> ApiResult<worker::D1PreparedStatement> {
    db::stmt(
        db,
        "SELECT id, note_type, body, author_name, created_at FROM customer_notes \
         WHERE customer_id = ?1 ORDER BY id DESC LIMIT ?2",
        &[i(customer), i(limit)],
    )
}

pub fn notes_from(r: &worker::D1Result) -> ApiResult<Vec<Note>> {
    Ok(r.results::<Note>()?)
}

fn path_id(segment: &str) -> ApiResult<i64> {
    segment
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(ApiError::NotFound)
}

/// Escapes LIKE wildcards so user text matches literally.
fn like_pattern(q: &str) -> String {
    let mut p = String::from("%");
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

fn page_params(req: &Request) -> (i64, i64) {
    let page = http::query_param(req, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1i64)
        .max(1);
    let per = http::query_param(req, "perPage")
        .and_then(|p| p.parse().ok())
        .unwrap_or(20i64)
        .clamp(1, 100);
    (page, per)
}

/// `GET /api/customers?q=&page=&perPage=` — search by number (any format, any part of it),
/// name or kana.
pub async fn search(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let q = http::query_param(&req, "q").unwrap_or_default();
    let q = q.trim();
    if q.chars().count() > 100 {
        return Err(ApiError::bad("invalid_query", "q", "検索語が長すぎます"));
    }
    let (page, per) = page_params(&req);
    // A query that normalises to digits is a number search; anything else is a text search.
    let digits = match phone::normalize(q) {
        Ok(Phone::Number(n)) if !q.is_empty() => Some(n),
        _ => None,
    };
    let scope = match session.role {
        Role::Admin => None,
        Role::Staff => Some(session.store.unwrap_or(-1)),
    };
    let filter = "(?1 = '' OR (?2 IS NOT NULL AND EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id \
           AND instr(p.phone, ?2) > 0)) OR c.name LIKE ?3 ESCAPE '\\' OR c.kana LIKE ?3 ESCAPE '\\') \
         AND (?4 IS NULL OR c.home_store_id = ?4 OR c.home_store_id IS NULL)";
    let db = env.d1("DB")?;
    let args = [
        s(q),
        opt_s(digits.as_deref()),
        s(&like_pattern(q)),
        opt_i(scope),
    ];
    let count_sql = format!("SELECT count(*) AS n FROM customers c WHERE {filter}");
    let list_sql = format!(
        "SELECT c.id FROM customers c WHERE {filter} ORDER BY c.kana, c.name, c.id LIMIT ?5 OFFSET ?6"
    );
    let mut list_args = args.to_vec();
    list_args.push(i(per));
    list_args.push(i((page - 1) * per));
    let results = db
        .batch(vec![
            db::stmt(&db, &count_sql, &args)?,
            db::stmt(&db, &list_sql, &list_args)?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let total = results[0].results::<N>()?.first().map_or(0, |r| r.n);
    let ids: Vec<i64> = results[1]
        .results::<Id>()?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut customers = Vec::with_capacity(ids.len());
    if !ids.is_empty() {
        let now = http::now_ms();
        let stmts = ids
            .iter()
            .map(|id| db::customer_by_id_stmt(&db, *id, now))
            .collect::<ApiResult<Vec<_>>>()?;
        for r in db.batch(stmts).await? {
            customers.extend(db::cards_from(&r)?);
        }
    }
    Ok(http::json_response(
        200,
        &json!({ "customers": customers, "total": total, "page": page, "perPage": per }),
    )?)
}

/// `GET /api/customers/{id}` — the card, its notes and the last 10 calls from its numbers.
pub async fn detail(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let id = path_id(id)?;
    let db = env.d1("DB")?;
    let acc = access(&db, &session, id).await?;
    if !acc.read {
        return Err(ApiError::Forbidden("other_store"));
    }
    let card = card(&db, id).await?;
    let results = db
        .batch(vec![notes_stmt(&db, id, 50)?, history_for(&db, id)?])
        .await?;
    let history: Vec<CallLogEntry> = results[1]
        .results::<CallLogEntry>()?
        .into_iter()
        .filter(|c| session.role == Role::Admin || c.store_id == session.store)
        .collect();
    Ok(http::json_response(
        200,
        &json!({ "customer": card, "notes": notes_from(&results[0])?, "history": history, "canEdit": acc.edit }),
    )?)
}

fn history_for(db: &D1Database, id: i64) -> ApiResult<worker::D1PreparedStatement> {
    db::stmt(
        db,
        "SELECT k.id, k.direction, k.caller, k.dialled, k.store_id, s.name AS store_name, k.customer_id, \
           c.name AS customer_name, k.state, k.phase, k.is_test, k.started_at, k.connected_at, k.ended_at, \
           k.duration_ms, k.answered_by \
         FROM calls k LEFT JOIN stores s ON s.id = k.store_id LEFT JOIN customers c ON c.id = k.customer_id \
         WHERE k.caller IN (SELECT phone FROM customer_phones WHERE customer_id = ?1) \
         ORDER BY k.started_at DESC LIMIT 10",
        &[i(id)],
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CustomerPatch {
    version: Option<i64>,
    name: Option<String>,
    kana: Option<String>,
    memo: Option<String>,
    customer_type: Option<String>,
    #[serde(default, with = "double_option")]
    flag: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    home_store_id: Option<Option<i64>>,
    phones: Option<Vec<String>>,
    visits: Option<i64>,
    total_spend: Option<i64>,
    #[serde(default, with = "double_option")]
    last_visit: Option<Option<String>>,
}

/// Tells "field absent" (leave as is) from "field: null" (clear it).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// `PATCH /api/customers/{id}` — an edit based on `version`. A stale version is a 409 with the
/// current record, so concurrent edits never silently drop text.
pub async fn update(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let id = path_id(id)?;
    let patch: CustomerPatch = http::read_json(&mut req, 32 * 1024).await?;
    let version = patch.version.ok_or_else(|| {
        ApiError::bad(
            "missing_version",
            "version",
            "version (編集元の版) が必要です",
        )
    })?;
    let db = env.d1("DB")?;
    if !access(&db, &session, id).await?.edit {
        return Err(ApiError::Forbidden("other_store"));
    }
    let mut sets: Vec<&str> = Vec::new();
    let mut args: Vec<JsValue> = vec![i(id), i(version), JsValue::NULL];
    let mut push = |sql: &'static str, v: JsValue, sets: &mut Vec<&str>| {
        args.push(v);
        sets.push(sql);
    };
    if let Some(name) = &patch.name {
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::bad(
                "missing_name",
                "name",
                "氏名を入力してください",
            ));
        }
        max_chars(name, 100, "invalid_name", "name", "氏名")?;
        push("name", s(name), &mut sets);
    }
    if let Some(kana) = &patch.kana {
        max_chars(kana.trim(), 100, "invalid_kana", "kana", "フリガナ")?;
        push("kana", s(kana.trim()), &mut sets);
    }
    if let Some(memo) = &patch.memo {
        max_chars(memo, 2000, "invalid_memo", "memo", "メモ")?;
        push("memo", s(memo), &mut sets);
    }
    if let Some(t) = &patch.customer_type {
        if !csv::TYPES.contains(&t.as_str()) {
            return Err(ApiError::bad(
                "invalid_type",
                "customerType",
                "区分は新規・会員・VIPのいずれかです",
            ));
        }
        push("customer_type", s(t), &mut sets);
    }
    if let Some(flag) = &patch.flag {
        if flag.as_deref().is_some_and(|f| !csv::FLAGS.contains(&f)) {
            return Err(ApiError::bad(
                "invalid_flag",
                "flag",
                "フラグは要注意・ブロックのいずれかです",
            ));
        }
        push("flag", opt_s(flag.as_deref()), &mut sets);
    }
    if let Some(store) = patch.home_store_id {
        if session.role == Role::Staff && store != session.store {
            return Err(ApiError::Forbidden("other_store"));
        }
        push("home_store_id", opt_i(store), &mut sets);
    }
    for (v, col, field) in [
        (patch.visits, "visit_count", "visits"),
        (patch.total_spend, "total_spend", "totalSpend"),
    ] {
        if let Some(n) = v {
            if n < 0 {
                return Err(ApiError::bad(
                    "invalid_number",
                    field,
                    "0以上の数値を入力してください",
                ));
            }
            push(col, i(n), &mut sets);
        }
    }
    if let Some(d) = &patch.last_visit {
        let day = match d.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(
                crate::retention::jst_day_start_ms(v)
                    .map(|_| v)
                    .ok_or_else(|| {
                        ApiError::bad(
                            "invalid_date",
                            "lastVisit",
                            "最終来店日は YYYY-MM-DD 形式です",
                        )
                    })?,
            ),
        };
        push("last_visit_at", opt_s(day), &mut sets);
    }
    let phones = match &patch.phones {
        Some(list) => {
            let mut out = Vec::new();
            for p in list {
                match phone::normalize(p) {
                    Ok(Phone::Number(n)) if !out.contains(&n) => out.push(n),
                    Ok(Phone::Number(_)) => {}
                    _ => {
                        return Err(ApiError::bad(
                            "invalid_phone",
                            "phones",
                            format!("電話番号が正しくありません: {p}"),
                        ))
                    }
                }
            }
            if out.is_empty() {
                return Err(ApiError::bad(
                    "missing_phone",
                    "phones",
                    "電話番号を1件以上入力してください",
                ));
            }
            Some(out)
        }
        None => None,
    };
    // One token per edit: the phone statements below apply only if this edit's version check
    // passed (D1 runs a batch as one transaction, but a zero-row UPDATE is not a failure).
    let mut token = [0u8; 12];
    getrandom::getrandom(&mut token).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let token = crate::password::to_hex(&token);
    args[2] = s(&token);
    let assignments: String = sets
        .iter()
        .enumerate()
        .map(|(n, col)| format!(", {col} = ?{}", n + 4))
        .collect();
    let update_sql = format!(
        "UPDATE customers SET version = version + 1, edit_token = ?3, \
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'){assignments} WHERE id = ?1 AND version = ?2"
    );
    let mut batch = vec![db::stmt(&db, &update_sql, &args)?];
    if let Some(phones) = &phones {
        batch.push(db::stmt(
            &db,
            "DELETE FROM customer_phones WHERE customer_id = ?1 \
             AND (SELECT edit_token FROM customers WHERE id = ?1) = ?2",
            &[i(id), s(&token)],
        )?);
        for p in phones {
            batch.push(db::stmt(
                &db,
                "INSERT OR IGNORE INTO customer_phones (phone, customer_id) SELECT ?2, ?1 \
                 WHERE (SELECT edit_token FROM customers WHERE id = ?1) = ?3",
                &[i(id), s(p), s(&token)],
            )?);
        }
    }
    let results = db.batch(batch).await?;
    let changed = results[0].meta()?.and_then(|m| m.changes).unwrap_or(0);
    let current = card(&db, id).await?;
    if changed == 0 {
        return Err(ApiError::Conflict {
            code: "version_conflict",
            message: "他の人がこの顧客を更新しました。最新の内容を確認してから保存してください"
                .into(),
            current: serde_json::to_value(&current).ok(),
        });
    }
    Ok(http::json_response(200, &json!({ "customer": current }))?)
}

/// `DELETE /api/customers/{id}` (admin).
pub async fn delete(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let id = path_id(id)?;
    let db = env.d1("DB")?;
    let r = db::stmt(&db, "DELETE FROM customers WHERE id = ?1", &[i(id)])?
        .run()
        .await?;
    if r.meta()?.and_then(|m| m.changes).unwrap_or(0) == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(http::json_response(200, &json!({ "ok": true }))?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewNote {
    #[serde(rename = "type")]
    note_type: String,
    body: String,
}

/// `GET|POST /api/customers/{id}/notes`
pub async fn notes(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let id = path_id(id)?;
    let db = env.d1("DB")?;
    let acc = access(&db, &session, id).await?;
    if req.method() == worker::Method::Get {
        if !acc.read {
            return Err(ApiError::Forbidden("other_store"));
        }
        let r = notes_stmt(&db, id, 200)?.all().await?;
        return Ok(http::json_response(
            200,
            &json!({ "notes": notes_from(&r)? }),
        )?);
    }
    // Anyone who may see the customer during a call may leave a note about it.
    if !acc.read {
        return Err(ApiError::Forbidden("other_store"));
    }
    let note: NewNote = http::read_json(&mut req, 16 * 1024).await?;
    if !NOTE_TYPES.contains(&note.note_type.as_str()) {
        return Err(ApiError::bad(
            "invalid_note_type",
            "type",
            "種類は一般・好み・苦情・注意・重要のいずれかです",
        ));
    }
    let body = note.body.trim();
    if body.is_empty() {
        return Err(ApiError::bad(
            "missing_body",
            "body",
            "内容を入力してください",
        ));
    }
    max_chars(body, 2000, "invalid_body", "body", "内容")?;
    let created: Note = db::stmt(
        &db,
        "INSERT INTO customer_notes (customer_id, note_type, body, author_id, author_name) \
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id, note_type, body, author_name, created_at",
        &[
            i(id),
            s(&note.note_type),
            s(body),
            i(session.uid),
            s(&session.name),
        ],
    )?
    .first(None)
    .await?
    .ok_or_else(|| ApiError::Unavailable("note insert returned nothing".into()))?;
    Ok(http::json_response(201, &json!({ "note": created }))?)
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = TextDecoder)]
    type JsTextDecoder;
    #[wasm_bindgen(constructor, js_class = "TextDecoder", catch)]
    fn new(label: &str, options: &JsValue) -> Result<JsTextDecoder, JsValue>;
    #[wasm_bindgen(method, catch, js_class = "TextDecoder")]
    fn decode(this: &JsTextDecoder, input: &[u8]) -> Result<String, JsValue>;
}

/// UTF-8 when the bytes are valid UTF-8, else Shift_JIS (what Japanese Excel writes), decoded
/// by the runtime's WHATWG TextDecoder in fatal mode so a file in neither is refused.
fn decode_csv(bytes: &[u8], encoding: &str) -> ApiResult<String> {
    let bad = || {
        ApiError::bad(
            "invalid_encoding",
            "file",
            "文字コードを判別できません (UTF-8 または Shift_JIS のCSVを指定してください)",
        )
    };
    let utf8 = std::str::from_utf8(bytes).ok();
    match (encoding, utf8) {
        ("utf-8", Some(t)) | ("auto", Some(t)) => Ok(t.to_string()),
        ("utf-8", None) => Err(bad()),
        ("shift_jis" | "auto", _) => {
            let opts = js_sys::Object::new();
            js_sys::Reflect::set(&opts, &"fatal".into(), &JsValue::TRUE).map_err(|_| bad())?;
            let decoder = JsTextDecoder::new("shift_jis", &opts).map_err(|_| bad())?;
            decoder.decode(bytes).map_err(|_| bad())
        }
        _ => Err(ApiError::bad(
            "invalid_encoding",
            "encoding",
            "encoding は auto, utf-8, shift_jis のいずれかです",
        )),
    }
}

/// `POST /api/customers/import?encoding=auto|utf-8|shift_jis` (admin). Body: the CSV file.
/// All or nothing: any bad row refuses the whole file with every problem listed.
pub async fn import(mut req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let encoding = http::query_param(&req, "encoding")
        .unwrap_or_else(|| "auto".into())
        .to_lowercase();
    let bytes = http::read_body(&mut req, 5 * 1024 * 1024).await?;
    let text = decode_csv(&bytes, &encoding)?;
    let records = csv::parse(&text).map_err(|e| {
        ApiError::InvalidRows(vec![RowError {
            line: e.line,
            field: "file",
            message: e.message,
        }])
    })?;
    let rows = csv::import_rows(&records).map_err(ApiError::InvalidRows)?;
    let db = env.d1("DB")?;

    // Resolve stores, existing ids and numbers in three queries (json_each binds a list).
    #[derive(Deserialize)]
    struct StoreRow {
        id: i64,
        name: String,
    }
    #[derive(Deserialize)]
    struct PhoneRow {
        phone: String,
        customer_id: i64,
    }
    #[derive(Deserialize)]
    struct IdRow {
        id: i64,
    }
    let all_phones: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.phones.iter().map(String::as_str))
        .collect();
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.id).collect();
    let lookups = db
        .batch(vec![
            db.prepare("SELECT id, name FROM stores"),
            db::stmt(
                &db,
                "SELECT phone, customer_id FROM customer_phones WHERE phone IN (SELECT value FROM json_each(?1))",
                &[s(&serde_json::to_string(&all_phones).unwrap_or_default())],
            )?,
            db::stmt(
                &db,
                "SELECT id FROM customers WHERE id IN (SELECT value FROM json_each(?1))",
                &[s(&serde_json::to_string(&ids).unwrap_or_default())],
            )?,
        ])
        .await?;
    let stores: Vec<StoreRow> = lookups[0].results()?;
    let phone_owners: Vec<PhoneRow> = lookups[1].results()?;
    let existing: Vec<i64> = lookups[2]
        .results::<IdRow>()?
        .into_iter()
        .map(|r| r.id)
        .collect();

    let mut errors = Vec::new();
    let mut batch = Vec::new();
    let (mut created, mut updated) = (0, 0);
    for row in &rows {
        let store_id = match &row.home_store {
            None => None,
            Some(name) => match stores.iter().find(|s| &s.name == name) {
                Some(st) => Some(st.id),
                None => {
                    errors.push(RowError {
                        line: row.line,
                        field: "homeStore",
                        message: format!("店舗「{name}」は登録されていません"),
                    });
                    continue;
                }
            },
        };
        // Update: by id when given, else the one customer who already has the first number.
        let target = match row.id {
            Some(id) if existing.contains(&id) => Some(id),
            Some(id) => {
                errors.push(RowError {
                    line: row.line,
                    field: "id",
                    message: format!("ID {id} の顧客はいません"),
                });
                continue;
            }
            None => {
                let owners: Vec<i64> = phone_owners
                    .iter()
                    .filter(|p| p.phone == row.phones[0])
                    .map(|p| p.customer_id)
                    .collect();
                (owners.len() == 1).then(|| owners[0])
            }
        };
        let values = [
            s(&row.name),
            s(&row.kana),
            s(&row.memo),
            opt_i(store_id),
            s(&row.customer_type),
            opt_s(row.flag.as_deref()),
            i(row.visits),
            i(row.spend),
            opt_s(row.last_visit.as_deref()),
        ];
        match target {
            Some(id) => {
                let mut args = values.to_vec();
                args.push(i(id));
                batch.push(db::stmt(
                    &db,
                    "UPDATE customers SET name = ?1, kana = ?2, memo = ?3, home_store_id = ?4, customer_type = ?5, \
                       flag = ?6, visit_count = ?7, total_spend = ?8, last_visit_at = ?9, version = version + 1, \
                       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?10",
                    &args,
                )?);
                for p in &row.phones {
                    batch.push(db::stmt(&db, "INSERT OR IGNORE INTO customer_phones (phone, customer_id) VALUES (?1, ?2)", &[s(p), i(id)])?);
                }
                updated += 1;
            }
            None => {
                batch.push(db::stmt(
                    &db,
                    "INSERT INTO customers (name, kana, memo, home_store_id, customer_type, flag, visit_count, \
                       total_spend, last_visit_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    &values,
                )?);
                for p in &row.phones {
                    // The customer just inserted has the highest id (the batch is one transaction).
                    batch.push(db::stmt(
                        &db,
                        "INSERT OR IGNORE INTO customer_phones (phone, customer_id) SELECT ?1, max(id) FROM customers",
                        &[s(p)],
                    )?);
                }
                created += 1;
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidRows(errors));
    }
    db.batch(batch).await?;
    Ok(http::json_response(
        200,
        &json!({ "imported": rows.len(), "created": created, "updated": updated }),
    )?)
}

/// `GET /api/customers/export` — CSV in the import's own format (so it round-trips).
pub async fn export(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let scope = match session.role {
        Role::Admin => None,
        Role::Staff => Some(session.store.unwrap_or(-1)),
    };
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        name: String,
        kana: String,
        phones: Option<String>,
        store: Option<String>,
        customer_type: String,
        flag: Option<String>,
        visit_count: i64,
        total_spend: i64,
        last_visit_at: Option<String>,
        memo: String,
    }
    let rows: Vec<Row> = db::stmt(
        &env.d1("DB")?,
        "SELECT c.id, c.name, c.kana, (SELECT group_concat(phone, ' / ') FROM customer_phones WHERE customer_id = c.id) AS phones, \
           s.name AS store, c.customer_type, c.flag, c.visit_count, c.total_spend, c.last_visit_at, c.memo \
         FROM customers c LEFT JOIN stores s ON s.id = c.home_store_id \
         WHERE (?1 IS NULL OR c.home_store_id = ?1 OR c.home_store_id IS NULL) ORDER BY c.id",
        &[opt_i(scope)],
    )?
    .all()
    .await?
    .results()?;
    let mut out = String::from("\u{feff}");
    out.push_str(&csv::write_row(&[
        "ID",
        "氏名",
        "フリガナ",
        "電話番号",
        "店舗",
        "区分",
        "フラグ",
        "来店回数",
        "累計利用額",
        "最終来店日",
        "メモ",
    ]));
    for r in rows {
        out.push_str(&csv::write_row(&[
            &r.id.to_string(),
            &r.name,
            &r.kana,
            r.phones.as_deref().unwrap_or(""),
            r.store.as_deref().unwrap_or(""),
            &r.customer_type,
            r.flag.as_deref().unwrap_or(""),
            &r.visit_count.to_string(),
            &r.total_spend.to_string(),
            r.last_visit_at.as_deref().unwrap_or(""),
            &r.memo,
        ]));
    }
    let headers = worker::Headers::new();
    headers.set("Content-Type", "text/csv; charset=utf-8")?;
    headers.set(
        "Content-Disposition",
        "attachment; filename=\"customers.csv\"",
    )?;
    headers.set("Cache-Control", "no-store")?;
    http::security_headers(&headers)?;
    Ok(ResponseBuilder::new()
        .with_headers(headers)
        .fixed(out.into_bytes()))
}

// ---- stores -------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreBody {
    name: Option<String>,
    prefixes: Option<Vec<String>>,
}

fn normalise_prefixes(list: &[String]) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    for p in list {
        match phone::normalize(p) {
            Ok(Phone::Number(n)) if n.len() >= 2 && n.bytes().all(|b| b.is_ascii_digit()) => {
                if !out.contains(&n) {
                    out.push(n)
                }
            }
            _ => {
                return Err(ApiError::bad(
                    "invalid_prefix",
                    "prefixes",
                    format!("プレフィックスは2〜20桁の数字です: {p}"),
                ))
            }
        }
    }
    Ok(out)
}

async fn check_prefix_conflicts(
    db: &D1Database,
    prefixes: &[String],
    store: Option<i64>,
) -> ApiResult<()> {
    #[derive(Deserialize)]
    struct Hit {
        prefix: String,
        name: String,
    }
    let hits: Vec<Hit> = db::stmt(
        db,
        "SELECT p.prefix, s.name FROM store_prefixes p JOIN stores s ON s.id = p.store_id \
         WHERE p.prefix IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR p.store_id != ?2)",
        &[
            s(&serde_json::to_string(prefixes).unwrap_or_default()),
            opt_i(store),
        ],
    )?
    .all()
    .await?
    .results()?;
    if let Some(h) = hits.first() {
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

async fn store_name_free(db: &D1Database, name: &str, store: Option<i64>) -> ApiResult<()> {
    let taken = db::stmt(
        db,
        "SELECT id FROM stores WHERE name = ?1 AND (?2 IS NULL OR id != ?2)",
        &[s(name), opt_i(store)],
    )?
    .first::<serde_json::Value>(None)
    .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict {
            code: "store_name_taken",
            message: format!("店舗名「{name}」は既に使われています"),
            current: None,
        });
    }
    Ok(())
}

fn store_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad(
            "invalid_name",
            "name",
            "店舗名は1〜100文字で入力してください",
        ));
    }
    Ok(name)
}

/// `POST /api/stores` (admin) `{name, prefixes}`.
pub async fn create_store(mut req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let body: StoreBody = http::read_json(&mut req, 16 * 1024).await?;
    let name = store_name(body.name.as_deref().unwrap_or(""))?;
    let prefixes = normalise_prefixes(&body.prefixes.unwrap_or_default())?;
    let db = env.d1("DB")?;
    store_name_free(&db, name, None).await?;
    check_prefix_conflicts(&db, &prefixes, None).await?;
    let mut batch = vec![db::stmt(
        &db,
        "INSERT INTO stores (name) VALUES (?1)",
        &[s(name)],
    )?];
    for p in &prefixes {
        batch.push(db::stmt(&db, "INSERT INTO store_prefixes (prefix, store_id) SELECT ?1, id FROM stores WHERE name = ?2", &[s(p), s(name)])?);
    }
    db.batch(batch).await?;
    #[derive(Deserialize, Serialize)]
    struct Created {
        id: i64,
        name: String,
    }
    let st: Created = db::stmt(
        &db,
        "SELECT id, name FROM stores WHERE name = ?1",
        &[s(name)],
    )?
    .first(None)
    .await?
    .ok_or(ApiError::NotFound)?;
    Ok(http::json_response(
        201,
        &json!({ "store": { "id": st.id, "name": st.name, "prefixes": prefixes } }),
    )?)
}

/// `PATCH /api/stores/{id}` (admin) `{name?, prefixes?}` — prefixes replace the store's list.
pub async fn update_store(mut req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let id = path_id(id)?;
    let body: StoreBody = http::read_json(&mut req, 16 * 1024).await?;
    let db = env.d1("DB")?;
    if db::stmt(&db, "SELECT id FROM stores WHERE id = ?1", &[i(id)])?
        .first::<serde_json::Value>(None)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound);
    }
    let mut batch = Vec::new();
    if let Some(name) = &body.name {
        let name = store_name(name)?;
        store_name_free(&db, name, Some(id)).await?;
        batch.push(db::stmt(
            &db,
            "UPDATE stores SET name = ?2 WHERE id = ?1",
            &[i(id), s(name)],
        )?);
    }
    if let Some(list) = &body.prefixes {
        let prefixes = normalise_prefixes(list)?;
        check_prefix_conflicts(&db, &prefixes, Some(id)).await?;
        batch.push(db::stmt(
            &db,
            "DELETE FROM store_prefixes WHERE store_id = ?1",
            &[i(id)],
        )?);
        for p in &prefixes {
            batch.push(db::stmt(
                &db,
                "INSERT INTO store_prefixes (prefix, store_id) VALUES (?1, ?2)",
                &[s(p), i(id)],
            )?);
        }
    }
    if !batch.is_empty() {
        db.batch(batch).await?;
    }
    store_json(&db, id).await
}

async fn store_json(db: &D1Database, id: i64) -> ApiResult<Response> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        name: String,
        prefixes: Option<String>,
    }
    let r: Row = db::stmt(
        db,
        "SELECT id, name, (SELECT group_concat(prefix, ' ') FROM (SELECT prefix FROM store_prefixes WHERE store_id = ?1 ORDER BY prefix)) AS prefixes FROM stores WHERE id = ?1",
        &[i(id)],
    )?
    .first(None)
    .await?
    .ok_or(ApiError::NotFound)?;
    let prefixes: Vec<&str> = r
        .prefixes
        .as_deref()
        .map(|p| p.split(' ').collect())
        .unwrap_or_default();
    Ok(http::json_response(
        200,
        &json!({ "store": { "id": r.id, "name": r.name, "prefixes": prefixes } }),
    )?)
}

/// `DELETE /api/stores/{id}` (admin). Its prefixes go with it; customers and calls keep their
/// data with no store.
pub async fn delete_store(req: Request, env: &Env, id: &str) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    let id = path_id(id)?;
    let db = env.d1("DB")?;
    let results = db
        .batch(vec![
            db::stmt(
                &db,
                "DELETE FROM store_prefixes WHERE store_id = ?1",
                &[i(id)],
            )?,
            db::stmt(
                &db,
                "UPDATE customers SET home_store_id = NULL WHERE home_store_id = ?1",
                &[i(id)],
            )?,
            db::stmt(
                &db,
                "UPDATE calls SET store_id = NULL WHERE store_id = ?1",
                &[i(id)],
            )?,
            db::stmt(
                &db,
                "UPDATE users SET store_id = NULL WHERE store_id = ?1",
                &[i(id)],
            )?,
            db::stmt(&db, "DELETE FROM stores WHERE id = ?1", &[i(id)])?,
        ])
        .await?;
    if results[4].meta()?.and_then(|m| m.changes).unwrap_or(0) == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(http::json_response(200, &json!({ "ok": true }))?)
}

/// `GET /api/stores/resolve?number=` — which store a dialled number would hit.
pub async fn resolve_store(req: Request, env: &Env) -> ApiResult<Response> {
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
    let prefixes = db::load_prefixes(&env.d1("DB")?).await?;
    let hit = crate::prefix::longest_match(&number, &prefixes);
    Ok(http::json_response(
        200,
        &json!({ "number": number, "store": db::store_for(&number, &prefixes), "prefix": hit.map(|p| p.prefix.clone()) }),
    )?)
}

// ---- call log -----------------------------------------------------------------------------

/// `GET /api/calls?store=&from=YYYY-MM-DD&to=YYYY-MM-DD&missed=1&q=&page=&perPage=` — the
/// call log (着信履歴). Dates are days in Japan time, inclusive. Staff: their store only.
pub async fn call_log(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    let (page, per) = page_params(&req);
    let store = match session.role {
        Role::Staff => Some(session.store.unwrap_or(-1)),
        Role::Admin => match http::query_param(&req, "store").filter(|v| !v.is_empty()) {
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                ApiError::bad("invalid_store", "store", "店舗IDが正しくありません")
            })?),
            None => None,
        },
    };
    let day = |name: &'static str, end: bool| -> ApiResult<Option<i64>> {
        match http::query_param(&req, name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => crate::retention::jst_day_start_ms(&v)
                .map(|ms| Some(if end { ms + 24 * 3600 * 1000 } else { ms }))
                .ok_or_else(|| ApiError::bad("invalid_date", name, "日付は YYYY-MM-DD 形式です")),
        }
    };
    let from = day("from", false)?;
    let to = day("to", true)?;
    let missed = http::query_param(&req, "missed").is_some_and(|v| v == "1" || v == "true");
    let q = match http::query_param(&req, "q").filter(|v| !v.trim().is_empty()) {
        Some(v) => match phone::normalize(&v) {
            Ok(Phone::Number(n)) => Some(n),
            _ => {
                return Err(ApiError::bad(
                    "invalid_phone",
                    "q",
                    "電話番号の形式が正しくありません",
                ))
            }
        },
        None => None,
    };
    let filter = "(?1 IS NULL OR k.store_id = ?1) AND (?2 IS NULL OR k.started_at >= ?2) AND (?3 IS NULL OR k.started_at < ?3) \
         AND (?4 = 0 OR k.phase IN ('missed', 'voicemail')) AND (?5 IS NULL OR instr(k.caller, ?5) > 0)";
    let args = [
        opt_i(store),
        opt_i(from),
        opt_i(to),
        i(missed as i64),
        opt_s(q.as_deref()),
    ];
    let db = env.d1("DB")?;
    let mut list_args = args.to_vec();
    list_args.push(i(per));
    list_args.push(i((page - 1) * per));
    let results = db
        .batch(vec![
            db::stmt(&db, &format!("SELECT count(*) AS n FROM calls k WHERE {filter}"), &args)?,
            db::stmt(
                &db,
                &format!(
                    "SELECT k.id, k.direction, k.caller, k.dialled, k.store_id, s.name AS store_name, k.customer_id, \
                       c.name AS customer_name, k.state, k.phase, k.is_test, k.started_at, k.connected_at, k.ended_at, \
                       k.duration_ms, k.answered_by \
                     FROM calls k LEFT JOIN stores s ON s.id = k.store_id LEFT JOIN customers c ON c.id = k.customer_id \
                     WHERE {filter} ORDER BY k.started_at DESC LIMIT ?6 OFFSET ?7"
                ),
                &list_args,
            )?,
        ])
        .await?;
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let total = results[0].results::<N>()?.first().map_or(0, |r| r.n);
    let calls: Vec<CallLogEntry> = results[1].results()?;
    Ok(http::json_response(
        200,
        &json!({ "calls": calls, "total": total, "page": page, "perPage": per }),
    )?)
}
