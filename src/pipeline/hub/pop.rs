//! A call event inside the hub, in one synchronous step on its own SQLite: dedupe, resolve the
//! store and the customer from the pop index, upsert the call, decide pop or update, append
//! the D1 writes to the outbox, send to the rooms. No D1 round trip before the answer (but
//! the very first event of a hub whose index was never built, which builds it first).
use super::outbox::Op;
use super::Hub;
use crate::db::callbacks::CallFacts;
use crate::db::calls::{self as record, CallLogEntry, CallStateRow};
use crate::db::cards::{self, CardRow};
use crate::domain::access::{may_link_call, CustomerView, Viewer};
use crate::domain::dialpad::{self, Phase};
use crate::domain::error::ApiError;
use crate::domain::messages::{
    BroadcastRequest, CallDetails, CallMessage, CustomerCard, EventRequest, CALL_STATE,
    INCOMING_CALL,
};
use crate::domain::phone::{self, Phone};
use crate::domain::store;
use crate::platform::http::{self, ApiResult};
use crate::platform::sql::Stmt;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

fn log(v: Value) {
    worker::console_log!("{v}");
}

impl Hub {
    pub(super) fn run(&self, s: &Stmt) -> worker::Result<worker::SqlCursor> {
        s.exec(&self.sql())
    }

    pub(super) fn all<T: DeserializeOwned>(&self, s: &Stmt) -> worker::Result<Vec<T>> {
        self.run(s)?.to_array()
    }

