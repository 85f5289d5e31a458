//! The route table. Every API route is one row; 404 and 405 are derived from the table, so a
//! path that exists for one method answers 405 (not 404) for the others. The steps around a
//! handler that several routes share are declared here too, per route, and run by the table's
//! dispatcher (`console.rs`), never by a handler: "reads the call log" (the hub's outbox is
//! flushed once before the handler runs) and "changes what the hub's pop index holds" (the
//! hub is told after a successful answer). Pure.
use crate::domain::messages::IndexChange;

/// What a request is for. `lib.rs` maps each to its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Webhook,
    TestCall,
    Login,
    Logout,
    LogoutAll,
    LogoutUser,
    UserList,
    UserCreate,
    UserUpdate,
    UserPassword,
    Me,
    Socket,
    Health,
    IndexRebuild,
    CustomerLookup,
    CustomerSearch,
    CustomerCreate,
    CustomerDuplicates,
    CustomerSharedNumbers,
    CustomerImport,
    CustomerExport,
    CustomerDetail,
    CustomerUpdate,
    CustomerDelete,
    CustomerMerge,
    NotesList,
    NotesAdd,
    RecentCalls,
    CallLog,
    StoreList,
    StoreCreate,
    StoreResolve,
    StoreUpdate,
    StoreDelete,
    FrontDeskSettings,
    FrontDeskSettingsSave,
    WrapupGet,
    WrapupSave,
    CallbackList,
    CallbackCount,
    CallbackDetail,
    CallbackUpdate,
    CallbackAttempt,
    CallbackClose,
    ReportCalls,
    ReportSettings,
    ReportSettingsSave,
    ReportSettingsTest,
    DialpadSettings,
    DialpadSettingsSave,
    DialpadSyncStatus,
    DialpadResync,
    DialpadSyncRetry,
    DialpadGapFill,
    DialpadCall,
    DialpadRecording,
    DialpadUsers,
    DialpadLinks,
    DialpadLink,
    CustomFieldList,
    CustomFieldCreate,
    CustomFieldUpdate,
    CustomFieldDelete,
    StoreHours,
    StoreHoursSave,
    HoursSettings,
    HoursSettingsSave,
    CallbackAssignees,
    AuditSearch,
    AuditExport,
}

/// What a route's successful answer changed in the hub's pop index (the customers, phones,
/// stores and card fields a pop reads), which the table tells the hub before answering, so
/// the next call pops with what was just saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexEffect {
    /// Customers: the path's `{id}` and those the handler names (a create's new customer, a
    /// merge's absorbed one).
    Customers,
    /// The stores' table (prefixes, Dialpad offices) and the card's fields.
    Stores,
    /// Everything: a store deleted leaves its customers without a home store; an import
    /// creates customers whose ids only D1 knows.
    All,
}

impl IndexEffect {
    /// What the hub is told, for the path's `{id}` and the customers the handler named.
    pub fn change(self, path_id: Option<i64>, named: &[i64]) -> IndexChange {
        match self {
            IndexEffect::Customers => {
                let mut customers: Vec<i64> =
                    path_id.into_iter().chain(named.iter().copied()).collect();
                customers.dedup();
                IndexChange {
                    customers,
                    ..Default::default()
                }
            }
            IndexEffect::Stores => IndexChange {
                stores: true,
                ..Default::default()
            },
            IndexEffect::All => IndexChange {
                stores: true,
                all: true,
                ..Default::default()
            },
        }
    }
}

/// Largest body of a CSV import.
pub const MAX_IMPORT_BODY: usize = 5 * 1024 * 1024;
/// Largest body of any other API request (every handler reads less than this).
pub const MAX_BODY: usize = 256 * 1024;

impl Route {
    /// Whether the route needs a signed-in user. Checked (the token's signature) before the
    /// body is read, so an anonymous upload is refused without reading it.
    pub fn needs_session(self) -> bool {
        !matches!(
            self,
            Route::Webhook | Route::Login | Route::Logout | Route::Health
        )
    }

    /// Whether the route reads the call log (or writes what hangs off a call): what waits in the
    /// hub's outbox is copied to D1 first, so a call that just popped is there.
    pub fn reads_call_log(self) -> bool {
        matches!(
            self,
            Route::RecentCalls
                | Route::CallLog
                | Route::CustomerLookup
                | Route::CustomerCreate
                | Route::CustomerDetail
                | Route::CallbackList
                | Route::CallbackCount
                | Route::CallbackDetail
                | Route::WrapupGet
                | Route::WrapupSave
                | Route::ReportCalls
                | Route::DialpadRecording
        )
    }

