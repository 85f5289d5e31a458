//! 操作履歴's reads (admins only, `access::Viewer::may_read_audit`): `POST /api/audit/search`
//! (newest first, paged) and `POST /api/audit/export` (the same filters as CSV). The filters
//! travel in the body, never the address: a customer's name is personal data.
use super::write::{Entry, ExportAudit};
use crate::db::audit::{self as db_audit, AuditRow};
use crate::domain::access::Viewer;
use crate::domain::audit::{self, Action};
use crate::domain::error::ApiError;
use crate::domain::{csv, retention, search};
use crate::platform::db;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{Env, Request, Response};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Filters {
    from: Option<String>,
    to: Option<String>,
    user_id: Option<i64>,
    action: Option<String>,
    /// A customer's id (a number, or digits) or a part of their name or フリガナ.
    customer: Option<Value>,
    page: Option<i64>,
    per_page: Option<i64>,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

fn day(v: &Option<String>, name: &'static str, end: bool) -> ApiResult<Option<i64>> {
    match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => retention::jst_day_start_ms(v)
            .map(|ms| Some(if end { ms + DAY_MS } else { ms }))
            .ok_or_else(|| ApiError::bad("invalid_date", name, "日付は YYYY-MM-DD 形式です")),
    }
}

impl Filters {
    /// The filters validated, for `db::audit::Filter`.
    fn to_filter(&self) -> ApiResult<db_audit::Filter> {
        let mut f = db_audit::Filter::default();
        let from = day(&self.from, "from", false)?;
        let to = day(&self.to, "to", true)?;
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(ApiError::bad(
                    "invalid_period",
                    "from",
                    "開始日は終了日より前にしてください",
                ));
            }
        }
        f.from = from;
        f.to = to;
        f.user_id = self.user_id;
        if let Some(code) = self.action.as_deref().filter(|c| !c.is_empty()) {
            let action = Action::from_code(code).ok_or_else(|| {
                ApiError::bad("invalid_action", "action", "操作の種類が正しくありません")
            })?;
            f.action = Some(action.code());
        }
        match &self.customer {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) => {
                f.customer_id = Some(n.as_i64().filter(|n| *n > 0).ok_or_else(bad_customer)?);
            }
            Some(Value::String(text)) => {
                let text = text.trim();
                if text.chars().count() > crate::domain::search::MAX_QUERY_CHARS {
                    return Err(bad_customer());
                }
                if text.is_empty() {
                } else if text.bytes().all(|b| b.is_ascii_digit()) {
                    f.customer_id = Some(text.parse::<i64>().map_err(|_| bad_customer())?);
                } else {
                    // The search key (as 顧客's search): ひらがな, ｶﾀｶﾅ, widths and spaces fold.
                    f.name_key = Some(search::key(text));
                }
            }
            Some(_) => return Err(bad_customer()),
        }
        Ok(f)
    }
}

fn bad_customer() -> ApiError {
    ApiError::bad(
        "invalid_customer",
        "customer",
        "顧客は ID か名前（100文字まで）で指定してください",
    )
}

/// How an entry is shown: the page's JSON, and its detail for the CSV.
trait Row {
    fn detail_value(&self) -> Value;
    fn json(&self) -> Value;
}

impl Row for AuditRow {
    fn detail_value(&self) -> Value {
        self.detail
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null)
    }

    fn json(&self) -> Value {
        let detail = self.detail_value();
        json!({
            "id": self.id,
            "at": http::iso(self.at),
            "userId": self.user_id,
            "loginId": self.login_id,
            "userName": self.user_name,
            "action": self.action,
            "actionLabel": Action::label_of(&self.action),
            "customerId": self.customer_id,
            "customerName": self.customer_name,
            "callId": self.call_id,
            "storeId": self.store_id,
            "storeName": self.store_name,
            "count": self.count,
            "detailText": audit::detail_text(&detail),
            "detail": detail,
        })
    }
}

async fn admin(req: &Request, env: &Env) -> ApiResult<crate::domain::token::Session> {
    let (session, _) = auth::authenticate(req, env).await?;
    if !Viewer::from(&session).may_read_audit() {
        return Err(ApiError::Forbidden("admin_only"));
    }
    Ok(session)
}

fn actions() -> Value {
    Value::Array(
        Action::ALL
            .iter()
            .map(|a| json!({"code": a.code(), "label": a.label()}))
            .collect(),
    )
}