    /// `/event`: runs one verified event. Returns the JSON answered to Dialpad.
    pub(super) async fn on_event(&self, req: EventRequest) -> ApiResult<Value> {
        let mut d1_round_trips = 0;
        let now_ms = http::now_ms();
        let tried = self.index_tried_at.get();
        if !self.index_built() && tried.is_none_or(|t| now_ms - t > super::rebuild::RETRY_BUILD_MS)
        {
            // The first event after a deploy that changed the index (or of a new tenant):
            // build it now, so that this call pops with its card. If D1 does not answer, the
            // call pops without one rather than not at all, and the events of the next 30 s do
            // not wait on D1 again.
            d1_round_trips = 1;
            self.index_tried_at.set(Some(now_ms));
            if let Err(e) = self.rebuild().await {
                log(
                    json!({"event": "index_rebuild_failed", "error": e.code(), "detail": e.detail()}),
                );
            }
        }
        if self.outbox_full() {
            return Err(ApiError::Unavailable("outbox full".into()));
        }
        let ev = dialpad::parse(&req.claims)?;
        let now = req.received_at;
        if req.reconciled && self.call_over(ev.group_id())? {
            // The gap filler's copy of a call the hub already has whole: one call.
            return Ok(json!({ "ok": true, "status": "duplicate", "callId": ev.group_id() }));
        }
        let (event_row, call_row) = record::rows(&ev, req.is_test, now);
        let group = ev.group_id().to_string();
        let caller = call_row.caller.clone();
        #[derive(Deserialize)]
        struct Fresh {
            #[allow(dead_code)]
            fresh: i64,
        }
        // From here to the answer nothing is awaited: the event lands whole or not at all.
        if self
            .all::<Fresh>(&record::insert_event(&event_row))?
            .is_empty()
        {
            log(
                json!({"event": "webhook", "callId": group, "leg": ev.call_id,
                "state": ev.state, "decision": "duplicate", "ms": http::now_ms() - now}),
            );
            return Ok(json!({ "ok": true, "status": "duplicate", "callId": group }));
        }
        self.run(&record::upsert_call(&call_row))?;
        let key = record::event_key(&ev);
        let may_pop = !req.reconciled && record::may_pop(&ev);
        if may_pop {
            self.run(&record::claim_pop(&group, &key))?;
        }
        let call: CallStateRow = self
            .all(&record::call_state(&group))?
            .into_iter()
            .next()
            .ok_or_else(|| ApiError::Unavailable("call row missing after upsert".into()))?;
        let lines = store::CallLines {
            recorded: call.store_id.zip(call.store_name.as_deref()),
            dialled: &call.dialled,
            office: ev.office_id(),
            entry_number: ev.entry_number(),
        };
        // The stores' table is read only for a call that has no store yet.
        let table = match lines.recorded {
            Some(_) => Default::default(),
            None => self.stores_table()?,
        };
        let store = store::of_call(lines, &table);
        let enriches = ev.voicemail_link.is_some()
            || !ev.recording_urls.is_empty()
            || ev.transcription_text.is_some()
            || ev.recap_summary.is_some();
        let recorded_only = (ev.phase == Phase::PostCall && !enriches) || req.reconciled;
        // A broadcast on a store's line also needs the store's card (`staff_version`): read
        // with the admins' in one statement, after the call has its store (the store's figures
        // count this call, as they do once `record::finish` ran), before its customer is known.
        let store_id = store.id.filter(|_| !recorded_only && !caller.is_empty());
        let store_given = call.store_id.is_none() && store_id.is_some();
        if store_given {
            self.run(&record::finish(&group, store.id, None))?;
        }
        // Stored data never fails a genuine event: a customer row that cannot be read pops the
        // call without its card (and says so in the log).
        let (cards, at_store): (Vec<CustomerCard>, Vec<cards::StoreFigures>) = if caller.is_empty()
        {
            (vec![], vec![])
        } else {
            match self.all::<CardRow>(&cards::by_phone_with_store(&caller, now, store_id)) {
                Ok(rows) => {
                    let at_store = cards::store_figures(&rows);
                    let cards = cards::cards_of(rows);
                    (
                        cards.into_iter().map(CustomerCard::for_pop).collect(),
                        at_store,
                    )
                }
                Err(e) => {
                    log(json!({"event": "customer_unreadable", "callId": group,
                        "caller": phone::mask(&caller), "detail": e.to_string()}));
                    (vec![], vec![])
                }
            }
        };
        // The call links to the one customer its store may see (`access::may_link_call`),
        // never to another store's customer who has the same number.
        let linkable: Vec<i64> = cards
            .iter()
            .filter(|c| may_link_call(store.id, home_of(c)))
            .map(|c| c.id)
            .collect();
        let customer_id = (linkable.len() == 1).then(|| linkable[0]);
        // `finish` only fills what the call lacks: without a customer to link, it changes
        // nothing once the call has its store (before this event, or just above) or when the
        // call is on no store's line, so it is not run.
        if customer_id.is_some() || (call.store_id.is_none() && !store_given && store.id.is_some())
        {
            self.run(&record::finish(&group, store.id, customer_id))?;
        }
        let customer_found = match (cards.len(), ev.customer_phone()) {
            (_, Phone::Withheld) => "withheld",
            (0, _) => "unknown",
            (1, _) => "found",
            _ => "multiple",
        };
        let facts = CallFacts {
            call_id: group.clone(),
            caller: caller.clone(),
            direction: ev.direction.as_str().to_string(),
            phase: call.phase.clone(),
            connected: call.connected_at.is_some(),
            store_id: store.id,
            started_at: Some(call.started_at),
        };
        self.append(&Op::Event {
            event: event_row,
            call: call_row,
            pop_key: may_pop.then(|| key.clone()),
            store_id: store.id,
            customer_id,
            callback: Some(facts),
        })?;
        if recorded_only {
            self.ensure_drain_alarm().await?;
            self.drain_soon();
            log(
                json!({"event": "webhook", "callId": group, "leg": ev.call_id,
                "state": ev.state, "store": store.name, "customer": customer_found,
                "caller": phone::mask(&caller), "sockets": 0, "decision": "recorded",
                "d1": d1_round_trips, "ms": http::now_ms() - now}),
            );
            return Ok(json!({ "ok": true, "status": "recorded", "callId": group,
                "phase": call.phase, "storeId": store.id, "d1RoundTrips": d1_round_trips }));
        }
        let pops = call.popped_by.as_deref() == Some(key.as_str());
        let occurred = ev.occurred_at(now);
        let message = CallMessage {
            kind: if pops { INCOMING_CALL } else { CALL_STATE }.to_string(),
            call_id: group.clone(),
            leg_id: ev.call_id.clone(),
            customer_phone: caller.clone(),
            incoming_number: ev.internal.as_str().to_string(),
            timestamp: http::iso(occurred),
            is_test: req.is_test,
            // The call's state after this event, not the leg's: a late or partial event never
            // moves the popup backwards.
            state: call.state,
            phase: call.phase,
            direction: ev.direction.as_str().to_string(),
            store: store.clone(),
            customer: (cards.len() == 1).then(|| cards[0].clone()),
            candidates: if cards.len() > 1 {
                cards.clone()
            } else {
                vec![]
            },
            contact_name: ev.contact.as_ref().and_then(|c| c.name.clone()),
            started_at: call.started_at,
            connected_at: call.connected_at,
            ended_at: call.ended_at,
            duration_ms: call.duration_ms,
            details: CallDetails {
                answered_by: call.answered_by,
                answered_by_user_id: record::answering_user(&ev).and_then(|t| t.id.clone()),
                voicemail_url: call.voicemail_url,
                recording_urls: call
                    .recording_urls
                    .and_then(|j| serde_json::from_str(&j).ok())
                    .unwrap_or_default(),
                transcript: call.transcript,
                summary: call.summary,
            },
        };
        let result = self.broadcast(BroadcastRequest {
            key: key.clone(),
            store_id: store.id,
            message: serialise(&message)?,
            staff_message: self.staff_version(&message, store.id, &at_store)?,
            live: false,
        })?;
        self.ensure_drain_alarm().await?;
        self.drain_soon();
        log(
            json!({"event": "webhook", "callId": group, "leg": ev.call_id,
            "state": ev.state, "store": store.name, "customer": customer_found,
            "caller": phone::mask(&caller), "sockets": result.delivered,
            "decision": if pops { "pop" } else { "update" }, "d1": d1_round_trips,
            "ms": http::now_ms() - now}),
        );
        Ok(json!({
            "ok": true,
            "status": if result.duplicate { "duplicate" } else { "broadcast" },
            "type": message.kind,
            "callId": message.call_id,
            "delivered": result.delivered,
            "seq": result.seq,
            "store": message.store,
            "customerFound": customer_found,
            "d1RoundTrips": d1_round_trips,
        }))
    }
}

