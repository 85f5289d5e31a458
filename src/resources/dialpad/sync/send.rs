//! Sending: the alarm's run through the queue, paced per endpoint, and what each job sends,
//! read from D1 when it is sent.
use super::{CustomerRow, DialpadSync, Job, Labels, RUN_MS, SLEEP_MAX_MS};
use crate::db::dialpad_sync as q;
use crate::domain::error::ApiError;
use crate::platform::dialpad::{self, Dialpad, Endpoint, Outcome};
use crate::platform::http::{self, ApiResult};
use serde::Deserialize;
use serde_json::{json, Value};
use worker::Method;

impl DialpadSync {
    /// Works through the queue, in order, until it is empty, the next step is far off, or the
    /// run's time is up. Returns when the next alarm is due, if any.
    pub(super) async fn run(&self) -> ApiResult<Option<i64>> {
        let Some(client) = Dialpad::from_env(&self.env) else {
            return Ok(None);
        };
        let config = self.config();
        let minute = dialpad::minute_ms(&self.env);
        let started = http::now_ms();
        loop {
            let now = http::now_ms();
            if now - started > RUN_MS {
                return Ok(Some(now));
            }
            let job: Option<Job> = self.exec(&q::next_job())?.to_array()?.into_iter().next();
            let Some(job) = job else {
                return Ok(None);
            };
            let on = match job.kind.as_str() {
                "contact" => config.contacts,
                "labels" => config.labels,
                _ => false,
            };
            if !on {
                // Switched off meanwhile: the queue waits, as it is, until it is on again.
                return Ok(None);
            }
            if job.not_before > now {
                if job.not_before - now > SLEEP_MAX_MS {
                    return Ok(Some(job.not_before));
                }
                worker::Delay::from(std::time::Duration::from_millis(
                    (job.not_before - now) as u64,
                ))
                .await;
                continue;
            }
            let step = self.prepare(&job).await;
            let (endpoint, method, path, body, customer) = match step {
                Ok(Some(s)) => s,
                Ok(None) => {
                    // Nothing to send (a customer never synced and gone by now).
                    self.done(job.seq)?;
                    continue;
                }
                Err(e) => {
                    self.failed(&job, &format!("D1: {}", e.code()), now)?;
                    continue;
                }
            };
            let due = self
                .next_at
                .borrow()
                .get(endpoint.name())
                .copied()
                .unwrap_or(0);
            if due > now {
                if due - now > SLEEP_MAX_MS {
                    return Ok(Some(due));
                }
                worker::Delay::from(std::time::Duration::from_millis((due - now) as u64)).await;
            }
            let sent_at = http::now_ms();
            self.next_at
                .borrow_mut()
                .insert(endpoint.name(), sent_at + endpoint.interval_ms(minute));
            let outcome = client
                .send(endpoint, method, &path, &[], body.as_ref())
                .await;
            let now = http::now_ms();
            match outcome {
                Outcome::Ok(v) => {
                    if let Some(id) = customer {
                        if endpoint == Endpoint::ContactPut {
                            let contact = match &v["id"] {
                                Value::String(s) => s.clone(),
                                Value::Number(n) => n.to_string(),
                                _ => String::new(),
                            };
                            self.exec(&q::synced_as(id, &contact, now))?;
                        } else {
                            self.exec(&q::forget_contact(id))?;
                        }
                    }
                    self.bump("sent");
                    self.set_meta("last_sent_at", &now.to_string())?;
                    self.done(job.seq)?;
                }
                Outcome::Limited(ms) => {
                    // Dialpad's minute, not ours: wait what it says, then send the same job.
                    let ms = ms.max(100);
                    self.exec(&q::delay(job.seq, now + ms))?;
                    self.next_at.borrow_mut().insert(endpoint.name(), now + ms);
                    self.bump("limited");
                    self.note_error(&format!("429 {}: {} ms", endpoint.name(), ms), now);
                }
                Outcome::Refused(404, _) if endpoint == Endpoint::ContactDelete => {
                    // Already gone in Dialpad: what we wanted.
                    if let Some(id) = customer {
                        self.exec(&q::forget_contact(id))?;
                    }
                    self.done(job.seq)?;
                }
                Outcome::Refused(status, reason) => {
                    let why = format!("{status} {}: {reason}", endpoint.name());
                    self.exec(&q::refuse(job.seq, &why))?;
                    self.note_error(&why, now);
                }
                Outcome::Failed(e) => {
                    self.failed(&job, &format!("{}: {e}", endpoint.name()), now)?;
                }
            }
        }
    }

