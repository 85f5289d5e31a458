//! Dialpad's API in the console (issue 26): the settings of its features (設定), each off
//! until a key (`DIALPAD_API_KEY`) is configured and an admin switches it on; the contacts
//! sync and call labels (`sync`, a queue of its own), the gap filler (`gap`), click-to-call,
//! recording share links and the accounts linked to Dialpad users (`actions`). Every request
//! to Dialpad goes through `platform::dialpad`.
pub mod actions;
pub mod gap;
pub mod sync;

use crate::domain::error::ApiError;
use crate::domain::front_desk::OUTCOMES;
use crate::platform::dialpad::Dialpad;
use crate::platform::http::{self, ApiResult};
use crate::resources::accounts::auth;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use worker::{D1Database, Env, Request, Response};

/// Privacy of a recording share link (`CreateRecordingShareLink.privacy`).
pub const PRIVACIES: &[&str] = &["admin", "company", "owner", "public"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Every customer a Dialpad shared contact (company-wide in Dialpad).
    #[serde(default)]
    pub contacts_sync: bool,
    /// The cron records concluded calls our webhooks never delivered.
    #[serde(default)]
    pub gap_fill: bool,
    /// A saved wrap-up sets the call's labels.
    #[serde(default)]
    pub labels: bool,
    /// 発信 of a linked account asks Dialpad to ring the user and call.
    #[serde(default)]
    pub click_to_call: bool,
    /// Recordings and voicemails play through share links.
    #[serde(default)]
    pub recordings: bool,
    #[serde(default = "default_privacy")]
    pub recording_privacy: String,
    /// 用件 → label.
    #[serde(default)]
    pub category_labels: BTreeMap<String, String>,
    /// 対応結果 → label.
    #[serde(default)]
    pub outcome_labels: BTreeMap<String, String>,
}

fn default_privacy() -> String {
    "company".into()
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            contacts_sync: false,
            gap_fill: false,
            labels: false,
            click_to_call: false,
            recordings: false,
            recording_privacy: default_privacy(),
            category_labels: BTreeMap::new(),
            outcome_labels: BTreeMap::new(),
        }
    }
}

impl Settings {
    fn any_on(&self) -> bool {
        self.contacts_sync || self.gap_fill || self.labels || self.click_to_call || self.recordings
    }

    /// The labels a wrap-up maps to (none when labels are off).
    pub fn labels_for(&self, category: &str, outcome: &str) -> Vec<String> {
        if !self.labels {
            return vec![];
        }
        let mut out: Vec<String> = [
            self.category_labels.get(category),
            self.outcome_labels.get(outcome),
        ]
        .into_iter()
        .flatten()
        .filter(|l| !l.is_empty())
        .cloned()
        .collect();
        out.dedup();
        out
    }
}

/// The checks of a settings document (pure).
pub fn check(mut s: Settings, categories: &[String]) -> ApiResult<Settings> {
    if !PRIVACIES.contains(&s.recording_privacy.as_str()) {
        return Err(ApiError::bad(
            "invalid_privacy",
            "recordingPrivacy",
            "共有リンクの公開範囲は admin, company, owner, public のいずれかです",
        ));
    }
    let label = |m: &mut BTreeMap<String, String>,
                 known: &dyn Fn(&str) -> bool,
                 field: &'static str|
     -> ApiResult<()> {
        m.retain(|_, v| !v.trim().is_empty());
        for (k, v) in m.iter_mut() {
            *v = v.trim().to_string();
            if !known(k) {
                return Err(ApiError::bad(
                    "invalid_label",
                    field,
                    format!("「{k}」は一覧にありません"),
                ));
            }
            if v.chars().count() > crate::domain::dialpad::MAX_LABEL_CHARS
                || v.chars().any(char::is_control)
            {
                return Err(ApiError::bad(
                    "invalid_label",
                    field,
                    "ラベルは64文字以内で入力してください",
                ));
            }
        }
        Ok(())
    };
    label(
        &mut s.category_labels,
        &|k| categories.iter().any(|c| c == k),
        "categoryLabels",
    )?;
    label(
        &mut s.outcome_labels,
        &|k| OUTCOMES.contains(&k),
        "outcomeLabels",
    )?;
    Ok(s)
}

/// The stored settings (all off when none are saved).
pub async fn load(db: &D1Database) -> ApiResult<Settings> {
    let row: Option<crate::db::settings::BodyRow> =
        db.prepare(crate::db::dialpad::SETTINGS).first(None).await?;
    Ok(row
        .and_then(|r| serde_json::from_str(&r.body).ok())
        .unwrap_or_default())
}

/// The settings in force: all off without a key.
pub async fn active(env: &Env) -> ApiResult<Option<(Dialpad, Settings)>> {
    let Some(client) = Dialpad::from_env(env) else {
        return Ok(None);
    };
    Ok(Some((client, load(&env.d1("DB")?).await?)))
}