/// `POST /api/audit/search` (admin): `{from?, to?, userId?, action?, customer?, page?,
/// perPage?}` → `{entries, total, page, perPage, actions}`, newest first.
pub async fn search(mut req: Request, env: &Env) -> ApiResult<Response> {
    admin(&req, env).await?;
    let body: Filters = http::read_json(&mut req, 4096).await?;
    let filter = body.to_filter()?;
    let (page, per) = http::page_of(body.page, body.per_page);
    let db = env.d1("DB")?;
    if filter.name_key.is_some() {
        // Customers written straight into D1 get their search keys first (as 顧客's search).
        crate::db::customers::backfill_keys(&db).await?;
    }
    let results = db
        .batch(vec![
            filter.count().d1(&db)?,
            filter.page(page, per).d1(&db)?,
        ])
        .await?;
    let total = db::count(&results[0])?;
    let rows: Vec<AuditRow> = db::rows(&results[1])?;
    Ok(http::json_response(
        200,
        &json!({
            "entries": rows.iter().map(<AuditRow as Row>::json).collect::<Vec<_>>(),
            "total": total,
            "page": page,
            "perPage": per,
            "actions": actions(),
        }),
    )?)
}

const EXPORT_PAGE: i64 = 500;

struct ExportCursor {
    db: worker::D1Database,
    filter: db_audit::Filter,
    /// The id of the last row sent (rows go newest first: by id, descending); `None` before
    /// the header.
    before: Option<i64>,
    done: bool,
    audit: ExportAudit,
}

async fn export_page(mut cur: ExportCursor) -> worker::Result<Option<(Vec<u8>, ExportCursor)>> {
    if cur.done {
        cur.audit.finished();
        return Ok(None);
    }
    let Some(before) = cur.before else {
        let mut out = String::from("\u{feff}");
        out.push_str(&csv::write_row(&[
            "日時",
            "ユーザーID",
            "ログインID",
            "名前",
            "操作",
            "顧客ID",
            "顧客",
            "着信ID",
            "店舗",
            "件数",
            "詳細",
        ]));
        cur.before = Some(i64::MAX);
        return Ok(Some((out.into_bytes(), cur)));
    };
    let rows: Vec<AuditRow> = db::page_rows(
        &cur.db,
        &cur.filter.export_page(before.min(1 << 53), EXPORT_PAGE),
    )
    .await?;
    if rows.is_empty() {
        cur.audit.finished();
        return Ok(None);
    }
    cur.done = (rows.len() as i64) < EXPORT_PAGE;
    cur.before = rows.last().map(|r| r.id);
    cur.audit.add_rows(rows.len());
    let mut out = String::new();
    for r in &rows {
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        let (at, uid, cid, count) = (
            audit::jst_text(r.at),
            opt(r.user_id),
            opt(r.customer_id),
            opt(r.count),
        );
        let detail = audit::detail_text(&r.detail_value());
        let cells = [
            at.as_str(),
            &uid,
            r.login_id.as_deref().unwrap_or(""),
            r.user_name.as_deref().unwrap_or(""),
            Action::label_of(&r.action),
            &cid,
            r.customer_name.as_deref().unwrap_or(""),
            r.call_id.as_deref().unwrap_or(""),
            r.store_name.as_deref().unwrap_or(""),
            &count,
            &detail,
        ];
        // Ids as Excel text (`="…"`): a long call id would otherwise turn into 1.23E+15.
        out.push_str(&csv::write_row_with_text(&cells, &[0, 2, 7]));
    }
    Ok(Some((out.into_bytes(), cur)))
}

/// `POST /api/audit/export` (admin): the filtered list as CSV (UTF-8 with BOM, newest first,
/// streamed 500 rows at a time); the export itself is recorded with its row count.
pub async fn export(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = admin(&req, env).await?;
    let body: Filters = http::read_json(&mut req, 4096).await?;
    let filter = body.to_filter()?;
    let filters = json!({
        "from": body.from, "to": body.to, "userId": body.user_id, "action": body.action,
    });
    let filters: serde_json::Map<String, Value> = filters
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut detail = json!({});
    if !filters.is_empty() {
        detail["filters"] = Value::String(
            filters
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    let entry = Entry::by(&session, Action::AuditExported).detail(detail);
    let db = env.d1("DB")?;
    if filter.name_key.is_some() {
        crate::db::customers::backfill_keys(&db).await?;
    }
    let cursor = ExportCursor {
        db,
        filter,
        before: None,
        done: false,
        audit: ExportAudit::new(entry),
    };
    http::csv_download(
        "audit-log.csv",
        futures_util::stream::try_unfold(cursor, export_page),
    )
}