impl Hub {
    /// Whether the hub has the call and it is over (its rank says ended, missed or voicemail).
    fn call_over(&self, id: &str) -> ApiResult<bool> {
        #[derive(Deserialize)]
        struct R {
            rank: i64,
        }
        let rows: Vec<R> = self.all(&Stmt::new(
            "SELECT rank FROM calls WHERE id = ?1",
            vec![id.into()],
        ))?;
        Ok(rows
            .first()
            .is_some_and(|r| crate::domain::call::is_over_rank(r.rank)))
    }
}

fn serialise(m: &CallMessage) -> ApiResult<String> {
    serde_json::to_string(m).map_err(|e| ApiError::Unavailable(e.to_string()))
}

fn home_of(c: &CustomerCard) -> Option<i64> {
    c.home_store.as_ref().and_then(|h| h.id)
}

impl Hub {
    /// The message as the store's staff may see it, when it differs from the admins': only
    /// the cards the access policy gives them, their usage counted over the store's own calls
    /// (as the customer page counts it for them). The admin room hears the whole message.
    fn staff_version(
        &self,
        message: &CallMessage,
        store: Option<i64>,
        at_store: &[cards::StoreFigures],
    ) -> ApiResult<Option<String>> {
        // A call on no store's line reaches the admin room only.
        if store.is_none() {
            return Ok(None);
        }
        let staff = Viewer::staff_of(store);
        // The staff of one store see that store's calls (`Viewer::only_store`): the card's
        // figures count them by store id (`at_store`, read with the admins' cards by
        // `cards::by_phone_with_store`). Nothing else is asked of this viewer: anything else
        // shows no card.
        let mut staff_cards: Vec<CustomerCard> = vec![];
        if staff.only_store() == store {
            let all = message.customer.iter().chain(message.candidates.iter());
            for card in all {
                // Each card with its own customer's figures (no card without them).
                let figures = at_store.iter().find(|f| f.customer == card.id);
                if let Some(f) = figures.filter(|_| staff.may_see_customer(home_of(card))) {
                    staff_cards.push(f.card(card));
                }
            }
        }
        // 顧客の共有: チェーン共通 — when none of the store's own customers has the number,
        // another store's customer pops in their shared view (`access::CustomerView`).
        let staff_cards = if staff_cards.is_empty() {
            let sharing = self.sharing();
            message
                .customer
                .iter()
                .chain(message.candidates.iter())
                .filter(|c| staff.customer_view(home_of(c), sharing) == Some(CustomerView::Shared))
                .map(|c| c.clone().shared_view())
                .collect()
        } else {
            staff_cards
        };
        // The same cards make the same message (a message's cards are its `customer` when
        // there is one, else its `candidates`): nothing to copy, nothing else to compare.
        let all = message.customer.iter().chain(message.candidates.iter());
        if staff_cards.iter().eq(all) {
            return Ok(None);
        }
        let mut m = message.clone();
        m.customer = (staff_cards.len() == 1).then(|| staff_cards[0].clone());
        m.candidates = if staff_cards.len() > 1 {
            staff_cards
        } else {
            vec![]
        };
        serialise(&m).map(Some)
    }
}

impl Hub {
    /// `/sweep` (the cron): closes the calls whose end never arrived, tells the consoles, and
    /// copies the change to D1 through the outbox; forgets the calls that retention deletes
    /// from D1 and the legs no dedupe needs any more.
    pub(super) async fn sweep(&self, now: i64, retention_cutoff: Option<i64>) -> ApiResult<Value> {
        use crate::pipeline::stale;
        let cutoff = now - stale::STALE_AFTER_MS;
        let calls: Vec<CallLogEntry> = self.all(&record::stale(cutoff, stale::BATCH))?;
        if !calls.is_empty() {
            let ids: Vec<String> = calls.iter().map(|c| c.id.clone()).collect();
            let ids_json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
            self.run(&record::close_stale(&ids_json, cutoff))?;
            self.append(&Op::Close { ids, cutoff })?;
            for call in &calls {
                self.broadcast(stale::message(call, now)?)?;
            }
        }
        if let Some(before) = retention_cutoff {
            self.sql().exec(
                "DELETE FROM calls WHERE started_at < ? AND id NOT IN (SELECT call_id FROM outbox)",
                vec![before.into()],
            )?;
            // What could not be written to D1 holds call data too: it goes with retention.
            self.sql().exec(
                "DELETE FROM outbox_dead WHERE created_at < ?",
                vec![before.into()],
            )?;
        }
        self.sql().exec(
            &format!(
                "DELETE FROM call_events WHERE received_at < ? AND group_id NOT IN \
                 (SELECT id FROM calls WHERE {})",
                crate::domain::call::live_sql("")
            ),
            vec![(now - super::LEGS_KEEP_MS).into()],
        )?;
        self.ensure_drain_alarm().await?;
        self.drain_soon();
        Ok(json!({ "closed": calls.len() }))
    }
}
