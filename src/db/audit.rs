//! `audit_log` (操作履歴): an entry written after a request's answer, the daily retention, and
//! the admins' search and export with their filters.
use crate::platform::sql::{Stmt, Val};
use serde::Deserialize;

/// One entry to write.
pub struct NewEntry<'a> {
    pub at: i64,
    pub user_id: Option<i64>,
    pub login: Option<&'a str>,
    pub action: &'a str,
    pub customer_id: Option<i64>,
    pub call_id: Option<&'a str>,
    pub store_id: Option<i64>,
    pub count: Option<i64>,
    /// A JSON document.
    pub detail: Option<&'a str>,
    /// With no `customer_id`: the customer of `call_id`'s call, read when written.
    pub customer_of_call: bool,
}

pub fn insert(e: &NewEntry) -> Stmt {
    Stmt::new(
        "INSERT INTO audit_log (at, user_id, login_id, action, customer_id, call_id, store_id, count, detail) \
         VALUES (?1, ?2, ?3, ?4, \
           COALESCE(?5, CASE WHEN ?10 = 1 THEN (SELECT customer_id FROM calls WHERE id = ?6) END), \
           ?6, ?7, ?8, ?9)",
        vec![
            e.at.into(),
            e.user_id.into(),
            e.login.into(),
            e.action.into(),
            e.customer_id.into(),
            e.call_id.into(),
            e.store_id.into(),
            e.count.into(),
            e.detail.into(),
            i64::from(e.customer_of_call).into(),
        ],
    )
}

/// Retention: at most `limit` of the entries older than `cutoff_ms`, oldest first.
pub fn prune(cutoff_ms: i64, limit: i64) -> Stmt {
    Stmt::new(
        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ?1 ORDER BY at LIMIT ?2)",
        vec![cutoff_ms.into(), limit.into()],
    )
}

/// 操作履歴's filters, as validated by the handler; each one optional.
#[derive(Default)]
pub struct Filter {
    /// Epoch ms: the first day's start and the day after the last one's.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub user_id: Option<i64>,
    /// An action's code (`domain::audit::Action::code`).
    pub action: Option<&'static str>,
    pub customer_id: Option<i64>,
    /// Part of a customer's folded name or フリガナ (`domain::search::key`): their search keys
    /// must be filled in first (`db::customers::backfill_keys`).
    pub name_key: Option<String>,
}

impl Filter {
    /// The filters as one WHERE clause of fixed fragments, with their values bound (`?1` …).
    fn clause(&self) -> (String, Vec<Val>) {
        let mut sql = vec!["1 = 1".to_string()];
        let mut args: Vec<Val> = vec![];
        let mut push = |fragment: &str, v: Val| {
            args.push(v);
            sql.push(fragment.replace("?N", &format!("?{}", args.len())));
        };
        if let Some(f) = self.from {
            push("a.at >= ?N", f.into());
        }
        if let Some(t) = self.to {
            push("a.at < ?N", t.into());
        }
        if let Some(u) = self.user_id {
            push("a.user_id = ?N", u.into());
        }
        if let Some(code) = self.action {
            push("a.action = ?N", code.into());
        }
        if let Some(id) = self.customer_id {
            push("a.customer_id = ?N", id.into());
        }
        if let Some(key) = &self.name_key {
            push(
                "a.customer_id IN (SELECT id FROM customers WHERE instr(name_key, ?N) > 0 \
                 OR instr(kana_key, ?N) > 0)",
                key.as_str().into(),
            );
        }
        (sql.join(" AND "), args)
    }

    /// How many entries match.
    pub fn count(&self) -> Stmt {
        let (sql, args) = self.clause();
        Stmt::new(
            format!("SELECT count(*) AS n FROM audit_log a WHERE {sql}"),
            args,
        )
    }

    /// A page of them ([`AuditRow`]), newest first.
    pub fn page(&self, page: i64, per_page: i64) -> Stmt {
        let (sql, mut args) = self.clause();
        let n = args.len();
        args.push(per_page.into());
        args.push(((page - 1) * per_page).into());
        Stmt::new(
            format!(
                "SELECT {COLUMNS} WHERE {sql} ORDER BY a.at DESC, a.id DESC LIMIT ?{} OFFSET ?{}",
                n + 1,
                n + 2
            ),
            args,
        )
    }

    /// The export's next `limit` entries, by id descending, below id `before`.
    pub fn export_page(&self, before: i64, limit: i64) -> Stmt {
        let (sql, mut args) = self.clause();
        let n = args.len();
        args.push(before.into());
        args.push(limit.into());
        Stmt::new(
            format!(
                "SELECT {COLUMNS} WHERE {sql} AND a.id < ?{} ORDER BY a.id DESC LIMIT ?{}",
                n + 1,
                n + 2
            ),
            args,
        )
    }
}

const COLUMNS: &str = "a.id, a.at, a.user_id, a.login_id, u.display_name AS user_name, a.action, \
    a.customer_id, c.name AS customer_name, a.call_id, a.store_id, st.name AS store_name, a.count, a.detail \
    FROM audit_log a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN customers c ON c.id = a.customer_id \
    LEFT JOIN stores st ON st.id = a.store_id";

/// One entry as the page and the CSV show it.
#[derive(Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub login_id: Option<String>,
    pub user_name: Option<String>,
    pub action: String,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub call_id: Option<String>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub count: Option<i64>,
    pub detail: Option<String>,
}