    /// What the route's successful answer changed in the hub's pop index, if anything.
    pub fn index_effect(self) -> Option<IndexEffect> {
        match self {
            Route::CustomerCreate
            | Route::CustomerUpdate
            | Route::CustomerDelete
            | Route::CustomerMerge => Some(IndexEffect::Customers),
            Route::StoreCreate
            | Route::StoreUpdate
            | Route::CustomFieldCreate
            | Route::CustomFieldUpdate
            | Route::CustomFieldDelete => Some(IndexEffect::Stores),
            Route::StoreDelete | Route::CustomerImport => Some(IndexEffect::All),
            _ => None,
        }
    }

    /// The most body bytes the route reads; more is a 413, decided while streaming.
    pub fn body_limit(self) -> usize {
        match self {
            Route::CustomerImport => MAX_IMPORT_BODY,
            _ => MAX_BODY,
        }
    }

    /// Request content types a browser (cookie-authenticated) write may send.
    pub fn accepts_content_type(self, content_type: &str) -> bool {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" | "multipart/form-data" => true,
            "text/csv" => self == Route::CustomerImport,
            _ => false,
        }
    }
}

/// `{id}` matches a positive integer, so a literal sibling (`/api/customers/lookup`) can never
/// be taken for an id.
const TABLE: &[(&str, &str, Route)] = &[
    ("POST", "/api/dialpad/webhook", Route::Webhook),
    ("POST", "/api/dialpad/test-call", Route::TestCall),
    ("POST", "/api/auth/login", Route::Login),
    ("POST", "/api/auth/logout", Route::Logout),
    ("POST", "/api/auth/logout-all", Route::LogoutAll),
    ("POST", "/api/users/{id}/logout-all", Route::LogoutUser),
    ("GET", "/api/users", Route::UserList),
    ("POST", "/api/users", Route::UserCreate),
    ("PATCH", "/api/users/{id}", Route::UserUpdate),
    ("POST", "/api/users/{id}/password", Route::UserPassword),
    ("GET", "/api/auth/me", Route::Me),
    ("GET", "/api/cti/socket", Route::Socket),
    ("GET", "/api/health", Route::Health),
    ("POST", "/api/admin/index/rebuild", Route::IndexRebuild),
    // Lookups and searches by number take the number in the body: URLs end up in logs.
    ("POST", "/api/customers/lookup", Route::CustomerLookup),
    ("POST", "/api/customers/search", Route::CustomerSearch),
    ("POST", "/api/customers", Route::CustomerCreate),
    (
        "POST",
        "/api/customers/duplicates",
        Route::CustomerDuplicates,
    ),
    (
        "GET",
        "/api/customers/shared-numbers",
        Route::CustomerSharedNumbers,
    ),
    ("POST", "/api/customers/import", Route::CustomerImport),
    ("GET", "/api/customers/export", Route::CustomerExport),
    ("GET", "/api/customers/{id}", Route::CustomerDetail),
    ("PATCH", "/api/customers/{id}", Route::CustomerUpdate),
    ("DELETE", "/api/customers/{id}", Route::CustomerDelete),
    ("POST", "/api/customers/{id}/merge", Route::CustomerMerge),
    ("GET", "/api/customers/{id}/notes", Route::NotesList),
    ("POST", "/api/customers/{id}/notes", Route::NotesAdd),
    ("GET", "/api/calls/recent", Route::RecentCalls),
    ("POST", "/api/calls/search", Route::CallLog),
    ("GET", "/api/stores", Route::StoreList),
    ("POST", "/api/stores", Route::StoreCreate),
    ("GET", "/api/stores/resolve", Route::StoreResolve),
    ("PATCH", "/api/stores/{id}", Route::StoreUpdate),
    ("DELETE", "/api/stores/{id}", Route::StoreDelete),
    ("GET", "/api/settings/front-desk", Route::FrontDeskSettings),
    (
        "PUT",
        "/api/settings/front-desk",
        Route::FrontDeskSettingsSave,
    ),
    ("GET", "/api/calls/wrapup", Route::WrapupGet),
    ("PUT", "/api/calls/wrapup", Route::WrapupSave),
    ("GET", "/api/callbacks", Route::CallbackList),
    ("GET", "/api/callbacks/count", Route::CallbackCount),
    ("POST", "/api/callbacks/close", Route::CallbackClose),
    ("GET", "/api/callbacks/{id}", Route::CallbackDetail),
    ("PATCH", "/api/callbacks/{id}", Route::CallbackUpdate),
    (
        "POST",
        "/api/callbacks/{id}/attempts",
        Route::CallbackAttempt,
    ),
    ("POST", "/api/reports/calls", Route::ReportCalls),
    ("GET", "/api/settings/reports", Route::ReportSettings),
    ("PUT", "/api/settings/reports", Route::ReportSettingsSave),
    (
        "POST",
        "/api/settings/reports/test",
        Route::ReportSettingsTest,
    ),
    ("GET", "/api/settings/dialpad", Route::DialpadSettings),
    ("PUT", "/api/settings/dialpad", Route::DialpadSettingsSave),
    ("GET", "/api/dialpad/sync", Route::DialpadSyncStatus),
    ("POST", "/api/dialpad/sync", Route::DialpadResync),
    ("POST", "/api/dialpad/sync/retry", Route::DialpadSyncRetry),
    ("POST", "/api/dialpad/gap-fill", Route::DialpadGapFill),
    ("POST", "/api/dialpad/call", Route::DialpadCall),
    ("POST", "/api/dialpad/recording", Route::DialpadRecording),
    ("GET", "/api/dialpad/users", Route::DialpadUsers),
    ("GET", "/api/dialpad/links", Route::DialpadLinks),
    ("PUT", "/api/users/{id}/dialpad", Route::DialpadLink),
    ("GET", "/api/custom-fields", Route::CustomFieldList),
    ("POST", "/api/custom-fields", Route::CustomFieldCreate),
    ("PATCH", "/api/custom-fields/{id}", Route::CustomFieldUpdate),
    (
        "DELETE",
        "/api/custom-fields/{id}",
        Route::CustomFieldDelete,
    ),
    ("GET", "/api/stores/{id}/hours", Route::StoreHours),
    ("PUT", "/api/stores/{id}/hours", Route::StoreHoursSave),
    ("GET", "/api/settings/hours", Route::HoursSettings),
    ("GET", "/api/callbacks/assignees", Route::CallbackAssignees),
    ("PUT", "/api/settings/hours", Route::HoursSettingsSave),
    ("POST", "/api/audit/search", Route::AuditSearch),
    ("POST", "/api/audit/export", Route::AuditExport),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    NotFound,
    MethodNotAllowed,
}