async fn body(env: &Env, session: &crate::domain::token::Session) -> ApiResult<Value> {
    let db = env.d1("DB")?;
    let settings = load(&db).await?;
    let configured = Dialpad::configured(env);
    let link = crate::db::dialpad::linked(&db, session.uid).await?;
    let mut v = json!({
        "settings": settings,
        "configured": configured,
        "privacies": PRIVACIES,
        "me": {
            "linked": link.is_some(),
            "dialpadName": link.map(|l| l.1),
            "canCall": configured && settings.click_to_call,
            "recordings": configured && settings.recordings,
        },
    });
    if session.role == crate::domain::token::Role::Admin {
        v["sync"] = if configured {
            sync::status(env).await.unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        v["gapFill"] = gap::state(&db).await.unwrap_or(Value::Null);
    }
    Ok(v)
}

/// `GET /api/settings/dialpad`
pub async fn get(req: Request, env: &Env) -> ApiResult<Response> {
    let (session, _) = auth::authenticate(&req, env).await?;
    Ok(http::json_response(200, &body(env, &session).await?)?)
}

/// `PUT /api/settings/dialpad` (admin): the whole document.
pub async fn put(mut req: Request, env: &Env) -> ApiResult<Response> {
    let session = auth::require_admin(&req, env).await?;
    let input: Settings = http::read_json(&mut req, 32 * 1024).await?;
    let db = env.d1("DB")?;
    let categories = crate::resources::settings::load(&db).await?.categories;
    let settings = check(input, &categories)?;
    if settings.any_on() && !Dialpad::configured(env) {
        return Err(ApiError::Conflict {
            code: "dialpad_not_configured",
            message: "DialpadのAPIキー（DIALPAD_API_KEY）が設定されていません".into(),
            current: None,
        });
    }
    let text =
        serde_json::to_string(&settings).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    crate::db::dialpad::save_settings(&text, &session.name, http::now_ms())
        .d1(&db)?
        .run()
        .await?;
    if Dialpad::configured(env) {
        sync::configure(
            env,
            sync::Config {
                contacts: settings.contacts_sync,
                labels: settings.labels,
            },
        )
        .await?;
    }
    crate::resources::audit::settings_changed(&session, "dialpad", "update", None);
    Ok(http::json_response(200, &body(env, &session).await?)?)
}

fn require_configured(env: &Env) -> ApiResult<()> {
    if Dialpad::configured(env) {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            code: "dialpad_not_configured",
            message: "DialpadのAPIキー（DIALPAD_API_KEY）が設定されていません".into(),
            current: None,
        })
    }
}

/// `POST /api/dialpad/sync` (admin): every customer queued again (a full resync).
pub async fn resync(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    require_configured(env)?;
    if !load(&env.d1("DB")?).await?.contacts_sync {
        return Err(ApiError::Conflict {
            code: "contacts_sync_off",
            message: "連絡先の同期が有効になっていません（設定で有効にしてください）".into(),
            current: None,
        });
    }
    sync::resync(env, crate::platform::url::origin(&req)).await?;
    Ok(http::json_response(200, &sync::status(env).await?)?)
}

/// `GET /api/dialpad/sync` (admin): the queue's progress.
pub async fn sync_status(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    require_configured(env)?;
    Ok(http::json_response(200, &sync::status(env).await?)?)
}

/// `POST /api/dialpad/sync/retry` (admin): what Dialpad refused, queued again.
pub async fn sync_retry(req: Request, env: &Env) -> ApiResult<Response> {
    auth::require_admin(&req, env).await?;
    require_configured(env)?;
    Ok(http::json_response(200, &sync::retry_refused(env).await?)?)
}

/// After a wrap-up is saved: its labels on the Dialpad call, through the paced queue. Best
/// effort (the wrap-up is saved either way).
pub async fn wrapup_saved(env: &Env, call_id: &str, category: &str, outcome: &str) {
    if !Dialpad::configured(env) {
        return;
    }
    let settings = match env.d1("DB") {
        Ok(db) => load(&db).await.unwrap_or_default(),
        Err(_) => return,
    };
    let labels = settings.labels_for(category, outcome);
    if labels.is_empty() {
        return;
    }
    sync::enqueue(
        env,
        sync::Enqueue {
            labels: Some(sync::Labels {
                call_id: call_id.to_string(),
                labels,
            }),
            ..Default::default()
        },
    )
    .await
}

/// For health (admin).
pub async fn health(env: &Env) -> Value {
    let configured = Dialpad::configured(env);
    let gap = match env.d1("DB") {
        Ok(db) => gap::state(&db).await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let sync = if configured {
        sync::status(env).await.unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    json!({ "configured": configured, "gapFill": gap, "sync": sync })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_map_category_and_outcome() {
        let mut s = Settings {
            labels: true,
            ..Default::default()
        };
        s.category_labels
            .insert("予約".into(), "reservation".into());
        s.outcome_labels.insert("対応済み".into(), "done".into());
        assert_eq!(
            s.labels_for("予約", "対応済み"),
            vec!["reservation", "done"]
        );
        assert!(s.labels_for("その他", "").is_empty());
        s.labels = false;
        assert!(s.labels_for("予約", "対応済み").is_empty());
    }

    #[test]
    fn unknown_keys_and_privacies_are_refused() {
        let mut s = Settings::default();
        s.category_labels.insert("なし".into(), "x".into());
        assert!(check(s, &["予約".into()]).is_err());
        let s = Settings {
            recording_privacy: "world".into(),
            ..Default::default()
        };
        assert!(check(s, &[]).is_err());
    }
}
