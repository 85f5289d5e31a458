//! The one error type of the HTTP API. Every failure a handler can return is a variant here,
//! and `status()`/`code()` are the only place that decides what the client sees. Pure.
use crate::domain::dialpad::EventError;
use crate::domain::token::TokenError;

/// One problem of a CSV import row (the import is all or nothing: every problem is listed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: usize,
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// Input that is not what the endpoint takes; `field` names the culprit when there is one.
    BadRequest {
        code: &'static str,
        field: Option<&'static str>,
        message: String,
    },
    /// A webhook whose token failed verification.
    Webhook(TokenError),
    /// A webhook body with no signature while signed webhooks are required.
    Unsigned,
    /// A signed event outside the replay window (`domain::replay`).
    Replay(crate::domain::replay::Replay),
    PayloadTooLarge,
    /// A browser write whose body is not JSON, multipart (or CSV for an import).
    UnsupportedMediaType,
    /// No session, or one that no longer verifies.
    Unauthenticated(&'static str),
    InvalidCredentials,
    Forbidden(&'static str),
    NotFound,
    MethodNotAllowed,
    UpgradeRequired,
    /// A precondition on stored data failed (e.g. editing a record someone else changed).
    Conflict {
        code: &'static str,
        message: String,
        current: Option<serde_json::Value>,
    },
    /// A file (CSV import) with row-level problems; nothing was written.
    InvalidRows(Vec<RowError>),
    /// Too many attempts; retry after this many seconds.
    RateLimited(u32),
    /// A binding or secret is missing: an operator's mistake, not the caller's.
    Misconfigured(&'static str),
    /// D1 or the hub failed; transient from the caller's point of view, so Dialpad retries.
    Unavailable(String),
}

impl ApiError {
    pub fn bad(code: &'static str, field: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest { .. } => 400,
            ApiError::Webhook(TokenError::Malformed | TokenError::MalformedClaims) => 400,
            ApiError::Webhook(_) | ApiError::Unsigned | ApiError::Replay(_) => 401,
            ApiError::PayloadTooLarge => 413,
            ApiError::UnsupportedMediaType => 415,
            ApiError::Unauthenticated(_) | ApiError::InvalidCredentials => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound => 404,
            ApiError::MethodNotAllowed => 405,
            ApiError::UpgradeRequired => 426,
            ApiError::Conflict { .. } => 409,
            ApiError::InvalidRows(_) => 400,
            ApiError::RateLimited(_) => 429,
            ApiError::Misconfigured(_) => 500,
            ApiError::Unavailable(_) => 503,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::Webhook(e) => e.code(),
            ApiError::Replay(r) => r.code(),
            ApiError::InvalidRows(_) => "invalid_rows",
            ApiError::Unsigned => "unsigned_webhook",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Unauthenticated(code) | ApiError::Forbidden(code) => code,
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::UpgradeRequired => "websocket_upgrade_required",
            ApiError::RateLimited(_) => "rate_limited",
            ApiError::Misconfigured(_) => "server_misconfigured",
            ApiError::Unavailable(_) => "temporarily_unavailable",
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        match self {
            ApiError::BadRequest { field, .. } => *field,
            ApiError::InvalidRows(_) => Some("file"),
            _ => None,
        }
    }

    /// What a log line says of the error beside its `code`: the storage's or the hub's own
    /// words for `Unavailable`, the message of a refusal, the setting of `Misconfigured`. Not
    /// `Debug`, whose formatting of every nested type the pop Worker would link for its logs
    /// (docs/benchmarks.md, "Pop module size, trimmed").
    pub fn detail(&self) -> String {
        match self {
            ApiError::Unavailable(detail) => detail.clone(),
            ApiError::BadRequest { message, .. } | ApiError::Conflict { message, .. } => {
                message.clone()
            }
            ApiError::Misconfigured(what) => (*what).to_string(),
            ApiError::Webhook(e) => e.code().to_string(),
            ApiError::Replay(r) => r.code().to_string(),
            ApiError::RateLimited(s) => format!("retry after {s} s"),
            ApiError::InvalidRows(rows) => format!("{} rows", rows.len()),
            _ => self.code().to_string(),
        }
    }

    /// A message for people (Japanese, as the console shows it). Never includes secrets or
    /// internals: `Unavailable`'s detail goes to the log only.
    pub fn message(&self) -> String {
        match self {
            ApiError::BadRequest { message, .. } | ApiError::Conflict { message, .. } => {
                message.clone()
            }
            ApiError::Webhook(e) => format!("webhook token rejected: {}", e.code()),
            ApiError::Replay(r) => format!(
                "event_timestamp is outside the replay window ({}): not a fresh delivery",
                r.code()
            ),
            ApiError::InvalidRows(rows) => format!(
                "{}件のエラーがあります。ファイルは取り込まれていません",
                rows.len()
            ),
            ApiError::Unsigned => {
                "unsigned webhooks are not accepted: create the Dialpad webhook with a secret"
                    .into()
            }
            ApiError::PayloadTooLarge => "リクエストが大きすぎます".into(),
            ApiError::UnsupportedMediaType => {
                "JSON (またはCSV取り込みではCSV) で送信してください".into()
            }
            ApiError::Unauthenticated(_) => "ログインしてください".into(),
            ApiError::InvalidCredentials => "ログインIDまたはパスワードが正しくありません".into(),
            ApiError::Forbidden("account_disabled") => {
                "このアカウントは無効になっています。管理者に連絡してください".into()
            }
            ApiError::Forbidden("reauth_required") => {
                "この操作には、あなた自身のパスワードの入力が必要です".into()
            }
            ApiError::Forbidden("demo_password") => {
                "デモ用のパスワードは開発環境でしか使えません。管理者にパスワードの再設定を依頼してください"
                    .into()
            }
            ApiError::Forbidden(_) => "この操作の権限がありません".into(),
            ApiError::NotFound => "見つかりません".into(),
            ApiError::MethodNotAllowed => "method not allowed".into(),
            ApiError::UpgradeRequired => "expected a WebSocket upgrade".into(),
            ApiError::RateLimited(s) => {
                format!("試行回数が多すぎます。{s}秒後にもう一度お試しください")
            }
            // Which secret or binding is wrong goes to the log (see `platform::http::respond`),
            // never to the client.
            ApiError::Misconfigured(_) => {
                "サーバーの設定に問題があります。管理者に連絡してください".into()
            }
            ApiError::Unavailable(_) => {
                "一時的に処理できません。しばらくしてから再試行してください".into()
            }
        }
    }

    /// JSON body: `{"error": {"code", "message", "field"?}}`.
    pub fn body(&self) -> serde_json::Value {
        let mut e = serde_json::json!({ "code": self.code(), "message": self.message() });
        if let Some(f) = self.field() {
            e["field"] = f.into();
        }
        match self {
            ApiError::Conflict {
                current: Some(c), ..
            } => e["current"] = c.clone(),
            ApiError::InvalidRows(rows) => e["rows"] = serde_json::json!(rows),
            _ => {}
        }
        serde_json::json!({ "error": e })
    }
}

impl ApiError {
    /// A storage failure, classified. A constraint the database refused is about the input
    /// (a duplicate is a 409, any other broken rule a 400): retrying cannot help, and a 5xx
    /// would make Dialpad retry and a person think the server broke. Anything else is
    /// transient.
    pub fn from_storage(detail: String) -> ApiError {
        if detail.contains("UNIQUE constraint failed") {
            ApiError::Conflict {
                code: "already_exists",
                message: "同じ内容が既に登録されています".into(),
                current: None,
            }
        } else if detail.contains("FOREIGN KEY constraint failed") {
            ApiError::BadRequest {
                code: "invalid_reference",
                field: None,
                message: "指定された店舗または顧客が見つかりません".into(),
            }
        } else if detail.contains("constraint failed") {
            ApiError::BadRequest {
                code: "invalid_value",
                field: None,
                message: "入力された値を保存できません".into(),
            }
        } else if detail.contains("pattern too complex")
            || detail.contains("too many SQL variables")
        {
            ApiError::BadRequest {
                code: "query_too_long",
                field: None,
                message: "検索語が長すぎます".into(),
            }
        } else {
            ApiError::Unavailable(detail)
        }
    }
}

/// Refuses text longer than `max` characters, naming the field (`label` is what the form calls it).
pub fn max_chars(
    v: &str,
    max: usize,
    code: &'static str,
    field: &'static str,
    label: &str,
) -> Result<(), ApiError> {
    if v.chars().count() > max {
        return Err(ApiError::bad(
            code,
            field,
            format!("{label}は{max}文字以内で入力してください"),
        ));
    }
    Ok(())
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        ApiError::BadRequest {
            code: e.code,
            field: Some(e.field),
            message: format!("call event field `{}` is missing or invalid", e.field),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        ApiError::Webhook(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_dialpads_retry_contract() {
        // 4xx: Dialpad never retries. 5xx: retried, so only for our own transient failures.
        assert_eq!(ApiError::Webhook(TokenError::BadSignature).status(), 401);
        assert_eq!(ApiError::Webhook(TokenError::UnsupportedAlg).status(), 401);
        assert_eq!(ApiError::Webhook(TokenError::Expired).status(), 401);
        assert_eq!(ApiError::Webhook(TokenError::Malformed).status(), 400);
        assert_eq!(ApiError::Unsigned.status(), 401);
        assert_eq!(ApiError::PayloadTooLarge.status(), 413);
        assert_eq!(ApiError::Unavailable("d1".into()).status(), 503);
    }

    #[test]
    fn storage_errors_are_classified() {
        let e = |m: &str| ApiError::from_storage(m.into());
        assert_eq!(
            e("D1_ERROR: UNIQUE constraint failed: stores.name: SQLITE_CONSTRAINT").status(),
            409
        );
        assert_eq!(
            e("D1_ERROR: FOREIGN KEY constraint failed: SQLITE_CONSTRAINT").status(),
            400
        );
        assert_eq!(
            e("D1_ERROR: CHECK constraint failed: length(name) BETWEEN 1 AND 100").status(),
            400
        );
        assert_eq!(
            e("D1_ERROR: LIKE or GLOB pattern too complex: SQLITE_ERROR").status(),
            400
        );
        assert_eq!(e("D1_ERROR: Network connection lost.").status(), 503);
        assert!(!e("D1_ERROR: UNIQUE constraint failed: users.secret")
            .body()
            .to_string()
            .contains("users"));
    }

    #[test]
    fn body_names_code_and_field_but_not_internals() {
        let e: ApiError = EventError {
            code: "missing_state",
            field: "state",
        }
        .into();
        let b = e.body();
        assert_eq!(b["error"]["code"], "missing_state");
        assert_eq!(b["error"]["field"], "state");
        let u = ApiError::Unavailable("D1_ERROR: secret detail".into()).body();
        assert!(!u.to_string().contains("secret detail"));
        let m = ApiError::Misconfigured("JWT_SECRET").body().to_string();
        assert!(!m.contains("JWT_SECRET"), "{m}");
        assert_eq!(ApiError::UnsupportedMediaType.status(), 415);
    }
}