/// The route for `method` and `path`, with the `{id}` it carries (if any).
pub fn find(method: &str, path: &str) -> Result<(Route, Option<i64>), Miss> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let mut miss = Miss::NotFound;
    for (m, pattern, route) in TABLE {
        if let Some(id) = matches(pattern, path) {
            if *m == method {
                return Ok((*route, id));
            }
            miss = Miss::MethodNotAllowed;
        }
    }
    Err(miss)
}

/// `Some(id)` when `path` fits `pattern`.
fn matches(pattern: &str, path: &str) -> Option<Option<i64>> {
    let mut id = None;
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(id),
            (Some("{id}"), Some(seg)) => {
                id = Some(seg.parse::<i64>().ok().filter(|n| *n > 0)?);
                if !seg.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

/// Every method the table knows for an API path: for tests and the `Allow` header.
pub fn methods(path: &str) -> Vec<&'static str> {
    TABLE
        .iter()
        .filter(|(_, p, _)| matches(p, path).is_some())
        .map(|(m, _, _)| *m)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_routes_and_ids() {
        assert_eq!(
            find("GET", "/api/customers/42"),
            Ok((Route::CustomerDetail, Some(42)))
        );
        assert_eq!(
            find("GET", "/api/customers/42/"),
            Ok((Route::CustomerDetail, Some(42)))
        );
        assert_eq!(
            find("POST", "/api/customers/lookup"),
            Ok((Route::CustomerLookup, None))
        );
        assert_eq!(
            find("GET", "/api/customers/lookup"),
            Err(Miss::MethodNotAllowed),
            "numbers never travel in a URL"
        );
        assert_eq!(
            find("POST", "/api/calls/search"),
            Ok((Route::CallLog, None))
        );
        assert_eq!(
            find("POST", "/api/customers/7/notes"),
            Ok((Route::NotesAdd, Some(7)))
        );
        assert_eq!(
            find("DELETE", "/api/stores/3"),
            Ok((Route::StoreDelete, Some(3)))
        );
    }

    #[test]
    fn not_found_and_method_not_allowed_come_from_the_table() {
        // Written by hand before, this list had gaps: POST /api/calls answered 404.
        assert_eq!(
            find("POST", "/api/calls/recent"),
            Err(Miss::MethodNotAllowed)
        );
        assert_eq!(
            find("PUT", "/api/customers/lookup"),
            Err(Miss::MethodNotAllowed)
        );
        assert_eq!(
            find("POST", "/api/customers/9"),
            Err(Miss::MethodNotAllowed)
        );
        assert_eq!(find("GET", "/api/customers/abc"), Err(Miss::NotFound));
        assert_eq!(find("GET", "/api/customers/0"), Err(Miss::NotFound));
        assert_eq!(find("GET", "/api/customers/+5"), Err(Miss::NotFound));
        assert_eq!(find("GET", "/api/nothing"), Err(Miss::NotFound));
        assert_eq!(find("GET", "/api/customers/1/notes/2"), Err(Miss::NotFound));
        // Every path in the table answers something for every method.
        for (_, p, _) in TABLE {
            let path = p.replace("{id}", "1");
            for m in ["GET", "POST", "PATCH", "DELETE", "PUT"] {
                assert_ne!(find(m, &path), Err(Miss::NotFound), "{m} {path}");
            }
        }
        assert_eq!(methods("/api/customers/5"), vec!["GET", "PATCH", "DELETE"]);
        assert_eq!(
            find("GET", "/api/callbacks/count"),
            Ok((Route::CallbackCount, None))
        );
        assert_eq!(
            find("PATCH", "/api/callbacks/3"),
            Ok((Route::CallbackUpdate, Some(3)))
        );
        assert_eq!(
            find("POST", "/api/callbacks/3/attempts"),
            Ok((Route::CallbackAttempt, Some(3)))
        );
        assert_eq!(
            find("POST", "/api/callbacks/close"),
            Ok((Route::CallbackClose, None))
        );
        assert_eq!(
            find("GET", "/api/callbacks/3"),
            Ok((Route::CallbackDetail, Some(3)))
        );
        assert_eq!(
            find("PATCH", "/api/users/4"),
            Ok((Route::UserUpdate, Some(4)))
        );
        assert_eq!(
            find("POST", "/api/users/4/password"),
            Ok((Route::UserPassword, Some(4)))
        );
        assert_eq!(find("DELETE", "/api/users/4"), Err(Miss::MethodNotAllowed));
        assert_eq!(
            find("PUT", "/api/calls/wrapup"),
            Ok((Route::WrapupSave, None))
        );
    }

    #[test]
    fn cross_cutting_steps_are_declared_per_route() {
        let flushed: Vec<Route> = TABLE
            .iter()
            .map(|(_, _, r)| *r)
            .filter(|r| r.reads_call_log())
            .collect();
        assert_eq!(
            flushed,
            [
                Route::CustomerLookup,
                Route::CustomerCreate,
                Route::CustomerDetail,
                Route::RecentCalls,
                Route::CallLog,
                Route::WrapupGet,
                Route::WrapupSave,
                Route::CallbackList,
                Route::CallbackCount,
                Route::CallbackDetail,
                Route::ReportCalls,
                Route::DialpadRecording,
            ]
        );
        // A route that needs no session never makes the hub work.
        for (_, _, r) in TABLE {
            if !r.needs_session() {
                assert!(!r.reads_call_log() && r.index_effect().is_none(), "{r:?}");
            }
        }
        let merged = IndexEffect::Customers.change(Some(4), &[9]);
        assert_eq!(
            (merged.customers, merged.stores, merged.all),
            (vec![4, 9], false, false)
        );
        let created = IndexEffect::Customers.change(None, &[12]);
        assert_eq!(created.customers, vec![12]);
        let stores = Route::StoreUpdate
            .index_effect()
            .map(|e| e.change(Some(1), &[]));
        assert_eq!(
            stores.map(|c| (c.customers, c.stores, c.all)),
            Some((vec![], true, false))
        );
        assert!(IndexEffect::All.change(None, &[]).all);
        assert_eq!(Route::NotesAdd.index_effect(), None);
    }

    #[test]
    fn sessions_limits_and_content_types() {
        assert!(!Route::Webhook.needs_session() && !Route::Login.needs_session());
        assert!(Route::CustomerImport.needs_session() && Route::NotesAdd.needs_session());
        assert_eq!(Route::CustomerImport.body_limit(), MAX_IMPORT_BODY);
        assert_eq!(Route::NotesAdd.body_limit(), MAX_BODY);
        assert!(Route::NotesAdd.accepts_content_type("application/json; charset=utf-8"));
        assert!(Route::NotesAdd.accepts_content_type("multipart/form-data; boundary=x"));
        assert!(!Route::NotesAdd.accepts_content_type("text/plain"));
        assert!(!Route::NotesAdd.accepts_content_type("text/csv"));
        assert!(Route::CustomerImport.accepts_content_type("text/csv"));
        assert!(!Route::CustomerImport.accepts_content_type(""));
    }
}