    /// What a job sends, read now: (endpoint, method, path, body, customer id).
    #[allow(clippy::type_complexity)]
    pub(super) async fn prepare(
        &self,
        job: &Job,
    ) -> ApiResult<Option<(Endpoint, Method, String, Option<Value>, Option<i64>)>> {
        match job.kind.as_str() {
            "contact" => {
                let id: i64 = job.arg.parse().unwrap_or(0);
                let db = self.env.d1("DB")?;
                let row: Option<CustomerRow> = crate::db::customers::as_contact(id)
                    .d1(&db)?
                    .first(None)
                    .await?;
                match row {
                    Some(c) => {
                        let phones: Vec<String> = serde_json::from_str::<Vec<String>>(&c.phones)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|p| dialpad::e164(p))
                            .collect();
                        let (last, first) = split_name(&c.name);
                        let mut body = json!({
                            "first_name": first, "last_name": last, "uid": c.id.to_string(),
                        });
                        if !phones.is_empty() {
                            body["phones"] = json!(phones);
                        }
                        if let Some(origin) = self.meta("origin") {
                            body["urls"] =
                                json!([format!("{origin}/admin/customers.html?id={}", c.id)]);
                        }
                        Ok(Some((
                            Endpoint::ContactPut,
                            Method::Put,
                            "/api/v2/contacts".into(),
                            Some(body),
                            Some(c.id),
                        )))
                    }
                    None => {
                        #[derive(Deserialize)]
                        struct C {
                            contact_id: String,
                        }
                        let known: Option<C> = self
                            .exec(&q::contact_of(id))?
                            .to_array()?
                            .into_iter()
                            .next();
                        Ok(known.filter(|c| !c.contact_id.is_empty()).map(|c| {
                            (
                                Endpoint::ContactDelete,
                                Method::Delete,
                                format!("/api/v2/contacts/{}", encode_id(&c.contact_id)),
                                None,
                                Some(id),
                            )
                        }))
                    }
                }
            }
            "labels" => {
                let l: Labels = serde_json::from_str(&job.arg)
                    .map_err(|e| ApiError::Unavailable(e.to_string()))?;
                Ok(Some((
                    Endpoint::CallLabels,
                    Method::Put,
                    format!("/api/v2/call/{}/labels", encode_id(&l.call_id)),
                    Some(json!({ "labels": l.labels })),
                    None,
                )))
            }
            _ => Ok(None),
        }
    }
}

/// An id as a path segment: digits, letters, `_` and `-` only (anything else is dropped).
fn encode_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// A customer's name as Dialpad's (last, first): 「山田 太郎」 → (山田, 太郎); a name without a
/// space is all first name.
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once([' ', '　']) {
        Some((last, first)) if !last.is_empty() && !first.trim().is_empty() => {
            (last.to_string(), first.trim().to_string())
        }
        _ => (String::new(), name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::split_name;

    #[test]
    fn names_split_family_first() {
        assert_eq!(split_name("山田 太郎"), ("山田".into(), "太郎".into()));
        assert_eq!(split_name("山田　花子"), ("山田".into(), "花子".into()));
        assert_eq!(split_name("ヤマダ"), (String::new(), "ヤマダ".into()));
    }
}
